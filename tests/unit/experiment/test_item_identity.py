"""Items that share a candidate-key index (OOV, hashing) keep their own side features."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from recstack.data import BatchIterator
from recstack.experiment import RetrievalExperiment
from recstack.tasks.retrieval import CANDIDATE_ROW
from tests.conftest import small_config

# item_id below min_count goes to the OOV index; genres still tell those items apart
RARE = {"features.item_id": {"type": "categorical", "min_count": 60}}


def first_batch(exp: RetrievalExperiment):
    batch = next(iter(BatchIterator(exp.train_data, 512, shuffle=True, seed=0)))
    return exp.task.prepare_batch(batch)


def test_rare_items_share_the_oov_id_but_keep_their_rows():
    exp = RetrievalExperiment(small_config(**RARE))
    ids = exp.train_data.column("item_id")
    rows = exp.train_data.column(CANDIDATE_ROW)
    oov = ids == 1
    assert oov.sum() > 100 and rows[oov].unique().numel() > 5  # many items behind one index
    # each row's identity is its own item's catalogue row
    key = exp.fit_table["item_id"].to_numpy()
    assert [exp.catalogue.ids[r] for r in rows[:50].tolist()] == key[:50].tolist()


@pytest.mark.parametrize("task", [{"kind": "retrieval"}, {"kind": "retrieval", "num_negatives": 32},
                                  {"kind": "retrieval", "logq_correction": True}])
def test_deduplicated_candidates_give_the_per_row_loss_with_oov_items(task):
    losses = []
    for dedupe in (True, False):
        exp = RetrievalExperiment(small_config(task=task, **RARE, **{"model.dedupe_candidates": dedupe}))
        torch.manual_seed(0)
        batch = first_batch(exp)
        with torch.no_grad():
            losses.append(exp.task.per_row_loss(exp.model(batch)))
    torch.testing.assert_close(losses[0], losses[1], rtol=1e-5, atol=1e-5)


def test_catalogue_softmax_takes_each_rows_own_item_as_the_positive():
    exp = RetrievalExperiment(small_config(task={"kind": "retrieval", "candidates": "catalogue"}, **RARE))
    batch = first_batch(exp)
    model = exp.model
    with torch.no_grad():
        got = exp.task.per_row_loss(model(batch))
        q = model.query_embedding(batch.features)
        cat = model.candidate_embedding(exp.catalogue.features)
        want = F.cross_entropy(q @ cat.T, batch.features[CANDIDATE_ROW], reduction="none")
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


def test_logq_and_popularity_sampling_use_each_items_own_frequency():
    exp = RetrievalExperiment(small_config(task={"kind": "retrieval", "logq_correction": True}, **RARE))
    rows = exp.train_data.column(CANDIDATE_ROW)
    own = torch.log(torch.bincount(rows).double() / rows.numel())
    batch = first_batch(exp)
    with torch.no_grad():
        out = exp.model(batch)
    oov = out["candidate_ids"] == 1
    assert oov.sum() > 5
    got = exp.task._log_q("candidate", out, torch.float64)[oov]
    torch.testing.assert_close(got, own[out["candidate_rows"][oov]], rtol=0, atol=1e-4)  # not the OOV bucket's
    pop = RetrievalExperiment(small_config(task={"kind": "retrieval", "num_negatives": 8,
                                                 "negative_sampling": "popularity"}, **RARE))
    counts = torch.bincount(pop.train_data.column(CANDIDATE_ROW), minlength=len(pop.catalogue.ids)).double()
    want = counts[: len(pop.catalogue.ids)] ** 0.75
    torch.testing.assert_close(pop.task._neg_probs.double(), want / want.sum(), rtol=1e-5, atol=1e-7)


def test_logq_on_another_device_leaves_the_sampling_distribution_where_the_sampler_is():
    # 'meta' stands in for a GPU: the loss may run there while negatives are drawn on the CPU
    exp = RetrievalExperiment(small_config(task={"kind": "retrieval", "logq_correction": True, "num_negatives": 8},
                                           **RARE))
    batch = first_batch(exp)
    with torch.no_grad():
        out = exp.model(batch)
    exp.task._log_q("negative", {k: v.to("meta") for k, v in out.items()}, torch.float32)
    assert exp.task._neg_probs.device.type == "cpu"
    first_batch(exp)  # the sampler still draws from its CPU distribution


def test_logq_tables_are_moved_once_and_again_when_they_change():
    # 'meta' stands in for a GPU; a resumed run's load_state_dict changes log_q in place
    exp = RetrievalExperiment(small_config(task={"kind": "retrieval", "logq_correction": True}, **RARE))
    meta = torch.device("meta")
    first = exp.task._on(meta, "log_q")
    assert first.device == meta and exp.task._on(meta, "log_q") is first  # kept, not moved every step
    exp.task.load_state_dict({k: v + 1 for k, v in exp.task.state_dict().items()})
    assert exp.task._on(meta, "log_q") is not first
    assert exp.task._on(torch.device("cpu"), "log_q") is exp.task.log_q  # already there: no copy

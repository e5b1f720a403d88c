"""logQ correction against a reference built from the training rows alone: each candidate's
logit is lowered by the log of its item's frequency among the rows the model trains on
(Yi et al., RecSys 2019), whether the task looks it up per item row or per candidate ID."""

from __future__ import annotations

from collections import Counter
from functools import cache

import pytest
import torch
import torch.nn.functional as F

from recstack.data.batch import Batch
from recstack.experiment import RetrievalExperiment
from recstack.tasks.retrieval import CANDIDATE_ROW
from tests.conftest import small_config

ROWS = 400


@cache
def experiment() -> RetrievalExperiment:
    cfg = small_config(**{"data.dataset_options.num_interactions": 1500,
                          "model.query": ["user_id"], "model.candidate": ["item_id"]})
    assert cfg.task.logq_correction and cfg.task.remove_accidental_hits
    return RetrievalExperiment(cfg)


def reference_per_row(exp: RetrievalExperiment, batch: Batch, *, logq: bool) -> torch.Tensor:
    """The (B, B) in-batch softmax, positive on the diagonal, other rows of the same item
    masked, each column minus log(its item's share of the training rows)."""
    raw_items = exp.fit_table["item_id"].tolist()
    share = {item: n / len(raw_items) for item, n in Counter(raw_items).items()}
    ids = batch.features["item_id"]
    raw = exp.preprocessor.vocabulary("item_id").inverse(ids.numpy())
    log_freq = torch.tensor([share[r] for r in raw], dtype=torch.float64).log().float()
    with torch.no_grad():
        q = exp.model.query_embedding(batch.features)
        c = exp.model.candidate_embedding(batch.features)
        scores = q @ c.T / exp.task.config.temperature
        if logq:
            scores = scores - log_freq.unsqueeze(0)
        same = ids.unsqueeze(0) == ids.unsqueeze(1)
        same.fill_diagonal_(False)
        scores = scores.masked_fill(same, float("-inf"))
        return F.cross_entropy(scores, torch.arange(len(ids)), reduction="none")


def task_per_row(exp: RetrievalExperiment, batch: Batch) -> torch.Tensor:
    exp.model.eval()
    with torch.no_grad():
        return exp.task.per_row_loss(exp.model(batch))


@pytest.mark.parametrize("by", ["item row", "candidate id"])
def test_the_logq_corrected_loss_equals_a_reference_from_training_frequencies(by):
    exp = experiment()
    batch = exp.train_data.batch(0, ROWS)
    if by == "candidate id":  # without item rows the task looks logQ up by the candidate key
        batch = Batch({k: v for k, v in batch.features.items() if k != CANDIDATE_ROW})
    assert (CANDIDATE_ROW in batch.features) == (by == "item row")
    got = task_per_row(exp, batch)
    want = reference_per_row(exp, batch, logq=True)
    assert torch.allclose(got, want, atol=2e-5), (got - want).abs().max()
    with torch.no_grad():
        assert exp.task.loss(exp.model(batch), batch).item() == pytest.approx(want.mean().item(), abs=2e-5)
    # the correction moves the loss by far more than the tolerance: the comparison can tell
    assert (got - reference_per_row(exp, batch, logq=False)).abs().max() > 0.1


def test_the_correction_favours_rare_items():
    """-log q is larger for a rarer item: with equal scores, its column gets the larger logit."""
    exp = experiment()
    raw_items = exp.fit_table["item_id"]
    counts = raw_items.value_counts()
    rare, common = counts.index[-1], counts.index[0]
    assert counts[rare] < counts[common]
    ids = exp.preprocessor.encode("item_id", [rare, common])["item_id"]
    out = {"query": torch.zeros(2, 1), "candidate": torch.zeros(2, 1), "candidate_ids": ids,
           "candidate_counts": torch.ones(2, dtype=torch.long), "positive": torch.arange(2)}
    logits, _, _ = exp.task.logits(out)
    gap = (logits[0, 0] - logits[0, 1]).item()
    assert gap == pytest.approx(torch.log(torch.tensor(counts[common] / counts[rare])).item(), abs=1e-5)

import pytest
import torch
import torch.nn.functional as F

from recstack.data.batch import Batch
from recstack.errors import ConfigError
from recstack.models import TwoTower, TwoTowerConfig
from recstack.preprocessing.outputs import OutputSpec
from recstack.tasks import RetrievalTask, RetrievalTaskConfig

OUTPUTS = [
    OutputSpec("user_id", "user_id", "id", cardinality=30, table="user_id"),
    OutputSpec("item_id", "item_id", "id", cardinality=12, table="item_id"),
]


def naive_loss(q, c, ids, *, temperature, remove_hits, log_q=None):
    """TFRS Retrieval on the full (B, B) matrix: positive = diagonal."""
    s = q @ c.T / temperature
    if log_q is not None:
        s = s - log_q[ids]
    if remove_hits:
        same = ids[None, :] == ids[:, None]
        same.fill_diagonal_(False)
        s = s.masked_fill(same, -1e9)
    return F.cross_entropy(s, torch.arange(len(ids)))


def make_batch(seed=0, b=64):
    g = torch.Generator().manual_seed(seed)
    users = torch.randint(1, 30, (b,), generator=g)
    items = torch.randint(1, 12, (b,), generator=g)  # many duplicates on purpose
    return Batch({"user_id": users, "item_id": items})


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("remove_hits", [True, False])
@pytest.mark.parametrize("logq", [True, False])
def test_dedup_equals_naive_in_batch_softmax(remove_hits, logq, dtype):
    torch.manual_seed(0)
    cfg = TwoTowerConfig(query=["user_id"], candidate=["item_id"], embedding_dim=8, layers=[16, 8])
    model = TwoTower(cfg, OUTPUTS).to(dtype)
    task = RetrievalTask(
        RetrievalTaskConfig(temperature=0.2, remove_accidental_hits=remove_hits, logq_correction=logq),
        num_candidates=12,
    )
    task.set_candidate_counts(torch.arange(12).float() + 1)
    batch = make_batch()

    loss = task.loss(model(batch), batch)
    grads = torch.autograd.grad(loss, list(model.parameters()))

    q = model.query_embedding(batch.features)
    c = model.candidate_embedding(batch.features)
    ref = naive_loss(q, c, batch.features["item_id"], temperature=0.2, remove_hits=remove_hits,
                     log_q=task.log_q.to(dtype) if logq else None)
    ref_grads = torch.autograd.grad(ref, list(model.parameters()))
    assert loss.dtype == dtype
    assert torch.allclose(loss, ref, atol=1e-5), (loss.item(), ref.item())
    for g1, g2 in zip(grads, ref_grads):
        assert torch.allclose(g1, g2, atol=1e-6)


def test_non_dedup_path_matches_dedup():
    torch.manual_seed(1)
    outs = {}
    for dedupe in (True, False):
        torch.manual_seed(1)
        cfg = TwoTowerConfig(query=["user_id"], candidate=["item_id"], embedding_dim=8, dedupe_candidates=dedupe)
        model = TwoTower(cfg, OUTPUTS)
        batch = make_batch(3)
        outs[dedupe] = RetrievalTask(RetrievalTaskConfig(temperature=0.5)).loss(model(batch), batch)
    assert torch.allclose(outs[True], outs[False], atol=1e-5)


def test_dedup_computes_each_candidate_once():
    cfg = TwoTowerConfig(query=["user_id"], candidate=["item_id"], embedding_dim=4)
    model = TwoTower(cfg, OUTPUTS)
    batch = Batch({"user_id": torch.tensor([1, 2, 3, 4]), "item_id": torch.tensor([5, 5, 7, 5])})
    out = model(batch)
    assert out["candidate"].shape == (2, 4)
    assert out["candidate_ids"].tolist() == [5, 7]
    assert out["candidate_counts"].tolist() == [3, 1]
    assert out["positive"].tolist() == [0, 0, 1, 0]


def test_sampled_negatives_add_columns_and_mask_hits():
    torch.manual_seed(0)
    cfg = TwoTowerConfig(query=["user_id"], candidate=["item_id"], embedding_dim=4)
    model = TwoTower(cfg, OUTPUTS)
    task = RetrievalTask(RetrievalTaskConfig(num_negatives=5), num_candidates=12)
    catalogue = {"item_id": torch.arange(1, 12)}
    task.attach_catalogue(catalogue, seed=3)
    batch = task.prepare_batch(Batch({"user_id": torch.tensor([1, 2]), "item_id": torch.tensor([3, 4])}))
    assert batch.extras["negative:item_id"].shape == (5,)
    out = model(batch)
    logits, pos, _ = task.logits(out)
    assert logits.shape == (2, 2 + 5)
    neg_ids = out["negative_ids"]
    for row, item in enumerate([3, 4]):
        masked = logits[row, 2:][neg_ids == item]
        assert bool((masked < -1e30).all())
    # the same seed draws the same negatives
    task.attach_catalogue(catalogue, seed=3)
    again = task.prepare_batch(Batch({"user_id": torch.tensor([1, 2]), "item_id": torch.tensor([3, 4])}))
    assert torch.equal(again.extras["negative:item_id"], batch.extras["negative:item_id"])


def test_num_negatives_without_catalogue_is_a_clear_error():
    task = RetrievalTask(RetrievalTaskConfig(num_negatives=2))
    with pytest.raises(ValueError, match="attach_catalogue"):
        task.prepare_batch(Batch({"item_id": torch.tensor([1])}))


# ------------------------------------------------------------------ full-catalogue softmax
def catalogue_task(temperature=0.5, **kw):
    task = RetrievalTask(RetrievalTaskConfig(candidates="catalogue", temperature=temperature, **kw),
                         num_candidates=12)
    catalogue = {"item_id": torch.tensor([4, 1, 7, 2, 9, 3, 5, 6, 8, 10, 11])}  # shuffled rows
    task.attach_catalogue(catalogue, key="item_id")
    return task, catalogue


@pytest.mark.parametrize("dedupe", [True, False])  # (Q, C) logsumexp path / fused cross-entropy path
def test_catalogue_softmax_equals_a_softmax_over_every_item(dedupe):
    torch.manual_seed(0)
    cfg = TwoTowerConfig(query=["user_id"], candidate=["item_id"], embedding_dim=8, layers=[16, 8],
                         dedupe_queries=dedupe)
    model = TwoTower(cfg, OUTPUTS)
    task, catalogue = catalogue_task()
    batch = task.prepare_batch(make_batch(seed=5))
    out = model(batch)
    assert ("query_index" in out) == dedupe
    loss = task.loss(out, batch)
    grads = torch.autograd.grad(loss, list(model.parameters()))

    q = model.query_embedding(batch.features)
    c = model.candidate_embedding(catalogue)
    rows = {int(i): r for r, i in enumerate(catalogue["item_id"])}
    target = torch.tensor([rows[int(i)] for i in batch.features["item_id"]])
    ref = F.cross_entropy(q @ c.T / 0.5, target)
    ref_grads = torch.autograd.grad(ref, list(model.parameters()))
    assert torch.allclose(loss, ref, atol=1e-6)
    for g1, g2 in zip(grads, ref_grads):
        assert torch.allclose(g1, g2, atol=1e-6)


def test_catalogue_softmax_rejects_sampling_options():
    with pytest.raises(ValueError, match="set logq_correction: false"):
        RetrievalTaskConfig(candidates="catalogue", logq_correction=True)
    with pytest.raises(ValueError, match="set num_negatives: 0"):
        RetrievalTaskConfig(candidates="catalogue", num_negatives=5)
    task = RetrievalTask(RetrievalTaskConfig(candidates="catalogue"), num_candidates=12)
    with pytest.raises(ValueError, match="attach_catalogue"):
        task.prepare_batch(Batch({"item_id": torch.tensor([1])}))
    with pytest.raises(ValueError, match="candidate-key column"):
        task.attach_catalogue({"genres": torch.tensor([1, 2])})


def test_catalogue_softmax_names_positives_missing_from_the_catalogue():
    model = TwoTower(TwoTowerConfig(query=["user_id"], candidate=["item_id"], embedding_dim=4), OUTPUTS)
    task = RetrievalTask(RetrievalTaskConfig(candidates="catalogue"), num_candidates=12)
    task.attach_catalogue({"item_id": torch.tensor([1, 2, 3])}, key="item_id")
    batch = task.prepare_batch(Batch({"user_id": torch.tensor([1, 2]), "item_id": torch.tensor([2, 9])}))
    with pytest.raises(ValueError, match=r"indices \[9\] are not in the catalogue"):
        task.loss(model(batch), batch)


def test_catalogue_rows_sharing_the_positives_oov_id_are_not_negatives():
    """Items unseen at fit time all map to OOV (index 0): only one such row is the positive."""
    model = TwoTower(TwoTowerConfig(query=["user_id"], candidate=["item_id"], embedding_dim=4), OUTPUTS)
    task = RetrievalTask(RetrievalTaskConfig(candidates="catalogue"), num_candidates=12)
    task.attach_catalogue({"item_id": torch.tensor([0, 1, 0, 2])}, key="item_id")
    batch = task.prepare_batch(Batch({"user_id": torch.tensor([1, 2]), "item_id": torch.tensor([0, 1])}))
    logits, pos, _ = task.logits(model(batch))
    assert pos.tolist() == [2, 1]
    assert bool(logits[0, 0] < -1e30) and bool((logits[0, 1:] > -1e30).all())
    assert bool((logits[1] > -1e30).all())


def test_candidate_bias_adds_a_learned_scalar_per_item_to_every_score():
    torch.manual_seed(0)
    cfg = TwoTowerConfig(query=["user_id"], candidate=["item_id"], embedding_dim=4, candidate_bias=True)
    model = TwoTower(cfg, OUTPUTS)
    assert model.output_dim == 5
    with torch.no_grad():
        model.bias.weight.copy_(torch.arange(12, dtype=torch.float).unsqueeze(1))
    users, items = torch.tensor([1, 2]), torch.tensor([3, 7])
    q = model.query_embedding({"user_id": users})
    c = model.candidate_embedding({"item_id": items})
    plain_q, plain_c = q[:, :4], c[:, :4]
    assert torch.allclose(q @ c.T, plain_q @ plain_c.T + torch.tensor([3.0, 7.0]))
    task = RetrievalTask(RetrievalTaskConfig(), num_candidates=12)
    batch = Batch({"user_id": users, "item_id": items})
    task.loss(model(batch), batch).backward()
    assert model.bias.weight.grad[[3, 7]].abs().sum() > 0
    assert model.bias.weight.grad[[0, 1, 2]].abs().sum() == 0


# ------------------------------------------------------------------ deduplicated queries
def reference_loss(task, out):
    logits, pos, offset = task.logits(out)
    return (F.cross_entropy(logits, pos, reduction="none") + offset)


@pytest.mark.parametrize("remove_hits", [True, False])
@pytest.mark.parametrize("logq", [True, False])
@pytest.mark.parametrize("negatives", [0, 40])
def test_loss_on_unique_queries_equals_the_per_row_reference(remove_hits, logq, negatives):
    torch.manual_seed(0)
    model = TwoTower(TwoTowerConfig(query=["user_id"], candidate=["item_id"], embedding_dim=8), OUTPUTS)
    task = RetrievalTask(RetrievalTaskConfig(temperature=0.3, remove_accidental_hits=remove_hits,
                                             logq_correction=logq, num_negatives=negatives), num_candidates=12)
    task.set_candidate_counts(torch.arange(12).float() + 1)
    if negatives:
        task.attach_catalogue({"item_id": torch.arange(1, 12)}, seed=0)
    batch = task.prepare_batch(make_batch(seed=2, b=200))
    out = model(batch)
    assert out["query"].shape[0] == torch.unique(batch.features["user_id"]).numel() < 200
    fast = task.per_row_loss(out)
    ref = reference_loss(task, out)
    assert torch.allclose(fast, ref, atol=1e-5)
    params = list(model.parameters())
    for g1, g2 in zip(torch.autograd.grad(fast.mean(), params, retain_graph=True),
                      torch.autograd.grad(ref.mean(), params)):
        assert torch.allclose(g1, g2, atol=1e-6)


def test_query_dedup_changes_nothing_but_the_work():
    batch = make_batch(seed=4, b=128)
    losses, grads = [], []
    for dedupe in (True, False):
        torch.manual_seed(0)
        model = TwoTower(TwoTowerConfig(query=["user_id"], candidate=["item_id"], embedding_dim=8,
                                        layers=[16, 8], dedupe_queries=dedupe), OUTPUTS)
        out = model(batch)
        assert ("query_index" in out) == dedupe
        loss = RetrievalTask(RetrievalTaskConfig(temperature=0.5)).loss(out, batch)
        losses.append(loss)
        grads.append(torch.autograd.grad(loss, list(model.parameters())))
    assert torch.allclose(losses[0], losses[1], atol=1e-6)
    for g1, g2 in zip(*grads):
        assert torch.allclose(g1, g2, atol=1e-6)


def test_history_queries_are_not_deduplicated():
    outputs = OUTPUTS + [OutputSpec("history", "history", "ids", cardinality=12, table="item_id", pooling="mean")]
    model = TwoTower(TwoTowerConfig(query=["history"], candidate=["item_id"], embedding_dim=4), outputs)
    out = model(Batch({"history": torch.randint(0, 12, (6, 20)), "item_id": torch.arange(1, 7)}))
    assert "query_index" not in out and out["query"].shape == (6, 4)


def test_removing_hits_stays_finite_when_one_candidate_fills_the_batch():
    """Every row is the same (user, item): the normalizer is almost all 'removed' copies.

    The shared normalizer is a float32 sum, so here (c = 4,096 copies) the loss is exact
    to ~1e-7 * c relative, not to float32 epsilon; realistic batches are checked above.
    """
    torch.manual_seed(0)
    model = TwoTower(TwoTowerConfig(query=["user_id"], candidate=["item_id"], embedding_dim=4), OUTPUTS)
    task = RetrievalTask(RetrievalTaskConfig(num_negatives=3), num_candidates=12)
    task.attach_catalogue({"item_id": torch.tensor([5, 5, 6])}, seed=0)
    batch = task.prepare_batch(Batch({"user_id": torch.full((4096,), 3), "item_id": torch.full((4096,), 5)}))
    out = model(batch)
    fast, ref = task.per_row_loss(out), reference_loss(task, out)
    assert torch.isfinite(fast).all()
    assert torch.allclose(fast, ref, rtol=1e-3)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_catalogue_loss_on_unique_queries_equals_the_reference_with_shared_oov_rows(dtype):
    torch.manual_seed(0)
    model = TwoTower(TwoTowerConfig(query=["user_id"], candidate=["item_id"], embedding_dim=4), OUTPUTS).to(dtype)
    task = RetrievalTask(RetrievalTaskConfig(candidates="catalogue", temperature=0.7), num_candidates=12)
    task.attach_catalogue({"item_id": torch.tensor([0, 1, 0, 2, 3, 0])}, key="item_id")
    batch = task.prepare_batch(Batch({"user_id": torch.tensor([1, 1, 2, 2, 1]),
                                      "item_id": torch.tensor([0, 1, 0, 3, 2])}))
    out = model(batch)
    assert out["query"].shape[0] == 2
    fast = task.per_row_loss(out)
    assert fast.dtype == dtype
    assert torch.allclose(fast, reference_loss(task, out), atol=1e-6)


def test_logq_with_sampled_negatives_uses_each_columns_expected_count():
    """Mixed negatives: every column gets -log(B q_j + K p_j); an item never seen in training but
    drawn uniformly as a negative is not boosted by -log q (it took the whole softmax before)."""
    torch.manual_seed(0)
    model = TwoTower(TwoTowerConfig(query=["user_id"], candidate=["item_id"], embedding_dim=4), OUTPUTS)
    task = RetrievalTask(RetrievalTaskConfig(logq_correction=True, num_negatives=4, temperature=1.0),
                         num_candidates=12)
    counts = torch.tensor([0.0, 0.0] + [100.0 * i for i in range(1, 11)])  # item 1 (OOV) never seen
    task.set_candidate_counts(counts)
    task.attach_catalogue({"item_id": torch.arange(1, 12)}, key="item_id")  # uniform p = 1/11
    batch = task.prepare_batch(Batch({"user_id": torch.arange(1, 9), "item_id": torch.arange(2, 10)}))
    batch.extras["negative:item_id"] = torch.tensor([1, 10, 11, 10])  # a possible uniform draw
    out = model(batch)
    per_row = task.per_row_loss(out)

    q = model.query_embedding(batch.features)
    ids = torch.cat([batch.features["item_id"], batch.extras["negative:item_id"]])
    c = model.candidate_embedding({"item_id": ids})
    freq = (counts + 1e-6) / (counts.sum() + 1e-6 * 12)
    p = torch.full((12,), 1 / 11).index_fill(0, torch.tensor([0]), 0.0)
    logits = q @ c.T - torch.log(8 * freq[ids] + 4 * p[ids]).float()
    expected = torch.nn.functional.cross_entropy(logits, torch.arange(8), reduction="none")
    assert torch.allclose(per_row, expected, atol=1e-5)
    share = torch.softmax(logits, 1)[:, 8].mean()  # the unseen item's negative column
    assert share < 0.5


def test_a_float64_model_keeps_float64_precision_when_one_positive_dominates():
    # 300 copies of one candidate that nearly every query scores highest; 1 - 1/c must not be float32
    torch.manual_seed(0)
    d, c_pos = 16, 300
    ids = torch.cat([torch.zeros(c_pos, dtype=torch.long), torch.arange(1, 51)])
    base = torch.nn.functional.normalize(torch.randn(d, dtype=torch.float64), dim=0)
    q = torch.nn.functional.normalize(base + 0.2 * torch.randn(len(ids), d, dtype=torch.float64), dim=1)
    items = torch.nn.functional.normalize(torch.randn(51, d, dtype=torch.float64), dim=1)
    items[0] = base
    u, inv, cnt = torch.unique(ids, return_inverse=True, return_counts=True)
    out = {"query": q, "candidate": items[u], "candidate_ids": u, "candidate_counts": cnt, "positive": inv}
    got = RetrievalTask(RetrievalTaskConfig(temperature=0.05), num_candidates=51).per_row_loss(out)
    s = q @ items[ids].T / 0.05
    same = ids[None, :] == ids[:, None]
    same.fill_diagonal_(False)
    want = F.cross_entropy(s.masked_fill(same, float("-inf")), torch.arange(len(ids)), reduction="none")
    torch.testing.assert_close(got, want, rtol=1e-7, atol=1e-12)


def test_logq_with_sampled_negatives_needs_the_catalogue_key():
    task = RetrievalTask(RetrievalTaskConfig(logq_correction=True, num_negatives=4), num_candidates=12)
    cat = {"item_id": torch.arange(1, 12), "genre": torch.arange(11) % 3}
    with pytest.raises(ConfigError, match="pass key="):
        task.attach_catalogue(cat)
    task.attach_catalogue(cat, key="item_id")  # with the key, each ID's probability is known

"""The streamed full-catalogue normalizer equals the dense one, in value and gradient."""

from __future__ import annotations

import pytest
import torch

from recstack.tasks.streamed_logsumexp import catalogue_logsumexp


@pytest.mark.parametrize("budget", [1, 7, 40, 10**9])  # blocks of 1, of 1 (7 // 8 rows), of 5, dense
def test_value_and_gradients_match_the_dense_logsumexp(budget):
    g = torch.Generator().manual_seed(0)
    q = torch.randn(8, 4, dtype=torch.float64, generator=g, requires_grad=True)
    c = torch.randn(23, 4, dtype=torch.float64, generator=g, requires_grad=True)
    weights = torch.randn(8, dtype=torch.float64, generator=g)
    (catalogue_logsumexp(q, c, budget=budget) * weights).sum().backward()
    got = (q.grad.clone(), c.grad.clone())
    q.grad, c.grad = None, None
    want = torch.logsumexp(q @ c.T, dim=1)
    (want * weights).sum().backward()
    torch.testing.assert_close(catalogue_logsumexp(q, c, budget=budget), want)
    torch.testing.assert_close(got[0], q.grad)
    torch.testing.assert_close(got[1], c.grad)


def test_large_scores_do_not_overflow_and_gradcheck_passes():
    q = torch.tensor([[300.0], [-300.0]], dtype=torch.float64, requires_grad=True)
    c = torch.tensor([[3.0], [2.0], [-1.0]], dtype=torch.float64, requires_grad=True)
    out = catalogue_logsumexp(q, c, budget=2)  # one candidate per block
    torch.testing.assert_close(out, torch.logsumexp(q @ c.T, dim=1))
    assert torch.autograd.gradcheck(lambda a, b: catalogue_logsumexp(a, b, budget=2), (q / 100, c))


def test_the_catalogue_loss_streams_above_the_budget_and_gives_the_dense_loss(monkeypatch):
    import recstack.tasks.catalogue_softmax as cs
    from recstack.data.dataset import BatchIterator
    from recstack.experiment import RetrievalExperiment
    from tests.conftest import small_config

    exp = RetrievalExperiment(small_config(**{"task": {"kind": "retrieval", "candidates": "catalogue"}}))
    batch = exp.task.prepare_batch(next(iter(BatchIterator(exp.train_data, 512))))
    out = exp.model(batch)
    dense = exp.task.per_row_loss(out)
    calls = []
    monkeypatch.setattr(cs, "LOGITS_BUDGET", 1000)
    monkeypatch.setattr(cs, "catalogue_logsumexp", lambda q, c: calls.append(q.shape) or
                        catalogue_logsumexp(q, c, budget=1000))
    streamed = exp.task.per_row_loss(out)
    assert calls and torch.allclose(streamed, dense, atol=1e-5)
    grads = torch.autograd.grad(streamed.mean(), [p for p in exp.model.parameters() if p.requires_grad],
                                allow_unused=True, retain_graph=True)
    want = torch.autograd.grad(dense.mean(), [p for p in exp.model.parameters() if p.requires_grad],
                               allow_unused=True)
    for a, b in zip(grads, want):
        if a is not None:
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)

"""Ties counted as a by-product of ranking: the same count under every tie rule, only on the
rows asked for, excluded candidates and NaN positives never tied."""

from __future__ import annotations

import torch

from recstack.metrics import positive_ranks, ranks_and_ties


def test_ties_are_counted_alike_under_every_rule_on_the_sampled_rows_only():
    c = torch.tensor([[1.0], [1.0], [0.5], [0.5], [float("nan")]])
    q, pos = torch.ones(5, 1), torch.tensor([0, 2, 1, 3, 4])  # rows 0-3 tie with one other; row 4: NaN
    ex = (torch.tensor([0, 1, 1, 1, 1, 1]), torch.tensor([1]))  # row 0 excludes its tie
    every = torch.ones(5, dtype=torch.bool)
    for ties in ("optimistic", "mid", "pessimistic"):
        ranks, tied = ranks_and_ties(q, c, pos, exclude=ex, ties=ties, chunk_size=2, tie_rows=every)
        assert tied == 3  # rows 1-3; not row 0 (its tie is excluded), not the NaN row
        assert ranks_and_ties(q, c, pos, exclude=ex, ties=ties, tie_rows=torch.tensor([1, 0, 0, 0, 1]).bool())[1] == 0
        assert torch.equal(ranks, positive_ranks(q, c, pos, exclude=ex, ties=ties))

"""ExactIndex: the top k by (-score, row), without sorting the whole catalogue."""

from __future__ import annotations

import pytest
import torch

from recstack.index import ExactIndex


def reference(scores: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    s = torch.nan_to_num(scores, nan=float("-inf"), posinf=float("inf"), neginf=float("-inf"))
    vals, rows = torch.sort(s, dim=1, descending=True, stable=True)
    vals, rows = vals[:, :k], rows[:, :k]
    return vals, torch.where(vals == float("-inf"), torch.full_like(rows, -1), rows)


@pytest.mark.parametrize("k", [1, 5, 37, 60, 500])
def test_matches_a_stable_full_sort_with_many_ties_and_exclusions(k):
    g = torch.Generator().manual_seed(0)
    emb = torch.randint(-2, 3, (60, 3), generator=g).float()  # small integers: many equal scores
    q = torch.randint(-2, 3, (45, 3), generator=g).float()
    lengths = torch.randint(0, 8, (45,), generator=g)
    offsets = torch.cat([torch.zeros(1, dtype=torch.long), lengths.cumsum(0)])
    items = torch.randint(0, 60, (int(lengths.sum()),), generator=g)
    index = ExactIndex(emb, chunk_size=16)
    got_s, got_r = index.search(q, k, exclude=(offsets, items))
    s = q @ emb.T
    rows = torch.repeat_interleave(torch.arange(45), lengths)
    s[rows, items] = float("-inf")
    want_s, want_r = reference(s, min(k, 60))
    assert torch.equal(got_r, want_r)
    assert torch.equal(got_s, want_s)


def test_nan_candidates_are_never_returned_an_inf_one_is_first_and_bad_k_is_an_error():
    emb = torch.tensor([[1.0], [float("nan")], [float("inf")], [2.0]])
    scores, rows = ExactIndex(emb).search(torch.tensor([[1.0]]), 4)
    assert rows.tolist() == [[2, 3, 0, -1]] and scores[0, 0] == float("inf")
    for bad in (0, -2, True, 1.5):
        with pytest.raises(ValueError, match="k must be a positive integer"):
            ExactIndex(emb).search(torch.ones(1, 1), bad)
    assert ExactIndex(emb).search(torch.ones(2, 1), 10**9)[1].shape == (2, 4)  # clipped to the catalogue


def test_an_empty_catalogue_gives_empty_answers():
    scores, rows = ExactIndex(torch.empty(0, 3)).search(torch.ones(2, 3), 5)
    assert scores.shape == rows.shape == (2, 0)


def test_scores_that_overflow_or_are_nan_are_still_ordered_and_nan_never_returned():
    # norms whose product leaves float32: scores of +-inf (and NaN for 0 * inf) are mapped
    idx = ExactIndex(torch.tensor([[1e20, 0.0], [-1e20, 0.0], [float("nan"), 0.0], [0.0, 1.0]]))
    scores, rows = idx.search(torch.tensor([[1e20, 1.0]]), 4)
    assert rows.tolist() == [[0, 3, -1, -1]] and scores[0, 0] == float("inf")  # -inf ranks as excluded


def test_a_tie_across_the_kth_place_keeps_the_lowest_rows_and_others_take_the_fast_path():
    emb = torch.tensor([[1.0], [2.0], [2.0], [2.0], [0.5]])
    assert ExactIndex(emb).search(torch.ones(1, 1), 2)[1].tolist() == [[1, 2]]  # rows 1-3 tie at the cut
    assert ExactIndex(emb).search(torch.ones(1, 1), 4)[1].tolist() == [[1, 2, 3, 0]]  # the tie fits

"""ExclusionLists built once: a block's lists equal the per-row lists written out in full, for
every mix of sources and keep rules, and stay within the entry budget."""

from __future__ import annotations

import pytest
import torch

from recstack.metrics import ExclusionLists, PositiveRanker, positive_ranks
from recstack.metrics import exclusion as exclusion_mod


def _random_csr(n: int, width: int, items: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """A CSR with repeated and unsorted items (not what build_exclusion gives)."""
    lengths = torch.randint(0, width, (n,), generator=g)
    offsets = torch.cat([torch.zeros(1, dtype=torch.long), lengths.cumsum(0)])
    return offsets, torch.randint(0, items, (int(lengths.sum()),), generator=g)


def _written_out(n, per_group, row_groups, per_row, keep, everywhere, keep_groups) -> list[set[int]]:
    """Each row's exclusion set from the definition, one row at a time (the reference)."""
    kg = keep_groups if keep_groups is not None else row_groups
    kept = set() if keep is None else set(zip(keep[0].tolist(), keep[1].tolist()))
    out = []
    for r in range(n):
        s = set() if everywhere is None else set(everywhere.tolist())
        if per_group is not None and int(row_groups[r]) >= 0:
            o, v = per_group
            s |= set(v[int(o[row_groups[r]]):int(o[row_groups[r] + 1])].tolist())
        if per_row is not None:
            s |= set(per_row[1][int(per_row[0][r]):int(per_row[0][r + 1])].tolist())
        out.append({i for i in s if kg is None or (int(kg[r]), i) not in kept})
    return out


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("mix", ["group", "group+row", "group+row+keep", "all+keep_groups", "row+everywhere+keep",
                                 "everywhere"])
def test_a_blocks_lists_are_the_written_out_lists(seed, mix):
    g = torch.Generator().manual_seed(seed)
    n, groups, items = 50, 7, 40
    row_groups = torch.randint(-1, groups, (n,), generator=g)  # -1: an unknown user
    positives = torch.randint(0, items, (n,), generator=g)
    kw: dict = {}
    if "group" in mix or "all" in mix:
        kw.update(per_group=_random_csr(groups, 12, items, g), row_groups=row_groups)
    if "row" in mix or "all" in mix:
        kw.update(per_row=_random_csr(n, 8, items, g), row_groups=row_groups)
    if "everywhere" in mix or "all" in mix:
        kw["everywhere"] = torch.tensor([3, 5, 5, 11, int(positives[0])])
    if "keep_groups" in mix:  # the caller's groups, not the stored users'
        kw.update(keep=(torch.arange(n) % 5, positives), keep_groups=torch.arange(n) % 5)
    elif "keep" in mix:
        kw.update(keep=(row_groups, positives), row_groups=row_groups)
    lists = ExclusionLists(**kw)
    want = _written_out(n, kw.get("per_group"), kw.get("row_groups"), kw.get("per_row"), kw.get("keep"),
                        kw.get("everywhere"), kw.get("keep_groups"))
    for idx in (torch.arange(n), torch.tensor([9, 0, 9, 31, 49]), torch.arange(n)[::3]):
        offsets, got = lists.rows(idx)
        rows = [got[int(offsets[i]):int(offsets[i + 1])].tolist() for i in range(len(idx))]
        assert [len(r) for r in rows] == [len(set(r)) for r in rows]  # each item once
        assert [set(r) for r in rows] == [want[int(i)] for i in idx]
    # ranks with the block's lists are the ranks with the written-out lists
    q, c = torch.randn(n, 4, generator=g), torch.randn(items, 4, generator=g)
    full = [sorted(s - {int(p)}) for s, p in zip(want, positives.tolist())]
    csr = (torch.tensor([0] + [len(s) for s in full]).cumsum(0), torch.tensor([i for s in full for i in s], dtype=torch.long))
    ranker = PositiveRanker(positives, exclude=lists, max_rows=7, max_entries=30)
    assert torch.equal(ranker(q, c, ties="optimistic", chunk_size=3).ranks, positive_ranks(q, c, positives, exclude=csr))


def test_lists_are_built_once_and_blocks_stay_within_the_budget(monkeypatch):
    calls = []
    real = exclusion_mod._prepare
    monkeypatch.setattr(exclusion_mod, "_prepare", lambda *a: calls.append(1) or real(*a))
    heavy = (torch.tensor([0, 1000, 1003]), torch.cat([torch.arange(1000), torch.tensor([1, 2, 3])]))
    groups = torch.tensor([0] * 50 + [1] * 50)  # 50 rows of a user with 1,000 items
    lists = ExclusionLists(per_group=heavy, row_groups=groups, everywhere=torch.tensor([1001, 1002]),
                           per_row=(torch.arange(101), torch.arange(100) + 1000)).keeping((groups, torch.arange(100)))
    ranker = PositiveRanker(torch.arange(100), exclude=lists, max_rows=64, max_entries=4000)
    q, c = torch.randn(100, 3), torch.randn(1100, 3)
    first = ranker(q, c, ties="optimistic", chunk_size=16).ranks
    assert torch.equal(ranker(q, c, ties="optimistic", chunk_size=16).ranks, first)
    assert calls == [1]  # once for the rows, not once per block or per call
    assert max(len(lists.rows(b)[1]) for b in ranker.blocks if len(b) > 1) <= 4000
    assert torch.equal(torch.cat(ranker.blocks), torch.arange(100)) and max(len(b) for b in ranker.blocks) <= 64


def test_keeping_gives_new_lists_and_leaves_the_given_ones_alone():
    base = ExclusionLists(per_group=(torch.tensor([0, 2]), torch.tensor([4, 5])), row_groups=torch.tensor([0, 0]))
    kept = base.keeping((torch.tensor([0]), torch.tensor([4])))
    assert base.keep is None and base.rows(torch.tensor([0]))[1].tolist() == [4, 5]
    assert kept.rows(torch.tensor([0, 1]))[1].tolist() == [5, 5]
    with pytest.raises(ValueError, match="keep row_groups or keep_groups"):
        ExclusionLists(keep=(torch.tensor([0]), torch.tensor([4])))


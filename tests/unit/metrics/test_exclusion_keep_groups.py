"""ExclusionLists whose group lists are keyed one way (stored users) and whose keep pairs
another (the rows' user codes): the keep pairs leave the group lists once, ahead, when every
row of a group has one keep group, and the rows come out as if keyed alike."""

from __future__ import annotations

import torch

from recstack.metrics import ExclusionLists, build_exclusion, select_rows


def _sets(csr: tuple[torch.Tensor, torch.Tensor]) -> list[list[int]]:
    offsets, items = csr
    return [sorted(items[offsets[i]:offsets[i + 1]].tolist()) for i in range(len(offsets) - 1)]


def _case(seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    users = torch.randint(0, 9, (60,), generator=g)  # rows' user codes; users 7 and 8 are unknown
    stored_of_user = torch.tensor([4, 0, 6, 2, 1, 5, 3, -1, -1])  # a user's stored row, -1: none
    seen_users, seen_items = torch.randint(0, 7, (120,), generator=g), torch.randint(0, 40, (120,), generator=g)
    return {"users": users, "stored": stored_of_user[users], "positives": torch.randint(0, 40, (60,), generator=g),
            "seen": build_exclusion(torch.arange(7), seen_users, seen_items),
            "own": build_exclusion(torch.arange(60), torch.randint(0, 60, (30,), generator=g),
                                   torch.randint(0, 40, (30,), generator=g)),
            "perm": stored_of_user}


def test_keep_by_other_groups_is_filtered_ahead_and_gives_the_same_rows():
    c = _case()
    stored_lists = ExclusionLists(per_group=c["seen"], row_groups=c["stored"], per_row=c["own"],
                                  everywhere=torch.tensor([3, 5]))
    by_stored = stored_lists.keeping((c["users"], c["positives"]), c["users"])
    # the same lists re-keyed by user code (unknown users: empty lists), keep by row groups
    order = torch.where(c["perm"] >= 0, c["perm"], -1)
    by_user = ExclusionLists(per_group=select_rows(c["seen"], order), row_groups=c["users"], per_row=c["own"],
                             everywhere=torch.tensor([3, 5]), keep=(c["users"], c["positives"]))
    assert by_stored._prepared().group_kept  # no per-block keep filter on the group lists
    idx = torch.tensor([0, 5, 5, 59, 12, 33, 7])
    assert _sets(by_stored.rows(idx)) == _sets(by_user.rows(idx))
    assert _sets(by_stored.rows(torch.arange(60))) == _sets(by_user.rows(torch.arange(60)))


def test_rows_of_one_group_with_different_keep_groups_are_filtered_per_block():
    c = _case(1)
    per_row_keep = torch.arange(60)  # each row its own keep group: a group's rows disagree
    lists = ExclusionLists(per_group=c["seen"], row_groups=c["stored"],
                           keep=(per_row_keep, c["positives"]), keep_groups=per_row_keep)
    assert not lists._prepared().group_kept
    got = _sets(lists.rows(torch.arange(60)))
    seen = _sets(select_rows(c["seen"], c["stored"]))
    assert got == [[i for i in s if i != int(c["positives"][r])] for r, s in enumerate(seen)]

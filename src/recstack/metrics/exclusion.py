"""Which candidates each evaluation row leaves out (e.g. its user's training items), as CSR
lists: ``offsets (Q+1,)`` and catalogue rows, row ``i`` holding ``items[offsets[i]:offsets[i+1]]``.
Vectorized; :class:`ExclusionLists` keeps them per user and expands a block of rows at a time."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["ExclusionLists", "build_exclusion", "check_csr", "drop_group_items", "select_rows"]


def build_exclusion(query_keys: Tensor, seen_keys: Tensor, seen_items: Tensor) -> tuple[Tensor, Tensor]:
    """Per-query CSR of items to exclude, from ``(user, item)`` pairs.

    Args:
        query_keys: ``(Q,)`` user code of each query row.
        seen_keys / seen_items: ``(N,)`` user code and catalogue row of each seen pair.

    Returns:
        ``offsets (Q+1,)``, ``indices (nnz,)``: row ``i`` excludes
        ``indices[offsets[i]:offsets[i+1]]`` (deduplicated, sorted).
    """
    if seen_keys.numel() == 0:
        return torch.zeros(len(query_keys) + 1, dtype=torch.long), torch.zeros(0, dtype=torch.long)
    span = int(seen_items.max()) + 1
    pairs = torch.unique(seen_keys.long() * span + seen_items.long())  # sorted, deduplicated
    keys, items = pairs // span, pairs % span
    ukeys, counts = torch.unique_consecutive(keys, return_counts=True)
    pos = torch.searchsorted(ukeys, query_keys.long()).clamp_max(len(ukeys) - 1)
    found = ukeys[pos] == query_keys.long()
    offsets = torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)])  # per unique key
    return select_rows((offsets, items), torch.where(found, pos, -1))


def select_rows(csr: tuple[Tensor, Tensor], rows: Tensor) -> tuple[Tensor, Tensor]:
    """The CSR of ``csr``'s ``rows`` in that order (a row of ``-1`` is empty), vectorized."""
    offsets, values = csr
    if offsets.numel() <= 1:  # no rows to take from: every selected row is empty
        return torch.zeros(len(rows) + 1, dtype=torch.long), values[:0]
    present = rows >= 0
    r = rows.clamp(0, offsets.numel() - 2)
    starts = torch.where(present, offsets[r], 0)
    lengths = torch.where(present, offsets[r + 1], 0) - starts
    new_off = torch.cat([torch.zeros(1, dtype=torch.long), lengths.cumsum(0)])
    idx = torch.repeat_interleave(starts, lengths) + (
        torch.arange(int(lengths.sum())) - torch.repeat_interleave(new_off[:-1], lengths)
    )
    return new_off, values[idx]


def check_csr(exclude: tuple[Tensor, Tensor] | None, n: int) -> None:
    if exclude is not None and exclude[0].shape != (n + 1,):
        raise ValueError(f"exclude offsets must be (Q+1,) = ({n + 1},), got {tuple(exclude[0].shape)}")


class ExclusionLists:
    """Per-row exclusion lists kept compact and expanded a block of rows at a time.

    Evaluation excludes each user's training items from each of the user's rows: as one CSR
    per row that is ``sum over users of test rows x training items`` entries (a heavy user
    with 10k training items and 1k test rows alone gives 10M). Here they are kept once per
    user and expanded for the rows being ranked.

    Args:
        per_group: CSR ``(offsets (G+1,), items)`` of each group's (user's) items, or None.
        row_groups: ``(Q,)`` group of each row (needed with ``per_group`` or ``keep``).
        per_row: CSR ``(offsets (Q+1,), items)`` of items of each row alone (e.g. its given
            history), or None.
        keep: ``(groups, items)`` pairs never excluded from a row of that group (its test
            items: see :func:`drop_group_items`), or None.
        everywhere: ``(K,)`` items excluded from every row (e.g. IDs a request names), or None.
        keep_groups: ``(Q,)`` the group of each row for ``keep``, when it is not ``row_groups``
            (a saved model's rows: stored users for their items, the caller's groups for keep).

    A row group of ``-1`` has no group items (an unknown user).
    """

    def __init__(self, *, per_group: tuple[Tensor, Tensor] | None = None, row_groups: Tensor | None = None,
                 per_row: tuple[Tensor, Tensor] | None = None, keep: tuple[Tensor, Tensor] | None = None,
                 everywhere: Tensor | None = None, keep_groups: Tensor | None = None) -> None:
        if per_group is not None and row_groups is None or keep is not None and (row_groups, keep_groups) == (None, None):
            raise ValueError("per_group needs row_groups, and keep row_groups or keep_groups")
        self.per_group, self.row_groups, self.per_row, self.keep = per_group, row_groups, per_row, keep
        self.everywhere, self.keep_groups = everywhere, keep_groups

    def blocks(self, idx: Tensor, *, max_rows: int, max_entries: int) -> list[Tensor]:
        """``idx`` cut into consecutive blocks of at most ``max_rows`` rows whose lists hold at
        most ``max_entries`` items together (a row alone may hold more), so a block's expanded
        lists stay bounded however many items a heavy user has."""
        sizes = torch.zeros(len(idx), dtype=torch.long)
        if self.per_group is not None and self.row_groups is not None:
            g = self.row_groups[idx]
            sizes += torch.where(g >= 0, self.per_group[0].diff()[g.clamp(min=0)], 0)
        if self.per_row is not None:
            sizes += self.per_row[0].diff()[idx]
        if self.everywhere is not None:
            sizes += len(self.everywhere)
        out, start, n = [], 0, len(idx)
        ends = torch.cumsum(sizes, 0)
        while start < n:
            base = int(ends[start - 1]) if start else 0
            fit = int(torch.searchsorted(ends, base + max_entries, right=True))  # rows whose lists fit
            stop = min(max(fit, start + 1), start + max_rows, n)
            out.append(idx[start:stop])
            start = stop
        return out

    def rows(self, idx: Tensor) -> tuple[Tensor, Tensor]:
        """The CSR of rows ``idx``: their groups' items and their own, deduplicated and sorted,
        without the ``keep`` pairs of their groups."""
        n = len(idx)
        local = torch.arange(n)
        pairs_rows: list[Tensor] = []
        pairs_items: list[Tensor] = []
        for csr, which in ((self.per_group, None if self.row_groups is None else self.row_groups[idx]),
                           (self.per_row, idx)):
            if csr is None or which is None:
                continue
            offsets, items = select_rows(csr, which)
            pairs_rows.append(torch.repeat_interleave(local, offsets.diff()))
            pairs_items.append(items.long())
        if self.everywhere is not None and len(self.everywhere):
            pairs_rows.append(local.repeat_interleave(len(self.everywhere)))
            pairs_items.append(self.everywhere.long().repeat(n))
        if not pairs_rows:
            return torch.zeros(n + 1, dtype=torch.long), torch.zeros(0, dtype=torch.long)
        out = build_exclusion(local, torch.cat(pairs_rows), torch.cat(pairs_items))
        groups = self.keep_groups if self.keep_groups is not None else self.row_groups
        if self.keep is not None and groups is not None:
            out = drop_group_items(out, groups[idx], self.keep)
        return out


def drop_group_items(
    exclude: tuple[Tensor, Tensor], row_groups: Tensor, group_items: tuple[Tensor, Tensor]
) -> tuple[Tensor, Tensor]:
    """``exclude`` without the items its row's group holds in ``group_items``.

    Evaluation ranks a user's held-out items as one list: an item that is the positive of one
    of the user's rows must not be excluded from the user's other rows (a test item that is
    also a training item, as with repeat purchases), or each row would be ranked against a
    different list (recall@K and ndcg@K too high).

    Args:
        exclude: CSR ``(offsets (Q+1,), items)``, as from :func:`build_exclusion`.
        row_groups: ``(Q,)`` group (user code) of each row.
        group_items: ``(groups (N,), items (N,))`` pairs to keep, e.g. every evaluation row's
            (user, positive).
    """
    offsets, items = exclude
    check_csr(exclude, len(row_groups))
    groups, kept = group_items[0].long(), group_items[1].long()
    if items.numel() == 0 or kept.numel() == 0:
        return exclude
    span = int(max(int(items.max()), int(kept.max()))) + 1
    row_of = torch.repeat_interleave(torch.arange(len(row_groups)), offsets.diff())
    keep = ~torch.isin(row_groups.long()[row_of] * span + items, groups * span + kept)
    lengths = torch.zeros(len(row_groups), dtype=torch.long).index_add_(0, row_of, keep.long())
    return torch.cat([torch.zeros(1, dtype=torch.long), lengths.cumsum(0)]), items[keep]

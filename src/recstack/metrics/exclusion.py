"""Which candidates each evaluation row leaves out (e.g. its user's training items), as CSR
lists: ``offsets (Q+1,)`` and catalogue rows, row ``i`` holding ``items[offsets[i]:offsets[i+1]]``.
Vectorized; :class:`ExclusionLists` keeps them per user and expands a block of rows at a time."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

__all__ = ["ExclusionLists", "build_exclusion", "check_csr", "concat_rows", "drop_group_items", "select_rows"]


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

    What is the same for every block (and every evaluation of the same rows) is built once,
    on first use: the group and row lists deduplicated, a row's list without what its group's
    list or ``everywhere`` already holds (so a block's pieces never overlap and are merged
    without a sort), and the ``keep`` pairs removed ahead where they can be (the row lists;
    the group lists when ``keep`` is by ``row_groups``, or by ``keep_groups`` that give all rows
    of a group one keep group). A block then costs gathers; the ``keep`` filter runs per block
    only on what could not be filtered ahead (group lists whose rows have different
    ``keep_groups``, ``everywhere``), as a lookup into keys sorted once. The
    object does not change: :meth:`keeping` gives one with other ``keep`` pairs.

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
        self._per_group, self._row_groups, self._per_row = per_group, row_groups, per_row
        self._keep, self._everywhere, self._keep_groups = keep, everywhere, keep_groups
        self._built: _Prepared | None = None

    @property
    def keep(self) -> tuple[Tensor, Tensor] | None:
        """The ``(groups, items)`` pairs never excluded from a row of that group, or None."""
        return self._keep

    def keeping(self, keep: tuple[Tensor, Tensor], keep_groups: Tensor | None = None) -> ExclusionLists:
        """These lists with ``keep`` pairs (by ``keep_groups``, else by ``row_groups``)."""
        return ExclusionLists(per_group=self._per_group, row_groups=self._row_groups, per_row=self._per_row,
                              keep=keep, everywhere=self._everywhere, keep_groups=keep_groups)

    def blocks(self, idx: Tensor, *, max_rows: int, max_entries: int) -> list[Tensor]:
        """``idx`` cut into consecutive blocks of at most ``max_rows`` rows whose lists hold at
        most ``max_entries`` items together (a row alone may hold more), so a block's expanded
        lists stay bounded however many items a heavy user has."""
        p = self._prepared()
        sizes = torch.full((len(idx),), len(p.everywhere), dtype=torch.long)
        if p.group is not None and self._row_groups is not None:
            g = self._row_groups[idx]
            sizes += torch.where(g >= 0, p.group[0].diff()[g.clamp(min=0)], 0)
        if p.row is not None:
            sizes += p.row[0].diff()[idx]
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
        """The CSR of rows ``idx``: their groups' items, their own and ``everywhere``, each once
        (in no set order within a row), without the ``keep`` pairs of their groups."""
        p, n = self._prepared(), len(idx)
        keys = p.keep_keys
        base = p.keep_groups[idx] * p.span if len(keys) else None  # each row's keep keys start here
        pieces = []  # disjoint: the group's items, the row's own, everywhere
        if p.group is not None and self._row_groups is not None:
            group = select_rows(p.group, self._row_groups[idx])
            pieces.append(group if p.group_kept or base is None else _drop_keys(group, base, keys))
        if p.row is not None:
            pieces.append(select_rows(p.row, idx))
        if len(p.everywhere):
            every = (torch.arange(n + 1) * len(p.everywhere), p.everywhere.repeat(n))
            pieces.append(every if base is None else _drop_keys(every, base, keys))
        if not pieces:
            return torch.zeros(n + 1, dtype=torch.long), torch.zeros(0, dtype=torch.long)
        return pieces[0] if len(pieces) == 1 else concat_rows(pieces)

    def _prepared(self) -> _Prepared:
        if self._built is None:
            self._built = _prepare(self._per_group, self._row_groups, self._per_row, self._keep,
                                   self._everywhere, self._keep_groups)
        return self._built


class _Prepared(NamedTuple):
    """What :class:`ExclusionLists` builds once (see its docstring)."""

    group: tuple[Tensor, Tensor] | None  # per group: deduplicated, without everywhere (and keep, if group_kept)
    group_kept: bool  # whether keep is already out of the group lists
    row: tuple[Tensor, Tensor] | None  # per row: deduplicated, without its group's items, everywhere and keep
    everywhere: Tensor  # (K,) unique
    keep_keys: Tensor  # sorted unique keep_group * span + item (empty: nothing kept)
    keep_groups: Tensor  # (Q,) each row's group for keep (empty without keep)
    span: int  # above every item: keys are group * span + item


def _prepare(per_group: tuple[Tensor, Tensor] | None, row_groups: Tensor | None, per_row: tuple[Tensor, Tensor] | None,
             keep: tuple[Tensor, Tensor] | None, everywhere: Tensor | None, keep_groups: Tensor | None) -> _Prepared:
    """The lists of :class:`ExclusionLists` in the form a block is cut from with gathers only."""
    ev = torch.unique(everywhere.long()) if everywhere is not None else torch.zeros(0, dtype=torch.long)
    items = [t[1].long() for t in (per_group, per_row, keep) if t is not None] + [ev]
    span = 1 + max((int(t.max()) for t in items if t.numel()), default=0)
    kg = keep_groups if keep_groups is not None else row_groups
    keep_keys = torch.zeros(0, dtype=torch.long)
    if keep is not None and kg is not None and keep[1].numel():
        keep_keys = torch.unique(keep[0].long() * span + keep[1].long())
    kg = kg.long() if kg is not None and len(keep_keys) else torch.zeros(0, dtype=torch.long)
    group = group_keys = None
    group_kept = not len(keep_keys) or keep_groups is None
    if per_group is not None:
        n_groups = len(per_group[0]) - 1
        group_keys = _keys(per_group, torch.arange(n_groups), span)  # sorted, unique
        drop = _member(ev, group_keys % span)
        if keep_groups is None:
            drop |= _member(keep_keys, group_keys)
        elif not group_kept and row_groups is not None and (owner := _keep_owner(row_groups, kg, n_groups)):
            g = group_keys // span  # each group's rows share one keep group: its pairs go now, not per block
            drop |= owner[1][g] & _member(keep_keys, owner[0][g] * span + group_keys % span)
            group_kept = True
        group = _csr(group_keys[~drop], n_groups, span)
    row = None
    if per_row is not None:
        n = len(per_row[0]) - 1
        keys = _keys(per_row, torch.arange(n), span)
        r, it = keys // span, keys % span
        drop = _member(ev, it)
        if group_keys is not None and row_groups is not None:
            drop |= _member(group_keys, row_groups.long()[r] * span + it)  # a group -1 has no keys
        if len(keep_keys):
            drop |= _member(keep_keys, kg[r] * span + it)
        row = _csr(keys[~drop], n, span)
    return _Prepared(group, group_kept, row, ev, keep_keys, kg, span)


def _keep_owner(row_groups: Tensor, keep_groups: Tensor, n_groups: int) -> tuple[Tensor, Tensor] | None:
    """``(n_groups,)`` the keep group of each group's rows and ``(n_groups,)`` whether it has
    rows, or None when two rows of one group have different keep groups (as when ``keep`` is by
    user and the groups are stored users: then one group has one keep group)."""
    has = row_groups >= 0
    rg, kg = row_groups[has].long(), keep_groups[has].long()
    owner = torch.zeros(n_groups, dtype=torch.long)
    owner[rg] = kg  # any of a group's rows: checked to agree below
    if not bool((owner[rg] == kg).all()):
        return None
    rows = torch.zeros(n_groups, dtype=torch.bool)
    rows[rg] = True
    return owner, rows


def _keys(csr: tuple[Tensor, Tensor], owners: Tensor, span: int) -> Tensor:
    """Sorted unique ``owner * span + item`` of a CSR's entries (owner: the row's label)."""
    offsets, items = csr
    keys = torch.repeat_interleave(owners, offsets.diff()) * span + items.long()
    if bool((keys[1:] > keys[:-1]).all()):  # already sorted and unique (as build_exclusion gives): no sort
        return keys
    return torch.unique(keys)


def _csr(keys: Tensor, n: int, span: int) -> tuple[Tensor, Tensor]:
    """The CSR over ``n`` rows of sorted ``row * span + item`` keys."""
    counts = torch.bincount(keys // span, minlength=n)
    return torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)]), keys % span


def _member(sorted_keys: Tensor, keys: Tensor) -> Tensor:
    """``(n,)`` bool: which ``keys`` are in ``sorted_keys`` (a binary search, no sort)."""
    if sorted_keys.numel() == 0:
        return torch.zeros(keys.shape, dtype=torch.bool)
    at = torch.searchsorted(sorted_keys, keys).clamp_max(len(sorted_keys) - 1)
    return sorted_keys[at] == keys


def _drop_keys(csr: tuple[Tensor, Tensor], base: Tensor, keep_keys: Tensor) -> tuple[Tensor, Tensor]:
    """``csr`` without the entries whose ``base[row] + item`` is a keep key."""
    offsets, items = csr
    row_of = torch.repeat_interleave(torch.arange(len(base)), offsets.diff())
    stay = ~_member(keep_keys, base[row_of] + items)
    lengths = torch.zeros(len(base), dtype=torch.long).index_add_(0, row_of, stay.long())
    return torch.cat([torch.zeros(1, dtype=torch.long), lengths.cumsum(0)]), items[stay]


def concat_rows(pieces: list[tuple[Tensor, Tensor]]) -> tuple[Tensor, Tensor]:
    """One CSR holding, row by row, the entries of each CSR of ``pieces`` (same rows), by
    placing each entry at its row's start plus what the earlier pieces put there: no sort."""
    lengths = [off.diff() for off, _ in pieces]
    total = torch.stack(lengths).sum(0)
    offsets = torch.cat([torch.zeros(1, dtype=torch.long), total.cumsum(0)])
    out = torch.empty(int(offsets[-1]), dtype=torch.long)
    at = offsets[:-1].clone()  # where each row's next piece starts
    rows = torch.arange(len(total))
    for (off, items), n in zip(pieces, lengths):
        row_of = torch.repeat_interleave(rows, n)
        out[at[row_of] + torch.arange(len(items)) - off[row_of]] = items.long()
        at += n
    return offsets, out


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
    return _drop_keys((offsets, items.long()), row_groups.long() * span, torch.unique(groups * span + kept))

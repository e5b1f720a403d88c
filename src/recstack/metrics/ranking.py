"""The one rank loop of evaluation and :meth:`Recommender.rank`: rows with a catalogue
positive, cut into blocks whose exclusion lists are bounded, each block ranked by
:func:`~recstack.metrics.topk.ranks_and_ties` (ties counted from the same scores)."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from recstack.metrics.exclusion import ExclusionLists
from recstack.metrics.topk import ranks_and_ties

__all__ = ["EXCLUDE_ENTRIES", "RANK_CHUNK", "PositiveRanker", "RankedRows"]

EXCLUDE_ENTRIES = 1 << 22  # excluded (row, item) pairs expanded at once (a few tens of MB)
RANK_CHUNK = 16384  # rows ranked at once (one block): their exclusion lists are expanded only then


class RankedRows(NamedTuple):
    """What :class:`PositiveRanker` gives: ``ranks (Q,)`` (``C`` for a positive outside the
    catalogue: a miss), and ``tied``, how many of the ``counted`` sampled rows have a positive
    that scores exactly like another candidate that counts."""

    ranks: Tensor
    tied: int
    counted: int


class PositiveRanker:
    """Ranks each row's positive among all candidates, for one fixed set of rows.

    Built once for the rows (an evaluator's, or one ``rank`` call's): which rows have a
    positive in the catalogue, their blocks (at most ``max_rows`` rows whose exclusion lists
    hold at most ``max_entries`` pairs, so the expanded lists stay bounded) and the
    exclusion lists' own once-built form are kept and reused by every call, e.g. every
    epoch's evaluation.

    Args:
        positives: ``(Q,)`` catalogue row of each row's positive, ``-1`` when it has none.
        exclude: the rows' exclusion lists, or None.
        max_rows: rows ranked (and their lists expanded) at once (``RANK_CHUNK``: evaluation's and
            :meth:`Recommender.rank`'s block).
        max_entries: excluded pairs expanded at once (a row alone may hold more).
    """

    def __init__(self, positives: Tensor, *, exclude: ExclusionLists | None = None, max_rows: int = RANK_CHUNK,
                 max_entries: int = EXCLUDE_ENTRIES) -> None:
        self.positives = positives.long()
        self.exclude = exclude
        rows = (self.positives >= 0).nonzero().squeeze(1)
        self.rows = rows
        self.blocks = ([rows[i : i + max_rows] for i in range(0, rows.numel(), max_rows)] if exclude is None
                       else exclude.blocks(rows, max_rows=max_rows, max_entries=max_entries))

    def __call__(self, query: Tensor, candidates: Tensor, *, ties: str, chunk_size: int,
                 tie_sample: int = 0) -> RankedRows:
        """Ranks for ``query (Q, d)`` against ``candidates (C, d)`` (``ties``: the tie rule;
        ``chunk_size``: rows scored at once), counting ties on ``tie_sample`` ranked rows spread
        evenly over all of them (every user's rows, not only the first users' in a table
        sorted by user), from the ranking's own scores."""
        ranks = torch.full_like(self.positives, candidates.shape[0])  # a rank of C marks a miss
        n, m = self.rows.numel(), min(tie_sample, self.rows.numel())
        sample = torch.zeros(len(self.positives), dtype=torch.bool)
        sample[self.rows[torch.arange(m) * n // max(m, 1)]] = True  # m distinct rows, evenly apart
        tied = 0
        for r in self.blocks:  # exclusion lists exist for one block of rows at a time
            ex = None if self.exclude is None else self.exclude.rows(r)
            ranks[r], t = ranks_and_ties(query[r], candidates, self.positives[r], exclude=ex, chunk_size=chunk_size,
                                         ties=ties, tie_rows=sample[r] if m else None)
            tied += t
        return RankedRows(ranks, tied, m)

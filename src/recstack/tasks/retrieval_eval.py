"""Full-catalogue evaluation of a retrieval model (bounded memory, chunked scoring)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Protocol, cast

import torch
from torch import Tensor

from recstack.errors import DataError
from recstack.metrics import (EXCLUDE_ENTRIES, RANK_CHUNK, ExclusionLists, PositiveRanker, parse_metric_name,
                              topk_metrics)

__all__ = ["RetrievalEvaluator", "warn_if_not_finite", "warn_if_tied", "warn_outside_catalogue", "warn_trivial_cutoffs"]

logger = logging.getLogger(__name__)
TIE_SAMPLE = 1024  # evaluation rows checked for ties, spread evenly over all rows
TIE_WARN_SHARE = 0.01


def warn_if_tied(tied: int, counted: int, ties: str) -> bool:
    """Warns when, of ``counted`` ranked rows, the ``tied`` ones whose positive scores exactly
    like a candidate that counts (not an excluded one) are more than ``TIE_WARN_SHARE``:
    under optimistic ties the tie rule would then decide the metrics. Returns whether it
    warned. Other tie rules cannot be inflated by ties: nothing is said. The counts come from
    the ranking's own scores (:class:`~recstack.metrics.PositiveRanker`), not a second pass."""
    if ties != "optimistic" or counted == 0:
        return False
    share = tied / counted
    if share > TIE_WARN_SHARE:
        logger.warning(
            "%.0f%% of sampled positives score exactly like another candidate; with ties counted in the "
            "positive's favour (eval.ties: optimistic, as TFRS) the metrics are inflated (all-equal scores "
            "give hit_rate 1.0); set eval.ties: mid (the positive in the middle of its tie) or pessimistic",
            100 * share,
        )
        return True
    return False


def warn_if_not_finite(cand: Tensor) -> bool:
    """Warns when candidate vectors hold NaN or infinite values: such a candidate's NaN score
    never ranks above a positive, so the metrics would look better than the model is."""
    bad = int((~torch.isfinite(cand).all(dim=1)).sum()) if cand.numel() else 0
    if bad:
        logger.warning("%d of %d candidates have NaN or infinite vectors; they rank below every item, which "
                       "inflates the metrics (the model diverged or its weights are damaged)", bad, len(cand))
    return bool(bad)


def warn_trivial_cutoffs(metrics: Sequence[str], num_candidates: int) -> list[str]:
    """Warns about ``hit_rate@K``/``recall@K`` with ``K`` at or above the catalogue size: every
    item is in the top K, so they are 1.0 and say nothing (ndcg@K still weighs positions).
    Returns their names."""
    trivial = [m for m in metrics if (k := parse_metric_name(m)[1]) is not None and k >= num_candidates
               and parse_metric_name(m)[0] in ("hit_rate", "recall")]  # ndcg@K, mrr@K still rank the list
    if trivial:
        logger.warning("metrics %s: K is at least the catalogue size (%d candidates), so every positive in the "
                       "catalogue is in the top K and they are trivially 1.0 for those; use a smaller K",
                       trivial, num_candidates)
    return trivial


def warn_outside_catalogue(outside: int, rows: int, column: str, where: str, hint: str | None = None) -> None:
    """Warns when evaluation rows hold items the catalogue lacks: they count as misses."""
    if outside:
        hint = hint or ("the catalogue is data.join.items when it has every candidate column, else the training "
                        "items: list items first seen in evaluation in the items table so they can be ranked, and "
                        "check the ID spelling")
        logger.warning("%s: %d of %d rows have %s values not in the catalogue; they count as misses (%s)",
                       where, outside, rows, column, hint)


class _Towers(Protocol):
    """What the evaluator needs of a model: its two towers (e.g. ``TwoTower``)."""

    def query_embedding(self, features: Mapping[str, Tensor]) -> Tensor: ...

    def candidate_embedding(self, features: Mapping[str, Tensor]) -> Tensor: ...


class RetrievalEvaluator:
    """Ranks each evaluation row's positive among ALL catalogue candidates.

    Args:
        query_features: ``{key: (Q, ...)}`` preprocessed query features of the rows.
        positives: ``(Q,)`` catalogue row of each row's positive; ``-1`` when the item is
            not in the catalogue (counted as a miss, rank = catalogue size).
        catalogue_features: ``{key: (C, ...)}`` preprocessed candidate features.
        metrics: names such as ``hit_rate@100``, ``recall@10``, ``ndcg@10``, ``mrr``.
        groups: ``(Q,)`` user of each row, for per-user metrics (recall, ndcg, mrr).
        exclude: items to drop per row: a CSR ``(offsets (Q+1,), catalogue rows)``, or
            :class:`~recstack.metrics.ExclusionLists` (kept per user, expanded per block of rows;
            its row groups may index its lists otherwise than ``groups``, e.g. stored users).
            A user's test items (by ``groups``) are never dropped from the user's rows (one list per user).
        chunk_size: query rows scored at once; memory is ``chunk_size x C`` floats.
        ties: the positive's place among equal scores (``recstack.metrics.TIES``).
        cold: ``(Q,)`` bool, rows that are cold-start queries: their query vector is the
            mean query vector of ``known_features`` (recomputed with each model evaluated).
        known_features: ``{key: (U, ...)}`` preprocessed query features of the known users.
    """

    def __init__(
        self,
        query_features: Mapping[str, Tensor],
        positives: Tensor,
        catalogue_features: Mapping[str, Tensor],
        *,
        metrics: Sequence[str],
        groups: Tensor | None = None,
        exclude: tuple[Tensor, Tensor] | ExclusionLists | None = None,
        chunk_size: int = 2048,
        ties: str = "optimistic",
        cold: Tensor | None = None,
        known_features: Mapping[str, Tensor] | None = None,
    ) -> None:
        if cold is not None and bool(cold.any()) and not known_features:
            raise ValueError("cold rows need known_features to average")
        if len(positives) == 0:
            raise DataError("the evaluation table has no rows; give at least one (query, item) row")
        self.query_features = dict(query_features)
        self.positives = positives.long()
        # rows of one user with the same features (the test rows of a user: one history) are embedded once
        self._distinct, self._row_of = distinct_rows(self.query_features, groups, len(positives))
        self._n_distinct = len(positives) if self._row_of is None else int(self._row_of.max()) + 1
        self.catalogue_features = dict(catalogue_features)
        self.metrics = list(metrics)
        self.groups = groups
        if isinstance(exclude, tuple):  # per-row lists as given
            exclude = ExclusionLists(per_row=exclude, row_groups=groups)
        if exclude is not None and groups is not None and exclude.keep is None:  # a user's test items: one list
            known = self.positives >= 0
            exclude = exclude.keeping((groups[known], self.positives[known]), groups)  # its row groups may differ
        self.exclude = exclude
        # the rows, their blocks and their exclusion lists: built once, reused every epoch
        self._ranker = PositiveRanker(self.positives, exclude=exclude, max_rows=RANK_CHUNK,
                                      max_entries=EXCLUDE_ENTRIES)
        self.chunk_size = chunk_size
        self.ties = ties
        self.cold = cold if cold is not None and bool(cold.any()) else None
        self.known_features = dict(known_features or {})
        self._tie_warned = False
        self._nan_warned = False

    def ranks(self, model: torch.nn.Module) -> Tensor:
        """``(Q,)`` rank of each positive among all candidates (ties per ``self.ties``)."""
        towers = cast(_Towers, model)  # duck-typed: any module with query/candidate_embedding
        with torch.no_grad():
            cand = towers.candidate_embedding(self.catalogue_features)
            query = _embed(towers, self._distinct, self._n_distinct)
            if self._row_of is not None:
                query = query.index_select(0, self._row_of)
            if self.cold is not None:
                n_known = len(next(iter(self.known_features.values())))
                known = _embed(towers, self.known_features, n_known).sum(0, dtype=torch.float64) / n_known
                query[self.cold] = known.to(query.dtype)
        self.num_candidates = int(cand.shape[0])
        if not self._nan_warned and self._ranker.rows.numel():
            self._nan_warned = warn_if_not_finite(cand)
        check = 0 if self._tie_warned or self.ties != "optimistic" else TIE_SAMPLE  # said once per evaluator
        ranked = self._ranker(query, cand, ties=self.ties, chunk_size=self.chunk_size, tie_sample=check)
        if check:
            self._tie_warned = warn_if_tied(ranked.tied, ranked.counted, self.ties)
        return ranked.ranks

    def __call__(self, model: torch.nn.Module) -> dict[str, float]:
        ranks = self.ranks(model)
        return topk_metrics(ranks, metrics=self.metrics, groups=self.groups, num_candidates=self.num_candidates)


def distinct_rows(features: Mapping[str, Tensor], groups: Tensor | None, n: int
                  ) -> tuple[dict[str, Tensor], Tensor | None]:
    """The rows of ``features`` to embed, and each of the ``n`` rows' place among them (``None``:
    every row is its own). Rows of one group (user) whose features all equal the group's first
    row's share that row: an exact saving, checked element by element, never assumed."""
    if groups is None or n < 2 or not features:
        return dict(features), None
    order = torch.argsort(groups, stable=True)
    sorted_groups = groups[order]
    starts = torch.ones(n, dtype=torch.bool)
    starts[1:] = sorted_groups[1:] != sorted_groups[:-1]
    first = order[starts][torch.cumsum(starts.long(), 0) - 1]  # per sorted row: its group's first row
    same = torch.ones(n, dtype=torch.bool)
    for v in features.values():
        w = v.index_select(0, order)
        same &= (w == v.index_select(0, first)).reshape(n, -1).all(dim=1)
    if not bool((same & ~starts).any()):
        return dict(features), None  # nothing to share
    own = starts | ~same  # sorted rows embedded for themselves: group starts and rows that differ
    rep_sorted = torch.cumsum(own.long(), 0) - 1  # place of each sorted row's own vector, if own
    group_start = starts.nonzero(as_tuple=True)[0][torch.cumsum(starts.long(), 0) - 1]  # per sorted row
    place_sorted = torch.where(own, rep_sorted, rep_sorted[group_start])
    row_of = torch.empty(n, dtype=torch.long)
    row_of[order] = place_sorted
    reps = order[own]
    return {k: v.index_select(0, reps) for k, v in features.items()}, row_of


def _embed(towers: _Towers, features: Mapping[str, Tensor], n: int, chunk: int = 65536) -> Tensor:
    """``(n, d)`` query vectors, embedded ``chunk`` rows at a time."""
    return torch.cat([towers.query_embedding({k: v[i : i + chunk] for k, v in features.items()})
                      for i in range(0, n, chunk)])


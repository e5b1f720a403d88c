"""Metrics: full-catalogue top-K retrieval metrics (bounded memory)."""

from recstack.metrics.exclusion import ExclusionLists, build_exclusion, drop_group_items, select_rows
from recstack.metrics.ranking import EXCLUDE_ENTRIES, RANK_CHUNK, PositiveRanker, RankedRows
from recstack.metrics.topk import (TIES, TOPK_METRICS, parse_metric_name, positive_ranks, ranks_and_ties, tied_share,
                                   topk_metrics)

__all__ = ["EXCLUDE_ENTRIES", "RANK_CHUNK", "TIES", "TOPK_METRICS", "ExclusionLists", "PositiveRanker", "RankedRows",
           "build_exclusion", "drop_group_items", "parse_metric_name", "positive_ranks", "ranks_and_ties",
           "select_rows", "tied_share", "topk_metrics"]

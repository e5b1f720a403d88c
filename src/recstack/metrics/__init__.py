"""Metrics: full-catalogue top-K retrieval metrics (bounded memory)."""

from recstack.metrics.exclusion import ExclusionLists, build_exclusion, drop_group_items, select_rows
from recstack.metrics.topk import TIES, TOPK_METRICS, parse_metric_name, positive_ranks, tied_share, topk_metrics

__all__ = ["TIES", "TOPK_METRICS", "ExclusionLists", "build_exclusion", "drop_group_items", "parse_metric_name",
           "positive_ranks", "select_rows", "tied_share", "topk_metrics"]

"""Metrics: full-catalogue top-K retrieval metrics (bounded memory)."""

from recstack.metrics.topk import TOPK_METRICS, build_exclusion, parse_metric_name, positive_ranks, topk_metrics

__all__ = ["TOPK_METRICS", "build_exclusion", "parse_metric_name", "positive_ranks", "topk_metrics"]

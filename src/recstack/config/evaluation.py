"""The ``eval`` section of the experiment config: full-catalogue metrics and their settings."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from recstack._validation import StrictModel
from recstack.errors import ConfigError
from recstack.metrics import parse_metric_name

__all__ = ["EvalConfig"]


class EvalConfig(StrictModel):
    """Evaluation over the full candidate catalogue.

    Attributes:
        metrics: names like ``hit_rate@100``, ``recall@10``, ``ndcg@10``, ``mrr``.
        exclude_seen: drop each user's training items from their ranking.
        chunk_size: query rows scored at once (bounds memory: chunk x catalogue floats).
        ties: the positive's place among candidates with exactly its score:
            ``optimistic`` (first, as TFRS ``FactorizedTopK``), ``mid`` (the middle: the
            expected position under random tie-breaking) or ``pessimistic`` (last).
        cold_start: how rows of users unseen in training are scored when nothing but their
            ID (and their, empty, history) describes them: ``average`` (the mean query
            vector of the known users, as ``Recommender.recommend`` answers them by default)
            or ``oov`` (through the model with the OOV index and an empty history).
    """

    metrics: list[str] = Field(
        default_factory=lambda: ["hit_rate@10", "hit_rate@50", "hit_rate@100", "recall@10", "ndcg@10", "mrr"]
    )
    exclude_seen: bool = False
    chunk_size: int = Field(default=2048, ge=1)
    ties: Literal["optimistic", "mid", "pessimistic"] = "optimistic"
    cold_start: Literal["average", "oov"] = "average"

    @field_validator("metrics")
    @classmethod
    def _known_metrics(cls, metrics: list[str]) -> list[str]:
        if not metrics:
            raise ValueError("no metric: name at least one, e.g. [hit_rate@10, hit_rate@100, ndcg@10]")
        for m in metrics:  # a field validator, so the error names eval.metrics
            try:
                parse_metric_name(m)
            except ConfigError as err:
                raise ValueError(str(err)) from None
        return metrics


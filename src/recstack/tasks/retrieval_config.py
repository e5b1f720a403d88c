"""Settings of the retrieval task (config section ``task``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from recstack._validation import StrictModel

__all__ = ["RetrievalTaskConfig"]


class RetrievalTaskConfig(StrictModel):
    """Settings of :class:`RetrievalTask` (config section ``task``)."""

    kind: Literal["retrieval"] = "retrieval"
    candidates: Literal["in_batch", "catalogue"] = "in_batch"
    temperature: float = Field(default=1.0, gt=0)
    remove_accidental_hits: bool = True
    logq_correction: bool = False
    num_negatives: int = Field(default=0, ge=0)
    negative_sampling: Literal["uniform", "popularity"] = "uniform"

    @model_validator(mode="after")
    def _catalogue_samples_nothing(self) -> RetrievalTaskConfig:
        if self.candidates == "catalogue":
            if self.logq_correction:
                raise ValueError(
                    "logq_correction corrects the bias of sampled candidates; candidates: catalogue scores "
                    "every item, so set logq_correction: false"
                )
            if self.num_negatives:
                raise ValueError(
                    "num_negatives adds sampled candidates; candidates: catalogue already scores every "
                    "item, so set num_negatives: 0"
                )
        return self

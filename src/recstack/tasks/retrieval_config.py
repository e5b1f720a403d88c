"""Settings of the retrieval task (config section ``task``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from recstack._validation import StrictModel, key_error

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
                raise key_error(
                    "logq_correction", "corrects the bias of sampled candidates; candidates: catalogue samples "
                    "none (it scores every item): set logq_correction: false, or candidates: in_batch", True,
                )
            if self.num_negatives:
                raise key_error(
                    "num_negatives", "adds sampled candidates; candidates: catalogue already scores every item: "
                    "set num_negatives: 0, or candidates: in_batch", self.num_negatives,
                )
        return self

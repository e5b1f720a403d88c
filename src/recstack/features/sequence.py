"""Ordered variable-length sequences of class labels (histories of past choices)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from recstack._validation import key_errors
from recstack.features.base import FeatureSpec, Int

__all__ = ["SequenceFeature"]


class SequenceFeature(FeatureSpec):
    """A list of class labels per row, oldest first, padded to ``max_length`` with a mask.

    Attributes:
        source: name of a categorical feature whose vocabulary (and embedding table) this
            sequence shares, e.g. a watch history of ``item_id``. ``None``: own vocabulary.
        separator: delimiter for string values, whose labels are stripped and empty ones
            dropped; list elements are taken exactly as given (``" a"`` and ``""`` are labels;
            only missing elements are dropped).
        max_length: longest sequence kept.
        keep: which end survives truncation: ``"last"`` (most recent) or ``"first"``.
        encoder: how the model turns the sequence into one vector.
        min_count / max_size / num_oov: vocabulary settings when there is no ``source``
            (with ``source`` they are the source's: setting them here is an error).
    """

    type: Literal["sequence"] = "sequence"
    source: str | None = None
    separator: str | None = Field(default=None, min_length=1)
    max_length: Int = Field(default=50, ge=1)
    keep: Literal["last", "first"] = "last"
    encoder: Literal["mean", "sum", "sqrtn", "max"] = "mean"
    min_count: Int = Field(default=1, ge=1)
    max_size: Int | None = Field(default=None, ge=1)
    num_oov: Int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _source_owns_the_vocabulary(self) -> SequenceFeature:
        # one error per key to change (features.hist.min_count), each with the fix
        if self.source is None:
            return self
        src = self.source
        given = [(k, v) for k, v, default in (("min_count", self.min_count, 1), ("max_size", self.max_size, None),
                                              ("num_oov", self.num_oov, 1)) if v != default]
        if given:
            raise key_errors([(k, f"has no effect with source: {src} (the sequence uses {src}'s "
                               f"vocabulary); set it on the feature {src!r}, or remove source to learn a vocabulary "
                               "of its own", v) for k, v in given])
        return self

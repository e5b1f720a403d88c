"""Numeric columns: fill, optional log1p, standardization, bucketization."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, Strict, field_validator, model_validator

from recstack._validation import key_error
from recstack.features.base import FeatureSpec, Int, Real, number_setting

__all__ = ["FILL_STATISTICS", "MAX_QUANTILE_BUCKETS", "FillProblem", "NumericFeature", "numeric_fill_problem"]

MAX_QUANTILE_BUCKETS = 100_000
"""Upper bound of ``buckets``: finer quantiles than this only add rows to the bucket table."""
FILL_STATISTICS: tuple[str, ...] = ("mean", "median")
"""``fill`` values learned from the training values instead of given."""

FillProblem = Literal["not a number", "not finite", "log1p"]


def numeric_fill_problem(value: Any, *, log: bool) -> FillProblem | None:
    """Which rule ``value`` breaks as the fill of a numeric column's missing values, or ``None``.

    The one statement of the rules, for a feature's ``fill``, ``data.defaults`` of a column a
    numeric feature reads, and ``NumericTransformer(fill=)``: a real number (not a boolean:
    ``true`` is no 1.0; not text), finite, and > -1 where ``log`` applies ``log1p`` to it.
    Each caller words the error for its setting.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        return "not a number"
    if not math.isfinite(value):
        return "not finite"
    if log and value <= -1:
        return "log1p"
    return None


class NumericFeature(FeatureSpec):
    """A real-valued column, usable as a value and/or as a bucket embedding.

    Processing order: fill missing -> ``log1p`` (if ``log``) -> bucketize (on the logged
    value) and standardize (mean/std fitted on training data).

    Attributes:
        fill: value for missing entries: a finite number, ``"mean"`` or ``"median"`` (fitted on
            training data); ``None`` makes a missing value an error naming the row.
        log: apply ``log1p`` (values, and a numeric ``fill``, must be > -1).
        normalize: standardize to zero mean, unit variance.
        buckets: number of quantile buckets (like Keras ``Discretization(num_bins=...)``),
            at most ``MAX_QUANTILE_BUCKETS`` (100,000); fitting keeps one boundary between two
            neighbouring training values, so few distinct values give few buckets.
        boundaries: explicit increasing finite bucket boundaries (``len + 1`` buckets).
        as_value: feed the (normalized) value to the model.
    """

    type: Literal["numeric"] = "numeric"
    fill: Annotated[float, Strict()] | Literal["mean", "median"] | None = None  # FILL_STATISTICS
    log: bool = False
    normalize: bool = False
    buckets: Int | None = Field(default=None, ge=2, le=MAX_QUANTILE_BUCKETS)
    boundaries: list[Real] | None = None
    as_value: bool = True

    @field_validator("fill", mode="before")
    @classmethod
    def _no_bool_fill(cls, v: Any) -> Any:
        return v if isinstance(v, str) else number_setting(v)  # fill: true is not 1.0

    @field_validator("fill")
    @classmethod
    def _finite_fill(cls, v: float | str | None) -> float | str | None:
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueError("fill must be a finite number, 'mean' or 'median'; leave it out to make "
                             "a missing value an error")
        return v

    @field_validator("boundaries")
    @classmethod
    def _finite_boundaries(cls, v: list[float] | None) -> list[float] | None:
        if v is not None and not all(math.isfinite(b) for b in v):
            raise ValueError("boundaries must be finite numbers; values below the first boundary already "
                             "fall in the lowest bucket and values above the last in the highest, so drop -inf/inf")
        return v

    @model_validator(mode="after")
    def _check(self) -> NumericFeature:
        # errors name the key to change (features.age.boundaries), not the feature, and the fix
        if self.buckets is not None and self.boundaries is not None:
            raise key_error("boundaries", f"give either buckets (quantiles, here {self.buckets}) or boundaries, "
                            "not both; remove boundaries, or remove buckets", self.boundaries)
        if self.boundaries is not None:
            b = self.boundaries
            if not b or any(x >= y for x, y in zip(b, b[1:])):
                raise key_error("boundaries", "must be a non-empty strictly increasing list (e.g. [18, 30, 50]); "
                                "sort them and drop repeats", b)
        if not isinstance(self.fill, (str, type(None))) and numeric_fill_problem(self.fill, log=self.log) == "log1p":
            raise key_error("fill", f"must be > -1 with log: true (log1p of {self.fill} is undefined); give a "
                            "fill above -1 (e.g. 0), or remove log: true", self.fill)
        if not self.as_value and not self.bucketized:
            raise key_error("as_value", "false needs buckets or boundaries, else the feature feeds nothing; set "
                            "buckets (e.g. 10) or boundaries, or remove as_value: false", self.as_value)
        return self

    @property
    def bucketized(self) -> bool:
        return self.buckets is not None or self.boundaries is not None

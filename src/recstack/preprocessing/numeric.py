"""Numeric columns: fill missing -> log1p -> bucketize and/or standardize."""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd

from recstack.errors import ArtifactError, ConfigError, MissingValueError, SchemaError
from recstack.features.numeric import FILL_STATISTICS, numeric_fill_problem
from recstack.preprocessing._cells import _short, as_series, first_row, such_rows
from recstack.preprocessing._fitted import check_is_fitted, check_state
from recstack.preprocessing.discretizer import Discretizer

__all__ = ["NumericTransformer", "NumericOutput", "to_float"]

Fill = float | Literal["mean", "median"] | None

_TIME_TYPES = (datetime.date, datetime.time, datetime.timedelta, np.datetime64, np.timedelta64, pd.Period)
_TIME_FIX = (
    "a numeric feature needs numbers, and a time's number depends on its unit (s, ms, us, ns); "
    "convert the column to seconds first, e.g. seconds since the epoch: "
    "(df[{c!r}] - pd.Timestamp(0, tz=df[{c!r}].dt.tz)).dt.total_seconds(); a duration: "
    "df[{c!r}].dt.total_seconds()"
)


_COMPLEX_FIX = ("a numeric feature needs real numbers, and the imaginary part would be dropped; "
                "take the part you need, e.g. df[{c!r}] = np.real(df[{c!r}]) or df[{c!r}].map(abs)")


class NumericOutput(NamedTuple):
    """What :meth:`NumericTransformer.transform` returns for ``n`` rows.

    Attributes:
        value: ``(n,)`` float32, the filled, logged and (if ``normalize``) standardized value.
        bucket: ``(n,)`` int64 bucket IDs ``1..num_buckets_`` (0 stays padding), or ``None``
            when the transformer does not bucketize.
    """

    value: np.ndarray
    bucket: np.ndarray | None


def to_float(values: Any, *, column: str = "values") -> np.ndarray:
    """A column as ``(n,)`` float64 with NaN for missing entries.

    Raises:
        SchemaError: a present cell is not a number (names the column, row and value), or the
            column holds dates, times or durations (their number depends on the time unit).
    """
    s = as_series(values)
    if getattr(s.dtype, "kind", None) in ("M", "m") or isinstance(s.dtype, pd.PeriodDtype):
        raise SchemaError(f"column {column!r} holds {s.dtype} values; {_TIME_FIX.format(c=column)}", column=column)
    if getattr(s.dtype, "kind", None) == "c":
        raise SchemaError(f"column {column!r} holds complex numbers ({s.dtype}); {_COMPLEX_FIX.format(c=column)}",
                          column=column)
    if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
        return s.to_numpy(dtype=np.float64, na_value=np.nan)
    num = pd.to_numeric(s, errors="coerce")
    if num.dtype.kind == "c":  # complex cells in an object column
        cplx = s.map(lambda v: isinstance(v, (complex, np.complexfloating))).to_numpy(dtype=bool)
        row = first_row(cplx)
        raise SchemaError(f"column {column!r}: row {row} holds {_short(s.iloc[row])}, a complex number; "
                          f"{_COMPLEX_FIX.format(c=column)}", column=column, rows=np.flatnonzero(cplx))
    bad = num.isna().to_numpy(dtype=bool) & s.notna().to_numpy(dtype=bool)
    if bad.any():
        row = first_row(bad)
        if isinstance(s.iloc[row], _TIME_TYPES):
            raise SchemaError(
                f"column {column!r}: row {row} holds {_short(s.iloc[row])}; {_TIME_FIX.format(c=column)}",
                column=column, rows=np.flatnonzero(bad),
            )
        raise SchemaError(
            f"column {column!r}: row {row} holds {_short(s.iloc[row])}, which is not a number "
            f"({such_rows(bad)}); a numeric feature needs numbers: clean the column, "
            "or declare it type: categorical", column=column, rows=np.flatnonzero(bad),
        )
    return num.to_numpy(dtype=np.float64, na_value=np.nan)


class NumericTransformer:
    """Fill, ``log1p``, bucketize and standardize one numeric column (fitted on training data).

    Order: fill missing -> ``log1p`` (if ``log``) -> bucketize the logged value, and
    standardize it (mean/std fitted on the filled, logged training values; std 0 -> 1).

    Args:
        fill: a number, ``"mean"`` or ``"median"`` (of the training values), or ``None``:
            a missing value is then an error naming the row.
        log: apply ``log1p``; values must be > -1.
        normalize: standardize to zero mean, unit variance (population std).
        buckets: number of quantile buckets (see :class:`Discretizer`), or
        boundaries: explicit increasing bucket boundaries (on the logged scale if ``log``).

    Fitted attributes:
        fill_value_ (float | None), mean_ / std_ (float | None), discretizer_ (Discretizer | None),
        min_ / max_ (float | None): the smallest and largest finite training value as given (before
        fill and log; ``None`` when none, or for a state saved before they were kept).

    Example:
        >>> t = NumericTransformer(fill=0.0, normalize=True).fit([1.0, 3.0])
        >>> t.transform([1.0, None]).value.tolist()
        [-1.0, -2.0]
    """

    def __init__(
        self,
        *,
        fill: Fill = None,
        log: bool = False,
        normalize: bool = False,
        buckets: int | None = None,
        boundaries: Sequence[float] | None = None,
    ) -> None:
        self.fill = fill
        self.log = log
        self.normalize = normalize
        self.buckets = buckets
        self.boundaries = boundaries

    @property
    def bucketized(self) -> bool:
        return self.buckets is not None or self.boundaries is not None

    def fit(self, values: Any, *, column: str = "values") -> NumericTransformer:
        """Learns fill value, bucket boundaries and mean/std from a training column ``(n,)``."""
        problem = None if self.fill is None or self.fill in FILL_STATISTICS else numeric_fill_problem(
            self.fill, log=self.log)
        if problem in ("not a number", "not finite"):
            raise ConfigError(f"fill: expected a finite number, 'mean', 'median' or None, got {self.fill!r}")
        if problem == "log1p":
            raise ConfigError(f"fill: {self.fill!r} with log=True: log1p needs values > -1; give a fill above -1 "
                              "(e.g. 0), or log=False")
        x = to_float(values, column=column)
        if self.normalize or self.fill in FILL_STATISTICS:
            inf = np.isinf(x)
            if inf.any():  # a mean or std with inf in it turns every output into inf or nan
                row = int(np.flatnonzero(inf)[0])
                raise SchemaError(
                    f"column {column!r}: row {row} is {x[row]}, so its mean/std cannot be learned; "
                    "drop or clip infinite values, or turn them into missing values first",
                    column=column, rows=np.flatnonzero(inf),
                )
        fill_value = self._fit_fill(x, column)
        finite = x[np.isfinite(x)]
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (None, None)
        x = self._fill_and_log(x, fill_value, column)
        discretizer = None
        if self.bucketized:
            discretizer = Discretizer(self.boundaries, self.buckets).fit(x, column=column)
        mean = std = None
        if self.normalize:
            mean, std = float(np.mean(x)), float(np.std(x))
            std = std if std > 0 and np.isfinite(std) else 1.0
        self.fill_value_, self.mean_, self.std_, self.discretizer_ = fill_value, mean, std, discretizer
        self.min_, self.max_ = low, high
        return self

    def far_outside(self, values: Any, *, column: str = "values") -> np.ndarray:
        """``(n,)`` bool: values (as given, before fill and log) far outside the training range:
        above ``max_ + (max_ - min_)`` or below ``min_ - (max_ - min_)`` (a span of 0 counts as
        1). Values a little outside (a test split's later times) are not; all False when the
        range is unknown (a state saved before it was kept)."""
        check_is_fitted(self, "fill_value_")
        x = to_float(values, column=column)
        low, high = getattr(self, "min_", None), getattr(self, "max_", None)
        if low is None or high is None:
            return np.zeros(len(x), dtype=bool)
        span = (high - low) or 1.0
        with np.errstate(invalid="ignore"):
            return (x > high + span) | (x < low - span)

    def _fit_fill(self, x: np.ndarray, column: str) -> float | None:
        if self.fill is None:
            return None
        if not isinstance(self.fill, str):
            return float(self.fill)
        present = x[~np.isnan(x)]
        if present.size == 0:
            raise SchemaError(
                f"column {column!r}: every value is missing, so fill: {self.fill} cannot be computed; "
                "set fill to a number or data.defaults for the column", column=column, rows=np.arange(len(x)),
            )
        return float(np.mean(present) if self.fill == "mean" else np.median(present))

    def _fill_and_log(self, x: np.ndarray, fill_value: float | None, column: str) -> np.ndarray:
        nan = np.isnan(x)
        if nan.any():
            if fill_value is None:
                raise MissingValueError(
                    f"column {column!r}: row {first_row(nan)} is missing (NaN/None; {such_rows(nan)}) "
                    f"and the feature has no fill; set fill: <number>|mean|median on the "
                    f"feature, or data.defaults: {{{column}: <value>}}", column=column, rows=np.flatnonzero(nan),
                )
            x = np.where(nan, fill_value, x)
        if self.log:
            bad = x <= -1
            if bad.any():
                row = first_row(bad)
                raise SchemaError(
                    f"column {column!r}: row {row} holds {float(x[row])!r}; log1p needs values > -1; "
                    "remove log: true, or shift/clip the column", column=column, rows=np.flatnonzero(bad),
                )
            x = np.log1p(x)
        return x

    @property
    def num_buckets_(self) -> int:
        """Bucket IDs are ``1..num_buckets_``; the embedding table has ``num_buckets_ + 1`` rows."""
        check_is_fitted(self, "fill_value_")
        if self.discretizer_ is None:
            raise ConfigError("this NumericTransformer has no buckets; set buckets or boundaries")
        return self.discretizer_.num_bins_

    def transform(self, values: Any, *, column: str = "values") -> NumericOutput:
        """A column ``(n,)`` -> :class:`NumericOutput` (value float32, bucket int64 or None)."""
        check_is_fitted(self, "fill_value_")
        x = self._fill_and_log(to_float(values, column=column), self.fill_value_, column)
        bucket = None
        if self.discretizer_ is not None:
            bucket = self.discretizer_.transform(x) + 1
        if self.mean_ is not None and self.std_ is not None:
            x = (x - self.mean_) / self.std_
        with np.errstate(over="ignore"):  # an overflow becomes inf, which the feature layer reports
            value = x.astype(np.float32)
        return NumericOutput(value, bucket)

    def get_state(self) -> dict[str, Any]:
        check_is_fitted(self, "fill_value_")
        return {
            "class": "NumericTransformer",
            "fill": self.fill if self.fill is None or isinstance(self.fill, str) else float(self.fill),
            "log": bool(self.log),
            "normalize": bool(self.normalize),
            "buckets": None if self.buckets is None else int(self.buckets),
            "boundaries": None if self.boundaries is None else [float(b) for b in self.boundaries],
            "fill_value": self.fill_value_,
            "mean": self.mean_,
            "std": self.std_,
            "discretizer": None if self.discretizer_ is None else self.discretizer_.get_state(),
            "min": getattr(self, "min_", None),
            "max": getattr(self, "max_", None),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> NumericTransformer:
        keys = ["fill", "log", "normalize", "buckets", "boundaries", "fill_value", "mean", "std", "discretizer"]
        check_state(state, cls, keys)
        t = cls(
            fill=state["fill"],
            log=bool(state["log"]),
            normalize=bool(state["normalize"]),
            buckets=state["buckets"],
            boundaries=state["boundaries"],
        )
        if t.bucketized != (state["discretizer"] is not None):
            raise ArtifactError("NumericTransformer state: 'discretizer' does not match buckets/boundaries")
        t.fill_value_ = state["fill_value"]
        t.mean_, t.std_ = state["mean"], state["std"]
        t.discretizer_ = None if state["discretizer"] is None else Discretizer.from_state(state["discretizer"])
        t.min_, t.max_ = _bound(state.get("min")), _bound(state.get("max"))  # absent in older states
        return t

    def __repr__(self) -> str:
        return (
            f"NumericTransformer(fill={self.fill!r}, log={self.log}, normalize={self.normalize}, "
            f"buckets={self.buckets!r}, boundaries={self.boundaries!r})"
        )


def _bound(value: Any) -> float | None:
    """A stored training minimum or maximum: a finite number, else ``None`` (no range check)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None

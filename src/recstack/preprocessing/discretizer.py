"""Bucketization of numbers by explicit or quantile boundaries (like Keras ``Discretization``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from recstack.errors import ArtifactError, ConfigError, SchemaError
from recstack.features.numeric import MAX_QUANTILE_BUCKETS
from recstack.preprocessing._fitted import check_is_fitted, check_state

__all__ = ["Discretizer"]


class Discretizer:
    """Maps numbers to bucket numbers ``0..num_bins_-1`` with ``searchsorted(b, x, "right")``.

    Bucket ``i`` holds ``b[i-1] <= x < b[i]``; values below ``b[0]`` go to bucket 0 and values
    ``>= b[-1]`` to the last bucket, as in Keras ``Discretization``.

    Args:
        boundaries: explicit strictly increasing boundaries (``len + 1`` buckets), or
        num_bins: fit ``num_bins - 1`` boundaries at the training quantiles
            ``1/num_bins, ..., (num_bins-1)/num_bins`` (``np.quantile``, linear), at most
            ``MAX_QUANTILE_BUCKETS``. Of several boundaries between the same two neighbouring
            distinct training values only the first is kept (the others would only make
            buckets no training value falls in), so the bucket count follows the data: a
            heavily tied column, or one with few distinct values, gets fewer buckets.

    Fitted attributes:
        boundaries_: ``(num_bins_ - 1,)`` float64.

    Example:
        >>> Discretizer(boundaries=[0.0, 1.0]).fit().transform([-1.0, 0.0, 0.5, 1.0]).tolist()
        [0, 1, 1, 2]
    """

    def __init__(self, boundaries: Sequence[float] | None = None, num_bins: int | None = None) -> None:
        self.boundaries = boundaries
        self.num_bins = num_bins

    def _check_settings(self) -> None:
        if (self.boundaries is None) == (self.num_bins is None):
            raise ConfigError("Discretizer: give exactly one of boundaries or num_bins")
        if self.num_bins is not None and (
            isinstance(self.num_bins, bool) or not 2 <= int(self.num_bins) <= MAX_QUANTILE_BUCKETS
        ):
            raise ConfigError(
                f"Discretizer.num_bins: expected an integer from 2 to {MAX_QUANTILE_BUCKETS}, got {self.num_bins!r}"
            )
        if self.boundaries is not None:
            b = np.asarray(self.boundaries, dtype=np.float64)
            if b.ndim != 1 or b.size == 0 or np.any(np.diff(b) <= 0) or not np.isfinite(b).all():
                raise ConfigError(
                    f"Discretizer.boundaries: expected a non-empty strictly increasing list of "
                    f"finite numbers, got {list(self.boundaries)!r}"
                )

    def fit(self, values: Any = None, *, column: str = "values") -> Discretizer:
        """Learns quantile boundaries from ``values`` ``(n,)`` float (ignored for explicit ones)."""
        self._check_settings()
        if self.boundaries is not None:
            self.boundaries_ = np.asarray(self.boundaries, dtype=np.float64)
            return self
        x = np.asarray(values, dtype=np.float64).reshape(-1)
        x = x[np.isfinite(x)]
        if x.size == 0:
            raise SchemaError(f"column {column!r}: no finite values to fit {self.num_bins} quantile buckets on")
        assert self.num_bins is not None  # exactly one of boundaries/num_bins (_check_settings)
        qs = np.linspace(0.0, 1.0, int(self.num_bins) + 1)[1:-1]
        b = np.unique(np.quantile(x, qs))
        lowest = x.min()
        if b.size and b[0] == lowest:  # nothing lies below the minimum: split the tied minimum off instead
            b[0] = np.nextafter(lowest, np.inf)
            b = np.unique(b)
        # a boundary with no training value between it and the previous one only adds an empty bucket
        between = np.bincount(np.searchsorted(b, x, side="right"), minlength=b.size + 1)[1:-1]
        self.boundaries_ = b[np.r_[True, between > 0]] if b.size else b
        return self

    @property
    def num_bins_(self) -> int:
        """Number of buckets after fitting: ``len(boundaries_) + 1``."""
        check_is_fitted(self, "boundaries_")
        return len(self.boundaries_) + 1

    def transform(self, values: Any) -> np.ndarray:
        """Numbers ``(n,)`` -> bucket numbers ``(n,)`` int64 in ``0..num_bins_-1``."""
        check_is_fitted(self, "boundaries_")
        x = np.asarray(values, dtype=np.float64)
        return np.searchsorted(self.boundaries_, x, side="right").astype(np.int64)

    def get_state(self) -> dict[str, Any]:
        check_is_fitted(self, "boundaries_")
        return {
            "class": "Discretizer",
            "boundaries": None if self.boundaries is None else [float(b) for b in self.boundaries],
            "num_bins": None if self.num_bins is None else int(self.num_bins),
            "fitted_boundaries": self.boundaries_.tolist(),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Discretizer:
        check_state(state, cls, ["boundaries", "num_bins", "fitted_boundaries"])
        disc = cls(state["boundaries"], state["num_bins"])
        try:
            disc._check_settings()
        except ConfigError as err:
            raise ArtifactError(f"Discretizer state: {err}") from None
        disc.boundaries_ = np.asarray(state["fitted_boundaries"], dtype=np.float64).reshape(-1)
        return disc

    def __repr__(self) -> str:
        return f"Discretizer(boundaries={self.boundaries!r}, num_bins={self.num_bins!r})"

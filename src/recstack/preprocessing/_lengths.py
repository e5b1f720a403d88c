"""The row width ``L`` of a padded ``(n, L)`` feature whose ``max_length`` is unset."""

from __future__ import annotations

import logging
import math

import numpy as np

__all__ = ["fitted_width", "LONG_ROW", "LONG_ROW_RATIO"]

log = logging.getLogger("recstack.preprocessing")

LONG_ROW = 64
"""A longest training row above this many entries and ..."""
LONG_ROW_RATIO = 4.0
"""... more than this many times the 99th percentile of row lengths is warned about."""


def fitted_width(lengths: np.ndarray, max_length: int | None, *, feature: str, unit: str = "entries") -> int:
    """``max_length``, or the longest training row (at least 1) when it is ``None``.

    One outlier row then sets the width of every batch (``(n, L)`` int64: a 3,000-token
    description among two-word titles makes ``L = 3000``), so a longest row above
    :data:`LONG_ROW` and :data:`LONG_ROW_RATIO` times the 99th percentile of the non-empty
    rows logs a warning naming the feature and suggesting ``max_length``.

    Args:
        lengths: ``(n,)`` entries per training row.
        max_length: the feature's setting.
        feature: named in the warning.
        unit: what a row holds (``tokens``, ``labels``), for the warning.
    """
    if max_length is not None:
        return int(max_length)
    longest = int(lengths.max(initial=0))
    present = lengths[lengths > 0]
    if longest > LONG_ROW and present.size:
        p99 = float(np.percentile(present, 99))
        if longest > LONG_ROW_RATIO * p99:
            suggest = max(1, math.ceil(p99))
            log.warning(
                "feature %r: max_length is unset, so every row is padded to the longest training row, %d %s, "
                "while 99%% of rows have at most %d (each batch is (rows, %d) int64, and longer rows at serving "
                "are cut to %d); set max_length on the feature, e.g. max_length: %d",
                feature, longest, unit, suggest, longest, longest, suggest,
            )
    return max(longest, 1)

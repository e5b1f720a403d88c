"""Warnings about request values a saved model was not trained on: numeric values far outside a
feature's training range (a wrong unit), checked once per call on the whole request."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from recstack.errors import RecstackError
from recstack.preprocessing import NumericTransformer, Preprocessor

__all__ = ["warn_far_values"]

logger = logging.getLogger("recstack.artifacts.recommender")  # the Recommender's messages


def warn_far_values(table: pd.DataFrame, preprocessor: Preprocessor, features: Sequence[str],
                    what: str = "request rows") -> None:
    """One warning per numeric feature of ``features`` whose column in ``table`` holds values far
    outside the training range (:meth:`NumericTransformer.far_outside`): the feature, column,
    count, range and the likely cause. Features fitted before ranges were kept, columns the
    table lacks and cells that are not numbers (the transform reports those) are passed over."""
    transformers = getattr(preprocessor, "transformers_", {})
    for name in features:
        t = getattr(transformers.get(name), "transformer", None)
        spec = preprocessor.schema[name]
        if not isinstance(t, NumericTransformer) or spec.source_column not in table.columns:
            continue
        col = spec.source_column
        try:
            far = t.far_outside(table[col], column=col)
        except RecstackError:
            continue
        count = int(far.sum())
        if count:
            first = _number(float(table[col].iloc[int(np.flatnonzero(far)[0])]))
            logger.warning(
                "%s: feature %r (column %r): %d of %d values lie far outside its training range [%s, %s] (beyond "
                "max + (max - min) or below min - (max - min)), e.g. %s: is the unit or scale wrong (milliseconds "
                "for seconds)? The model never saw such values; its scores for them mean little",
                what, name, col, count, len(table), _number(t.min_), _number(t.max_), first)


def _number(value: float | None) -> str:
    """A value as a message writes it: ``893286638`` (not ``8.93287e+08``), ``0.5``."""
    if value is None:
        return "?"
    return f"{value:.0f}" if value.is_integer() and abs(value) < 1e18 else f"{value:g}"

"""Request context (a query column that differs between a user's training rows, or a feature
declared ``context: true``) left out of a request: the model answers with a stand-in, a known
user's latest training row's value or the feature's fill, and says so once per call."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from recstack.artifacts.requests import lacking_rows
from recstack.preprocessing import Preprocessor

__all__ = ["PER_INTERACTION", "context_columns", "warn_context_fill"]

logger = logging.getLogger("recstack.artifacts.recommender")  # the Recommender's messages

PER_INTERACTION = "per_interaction"
"""Key of the stored query rows' ``attrs`` (and of their saved form): the query columns whose
values differed between a user's training rows, so a stored row's value is their latest one."""


def context_columns(known: pd.DataFrame | None, preprocessor: Preprocessor, features: Sequence[str]) -> list[str]:
    """The query columns a request should give itself: the stored rows' per-interaction columns
    (none for models saved before they were recorded) and those of features declared ``context``."""
    schema = preprocessor.schema
    recorded = [] if known is None else list(known.attrs.get(PER_INTERACTION, []))
    declared = [c for f in features if getattr(schema[f], "context", False) for c in schema[f].source_columns]
    read = set(schema.columns_of(features))
    return [c for c in dict.fromkeys(recorded + declared) if c in read]


def warn_context_fill(before: dict[str, np.ndarray], completed: pd.DataFrame, known: np.ndarray, cold: np.ndarray,
                      preprocessor: Preprocessor) -> None:
    """One warning per context column that rows of the request lacked (``before``: column ->
    rows lacking it as given), other than cold rows: how many were filled from their user's
    latest training row (with an example value) and how many took the default or the fill."""
    schema = preprocessor.schema
    for col, miss in before.items():
        miss = miss & ~cold
        if not miss.any():
            continue
        stored = miss & (known >= 0) & ~lacking_rows(completed, [col])
        rest = int((miss & ~stored).sum())
        feats = [f for f in schema if col in f.source_columns]
        declared = [f.name for f in feats if getattr(f, "context", False)]
        # a declared column may be one a users table holds per user: its stored row is not a training row
        row = "stored row" if declared else "latest training row"
        why = (f"declared features.{declared[0]}.context: true" if declared else
               "its value differed between a user's training rows")
        parts = []
        if stored.any():
            example = completed[col].iloc[int(np.flatnonzero(stored)[0])]
            parts.append(f"{int(stored.sum())} from their user's {row} (e.g. {example!r})")
        if rest:
            parts.append(f"{rest} with {_fill_of(col, preprocessor)}")
        logger.warning(
            "query rows: %d of %d rows lack column %r (feature %s), which is request context (%s): filled %s. The "
            "model was trained on each row's own value: pass the request's own %s", int(miss.sum()), len(completed),
            col, ", ".join(repr(f.name) for f in feats), why, " and ".join(parts), col)


def _fill_of(column: str, preprocessor: Preprocessor) -> str:
    """What fills a missing cell of ``column``: its ``data.defaults`` value, else a numeric
    feature's fitted fill, else the OOV row."""
    schema = preprocessor.schema
    if column in schema.defaults:
        return f"data.defaults {schema.defaults[column]!r}"
    for f in schema:
        t = getattr(getattr(preprocessor, "transformers_", {}).get(f.name), "transformer", None)
        if column in f.source_columns and getattr(t, "fill_value_", None) is not None:
            return f"the feature's fill {t.fill_value_!r}"  # type: ignore[union-attr]
    return "the feature's fill or OOV row"

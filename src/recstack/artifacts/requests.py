"""Raw requests to a :class:`~recstack.artifacts.recommender.Recommender` as tables, and its
answers as frames: IDs kept exactly as given (no float detour, no character iteration)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from recstack.errors import ConfigError
from recstack.features import Schema
from recstack.preprocessing._cells import text_safe_series
from recstack.preprocessing.ragged import split_ragged

__all__ = ["frame", "id_list", "rows_table", "split_history", "undescribed_rows"]


def frame(columns: Mapping[str, Any]) -> pd.DataFrame:
    """A frame of raw ID (and other) columns; strings Arrow cannot encode (a lone surrogate
    from a JSON escape such as ``"\\udce9"``) keep object columns instead of failing."""
    return pd.DataFrame({k: text_safe_series(v) for k, v in columns.items()})


def id_list(values: Any, what: str) -> list[Any]:
    """One raw ID, or an iterable of them, as a list (a string is one ID, not its characters)."""
    if isinstance(values, (str, bytes, int, float, np.integer, np.floating)):
        return [values]
    try:
        return list(values)
    except TypeError:
        raise ConfigError(f"{what} must be an ID or a list of IDs, got {type(values).__name__}") from None


def rows_table(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Row dicts as a table of object columns: values stay as given. (``pd.DataFrame`` of
    dicts makes an integer column float when a row lacks it, rounding IDs above 2**53 and
    echoing ``5`` back as ``5.0``.)"""
    columns = dict.fromkeys(c for r in rows for c in r)
    return pd.DataFrame({c: pd.Series([r.get(c) for r in rows], dtype=object) for c in columns},
                        index=pd.RangeIndex(len(rows)))


def split_history(cells: pd.Series, schema: Schema, query_features: Sequence[str], column: str
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Raw items and per-row lengths of history cells (lists, or strings split as the
    feature reading ``column`` splits them)."""
    feats = [f for f in query_features if schema[f].source_column == column]
    separator = getattr(schema[feats[0]], "separator", None) if feats else None
    return split_ragged(cells, separator=separator, column=column)


def undescribed_rows(table: pd.DataFrame, schema: Schema, query_features: Sequence[str], id_column: str,
                     history_column: str | None) -> np.ndarray:
    """``(n,)`` bool: rows whose query columns, other than the ID, say nothing (every cell
    missing; an empty history says nothing either). An unknown user's such row is *cold*.

    The one rule for serving (:meth:`Recommender.recommend`) and for an experiment's
    evaluation, so both score such rows alike.
    """
    given = list(dict.fromkeys(c for f in query_features
                               if (c := schema[f].source_column) != id_column and c in table.columns))
    if not given:
        return np.ones(len(table), dtype=bool)
    empty = np.array(table[given].isna(), dtype=bool)
    if history_column is not None and history_column in given:
        lengths = split_history(table[history_column], schema, query_features, history_column)[1]
        empty[:, given.index(history_column)] = lengths == 0
    return np.asarray(empty.all(axis=1), dtype=bool)

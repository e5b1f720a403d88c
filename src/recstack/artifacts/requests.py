"""Raw requests to a :class:`~recstack.artifacts.recommender.Recommender` as tables, and its
answers as frames: IDs kept exactly as given (no float detour, no character iteration)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from recstack.errors import ConfigError, SchemaError
from recstack.features import Schema
from recstack.metrics import build_exclusion
from recstack.preprocessing import Preprocessor
from recstack.preprocessing._cells import bad_labels, first_row, plain_value, text_safe_series
from recstack.preprocessing.ragged import split_ragged

MAX_RESULT_ROWS = 50_000_000  # rows one recommend()/score() call may return (a frame of ~2-4 GB)

__all__ = ["MAX_RESULT_ROWS", "check_ids", "check_result_size", "frame", "history_exclusion", "id_list", "known_history_lengths", "mapping_rows", "rows_table", "split_history", "undescribed_rows"]


def frame(columns: Mapping[str, Any]) -> pd.DataFrame:
    """A frame of raw ID (and other) columns; strings Arrow cannot encode (a lone surrogate
    from a JSON escape such as ``"\\udce9"``) keep object columns instead of failing."""
    return pd.DataFrame({k: text_safe_series(v) for k, v in columns.items()})


def id_list(values: Any, what: str, *, check: bool = True, column: str | None = None) -> list[Any]:
    """One raw ID, or an iterable of them, as a list (a string is one ID, not its characters).

    ``check=False`` leaves the IDs' types to the caller's lookup, which checks them (once per
    request); ``column``: the raw column the IDs are values of, which a type error names.

    Raises:
        SchemaError: an ID that is not a string, integer, float or boolean (:func:`check_ids`).
    """
    if isinstance(values, (str, bytes, int, float, np.integer, np.floating)):
        out = [values]
    else:
        try:
            out = list(values)
        except TypeError:
            raise ConfigError(f"{what} must be an ID or a list of IDs, got {type(values).__name__}") from None
    if check:
        check_ids(out, what, column)
    return out


def check_ids(ids: list[Any], what: str, column: str | None = None, *, one: bool = False) -> None:
    """Refuses IDs a caller passed as a Python argument (``what``, e.g. ``"ids"``) that are not a
    string, integer, float or boolean (bytes, dates, dicts...), as fitting refuses them: they
    would match nothing, or the wrong ID. The error names the argument and the values' column
    (``ids (the user_id values)``) and the entry, not a table column: the fix is to the value.
    ``one``: the argument takes a single ID (``similar``'s ``item``), so a list gets that fix.

    Raises:
        SchemaError: naming the first such entry, its type and what to do.
    """
    bad = bad_labels(pd.Series(ids, dtype=object))  # fitting's rule of what an ID may be
    if not bad.any():
        return
    i = first_row(bad)
    value = plain_value(ids[i])  # shown as Python writes it; its type as given (np.datetime64: datetime64)
    if isinstance(value, (bytes, bytearray)):
        shown = repr(value)
        fix = f"decode it first, e.g. {shown if len(shown) <= 40 else 'value'}.decode('utf-8')"
    elif isinstance(value, Mapping):
        fix = "pass the ID the dict holds, not the dict"
    elif isinstance(value, (list, tuple, set, frozenset, np.ndarray)):  # one: the argument takes a single ID
        fix = f"pass one ID, e.g. {what}=1" if one else f"pass one ID per entry, e.g. {what}=[1, 2], not lists of IDs"
    else:
        fix = "convert it first, e.g. to a string with str()"
    named = f"{what} (the {column} values)" if column else what
    which = f"entry {i} is {value!r:.60} (type {type(ids[i]).__name__}), not an ID" if len(ids) > 1 else (
        f"{value!r:.60} (type {type(ids[i]).__name__}) is not an ID")
    raise SchemaError(f"{named}: {which}; an ID is a string, integer, float or boolean, as in the training data; {fix}")


def mapping_rows(values: Sequence[Any]) -> np.ndarray:
    """``(n,)`` bool: which entries are row dicts (mappings), not raw IDs: one pass that tells
    rows, IDs and a mix apart, with one ``Mapping`` check per distinct type, not per entry."""
    types = [type(v) for v in values]
    is_row = {t: issubclass(t, Mapping) for t in set(types)}
    return np.fromiter((is_row[t] for t in types), dtype=bool, count=len(types))


def rows_table(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Row dicts as a table of object columns: values stay as given. (``pd.DataFrame`` of
    dicts makes an integer column float when a row lacks it, rounding IDs above 2**53 and
    echoing ``5`` back as ``5.0``.)"""
    columns = dict.fromkeys(c for r in rows for c in r)
    return pd.DataFrame({c: pd.Series([r.get(c) for r in rows], dtype=object) for c in columns},
                        index=pd.RangeIndex(len(rows)))


def history_exclusion(cells: pd.Series, schema: Schema, query_features: Sequence[str],
                      positions: Callable[[Any], np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """CSR (one row per cell) of the catalogue rows of each history cell's items, ``positions``
    giving an item list's rows (``-1`` outside the catalogue, left out): a history given with a
    row is "seen". The one rule of serving (``exclude="seen"``) and the experiment's evaluation,
    so ``recstack evaluate`` reports what training reported."""
    flat, lengths = split_history(cells, schema, query_features, str(cells.name))
    found = positions(flat) if len(flat) else np.empty(0, dtype=np.int64)
    rows = np.repeat(np.arange(len(cells)), lengths)
    return build_exclusion(torch.arange(len(cells)), torch.as_tensor(rows[found >= 0], dtype=torch.long),
                           torch.as_tensor(found[found >= 0], dtype=torch.long))


def split_history(cells: pd.Series, schema: Schema, query_features: Sequence[str], column: str
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Raw items and per-row lengths of history cells (lists, or strings split as the
    feature reading ``column`` splits them)."""
    feats = [f for f in query_features if schema[f].source_column == column]
    separator = getattr(schema[feats[0]], "separator", None) if feats else None
    return split_ragged(cells, separator=separator, column=column)


def undescribed_rows(table: pd.DataFrame, preprocessor: Preprocessor, query_features: Sequence[str],
                     id_column: str, history_column: str | None) -> np.ndarray:
    """``(n,)`` bool: rows whose query columns, other than the ID, say nothing (every cell
    missing; a history with no item the model knows says nothing either: an empty one, or
    one of items unseen in training, which all share the OOV rows). An unknown user's such
    row is *cold*.

    The one rule for serving (:meth:`Recommender.recommend`) and for an experiment's
    evaluation, so both score such rows alike.
    """
    schema = preprocessor.schema
    given = [c for c in schema.columns_of(query_features) if c != id_column and c in table.columns]
    if not given:
        return np.ones(len(table), dtype=bool)
    empty = np.array(table[given].isna(), dtype=bool)
    if history_column is not None and history_column in given:
        empty[:, given.index(history_column)] = known_history_lengths(
            table[history_column], preprocessor, query_features, history_column) == 0
    return np.asarray(empty.all(axis=1), dtype=bool)


def known_history_lengths(cells: pd.Series, preprocessor: Preprocessor, query_features: Sequence[str],
                          column: str) -> np.ndarray:
    """``(n,)`` per history cell, how many of its items the model knows (not OOV); every item
    counts when the history feature hashes (no vocabulary)."""
    flat, lengths = split_history(cells, preprocessor.schema, query_features, column)
    feats = [f for f in query_features if preprocessor.schema[f].source_column == column]
    try:
        vocab = preprocessor.vocabulary(feats[0]) if feats and len(flat) else None
    except ConfigError:  # hashed: no vocabulary, no OOV rows
        vocab = None
    if vocab is None:
        return lengths
    known = vocab.transform(flat, column=column) > vocab.num_oov
    rows = np.repeat(np.arange(len(lengths)), lengths)
    return np.bincount(rows[known], minlength=len(lengths))


def check_result_size(n_queries: int, per_query: int, what: str) -> None:
    """Refuses a request whose answer would exceed ``MAX_RESULT_ROWS`` rows (memory), before any work."""
    if n_queries * per_query > MAX_RESULT_ROWS:
        raise ConfigError(
            f"{n_queries:,} queries x {what} {per_query:,} would return {n_queries * per_query:,} rows, more than "
            f"{MAX_RESULT_ROWS:,} at once; split the queries into batches (e.g. "
            f"{max(MAX_RESULT_ROWS // max(per_query, 1), 1):,} at a time) or lower {what}"
        )


def lacking_rows(table: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """``(n,)`` bool: rows with no value in one of ``columns`` (absent from ``table``, or empty)."""
    lacking = np.zeros(len(table), dtype=bool)
    for c in columns:
        lacking |= table[c].isna().to_numpy(dtype=bool) if c in table.columns else True
    return lacking

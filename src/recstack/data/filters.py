"""Row filters of interaction tables: value conditions per column and the iterative k-core.

Both are vectorized (pandas comparisons, ``isin``, NumPy ``bincount`` over the canonical key
codes of :func:`~recstack.preprocessing.keys.key_codes`): no per-row Python, so a million-row
table is filtered in well under a second. Bounds may be dates: see :func:`row_filter_masks`. The functions
take plain arguments (any object with ``min``/``max``/``in_``/``not_in`` attributes is a
condition), so the data layer knows nothing about configs; ``config_key`` is the config path
errors name (``data.filter``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any, Protocol

import numpy as np
import pandas as pd

from recstack.data._times import time_limit
from recstack.errors import ConfigError, DataError
from recstack.preprocessing.keys import key_codes

__all__ = ["DTYPE_HINT", "Condition", "k_core", "k_core_mask", "keep_rows", "row_filter", "row_filter_masks",
           "unknown_column"]

log = logging.getLogger(__name__)

DTYPE_HINT = "data.train.dtype: {{{column}: float}}"
"""How the errors say to read a column as numbers; ``{column}`` is the column."""


class Condition(Protocol):
    """A column's condition: inclusive bounds (numbers, or dates / datetimes: see
    :func:`row_filter_masks`) and value lists; ``None`` = not set."""

    @property
    def min(self) -> int | float | date | None: ...
    @property
    def max(self) -> int | float | date | None: ...
    @property
    def in_(self) -> Sequence[Any] | None: ...
    @property
    def not_in(self) -> Sequence[Any] | None: ...


def _numeric(values: pd.Series) -> bool:
    """Whether ``min``/``max`` can compare the column (numbers or booleans, not text or dates)."""
    return pd.api.types.is_numeric_dtype(values.dtype)


_INFERRED = {"string": "text", "integer": "number", "floating": "number", "mixed-integer-float": "number",
             "decimal": "number", "boolean": "bool"}


def _column_kind(values: pd.Series) -> str | None:
    """``"bool"``, ``"number"`` or ``"text"`` for a column whose cells are all of that kind
    (missing cells aside), ``None`` for anything else (dates, mixed cells: not checked)."""
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):  # e.g. Parquet written from categoricals: its categories' kind
        return _column_kind(pd.Series(dtype.categories))
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    if pd.api.types.is_string_dtype(dtype) or dtype == object:
        return _INFERRED.get(pd.api.types.infer_dtype(values, skipna=True))  # one C pass over the cells
    return None


_NOUN = {"bool": "a boolean", "number": "a number", "text": "text"}
_CELLS = {"bool": "booleans", "number": "numbers", "text": "text"}


def _check_kinds(key: str, column: str, values: pd.Series, listed: Sequence[Any], where: str,
                 dtype_hint: str | None = None) -> None:
    """A value of ``in``/``not_in`` that cannot equal any cell of the column is a ConfigError
    (``"4"`` on a column of numbers, ``4`` on text, YAML's ``yes``/``on`` read as ``true``):
    otherwise ``in`` would silently keep none of those rows and ``not_in`` drop none."""
    kind = _column_kind(values)
    if kind is None:
        return
    for value in listed:
        got = "bool" if isinstance(value, (bool, np.bool_)) else "text" if isinstance(value, str) else "number"
        if value is None or got == kind or (kind == "bool" and got == "number" and value in (0, 1)):
            continue
        if got == "bool":
            fix = "YAML reads unquoted true/false/yes/no/on/off as booleans: " + (
                "quote the text ('yes')" if kind == "text" else "list numbers")
        elif kind == "number":
            fix = f"write it without quotes ({value})" if _looks_numeric(value) else "list numbers"
        elif kind == "text":
            fix = f"quote it ('{value}'), or read the column as numbers ({(dtype_hint or DTYPE_HINT).format(column=column)})"
        else:
            fix = "write true or false, unquoted"
        shown = str(value).lower() if got == "bool" else repr(value)
        effect = "" if (got, kind) == ("bool", "number") else ", so it matches no row"  # True == 1 in pandas
        raise ConfigError(f"{key}: {shown} is {_NOUN[got]}, but column {column!r} of {where} holds {_CELLS[kind]} "
                          f"({values.dtype}){effect}; {fix}")


def _text_cells(values: pd.Series) -> tuple[int, int] | None:
    """For a text column whose cells are mostly numbers: the first row that is not one and how
    many are not; ``None`` when most cells are not numbers (a column of text)."""
    present = values.notna().to_numpy(dtype=bool)
    numbers = pd.to_numeric(values, errors="coerce").notna().to_numpy(dtype=bool)
    bad = present & ~numbers
    if not bad.any() or numbers.sum() < bad.sum():
        return None
    return int(np.flatnonzero(bad)[0]), int(bad.sum())


def _looks_numeric(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _isin(values: pd.Series, listed: Sequence[Any]) -> np.ndarray:
    """Cells equal to a listed value; ``None`` in the list matches missing cells (NaN, None, NaT)."""
    plain = [v for v in listed if v is not None]
    hit = values.isin(plain).to_numpy(dtype=bool) if plain else np.zeros(len(values), dtype=bool)
    if len(plain) < len(listed):
        hit = hit | values.isna().to_numpy(dtype=bool)  # not in place: isin's array may be read-only
    return hit


def _bound_mask(values: pd.Series, bound: str, limit: int | float | date, key: str, column: str, where: str,
                dtype_hint: str | None) -> np.ndarray:
    """The rows whose cell is at or above (``min``) / at or below (``max``) ``limit``."""
    key = f"{key}.{bound}"
    if isinstance(limit, date):
        limit = time_limit(values, limit, key, column, where)
    elif pd.api.types.is_datetime64_any_dtype(values.dtype):
        raise ConfigError(f"{key}: column {column!r} of {where} holds times ({values.dtype}), and {limit} is a "
                          f"number: give {bound} as a date or time (2020-01-31, 2020-01-31T12:00:00)")
    elif not _numeric(values):
        fix = (dtype_hint or DTYPE_HINT).format(column=column)
        text = _text_cells(values)
        if text is not None:  # numbers but for a few cells ("four", "n.a."): name the first
            raise ConfigError(f"{key}: column {column!r} of {where} holds numbers, but row {text[0]} "
                              f"holds {values.iloc[text[0]]!r} ({text[1]} of {len(values)} cells "
                              f"{'is' if text[1] == 1 else 'are'} not a number), so the column is read as "
                              f"text and {bound}: {limit} compares nothing; fix or empty those cells, then "
                              f"read the column as numbers ({fix})")
        raise ConfigError(f"{key}: column {column!r} of {where} holds {values.dtype} values, not "
                          f"numbers, so {bound}: {limit} compares nothing; use in / not_in for text, or "
                          f"read the column as numbers ({fix})")
    passed = values >= limit if bound == "min" else values <= limit  # NaN compares False: dropped
    return passed.to_numpy(dtype=bool, na_value=False)


def unknown_column(key: str, column: str, where: str, columns: Mapping[str, Iterable[Any]],
                   hint: str | None = None) -> ConfigError:
    """The error for a condition on a column no table has: ``columns`` lists, per table that
    could hold it (``""``: the one ``where`` names; else a name such as ``data.join.users``), its
    columns."""
    listed = "; ".join(f"{name + ' ' if name else ''}columns: {sorted(map(str, cols))}"
                       for name, cols in columns.items())
    joined = " or of a data.join table" if len(columns) > 1 else ""
    return ConfigError(f"{key}: {column!r} is not a column of {where}{joined}; {listed}"
                       + (f" ({hint})" if hint else ""))


def row_filter_masks(table: pd.DataFrame, rows: Mapping[str, Condition], *, config_key: str = "data.filter",
                     where: str = "the interactions", missing_hint: str | None = None,
                     dtype_hint: str | None = None) -> dict[str, np.ndarray]:
    """Per column of ``rows``, the ``(n,)`` boolean mask of the rows its condition keeps.

    A missing cell fails ``min``, ``max`` and ``in`` and passes ``not_in``, unless the list
    holds ``None`` (``null``), which matches missing cells. Values compare as pandas ``isin``
    does (``4`` matches ``4.0``); a listed value of another kind than the column's cells (the
    text ``"4"`` on numbers, ``4`` or ``true`` on text) is an error, not a silent no-match.
    A date or datetime ``min``/``max`` bounds a column of times (no zone: UTC; a date: its
    midnight) or of Unix seconds (numbers: the date is turned into seconds since 1970-01-01 UTC).
    ``missing_hint``: what the missing-column error adds. ``dtype_hint``: how to read a column
    as numbers, with ``{column}`` (default :data:`DTYPE_HINT`, the ``data.train.dtype`` key).

    Raises:
        ConfigError: a column that ``table`` lacks (``data.filter.rows.<column>``, listing the
            columns), ``min``/``max`` on a column that holds no numbers
            (``data.filter.rows.<column>.min``), a number on times, a date on a column that holds
            neither times nor Unix seconds, a listed value of the wrong kind (``...in``).
    """
    masks: dict[str, np.ndarray] = {}
    for column, cond in rows.items():
        key = f"{config_key}.rows.{column}"
        if column not in table.columns:
            raise unknown_column(key, column, where, {"": table.columns}, missing_hint)
        values = table[column]
        keep = np.ones(len(table), dtype=bool)
        for bound, limit in (("min", cond.min), ("max", cond.max)):
            if limit is not None:
                keep &= _bound_mask(values, bound, limit, key, column, where, dtype_hint)
        for name, listed in (("in", cond.in_), ("not_in", cond.not_in)):
            if listed is not None:
                _check_kinds(f"{key}.{name}", column, values, listed, where, dtype_hint)
                hit = _isin(values, listed)  # a missing cell is in no list unless it lists null
                keep &= hit if name == "in" else ~hit
        masks[column] = keep
    return masks


def _empty_error(config_key: str, where: str, total: int, detail: str) -> DataError:
    return DataError(f"{config_key} leaves {where} empty: it keeps 0 of its {total} rows ({detail}); loosen the "
                     f"filter in {config_key}")


def keep_rows(table: pd.DataFrame, masks: Mapping[str, np.ndarray], *, config_key: str = "data.filter",
              where: str = "the interactions") -> pd.DataFrame:
    """``table`` without the rows a mask of ``masks`` (per column, as :func:`row_filter_masks`
    gives) drops, index reset; logs one info line with the rows kept and those each column's
    rule drops (counted alone, so a row two rules drop counts for both).

    Raises:
        DataError: no row is kept, naming ``config_key`` and the counts.
    """
    keep = np.logical_and.reduce(list(masks.values())) if masks else np.ones(len(table), dtype=bool)
    kept = int(keep.sum())
    detail = ", ".join(f"rows.{c} drops {int((~m).sum())}" for c, m in masks.items())
    if kept == 0 and len(table):
        raise _empty_error(config_key, where, len(table), detail)
    log.info("%s: %s: kept %d of %d rows, dropped %d (%s)", config_key, where, kept, len(table), len(table) - kept,
             detail)
    return table[keep].reset_index(drop=True) if kept < len(table) else table


def row_filter(table: pd.DataFrame, rows: Mapping[str, Condition], *, config_key: str = "data.filter",
               where: str = "the interactions", missing_hint: str | None = None,
               dtype_hint: str | None = None) -> pd.DataFrame:
    """``table`` without the rows a condition of ``rows`` fails (see :func:`row_filter_masks`
    and :func:`keep_rows`); ``table`` itself when ``rows`` is empty.

    Raises:
        ConfigError: see :func:`row_filter_masks`.
        DataError: no row is kept, naming ``config_key`` and the counts.
    """
    if not rows:
        return table
    masks = row_filter_masks(table, rows, config_key=config_key, where=where, missing_hint=missing_hint,
                             dtype_hint=dtype_hint)
    return keep_rows(table, masks, config_key=config_key, where=where)


def _key_codes(values: pd.Series) -> np.ndarray:
    """``(n,)`` int64 codes of a user or item column by canonical key (``-1`` where missing)."""
    return key_codes(values, column=str(values.name))[0]


def k_core_mask(users: pd.Series, items: pd.Series, *, min_user_rows: int = 1, min_item_rows: int = 1
                ) -> tuple[np.ndarray, int]:
    """The rows of the iterative k-core and how many rounds reached it.

    Rows are dropped round by round until every kept user has at least ``min_user_rows`` kept
    rows and every kept item at least ``min_item_rows`` (dropping an item's rows can push a
    user under its minimum, and back: one pass is not enough). Each round is two
    ``bincount``s and a gather over the rows still kept. A row whose user (item) is missing is
    not counted for users (items) and not dropped for that side: the experiment's own checks
    report such rows. Users and items are told apart by canonical key (:func:`key_codes`: ``1``,
    ``1.0`` and ``"1"`` are one user), as the vocabularies, splits and histories do.
    """
    return _core(_key_codes(users), _key_codes(items), min_user_rows, min_item_rows)


def _core(u: np.ndarray, i: np.ndarray, min_user_rows: int, min_item_rows: int) -> tuple[np.ndarray, int]:
    """:func:`k_core_mask` over codes (``-1``: missing)."""
    nu, ni = int(u.max(initial=-1)) + 1, int(i.max(initial=-1)) + 1
    keep = np.ones(len(u), dtype=bool)
    rounds = 0
    while True:
        rounds += 1
        uc = np.bincount(u[keep & (u >= 0)], minlength=max(nu, 1))  # 1: a side left out (all -1)
        ic = np.bincount(i[keep & (i >= 0)], minlength=max(ni, 1))
        ok = keep & ((u < 0) | (uc[np.maximum(u, 0)] >= min_user_rows)) & (
            (i < 0) | (ic[np.maximum(i, 0)] >= min_item_rows))
        if ok.sum() == keep.sum():
            return keep, rounds
        keep = ok


def _distinct(codes: np.ndarray) -> int:
    """How many keys ``codes`` (dense, ``-1``: missing) holds."""
    return int(np.count_nonzero(np.bincount(codes[codes >= 0])))


def k_core(table: pd.DataFrame, user_col: str, item_col: str, *, min_user_rows: int = 1, min_item_rows: int = 1,
           config_key: str = "data.filter", where: str = "the training rows",
           columns_key: Mapping[str, str] | None = None) -> pd.DataFrame:
    """``table`` reduced to its iterative k-core (see :func:`k_core_mask`), index reset; logs the
    rows, users and items kept (counted by canonical key, as the k-core tells them apart). With
    both minimums 1 it is returned as it is.

    ``columns_key``: the config key that sets each of the two columns (``{"user": "data.user_column"}``)
    for the missing-column error.

    Raises:
        ConfigError: ``user_col`` (``item_col``) is not a column while its minimum is above 1.
        DataError: nothing is left, naming ``config_key`` and the counts.
    """
    if min_user_rows <= 1 and min_item_rows <= 1:
        return table
    names = columns_key or {}
    for side, col, minimum in (("user", user_col, min_user_rows), ("item", item_col, min_item_rows)):
        if minimum > 1 and col not in table.columns:
            raise ConfigError(f"{config_key}.min_{side}_rows: {minimum} counts rows per {side}, but "
                              f"{names.get(side, side + ' column')} {col!r} is not a column of {where}; columns: "
                              f"{sorted(map(str, table.columns))}")
    absent = np.full(len(table), -1, dtype=np.int64)  # a column that is not there: no keys
    u = _key_codes(table[user_col]) if user_col in table.columns else absent
    i = _key_codes(table[item_col]) if item_col in table.columns else absent
    keep, rounds = _core(u if min_user_rows > 1 else absent, i if min_item_rows > 1 else absent,
                         min_user_rows, min_item_rows)
    kept = int(keep.sum())
    settings = f"min_user_rows: {min_user_rows}, min_item_rows: {min_item_rows}"
    if kept == 0 and len(table):
        most = [f"the most rows of one {side} is {int(np.bincount(c[c >= 0]).max())}"
                for side, c, m in (("user", u, min_user_rows), ("item", i, min_item_rows)) if m > 1 and (c >= 0).any()]
        raise _empty_error(config_key, where, len(table), f"{settings}, after {rounds} rounds; {', '.join(most)}")
    counts = [f"{side} {_distinct(c[keep])} of {_distinct(c)}"
              for side, col, c in (("users", user_col, u), ("items", item_col, i)) if col in table.columns]
    log.info("%s: %s: kept %d of %d rows, dropped %d (%s; %d rounds; %s)", config_key, where, kept, len(table),
             len(table) - kept, settings, rounds, ", ".join(counts))
    return table[keep].reset_index(drop=True) if kept < len(table) else table

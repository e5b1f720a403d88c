"""Splits of interaction tables: random, global temporal, leave-last-n per user, given files.

The temporal splits are what ``data.split`` runs, so their errors name its keys
(``data.split.cutoff``, ``data.time_column``, ...); in Python, each key is the argument of that name.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from recstack.data._text_times import check_text_times, is_text, text_cutoff_error
from recstack.data._times import iso_time, quoted_yyyymmdd, shown, time_limit
from recstack.data.readers import read_table
from recstack.preprocessing._cells import plain_value
from recstack.preprocessing.keys import key_codes
from recstack.errors import ConfigError, DataError, SchemaError, empty_cells

__all__ = ["random_split", "temporal_split", "leave_last_n", "given_split"]


def _need(df: pd.DataFrame, kind: str, **roles: str) -> None:
    """Each role's column (``time_column="ts"``) is a column of ``df``."""
    for role, col in roles.items():
        if col not in df.columns:
            raise SchemaError(f"data.split (kind: {kind}) needs data.{role} {col!r}, which is not a column; "
                              f"columns: {list(df.columns)}")


def check_times(times: pd.Series, column: str, where: str, role: str = "time") -> None:
    """Orders by time need every time: a missing one would sort as the latest (pandas puts NaN
    last), moving rows into the test side or letting a history see its future. Text must be ISO
    8601 of one shape, the only text that sorts as time (``23/03/1998`` sorts by day of month).
    ``role``: how the error names the ordering (``data.time_column``)."""
    missing = times.isna().to_numpy()
    if missing.any():
        raise empty_cells(where, column, missing, f"ordering by {role} needs every row's time: fill or drop those rows")
    check_text_times(times, column, where, role)


def random_split(df: pd.DataFrame, *, test_fraction: float = 0.2, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows drawn at random (seeded) into ``(train, test)``; both keep the original index."""
    if not 0 < test_fraction < 1:
        raise ConfigError(f"test_fraction must be in (0, 1), got {test_fraction}")
    mask = np.random.default_rng(seed).random(len(df)) < test_fraction
    return df[~mask], df[mask]


def temporal_split(
    df: pd.DataFrame, time_col: str, *, test_fraction: float | None = 0.2, cutoff: Any = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Global time split (``data.split: {kind: temporal}``): rows at or after ``cutoff`` (or the
    ``1 - test_fraction`` quantile of ``time_col``, ``data.time_column``) are test.

    ``cutoff``: a value of the column's type, or a date / datetime (also as ISO text, as a saved
    model's JSON holds them) on a column of times or of Unix seconds, by ``data.filter``'s rule:
    a date is its midnight, a time without a zone is UTC; text on a column of (ISO) text compares
    as text, so it must be written as the column writes its times (``1998-03-23``, or the full time).
    Without ``cutoff``, the quantile is found by sorting, so a column of ISO text takes it too.
    """
    where = "data.split (kind: temporal)"
    _need(df, "temporal", time_column=time_col)
    check_times(df[time_col], time_col, where, "data.time_column")
    given = cutoff is not None
    if not given:
        if test_fraction is None or not 0 < test_fraction < 1:
            raise ConfigError(f"data.split.test_fraction: {test_fraction!r} is not in (0, 1); give it, or "
                              "data.split.cutoff (the first test time)")
        cutoff = _higher_quantile(df[time_col], 1 - test_fraction)
    limit = _cutoff_value(df[time_col], cutoff, time_col) if given else cutoff
    try:
        test = (df[time_col] >= limit).to_numpy()
    except TypeError:
        times = pd.api.types.is_datetime64_any_dtype(df[time_col].dtype)
        raise ConfigError(f"data.split.cutoff: {cutoff!r} cannot be compared with data.time_column {time_col!r} "
                          f"({df[time_col].dtype}); give a cutoff of the column's type"
                          + (": a date or time (1998-01-01, 1998-01-01T12:00:00)" if times else "")) from None
    if test.all() or not test.any():
        side = "train" if test.all() else "test"
        text = repr(shown(cutoff) if isinstance(cutoff, date) else plain_value(cutoff))
        at = f"data.split.cutoff {text}" + ("" if given else f" (the test_fraction {test_fraction} quantile)")
        raise DataError(f"{where}: {at} on data.time_column {time_col!r} leaves {side} empty (many rows share "
                        "the cutoff time?); set another data.split.cutoff or data.split.test_fraction")
    return df[~test].reset_index(drop=True), df[test].reset_index(drop=True)


def _higher_quantile(times: pd.Series, q: float) -> Any:
    """The ``q`` quantile of ``times`` that is one of its values (``interpolation="higher"``); ISO
    text (see :func:`check_times`) by sorting, as pandas' quantile takes only numbers and times."""
    if not is_text(times):
        return times.quantile(q, interpolation="higher")
    if not len(times):
        return ""  # no row: "leaves train empty", as the NaN quantile of no number does
    return times.sort_values(ignore_index=True).iloc[math.ceil(q * (len(times) - 1))]


_CUTOFF_FIX = "give data.split.cutoff as a number in the column's own unit{example}, or the column as Unix seconds"
"""What a date cutoff on numbers that are not Unix seconds should be instead (see :func:`time_limit`)."""


def _cutoff_value(times: pd.Series, cutoff: Any, column: str) -> Any:
    """``cutoff`` as ``times`` compares it: a date / datetime (or ISO text) on a column of times
    or of Unix seconds as :func:`recstack.data._times.time_limit` turns a date bound
    (a date: its midnight; no zone: UTC); text on a column of text, and a number, as given.

    Raises:
        ConfigError: a date on a column that holds neither times nor Unix seconds (text, booleans),
            or quoted YYYYMMDD digits on a column of times or numbers, naming ``data.split.cutoff``.
    """
    dtype = times.dtype
    is_time = pd.api.types.is_datetime64_any_dtype(dtype)
    is_number = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    if isinstance(cutoff, str) and (is_time or is_number):  # text on a column of text compares as text
        fix = quoted_yyyymmdd(cutoff)
        if fix is not None:  # "20190105": the number, or the date 2019-01-05? As data.filter's min/max
            raise ConfigError(f"data.split.cutoff: {fix}")
        cutoff = iso_time(cutoff) or cutoff
    elif isinstance(cutoff, str) and len(times) and is_text(times):  # ISO text (check_times): compared as text
        problem = text_cutoff_error(cutoff, str(times.iloc[0]))
        if problem is not None:
            raise ConfigError(f"data.split.cutoff: {problem}, on data.time_column {column!r}")
    if not isinstance(cutoff, date):
        return cutoff
    key = "data.split.cutoff"
    if not (is_time or is_number):
        raise ConfigError(
            f"{key}: {shown(cutoff)} is a date, but data.time_column {column!r} holds {dtype} values, not times; "
            "a date cutoff needs a column of times (datetime64, e.g. from Parquet) or of Unix seconds (numbers, "
            "as ML-100K's timestamp). Text is not parsed as times: for a column of ISO text, quote the cutoff "
            "('1998-01-01') to compare it as text, or give the column as Unix seconds")
    return time_limit(times, cutoff, key, column, "the interactions (data.time_column)", fix=_CUTOFF_FIX)


def leave_last_n(df: pd.DataFrame, user_col: str, time_col: str, *, n: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per user (``data.split: {kind: leave_last_n}``), the last ``n`` interactions by time are
    test (ties: later rows last).

    Users with ``n`` or fewer interactions stay entirely in train.
    """
    _need(df, "leave_last_n", user_column=user_col, time_column=time_col)
    check_times(df[time_col], time_col, "data.split (kind: leave_last_n)", "data.time_column")
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ConfigError(f"data.split.n: {n!r} is not an integer >= 1; give the test rows per user, e.g. 1")
    # users by canonical key, as vocabularies match them (1 and "1" are one user; True is not 1);
    # rows without a user (-1) stay in train
    users = key_codes(df[user_col], column=user_col)[0]
    order = df.assign(_user=users, _row=np.arange(len(df))).sort_values(["_user", time_col, "_row"], kind="stable")
    from_end = order.groupby("_user", sort=False).cumcount(ascending=False)
    size = order.groupby("_user", sort=False)[time_col].transform("size")
    size = size.where(order["_user"] >= 0, 0)
    is_test = np.zeros(len(df), dtype=bool)  # by position: index labels may repeat
    is_test[order["_row"].to_numpy()] = ((from_end < n) & (size > n)).to_numpy()
    return df[~is_test].reset_index(drop=True), df[is_test].reset_index(drop=True)


def given_split(train_source: Any, test_source: Any, **read_kwargs: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train and test read from two given files (e.g. MovieLens ``u1.base`` / ``u1.test``)."""
    return read_table(train_source, **read_kwargs), read_table(test_source, **read_kwargs)

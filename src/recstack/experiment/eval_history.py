"""The history column of evaluation rows (test split, ``exp.evaluate(table)``, ``recstack
evaluate``), built from the training rows as ``data.history.eval_history`` says."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from recstack.artifacts.timeline import time_kind
from recstack.config.data import HISTORY_KEYS, DataConfig
from recstack.data import add_history
from recstack.errors import SchemaError

__all__ = ["earlier_items", "evaluation_histories"]

log = logging.getLogger(__name__)
_EVAL_KEYS = {**HISTORY_KEYS, "before_each_row": "data.history.eval_history"}


def evaluation_histories(data: DataConfig, table: pd.DataFrame, reference: pd.DataFrame, *,
                         where: str, saved: bool = False) -> pd.DataFrame:
    """``table`` with ``data.history.column`` built from ``reference`` (the training rows, or a
    saved model's training timeline): each user's whole profile (``eval_history: profile``), or
    only the items strictly earlier than the row's time (``before``), which needs the rows'
    ``data.time_column``; ``where`` names the table in that error, whose fix for a ``saved``
    model (whose config is fixed) is the column alone."""
    hist = data.history
    assert hist is not None, "callers check data.history"
    as_of = hist.eval_history == "before"
    time = data.time_column
    if as_of and (time is None or time not in table.columns):
        raise SchemaError(
            f"data.history.eval_history: before gives each row of {where} the training items earlier than its "
            f"time, but {where} has no column {time!r} (data.time_column); add the column" + (
                " (the model was trained so; with --names, name the file's columns)" if saved else
                ", or set data.history.eval_history: profile (each user's whole training profile)"))
    if as_of:
        assert time is not None
        table = _comparable_times(table, reference[time], time, where)
    args = {**data.history_args(), "config_keys": _EVAL_KEYS}
    return add_history(table, **args, reference=reference, before_each_row=as_of)


def earlier_items(data: DataConfig, table: pd.DataFrame, reference: pd.DataFrame, *, where: str) -> pd.Series:
    """Each row's user's items in ``reference`` strictly earlier than the row, all of them
    (not ``max_length``), named ``data.history.column``: what the user had seen at the row's
    time, which ``eval.exclude_seen`` excludes under ``eval_history: before`` (an item rated
    after the row was not seen yet, and excluding it would use the future)."""
    hist, time, user = data.history, data.time_column, data.user_column
    assert hist is not None and time is not None, "eval_history: before needs both"
    rows = _comparable_times(table[[user, time]], reference[time], time, where, warn=False)  # said for the histories
    args = {**data.history_args(), "config_keys": _EVAL_KEYS, "max_length": max(len(reference), 1)}
    return add_history(rows, **args, reference=reference, before_each_row=True)[hist.column]


def _comparable_times(table: pd.DataFrame, training: pd.Series, time: str, where: str, *,
                      warn: bool = True) -> pd.DataFrame:
    """``table`` whose ``time`` column orders against the training times: numbers with numbers,
    datetimes with datetimes (ISO text parsed for them, as a CSV file holds them; a zone on
    both sides or on neither). Anything else is a :class:`SchemaError` naming both types."""
    rows = table[time]
    want, have = time_kind(training), time_kind(rows)
    aware = isinstance(training.dtype, pd.DatetimeTZDtype)
    if want == "datetime" and have is None and (rows.dtype == object or pd.api.types.is_string_dtype(rows.dtype)):
        try:  # text such as 1998-01-01 12:00:00 (a CSV file): the instants it names
            parsed = pd.to_datetime(rows, format="ISO8601", utc=aware)
        except (ValueError, TypeError):
            parsed = None
        if parsed is not None and isinstance(parsed.dtype, pd.DatetimeTZDtype) == aware:
            return table.assign(**{time: parsed})
    numbers = {"int", "float"}
    same = (want in numbers and have in numbers) or (
        want == have == "datetime" and isinstance(rows.dtype, pd.DatetimeTZDtype) == aware)
    if same and want in numbers and warn:
        _warn_far_times(rows, training, time, where)
    if not same:
        like = "numbers" if want in numbers else (
            "datetimes with a zone (or ISO text with one)" if aware else "datetimes without a zone (or ISO text)")
        raise SchemaError(
            f"data.history.eval_history: before orders {where}'s {time!r} (data.time_column) against the training "
            f"times, but it holds {rows.dtype} and the training times {training.dtype}; give {like}")
    return table


def _warn_far_times(rows: pd.Series, training: pd.Series, time: str, where: str) -> None:
    """Warns when evaluation times are of another magnitude than the training times (over 100x
    their largest, or under 1/100 of their smallest positive one): usually another unit
    (milliseconds for seconds), which makes every training item earlier than the row, or none.
    A later test period of the same unit (a temporal split) stays silent."""
    low, high = float(training.min()), float(training.max())
    values = rows.to_numpy(dtype=float)
    far = (values > 100 * high) if high > 0 else np.zeros(len(values), dtype=bool)
    if low > 0:
        far |= values < low / 100
    if far.any():
        log.warning("%s: %d of %d rows have a %s of another magnitude than the training times (%s to %s): "
                    "another unit (milliseconds for seconds)? Each row's history holds the training items "
                    "earlier than its time, so such rows get all or none of them", where, int(far.sum()),
                    len(values), time, training.min(), training.max())

"""Dates and datetimes as bounds of a column: what ``data.filter``'s ``min``/``max`` and
``data.split.cutoff`` share.

A date bounds a column of times (``datetime64``; no zone on either side: UTC; a date: its
midnight) or of Unix seconds (numbers: the date becomes seconds since 1970-01-01 UTC). Each
caller says what to do when the column's numbers are not seconds (``fix``), so the advice
names its own setting.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import pandas as pd

from recstack.errors import ConfigError

__all__ = ["UNIX_SECONDS", "iso_time", "quoted_yyyymmdd", "shown", "time_limit"]

_EPOCH = pd.Timestamp(0, tz="UTC")

UNIX_SECONDS = (1e8, 1e11)
"""Where the largest value of a column read as Unix seconds must lie: after 1973-03-03, before
the year 5138 (larger: milliseconds or finer; smaller: years, days, counts or YYYYMMDD dates
such as 20190105, which would read as August 1970)."""

_YYYYMMDD = (1e7, 1e8)  # 8-digit integers: 20190105
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")  # the extended form, with dashes: what isoformat writes

BOUND_FIX = "bound this column with numbers in its own unit{example}"
"""``data.filter``'s advice for a date on numbers that are not Unix seconds."""


def shown(limit: Any) -> str:
    """A bound as errors show it: ISO for a date or datetime, else ``str``."""
    return limit.isoformat() if isinstance(limit, date) else str(limit)


def iso_time(text: str) -> date | None:
    """An ISO date (``1998-01-01``) or datetime (``1998-01-01T12:00:00+02:00``) string as one, else ``None``.

    Only the form with dashes (what ``isoformat`` writes, so what a saved model holds): Python
    also reads ``"20190105"`` and week dates (``"2019-W01-1"``) as dates, but in a config the
    first may be a quoted number, which must not turn into 2019-01-05 (see :func:`quoted_yyyymmdd`)."""
    if not _ISO_DATE.match(text):
        return None
    for parse in (date.fromisoformat, datetime.fromisoformat):
        try:
            return parse(text)
        except ValueError:
            pass
    return None


def quoted_yyyymmdd(text: str) -> str | None:
    """For 8 quoted digits that make a date (``"20190105"``), which Python reads as one but a
    config may mean as the number: both ways to write it; else None."""
    digits = text.strip()
    if len(digits) != 8 or not digits.isascii() or not digits.isdigit():
        return None
    try:
        day = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None
    return (f"{text!r} is quoted, so it is neither a number nor a date: write {digits} without quotes to compare "
            f"numbers (a column of YYYYMMDD numbers), or {day.isoformat()} for the date (a column of times or "
            "Unix seconds)")


def _is_number(values: pd.Series) -> bool:
    """Numbers (not booleans, text or dates): what Unix seconds can be."""
    return pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype)


def time_limit(values: pd.Series, limit: date, key: str, column: str, where: str, *,
               fix: str = BOUND_FIX) -> pd.Timestamp | float:
    """A date bound as the column compares it: a Timestamp for a column of times (no zone on
    either side: UTC), Unix seconds (UTC) for a column of numbers.

    ``fix``: what the error for numbers that are not Unix seconds ends with; ``{example}`` in it
    becomes `` (in milliseconds, <limit> is <n>)`` when the numbers look like milliseconds or
    finer, else nothing.

    Raises:
        ConfigError: the column holds neither times nor numbers that can be Unix seconds.
    """
    at = pd.Timestamp(limit)  # a date: its midnight
    utc = at.tz_convert("UTC") if at.tzinfo is not None else at.tz_localize("UTC")
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        arrow = getattr(values.dtype, "pyarrow_dtype", None)  # an Arrow timestamp keeps its zone there
        zoned = getattr(values.dtype, "tz", None) is not None or getattr(arrow, "tz", None) is not None
        return utc if zoned else utc.tz_localize(None)
    head = f"{key}: {shown(limit)} is a date, but column {column!r} of {where}"
    if not _is_number(values):
        raise ConfigError(f"{head} holds {values.dtype} values, not times; a date bounds a column of times "
                          "(datetime64, e.g. from Parquet) or of Unix seconds (numbers, as ML-100K's timestamp); "
                          "text dates are not parsed: give such a column as Unix seconds, or bound it with in / "
                          "not_in")
    seconds = float((utc - _EPOCH).total_seconds())
    low, high = values.min(), values.max()  # NaN / NA when no cell is present
    largest = None if pd.isna(low) or pd.isna(high) else max(abs(float(low)), abs(float(high)))
    if largest is not None and not UNIX_SECONDS[0] <= largest < UNIX_SECONDS[1]:
        finer = largest >= UNIX_SECONDS[1]
        digits = not finer and _YYYYMMDD[0] <= min(abs(float(low)), abs(float(high))) and largest < _YYYYMMDD[1]
        unit = "milliseconds or finer" if finer else "YYYYMMDD dates" if digits else "years, days or counts"
        example = (f" (in milliseconds, {shown(limit)} is {round(seconds * 1000)})" if finer else
                   f" (as YYYYMMDD, {shown(limit)} is {utc.strftime('%Y%m%d')})" if digits else "")
        raise ConfigError(f"{head} holds numbers up to {largest:.12g}, which are not Unix seconds (they look like "
                          f"{unit}); a date compares with a column of numbers as seconds since 1970-01-01 UTC: "
                          + fix.format(example=example))
    return seconds

"""Column types a reader can be told to keep, and the casts that keep them exact.

Missing values stay missing (never the string ``"nan"``); an ``int`` column is exact within
int64 (never through float64, which rounds above 2**53); a ``str`` column of a text file keeps
pandas' NA strings (``NA``, ``null``, ...) as written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from recstack.errors import ConfigError, DataError, SchemaError

__all__ = ["COLUMN_TYPES", "DEFAULT_NA", "ColumnType", "apply_dtype", "checked_dtype", "inexact_integers",
           "rounded_integers"]

ColumnType = Literal["str", "int", "float"]
"""A column type a reader can be told to keep (``str`` keeps IDs like ``0007`` as written)."""
COLUMN_TYPES: tuple[str, ...] = get_args(ColumnType)

try:  # pandas' default missing-value strings ("NA", "null", "None", "nan", "N/A", ...)
    from pandas._libs.parsers import STR_NA_VALUES as _PANDAS_NA
except ImportError:  # pragma: no cover - moved in some pandas version
    _PANDAS_NA = {"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
                  "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"}
DEFAULT_NA = sorted(_PANDAS_NA)


def checked_dtype(dtype: Mapping[str, ColumnType] | None) -> dict[str, ColumnType]:
    """``dtype`` as a dict, every type one of :data:`COLUMN_TYPES` (else a ``ConfigError``)."""
    out = dict(dtype or {})
    bad_types = {c: t for c, t in out.items() if t not in COLUMN_TYPES}
    if bad_types:
        c, t = next(iter(bad_types.items()))
        raise ConfigError(f"dtype.{c}: {t!r} is not a column type; use one of {', '.join(COLUMN_TYPES)}")
    return out


def rounded_integers(df: pd.DataFrame, dtype: Mapping[str, ColumnType]) -> list[Any]:
    """Columns a text parser made float64 although every value is an integer, some of them 2**53
    or more: those may have been rounded (``float("9007199254740993") == 2**53``); ``float`` ones
    are as asked."""
    out = []
    for col in df.columns[(df.dtypes == np.float64).to_numpy()]:
        if dtype.get(col) == "float":
            continue
        f = df[col].to_numpy()
        big = np.abs(f) >= 2.0**53  # NaN compares False
        if big.any() and bool(np.all(np.floor(f[big]) == f[big])):
            finite = f[np.isfinite(f)]
            if bool(np.all(np.floor(finite) == finite)):
                out.append(col)
    return out


def inexact_integers(text: pd.Series) -> np.ndarray:
    """Cells of ``text`` written as integers (``[+-]?\\d+``) that float64 cannot hold exactly:
    ``9007199254740993`` is read as ``9007199254740992``. Other spellings (``1.5e18``, ``7.0``)
    and integers float64 holds (``225000000000000000000``) are not; missing cells are not."""
    out = np.zeros(len(text), dtype=bool)
    if pd.api.types.is_object_dtype(text.dtype):  # Arrow strings: vectorized string operations
        text = text.astype("string[pyarrow]")
    written = text.str.strip()
    is_int = written.str.fullmatch(r"[+-]?\d+").fillna(False).to_numpy(dtype=bool)
    digits = written[is_int].str.lstrip("+-").str.lstrip("0")
    n = digits.str.len().to_numpy(dtype=np.int64)
    long = n >= 16  # 10**15 < 2**53: shorter integers are exact
    if not long.any():
        return out
    rows, digits, n = np.flatnonzero(is_int)[long], digits[long], n[long]
    fits = (n < 19) | ((n == 19) & (digits <= _INT64_DIGITS[False]).to_numpy(dtype=bool))
    v = digits[fits].astype(np.int64).to_numpy()
    f = v.astype(np.float64)  # exact, or the nearest float: then it converts back to another integer
    inexact = np.ones(len(rows), dtype=bool)
    inexact[fits] = (f >= 2.0**63) | (np.where(f < 2.0**63, f, 0).astype(np.int64) != v)
    beyond = np.flatnonzero(~fits)
    if beyond.size:  # >= 2**63 is exact only as a multiple of 2**11, which its last 11 digits tell
        round_ = (digits.iloc[beyond].str[-11:].astype(np.int64).to_numpy() % 2048) == 0
        for i in beyond[round_]:  # round numbers written out in full (1e20 as 100000000000000000000): rare
            f_i = float(digits.iloc[i])
            inexact[i] = not np.isfinite(f_i) or int(f_i) != int(digits.iloc[i])
    out[rows] = inexact
    return out


def apply_dtype(df: pd.DataFrame, dtype: Mapping[str, ColumnType], where: str) -> pd.DataFrame:
    """Casts whole columns; missing values stay missing (never the string ``"nan"``)."""
    unknown = [c for c in dtype if c not in df.columns]
    if unknown:
        raise SchemaError(f"dtype.{unknown[0]}: {unknown[0]!r} is not a column of {where}; columns: {list(df.columns)}")
    out = df.copy()
    for col, kind in dtype.items():
        values = out[col]
        if kind == "str":
            out[col] = _as_text(values)
        elif kind == "int":
            out[col] = _as_int64(values, col, where)
        else:
            num = pd.to_numeric(values, errors="coerce")
            _refuse(col, "float", where, values, (num.isna() & values.notna()).to_numpy())
            out[col] = num.astype("float64")
    return out


_FLOAT_TYPES = (float, np.floating)
_INT64_DIGITS = {False: str(np.iinfo(np.int64).max), True: str(np.iinfo(np.int64).max + 1)}  # by sign


def _refuse(col: str, kind: str, where: str, values: pd.Series, bad: np.ndarray,
            problem: str = "", fix: str = "fix the data or use dtype str") -> None:
    """Raises naming the first ``bad`` row, unless there is none."""
    if not bad.any():
        return
    row = int(bad.argmax())
    got = "a missing value" if pd.isna(values.iloc[row]) else repr(values.iloc[row])
    raise DataError(f"dtype.{col}: column {col!r} of {where} {problem or f'is not all {kind} values'} "
                    f"(data row {row + 1}: {got}); {fix}")


def _as_text(values: pd.Series) -> pd.Series:
    """Each present value as text; integral floats as integers (``1.0`` -> ``"1"``, as a text file
    holds an integer column with a gap), so every source gives an ID the same key."""
    if pd.api.types.is_string_dtype(values.dtype) and (
            values.dtype != object or pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty")):
        return values  # text already (a text file's str column): nothing to convert
    text = values.astype(str).astype(object).where(values.notna(), np.nan)  # missing: NaN, as from a text file
    if pd.api.types.is_float_dtype(values.dtype):
        floats = values.notna().to_numpy()
    elif values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) in (
            "floating", "mixed-integer-float", "mixed"):
        types = values.map(type)  # one pass inside pandas; the float test runs per distinct type
        is_float = types.map({t: issubclass(t, _FLOAT_TYPES) for t in types.unique()}).to_numpy(dtype=bool)
        floats = is_float & values.notna().to_numpy()
    else:
        return text
    f = pd.to_numeric(values[floats]).to_numpy(dtype=np.float64)
    whole = np.isfinite(f) & (np.floor(f) == f) & (np.abs(f) < 2.0**63)
    rows = np.flatnonzero(floats)[whole]
    text.iloc[rows] = f[whole].astype(np.int64).astype(str).astype(object)
    return text


def _as_int64(values: pd.Series, col: str, where: str) -> pd.Series:
    """The column as exact int64: integers, integral floats, or integer text of any length
    (never through float64, which rounds above 2**53); beyond int64 is an error."""
    _refuse(col, "int", where, values, values.isna().to_numpy())
    beyond = {"problem": "has a value beyond int64", "fix": "IDs this large need dtype str"}
    dt = values.dtype
    if pd.api.types.is_bool_dtype(dt):
        return values.astype(np.int64)
    if pd.api.types.is_integer_dtype(dt):
        arr = values.to_numpy()
        if arr.dtype.kind == "u":
            _refuse(col, "int", where, values, arr > np.iinfo(np.int64).max, **beyond)
        return pd.Series(arr.astype(np.int64), index=values.index)
    if pd.api.types.is_float_dtype(dt):
        f = values.to_numpy(dtype=np.float64)
        _refuse(col, "int", where, values, ~np.isfinite(f) | (np.floor(f) != f))
        _refuse(col, "int", where, values, np.abs(f) >= 2.0**63, **beyond)
        return pd.Series(f.astype(np.int64), index=values.index)
    text = values.astype(str).str.strip()  # Python ints of any size print exactly
    is_int = text.str.fullmatch(r"[+-]?\d+").to_numpy(dtype=bool)
    digits = text[is_int].str.lstrip("+-").str.lstrip("0")
    negative = text[is_int].str.startswith("-").to_numpy(dtype=bool)
    n = digits.str.len().to_numpy(dtype=np.int64)
    over = (n > 19) | ((n == 19) & np.where(negative, (digits > _INT64_DIGITS[True]).to_numpy(dtype=bool),
                                              (digits > _INT64_DIGITS[False]).to_numpy(dtype=bool)))
    overflow = np.zeros(len(values), dtype=bool)
    overflow[np.flatnonzero(is_int)[over]] = True
    num = pd.to_numeric(text[~is_int], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad, inexact = np.zeros(len(values), dtype=bool), np.zeros(len(values), dtype=bool)
    bad[~is_int] = ~np.isfinite(num) | (np.floor(num) != num)
    inexact[~is_int] = np.abs(num) >= 2.0**53
    _refuse(col, "int", where, values, bad)
    _refuse(col, "int", where, values, overflow, **beyond)
    _refuse(col, "int", where, values, inexact, "has a float too large to be an exact integer",
            "write it as an integer, or use dtype str")
    out = np.empty(len(values), dtype=np.int64)
    out[is_int] = text[is_int].astype(np.int64).to_numpy()
    out[~is_int] = num.astype(np.int64)
    return pd.Series(out, index=values.index)

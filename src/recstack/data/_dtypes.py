"""Column types a reader can be told to keep, and the casts that keep them exact.

Missing values stay missing (never the string ``"nan"``); an ``int`` column is exact within
int64 (never through float64, which rounds above 2**53); a ``str`` column of a text file keeps
pandas' NA strings (``NA``, ``null``, ...) as written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, NamedTuple, get_args

import numpy as np
import pandas as pd

from recstack.errors import ConfigError, DataError, SchemaError
from recstack.preprocessing._cells import EXACT, as_str_series, float_keys, plain_value

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


def checked_dtype(dtype: Mapping[str, ColumnType] | None, key: str = "dtype") -> dict[str, ColumnType]:
    """``dtype`` as a dict, every type one of :data:`COLUMN_TYPES` (else a ``ConfigError`` naming
    ``<key>.<column>``: ``key`` is where the types were given, e.g. ``data.train.dtype``)."""
    out = dict(dtype or {})
    bad_types = {c: t for c, t in out.items() if t not in COLUMN_TYPES}
    if bad_types:
        c, t = next(iter(bad_types.items()))
        raise ConfigError(f"{key}.{c}: {t!r} is not a column type; use one of {', '.join(COLUMN_TYPES)}")
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
        big = np.abs(f) >= EXACT  # NaN compares False
        if big.any() and bool(np.all(np.floor(f[big]) == f[big])):
            finite = f[np.isfinite(f)]
            if bool(np.all(np.floor(finite) == finite)):
                out.append(col)
    return out


class _IntegerText(NamedTuple):
    """The cells of a text column written as integers (see :func:`_integer_text`)."""

    rows: np.ndarray  # (k,) int64 positions of those cells
    signed: pd.Series  # (k,) their text, stripped, with its sign
    digits: pd.Series  # (k,) without sign and leading zeros
    length: np.ndarray  # (k,) int64: how many digits
    fits: np.ndarray  # (k,) bool: within int64


def _integer_text(text: pd.Series) -> _IntegerText:
    """The one parser of integer text, for exact casts and the rounding check alike: a cell is
    an integer when it reads ``[+-]?[0-9]+`` (spaces around allowed; other digits, such as
    ``"٣"``, are not numbers to pandas either). Missing cells are not integers."""
    written = text.str.strip()
    is_int = written.str.fullmatch(r"[+-]?[0-9]+").fillna(False).to_numpy(dtype=bool)
    signed = written[is_int]
    digits = signed.str.lstrip("+-").str.lstrip("0")
    n = digits.str.len().to_numpy(dtype=np.int64)
    fits = n < 19
    edge = np.flatnonzero(n == 19)  # as long as the int64 limits: compared digit by digit, by sign
    if edge.size:
        d, negative = digits.iloc[edge], signed.iloc[edge].str.startswith("-").to_numpy(dtype=bool)
        fits[edge] = np.where(negative, (d <= _INT64_DIGITS[True]).to_numpy(dtype=bool),
                              (d <= _INT64_DIGITS[False]).to_numpy(dtype=bool))
    return _IntegerText(np.flatnonzero(is_int), signed, digits, n, fits)


def inexact_integers(text: pd.Series) -> np.ndarray:
    """Cells of ``text`` written as integers (``[+-]?[0-9]+``) that float64 cannot hold exactly:
    ``9007199254740993`` is read as ``9007199254740992``. Other spellings (``1.5e18``, ``7.0``)
    and integers float64 holds (``225000000000000000000``) are not; missing cells are not."""
    out = np.zeros(len(text), dtype=bool)
    if pd.api.types.is_object_dtype(text.dtype):  # Arrow strings: vectorized string operations
        text = text.astype("string[pyarrow]")
    ints = _integer_text(text)
    long = ints.length >= 16  # 10**15 < 2**53: shorter ones are exact
    if not long.any():
        return out
    rows, signed, digits, fits = ints.rows[long], ints.signed[long], ints.digits[long], ints.fits[long]
    v = signed[fits].astype(np.int64).to_numpy()
    f = v.astype(np.float64)  # exact, or the nearest float: then it converts back to another integer
    over = f >= 2.0**63  # rounded up beyond int64
    inexact = np.ones(len(rows), dtype=bool)
    inexact[fits] = over | (np.where(over, 0.0, f).astype(np.int64) != v)
    beyond = np.flatnonzero(~fits)
    if beyond.size:  # beyond int64 is exact only as a multiple of 2**11, which its last 11 digits tell
        round_ = (digits.iloc[beyond].str[-11:].astype(np.int64).to_numpy() % 2048) == 0
        for i in beyond[round_]:  # round numbers written out in full (1e20 as 100000000000000000000): rare
            f_i = float(digits.iloc[i])
            inexact[i] = not np.isfinite(f_i) or int(f_i) != int(digits.iloc[i])
    out[rows] = inexact
    return out


def apply_dtype(df: pd.DataFrame, dtype: Mapping[str, ColumnType], where: str, key: str = "dtype") -> pd.DataFrame:
    """Casts whole columns; missing values stay missing (never the string ``"nan"``). Errors name
    ``<key>.<column>`` (``key``: where the types were given, e.g. ``data.train.dtype``)."""
    unknown = [c for c in dtype if c not in df.columns]
    if unknown:
        raise SchemaError(f"{key}.{unknown[0]}: {unknown[0]!r} is not a column of {where}; columns: {list(df.columns)}")
    out = df.copy()
    for col, kind in dtype.items():
        values = out[col]
        at = _Column(f"{key}.{col}", col, where, values)
        if kind == "str":
            out[col] = _as_text(at)
        elif kind == "int":
            out[col] = _as_int64(at)
        else:
            num = pd.to_numeric(values, errors="coerce")
            at.refuse("float", (num.isna() & values.notna()).to_numpy())
            out[col] = num.astype("float64")
    return out


_FLOAT_TYPES = (float, np.floating)
_INT64_DIGITS = {False: str(np.iinfo(np.int64).max), True: str(np.iinfo(np.int64).max + 1)}  # by sign
_BEYOND = {"problem": "has a value beyond int64", "fix": "IDs this large need dtype str"}


class _Column(NamedTuple):
    """A column being cast, and what its errors name."""

    key: str  # the option that asked for the cast: dtype.<column>, or data.train.dtype.<column>
    name: Any
    where: str
    values: pd.Series

    def refuse(self, kind: str, bad: np.ndarray, problem: str = "", fix: str = "fix the data or use dtype str") -> None:
        """Raises naming the first ``bad`` row, unless there is none."""
        if not bad.any():
            return
        row = int(bad.argmax())
        value = self.values.iloc[row]
        got = "a missing value" if np.ndim(value) == 0 and pd.isna(value) else repr(plain_value(value))
        raise DataError(f"{self.key}: column {self.name!r} of {self.where} "
                        f"{problem or f'is not all {kind} values'} (data row {row + 1}: {got}); {fix}")

    def whole_floats(self, kind: str, floats: np.ndarray) -> np.ndarray:
        """The float cells (``floats``: a mask) as float64, each a whole number below 2**53 (else an
        error, :func:`float_id_faults`)."""
        f = np.zeros(len(self.values))
        f[floats] = pd.to_numeric(self.values[floats]).to_numpy(dtype=np.float64)
        fraction, rounded = float_id_faults(f)
        article = "an" if kind == "int" else "a"
        self.refuse(kind, fraction | np.isnan(f), NOT_WHOLE, f"{article} {kind} ID from a float must be one: leave "
                    "the column out of dtype (or use float) to keep its numbers, or give the IDs as text")
        self.refuse(kind, rounded, *TOO_LARGE)
        return f[floats]


NOT_WHOLE = "holds a float that is not a whole number"
TOO_LARGE = ("holds a float of 2**53 or more", "float64 cannot hold such integers exactly, so distinct IDs may have "
             "merged already: give the IDs as integers or as text")


def float_id_faults(f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(fraction, rounded)`` masks of the float cells that are no exact ID: a fraction or an
    infinity is no ID; from 2**53 on float64 has rounded the integer (distinct IDs may have merged).
    NaN (a missing ID) is neither. The one rule of ``read_table``'s ``dtype`` and of the
    experiment's float ID columns."""
    present = ~np.isnan(f)
    return present & (~np.isfinite(f) | (np.floor(f) != f)), present & np.isfinite(f) & (np.abs(f) >= EXACT)


_LIST_TYPES = (list, tuple, np.ndarray, set, frozenset)


def _as_text(col: _Column) -> pd.Series:
    """Each present value as text, a whole float as the integer it is (``1.0`` -> ``"1"``, keyed as
    a vocabulary keys it: :func:`float_keys`), so every source gives an ID the same key; missing
    values stay missing (NaN, as from a text file)."""
    values = col.values
    inferred = pd.api.types.infer_dtype(values, skipna=True) if values.dtype == object else ""
    if pd.api.types.is_string_dtype(values.dtype) and (values.dtype != object or inferred in ("string", "empty")):
        return values  # text already (a text file's str column): nothing to convert
    present = values.notna().to_numpy()
    floats = np.zeros(len(values), dtype=bool)
    if pd.api.types.is_float_dtype(values.dtype):
        floats, text = present, np.full(len(values), np.nan, dtype=object)
    else:
        if values.dtype == object and inferred not in ("integer", "boolean"):
            types = values.map(type)  # one pass inside pandas; subclass tests per distinct type
            distinct = types.unique()
            col.refuse("str", types.isin([t for t in distinct if issubclass(t, _LIST_TYPES)]).to_numpy(),
                       "holds lists", "dtype str is for one value per cell: leave it out of dtype")
            floats = types.isin([t for t in distinct if issubclass(t, _FLOAT_TYPES)]).to_numpy() & present
        text = as_str_series(values).to_numpy(dtype=object)  # ints (any size), bools, strings: as str() writes them
        text[~present] = np.nan
    if floats.any():
        text[floats] = float_keys(col.whole_floats("str", floats))[0]
    return pd.Series(text, index=values.index, dtype=object)


def _as_int64(col: _Column) -> pd.Series:
    """The column as exact int64: integers, whole floats below 2**53, or integer text of any
    length (never through float64, which rounds above 2**53); beyond int64 is an error."""
    values = col.values
    col.refuse("int", values.isna().to_numpy())
    dt = values.dtype
    if pd.api.types.is_bool_dtype(dt):
        return values.astype(np.int64)
    if pd.api.types.is_integer_dtype(dt):
        arr = values.to_numpy()
        if arr.dtype.kind == "u":
            col.refuse("int", arr > np.iinfo(np.int64).max, **_BEYOND)
        return pd.Series(arr.astype(np.int64), index=values.index)
    if pd.api.types.is_float_dtype(dt):
        return pd.Series(col.whole_floats("int", np.ones(len(values), dtype=bool)).astype(np.int64), index=values.index)
    text = as_str_series(values)  # Python ints of any size print exactly
    ints = _integer_text(text)
    is_int, overflow = np.zeros(len(values), dtype=bool), np.zeros(len(values), dtype=bool)
    is_int[ints.rows] = True
    overflow[ints.rows[~ints.fits]] = True
    num = pd.to_numeric(text[~is_int].str.strip(), errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad, inexact = np.zeros(len(values), dtype=bool), np.zeros(len(values), dtype=bool)
    bad[~is_int] = ~np.isfinite(num) | (np.floor(num) != num)
    inexact[~is_int] = np.abs(num) >= EXACT
    col.refuse("int", bad)
    col.refuse("int", overflow, **_BEYOND)
    col.refuse("int", inexact, "has a float too large to be an exact integer", "write it as an integer, or use dtype str")
    out = np.empty(len(values), dtype=np.int64)
    out[ints.rows] = ints.signed.astype(np.int64).to_numpy()  # all within int64 (overflow refused)
    out[~is_int] = num.astype(np.int64)
    return pd.Series(out, index=values.index)

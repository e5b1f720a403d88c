"""Column plumbing shared by the transformers: series coercion, cell kinds, canonical keys.

Raw ID values arrive as strings, integers or floats (an integer column with missing
entries is read as float). They are compared through *canonical keys*: ``42``, ``42.0``,
``np.int64(42)`` and ``"42"`` all become ``"42"``; other floats use ``str`` (``"4.5"``);
strings are kept verbatim (``"007"`` stays ``"007"``).

Everything here works on whole columns; the only per-cell work is done inside pandas
(``Series.map(type)``, a C-level pass like the ``.str`` accessor), never a Python loop.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recstack.errors import SchemaError

__all__ = [
    "LIST",
    "MISSING",
    "SCALAR",
    "STRING",
    "KeyKind",
    "arrow_strings",
    "as_series",
    "as_str_series",
    "bad_labels",
    "text_safe_series",
    "cell_kinds",
    "check_labels",
    "explode_lists",
    "explode_objects",
    "factorize_keys",
    "first_row",
    "float_keys",
    "take_codes",
]

MISSING, STRING, LIST, SCALAR = 0, 1, 2, 3
KeyKind = Literal["int", "str"]

_STR_TYPES = [str, np.str_]
_LIST_TYPES = [list, tuple, np.ndarray, set, frozenset]
_INT_LIMIT = 2.0**63
_STR = np.frompyfunc(str, 1, 1)  # str() per cell into an object array (Python str of any length)
_BOOL_TYPES = (bool, np.bool_)


def as_series(values: Any) -> pd.Series:
    """``values`` as a pandas Series with positional index ``0..n-1`` (rows in errors).

    A list of lists stays one row per inner list (object dtype). Categorical columns (pandas
    ``category``, Arrow ``dictionary``) are decoded. Strings that pandas' ``str``
    dtype cannot hold (a lone surrogate such as ``"\\udce9"``, valid in JSON) keep object dtype.
    """
    if isinstance(values, pd.Series):
        s = values.reset_index(drop=True)
    elif isinstance(values, np.ndarray):
        if values.ndim != 1:
            raise SchemaError(f"expected a 1-D column of values, got an array of shape {values.shape}")
        s = text_safe_series(values)
    elif isinstance(values, (pd.Index, pd.api.extensions.ExtensionArray)):
        s = text_safe_series(values)
    elif isinstance(values, Iterable) and not isinstance(values, (str, bytes)):
        items = list(values)
        s = text_safe_series(items, None if _flat(items) else object)
        if s.dtype.kind == "f" and pd.api.types.infer_dtype(items, skipna=True) != "floating":  # C-level
            s = pd.Series(items, dtype=object)  # [id, None] (integers): float64 would round IDs above 2**53
    else:
        raise SchemaError(f"expected a column of values (Series, array or list), got {type(values).__name__}")
    if isinstance(s.dtype, pd.CategoricalDtype) or (  # Arrow list columns: cells as lists, as from read_table
        isinstance(s.dtype, pd.ArrowDtype) and pa.types.is_list(s.dtype.pyarrow_dtype)
        or isinstance(s.dtype, pd.ArrowDtype) and pa.types.is_large_list(s.dtype.pyarrow_dtype)
    ):
        s = s.astype(object)
    elif isinstance(s.dtype, pd.ArrowDtype) and pa.types.is_dictionary(s.dtype.pyarrow_dtype):
        # pd.read_parquet(dtype_backend="pyarrow") of a saved category column: decoded to its value
        # type (string, int, ...), then checked and keyed like any column of that type
        s = s.astype(pd.ArrowDtype(s.dtype.pyarrow_dtype.value_type))
    if isinstance(s.dtype, pd.ArrowDtype) and pa.types.is_floating(s.dtype.pyarrow_dtype):
        s = _nan_as_null(s)
    return s


def _nan_as_null(s: pd.Series) -> pd.Series:
    """An Arrow float column with NaN (a value to Arrow, not a null) as one with nulls there: NaN
    is missing, as in a NumPy float column, so it is never counted as an ID nor hashed to OOV."""
    arr = pa.array(s.array)  # the Arrow data (ArrowExtensionArray.__arrow_array__)
    nan = pc.is_nan(arr)
    if not pc.any(nan).as_py():
        return s
    fixed = pc.if_else(nan, pa.scalar(None, type=arr.type), arr)
    return pd.Series(pd.arrays.ArrowExtensionArray(fixed), index=s.index, name=s.name)


def text_safe_series(values: Any, dtype: Any = None) -> pd.Series:
    """``pd.Series(values, dtype)``; object dtype where the inferred ``str`` dtype (UTF-8, Arrow)
    cannot hold a string (a lone surrogate)."""
    try:
        return pd.Series(values, dtype=dtype)
    except UnicodeEncodeError:
        return pd.Series(values, dtype=object)


# Lone surrogates ("\udce9", valid in JSON) have no UTF-8 form, so neither Arrow nor pandas' str
# dtype can hold them: the helpers below take the Arrow path and fall back to Python objects.


def as_str_series(values: pd.Series) -> pd.Series:
    """Each cell as ``str(cell)``, in pandas' ``str`` dtype (Arrow: vectorized string methods),
    or object dtype where a string has no UTF-8 form (a lone surrogate). The index is kept."""
    try:
        return values.astype(str)
    except UnicodeEncodeError:
        return pd.Series(_STR(values.to_numpy(dtype=object)), index=values.index, dtype=object)


def arrow_strings(values: pd.Series | np.ndarray) -> pa.Array | None:
    """``(n,)`` ``str`` cells as an Arrow ``large_string`` array, or ``None`` where a string has no
    UTF-8 form (a lone surrogate): the caller then takes its Python ``str`` path."""
    cells = values.to_numpy(dtype=object) if isinstance(values, pd.Series) else values
    try:
        return pa.array(cells, type=pa.large_string())
    except UnicodeEncodeError:
        return None


def explode_lists(cells: pd.Series) -> pd.Series:
    """List-like cells -> their elements, indexed by the cell's label: ``Series.explode`` (a ``str``
    result where pandas infers one; an empty list gives one missing element), or
    :func:`explode_objects` where a string has no UTF-8 form (a lone surrogate)."""
    try:
        return cells.explode()
    except UnicodeEncodeError:
        return explode_objects(cells)


def explode_objects(cells: pd.Series) -> pd.Series:
    """List-like cells -> their elements as an object Series indexed by the cell's label.

    Like ``Series.explode`` without its dtype inference (a ``str`` result cannot hold a lone
    surrogate) and without a missing element for an empty list. One Python pass over the
    elements: for the paths that are Python-bound already (Python ``re`` splits, surrogates).
    """
    lengths = cells.map(len).to_numpy(dtype=np.int64)
    elements = np.fromiter(itertools.chain.from_iterable(cells), dtype=object, count=int(lengths.sum()))
    return pd.Series(elements, index=np.repeat(cells.index.to_numpy(), lengths), dtype=object)


def _flat(values: Any) -> bool:
    """True unless the first element is list-like (lets pandas infer a flat dtype)."""
    for v in values:
        return not isinstance(v, (list, tuple, np.ndarray, set, frozenset))
    return True


def first_row(mask: np.ndarray) -> int:
    """Position of the first True in ``mask`` (callers guarantee one exists)."""
    return int(np.flatnonzero(mask)[0])


def such_rows(mask: np.ndarray) -> str:
    """``"1 such row"`` / ``"3 such rows"``: how many rows an error's first row stands for."""
    n = int(np.count_nonzero(mask))
    return f"{n} such row{'' if n == 1 else 's'}"


def cell_kinds(s: pd.Series) -> np.ndarray:
    """Per cell: ``MISSING``, ``STRING``, ``LIST`` (list/tuple/array/set) or ``SCALAR``.

    Returns:
        ``(n,)`` int8 array.
    """
    missing = s.isna().to_numpy(dtype=bool)
    kinds = np.full(len(s), SCALAR, dtype=np.int8)
    if pd.api.types.is_string_dtype(s.dtype) and s.dtype != object:
        kinds[:] = STRING
    elif s.dtype == object:
        inferred = pd.api.types.infer_dtype(s, skipna=True)
        if inferred in ("string", "empty"):
            kinds[:] = STRING
        elif inferred not in ("integer", "floating", "mixed-integer-float", "boolean", "decimal"):
            types = s.map(type)  # one pass inside pandas; no Python-level loop
            kinds[types.isin(_STR_TYPES).to_numpy()] = STRING
            kinds[types.isin(_LIST_TYPES).to_numpy()] = LIST
    kinds[missing] = MISSING
    return kinds


_LABEL_TYPES = (str, int, float, np.integer, np.floating, np.bool_)  # bool is an int
_LABEL_INFERRED = frozenset({"string", "empty", "integer", "floating", "mixed-integer-float", "boolean"})


def bad_labels(s: pd.Series, strict: bool = True) -> np.ndarray:
    """``(len(s),)`` bool: present cells that are not a str, int, float or bool (NumPy scalars
    included); with ``strict=False`` only unhashable ones (dicts), which cannot even be looked up."""
    dtype = s.dtype
    if dtype != object:
        ok = not strict or (pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_integer_dtype(dtype)
                            or pd.api.types.is_float_dtype(dtype) or pd.api.types.is_string_dtype(dtype))
        return np.zeros(len(s), dtype=bool) if ok else s.notna().to_numpy(dtype=bool)
    if len(s) == 0 or pd.api.types.infer_dtype(s, skipna=True) in _LABEL_INFERRED:
        return np.zeros(len(s), dtype=bool)
    types = s.map(type)  # one pass inside pandas; subclass checks on the distinct types only
    bad_types = [
        t for t in pd.unique(types)
        if t.__hash__ is None or (strict and (not issubclass(t, _LABEL_TYPES) or issubclass(t, np.timedelta64)))
    ]
    return types.isin(bad_types).to_numpy(dtype=bool) & s.notna().to_numpy(dtype=bool)


def label_type_error(column: str, row: Any, value: Any, where: str = "") -> SchemaError:
    """The error for a cell that cannot be an ID, label or text (see :func:`check_labels`)."""
    kind = type(value).__name__
    if isinstance(value, (bytes, bytearray)):
        fix = f"decode the column, e.g. df[{column!r}] = df[{column!r}].str.decode('utf-8')"
    elif isinstance(value, dict):
        fix = "take the field you need into a column of its own (a struct/dict is not an ID)"
    else:
        fix = f"convert the column, e.g. df[{column!r}] = df[{column!r}].astype(str)"
    return SchemaError(
        f"column {column!r}: row {row} holds {_short(value)} (type {kind}){where}; IDs, labels and text "
        f"must be strings, integers, floats or booleans (they are saved as JSON); {fix}"
    )


def check_labels(s: pd.Series, *, column: str, where: str = "", strict: bool = True) -> None:
    """Raises :class:`SchemaError` at the first present cell of ``s`` that is not a str, int,
    float or bool (NumPy scalars too), naming its row by ``s``'s index label.

    Fitting is strict: bytes, dicts (Parquet structs), dates and other objects would fit, then
    fail when the model is saved (they are not JSON). Transforming (``strict=False``) refuses
    only unhashable cells (dicts); other objects are keyed by ``str()`` and are unseen values.
    """
    bad = bad_labels(s, strict)
    if bad.any():
        i = first_row(bad)
        raise label_type_error(column, s.index[i], s.iloc[i], where)


def factorize_keys(
    values: Any, *, column: str = "values", strict: bool = False
) -> tuple[np.ndarray, np.ndarray, KeyKind]:
    """Factorizes a column of scalar IDs into codes over canonical string keys.

    The column is hashed once (``pd.factorize``); only its distinct values are turned into
    canonical strings, so the cost is one pass plus work on the uniques.

    Returns:
        ``codes``: ``(n,)`` int64 into ``keys`` (-1 where missing); ``keys``: ``(u,)``
        object array of ``str`` (two raw values may share a key, e.g. ``42`` and ``"42"``);
        ``kind``: ``"int"`` when every present value is an integer (or an integral float).

    Raises:
        SchemaError: a cell holds a list (the column needs ``multi_hot``/``sequence``), or a
            dict, or (``strict``, for fitting) a value that is not a str, int, float or bool.
    """
    s = as_series(values)
    if s.dtype == object:
        kinds = cell_kinds(s)
        if (kinds == LIST).any():
            row = first_row(kinds == LIST)
            raise SchemaError(
                f"column {column!r}: row {row} holds a list-like value {_short(s.iloc[row])}, but this "
                "feature needs one scalar ID per row; declare the column as type: multi_hot or "
                "type: sequence, or flatten it"
            )
        if pd.api.types.infer_dtype(s, skipna=True) in ("mixed", "mixed-integer"):
            # pandas hashes True == 1 == 1.0 as one value and keys it by whichever comes first;
            # bools are keyed "True"/"False" whatever else the column holds
            is_bool = s.map(type).isin(_BOOL_TYPES).to_numpy()
            if is_bool.any():
                s = s.copy()
                s[is_bool] = s[is_bool].map(str)
    try:
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
    except TypeError:  # an unhashable cell (a dict from a Parquet struct)
        check_labels(s, column=column, strict=False)
        raise
    distinct = pd.Series(uniques)
    if strict:
        bad = bad_labels(distinct)
        if bad.any():
            row = first_row(codes == first_row(bad))
            raise label_type_error(column, row, s.iloc[row])
    keys, kind = _canonical(distinct)
    return np.asarray(codes, dtype=np.int64), keys, kind


def canonical_keys(values: Any, *, column: str = "key") -> np.ndarray:
    """``(n,)`` object array: each row's canonical key (``1``, ``1.0`` and ``"1"`` alike), ``None``
    where missing; for matching raw IDs across tables the way vocabularies do."""
    codes, keys, _ = factorize_keys(values, column=column)
    out = np.full(len(codes), None, dtype=object)
    out[codes >= 0] = keys[codes[codes >= 0]]
    return out


def take_codes(per_key: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``per_key[codes]`` as ``(n,)`` int64, with 0 (padding) where ``codes == -1``."""
    out = np.zeros(len(codes), dtype=np.int64)
    present = codes >= 0
    out[present] = per_key[codes[present]]
    return out


def _canonical(s: pd.Series) -> tuple[np.ndarray, KeyKind]:
    """Canonical keys of distinct, present, scalar values (``(u,)`` object array of str)."""
    dtype = s.dtype
    if len(s) == 0:
        return np.empty(0, dtype=object), "str"
    if pd.api.types.is_bool_dtype(dtype):
        return s.astype(str).to_numpy(dtype=object), "str"
    if pd.api.types.is_integer_dtype(dtype):
        return _int_keys(s.to_numpy()), "int"
    if pd.api.types.is_float_dtype(dtype):
        keys, integral = float_keys(s.to_numpy(dtype=np.float64))
        return keys, "int" if integral.all() else "str"
    if dtype != object:  # pandas string dtype and other extension dtypes
        return s.astype(str).to_numpy(dtype=object), "str"
    if pd.api.types.infer_dtype(s) == "integer":
        try:
            return _int_keys(s.to_numpy(dtype=np.int64)), "int"
        except OverflowError:  # beyond int64: exact decimal strings, returned as strings
            return s.astype(str).to_numpy(dtype=object), "str"
    kinds = cell_kinds(s)
    is_str = kinds == STRING
    keys = s.to_numpy(dtype=object).copy()
    keys[is_str] = _STR(keys[is_str])  # np.str_ -> str (not NumPy's fixed-width str: it cuts a trailing "\x00")
    scalar = ~is_str
    all_int = not is_str.any()
    if scalar.any():
        sub = s[scalar]
        types = sub.map(type)  # distinct values only: one Python call per unique
        is_bool = types.isin(_BOOL_TYPES).to_numpy()
        is_int = types.map(lambda t: issubclass(t, (int, np.integer))).to_numpy() & ~is_bool
        num = pd.to_numeric(sub, errors="coerce")
        numeric = num.notna().to_numpy(dtype=bool) & ~is_bool & ~is_int
        fkeys, integral = float_keys(num.to_numpy(dtype=np.float64, na_value=np.nan)[numeric])
        skeys = sub.astype(str).to_numpy(dtype=object)  # bools: "True"/"False", as a bool column
        skeys[numeric] = fkeys
        skeys[is_int] = [str(int(v)) for v in sub[is_int]]  # exact, however large
        keys[scalar] = skeys
        all_int = all_int and bool((is_int | numeric).all()) and bool(integral.all())
    return keys, "int" if all_int else "str"


def _int_keys(a: np.ndarray) -> np.ndarray:
    """Decimal strings of an integer array (pandas' Arrow cast: ~10x numpy's ``astype(str)``)."""
    return pd.Series(a).astype(str).to_numpy(dtype=object)


EXACT = 2.0**53  # float64 holds every integer below this, and not all above


def exact_integers(f: np.ndarray) -> np.ndarray:
    """``(n,)`` bool: the float64 values that are whole numbers below 2**53, the floats that stand
    for one integer ID exactly (from 2**53 on, float64 may have rounded the integer)."""
    return np.isfinite(f) & (np.floor(f) == f) & (np.abs(f) < EXACT)


def float_keys(f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Canonical keys of ``(n,)`` non-NaN float64 values: integral ones as the integer (``"42"``),
    others as ``str(x)`` (``"4.5"``); and the ``(n,)`` bool mask of the integral ones. The one rule
    for a float ID's text (vocabularies, and ``read_table``'s ``str`` columns)."""
    integral = np.isfinite(f) & (np.floor(f) == f) & (np.abs(f) < _INT_LIMIT)
    keys = np.empty(len(f), dtype=object)
    keys[integral] = _int_keys(f[integral].astype(np.int64))
    keys[~integral] = pd.Series(f[~integral], dtype=np.float64).astype(str).to_numpy(dtype=object)
    return keys, integral


def plain_value(value: Any) -> Any:
    """A NumPy scalar as the Python value it holds, for messages (``5``, not ``np.int64(5)``)."""
    return value.item() if isinstance(value, np.generic) else value


def _short(value: Any, limit: int = 60) -> str:
    """A short repr of a cell for error messages (NumPy scalars as plain Python values)."""
    text = repr(plain_value(value))
    return text if len(text) <= limit else text[: limit - 3] + "..."

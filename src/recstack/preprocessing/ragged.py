"""Variable-length columns: parse to (flat values, lengths), then pad to ``(n, L)`` IDs.

A ragged column holds, per row, a delimited string (``"a|b|c"``), a list / tuple / NumPy
array of labels, or a missing value (an empty row)::

    rows     ["a|b", ["c"], None, "d"]
    flat     ["a", "b", "c", "d"]        (row by row, order kept: oldest -> newest)
    lengths  [2, 1, 0, 1]
    pad(ids, lengths, 3)  ->  [[ia, ib, 0], [ic, 0, 0], [0, 0, 0], [id, 0, 0]]
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recstack.errors import SchemaError
from recstack.preprocessing._cells import (
    LIST,
    MISSING,
    SCALAR,
    STRING,
    _short,
    as_series,
    cell_kinds,
    check_labels,
    explode_lists,
    first_row,
)
from recstack.preprocessing._split import split_strings

__all__ = ["split_ragged", "pad"]


def split_ragged(
    values: Any, *, separator: str | None = None, column: str = "values", strict: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Parses a ragged column into its labels and per-row lengths.

    Strings are split on ``separator`` (literal, not a regex; Arrow kernels); labels are
    stripped and empty ones dropped (``"a||b "`` -> ``["a", "b"]``). List-likes are taken
    exactly as given, neither stripped nor filtered (``[" a", ""]`` is two labels); only
    missing elements are dropped. A missing cell is an empty row. A number or bool cell
    (no lists in the column) is one label, not split: ``["a|b", 7]`` -> ``["a", "b", 7]``, and
    ``7`` is the same label as ``"7"``.

    Args:
        values: ``(n,)`` column.
        separator: delimiter of string cells; ``None`` makes a string cell an error.
        column: name used in error messages.
        strict: refuse labels that are not a str, int, float or bool (fitting: they could not
            be saved); otherwise only dicts are refused (transforming: others are unseen labels).

    Returns:
        ``flat``: ``(total,)`` array of labels (object, or numeric when every label is a
        number), row after row; ``lengths``: ``(n,)`` int64.

    Raises:
        SchemaError: a list nested in a list, scalars mixed with lists, a string without a
            separator, or a label of the wrong type (see ``strict``); the message names the
            column and the first bad row.
    """
    arrow = _arrow_lists(values)
    if arrow is not None:  # e.g. add_history's output: flat buffers, no per-row Python
        return arrow
    s = as_series(values)
    n = len(s)
    kinds = cell_kinds(s)
    is_str, is_list, is_scalar = kinds == STRING, kinds == LIST, kinds == SCALAR
    if is_scalar.any():
        check_labels(s if s.dtype != object else s[is_scalar], column=column, strict=strict)
    if not is_list.any() and not is_str.any():
        present = kinds != MISSING
        return s[present].to_numpy(), present.astype(np.int64)
    if is_list.any() and is_scalar.any():
        row = first_row(is_scalar)
        raise SchemaError(
            f"column {column!r}: row {row} holds {_short(s.iloc[row])}, but other rows hold lists; "
            "a ragged column needs, per row, a list, a delimited string or a missing value; "
            "make the column consistent (e.g. wrap single values in a list)"
        )
    if is_str.any() and separator is None:
        row = first_row(is_str)
        raise SchemaError(
            f"column {column!r}: row {row} holds the string {_short(s.iloc[row])} but the feature has "
            "no separator; set separator: '<delimiter>' on the feature, or give lists"
        )
    if is_list.all():
        arrays = _numeric_arrays(s)
        if arrays is not None:  # e.g. add_history's output: no per-element Python objects
            lengths = np.fromiter((a.shape[0] for a in arrays), dtype=np.int64, count=n)
            flat = np.concatenate(arrays) if n else np.zeros(0, dtype=np.int64)
            return flat, lengths
    flats, rows = [], []
    if is_str.any():
        tokens, parents = split_strings(s[is_str], separator)  # type: ignore[arg-type]
        flats.append(tokens)
        rows.append(np.flatnonzero(is_str)[parents])
    if is_scalar.any():  # numbers among delimited strings (e.g. an integer data.defaults fill): one label each
        flats.append(s[is_scalar].to_numpy(dtype=object))
        rows.append(np.flatnonzero(is_scalar))
    if is_list.any():
        exploded = explode_lists(s[is_list])  # index = row position of each element
        elements = exploded.reset_index(drop=True)
        element_kinds = cell_kinds(elements)
        if (element_kinds == LIST).any():
            row = int(exploded.index[first_row(element_kinds == LIST)])
            raise SchemaError(
                f"column {column!r}: row {row} holds a nested list {_short(s.iloc[row])}; "
                "a ragged column needs flat lists of labels"
            )
        check_labels(exploded, column=column, where=" in its list", strict=strict)  # strings pass; no nested lists here
        keep = element_kinds != MISSING
        flats.append(_narrow(elements[keep].to_numpy(dtype=object)))
        rows.append(exploded.index.to_numpy(dtype=np.int64)[keep])
    flat, row_ids = (flats[0], rows[0]) if len(flats) == 1 else (np.concatenate(flats), np.concatenate(rows))
    if len(flats) > 1:  # strings and lists interleaved: restore row order, stable within a row
        order = np.argsort(row_ids, kind="stable")
        flat, row_ids = flat[order], row_ids[order]
    return flat, np.bincount(row_ids, minlength=n).astype(np.int64)


def _arrow_lists(values: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """``(flat, lengths)`` of an Arrow list column of integers or strings straight from its
    buffers (a missing row or element is dropped, as elsewhere); ``None`` for anything else,
    which the general path parses and checks."""
    dtype = getattr(values, "dtype", None)
    if not (isinstance(values, pd.Series) and isinstance(dtype, pd.ArrowDtype)):
        return None
    kind = dtype.pyarrow_dtype
    if not (pa.types.is_list(kind) or pa.types.is_large_list(kind)):
        return None
    item = kind.value_type
    if not (pa.types.is_integer(item) or pa.types.is_string(item) or pa.types.is_large_string(item)):
        return None
    lists = pa.chunked_array(values.array._pa_array).combine_chunks()
    flat = pc.list_flatten(lists)  # the valid rows' elements (a missing row holds none, whatever its slots)
    lengths = pc.list_value_length(lists).fill_null(0).to_numpy(zero_copy_only=False)
    if flat.null_count:  # missing elements dropped: lengths recounted from each element's row
        keep = pc.is_valid(flat).to_numpy(zero_copy_only=False)
        rows = np.repeat(np.arange(len(lengths)), lengths)[keep]
        flat, lengths = flat.filter(pa.array(keep)), np.bincount(rows, minlength=len(values))
    out = flat.to_numpy(zero_copy_only=False)  # integers without nulls: zero-copy
    if out.dtype.kind == "i" or (out.dtype.kind == "u" and out.dtype.itemsize < 8):
        out = out.astype(np.int64, copy=False)
    return out, lengths.astype(np.int64, copy=False)


def _numeric_arrays(s: pd.Series) -> list[np.ndarray] | None:
    """The cells as 1-D integer NumPy arrays of one common integer dtype, or None when any cell
    is something else or the dtypes have no common integer type (int64 with uint64: NumPy would
    promote to float64 and round IDs above 2**53, so the exact object path takes them)."""
    cells = s.tolist()
    if not all(type(c) is np.ndarray and c.ndim == 1 and c.dtype.kind in "iu" for c in cells):
        return None
    dtypes = {c.dtype for c in cells if c.shape[0]}  # an empty cell's dtype holds no value
    common = np.result_type(*dtypes) if dtypes else np.dtype(np.int64)
    if common.kind not in "iu":
        return None
    return [c.astype(common, copy=False) for c in cells]


def _narrow(values: np.ndarray) -> np.ndarray:
    """An object array of integers as int64 (much faster to factorize later); else unchanged."""
    if pd.api.types.infer_dtype(values, skipna=False) == "integer":
        try:
            return values.astype(np.int64)
        except OverflowError:
            return values
    return values


def pad(
    flat: np.ndarray,
    lengths: np.ndarray,
    max_length: int | None = None,
    *,
    keep: Literal["last", "first"] = "last",
) -> np.ndarray:
    """Packs row-wise ``flat`` IDs into a left-aligned ``(n, L)`` int64 matrix (0 = padding).

    Args:
        flat: ``(total,)`` int IDs, row after row (``sum(lengths) == total``).
        lengths: ``(n,)`` entries per row.
        max_length: ``L``; ``None`` uses the longest row (at least 1).
        keep: which end survives when a row is longer than ``L``: ``"last"`` (most recent)
            or ``"first"``. Order within a row is preserved either way.

    Returns:
        ``(n, L)`` int64; row ``i`` holds ``min(lengths[i], L)`` IDs then zeros.

    Example:
        >>> pad(np.array([1, 2, 3, 4]), np.array([3, 1]), 2).tolist()
        [[2, 3], [4, 0]]
    """
    flat = np.asarray(flat, dtype=np.int64).reshape(-1)
    lengths = np.asarray(lengths, dtype=np.int64).reshape(-1)
    if keep not in ("last", "first"):
        raise ValueError(f"keep: expected 'last' or 'first', got {keep!r}")
    if lengths.sum() != flat.size or (lengths < 0).any():
        raise ValueError(f"pad: lengths sum to {int(lengths.sum())} but there are {flat.size} values")
    n = lengths.size
    width = int(max(lengths.max(initial=0), 1) if max_length is None else max_length)
    if width < 1:
        raise ValueError(f"max_length: expected an integer >= 1, got {max_length!r}")
    kept = np.minimum(lengths, width)
    # (n, L) slots that receive a value, filled in C order = row by row, left to right;
    # only per-row arrays and the kept values are allocated (no per-element row/position
    # arrays: ML-100K "others" histories have ~10M elements)
    slots = np.arange(width) < kept[:, None]
    out = np.zeros((n, width), dtype=np.int64)
    if (kept == lengths).all():
        out[slots] = flat
        return out
    first = np.cumsum(lengths) - lengths  # first element of each row in flat
    if keep == "last":
        first += lengths - kept
    # flat positions of the kept values: concatenated ranges first[i] .. first[i] + kept[i]
    take = np.arange(int(kept.sum()), dtype=np.int64)
    take += np.repeat(first - (np.cumsum(kept) - kept), kept)
    out[slots] = flat[take]
    return out

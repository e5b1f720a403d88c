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

from recstack.errors import SchemaError
from recstack.preprocessing._cells import LIST, MISSING, SCALAR, STRING, _short, as_series, cell_kinds, first_row

__all__ = ["split_ragged", "pad"]


def split_ragged(
    values: Any, *, separator: str | None = None, column: str = "values"
) -> tuple[np.ndarray, np.ndarray]:
    """Parses a ragged column into its labels and per-row lengths.

    Strings are split on ``separator`` (literal, not a regex); labels are stripped and empty
    ones dropped (``"a||b "`` -> ``["a", "b"]``). List-likes are taken as they are (missing
    elements dropped). A missing cell is an empty row. A column of plain scalars (no lists)
    is one label per row.

    Args:
        values: ``(n,)`` column.
        separator: delimiter of string cells; ``None`` makes a string cell an error.
        column: name used in error messages.

    Returns:
        ``flat``: ``(total,)`` object array of labels; ``lengths``: ``(n,)`` int64.

    Raises:
        SchemaError: a list nested in a list, scalars mixed with lists, or a string without a
            separator; the message names the column and the first bad row.
    """
    s = as_series(values)
    n = len(s)
    kinds = cell_kinds(s)
    if not (kinds == LIST).any() and not (kinds == STRING).any():
        present = kinds != MISSING
        return s[present].to_numpy(dtype=object), present.astype(np.int64)
    if (kinds == LIST).any() and (kinds == SCALAR).any():
        row = first_row(kinds == SCALAR)
        raise SchemaError(
            f"column {column!r}: row {row} holds {_short(s.iloc[row])}, but other rows hold lists; "
            "a ragged column needs, per row, a list, a delimited string or a missing value; "
            "make the column consistent (e.g. wrap single values in a list)"
        )
    is_str = kinds == STRING
    if is_str.any() and separator is None:
        row = first_row(is_str)
        raise SchemaError(
            f"column {column!r}: row {row} holds the string {_short(s.iloc[row])} but the feature has "
            "no separator; set separator: '<delimiter>' on the feature, or give lists"
        )
    cells = s.astype(object).where(kinds != MISSING, None)
    if is_str.any():
        split = cells[is_str].str.split(separator, regex=False)
        cells = cells.where(~is_str, split)
    exploded = cells.explode()
    rows = exploded.index.to_numpy(dtype=np.int64)
    flat = exploded.reset_index(drop=True)
    flat_kinds = cell_kinds(flat)
    nested = flat_kinds == LIST
    if nested.any():
        row = int(rows[first_row(nested)])
        raise SchemaError(
            f"column {column!r}: row {row} holds a nested list {_short(s.iloc[row])}; "
            "a ragged column needs flat lists of labels"
        )
    from_str = is_str[rows] & (flat_kinds == STRING)
    if from_str.any():
        flat = flat.astype(object)
        flat[from_str] = flat[from_str].str.strip()
    keep = flat_kinds != MISSING
    keep[from_str] &= flat[from_str].str.len().to_numpy(dtype=np.int64) > 0
    lengths = np.bincount(rows[keep], minlength=n).astype(np.int64)
    return flat[keep].to_numpy(dtype=object), lengths


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
    row = np.repeat(np.arange(n), lengths)
    starts = np.cumsum(lengths) - lengths
    pos = np.arange(flat.size) - starts[row]
    if keep == "last":
        pos = pos - np.maximum(lengths - width, 0)[row]
    inside = (pos >= 0) & (pos < width)
    out = np.zeros((n, width), dtype=np.int64)
    out[row[inside], pos[inside]] = flat[inside]
    return out

"""Finding raw IDs by canonical key, the way vocabularies match them.

Raw IDs reach the library from many places: training tables, side tables, test files, API
requests, CLI arguments. ``42``, ``42.0`` (an integer column with a gap is read as float),
``np.int64(42)`` and ``"42"`` must all name one user or item wherever they come from, so
every lookup goes through :func:`~recstack.preprocessing._cells.canonical_keys`: one
vectorized pass over the column, one Python call per *distinct* value at most.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
import torch

from recstack.errors import SchemaError, empty_cells
from recstack.preprocessing._cells import canonical_keys, factorize_keys, first_row

__all__ = ["KeyIndex", "key_codes", "one_row_per_key", "require_ids", "require_items"]


class KeyIndex:
    """Rows of a list of raw IDs, looked up by canonical key.

    Args:
        values: the raw IDs, one per row (e.g. the catalogue's item IDs).
        column: name used in errors.
        lenient: accept missing IDs (their rows match nothing) and repeated ones (the first
            row wins), for artifacts written before IDs were checked; new tables are strict.

    Raises:
        SchemaError: (strict) an ID is missing, or two rows share a canonical key (``1`` and ``"1"``).
    """

    def __init__(self, values: Any, *, column: str = "key", lenient: bool = False) -> None:
        keys = canonical_keys(values, column=column)
        self._size = len(keys)
        missing = pd.isna(keys)
        repeated = pd.Series(keys, dtype=object).duplicated().to_numpy() & ~missing
        if not lenient and missing.any():
            raise SchemaError(f"column {column!r}: row {first_row(missing)} has no ID; every row needs one")
        if not lenient and repeated.any():
            row = first_row(repeated)
            raise SchemaError(f"column {column!r}: row {row} repeats ID {keys[row]!r} (IDs compare canonically: "
                              "1, 1.0 and '1' are one ID); drop the duplicate rows")
        kept = ~missing & ~repeated
        self._rows = np.flatnonzero(kept)
        self._index = pd.Index(keys[kept], dtype=object)

    def __len__(self) -> int:
        return self._size

    def positions(self, values: Any, *, column: str = "key") -> np.ndarray:
        """``(n,)`` int64: each raw ID's row, ``-1`` where it is absent or missing."""
        keys = canonical_keys(values, column=column)
        found = np.asarray(self._index.get_indexer(pd.Index(keys, dtype=object)), dtype=np.int64)
        found[pd.isna(keys)] = -1
        out = np.full(len(found), -1, dtype=np.int64)
        hit = found >= 0
        out[hit] = self._rows[found[hit]]  # (an empty index has no row 0 to point at)
        return out


def key_codes(*columns: Any, column: str = "key") -> list[np.ndarray]:
    """Joint codes of several ID columns: equal canonical keys get equal codes, in every column.

    Returns one ``(len(col),)`` int64 array per column, ``-1`` where an ID is missing.
    """
    # each column hashed once (factorize_keys); then only the distinct keys, not every row again
    parts = [factorize_keys(c, column=column)[:2] for c in columns]
    distinct = np.concatenate([keys for _, keys in parts]) if parts else np.empty(0, dtype=object)
    joint, _ = pd.factorize(pd.Series(distinct, dtype=object), use_na_sentinel=True)
    out, start = [], 0
    for codes, keys in parts:  # first appearance in row order, as factorizing the rows would give
        per_key = joint[start : start + len(keys)]
        start += len(keys)
        c = np.full(len(codes), -1, dtype=np.int64)
        c[codes >= 0] = per_key[codes[codes >= 0]]
        out.append(c)
    return out


def require_ids(codes: np.ndarray, column: str) -> torch.Tensor:
    """``codes`` as a tensor of query groups; an error naming the row where an ID is missing."""
    if (codes < 0).any():
        raise empty_cells("evaluation data", column, codes < 0,
                          "every evaluation row needs a query ID (metrics are grouped by it)")
    return torch.as_tensor(codes, dtype=torch.long)


def one_row_per_key(values: Any, *, keep: Literal["first", "last"] = "first", column: str = "key") -> np.ndarray:
    """``(n,)`` bool: the rows to keep so each canonical ID appears once (missing IDs dropped)."""
    keys = canonical_keys(values, column=column)
    return ~pd.Series(keys, dtype=object).duplicated(keep=keep).to_numpy() & pd.notna(keys)


def require_items(table: pd.DataFrame, column: str, where: str) -> None:
    """Every interaction names its item: an empty cell would train on the padding index, or
    count as a miss in an evaluation."""
    empty = table[column].isna().to_numpy()
    if empty.any():
        raise empty_cells(where, column, empty, "every interaction needs an item: drop or fill those rows")

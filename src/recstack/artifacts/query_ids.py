"""The query IDs a saved model stores (its known users, then its users-table rows): where a
request's IDs are among them, from one type check and one canonicalisation, and how answers
spell them back."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from recstack.artifacts.requests import check_ids
from recstack.preprocessing._cells import check_labels, exact_integers
from recstack.preprocessing.keys import KeyIndex

__all__ = ["StoredIds", "plain_values"]


class StoredIds:
    """The stored query IDs under one :class:`KeyIndex`: the known users' rows, then the
    users-table rows, so a request's IDs are canonicalised once (the first row of a key wins: a
    known user before a users-table row). Lenient: models saved before IDs were checked may hold
    a missing or repeated ID.

    Args:
        known: the known users' IDs (one per stored training row), or None.
        side: the users-table rows' IDs (users training never saw), or None.
        column: the raw query ID column, which errors name.
    """

    def __init__(self, known: pd.Series | None, side: pd.Series | None, column: str) -> None:
        self.column = column
        self._known, self._side = known, side
        self._n_known = 0 if known is None else len(known)
        ids = [s for s in (known, side) if s is not None and len(s)]
        self._index = None if not ids else KeyIndex(
            ids[0] if len(ids) == 1 else pd.concat([i.astype(object) for i in ids], ignore_index=True),
            column=column, lenient=True)
        self._spellings: tuple[np.ndarray, np.ndarray, bool] | None = None

    def lookup(self, ids: list[Any], given_as: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(known, side)``: each ID's row among the known users and among the users-table rows
        (``-1`` where absent; a known user has no side row), from one check of the IDs' types
        and one canonicalisation.

        ``given_as``: the argument the caller passed the IDs in (``"ids"``), which a type error
        names with the column (``ids (the user_id values)``); ``None``: the column of query rows
        the caller gave (a DataFrame or row dicts), named as a column."""
        if given_as is None:
            check_labels(pd.Series(ids, dtype=object), column=self.column, where=" in the request")
        else:
            check_ids(ids, given_as, self.column)
        if self._index is None:
            return np.full(len(ids), -1), np.full(len(ids), -1)
        at = self._index.positions(ids, column=self.column)
        return np.where(at < self._n_known, at, -1), np.where(at >= self._n_known, at - self._n_known, -1)

    def echo(self, ids: pd.Series, known: np.ndarray, side: np.ndarray) -> np.ndarray:
        """``(n,)`` object: each query ID for an answer's query column, as the request gave it,
        but a whole float below 2**53 (pandas makes an integer column float when a row has no
        ID) as the training table spelled that ID (a users-table row's spelling for its users;
        an unknown one as an integer when the column holds integers). From 2**53 on, float64 has
        rounded the ID (the lookup keys it as the rounded integer): it stays the float given.

        ``known``/``side``: the IDs' rows from the request's one :meth:`lookup`, not looked up
        again; whole columns at a time (no Python per row)."""
        out = ids.to_numpy(dtype=object).copy()
        if ids.dtype == object:
            if pd.api.types.infer_dtype(ids, skipna=True) in ("integer", "string", "boolean", "empty"):
                return out  # no float among them (one pass in pandas)
            types = ids.map(type)  # one pass in pandas; subclass checks on the distinct types only
            floats = types.isin([t for t in pd.unique(types) if issubclass(t, (float, np.floating))]).to_numpy()
        else:
            floats = np.full(len(out), pd.api.types.is_float_dtype(ids.dtype))
        f = np.zeros(len(out))
        f[floats] = out[floats].astype(np.float64)
        rows = np.flatnonzero(floats & exact_integers(f))
        if rows.size == 0 or self._known is None and self._side is None:
            return out
        known_ids, side_ids, integers = self._stored_spellings()
        k, s = known[rows], side[rows]
        spelled = (f[rows].astype(np.int64) if integers else f[rows]).astype(object)  # unknown: int, or as given
        spelled[k >= 0] = known_ids[k[k >= 0]]
        spelled[s >= 0] = side_ids[s[s >= 0]]
        out[rows] = spelled
        return out

    def known_spellings(self) -> np.ndarray:
        """``(n_known,)`` object: the known users' IDs as plain Python values (as JSON writes
        them), by their row; computed once."""
        return self._stored_spellings()[0]

    def _stored_spellings(self) -> tuple[np.ndarray, np.ndarray, bool]:
        """The stored IDs as plain Python values (known users, users-table rows), as JSON writes
        them, and whether a stored ID column holds integers: computed once, for :meth:`echo`."""
        if self._spellings is None:
            stored = [pd.Series([], dtype=object) if s is None else s for s in (self._known, self._side)]
            known, side = (plain_values(s) for s in stored)
            integers = any(pd.api.types.is_integer_dtype(s.dtype) or pd.api.types.infer_dtype(s) == "integer"
                           for s in stored)  # (an absent table's empty object column counts as neither)
            self._spellings = (known, side, integers)
        return self._spellings


def plain_values(ids: pd.Series) -> np.ndarray:
    """``(n,)`` object: ``ids`` as plain Python values (NumPy scalars as the value they hold), as
    JSON writes them. Whole columns at a time: a NumPy or pandas dtype gives Python scalars
    already; an object column is converted only in its cells of NumPy types (Python only for
    the distinct types and those cells)."""
    out = ids.to_numpy(dtype=object)
    if ids.dtype != object and not isinstance(ids.dtype, pd.CategoricalDtype):
        return out  # a new array of Python scalars (int64 -> int, float32 -> float, Int64's NA as pd.NA)
    out = out.copy()  # an object column's own array: not to be shared
    kinds = list(set(map(type, out)))  # one pass in C
    if not any(issubclass(t, np.generic) for t in kinds):
        return out
    code = {t: i for i, t in enumerate(kinds)}
    types = np.fromiter(map(code.__getitem__, map(type, out)), dtype=np.int64, count=len(out))
    for i, t in enumerate(kinds):
        if not issubclass(t, np.generic):
            continue
        cells = types == i
        if np.dtype(t).kind in "biuf":  # a NumPy array of one number type gives Python scalars at once
            out[cells] = out[cells].astype(t).astype(object)
        else:  # (dates, text: .item() as plain_value does)
            out[cells] = [v.item() for v in out[cells]]
    return out

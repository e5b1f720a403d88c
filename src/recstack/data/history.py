"""Histories of past choices per row, built without leakage."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from recstack.data._text_times import check_text_times
from recstack.data.splits import check_times
from recstack.errors import ConfigError, SchemaError
from recstack.preprocessing.keys import key_codes

__all__ = ["add_history"]


def add_history(
    df: pd.DataFrame,
    *,
    user_col: str,
    item_col: str,
    time_col: str | None,
    max_length: int = 50,
    output_col: str = "history",
    reference: pd.DataFrame | None = None,
    mode: str = "before",
    before_each_row: bool = False,
    config_keys: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Adds ``output_col``: each row's earlier items of the same user, oldest first.

    Without ``reference``: the items the user had **before** the row: strictly earlier by
    ``time_col`` (an item with the row's own time is not before it: ratings given in the
    same second have no order), or earlier in row order without ``time_col``; never the row
    itself or later rows. Users match by canonical key (``1``, ``1.0`` and ``"1"`` are one
    user); a row without a user gets an empty history. With ``reference`` (a training
    table, for test rows): all of the user's items in ``reference``. The last
    ``max_length`` items are kept. Rows of users without history get an empty list. The
    column is an Arrow list column (``pd.ArrowDtype``: one flat buffer of items and one of
    offsets, no Python object per row; ML-100K "others" histories hold ~10M items) of the item
    column's type (``large_list<int64>``, ``large_list<string>``), whatever lands in it (no
    user, no earlier item, no row), or, for items Arrow cannot hold in one column (mixed
    integers and strings, a lone surrogate), an object column of 1-D NumPy arrays.

    ``mode="others"`` (leave-one-out): each row gets all of the user's OTHER rows, before
    and after it, never itself. That matches test rows of a random split (whose history is
    the whole training profile), where ``"before"`` matches a temporal split.

    ``before_each_row`` (with ``reference`` and ``time_col``): only reference items strictly
    earlier than the row, e.g. for validation rows carved at random from a table whose
    training rows got ``"before"`` histories; otherwise they would see their future.

    ``config_keys``: where the arguments come from in a config, per argument name
    (``{"max_length": "data.history.max_length", "time_col": "data.time_column", ...}``:
    ``recstack.config.data.HISTORY_KEYS``), so errors name the key to change; an argument
    not in it (by default, every one) is named as itself (``time_col``, ``max_length``).
    """
    keys = dict(config_keys or {})

    def key(argument: str) -> str:
        return keys.get(argument, argument)

    if not isinstance(max_length, (int, np.integer)) or max_length < 1:
        raise ValueError(f"{key('max_length')}: must be an integer >= 1, got {max_length!r}")
    if mode not in ("before", "others"):
        raise ValueError(f"{key('mode')}: must be 'before' or 'others', got {mode!r}")
    if before_each_row and not time_col:
        raise ConfigError(f"{key('before_each_row')}: needs a time column ({key('time_col')}) to tell earlier "
                          f"items; give {key('time_col')}")
    src = df if reference is None else reference
    need = [("user_col", user_col), ("item_col", item_col)] + ([("time_col", time_col)] if time_col else [])
    row_need = need[:1] + ([("time_col", time_col)] if time_col and before_each_row else [])
    for table, name in ((src, "reference" if reference is not None else "table"), (df, "table")):
        missing = [(arg, c) for arg, c in (need if table is src else row_need) if c not in table.columns]
        if missing:
            arg, col = missing[0]
            raise SchemaError(f"{key(arg)}: the {name} has no column {col!r} (to build {key('output_col')}); "
                              f"columns: {list(table.columns)}")
    if time_col:
        check_times(src[time_col], time_col, key("time_col") + ("" if reference is None else " (the reference)"),
                    key("time_col"))
    # users as codes of their canonical keys (-1: missing): sorting the raw column would not
    # keep 1 and "1" together, and their rows must be one run of the sorted table
    # (with ``reference``, the rows' users coded jointly: a code the reference lacks is an unseen user)
    codes, row_codes = (key_codes(src[user_col], df[user_col], column=user_col) if reference is not None
                        else (key_codes(src[user_col], column=user_col)[0], None))
    n_users = int(codes.max(initial=-1)) + 1
    order_cols = ["_user"] + ([time_col] if time_col else []) + ["_row"]
    s = src.assign(_user=codes, _row=np.arange(len(src))).sort_values(order_cols, kind="stable")
    s_user = s["_user"].to_numpy()
    items = s[item_col].to_numpy()
    # s_user is sorted by construction; with no user at all, one stand-in that no row reads
    # (rows without a user take the other branch of each np.where below)
    starts = np.searchsorted(s_user, np.arange(max(n_users, 1)))
    stops = np.append(starts[1:], len(s))
    if reference is None:
        # position of each row inside its user's sorted list = number of earlier rows
        pos_in_sorted = np.empty(len(s), dtype=np.int64)
        pos_in_sorted[s["_row"].to_numpy()] = np.arange(len(s))
        known = codes >= 0  # a row without a user has no history (not one shared by all such rows)
        begin = np.where(known, starts[np.maximum(codes, 0)], pos_in_sorted)
        if mode == "others":
            stop = np.where(known, stops[np.maximum(codes, 0)], pos_in_sorted)
            return _leave_one_out(df, output_col, items, begin, stop, pos_in_sorted, max_length)
        end = pos_in_sorted
        if time_col:  # strictly earlier: an item with the row's own time is not before it
            end = np.where(known, _earlier_end(s_user, s[time_col], codes, df[time_col], key("time_col")),
                           pos_in_sorted)
    else:
        assert row_codes is not None
        u = np.where(row_codes < n_users, row_codes, -1)  # 1 and 1.0 name one user; missing or unseen: none
        known = u >= 0
        begin = np.where(known, starts[np.maximum(u, 0)], 0)
        end = np.where(known, stops[np.maximum(u, 0)], 0)
        if before_each_row and time_col:
            end = np.where(known, _earlier_end(s_user, s[time_col], u, df[time_col], key("time_col")), 0)
    begin = np.maximum(begin, end - max_length)
    lengths = end - begin
    flat_idx = np.repeat(begin - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths) + np.arange(lengths.sum())
    out = df.copy(deep=False)  # a new column on a shallow copy: the input keeps its columns (copy-on-write)
    out[output_col] = _cells(items, flat_idx, lengths)
    return out


def _earlier_end(s_user: np.ndarray, s_time: pd.Series, u: np.ndarray, t: pd.Series, time_key: str) -> np.ndarray:
    """Per query row, the end of its user's reference items with time < its time (``time_key``:
    how errors name the time column's setting).

    The reference is sorted by (user, time); (user, dense time rank) packed into one int64
    makes that order a single sorted key, so one ``searchsorted`` finds every row's end.
    """
    check_times(t, str(t.name), f"{time_key} (the rows)", time_key)
    both = pd.concat([s_time, t], ignore_index=True)
    # text times order against each other only when both sides share one ISO shape
    check_text_times(both, str(t.name), f"{time_key} (the reference's rows, then the rows)", time_key)
    rank = both.rank(method="dense").to_numpy(dtype=np.int64)
    width = int(rank.max(initial=0)) + 1
    key = s_user.astype(np.int64) * width + rank[: len(s_time)]
    return np.searchsorted(key, np.maximum(u, 0).astype(np.int64) * width + rank[len(s_time):], side="left")


def _leave_one_out(
    df: pd.DataFrame, output_col: str, items: np.ndarray, start: np.ndarray, stop: np.ndarray,
    self_pos: np.ndarray, max_length: int,
) -> pd.DataFrame:
    """The last ``max_length`` of each user's sorted items, skipping the row itself."""
    begin = np.maximum(start, stop - max_length - 1)
    lengths = stop - begin
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    flat_idx = np.repeat(begin - offsets[:-1], lengths) + np.arange(lengths.sum())
    row_of = np.repeat(np.arange(len(df)), lengths)
    keep = flat_idx != self_pos[row_of]
    # when the row itself is outside the window, drop the window's oldest item instead
    outside = (self_pos < begin) & (lengths == max_length + 1)
    keep[offsets[:-1][outside]] = False
    new_lengths = np.bincount(row_of[keep], minlength=len(df))
    out = df.copy(deep=False)  # a new column on a shallow copy: the input keeps its columns (copy-on-write)
    out[output_col] = _cells(items, flat_idx[keep], new_lengths)
    return out


def _cells(items: np.ndarray, flat_idx: np.ndarray, lengths: np.ndarray
           ) -> pd.api.extensions.ExtensionArray | np.ndarray:
    """The histories as one column: row ``r`` holds the next ``lengths[r]`` items of
    ``items[flat_idx]``. An Arrow list column of the item column's type (one flat buffer and
    offsets, no object per row), the same whatever the rows hold, when Arrow can hold the
    items (integers, or strings); else one NumPy array per row in an object column."""
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    values = _arrow_items(items)
    if values is not None:  # a take in Arrow: no Python object per history item
        lists = pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), values.take(pa.array(flat_idx)))
        return pd.arrays.ArrowExtensionArray(lists)  # assigned by position, not by index
    return np.fromiter(np.split(items[flat_idx], offsets[1:-1]), dtype=object, count=len(lengths))


def _arrow_items(items: np.ndarray) -> pa.Array | None:
    """``(n,)`` items as one Arrow array (integers as they are, text as ``string``), or ``None``."""
    if items.dtype.kind in "iu":
        return pa.array(items)
    if items.dtype == object and pd.api.types.infer_dtype(items) in ("string", "empty"):
        try:
            return pa.array(items, type=pa.string(), from_pandas=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeEncodeError):  # NaN; a lone surrogate ("\udce9")
            return None
    return None

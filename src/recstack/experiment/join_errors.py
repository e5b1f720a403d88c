"""Errors about cells of a column that a ``data.join`` table brought, told in that table's terms.

An error of fitting names a row of the training data (after the joins), which holds the side
table's value copied onto every interaction of its key: the fix is in the side table, at the
row of that key. :func:`side_table_note` says which join, file, key(s) and how many side rows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from recstack.errors import SchemaError
from recstack.experiment.filtering import join_bringing
from recstack.experiment.tables import SideTable, match_keys
from recstack.preprocessing._cells import plain_value

__all__ = ["KEYS_NAMED", "side_table_note"]

KEYS_NAMED = 3  # side-table keys a note names; the count says how many more


def side_table_note(err: SchemaError, table: pd.DataFrame, joins: Mapping[str, SideTable]) -> str:
    """``"; column 'age' comes from data.join.users (<file>): ..."``, or ``""``.

    For an error about cells of a column (``err.column``) that side table ``data.join.<name>``
    brings: the join and its file, the key values of the side rows behind the offending rows of
    ``table`` (the table the check ran on; ``err.rows`` by position, else the one row the message
    names), first in file order, and how many side rows those are. Rows whose key the side table
    lacks are left out (the join left them empty; another hint tells of those).
    """
    column = err.column
    name = None if column is None else join_bringing(column, joins)
    if column is None or name is None:
        return ""
    side = joins[name]
    complete = err.rows is not None
    rows = err.rows if err.rows is not None else _named_row(str(err), column)
    if rows is None or side.key not in table.columns:
        return ""
    rows = rows[(rows >= 0) & (rows < len(table))]
    if rows.size == 0:
        return ""
    try:
        right, _, at = match_keys(table.iloc[rows][[side.key]], side, name)
    except SchemaError:  # no such row's key is in the side table
        return ""
    behind = np.unique(at[at >= 0])  # the side rows, in the table's (file) order
    if behind.size == 0:
        return ""
    key = side.key
    keys = [repr(plain_value(v)) for v in right[key].to_numpy(dtype=object)[behind[:KEYS_NAMED]]]
    more = behind.size - len(keys)
    named = ", ".join(keys) + (f" and {more} more" if more else "")
    source = f"data.join.{name}" + (f" ({side.path})" if side.path else "")
    fix = f"fix it in {'that file' if side.path else 'that table'}, or as suggested above"
    if not complete:
        return (f"; column {column!r} comes from {source}: row {int(rows[0])} takes it from the {name} table's row "
                f"of {key} {named}: {fix}")
    matched = int((at >= 0).sum())
    which = ("that training row takes" if rows.size == 1 else
             f"those {matched} training rows take" if matched == rows.size else
             f"{matched} of those {rows.size} training rows take")
    return (f"; column {column!r} comes from {source}: {which} it from {behind.size} "
            f"row{'s' if behind.size > 1 else ''} of the {name} table ({key} {named}): {fix}")


def _named_row(message: str, column: str) -> np.ndarray | None:
    """The row a message names for ``column`` (``"column 'age': row 12 ..."``), for errors that
    carry no rows."""
    match = re.search(rf"column {re.escape(repr(column))}: row (\d+)\b", message)
    return None if match is None else np.array([int(match.group(1))], dtype=np.int64)

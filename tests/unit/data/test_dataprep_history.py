"""add_history gives one kind of column whatever the rows hold: no user, no earlier item, no row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recstack.data import add_history
from recstack.errors import SchemaError

ITEMS = {"int": [10, 11, 12], "str": ["a", "b", "c"], "arrow str": pd.array(["a", "b", "c"], dtype="str")}


def _history(users, items, **kw):
    df = pd.DataFrame({"u": np.array(users, dtype=object), "i": items, "t": [1, 2, 3]}, index=[7, 5, 9])
    return add_history(df, user_col="u", item_col="i", time_col="t", **kw)


@pytest.mark.parametrize("items", ITEMS.values(), ids=ITEMS.keys())
@pytest.mark.parametrize("mode", ["before", "others"])
def test_the_column_type_is_the_items_whether_or_not_any_row_has_a_history(items, mode):
    full = _history([1, 1, 2], items, mode=mode)["history"]
    assert [len(h) for h in full] == ([0, 1, 0] if mode == "before" else [1, 1, 0])
    for users in ([None, None, None], [1, 2, 3], [1, None, 2]):  # no user at all; nobody with an earlier item
        out = _history(users, items, mode=mode)
        assert out["history"].dtype == full.dtype, users
        assert [len(h) for h in out["history"]] == [0, 0, 0] and out.index.tolist() == [7, 5, 9]


@pytest.mark.parametrize("items", ITEMS.values(), ids=ITEMS.keys())
def test_reference_histories_keep_the_type_without_users_and_for_no_rows(items):
    ref = pd.DataFrame({"u": [1, 1, 2], "i": items, "t": [1, 2, 3]})
    rows = pd.DataFrame({"u": [1, 3], "t": [5, 6]})
    full = add_history(rows, user_col="u", item_col="i", time_col="t", reference=ref)["history"]
    assert [len(h) for h in full] == [2, 0]
    nobody = add_history(rows, user_col="u", item_col="i", time_col="t", reference=ref.assign(u=None))
    none = add_history(rows.iloc[:0], user_col="u", item_col="i", time_col="t", reference=ref)
    assert nobody["history"].dtype == none["history"].dtype == full.dtype
    assert [len(h) for h in nobody["history"]] == [0, 0] and len(none) == 0


def test_a_missing_row_time_is_refused_even_when_no_reference_row_has_a_user():
    ref = pd.DataFrame({"u": [None, None], "i": [1, 2], "t": [1, 2]})
    rows = pd.DataFrame({"u": [1, 2], "t": [5, np.nan]})
    for reference in (ref, ref.assign(u=[1, None])):
        with pytest.raises(SchemaError, match=r"column 't' is empty in 1 of 2 rows \(first: row 1\)"):
            add_history(rows, user_col="u", item_col="i", time_col="t", reference=reference, before_each_row=True)

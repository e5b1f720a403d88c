"""The stored query IDs' plain spellings (``query_ids.plain_values``), whole columns at a time,
are what converting each ID alone (``plain_value``) gives: the same values of the same types."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from recstack.artifacts.query_ids import StoredIds, plain_values
from recstack.preprocessing._cells import plain_value

COLUMNS = {
    "int64": pd.Series([3, 1, 2**62]),
    "float64": pd.Series([1.0, np.nan, 2.5]),
    "bool": pd.Series([True, False]),
    "Int64": pd.Series([1, None], dtype="Int64"),
    "uint64": pd.Series(np.array([2**63 + 1, 0], dtype=np.uint64)),
    "float32": pd.Series(np.array([1.5, 0.1], dtype=np.float32)),
    "string": pd.Series(["a", None], dtype="string"),
    "category": pd.Series([5, 6, 5]).astype("category"),
    "object": pd.Series(["u1", 7, 2.5, None, float("nan"), True, 2**70], dtype=object),
    "object numpy": pd.Series([np.int64(4), np.float32(0.1), np.bool_(True), np.str_("x"), np.uint64(2**63 + 1),
                               np.datetime64("2020-01-02"), np.float64("nan"), "y", 3, None], dtype=object),
    "empty": pd.Series([], dtype=object),
}


def _same(a: Any, b: Any) -> bool:
    """Equal values of one type (NaN equal to NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a is b or a == b)


@pytest.mark.parametrize("name", list(COLUMNS))
def test_a_whole_column_is_converted_as_each_id_alone(name):
    s = COLUMNS[name]
    got = plain_values(s)
    want = [plain_value(v) for v in s.to_numpy(dtype=object)]
    assert got.dtype == object and len(got) == len(want)
    assert all(_same(g, w) for g, w in zip(got, want)), (got.tolist(), want)


def test_the_spellings_are_a_copy_not_the_stored_column():
    s = pd.Series(["a", np.str_("b")], dtype=object)
    plain_values(s)[0] = "changed"
    known, side, integers = StoredIds(s, None, "user_id")._stored_spellings()
    known[1] = "changed too"
    assert s.tolist() == ["a", "b"] and type(s.iloc[1]) is np.str_
    assert side.tolist() == [] and not integers

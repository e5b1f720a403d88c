"""``join_side_table`` gathers side rows by position: exactly what a left merge gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recstack.experiment import tables
from recstack.experiment.tables import SideTable, join_side_table, side_table
from recstack.preprocessing import _cells

# one side column per dtype family; row i belongs to user 10 + i
SIDE_COLUMNS = {
    "i64": np.array([1, 2, 3, 4], dtype=np.int64),
    "i32": np.array([1, 2, 3, 4], dtype=np.int32),
    "u8": np.array([1, 2, 3, 4], dtype=np.uint8),
    "f32": np.array([0.5, 1.5, np.nan, 2.5], dtype=np.float32),
    "f64": [0.5, 1.5, np.nan, 2.5],
    "flag": [True, False, True, False],
    "obj": pd.Series(["a", None, "c", "d"], dtype=object),
    "mixed": pd.Series([1, "b", 2.5, None], dtype=object),
    "lists": pd.Series([[1, 2], [], (3,), np.array([4])], dtype=object),
    "text": pd.Series(["a", "b", None, "d"]),  # pandas' default string dtype
    "text_py": pd.array(["a", "b", None, "d"], dtype="string[python]"),
    "cat": pd.Categorical(["x", "y", "x", None], categories=["y", "x", "z"]),
    "ordered": pd.Categorical([1, 2, 1, 2], ordered=True),
    "nullable_int": pd.array([1, None, 3, 4], dtype="Int64"),
    "nullable_bool": pd.array([True, None, False, True], dtype="boolean"),
    "when": pd.to_datetime(["2020-01-01", "2020-01-02", None, "2020-01-04"]),
    "when_utc": pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-03", "2020-01-04"]).tz_localize("UTC"),
    "span": pd.to_timedelta([1, 2, 3, 4], unit="s"),
}


def users() -> pd.DataFrame:
    return pd.DataFrame({"user_id": [10, 11, 12, 13], **SIDE_COLUMNS})


def reference(left: pd.DataFrame, right: pd.DataFrame, key: str) -> pd.DataFrame:
    """The left merge the join stands for (keys of one dtype, so plain equality is canonical matching)."""
    return pd.merge(left, right, on=key, how="left")


def assert_same(out: pd.DataFrame, ref: pd.DataFrame) -> None:
    """Equal frames (values, dtypes, column order, index), with missing cells of the same kind."""
    pd.testing.assert_frame_equal(out, ref, check_exact=True, check_index_type=True, check_column_type=True)
    for col in ref.columns[ref.dtypes == object]:  # None vs NaN: assert_frame_equal lets them pass
        assert [type(v) for v in out[col]] == [type(v) for v in ref[col]], col


@pytest.mark.parametrize("ids", [
    [12, 10, 10, 13, 11],  # every key found: dtypes kept
    [12, 99, 10, 98, 13],  # keys the table lacks: int -> float, bool -> object, ...
    [99, 11, 98],  # one key found (none found is an error)
], ids=["all-found", "some-missing", "one-found"])
def test_the_join_equals_a_left_merge_for_every_column_dtype(ids):
    left = pd.DataFrame({"rating": np.arange(len(ids), dtype=float), "user_id": ids},
                        index=np.arange(len(ids)) * 3 + 7)  # a filtered table: the merge's index is fresh
    out = join_side_table(left, side_table(users(), "user_id", "users"), "users")
    assert_same(out, reference(left, users(), "user_id"))


def test_keyless_rows_and_a_hand_built_side_table_with_its_own_index():
    left = pd.DataFrame({"user_id": [13.0, np.nan, 10.0, 77.0, np.nan]})  # float keys, some missing
    right = users().set_axis([40, 30, 20, 10])  # not a RangeIndex: rows are taken by position
    out = join_side_table(left, SideTable(right, "user_id"), "users")
    assert_same(out, reference(left, right.reset_index(drop=True).astype({"user_id": float}), "user_id"))


def test_chosen_columns_string_keys_and_an_empty_table():
    right = users().astype({"user_id": str})
    left = pd.DataFrame({"user_id": pd.Series(["11", "x", "13"], dtype=object), "n": [1, 2, 3]})
    cols = ["cat", "flag", "i64"]
    out = join_side_table(left, side_table(right, "user_id", "users"), "users", columns=cols)
    assert_same(out, reference(left, right[["user_id", *cols]].astype({"user_id": object}), "user_id"))
    empty = left.iloc[:0]
    out = join_side_table(empty, side_table(right, "user_id", "users"), "users", columns=cols)
    assert_same(out, reference(empty, right[["user_id", *cols]].astype({"user_id": object}), "user_id"))
    out = join_side_table(left, side_table(right, "user_id", "users"), "users", columns=[])
    assert_same(out, left)


def test_columns_named_like_the_old_merge_helper_survive():
    # the merge joined on a temporary "_k" column, which replaced (and then dropped) a column of that name
    left = pd.DataFrame({"user_id": [10, 11], "_k": ["kept", "too"]})
    right = pd.DataFrame({"user_id": [10, 11], "age": [30, 40]})
    out = join_side_table(left, side_table(right, "user_id", "users"), "users")
    assert out.columns.tolist() == ["user_id", "_k", "age"] and out["_k"].tolist() == ["kept", "too"]
    out = join_side_table(left[["user_id"]], side_table(right.rename(columns={"age": "_k"}), "user_id", "users"),
                          "users")
    assert out.columns.tolist() == ["user_id", "_k"] and out["_k"].tolist() == [30, 40]


def test_the_key_column_of_the_interactions_is_read_once(monkeypatch):
    reads: list[int] = []

    def counting(module):
        real = module.factorize_keys

        def spy(values, **kw):
            reads.append(len(values))
            return real(values, **kw)
        return spy

    monkeypatch.setattr(tables, "factorize_keys", counting(tables))
    monkeypatch.setattr(_cells, "factorize_keys", counting(_cells))
    side = side_table(users(), "user_id", "users")
    reads.clear()
    join_side_table(pd.DataFrame({"user_id": [10, 11, 12, 13, 99, 10, 11]}), side, "users")
    assert reads.count(7) == 1

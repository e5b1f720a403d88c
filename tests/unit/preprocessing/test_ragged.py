"""split_ragged (strings, lists, arrays, missing, bad rows) and pad (keep first/last)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from recstack.errors import SchemaError
from recstack.preprocessing import pad, split_ragged


def test_delimited_strings_lists_arrays_and_missing():
    col = ["a|b", ["c"], None, "d", "", "x|| y ", np.array([1, 2]), (), np.nan]
    flat, lengths = split_ragged(col, separator="|")
    assert flat.tolist() == ["a", "b", "c", "d", "x", "y", 1, 2]
    assert lengths.tolist() == [2, 1, 0, 1, 0, 2, 2, 0, 0]
    assert lengths.dtype == np.int64


def test_pandas_string_column_and_non_positional_index():
    s = pd.Series(["a,b", None, "c"], index=[7, 3, 9])
    flat, lengths = split_ragged(s, separator=",")
    assert flat.tolist() == ["a", "b", "c"]
    assert lengths.tolist() == [2, 0, 1]


def test_plain_scalars_are_one_label_per_row():
    flat, lengths = split_ragged([5, None, 6])
    assert [int(v) for v in flat] == [5, 6]
    assert lengths.tolist() == [1, 0, 1]


def test_equal_length_lists_stay_rows():
    flat, lengths = split_ragged([[1, 2], [3, 4]])
    assert flat.tolist() == [1, 2, 3, 4] and lengths.tolist() == [2, 2]


def test_scalar_mixed_with_lists_is_an_error_naming_row():
    with pytest.raises(SchemaError, match=r"column 'history': row 1 holds 5, but other rows hold lists"):
        split_ragged([[1], 5, [2]], column="history")


def test_nested_list_is_an_error_naming_row():
    with pytest.raises(SchemaError, match=r"column 'history': row 1 holds a nested list"):
        split_ragged([[1], [2, [3]]], column="history")


def test_string_without_separator_is_an_error_with_fix():
    with pytest.raises(SchemaError, match=r"column 'h': row 0 .*set separator"):
        split_ragged(["1,2"], column="h")


def test_pad_keep_last_keeps_most_recent_in_order():
    ids = np.array([1, 2, 3, 4, 5, 6])
    out = pad(ids, np.array([4, 0, 2]), 3, keep="last")
    assert out.tolist() == [[2, 3, 4], [0, 0, 0], [5, 6, 0]]
    assert out.dtype == np.int64


def test_pad_keep_first():
    out = pad(np.array([1, 2, 3, 4, 5, 6]), np.array([4, 0, 2]), 3, keep="first")
    assert out.tolist() == [[1, 2, 3], [0, 0, 0], [5, 6, 0]]


def test_pad_default_width_is_longest_row_at_least_one():
    assert pad(np.array([7, 8, 9]), np.array([1, 2])).tolist() == [[7, 0], [8, 9]]
    assert pad(np.array([], dtype=np.int64), np.array([0, 0])).tolist() == [[0], [0]]


@pytest.mark.parametrize("keep", ["last", "first"])
@pytest.mark.parametrize("width", [1, 3, 7, None])
def test_pad_matches_a_row_by_row_reference(keep, width):
    rng = np.random.default_rng(5)
    lengths = rng.integers(0, 9, size=200)
    lengths[:3] = [0, 8, 0]
    flat = rng.integers(1, 1000, size=int(lengths.sum()))
    out = pad(flat, lengths, width, keep=keep)
    w = width or int(lengths.max())
    expected = np.zeros((len(lengths), w), dtype=np.int64)
    for i, row in enumerate(np.split(flat, np.cumsum(lengths)[:-1])):
        row = row[-w:] if keep == "last" else row[:w]
        expected[i, : len(row)] = row
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == np.int64


def test_pad_validates_lengths():
    with pytest.raises(ValueError, match="lengths sum"):
        pad(np.array([1, 2]), np.array([1]), 2)


def test_strings_and_lists_in_one_column_keep_row_order():
    flat, lengths = split_ragged([[1, 2], "3|4", None, ["5"], "6"], separator="|")
    assert [str(v) for v in flat] == ["1", "2", "3", "4", "5", "6"]
    assert lengths.tolist() == [2, 2, 0, 1, 1]


def test_integer_lists_come_back_as_int64():
    flat, _ = split_ragged(pd.Series([[1, 2], [3]]))
    assert flat.dtype == np.int64 and flat.tolist() == [1, 2, 3]


@pytest.mark.parametrize("big", [2**60 + 1, 2**63 + 1])
def test_integer_array_cells_of_different_dtypes_keep_ids_exact(big):
    # uint64 IDs next to an int64 (empty or not) history: NumPy would promote to float64 and
    # round IDs above 2**53, merging distinct IDs into one that appears nowhere in the data
    col = pd.Series([np.array([big, big + 1], dtype=np.uint64), np.zeros(0, dtype=np.int64),
                     np.array([5], dtype=np.int64)], dtype=object)
    flat, lengths = split_ragged(col)
    assert [int(v) for v in flat] == [big, big + 1, 5]
    assert flat.dtype.kind != "f" and lengths.tolist() == [2, 0, 1]


def test_integer_array_cells_with_a_common_integer_dtype_stay_numeric():
    col = pd.Series([np.array([2**40], dtype=np.int64), np.array([7], dtype=np.int32),
                     np.zeros(0, dtype=np.float64).astype(np.uint8)], dtype=object)
    flat, lengths = split_ragged(col)
    assert flat.dtype == np.int64 and flat.tolist() == [2**40, 7] and lengths.tolist() == [1, 1, 0]


def test_list_elements_are_taken_exactly_as_given_unlike_delimited_strings():
    flat, lengths = split_ragged(pd.Series([["Drama", " Drama", "", None], "Drama| Drama|"], dtype=object),
                                 separator="|")
    assert flat.tolist() == ["Drama", " Drama", "", "Drama", "Drama"] and lengths.tolist() == [3, 2]


@pytest.mark.parametrize("kind", [pa.int64(), pa.uint32(), pa.string()])
def test_an_arrow_list_column_is_read_from_its_buffers_as_the_general_path_reads_its_lists(kind):
    rng = np.random.default_rng(0)
    rows = []
    for _ in range(300):
        n = int(rng.integers(0, 6))
        row = [None if rng.random() < 0.1 else int(v) for v in rng.integers(0, 50, n)]
        rows.append(None if rng.random() < 0.1 else [v if v is None or kind != pa.string() else f"i{v}" for v in row])
    column = pd.Series(pd.arrays.ArrowExtensionArray(pa.array(rows, pa.large_list(kind))), index=range(5, 305))
    flat, lengths = split_ragged(column)
    ref_flat, ref_lengths = split_ragged(pd.Series(rows, dtype=object))
    assert flat.tolist() == ref_flat.tolist() and lengths.tolist() == ref_lengths.tolist()
    assert flat.dtype == (object if kind == pa.string() else np.int64)
    sliced = column.iloc[100:]  # a slice of the buffers: offsets no longer start at 0
    assert split_ragged(sliced)[0].tolist() == split_ragged(pd.Series(rows[100:], dtype=object))[0].tolist()


def test_a_missing_arrow_row_whose_slots_hold_values_is_an_empty_row():
    """Built from offsets and values, a null row may span values; with null elements too, the
    fast path crashed (IndexError) where the general path read such a column."""
    values = pa.array([1, None, 2, 3, 4])
    offsets = pa.array([0, 2, 4, 5], pa.int32())
    lists = pa.ListArray.from_arrays(offsets, values, mask=pa.array([False, True, False]))  # row 1 spans 2, 3
    flat, lengths = split_ragged(pd.Series(pd.arrays.ArrowExtensionArray(lists)))
    assert flat.tolist() == [1, 4] and lengths.tolist() == [1, 0, 1]

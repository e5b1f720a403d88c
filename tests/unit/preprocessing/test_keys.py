"""Raw IDs are found by canonical key wherever they come from (tables, requests, files)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recstack.errors import SchemaError
from recstack.preprocessing.keys import KeyIndex, key_codes, one_row_per_key, require_ids


def test_integers_integral_floats_and_digit_strings_find_one_row():
    idx = KeyIndex([10, 20, 2**60 + 1], column="item_id")
    got = idx.positions(pd.Series([20.0, "10", np.int64(2**60 + 1), 30, None, np.nan], dtype=object))
    assert got.tolist() == [1, 0, 2, -1, -1, -1]
    assert len(idx) == 3


def test_string_ids_are_kept_verbatim_and_floats_that_are_not_integral_stay_apart():
    idx = KeyIndex(["007", "7", 4.5])
    assert idx.positions(["007", 7, 7.0, 4.5, "4.5", 4.0]).tolist() == [0, 1, 1, 2, 2, -1]


def test_an_index_refuses_missing_or_repeated_ids_and_names_the_row():
    with pytest.raises(SchemaError, match=r"'user_id'.*row 1 has no ID"):
        KeyIndex([1, None, 3], column="user_id")
    with pytest.raises(SchemaError, match=r"row 2 repeats ID '1'"):
        KeyIndex(pd.Series([1, 2, 1.0], dtype=object), column="user_id")


def test_joint_codes_match_across_columns_of_different_dtypes():
    train = pd.Series([1, 2, 3, 2])
    test = pd.Series([2.0, 3.0, np.nan, 1.0])  # a float column: an int column with a gap
    a, b = key_codes(train, test, column="user_id")
    assert a.tolist() == [0, 1, 2, 1]
    assert b.tolist() == [1, 2, -1, 0]


def test_one_row_per_key_keeps_first_or_last_and_drops_missing():
    s = pd.Series([1, 1.0, None, 2, "2"], dtype=object)
    assert one_row_per_key(s).tolist() == [True, False, False, True, False]
    assert one_row_per_key(s, keep="last").tolist() == [False, True, False, False, True]


def test_require_ids_names_the_first_row_without_an_id():
    assert require_ids(np.array([0, 1, 0]), "user_id").tolist() == [0, 1, 0]
    with pytest.raises(SchemaError, match=r"'user_id' is empty in 1 of \d+ rows \(first: row 2\)"):
        require_ids(np.array([0, 1, -1]), "user_id")


def test_a_bool_never_takes_the_key_of_an_equal_number_whatever_comes_first():
    from recstack.preprocessing import Hasher, Vocabulary

    v = Vocabulary().fit([1, 2, 3])
    assert v.transform([True, 1.0, 1]).tolist() == [1, 2, 2]  # True is OOV; 1.0 and 1 are '1'
    f = Vocabulary().fit(pd.Series([True, 1, 1, 2], dtype=object))
    assert sorted(f.keys_.tolist()) == ["1", "2", "True"] and f.transform([1]).tolist() == f.transform([1.0]).tolist()
    h = Hasher(1000)
    assert h.transform([True, 1]).tolist()[1] == h.transform([1]).tolist()[0]
    assert h.transform([True, 1]).tolist()[0] == h.transform([True]).tolist()[0]
    idx = KeyIndex([1, 2])
    assert idx.positions([True, 1, 1.0]).tolist() == [-1, 0, 0]


def test_a_lenient_index_skips_missing_ids_and_keeps_the_first_of_repeats():
    idx = KeyIndex(pd.Series([None, 5, 7, 5.0], dtype=object), lenient=True)
    assert len(idx) == 4
    assert idx.positions([5, 7, None, 9]).tolist() == [1, 2, -1, -1]


def test_an_empty_index_finds_nothing():
    assert KeyIndex([]).positions([1, "a"]).tolist() == [-1, -1]
    assert KeyIndex([None, None], lenient=True).positions([1]).tolist() == [-1]

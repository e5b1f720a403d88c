"""Preprocessor on a mapping of columns: one way to a table, whether or not a string has a lone
surrogate (no UTF-8 form): Series align by label, lists by position, lengths must agree."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from recstack.errors import SchemaError
from recstack.features import Schema
from recstack.preprocessing import Preprocessor

U = json.loads('"\\udce9"')  # valid JSON; pandas' str dtype (UTF-8) cannot hold it
SCHEMA = Schema.from_dict({"user_id": {"type": "categorical"}, "item_id": {"type": "categorical"},
                           "age": {"type": "numeric", "fill": 0.0}})
TRAIN = pd.DataFrame({"user_id": pd.Series([U, "a", "b", "é"], dtype=object), "item_id": ["x", "y", "z", "w"],
                      "age": [1.0, 2.0, 3.0, 4.0]})


@pytest.fixture(scope="module")
def pp() -> Preprocessor:
    return Preprocessor(SCHEMA).fit(TRAIN)


def _mapping(user: str) -> dict:
    return {"user_id": [user, "a", user, None, float("nan"), "b"],  # repeats, None and NaN
            "item_id": pd.Series(["w", "z", "y", "x", "y", "x"], index=[5, 4, 3, 2, 1, 0]),
            "age": pd.Series([1.0, None, 3.0, 4.0, 5.0, 6.0], index=[0, 1, 2, 3, 4, 5])}


def test_a_lone_surrogate_does_not_change_how_the_other_columns_line_up(pp):
    normal, lone = pp.transform(_mapping("é")), pp.transform(_mapping(U))
    assert lone["item_id"].tolist() == normal["item_id"].tolist()
    assert lone["age"].tolist() == normal["age"].tolist()
    by_label = pd.DataFrame(_mapping("é"))  # what pandas does with such a mapping: Series align by label
    assert normal["item_id"].tolist() == pp.transform(by_label)["item_id"].tolist()
    codes = lone["user_id"].tolist()
    assert codes[0] == codes[2] == pp.encode("user_id", pd.Series([U], dtype=object))["user_id"].item() > 1
    assert codes[3] == codes[4] == 0 and codes[1] != codes[5]


@pytest.mark.parametrize("user", [U, "é"])
def test_columns_of_different_lengths_are_an_error_with_or_without_a_surrogate(pp, user):
    with pytest.raises(SchemaError, match=r"one value per row \(lengths: \{'user_id': 2, 'item_id': 3"):
        pp.transform({"user_id": [user, "a"], "item_id": ["x", "y", "z"], "age": [1.0, 2.0, 3.0]})


def test_integer_ids_with_a_gap_stay_exact_in_a_mapping():
    big = [2**60 + 1, None, 2**60]
    pp = Preprocessor(Schema.from_dict({"user_id": {"type": "categorical"}})).fit(
        pd.DataFrame({"user_id": pd.Series(big, dtype=object)}))
    codes = pp.transform({"user_id": big})["user_id"].tolist()
    assert codes[0] != codes[2] and codes[1] == 0 and min(codes[0], codes[2]) > 1
    assert codes == pp.transform({"user_id": np.array(big, dtype=object)})["user_id"].tolist()

"""data.defaults: checked when the schema is built, JSON-able, list and scalar fills of ragged columns."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from recstack.config import ExperimentConfig
from recstack.errors import ConfigError
from recstack.features import Schema
from recstack.preprocessing import Preprocessor
from tests.conftest import small_config

CAT = {"c": {"type": "categorical"}}


@pytest.mark.parametrize("value, message", [
    ([1], r"data\.defaults\.c: a list"),
    (None, r"data\.defaults\.c: None is itself a missing value"),
    (float("nan"), r"data\.defaults\.c: NaN is itself a missing value"),
    (np.float32("nan"), r"data\.defaults\.c: NaN"),
    (pd.NA, r"data\.defaults\.c: <NA> is itself a missing value"),
    (float("inf"), r"data\.defaults\.c: inf is not a finite number"),
    ({"a": 1}, r"data\.defaults\.c: expected a string, number or boolean .*got \{'a': 1\} \(dict\)"),
    (b"x", r"data\.defaults\.c: expected a string, number or boolean"),
])
def test_a_bad_default_fails_when_the_schema_is_built(value, message):
    with pytest.raises(ConfigError, match=message):
        Schema.from_dict(CAT, defaults={"c": value})


def test_a_bad_default_fails_at_config_time():
    d = small_config().to_dict()
    for value in ([1, 2], None, {"a": 1}):
        d["data"]["defaults"] = {"genres": {"x": value}} if value is None else {"user_id": value}
        with pytest.raises(ConfigError, match=r"data\.defaults\.(user_id|genres): "):
            ExperimentConfig.from_dict(d)
    d["data"]["defaults"] = {"genres": ["Drama", "Comedy"]}  # a list fills a multi_hot row
    assert ExperimentConfig.from_dict(d).schema().defaults["genres"] == ["Drama", "Comedy"]


def test_numpy_defaults_are_stored_as_python_values_so_the_state_is_json():
    schema = Schema.from_dict({"c": {"type": "categorical"}, "x": {"type": "numeric"}, "g": {"type": "multi_hot"}},
                              defaults={"c": np.int64(3), "x": np.float32(0.5), "g": np.array([np.int64(1)])})
    assert schema.defaults == {"c": 3, "x": 0.5, "g": [1]}
    assert type(schema.defaults["c"]) is int and type(schema.defaults["x"]) is float
    table = pd.DataFrame({"c": [1, None, 3], "x": [1.0, None, 2.0], "g": ["1|2", None, "2"]})
    pp = Preprocessor(schema).fit(table)
    state = json.loads(json.dumps(pp.get_state(), allow_nan=False))
    assert Preprocessor.from_state(state).transform(table)["c"].tolist() == pp.transform(table)["c"].tolist()


def test_a_non_string_column_key_is_refused():
    with pytest.raises(ConfigError, match=r"data\.defaults: the key 0 \(int\) is not a column name.*'0'"):
        Schema.from_dict(CAT, defaults={0: "x"})


@pytest.mark.parametrize("ftype", ["sequence", "multi_hot"])
def test_a_list_default_fills_one_row_of_a_list_column(ftype):
    schema = Schema.from_dict({"h": {"type": ftype}}, defaults={"h": [7, 8]})
    table = pd.DataFrame({"h": pd.Series([[1, 2], None, [3]], dtype=object)})
    pp = Preprocessor(schema).fit(table)
    assert sorted(pp.vocabulary("h").keys_.tolist()) == ["1", "2", "3", "7", "8"]
    out = pp.transform(table)["h"].tolist()
    ids = np.asarray(out[1])
    assert pp.vocabulary("h").keys_[ids[ids > 0] - 2].tolist() == ["7", "8"]


@pytest.mark.parametrize("ftype, value", [("sequence", 0), ("multi_hot", 0), ("sequence", "none")])
def test_a_scalar_default_of_a_list_column_is_a_one_label_row(ftype, value):
    schema = Schema.from_dict({"h": {"type": ftype}}, defaults={"h": value})
    table = pd.DataFrame({"h": pd.Series([[1, 2], None, [3]], dtype=object)})
    pp = Preprocessor(schema).fit(table)
    vocab = pp.vocabulary("h")
    row = pp.transform(table)["h"].tolist()[1]
    assert row[0] == vocab.transform([str(value)])[0] > vocab.num_oov and set(row[1:]) == {0}


def test_a_string_default_of_a_delimited_column_is_read_like_its_strings():
    schema = Schema.from_dict({"g": {"type": "multi_hot"}}, defaults={"g": ""})  # an empty row
    pp = Preprocessor(schema).fit(pd.DataFrame({"g": ["a|b", None]}))
    assert pp.vocabulary("g").keys_.tolist() == ["a", "b"]
    assert pp.transform(pd.DataFrame({"g": [None]}))["g"].tolist() == [[0, 0]]

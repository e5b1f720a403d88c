"""Bad input found by the third walkthrough: each case gets a clear error (or a sensible result)."""

from __future__ import annotations

import datetime
import json
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from recstack.errors import ArtifactError, ConfigError, SchemaError
from recstack.features import Schema
from recstack.features.numeric import MAX_QUANTILE_BUCKETS
from recstack.preprocessing import Discretizer, NumericTransformer, Preprocessor, Tokenizer, Vocabulary
from recstack.preprocessing.keys import KeyIndex


def _state() -> dict:
    pp = Preprocessor(Schema.from_dict({"user_id": {"type": "categorical"}})).fit(pd.DataFrame({"user_id": ["a", "b"]}))
    return json.loads(json.dumps(pp.get_state()))


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda s: s.pop("schema"), "'schema' is missing"),
        (lambda s: s.pop("features"), "'features' is missing"),
        (lambda s: s.update(schema=[1]), "'schema' is list"),
        (lambda s: s.update(version=True), "version True"),
        (lambda s: s.update(version=1.0), "version 1.0"),
        (lambda s: s["schema"].pop("features"), "no 'features'"),
        (lambda s: s["schema"].update(features={"u": {"type": "nope"}}), "'schema' is invalid"),
    ],
)
def test_malformed_preprocessor_state_is_an_artifact_error(edit, match):
    state = _state()
    edit(state)
    with pytest.raises(ArtifactError, match=match):
        Preprocessor.from_state(state)


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        ({"fill": float("nan")}, "features.age.fill"),
        ({"fill": float("inf"), "buckets": 2, "as_value": False}, "features.age.fill"),
        ({"fill": float("-inf")}, "features.age.fill"),
        ({"boundaries": [float("-inf"), 0.0]}, "features.age.boundaries"),
        ({"boundaries": [0.0, float("nan")]}, "features.age.boundaries"),
    ],
)
def test_non_finite_numeric_settings_name_the_config_path(spec, path):
    with pytest.raises(ConfigError, match=rf"^{path}: .*finite"):
        Schema.from_dict({"age": {"type": "numeric", **spec}})


def test_numeric_transformer_rejects_a_non_finite_fill():
    with pytest.raises(ConfigError, match="finite"):
        NumericTransformer(fill=float("nan")).fit([1.0, None])


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        ({"type": "categorical", "num_buckets": 10**12}, "features.x.num_buckets"),
        ({"type": "numeric", "buckets": 10**9}, "features.x.buckets"),
    ],
)
def test_oversized_bucket_counts_are_refused_at_the_spec(spec, path):
    with pytest.raises(ConfigError, match=rf"^{path}: .*less than or equal"):
        Schema.from_dict({"x": spec})


def test_discretizer_refuses_more_bins_than_the_bound():
    with pytest.raises(ConfigError, match="num_bins"):
        Discretizer(num_bins=MAX_QUANTILE_BUCKETS + 1).fit([1.0, 2.0])


def test_quantile_buckets_follow_the_distinct_values():
    d = Discretizer(num_bins=1000).fit([1.0, 2.0, 3.0])
    assert d.num_bins_ == 3
    assert d.transform([1.0, 2.0, 3.0]).tolist() == [0, 1, 2]
    pp = Preprocessor(Schema.from_dict({"age": {"type": "numeric", "buckets": 100_000, "as_value": False}}))
    pp.fit(pd.DataFrame({"age": [1.0, 2.0, 3.0]}))
    assert [o.cardinality for o in pp.outputs] == [4]
    # a skewed column: quantiles between the same two values make no empty bucket
    x = np.r_[np.ones(50), 2.0, np.full(49, 100.0)]
    d = Discretizer(num_bins=10).fit(x)
    assert np.bincount(d.transform(x)).tolist() == [50, 1, 49]


def test_integer_column_labels_match_by_their_string_form():
    table = pd.DataFrame([[1, 10], [2, 20]])  # read_table(header=None) labels columns 0, 1
    pp = Preprocessor(Schema.from_dict({"0": {"type": "categorical"}, "v": {"type": "numeric", "column": "1"}}))
    out = pp.fit(table).transform(pd.DataFrame({0: [2, 3], 1: [5.0, 6.0]}))
    assert out["0"].tolist() == [3, 1] and out["v"].tolist() == [5.0, 6.0]
    assert pp.transform({0: [1], 1: [0]})["0"].tolist() == [2]
    with pytest.raises(SchemaError, match=r"columns \[0.5, 1\.5\] \(a label that is not a string matches by its string form"):
        pp.transform(pd.DataFrame({0.5: [1], 1.5: [2]}))
    with pytest.raises(SchemaError, match="several columns labelled 0"):
        pp.transform(pd.DataFrame([[1, 2, 3]], columns=pd.Index([0, np.int8(0), 1], dtype=object)))


@pytest.mark.parametrize(
    "column",
    [
        pd.Series(pd.to_datetime(["2020-01-01", "2021-01-01"])).astype("datetime64[ms]"),
        pd.Series(pd.to_datetime(["2020-01-01", "2021-01-01"])).astype("datetime64[ns]"),
        pd.Series(pd.to_datetime(["2020-01-01", None])).dt.tz_localize("UTC"),
        pd.Series(pd.to_timedelta([1, 2], unit="D")),
        pd.Series(pd.period_range("2020-01", periods=2, freq="M")),
        pd.Series(pd.array([datetime.datetime(2020, 1, 1), None], dtype=pd.ArrowDtype(pa.timestamp("s")))),
        pd.Series([pd.Timestamp("2020-01-01"), 1.0], dtype=object),
        pd.Series([datetime.date(2020, 1, 1)], dtype=object),
    ],
)
def test_times_as_numeric_features_are_an_error_saying_how_to_convert(column):
    pp = Preprocessor(Schema.from_dict({"ts": {"type": "numeric", "normalize": True}}))
    with pytest.raises(SchemaError, match=r"feature 'ts': column 'ts'.*depends on its unit.*total_seconds"):
        pp.fit(pd.DataFrame({"ts": column}))


@pytest.mark.parametrize(
    ("spec", "values", "match"),
    [
        ({"type": "categorical", "min_count": 1000}, ["a", "b", "a"],
         r"feature 'f': column 'f': no value is seen min_count=1000 times \(the most frequent, 'a', is seen 2 times\).*"
         r"lower min_count to at most 2"),
        ({"type": "categorical"}, [None, None], r"feature 'f': column 'f' has no values.*data.defaults: \{f: <value>\}"),
        ({"type": "multi_hot"}, ["|", "||", None], "feature 'f': column 'f' has no values"),
        ({"type": "sequence"}, [[], []], "feature 'f': column 'f' has no values"),
        ({"type": "multi_hot", "min_count": 3}, ["a|b", "a"], "min_count=3 times"),
        ({"type": "text"}, ["", "  ", None], "feature 'f': column 'f' has no values"),
        ({"type": "text", "min_count": 5}, ["x y", "y"], "min_count=5"),
    ],
)
def test_an_empty_vocabulary_is_an_error_at_fit(spec, values, match):
    with pytest.raises(SchemaError, match=match):
        Preprocessor(Schema.from_dict({"f": spec})).fit(pd.DataFrame({"f": pd.Series(values, dtype=object)}))
    Vocabulary().fit([None])  # the component alone still allows it (only padding and OOV)


def test_numbers_among_delimited_strings_are_one_label_each():
    schema = Schema.from_dict({"genres": {"type": "multi_hot", "separator": "|"},
                               "hist": {"type": "sequence", "separator": " ", "max_length": 3}})
    train = pd.DataFrame({"genres": pd.Series(["a|b", 7, "c", 2.5], dtype=object),
                          "hist": pd.Series(["10 20", 30, "40", np.int64(10)], dtype=object)})
    pp = Preprocessor(schema).fit(train)
    out = pp.transform(train)
    genres = pp.vocabulary("genres")
    assert sorted(genres.keys_.tolist()) == ["2.5", "7", "a", "b", "c"]
    assert out["genres"].tolist()[1] == [genres.transform(["7"])[0], 0]  # 7 and "7" are one label
    assert pp.vocabulary("hist").keys_.tolist() == ["10", "20", "30", "40"]
    assert (out["hist"] > 1).sum(dim=1).tolist() == [2, 1, 1, 1]


def test_an_integer_default_in_a_delimited_column_is_a_label():
    schema = Schema.from_dict({"g": {"type": "multi_hot"}}, defaults={"g": 0})
    table = pd.DataFrame({"g": ["a|b", None]})
    pp = Preprocessor(schema).fit(table)
    assert pp.vocabulary("g").keys_.tolist() == ["0", "a", "b"]
    assert pp.transform(table)["g"].tolist() == [[3, 4], [2, 0]]


BAD_CELLS = [
    (b"i0", "bytes", r"\.str\.decode"),
    ({"a": 1}, "dict", "field you need"),
    (pd.Timestamp("2020-01-01"), "Timestamp", r"astype\(str\)"),
    (datetime.date(2020, 1, 1), "date", r"astype\(str\)"),
    (np.timedelta64(1, "s"), "timedelta64", r"astype\(str\)"),
    (1 + 2j, "complex", r"astype\(str\)"),
]


@pytest.mark.parametrize("kind", ["categorical", "hashed", "multi_hot", "sequence", "text"])
@pytest.mark.parametrize(("cell", "type_name", "fix"), BAD_CELLS)
def test_cells_that_cannot_be_saved_as_json_are_refused_at_fit(kind, cell, type_name, fix):
    spec = {"type": "categorical", "num_buckets": 10} if kind == "hashed" else {"type": kind}
    if kind in ("multi_hot", "sequence"):
        spec["separator"] = "|"
    pp = Preprocessor(Schema.from_dict({"f": spec}))
    table = pd.DataFrame({"f": pd.Series(["x|y" if kind != "categorical" else "x", None, cell], dtype=object)})
    with pytest.raises(SchemaError, match=rf"feature 'f': column 'f': row 2 holds .* \(type {type_name}\).*saved as JSON.*{fix}"):
        pp.fit(table)


@pytest.mark.parametrize("kind", ["multi_hot", "sequence"])
def test_bad_cells_inside_lists_are_refused_with_their_row(kind):
    pp = Preprocessor(Schema.from_dict({"f": {"type": kind}}))
    table = pd.DataFrame({"f": pd.Series([["a"], None, ["b", b"c"]], dtype=object)})
    with pytest.raises(SchemaError, match=r"column 'f': row 2 holds b'c' \(type bytes\) in its list"):
        pp.fit(table)


@pytest.mark.parametrize(
    "column",
    [
        pd.Series(pd.to_datetime(["2020-01-01", "2021-01-01"])),
        pd.Series(pd.to_timedelta([1, 2], unit="D")),
        pd.Series(pd.array([b"a", b"b"], dtype=pd.ArrowDtype(pa.binary()))),
    ],
)
def test_columns_of_unsupported_dtypes_are_refused_as_ids(column):
    pp = Preprocessor(Schema.from_dict({"f": {"type": "categorical"}}))
    with pytest.raises(SchemaError, match=r"feature 'f': column 'f': row 0 holds .*saved as JSON"):
        pp.fit(pd.DataFrame({"f": column}))


def test_a_saved_vocabulary_of_accepted_types_is_json():
    table = pd.DataFrame({"f": pd.Series(["a", 1, 2.5, True, np.int8(3), np.float32(4.5), np.str_("s")], dtype=object)})
    pp = Preprocessor(Schema.from_dict({"f": {"type": "categorical"}})).fit(table)
    json.dumps(pp.get_state())
    assert pp.transform(table)["f"].tolist() == Preprocessor.from_state(pp.get_state()).transform(table)["f"].tolist()


def test_after_fit_odd_cells_are_unseen_values_and_dicts_an_error():
    schema = Schema.from_dict({"c": {"type": "categorical"}, "g": {"type": "multi_hot"}, "t": {"type": "text"}})
    pp = Preprocessor(schema).fit(pd.DataFrame({"c": ["a", "b"], "g": ["a|b", "c"], "t": ["x y", "z"]}))
    odd = pd.DataFrame({"c": pd.Series([b"a", pd.Timestamp(0)], dtype=object),
                        "g": pd.Series([b"a", "a|zz"], dtype=object), "t": ["x", "y"]})
    out = pp.transform(odd)
    assert out["c"].tolist() == [2, 1]  # b"a" is "a" (as Recommender reads it); a Timestamp is unseen: OOV
    assert out["g"].tolist() == [[2, 0], [2, 1]]  # b"a" one label, not split and not dropped
    for col in ["c", "g", "t"]:
        bad = odd.assign(**{col: pd.Series([{"k": 1}, None], dtype=object)})
        with pytest.raises(SchemaError, match=rf"feature '{col}': column '{col}': row 0 holds \{{'k': 1\}} \(type dict\)"):
            pp.transform(bad)


@pytest.mark.parametrize(
    ("pattern", "texts"),
    [
        ("[[:space:]]+", ["a b:c]d", "e f"]),  # a POSIX class in RE2, a set "[:space" then "]+" in Python
        ("x{,2}y", ["1xy2y3xxy4"]),  # Python: 0 to 2 x's; RE2: the literal "x{,2}y"
        ("x$", ["axbx\n", "cx"]),  # Python's $ also matches before a final newline
        ("(?i)é", ["aÉb", "cé"]),
        (r"\bb", ["ab b", "b"]),
        ("[[]", ["a[b"]),
    ],
)
@pytest.mark.filterwarnings("ignore:Possible nested set:FutureWarning")
def test_text_split_follows_python_re(pattern, texts):
    expected = [[tok.strip() for tok in re.split(pattern, t) if tok.strip()] for t in texts]
    tok = Tokenizer(split=pattern, lowercase=False)
    flat, lengths = tok.tokenize(pd.Series(texts))
    assert [x.tolist() for x in np.split(flat, np.cumsum(lengths)[:-1])] == expected
    pp = Preprocessor(Schema.from_dict({"t": {"type": "text", "split": pattern, "lowercase": False}}))
    assert sorted(pp.fit(pd.DataFrame({"t": texts})).vocabulary("t").keys_.tolist()) == sorted({t for e in expected for t in e})


def test_a_split_python_re_cannot_compile_is_a_config_error():
    with pytest.raises(ConfigError, match=r"split: '\\\\pL' is not a Python regular expression"):
        Tokenizer(split=r"\pL").fit(["a b"])


SURROGATE = json.loads('"\\udce9"')  # valid JSON; no UTF-8 form, so pandas' str dtype cannot hold it


def test_a_lone_surrogate_is_an_unseen_value_after_fit():
    schema = Schema.from_dict({"c": {"type": "categorical"}, "h": {"type": "categorical", "num_buckets": 5},
                               "g": {"type": "multi_hot"}, "s": {"type": "sequence", "separator": " "},
                               "t": {"type": "text"}})
    pp = Preprocessor(schema).fit(pd.DataFrame({"c": ["a", "b"], "h": ["a", "b"], "g": ["a|b", "c"],
                                                "s": ["1 2", "3"], "t": ["x y", "z"]}))
    u = SURROGATE
    out = pp.transform({"c": [u, "a"], "h": [u, "a"], "g": [u + "|a", [u]], "s": [u, [u, "1"]], "t": [u + " x", "Z"]})
    assert out["c"].tolist() == [1, 2]
    assert 1 <= out["h"][0] <= 5
    assert out["g"].tolist() == [[1, 2], [1, 0]]
    assert out["s"][:, :2].tolist() == [[1, 0], [1, 2]]
    assert out["t"].tolist() == [[1, 2], [4, 0]]
    assert pp.encode("c", [u])["c"].tolist() == [1]
    assert Vocabulary().fit(["a"]).transform(np.array([u], dtype=object)).tolist() == [1]
    assert KeyIndex(["a", "b"]).positions([u, "b"]).tolist() == [-1, 1]


def test_a_lone_surrogate_in_training_is_a_value_and_saves_as_json():
    u = SURROGATE
    schema = Schema.from_dict({"c": {"type": "categorical"}, "g": {"type": "multi_hot"}, "t": {"type": "text"}})
    table = pd.DataFrame({"c": pd.Series([u, "a", u], dtype=object), "g": pd.Series([u + "|a", "b", "a"], dtype=object),
                          "t": pd.Series([u + " X", "y", "x"], dtype=object)})
    pp = Preprocessor(schema).fit(table)
    assert pp.vocabulary("c").keys_.tolist() == [u, "a"]
    again = Preprocessor.from_state(json.loads(json.dumps(pp.get_state())))
    for k, v in pp.transform(table).items():
        assert v.tolist() == again.transform(table)[k].tolist()
    assert pp.vocabulary("t").keys_.tolist() == ["x", "y", u]  # lowercased; ties by code point


def test_arrow_list_columns_are_ragged_rows():
    labels = pd.Series(pd.array([["a", "b"], None, ["c"]], dtype=pd.ArrowDtype(pa.list_(pa.string()))))
    ids = pd.Series(pd.array([[1, 2], [], [3]], dtype=pd.ArrowDtype(pa.large_list(pa.int64()))))
    pp = Preprocessor(Schema.from_dict({"g": {"type": "multi_hot"}, "h": {"type": "sequence", "max_length": 2}}))
    out = pp.fit_transform(pd.DataFrame({"g": labels, "h": ids}))
    assert out["g"].tolist() == [[2, 3], [0, 0], [4, 0]]
    assert out["h"].tolist() == [[2, 3], [0, 0], [4, 0]]

"""Bad input found by the third walkthrough: each case gets a clear error (or a sensible result)."""

from __future__ import annotations

import datetime
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from recstack.errors import ArtifactError, ConfigError, SchemaError
from recstack.features import Schema
from recstack.features.numeric import MAX_QUANTILE_BUCKETS
from recstack.preprocessing import Discretizer, NumericTransformer, Preprocessor, Vocabulary


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

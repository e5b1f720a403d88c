"""Feature spec settings that would be accepted and then ignored, or fail late, are config errors."""

from __future__ import annotations

import pytest

from recstack.config import ExperimentConfig
from recstack.errors import ConfigError
from recstack.features import Schema
from tests.conftest import small_config

ITEM = {"item_id": {"type": "categorical"}}


@pytest.mark.parametrize("extra, message", [
    ({"min_count": 5}, r"min_count: has no effect with source: item_id.*\(got 5\)"),
    ({"max_size": 1}, r"max_size: has no effect.*\(got 1\)"),
    ({"num_oov": 3, "min_count": 2}, r"min_count: has no effect.*set it on the feature 'item_id'.*\(got 2\); "
                                     r"features\.hist\.num_oov: has no effect.*\(got 3\)"),
])
def test_vocabulary_settings_on_a_sequence_with_a_source_are_refused(extra, message):
    with pytest.raises(ConfigError, match=r"features\.hist\." + message):
        Schema.from_dict({**ITEM, "hist": {"type": "sequence", "source": "item_id", **extra}})
    Schema.from_dict({**ITEM, "hist": {"type": "sequence", **extra}})  # its own vocabulary: used


def test_num_oov_with_hashing_is_refused_at_config_time():
    d = small_config().to_dict()
    d["features"]["user_id"] = {"type": "categorical", "num_buckets": 10, "num_oov": 5}
    with pytest.raises(ConfigError, match=r"features\.user_id\.num_oov: has no effect with num_buckets.*\(got 5\)"):
        ExperimentConfig.from_dict(d)
    d["features"]["user_id"] = {"type": "categorical", "num_buckets": 10}
    schema = ExperimentConfig.from_dict(d).schema()
    assert Schema.from_json_dict(schema.to_dict()) == schema  # the saved num_oov: 1 (the default) still loads


@pytest.mark.parametrize("fill", [-1, -5.5])
def test_log_with_a_fill_at_or_below_minus_one_is_refused_by_the_spec(fill):
    with pytest.raises(ConfigError, match=r"features\.price\.fill: must be > -1 with log: true.*remove log: true"):
        Schema.from_dict({"price": {"type": "numeric", "log": True, "fill": fill}})
    Schema.from_dict({"price": {"type": "numeric", "log": True, "fill": -0.5}})
    Schema.from_dict({"price": {"type": "numeric", "fill": fill}})  # no log: any finite fill


def test_the_numeric_transformer_refuses_it_before_reading_data():
    from recstack.preprocessing import NumericTransformer

    with pytest.raises(ConfigError, match=r"fill: -1 with log=True: log1p needs values > -1"):
        NumericTransformer(fill=-1, log=True).fit([1.0, 2.0])  # no missing value: it used to pass


INT_SETTINGS = [
    ("categorical", "min_count"), ("categorical", "max_size"), ("categorical", "num_oov"),
    ("categorical", "num_buckets"), ("categorical", "embedding_dim"),
    ("multi_hot", "max_length"), ("multi_hot", "min_count"), ("multi_hot", "max_size"), ("multi_hot", "num_oov"),
    ("sequence", "max_length"), ("sequence", "min_count"), ("sequence", "max_size"), ("sequence", "num_oov"),
    ("text", "max_length"), ("text", "max_tokens"), ("text", "min_count"), ("text", "num_oov"),
    ("numeric", "buckets"),
]


@pytest.mark.parametrize("ftype, key", INT_SETTINGS)
def test_integer_settings_are_strict_ints(ftype, key):
    for bad, message in ((True, "got the boolean True"), ("2", "valid integer"), (2.0, "valid integer")):
        with pytest.raises(ConfigError, match=rf"features\.f\.{key}: .*{message}"):
            Schema.from_dict({"f": {"type": ftype, key: bad}})
    assert getattr(Schema.from_dict({"f": {"type": ftype, key: 3}})["f"], key) == 3  # a YAML int
    import numpy as np

    assert type(getattr(Schema.from_dict({"f": {"type": ftype, key: np.int64(3)}})["f"], key)) is int


def test_real_settings_take_ints_but_not_booleans():
    spec = Schema.from_dict({"x": {"type": "numeric", "fill": 2, "boundaries": [0, 2.5]}})["x"]
    assert spec.fill == 2.0 and spec.boundaries == [0.0, 2.5]
    with pytest.raises(ConfigError, match=r"features\.x\.fill: .*got the boolean True"):
        Schema.from_dict({"x": {"type": "numeric", "fill": True}})
    with pytest.raises(ConfigError, match=r"features\.x\.boundaries\.1: .*got the boolean False"):
        Schema.from_dict({"x": {"type": "numeric", "boundaries": [-1, False]}})

"""Feature spec settings that would be accepted and then ignored, or fail late, are config errors."""

from __future__ import annotations

import pytest

from recstack.config import ExperimentConfig
from recstack.errors import ConfigError
from recstack.features import Schema
from tests.conftest import small_config

ITEM = {"item_id": {"type": "categorical"}}


@pytest.mark.parametrize("extra, message", [
    ({"min_count": 5}, r"min_count: 5 has no effect with source: item_id"),
    ({"max_size": 1}, r"max_size: 1 has no effect"),
    ({"num_oov": 3, "min_count": 2}, r"min_count: 2, num_oov: 3 have no effect.*set it on the feature 'item_id'"),
])
def test_vocabulary_settings_on_a_sequence_with_a_source_are_refused(extra, message):
    with pytest.raises(ConfigError, match=r"features\.hist: .*" + message):
        Schema.from_dict({**ITEM, "hist": {"type": "sequence", "source": "item_id", **extra}})
    Schema.from_dict({**ITEM, "hist": {"type": "sequence", **extra}})  # its own vocabulary: used


def test_num_oov_with_hashing_is_refused_at_config_time():
    d = small_config().to_dict()
    d["features"]["user_id"] = {"type": "categorical", "num_buckets": 10, "num_oov": 5}
    with pytest.raises(ConfigError, match=r"features\.user_id: .*num_oov \(5\) has no effect with num_buckets"):
        ExperimentConfig.from_dict(d)
    d["features"]["user_id"] = {"type": "categorical", "num_buckets": 10}
    schema = ExperimentConfig.from_dict(d).schema()
    assert Schema.from_json_dict(schema.to_dict()) == schema  # the saved num_oov: 1 (the default) still loads


@pytest.mark.parametrize("fill", [-1, -5.5])
def test_log_with_a_fill_at_or_below_minus_one_is_refused_by_the_spec(fill):
    with pytest.raises(ConfigError, match=r"features\.price: .*fill must be > -1 with log: true.*remove log: true"):
        Schema.from_dict({"price": {"type": "numeric", "log": True, "fill": fill}})
    Schema.from_dict({"price": {"type": "numeric", "log": True, "fill": -0.5}})
    Schema.from_dict({"price": {"type": "numeric", "fill": fill}})  # no log: any finite fill


def test_the_numeric_transformer_refuses_it_before_reading_data():
    from recstack.preprocessing import NumericTransformer

    with pytest.raises(ConfigError, match=r"fill: -1 with log=True: log1p needs values > -1"):
        NumericTransformer(fill=-1, log=True).fit([1.0, 2.0])  # no missing value: it used to pass

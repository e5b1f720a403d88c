"""Config checks from the fourth walkthrough: join keys named by their path, query features
that read a candidate's column."""

from __future__ import annotations

import pytest

from recstack.config import ExperimentConfig
from recstack.errors import ConfigError
from tests.conftest import small_config


def _file_config(**join):
    d = small_config().to_dict()
    d["data"] = {"train": "train.csv", "join": join}
    return d


def test_a_join_without_key_names_its_config_path():
    with pytest.raises(ConfigError) as err:
        ExperimentConfig.from_dict(_file_config(items={"path": "items.csv"}))
    assert str(err.value) == "data.join.items.key: the join column is required (e.g. key: item_id)"
    cfg = ExperimentConfig.from_dict(_file_config(items={"path": "items.csv", "key": "item_id"}))
    assert cfg.data.join["items"].key == "item_id"


def test_a_query_feature_reading_a_candidate_features_column_is_an_error():
    d = small_config().to_dict()
    d["features"]["item_alias"] = {"type": "categorical", "column": "item_id"}
    d["model"]["query"] = ["user_id", "item_alias"]
    with pytest.raises(ConfigError, match=r"model\.query: feature 'item_alias' reads column 'item_id', which the "
                                          r"candidate feature 'item_id' reads"):
        ExperimentConfig.from_dict(d)
    d["model"]["query"] = ["user_id", "history"]  # a history of other rows' items is fine
    ExperimentConfig.from_dict(d)

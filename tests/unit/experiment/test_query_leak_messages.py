"""The data-time query-leak check names where the leaked column comes from."""

from __future__ import annotations

import pytest

from recstack.config import ExperimentConfig
from recstack.errors import ConfigError
from recstack.experiment import RetrievalExperiment
from tests.unit.experiment.side_data import side_config, write_side_data

FEATURES = {"user_id": {"type": "categorical"}, "item_alias": {"type": "categorical", "column": "item_id"},
            "title": {"type": "categorical"}}


def _build(tmp_path, **overrides):
    cfg = side_config(features=FEATURES, **{"data.history": None, "model.query": ["user_id", "item_alias"],
                                            "model.candidate": ["title"], **overrides})
    return RetrievalExperiment(ExperimentConfig.from_dict(cfg, base_dir=str(tmp_path)))


def test_the_key_of_a_join_on_the_candidate_is_named_as_such(tmp_path):
    write_side_data(tmp_path)  # items.csv (keyed on item_id) brings title, the candidate
    with pytest.raises(ConfigError, match=r"reads column 'item_id', the candidate of each row \(the key of "
                                          r"data\.join\.items, joined on the candidate\)"):
        _build(tmp_path, **{"data.item_column": "title"})


def test_the_item_column_is_named_as_such(tmp_path):
    tables = write_side_data(tmp_path)
    for name in ("train", "test"):  # the title in the interactions; no items table
        tables[name].merge(tables["items"][["item_id", "title"]]).to_csv(tmp_path / f"{name}.csv", index=False)
    with pytest.raises(ConfigError, match=r"reads column 'item_id', the candidate of each row \(data\.item_column\)"):
        _build(tmp_path, **{"data.join": {"users": {"path": "users.csv", "key": "user_id"}}})

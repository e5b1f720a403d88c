"""Fourth walkthrough: query features that leak the candidate, the stored serving row per
user, raw evaluation tables, and errors that name the row as read."""

from __future__ import annotations

import pandas as pd
import pytest

from recstack.config import ExperimentConfig
from recstack.errors import ConfigError, SchemaError
from recstack.experiment import RetrievalExperiment
from recstack.experiment.tables import Tables
from tests.unit.experiment.side_data import side_config, write_side_data


def _experiment(tmp_path, **overrides) -> RetrievalExperiment:
    return RetrievalExperiment(ExperimentConfig.from_dict(side_config(**overrides), base_dir=str(tmp_path)))


def test_a_query_feature_reading_a_column_of_the_items_join_is_an_error(tmp_path):
    write_side_data(tmp_path)
    with pytest.raises(ConfigError, match=r"model\.query: feature 'genres' reads column 'genres' of the items table "
                                          r"\(data\.join\.items\), joined on the candidate"):
        _experiment(tmp_path, **{"model.query": ["user_id", "age", "genres"], "model.candidate": ["item_id"]})
    # the same table given as Tables(items=...) (notebooks, built-in datasets)
    exp = _experiment(tmp_path)
    t = exp.tables
    cfg = ExperimentConfig.from_dict(side_config(**{"model.query": ["user_id", "genres"],
                                                    "model.candidate": ["item_id"]}), base_dir=str(tmp_path))
    with pytest.raises(ConfigError, match=r"feature 'genres' reads column 'genres' of the items table"):
        RetrievalExperiment(cfg, tables=Tables(t.train, t.test, t.items, t.users))


def test_a_query_feature_reading_the_item_column_is_an_error_when_the_candidate_is_another_column(tmp_path):
    write_side_data(tmp_path)
    features = {"user_id": {"type": "categorical"}, "item_alias": {"type": "categorical", "column": "item_id"},
                "title": {"type": "categorical"}}
    with pytest.raises(ConfigError, match=r"model\.query: feature 'item_alias' reads column 'item_id', the "
                                          r"candidate of each row"):
        _experiment(tmp_path, features=features, **{"data.history": None, "data.item_column": "title",
                                                    "model.query": ["user_id", "item_alias"],
                                                    "model.candidate": ["title"]})


def test_the_stored_row_per_user_is_the_latest_by_time_not_the_last_in_the_file():
    train = pd.DataFrame({"user_id": [1, 1, 2, 2, 3, 3], "item_id": [1, 2, 3, 1, 2, 3],
                          "ts": [200, 100, 5, 9, 7, None],  # a row without a time counts as the oldest
                          "age": [30.0, 20.0, 40.0, 41.0, 51.0, 50.0]})  # user 1's later row (age 30) comes first
    cfg = ExperimentConfig.from_dict({
        "data": {"train": "unused.csv", "time_column": "ts"},
        "features": {"user_id": {"type": "categorical"}, "age": {"type": "numeric"},
                     "item_id": {"type": "categorical"}},
        "model": {"kind": "two_tower", "query": ["user_id", "age"], "candidate": ["item_id"], "embedding_dim": 4,
                  "layers": [4]},
    })
    exp = RetrievalExperiment(cfg, tables=Tables(train, None, None, None))
    exp.fit()  # recommender() needs a trained model
    known = exp.known_queries()
    assert known.set_index("user_id").age.to_dict() == {1: 30.0, 2: 41.0, 3: 51.0}
    assert known.user_id.tolist() == [1, 2, 3]  # in table order
    assert exp.recommender().known_queries.set_index("user_id").age.to_dict() == {1: 30.0, 2: 41.0, 3: 51.0}


def test_evaluate_takes_a_raw_table_and_joins_side_columns_and_builds_histories_as_for_the_test_split(tmp_path):
    write_side_data(tmp_path, cold_users=4)
    exp = _experiment(tmp_path, **{"train.epochs": 1})
    exp.fit()
    raw = pd.read_csv(tmp_path / "test.csv")  # user_id, item_id, timestamp only
    assert exp.evaluate(raw) == pytest.approx(exp.evaluate(), rel=1e-6)


def test_a_missing_history_column_says_that_data_history_builds_it(tmp_path):
    write_side_data(tmp_path)
    with pytest.raises(SchemaError, match=r"training data lacks columns for features history \(column 'history'\).*"
                                          r"built from each user's other rows by data\.history, which is not set"):
        _experiment(tmp_path, **{"data.history": None})


def test_a_missing_value_names_the_row_of_the_training_data_as_read_and_the_join_that_left_it_empty(tmp_path):
    tables = write_side_data(tmp_path)
    train = tables["train"]
    gone = int(train.item_id.iloc[len(train) - 5])  # an item whose rows include one near the end
    tables["items"][tables["items"].item_id != gone].to_csv(tmp_path / "items.csv", index=False)
    first = int((train.item_id == gone).to_numpy().argmax())
    features = side_config()["features"] | {"price": {"type": "numeric"}}
    with pytest.raises(SchemaError) as err:
        _experiment(tmp_path, features=features, **{"model.candidate": ["item_id", "genres", "price"],
                                                    "data.validation_fraction": 0.3})
    msg = str(err.value)
    assert f"column 'price': row {first} is missing" in msg and "in the training data as read" in msg
    n = int((train.item_id == gone).sum())
    assert f"{n} training rows have item_id values that the items table (data.join.items) lacks" in msg

"""A query feature that reads a per-interaction column of the training data (a rating, the
row's own timestamp: values that differ between a user's rows) gets a warning naming it; a user
attribute (one value per user, or a users-table column) does not."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from recstack.config import ExperimentConfig
from recstack.experiment import RetrievalExperiment
from recstack.experiment.tables import SideTable, Tables

TRAIN = pd.DataFrame({
    "user_id": [1, 1, 1, 2, 2, 3, 3, 3],
    "item_id": [10, 11, 12, 10, 13, 11, 12, 13],
    "rating": [5, 3, 4, 1, 5, 2, 2, 4],
    "timestamp": [100, 200, 300, 110, 210, 120, 220, 320],
    "age": [30, 30, 30, 41, 41, 51, 51, 51],  # a user attribute, repeated on each of the user's rows
})
USERS = pd.DataFrame({"user_id": [1, 2, 3], "country": ["fr", "de", "fr"]})


def _experiment(query_feature: str, kind: str = "categorical", with_users: bool = False) -> RetrievalExperiment:
    data = {"train": "unused.csv"}
    if with_users:
        data["join"] = {"users": {"path": "users.csv", "key": "user_id"}}
    cfg = ExperimentConfig.from_dict({
        "data": data,
        "features": {"user_id": {"type": "categorical"}, "item_id": {"type": "categorical"},
                     query_feature: {"type": kind}},
        "model": {"kind": "two_tower", "query": ["user_id", query_feature], "candidate": ["item_id"],
                  "embedding_dim": 4, "layers": [4]},
        "train": {"batch_size": 4, "epochs": 1, "progress": False},
    })
    train = TRAIN.merge(USERS, on="user_id") if with_users else TRAIN
    joins = {"users": SideTable(USERS, "user_id")} if with_users else {}
    return RetrievalExperiment(cfg, tables=Tables(train, None, None, None, joins))


@pytest.mark.parametrize("column, kind", [("rating", "numeric"), ("rating", "categorical"), ("timestamp", "numeric")])
def test_a_per_interaction_query_column_is_warned_about(column, kind, caplog):
    with caplog.at_level(logging.WARNING):
        _experiment(column, kind)
    assert f"model.query: feature {column!r} reads column {column!r}, which differs between a user's rows " \
           "(3 of 3 users)" in caplog.text


@pytest.mark.parametrize("column, with_users", [("age", False), ("country", True)])
def test_a_user_attribute_is_not_warned_about(column, with_users, caplog):
    with caplog.at_level(logging.WARNING):
        _experiment(column, "categorical", with_users=with_users)
    assert "differs between a user's rows" not in caplog.text


def test_the_quickstart_config_is_not_warned_about(caplog):
    from recstack.quickstart import quickstart_config

    with caplog.at_level(logging.WARNING):
        RetrievalExperiment(quickstart_config("synthetic"))
    assert "differs between a user's rows" not in caplog.text


@pytest.mark.parametrize("name", ["movielens_retrieval.yaml", "movielens_retrieval_best.yaml",
                                  "movielens_retrieval_profile.yaml"])
def test_the_shipped_examples_are_not_warned_about(name, caplog):
    from pathlib import Path

    from recstack.config import load_config
    from tests.conftest import ml100k_dir

    if ml100k_dir() is None:
        pytest.skip("no MovieLens 100K in RECSTACK_DATA")
    with caplog.at_level(logging.WARNING):
        RetrievalExperiment(load_config(Path(__file__).resolve().parents[3] / "examples" / name))
    assert "differs between a user's rows" not in caplog.text

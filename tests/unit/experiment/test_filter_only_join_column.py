"""A filter on a side-table column the model does not read (``country``), on an evaluation
file that already has the model's column of that table (``age``): ``recstack evaluate`` joins
the filter column as ``exp.evaluate(table)`` does, instead of asking for all of the table."""

from __future__ import annotations

import pandas as pd
import pytest

import recstack
from recstack.config import ExperimentConfig
from recstack.errors import SchemaError
from recstack.experiment import RetrievalExperiment
from recstack.experiment.offline import evaluate_recommender
from recstack.experiment.tables import plan_joins
from tests.unit.experiment.side_data import side_config, write_side_data


def test_offline_evaluation_joins_a_filter_only_column(tmp_path):
    write_side_data(tmp_path)
    cfg = ExperimentConfig.from_dict(side_config(**{
        "data.filter": {"rows": {"country": {"not_in": ["US"]}}},
        "model.query": ["user_id", "age", "history"], "train.epochs": 1}), base_dir=str(tmp_path))
    exp = RetrievalExperiment(cfg)
    exp.fit()
    exp.save(tmp_path / "model")
    users = pd.read_csv(tmp_path / "users.csv")
    raw = pd.read_csv(tmp_path / "test.csv").merge(users[["user_id", "age"]], on="user_id", how="left")
    expected = exp.evaluate(raw)
    assert evaluate_recommender(recstack.load(tmp_path / "model"), raw) == pytest.approx(expected, abs=1e-6)


def test_the_model_columns_of_a_join_are_still_all_or_none():
    joins = {"users": ("user_id", ["user_id", "age", "income", "country"])}
    plan = plan_joins(["user_id", "age", "income"], joins, ["user_id", "age", "income"], where="t",
                      also=["country"])
    assert plan == {"users": ["country"]}
    with pytest.raises(SchemaError, match=r"t has columns \['age'\] of data.join.users but not \['income'\]"):
        plan_joins(["user_id", "age"], joins, ["user_id", "age", "income"], where="t", also=["country"])

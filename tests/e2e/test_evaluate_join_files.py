"""``recstack evaluate`` and the join files it reads: a file that changed since training, a
built-in dataset that is not needed."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from recstack.cli import main
from recstack.config import ExperimentConfig
from recstack.errors import DatasetUnavailableError, SchemaError
from recstack.experiment import RetrievalExperiment, offline
from recstack.experiment.offline import evaluate_recommender, join_saved_tables
from tests.conftest import small_config
from tests.unit.experiment.side_data import side_config, write_side_data


def test_a_join_file_that_lost_a_column_the_model_reads_names_the_join_file_columns_and_option(tmp_path):
    """The recorded columns said the users table brings 'country': a raw KeyError before."""
    tables = write_side_data(tmp_path)
    exp = RetrievalExperiment(ExperimentConfig.from_dict(side_config(), base_dir=str(tmp_path)))
    exp.fit()  # save() and recommender() need a trained model
    rec = exp.recommender()
    tables["users"].drop(columns=["country"]).to_csv(tmp_path / "users.csv", index=False)
    file = re.escape(str(tmp_path / "users.csv"))
    message = rf"data\.join\.users: the users table read from {file} lacks columns \['country'\], .*--join users=PATH"
    with pytest.raises(SchemaError, match=message):
        evaluate_recommender(rec, pd.read_csv(tmp_path / "test.csv"))


def _no_dataset(*args, **kwargs):
    raise DatasetUnavailableError("the dataset is not available here (test)")


def test_a_model_trained_on_a_built_in_dataset_evaluates_without_it_when_nothing_is_joined(
    tmp_path, monkeypatch, capsys
):
    """The history column is built, never joined: it made every evaluation load the dataset,
    which failed offline (MovieLens without RECSTACK_DATA tried to download it). So did a query
    column of the interactions (here the time), which the stored users give and no join brings."""
    d = small_config(**{"train.epochs": 1, "data.validation_fraction": 0.0}).to_dict()
    d["features"]["age"] = {"type": "numeric", "normalize": True}
    d["features"]["time"] = {"type": "numeric", "column": "timestamp", "normalize": True}
    d["model"]["query"] = ["user_id", "age", "time", "history"]
    exp = RetrievalExperiment(ExperimentConfig.from_dict(d))
    exp.fit()
    exp.save(tmp_path / "m")
    test = exp.tables.test[["user_id", "item_id"]].merge(exp.tables.users[["user_id", "age"]], on="user_id")
    test.to_csv(tmp_path / "test.csv", index=False)  # every side column the model reads
    monkeypatch.delenv("RECSTACK_DATA", raising=False)
    monkeypatch.setattr(offline, "load_dataset", _no_dataset)
    assert main(["evaluate", str(tmp_path / "m"), "--data", str(tmp_path / "test.csv")]) == 0, capsys.readouterr().err
    assert set(json.loads(capsys.readouterr().out)) == set(d["eval"]["metrics"])
    # a column only the dataset's users table brings: the dataset is needed, and loaded
    test.drop(columns=["age"]).to_csv(tmp_path / "no_age.csv", index=False)
    assert main(["evaluate", str(tmp_path / "m"), "--data", str(tmp_path / "no_age.csv")]) == 2
    assert "the dataset is not available here" in capsys.readouterr().err


def test_a_dataset_model_that_did_not_record_its_side_tables_loads_the_dataset_to_find_them():
    d = small_config(**{"train.epochs": 1}).to_dict()
    d["features"]["age"] = {"type": "numeric", "normalize": True}
    d["model"]["query"] = ["user_id", "age", "history"]
    exp = RetrievalExperiment(ExperimentConfig.from_dict(d))
    exp.fit()
    rec = exp.recommender()
    rec.metadata["data_files"]["join"] = {}  # as saved before the dataset's tables were recorded
    raw = exp.tables.test[["user_id", "item_id"]].head(20)
    joined = join_saved_tables(rec, raw)
    assert joined.age.tolist() == raw.merge(exp.tables.users, on="user_id", how="left").age.tolist()
    assert join_saved_tables(rec, raw.assign(age=1.0)).age.tolist() == [1.0] * 20  # a file joined beforehand


def test_a_join_override_is_read_with_the_saved_options_when_it_has_the_training_files_format(tmp_path):
    tables = write_side_data(tmp_path, cold_users=3)
    tables["users"].to_csv(tmp_path / "users.txt", sep=";", index=False, header=False)
    d = side_config()
    d["data"]["join"]["users"] = {"path": "users.txt", "key": "user_id", "sep": ";",
                                  "names": ["user_id", "age", "country"], "header": None}
    exp = RetrievalExperiment(ExperimentConfig.from_dict(d, base_dir=str(tmp_path)))
    exp.fit()
    rec = exp.recommender()
    raw = pd.read_csv(tmp_path / "test.csv")
    expected = evaluate_recommender(rec, raw)
    (tmp_path / "users.txt").rename(tmp_path / "moved.txt")  # same format: sep, names and header as saved
    assert evaluate_recommender(rec, raw, joins={"users": tmp_path / "moved.txt"}) == pytest.approx(expected)
    tables["users"].to_parquet(tmp_path / "users.parquet")  # another format: read with its defaults
    assert evaluate_recommender(rec, raw, joins={"users": tmp_path / "users.parquet"}) == pytest.approx(expected)

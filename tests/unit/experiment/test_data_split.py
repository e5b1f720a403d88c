"""data.split: one interactions file split into training and test rows by the config."""

from __future__ import annotations

import pandas as pd
import pytest

from recstack.config import ExperimentConfig
from recstack.errors import ConfigError, DataError
from recstack.experiment import RetrievalExperiment
from recstack.experiment.tables import load_tables
from tests.unit.experiment.side_data import side_config, write_side_data


def _config(tmp_path, split, **overrides):
    d = side_config(**{"data.test": None, "data.split": split, **overrides})
    return ExperimentConfig.from_dict(d, base_dir=str(tmp_path))


def test_each_kind_splits_the_one_file_as_the_data_functions_do(tmp_path):
    write_side_data(tmp_path)
    rows = pd.read_csv(tmp_path / "train.csv")
    t = load_tables(_config(tmp_path, {"kind": "random", "test_fraction": 0.25, "seed": 3}).data, str(tmp_path))
    assert len(t.train) + len(t.test) == len(rows) and 0.2 < len(t.test) / len(rows) < 0.3
    again = load_tables(_config(tmp_path, {"kind": "random", "test_fraction": 0.25, "seed": 3}).data, str(tmp_path))
    assert again.test[["user_id", "item_id"]].equals(t.test[["user_id", "item_id"]])  # seeded
    t = load_tables(_config(tmp_path, {"kind": "temporal", "test_fraction": 0.2}).data, str(tmp_path))
    assert t.train.timestamp.max() <= t.test.timestamp.min()
    cut = int(rows.timestamp.median())
    t = load_tables(_config(tmp_path, {"kind": "temporal", "cutoff": cut}).data, str(tmp_path))
    assert (t.test.timestamp >= cut).all() and (t.train.timestamp < cut).all()
    t = load_tables(_config(tmp_path, {"kind": "leave_last_n", "n": 2}).data, str(tmp_path))
    last = t.test.groupby("user_id").timestamp.min()
    first_train = t.train.groupby("user_id").timestamp.max()
    assert (t.test.groupby("user_id").size() == 2).all() and (first_train[last.index] <= last).all()
    assert "age" in t.test.columns  # the joins apply to both parts


def test_a_split_trains_and_evaluates_end_to_end(tmp_path):
    write_side_data(tmp_path)
    rows = pd.read_csv(tmp_path / "train.csv")
    exp = RetrievalExperiment(_config(tmp_path, {"kind": "leave_last_n"}, **{"data.history.mode": "before"}))
    test, train = exp.test_table, exp.full_train
    assert test is not None
    # n = 1: each user with 2 or more rows gives its latest row; a user of one row stays in training
    per_user = rows.groupby("user_id").size()
    assert len(test) == int((per_user > 1).sum()) == 59 and len(train) + len(test) == len(rows) == 1140
    assert test.user_id.is_unique and set(train.user_id) == set(rows.user_id)
    latest = train.groupby("user_id").timestamp.max()
    assert (test.set_index("user_id").timestamp >= latest[test.user_id]).all()
    before = exp.evaluate()["hit_rate@10"]
    exp.fit()
    after = exp.evaluate()["hit_rate@10"]  # 30 candidates: an untrained model gets about 10/30
    assert after > 0.8 and after > before + 0.3


@pytest.mark.parametrize("split, message", [
    ({"kind": "random", "n": 2}, r"data\.split\.n: applies to kind: leave_last_n, not random"),
    ({"kind": "leave_last_n", "test_fraction": 0.1}, r"data\.split\.test_fraction: applies to kind: random"),
    ({"kind": "random", "cutoff": 5}, r"data\.split\.cutoff: applies to kind: temporal"),
    ({"kind": "temporal", "seed": 1}, r"data\.split\.seed: applies to kind: random"),
    ({"kind": "shuffle"}, "data.split.kind"),
    ({"kind": "random", "seed": -1}, "data.split.seed"),  # a raw numpy ValueError before
])
def test_options_of_another_kind_are_refused(tmp_path, split, message):
    with pytest.raises(ConfigError, match=message) as err:
        _config(tmp_path, split)
    assert "Value error" not in str(err.value)  # pydantic's prefix to our own words is dropped


def test_a_split_with_given_test_rows_or_an_empty_part_is_refused(tmp_path):
    write_side_data(tmp_path)
    with pytest.raises(ConfigError, match=r"data\.split: divides data\.train.*data\.test gives the test rows"):
        ExperimentConfig.from_dict(side_config(**{"data.split": {"kind": "random"}}), base_dir=str(tmp_path))
    pd.read_csv(tmp_path / "train.csv").drop_duplicates("user_id").to_csv(tmp_path / "one.csv", index=False)
    with pytest.raises(DataError, match=r"leaves the test part.*every user has n or fewer rows"):
        load_tables(_config(tmp_path, {"kind": "leave_last_n"}, **{"data.train": "one.csv"}).data, str(tmp_path))
    with pytest.raises(ConfigError, match="needs data.time_column 'ts'"):
        load_tables(_config(tmp_path, {"kind": "temporal"}, **{"data.time_column": "ts", "data.history": None}).data,
                    str(tmp_path))

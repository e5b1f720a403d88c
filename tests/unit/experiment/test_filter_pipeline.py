"""data.filter through an experiment's tables and recstack evaluate: the k-core on an item
column a data.join brings (the ML-100K example's title), and an evaluation file without the
filtered column (a clear error naming --no-filter)."""

from __future__ import annotations

import pandas as pd
import pytest

from recstack.cli.main import main
from recstack.config import ExperimentConfig
from recstack.errors import ConfigError
from recstack.experiment import RetrievalExperiment
from recstack.experiment.offline import evaluate_recommender
from recstack.experiment.tables import load_tables
from tests.unit.experiment.side_data import side_config, write_side_data


def test_the_k_core_counts_an_item_column_that_a_join_brings(tmp_path):
    write_side_data(tmp_path)
    cfg = ExperimentConfig.from_dict(side_config(**{"data.item_column": "title", "data.filter": {"min_item_rows": 45}}),
                                     base_dir=str(tmp_path))
    tables = load_tables(cfg.data, cfg.base_dir)
    raw = pd.read_csv(tmp_path / "train.csv").merge(pd.read_csv(tmp_path / "items.csv"), on="item_id")
    assert 0 < len(tables.train) < len(raw)
    assert tables.train.title.value_counts().min() >= 45


def test_evaluating_a_file_without_the_filtered_column_names_the_column_and_no_filter(tmp_path, capsys):
    write_side_data(tmp_path)
    for name in ("train", "test"):
        t = pd.read_csv(tmp_path / f"{name}.csv")
        t.assign(rating=[2 if i % 3 == 0 else 5 for i in range(len(t))]).to_csv(tmp_path / f"{name}.csv", index=False)
    cfg = ExperimentConfig.from_dict(side_config(**{"data.filter": {"rows": {"rating": {"min": 3}}},
                                                    "train.epochs": 1}), base_dir=str(tmp_path))
    exp = RetrievalExperiment(cfg)
    exp.fit()
    exp.save(tmp_path / "m")
    bare = pd.read_csv(tmp_path / "test.csv").drop(columns="rating")
    bare.to_csv(tmp_path / "bare.csv", index=False)
    message = (r"^data\.filter\.rows\.rating: 'rating' is not a column of the evaluation data; columns: "
               r"\['age', 'country', 'item_id', 'timestamp', 'user_id'\] \(the model's test rows were filtered by "
               r"it: .*--no-filter")  # a saved model's rows are filtered after their joins
    joined = (r"^data\.filter\.rows\.rating: 'rating' is not a column of the evaluation data or of a data\.join "
              r"table; columns: \['item_id', 'timestamp', 'user_id'\]; data\.join\.users columns: \['age', "
              r"'country'\]; data\.join\.items columns: \['genres', 'price', 'title'\] \(the model's test rows "
              r"were filtered by it: .*--no-filter")
    with pytest.raises(ConfigError, match=joined):  # the experiment has its joins at hand: their columns too
        exp.evaluate(bare)
    from recstack.artifacts import load
    with pytest.raises(ConfigError, match=message):
        evaluate_recommender(load(tmp_path / "m"), bare)
    assert main(["evaluate", str(tmp_path / "m"), "--data", str(tmp_path / "bare.csv")]) != 0
    assert "--no-filter" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "m"), "--data", str(tmp_path / "bare.csv"), "--no-filter"]) == 0

"""Experiment inputs: history vocabularies that match, no future items in validation, items present."""

from __future__ import annotations

import numpy as np
import pytest

from recstack.config import ExperimentConfig
from recstack.errors import ConfigError, SchemaError
from recstack.experiment import RetrievalExperiment
from tests.conftest import small_config


def test_a_history_sharing_a_vocabulary_of_another_column_than_the_item_column_is_an_error():
    d = small_config().to_dict()
    d["features"]["title"] = {"type": "categorical"}
    d["features"]["history"]["source"] = "title"
    d["model"]["candidate"] = ["title"]
    with pytest.raises(ConfigError, match=r"features\.history\.source: 'title'.*set data\.item_column: title"):
        RetrievalExperiment(ExperimentConfig.from_dict(d))
    d["data"]["item_column"] = "title"  # the history now lists titles: accepted
    RetrievalExperiment(ExperimentConfig.from_dict(d))


def test_before_histories_of_validation_rows_hold_no_later_items():
    exp = RetrievalExperiment(small_config(**{"data.validation_fraction": 0.2, "data.history.max_length": 20}))
    assert exp.config.data.history.mode == "before"
    fit, val, t = exp.fit_table, exp.val_table, exp.config.data.time_column
    first = fit.groupby(["user_id", "item_id"])[t].min()  # an item may repeat for a user
    time_of = first.to_dict()
    later = [time_of[(u, i)] >= ts for u, h, ts in zip(val.user_id, val.history, val[t]) for i in h]
    assert later and not any(later)
    assert np.mean([len(h) for h in val.history]) > 0


@pytest.mark.parametrize("part", ["train", "test"])
def test_an_interaction_without_an_item_is_an_error_that_names_the_column_and_row(part):
    from recstack.experiment.tables import Tables

    base = RetrievalExperiment(small_config(**{"train.epochs": 1}))
    t = base.tables
    tables = {"train": t.train.copy(), "test": t.test.copy()}
    tables[part]["item_id"] = tables[part]["item_id"].astype(float)
    tables[part].loc[tables[part].index[4], "item_id"] = np.nan
    with pytest.raises(SchemaError, match=r"column 'item_id' is empty in 1 of \d+ rows \(first: row 4\)"):
        RetrievalExperiment(base.config, tables=Tables(tables["train"], tables["test"], t.items, t.users))


def test_a_training_interaction_without_a_user_is_an_error_that_names_the_column_and_row():
    from recstack.experiment.tables import Tables

    base = RetrievalExperiment(small_config(**{"train.epochs": 1}))
    t = base.tables
    train = t.train.copy()
    train["user_id"] = train["user_id"].astype(float)
    train.loc[train.index[7], "user_id"] = np.nan
    with pytest.raises(SchemaError, match=r"column 'user_id' is empty in 1 of \d+ rows \(first: row 7\); every "
                                          r"interaction needs a user"):
        RetrievalExperiment(base.config, tables=Tables(train, t.test, t.items, t.users))


def test_table_dtype_keeps_zero_padded_ids_and_role_columns_are_checked_even_without_history(tmp_path):
    rows = ["user_id,item_id,ts"] + [f"{u:04d},{i:04d},{u * 10 + i}" for u in range(1, 13) for i in range(1, 9)]
    (tmp_path / "train.csv").write_text("\n".join(rows) + "\n")
    d = {
        "data": {"train": {"path": str(tmp_path / "train.csv"), "dtype": {"user_id": "str", "item_id": "str"}},
                 "time_column": "ts", "validation_fraction": 0.0},
        "features": {"user_id": {"type": "categorical"}, "item_id": {"type": "categorical"}},
        "model": {"kind": "two_tower", "query": ["user_id"], "candidate": ["item_id"], "embedding_dim": 4},
        "train": {"epochs": 1, "batch_size": 16, "progress": False},
    }
    exp = RetrievalExperiment(ExperimentConfig.from_dict(d))
    assert exp.full_train.user_id.iloc[0] == "0001" and exp.catalogue.ids[0] == "0001"
    d["data"]["item_column"] = "movie"
    with pytest.raises(ConfigError, match=r"data\.item_column: 'movie' is not a column of the training data"):
        RetrievalExperiment(ExperimentConfig.from_dict(d))


def test_before_mode_test_metrics_equal_the_saved_models_on_the_raw_test_file():
    from recstack.experiment.offline import evaluate_recommender

    exp = RetrievalExperiment(small_config(**{"train.epochs": 2, "data.validation_fraction": 0.0}))
    exp.fit()
    raw = exp.tables.test.reset_index(drop=True)[["user_id", "item_id"]]
    served = evaluate_recommender(exp.recommender(), raw, metrics=exp.config.eval.metrics)
    assert exp.evaluate() == pytest.approx(served, rel=1e-6)


def test_outputs_name_the_candidate_by_its_raw_column():
    d = small_config(**{"train.epochs": 1}).to_dict()
    d["features"]["item"] = d["features"].pop("item_id") | {"column": "item_id"}
    d["features"]["history"]["source"] = "item"
    d["model"]["candidate"] = ["item", "genres"]
    exp = RetrievalExperiment(ExperimentConfig.from_dict(d))
    exp.fit()
    rec = exp.recommender()
    assert rec.candidate_column == "item_id"
    assert list(rec.recommend([1], k=2).columns) == ["user_id", "rank", "item_id", "score"]
    assert "item_id" in rec.similar(rec.candidate_ids[0], k=2).columns

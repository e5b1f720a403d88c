"""What a walkthrough of the as-of-time recipe on one's own files found: an items table that
lacks trained items, cold test users, evaluation times in another unit, saved-model advice."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

import recstack
from recstack.errors import ConfigError, SchemaError
from recstack.experiment import RetrievalExperiment
from recstack.experiment.offline import evaluate_recommender
from recstack.experiment.tables import Tables
from tests.unit.experiment.as_of_data import as_of_config


_config = as_of_config


def _rows(n=1200, users=30):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"user_id": rng.integers(0, users, n), "item_id": rng.integers(0, 50, n),
                       "timestamp": rng.integers(10**9, 10**9 + 10**6, n)})
    test = rng.random(n) < 0.25
    return df[~test].reset_index(drop=True), df[test].reset_index(drop=True)


def test_an_items_table_without_trained_items_is_refused_with_every_row_counted(tmp_path):
    train, test = _rows()
    items = pd.DataFrame({"item_id": np.arange(40)})
    outside = int((train.item_id >= 40).sum())
    with pytest.raises(ConfigError, match=rf"candidates: catalogue: {outside} of {len(train)} training rows have "
                                          r"item_id values the catalogue lacks \(e.g. \[40, 41, 42, 43, 44\]\).*in_batch"):
        RetrievalExperiment(_config(tmp_path), tables=Tables(train, test, items=items))


def test_cold_test_users_are_told_when_training_evaluates(tmp_path, caplog):
    train, test = _rows()
    test = pd.concat([test, test.assign(user_id=test.user_id + 1000).iloc[:7]], ignore_index=True)
    exp = RetrievalExperiment(_config(tmp_path), tables=Tables(train, test))
    with caplog.at_level(logging.WARNING):
        exp.evaluate()
    assert f"7 of {len(test)} rows have user_id values not seen in training; 7 of them" in caplog.text


def test_evaluation_times_in_another_unit_are_warned_about_and_saved_advice_fits(tmp_path, caplog):
    train, test = _rows()
    exp = RetrievalExperiment(_config(tmp_path), tables=Tables(train, test))
    exp.fit()
    exp.save(tmp_path / "m")
    rec = recstack.load(tmp_path / "m")
    raw = exp.test_table.drop(columns=["history"])
    with caplog.at_level(logging.WARNING):
        evaluate_recommender(rec, raw.assign(timestamp=raw.timestamp * 1000))
    assert f"{len(raw)} of {len(raw)} rows have a timestamp of another magnitude" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        evaluate_recommender(rec, raw)
        evaluate_recommender(rec, raw.assign(timestamp=raw.timestamp + 5 * 10**6))  # a later period, same unit
    assert "another magnitude" not in caplog.text
    with pytest.raises(SchemaError, match=r"has no column 'timestamp' \(data.time_column\); add the column \(the "
                                          r"model was trained so; with --names"):
        evaluate_recommender(rec, raw.drop(columns=["timestamp"]))

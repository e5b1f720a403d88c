"""A walkthrough on DeepCTR's movielens_sample.txt (user_id, movie_id, rating, ..., genres as
``Comedy|Drama``): the wrong things a new user plausibly writes get a message that names the
column and the fix, instead of a misleading error or a silent mis-parse."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from recstack.data import read_table
from recstack.data.filters import row_filter
from recstack.errors import ConfigError
from recstack.features import MultiHotFeature, Schema
from recstack.preprocessing import Preprocessor
from recstack.experiment import filtering
from recstack.experiment.tables import Tables
from recstack.config import ExperimentConfig


class _Min:
    min, max, in_, not_in = 4, None, None, None


def test_min_on_a_numeric_column_with_one_text_cell_names_that_cell():
    table = pd.DataFrame({"rating": ["4", "5", "3", "four", "5"]})
    with pytest.raises(ConfigError, match=r"rating.*row 3 holds 'four' \(1 of 5 cells is not a number\)"):
        row_filter(table, {"rating": _Min()}, where="data.train")


def _cfg(tmp_path):
    return ExperimentConfig.from_dict({
        "data": {"train": str(tmp_path / "t.csv"), "filter": {"rows": {"rating": {"min": 4}}}},
        "features": {"user_id": {"type": "categorical"}, "item_id": {"type": "categorical"}},
        "model": {"query": ["user_id"], "candidate": ["item_id"]}}).data


def test_the_dtype_fix_names_the_table_that_was_read(tmp_path):
    table = pd.DataFrame({"rating": ["good", "bad"]})
    cfg = _cfg(tmp_path)
    good = pd.DataFrame({"rating": [4.0, 5.0]})
    # each table as the experiment filters it: training rows, test rows, evaluation rows
    for run, fix in ((lambda: filtering.filtered_tables(Tables(table, None), cfg), "data.train.dtype: {rating: float}"),
                     (lambda: filtering.filtered_tables(Tables(good, table), cfg), "data.test.dtype: {rating: float}"),
                     (lambda: filtering.filter_evaluation_rows(table, cfg.filter.rows),
                      "recstack evaluate --dtype rating=float")):
        with pytest.raises(ConfigError) as err:
            run()
        assert fix in str(err.value)
    with pytest.raises(ConfigError, match="--dtype rating=float"):
        row_filter(table, {"rating": _Min()}, where="the evaluation data", dtype_hint=filtering.EVALUATION_DTYPE_HINT)


def test_a_file_read_with_the_wrong_separator_is_warned_about(tmp_path, caplog):
    path = tmp_path / "m.txt"
    path.write_text("user_id,movie_id,rating\n1,2,4\n3,4,5\n")
    with caplog.at_level(logging.WARNING):
        table = read_table(path, sep="\t")
    assert list(table.columns) == ["user_id,movie_id,rating"]
    assert "separator is probably ','" in caplog.text and "sep" in caplog.text


def test_a_multi_hot_separator_that_no_value_contains_is_warned_about(caplog):
    schema = Schema([MultiHotFeature(name="genres", separator=",")])
    df = pd.DataFrame({"genres": ["Comedy|Drama", "Action|Thriller", "Drama", "Drama|Romance"]})
    with caplog.at_level(logging.WARNING):
        Preprocessor(schema).fit(df)
    assert "separator ','" in caplog.text and "separator: '|'" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):  # the right separator, or single labels: no warning
        Preprocessor(Schema([MultiHotFeature(name="genres", separator="|")])).fit(df)
        Preprocessor(Schema([MultiHotFeature(name="genres", separator=",")])).fit(pd.DataFrame({"genres": ["a", "b"]}))
    assert "separator" not in caplog.text

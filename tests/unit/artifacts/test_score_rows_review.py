"""Review mends of scoring raw rows: a candidate row lacking a tower column is told of, keys echo
as the catalogue spells them, and the cold-start warning names IDs as the answer echoes them."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

import recstack
from recstack.config.filter import RowCondition
from recstack.data.filters import row_filter_masks
from recstack.errors import ConfigError


def test_a_candidate_row_with_only_its_id_is_warned_about(trained, caplog):
    _, d = trained
    rec = recstack.load(d)
    with caplog.at_level(logging.WARNING, logger="recstack.artifacts.recommender"):
        by_row = rec.score([1], [{"item_id": 1}])
    assert "candidate rows: 1 of 1 rows lack some of the columns ['genres']" in caplog.text
    assert "score catalogue items by ID" in caplog.text
    assert by_row.score.iloc[0] != pytest.approx(rec.score([1], [1]).score.iloc[0], abs=1e-6)  # not the item's


def test_candidate_keys_of_a_float_column_echo_as_the_integer_ids_of_the_catalogue(trained):
    exp, d = trained
    rec = recstack.load(d)
    rows = exp.catalogue.table.head(3).copy()
    rows["item_id"] = rows["item_id"].astype(float)
    rows.loc[2, "item_id"] = np.nan  # a row without a key: pandas keeps the column float
    out = rec.score([1], rows)
    assert out.item_id.tolist()[:2] == exp.catalogue.table.item_id.head(2).tolist()
    assert all(type(v) is int for v in out.item_id.tolist()[:2]) and pd.isna(out.item_id.iloc[2])


def test_the_cold_start_warning_names_ids_as_the_answer_echoes_them(trained, caplog):
    _, d = trained
    rec = recstack.load(d)
    with caplog.at_level(logging.WARNING, logger="recstack.artifacts.recommender"):
        out = rec.recommend(pd.DataFrame({"user_id": [1.0, 99999.0]}), k=1)
    assert out.user_id.tolist() == [1, 99999]
    assert "user_id 99999: not seen in training" in caplog.text and "99999.0" not in caplog.text


def test_in_on_a_categorical_column_checks_the_categories_kind():
    table = pd.DataFrame({"x": pd.Categorical([1, 2, 3])})
    with pytest.raises(ConfigError, match=r"data\.filter\.rows\.x\.in: '1' is text, but column 'x' .* holds numbers"):
        row_filter_masks(table, {"x": RowCondition.model_validate({"in": ["1"]})})
    assert row_filter_masks(table, {"x": RowCondition.model_validate({"in": [1]})})["x"].tolist() == [True, False, False]

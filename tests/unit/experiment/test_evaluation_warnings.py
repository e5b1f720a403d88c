"""Warnings that keep an evaluation from misleading: items outside the catalogue, trivial
cutoffs, and unseen users who are (or are not) cold starts."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from recstack.config import ExperimentConfig
from recstack.errors import SchemaError
from recstack.experiment import RetrievalExperiment
from recstack.experiment.offline import evaluate_recommender
from tests.unit.experiment.side_data import side_config, write_side_data


def _experiment(tmp_path, **overrides):
    write_side_data(tmp_path, cold_users=3)
    return RetrievalExperiment(ExperimentConfig.from_dict(side_config(**overrides), base_dir=str(tmp_path)))


def test_train_and_evaluate_say_when_items_are_outside_the_catalogue_and_when_k_covers_it(tmp_path, caplog):
    """Only `recstack evaluate` said so; training reported 0.075 where 0.10 was the ceiling."""
    exp = _experiment(tmp_path, **{"eval.metrics": ["hit_rate@5", "hit_rate@40", "ndcg@40"]})
    raw = pd.read_csv(tmp_path / "test.csv")
    raw.loc[:4, "item_id"] = 10**6  # not in the catalogue
    with caplog.at_level(logging.WARNING):
        exp.evaluate(raw)
    assert "evaluation data: 5 of" in caplog.text and "not in the catalogue; they count as misses" in caplog.text
    assert "metrics ['hit_rate@40']: K is at least the catalogue size (30 candidates)" in caplog.text  # not ndcg


def test_unseen_users_with_side_features_are_not_counted_as_cold_starts(tmp_path, caplog):
    """The warning said every unseen user was a cold start, although their side features were used."""
    exp = _experiment(tmp_path)
    exp.fit()
    test = pd.read_csv(tmp_path / "test.csv")
    unseen = int((test.user_id <= 3).sum())
    with caplog.at_level(logging.WARNING):
        evaluate_recommender(exp.recommender(), test)  # users.csv joined: age and country given
    assert f"{unseen} of {len(test)} rows have user_id values not seen in training; 0 of them give no other" in caplog.text
    caplog.clear()
    stranger = pd.concat([test, test.head(1).assign(user_id=10**6)], ignore_index=True)  # in no table
    with caplog.at_level(logging.WARNING):
        evaluate_recommender(exp.recommender(), stranger, joins=False)  # the model's stored users-table rows
    assert f"{unseen + 1} of {len(stranger)} rows have user_id values not seen in training; 1 of them give" in caplog.text


def test_a_missing_id_column_names_the_setting_that_fixes_it(tmp_path):
    with pytest.raises(SchemaError, match=r"no column 'user_id'.*set data.user_column \(the column of user IDs\)"):
        _experiment(tmp_path, **{"data.join": {}, "data.train": {"path": "items.csv"}})
    with pytest.raises(SchemaError, match=r"no column 'item_id'.*set features.item_id.column \(the candidate key"):
        _experiment(tmp_path, **{"data.join": {}, "data.train": {"path": "users.csv"}})


def test_an_empty_history_vocabulary_points_at_sharing_the_items_vocabulary(tmp_path):
    """The error suggested filling the derived history with a constant (data.defaults)."""
    write_side_data(tmp_path)
    one_row_each = pd.read_csv(tmp_path / "train.csv").drop_duplicates("user_id")
    one_row_each.to_csv(tmp_path / "train.csv", index=False)
    with pytest.raises(SchemaError, match=r"has no values to learn a vocabulary.*share the items' vocabulary "
                                          r"instead \(features.history.source: item_id\)"):
        RetrievalExperiment(ExperimentConfig.from_dict(side_config(), base_dir=str(tmp_path)))


def test_a_cold_row_is_not_transformed_so_a_feature_without_fill_does_not_fail_on_it(tmp_path):
    """`exp.evaluate` built every row's features before setting cold rows aside and failed on a
    cold user's missing age, while `recstack evaluate` scored that user as a cold start."""
    exp = _experiment(tmp_path, **{"features": {**side_config()["features"], "age": {"type": "numeric"}}})
    exp.fit()
    raw = pd.read_csv(tmp_path / "test.csv")
    raw = pd.concat([raw, raw.head(2).assign(user_id=10**6)], ignore_index=True)  # in no table: cold
    got = exp.evaluate(raw)
    assert got == pytest.approx(evaluate_recommender(exp.recommender(), raw))

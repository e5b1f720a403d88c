"""Serving requests whose features carry nothing the model knows."""

from __future__ import annotations

import logging

import pandas as pd

import pytest

from recstack.experiment import RetrievalExperiment
from tests.conftest import small_config


@pytest.fixture(scope="module")
def rec():
    exp = RetrievalExperiment(small_config(**{"model.query": ["history"], "model.layers": [], "model.candidate": ["item_id"],
                                             "train.epochs": 1}))
    exp.fit()
    return exp.recommender()


def test_a_history_of_items_the_model_never_saw_is_a_cold_start(rec):
    """It scored every item 0 and answered the first catalogue IDs (1, 2, 3, 4)."""
    average = rec.recommend({"user_id": 99999}, k=4)
    for history in ([999998, 999999], ["x"], []):
        got = rec.recommend({"user_id": 99999, "history": history}, k=4)
        assert got.item_id.tolist() == average.item_id.tolist() and (got.score > 0).all()
    known = int(rec.candidate_ids[0])
    assert rec.recommend({"user_id": 99999, "history": [known, 999999]}, k=4).score.nunique() > 1  # described
    assert not rec.recommend({"user_id": 99999, "history": [999999]}, k=4, cold_start="oov").empty


def test_a_zero_query_vector_is_said(rec, caplog):
    user = rec.known_queries["user_id"].iloc[0]
    with caplog.at_level(logging.WARNING, logger="recstack.artifacts.recommender"):
        out = rec.recommend([{"user_id": user, "history": []}, {"user_id": user}], k=3)
    assert "1 of 2 queries have a zero query vector" in caplog.text
    assert (out.score[:3] == 0).all()  # what the request asked for: a known user with no history


def test_one_string_item_id_can_be_excluded_like_one_integer_id():
    import pandas as pd

    from recstack.errors import ConfigError
    from tests.conftest import id_only_experiment

    exp = id_only_experiment(pd.DataFrame({"user_id": ["a", "a", "b", "c"], "item_id": ["065", "066", "065", "067"]}))
    rec = exp.recommender()
    assert "065" not in set(rec.recommend("a", k=3, exclude="065").item_id)  # was: "exclude must be 'seen'"
    assert len(rec.recommend("a", k=3, exclude="065")) == 2
    with pytest.raises(ConfigError, match="got '65', which is no candidate ID"):
        rec.recommend("a", k=3, exclude="65")


def test_a_list_default_fills_an_absent_multi_hot_query_column_once_per_row():
    """``table[col] = [...]`` spread a list default over the rows (or failed on its length)."""
    import pandas as pd

    from recstack.config import ExperimentConfig
    from recstack.experiment.tables import Tables

    cfg = ExperimentConfig.from_dict({
        "data": {"train": "unused.csv", "time_column": None, "defaults": {"tags": ["x", "y"]}},
        "features": {"user_id": {"type": "categorical"}, "item_id": {"type": "categorical"},
                     "tags": {"type": "multi_hot", "separator": "|"}},
        "model": {"kind": "two_tower", "query": ["tags"], "candidate": ["item_id"], "embedding_dim": 4},
        "train": {"batch_size": 8, "epochs": 1, "progress": False},
    })
    train = pd.DataFrame({"user_id": [1, 1, 2, 3], "item_id": [10, 11, 10, 12], "tags": ["x", "y|z", "x|y", "z"]})
    exp = RetrievalExperiment(cfg, tables=Tables(train, None, None, None))
    exp.fit()
    rec = exp.recommender()
    rows = [{"user_id": 7}, {"user_id": 8}]  # no tags given: both get the default set {x, y}
    got = rec.score(rows, [10, 11, 12], cold_start="oov")  # through the model, defaults applied
    want = rec.score([{"user_id": 7, "tags": "x|y"}], [10, 11, 12])
    assert got.score.tolist() == want.score.tolist() * 2


def test_a_user_of_the_users_table_that_training_never_saw_is_served_from_their_features(tmp_path):
    """`recommend(517)` answered a users.csv user unseen in training as the average user, while
    `evaluate` joined their features and scored them through the model."""
    import recstack
    from recstack.config import ExperimentConfig
    from tests.unit.experiment.side_data import side_config, write_side_data

    write_side_data(tmp_path, cold_users=3)
    exp = RetrievalExperiment(ExperimentConfig.from_dict(side_config(), base_dir=str(tmp_path)))
    exp.fit()
    exp.save(tmp_path / "m")
    rec = recstack.load(tmp_path / "m")
    users = pd.read_csv(tmp_path / "users.csv")
    assert sorted(rec.side_queries.user_id) == [1, 2, 3]  # the unseen ones only, with their side columns
    row = users[users.user_id == 2].iloc[0]
    by_id = rec.recommend(2, k=5)
    by_row = rec.recommend({"user_id": 2, "age": row.age, "country": row.country}, k=5)
    assert rec.is_known([2]).tolist() == [False] and rec.has_features([2, 99]).tolist() == [True, False]
    assert by_id.item_id.tolist() == by_row.item_id.tolist()
    assert by_id.score.tolist() == pytest.approx(by_row.score.tolist())
    assert by_id.item_id.tolist() != rec.recommend(99, k=5).item_id.tolist()  # 99: nowhere, the average user


def test_rows_that_lack_a_read_column_are_told_when_nothing_stored_fills_it(tmp_path, caplog):
    """A row without age/country for an unknown user was scored with them missing, silently."""
    from recstack.config import ExperimentConfig
    from tests.unit.experiment.side_data import side_config, write_side_data

    write_side_data(tmp_path, cold_users=2)
    exp = RetrievalExperiment(ExperimentConfig.from_dict(side_config(), base_dir=str(tmp_path)))
    exp.fit()
    rec = exp.recommender()
    known = int(rec.known_queries.user_id.iloc[0])
    with caplog.at_level(logging.WARNING, logger="recstack.artifacts.recommender"):
        rec.recommend([{"user_id": known}, {"user_id": 999, "age": 30}, {"user_id": 1}], k=3)
    # 999 is in no table; user 1 (in users.csv, not in training) is filled from the stored users-table rows
    assert "1 of 3 rows lack columns ['country'], which the model reads" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="recstack.artifacts.recommender"):
        rec.recommend([{"user_id": known}], k=3)  # the stored row fills it: nothing to say
    assert "lack columns" not in caplog.text


def test_every_users_table_contributes_its_columns_to_the_stored_rows(tmp_path, caplog):
    """Only the first table keyed on the user column was stored: a second one's columns were
    missing when serving (score 2.59 served, 3.35 evaluated, in the review)."""
    from recstack.config import ExperimentConfig
    from tests.unit.experiment.side_data import side_config, write_side_data

    write_side_data(tmp_path, cold_users=3)
    users = pd.read_csv(tmp_path / "users.csv")
    users[["user_id"]].assign(segment=users.user_id % 3).iloc[1:].to_csv(tmp_path / "segments.csv", index=False)
    cfg = side_config(**{"data.join": {"users": {"path": "users.csv", "key": "user_id"},
                                       "segments": {"path": "segments.csv", "key": "user_id"},
                                       "items": {"path": "items.csv", "key": "item_id"}},
                         "features": {**side_config()["features"], "segment": {"type": "categorical"}},
                         "model.query": ["user_id", "age", "country", "segment", "history"]})
    exp = RetrievalExperiment(ExperimentConfig.from_dict(cfg, base_dir=str(tmp_path)))
    exp.fit()
    rec = exp.recommender()
    side = rec.side_queries.set_index("user_id")
    assert list(side.columns) == ["age", "country", "segment"] and sorted(side.index) == [1, 2, 3]
    assert pd.isna(side.segment[1]) and side.segment[2] == 2  # user 1 is in users.csv only
    assert rec.queries.has_features([1, 2], ["segment"]).tolist() == [False, True]  # 1's row lacks it
    row = users[users.user_id == 2].iloc[0]
    by_id = rec.score(2, [5, 6])
    by_row = rec.score({"user_id": 2, "age": row.age, "country": row.country, "segment": 2}, [5, 6])
    assert by_id.score.tolist() == pytest.approx(by_row.score.tolist())
    with caplog.at_level(logging.WARNING, logger="recstack.artifacts.recommender"):
        rec.recommend([{"user_id": 2, "age": 30}], k=2)  # country and segment come from the stored row
    assert "lack columns" not in caplog.text

"""Serving a row without a numeric feature's value that the model has no fill for: the error
names the request's row and the fixes a trained model takes (give the value, or retrain)."""

from __future__ import annotations

import pytest

import recstack
from recstack.config import ExperimentConfig
from recstack.errors import MissingValueError, SchemaError
from recstack.experiment import RetrievalExperiment
from tests.unit.experiment.side_data import side_config, write_side_data

RETRAIN = ("this model was trained without a fill for it: pass 'age' in every row, or retrain with "
           "features.age.fill (or data.defaults.age)")


@pytest.fixture(scope="module")
def rec(tmp_path_factory):
    folder = tmp_path_factory.mktemp("side")
    write_side_data(folder)
    cfg = side_config(**{"features.price": {"type": "numeric"}, "model.candidate": ["item_id", "genres", "price"],
                         "train.epochs": 1})
    exp = RetrievalExperiment(ExperimentConfig.from_dict(cfg, base_dir=str(folder)))
    exp.fit()
    return recstack.load(exp.save(folder / "model"))


@pytest.mark.parametrize("row", [{"user_id": 6000, "country": "FR"}, {"user_id": 6000, "country": "FR", "age": None},
                                 {"user_id": 6000, "country": "FR", "age": float("nan")}])
def test_recommend_says_to_give_the_value_or_retrain(rec, row):
    with pytest.raises(MissingValueError) as info:
        rec.recommend([{"user_id": 1}, row], k=3)  # user 1 is known: its age is stored
    msg = str(info.value)
    assert msg.startswith("feature 'age': column 'age': row 1 of the rows given has no value (absent, NaN or None; "
                          "1 such row)")
    assert msg.endswith(RETRAIN)
    assert "set fill: <number>" not in msg
    assert isinstance(info.value, SchemaError) and info.value.rows.tolist() == [1]


def test_the_row_is_the_requests_where_cold_rows_never_reach_the_model(rec):
    rows = [{"user_id": 987654}, {"user_id": 6000, "country": "FR"}, {"user_id": 6001, "country": "DE"}]
    with pytest.raises(MissingValueError, match=r"row 1 of the rows given has no value \(absent, NaN or None; 2 such "
                                                r"rows\)") as info:
        rec.recommend(rows, k=3)  # the first row is cold: answered as the average user, without its features
    assert info.value.rows.tolist() == [1, 2]


def test_score_and_rank_say_so_too(rec):
    row = {"user_id": 6000, "country": "FR"}
    for call in (lambda: rec.score([row], [1, 2]), lambda: rec.rank([row], [1])):
        with pytest.raises(MissingValueError, match=r"row 0 of the rows given has no value") as info:
            call()
        assert str(info.value).endswith(RETRAIN)


def test_candidate_rows_without_a_value_say_so_for_their_column(rec):
    with pytest.raises(MissingValueError) as info:
        rec.score([1], [{"item_id": 3, "genres": "a", "price": 2.0}, {"item_id": 50, "genres": "a"}])
    assert str(info.value).startswith("feature 'price': column 'price': row 1 of the rows given has no value")
    assert str(info.value).endswith("pass 'price' in every row, or retrain with features.price.fill "
                                    "(or data.defaults.price)")


def test_the_row_counts_from_the_first_row_across_embedding_chunks(rec, monkeypatch):
    monkeypatch.setattr("recstack.artifacts.queries.AVERAGE_CHUNK", 2)
    rows = [{"user_id": 6000 + i, "country": "FR", "age": 30.0} for i in range(5)]
    rows[3]["age"] = None
    with pytest.raises(MissingValueError, match=r"row 3 of the rows given has no value \(absent, NaN or None; 1 such "
                                                r"row\)"):
        rec.recommend(rows, k=3)

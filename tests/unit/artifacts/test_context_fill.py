"""A request that leaves out a query column which differed between a user's training rows (the
row's timestamp, TFRS's context features) is answered with a stand-in, and says so once per
call: the column, how many rows, what filled them, and to pass the request's own value."""

from __future__ import annotations

import logging

import pytest

import recstack
from tests.unit.artifacts.context_model import context_experiment

NOTE = "which is request context"


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    return recstack.load(context_experiment().save(tmp_path_factory.mktemp("ctx") / "model"))


def _notes(caplog):
    return [r.getMessage() for r in caplog.records if NOTE in r.getMessage()]


@pytest.mark.parametrize("rows", [[{"user_id": 42, "timestamp": None}, {"user_id": 3, "timestamp": 1_000_100_000}],
                                  [{"user_id": 42}, {"user_id": 3, "timestamp": 1_000_100_000}]])
def test_a_known_user_without_the_context_is_told_of(saved, rows, caplog):
    with caplog.at_level(logging.WARNING):
        saved.recommend(rows, k=3)
    assert _notes(caplog) == [
        "query rows: 1 of 2 rows lack column 'timestamp' (feature 'timestamp'), which is request context (its value "
        "differed between a user's training rows): filled 1 from their user's latest training row (e.g. 1000214000). "
        "The model was trained on each row's own value: pass the request's own timestamp"]


def test_an_unknown_user_gets_the_fill_and_evaluation_tells_too(saved, caplog):
    import pandas as pd

    with caplog.at_level(logging.WARNING):
        saved.recommend([{"user_id": 999, "timestamp": None, "item_id": None}][:1], k=3)
    assert not _notes(caplog)  # cold: nothing but the ID describes it, answered without its features
    caplog.clear()
    from recstack.experiment.offline import evaluate_recommender

    with caplog.at_level(logging.WARNING):
        evaluate_recommender(saved, pd.DataFrame({"user_id": [1, 2], "item_id": [3, 4]}))
    assert len(_notes(caplog)) == 1 and "2 of 2 rows lack column 'timestamp'" in _notes(caplog)[0]


def test_rows_that_give_it_are_not_told_of(saved, caplog):
    with caplog.at_level(logging.WARNING):
        saved.recommend([{"user_id": 42, "timestamp": 1_000_100_000}], k=3)
        saved.recommend([{"user_id": 5000, "timestamp": 1_000_100_000}], k=3)
    assert not _notes(caplog)


def test_an_older_artifact_without_the_record_is_not_told_of(saved, caplog):
    saved.queries.known_queries.attrs.pop("per_interaction")
    try:
        with caplog.at_level(logging.WARNING):
            saved.recommend([{"user_id": 42}], k=3)
        assert not _notes(caplog)
    finally:
        saved.queries.known_queries.attrs["per_interaction"] = ["timestamp"]


def test_a_declared_context_feature_is_told_of_in_memory_too(caplog):
    rec = context_experiment(context=True).recommender()
    rec.queries.known_queries.attrs.clear()  # declared: the schema says so without the record
    with caplog.at_level(logging.WARNING):
        rec.recommend([{"user_id": 7}], k=3)
    assert len(_notes(caplog)) == 1


def test_a_declared_feature_is_told_of_as_declared_not_as_varying(caplog):
    """Its stored value may come from a users table (one per user): the note said 'its value
    differed between a user's training rows' and 'latest training row' for it."""
    rec = context_experiment(context=True).recommender()
    rec.queries.known_queries.attrs.clear()
    with caplog.at_level(logging.WARNING):
        rec.recommend([{"user_id": 7}], k=3)
    note = _notes(caplog)[0]
    assert "request context (declared features.timestamp.context: true)" in note
    assert "from their user's stored row" in note and "differed" not in note

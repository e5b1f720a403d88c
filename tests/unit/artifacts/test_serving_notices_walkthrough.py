"""What serving echoes and tells a Python user: IDs as trained when pandas made the column float,
the unread-columns notice in every verb, and one cold-start warning per call."""

import logging

import numpy as np
import pandas as pd
import pytest

import recstack

LOGGER = "recstack.artifacts.recommender"


@pytest.fixture(scope="module")
def rec(trained):
    return recstack.load(trained[1])


def _present(values):
    return [v for v in values if v is not None and v == v]


def test_a_row_without_an_id_leaves_the_other_rows_ids_as_trained(rec):
    rows = pd.DataFrame({"user_id": [1, None, 987654]})  # float64: 1.0, NaN, 987654.0
    assert rows.user_id.dtype == np.float64
    out = rec.recommend(rows, k=2)
    assert out.query_row.tolist() == [0, 0, 1, 1, 2, 2]
    ids = out.user_id.tolist()
    assert ids[:2] == [1, 1] and ids[4:] == [987654, 987654]  # the unknown one too: an integer column
    assert all(type(v) is int for v in _present(ids))
    assert _present(ids[2:4]) == []  # the row without an ID: no ID made up
    scored = rec.score(rows, [1, 2]).user_id.tolist()
    assert _present(scored) == [1, 1, 987654, 987654] and all(type(v) is int for v in _present(scored))
    assert [type(v) for v in rec.recommend([1.0], k=1).user_id] == [int]  # as recommend([1]) echoes


def test_float_ids_float64_has_rounded_are_echoed_as_given(rec):
    big = 2.0**53 + 2  # a whole float, but 2**53 + 1 reads as 2**53 too: not an exact ID
    out = rec.recommend(pd.DataFrame({"user_id": [big, np.nan]}), k=1)
    assert type(out.user_id.tolist()[0]) is float and out.user_id.tolist()[0] == big
    assert rec.recommend(pd.DataFrame({"user_id": [1.5, np.nan]}), k=1).user_id.tolist()[0] == 1.5


def test_rank_tells_of_unread_columns_as_score_and_recommend_do_once(rec, caplog):
    item = rec.candidate_ids[0]
    rows = pd.DataFrame({"user_id": [1], "agee": [3]})
    for verb in (lambda: rec.rank(rows, [item]), lambda: rec.score(rows, [item]), lambda: rec.recommend(rows, k=1)):
        caplog.clear()
        with caplog.at_level("WARNING", logger=LOGGER):
            verb()
        assert caplog.text.count("columns ['agee'] are not read by the model") == 1


def _warnings(caplog):
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and r.name == LOGGER]


@pytest.mark.parametrize("cold_start", ["average", "oov"])
def test_cold_start_queries_are_warned_about_once_per_call(rec, caplog, cold_start):
    with caplog.at_level("WARNING", logger=LOGGER):
        rec.recommend([1, 987654, 987655], k=3, cold_start=cold_start)
    (message,) = _warnings(caplog)
    assert "2 of 3 queries" in message and "987654, 987655" in message
    assert "is_known" in message and "has_features" in message and "cold_start=" in message
    assert ("average known user" if cold_start == "average" else "OOV") in message
    caplog.clear()
    with caplog.at_level("WARNING", logger=LOGGER):
        rec.score([987654], [rec.candidate_ids[0]], cold_start=cold_start)
    assert len(_warnings(caplog)) == 1
    caplog.clear()
    with caplog.at_level("WARNING", logger=LOGGER):
        rec.recommend([1, 2], k=3, cold_start=cold_start)
        rec.recommend([{"user_id": 987654, "history": [rec.candidate_ids[0]]}], k=3)  # described: not cold
    assert _warnings(caplog) == []


def test_a_model_without_stored_users_warns_of_cold_starts_once(rec, caplog):
    bare = recstack.Recommender(model=rec.model, preprocessor=rec.preprocessor, candidate_ids=rec.candidate_ids,
                                candidate_embeddings=rec.index.embeddings, query_column=rec.query_column)
    with caplog.at_level("WARNING", logger=LOGGER):
        bare.recommend([987654], k=3)
    (message,) = _warnings(caplog)
    assert "answered through the OOV embedding" in message

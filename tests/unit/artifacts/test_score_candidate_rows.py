"""``Recommender.score`` of raw candidate rows: items embedded by the candidate tower from the
features given (a new item, not in the catalogue), not looked up by ID."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
import torch

import recstack
import recstack.artifacts.queries as queries_mod
from recstack.errors import ConfigError, SchemaError
from recstack.experiment import RetrievalExperiment

USERS = [1, 2, 3]


def test_a_catalogue_item_given_as_a_row_scores_as_given_by_id(trained):
    exp, d = trained
    rec = recstack.load(d)
    cat = exp.catalogue.table.head(6)
    by_id = rec.score(USERS, cat.item_id.tolist())
    for rows in (cat, cat.to_dict("records"), cat.set_index(np.arange(10, 16))):  # any index
        by_row = rec.score(USERS, rows)
        assert list(by_row.columns) == list(by_id.columns) == ["user_id", "item_id", "score"]
        assert by_row.user_id.tolist() == by_id.user_id.tolist() and by_row.item_id.tolist() == by_id.item_id.tolist()
        assert by_row.score.to_numpy() == pytest.approx(by_id.score.to_numpy(), abs=1e-5)
    one = rec.score(1, cat.iloc[0].to_dict())  # one row dict
    assert one.score.tolist() == pytest.approx(by_id.score.tolist()[:1], abs=1e-5)


def test_a_new_item_is_scored_from_its_features_and_echoes_its_id(trained):
    exp, d = trained
    rec = recstack.load(d)
    genres = exp.catalogue.table.genres.iloc[0]
    got = rec.score(USERS, [{"item_id": 99999, "genres": genres}])
    assert got.item_id.tolist() == [99999] * 3 and np.isfinite(got.score).all()
    assert rec.is_candidate([99999]).tolist() == [False]
    assert rec.score(USERS, [99999]).score.isna().all()  # the ID path: no stored embedding
    q = rec.queries.encode(USERS, "average")[1]
    feats = rec.preprocessor.transform(pd.DataFrame({"item_id": [99999], "genres": [genres]}),
                                       features=["item_id", "genres"])
    with torch.no_grad():
        want = (q @ rec.model.candidate_embedding(feats).T).reshape(-1)
    assert got.score.to_numpy() == pytest.approx(want.numpy(), abs=1e-5)


def test_a_catalogue_id_with_other_features_is_scored_from_the_given_features(trained):
    exp, d = trained
    rec = recstack.load(d)
    cat = exp.catalogue.table
    first, other = cat.iloc[0], cat[cat.genres != cat.genres.iloc[0]].iloc[0]
    changed = rec.score(USERS, [{"item_id": first.item_id, "genres": other.genres}])
    assert changed.item_id.tolist() == [first.item_id] * 3
    assert changed.score.tolist() != pytest.approx(rec.score(USERS, [first.item_id]).score.tolist(), abs=1e-4)
    same = rec.score(USERS, [{"item_id": first.item_id, "genres": first.genres}])
    assert same.score.tolist() == pytest.approx(rec.score(USERS, [first.item_id]).score.tolist(), abs=1e-5)


def test_unseen_values_take_the_oov_rows(trained):
    _, d = trained
    rec = recstack.load(d)
    a = rec.score(USERS, [{"item_id": 123456, "genres": "NoSuchGenre"}])
    b = rec.score(USERS, [{"item_id": 654321, "genres": "AnotherUnseenOne"}])
    assert a.score.tolist() == pytest.approx(b.score.tolist(), abs=1e-6)  # same OOV rows, whatever the value


def test_rows_without_a_key_get_their_position_and_unread_columns_are_told(trained, caplog):
    exp, d = trained
    rec = recstack.load(d)
    genres = exp.catalogue.table.genres.iloc[0]
    with caplog.at_level(logging.WARNING, logger="recstack.artifacts.recommender"):
        got = rec.score([1, 2], [{"genres": genres, "title": "New movie"}, {"item_id": 99999, "genres": genres}])
    assert "candidate rows: columns ['title'] are not read by the model" in caplog.text
    assert list(got.columns) == ["user_id", "item_id", "candidate_row", "score"]
    assert got.item_id.tolist() == [None, 99999, None, 99999] and got.candidate_row.tolist() == [0, 1, 0, 1]
    nokey = rec.score([1], pd.DataFrame({"genres": [genres]}))
    assert list(nokey.columns) == ["user_id", "item_id", "candidate_row", "score"] and nokey.item_id.tolist() == [None]
    with pytest.raises(ConfigError, match="candidates mix raw IDs and row dicts"):
        rec.score([1], [1, {"item_id": 2}])
    with pytest.raises(ConfigError, match="no candidates given"):
        rec.score([1], pd.DataFrame({"item_id": []}))


def test_many_rows_are_embedded_in_chunks(trained, monkeypatch):
    exp, d = trained
    rec = recstack.load(d)
    cat = exp.catalogue.table.head(5)
    whole = rec.score(USERS, cat)
    calls = []
    real = rec.preprocessor.transform
    monkeypatch.setattr(rec.preprocessor, "transform", lambda t, **kw: calls.append(len(t)) or real(t, **kw))
    monkeypatch.setattr(queries_mod, "AVERAGE_CHUNK", 2)
    chunked = rec.score(USERS, cat)
    assert calls[-3:] == [2, 2, 1]  # the candidate rows, two at a time
    assert chunked.score.to_numpy() == pytest.approx(whole.score.to_numpy(), abs=1e-6)


def _priced_experiment():
    from recstack.config import ExperimentConfig
    from recstack.experiment.tables import Tables

    cfg = ExperimentConfig.from_dict({
        "data": {"train": "unused.csv", "time_column": None, "defaults": {"tags": ["x", "y"]}},
        "features": {"user_id": {"type": "categorical"}, "item_id": {"type": "categorical"},
                     "tags": {"type": "multi_hot", "separator": "|"}, "price": {"type": "numeric"}},
        "model": {"kind": "two_tower", "query": ["user_id"], "candidate": ["item_id", "tags", "price"],
                  "embedding_dim": 4, "layers": [8]},
        "train": {"batch_size": 8, "epochs": 1, "progress": False},
    })
    train = pd.DataFrame({"user_id": [1, 1, 2, 3], "item_id": [10, 11, 10, 12], "tags": ["x", "y|z", "x", "z"],
                          "price": [1.0, 2.0, 1.0, 3.0]})
    exp = RetrievalExperiment(cfg, tables=Tables(train, None, None, None))
    exp.fit()
    return exp.recommender()


def test_absent_columns_take_the_saved_defaults_or_fail_naming_the_column():
    rec = _priced_experiment()
    got = rec.score([1, 2], [{"item_id": 50, "price": 2.5}])  # no tags: the default set {x, y}
    want = rec.score([1, 2], [{"item_id": 50, "price": 2.5, "tags": "x|y"}])
    assert got.score.tolist() == pytest.approx(want.score.tolist(), abs=1e-6)
    with pytest.raises(SchemaError, match="column 'price'"):
        rec.score([1], [{"item_id": 50, "tags": "x"}])  # no price, no fill, no default

"""recommend, score and is_known on raw inputs: IDs of every shape, row dicts, cold starts, request limits."""

import numpy as np
import pytest

import recstack
from recstack.experiment import RetrievalExperiment
from tests.conftest import small_config


def test_known_users_as_rows_use_their_stored_features_and_cold_rows_need_none(tmp_path):
    features = {**small_config().to_dict()["features"], "age": {"type": "numeric"}}  # no fill, no default
    cfg = small_config(**{"features": features, "model.query": ["user_id", "history", "age"], "train.epochs": 1})
    exp = RetrievalExperiment(cfg)
    exp.fit()
    exp.save(tmp_path / "m")
    rec = recstack.load(tmp_path / "m")
    import pandas as pd

    by_id = rec.recommend([1, 2], k=5)
    for rows in (pd.DataFrame({"user_id": [1, 2]}), [{"user_id": 1}, {"user_id": 2, "age": None}]):
        got = rec.recommend(rows, k=5)
        assert got.item_id.tolist() == by_id.item_id.tolist()
        assert got.score.tolist() == pytest.approx(by_id.score.tolist(), abs=1e-6)
    mixed = rec.recommend([1, 987654], k=5)  # the unknown user has no age, and needs none
    assert mixed[mixed.user_id == 1].item_id.tolist() == by_id[by_id.user_id == 1].item_id.tolist()
    assert mixed[mixed.user_id == 987654].item_id.tolist() == rec.recommend([987654], k=5).item_id.tolist()


def test_id_inputs_of_every_shape_and_chunked_query_embedding(trained, monkeypatch):
    import pandas as pd

    from recstack.errors import ConfigError

    _, d = trained
    rec = recstack.load(d)
    ref = rec.recommend([1, 2, 3], k=4)
    for q in (np.array([1, 2, 3]), pd.Series([1, 2, 3]), [1.0, 2.0, 3.0]):
        assert rec.recommend(q, k=4).item_id.tolist() == ref.item_id.tolist()
    assert rec.recommend(1.0, k=4).item_id.tolist() == ref.item_id.tolist()[:4]
    assert rec.is_known(1.0).tolist() == [True]
    item = rec.candidate_ids[0]
    one = rec.score([1], str(item))  # a string is one ID, not its characters
    assert len(one) == 1 and one.score.notna().all()
    first = ref.item_id[0]
    assert first not in set(rec.recommend([1], k=4, exclude=first).item_id)
    with pytest.raises(ConfigError, match="k must be a positive integer"):
        rec.similar(item, k=0)
    with pytest.raises(ConfigError, match="candidates must be an ID or a list of IDs"):
        rec.score([1], None)
    with pytest.raises(ConfigError, match="mix raw IDs and row dicts"):
        rec.recommend([1, {"user_id": 2}])
    monkeypatch.setattr("recstack.artifacts.queries.AVERAGE_CHUNK", 2)  # 3 queries in chunks of 2: the same vectors
    chunked = rec.recommend([1, 2, 3], k=4)
    assert chunked.item_id.tolist() == ref.item_id.tolist()
    assert chunked.score.tolist() == pytest.approx(ref.score.tolist(), abs=1e-6)


def test_oov_cold_start_fills_an_absent_side_feature_with_its_own_fill():
    features = {**small_config().to_dict()["features"], "age": {"type": "numeric", "fill": "mean"}}
    cfg = small_config(**{"features": features, "model.query": ["user_id", "history", "age"], "train.epochs": 1})
    exp = RetrievalExperiment(cfg)
    exp.fit()
    rec = exp.recommender()
    bare = rec.recommend([987654], k=5, cold_start="oov")
    row = rec.recommend([{"user_id": 987654, "age": None}], k=5, cold_start="oov")
    assert bare.item_id.tolist() == row.item_id.tolist()
    assert bare.score.tolist() == pytest.approx(row.score.tolist())


def test_rows_without_an_id_are_labelled_by_position_not_by_a_made_up_id(trained):
    _, d = trained
    rec = recstack.load(d)
    rows = [{"history": [1, 2, 3]}, {"history": [4]}]
    out = rec.recommend(rows, k=3)
    assert out.user_id.isna().all() and out.query_row.tolist() == [0, 0, 0, 1, 1, 1]
    assert rec.score(rows, [1, 2]).query_row.tolist() == [0, 0, 1, 1]
    assert "query_row" not in rec.recommend([3], k=3).columns
    with pytest.raises(recstack.errors.ConfigError, match="k must be a positive integer"):
        rec.recommend([3], k=True)


def test_a_query_column_the_model_does_not_read_is_warned_about(trained, caplog):
    _, d = trained
    rec = recstack.load(d)
    with caplog.at_level("WARNING", logger="recstack.artifacts.recommender"):
        rec.recommend([{"user_id": 3, "histroy": [1, 2]}], k=3)
    assert "columns ['histroy'] are not read by the model" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="recstack.artifacts.recommender"):
        rec.recommend([{"user_id": 3, "history": [1, 2]}], k=3)
        rec.recommend([3], k=3)
    assert caplog.text == ""


def test_requests_are_searched_in_chunks_with_the_same_answers(trained, monkeypatch):
    import recstack.artifacts.recommender as module

    _, d = trained
    rec = recstack.load(d)
    users = list(range(1, 40)) + [987654]
    whole = rec.recommend(users, k=7, exclude=["seen", 5])
    monkeypatch.setattr(module, "SEARCH_CHUNK", 3)
    parts = rec.recommend(users, k=7, exclude=["seen", 5])
    assert parts[["user_id", "rank", "item_id"]].equals(whole[["user_id", "rank", "item_id"]])
    assert parts.score.tolist() == pytest.approx(whole.score.tolist(), abs=1e-5)  # matmul shapes differ


def test_row_dict_ids_stay_exact_when_another_row_has_none(trained):
    _, d = trained
    rec = recstack.load(d)
    alone = rec.recommend([{"user_id": 3}], k=4)
    mixed = rec.recommend([{"user_id": 3}, {"history": [1, 2]}], k=4)
    assert mixed.user_id.tolist()[:4] == [3] * 4 and type(mixed.user_id.iloc[0]) is int  # not 3.0
    assert mixed.item_id.tolist()[:4] == alone.item_id.tolist()  # still the known user, not cold
    from recstack.artifacts.requests import rows_table as _rows_table

    big = 2**60 + 7
    assert _rows_table([{"user_id": big}, {"age": 1.5}]).user_id.tolist() == [big, None]


def test_a_bytes_id_is_one_id_and_oversized_requests_are_refused(trained, monkeypatch):
    from recstack.errors import ConfigError

    exp, d = trained
    rec = recstack.load(d)
    from recstack.errors import SchemaError

    for bad in (b"1", [1, b"1"], np.array([np.datetime64("2020-01-01")])):
        with pytest.raises(SchemaError, match=r"queries \(the user_id values\): .*not an ID; an ID is a string"):
            rec.recommend(bad, k=3)  # as fitting refuses them; b"1" matched user 1 (and was not [49])
    with pytest.raises(SchemaError, match="in the request; IDs, labels and text must be strings"):
        rec.recommend([{"user_id": 1 + 2j}], k=3)  # rows: their column is named
    with pytest.raises(SchemaError, match=r"candidates \(the item_id values\): b'1' \(type bytes\) is not an ID.*decode"):
        rec.score([1], [b"1"])
    with pytest.raises(ConfigError, match="no queries given"):
        rec.recommend([], k=3)
    monkeypatch.setattr("recstack.artifacts.requests.MAX_RESULT_ROWS", 100)
    with monkeypatch.context() as m:
        m.setattr(rec.queries, "embed", lambda *a: pytest.fail("embedded before the size check"))
        with pytest.raises(ConfigError, match="would return"):
            rec.recommend(list(range(1, 12)), k=10)
    assert len(rec.recommend(list(range(1, 11)), k=10)) == 100
    with pytest.raises(ConfigError, match=r"11 queries x k 10 would return 110 rows.*split the queries"):
        rec.recommend(list(range(1, 12)), k=10)
    with pytest.raises(ConfigError, match="number of candidates"):
        rec.score(list(range(1, 12)), rec.candidate_ids[:10])
    out = rec.recommend([1, 2], k=4)  # ranks and IDs assembled without per-row Python
    assert out["rank"].tolist() == [1, 2, 3, 4] * 2
    assert out["item_id"].tolist() == rec.recommend(1, k=4)["item_id"].tolist() + rec.recommend(2, k=4)["item_id"].tolist()
    assert out["item_id"].dtype == np.int64 and out["item_id"].tolist()[0] in rec.candidate_ids


def test_an_id_holding_a_lone_surrogate_is_an_unknown_user_not_a_crash(trained):
    _, d = trained
    rec = recstack.load(d)
    out = rec.recommend("\udce9", k=2)  # "\udce9" is what the JSON escape gives
    assert out["user_id"].tolist() == ["\udce9", "\udce9"]
    assert rec.is_known(["\udce9"]).tolist() == [False]

import json

import numpy as np
import pytest
import torch

import recstack
from recstack.errors import ArtifactError, ConfigError
from recstack.experiment import RetrievalExperiment
from tests.conftest import small_config


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    exp = RetrievalExperiment(small_config(**{"train.epochs": 2}))
    exp.fit()
    d = tmp_path_factory.mktemp("art") / "model"
    exp.save(d, metrics=exp.evaluate())
    return exp, d


def test_save_load_identical(trained):
    exp, d = trained
    rec = recstack.load(d)
    mem = exp.recommender()
    users = [1, "2", 3]
    assert rec.recommend(users, k=5).equals(mem.recommend(users, k=5))
    assert torch.equal(rec.index.embeddings, mem.index.embeddings)
    cols = ["rank", "item_id", "score"]
    assert rec.recommend([1], k=5)[cols].equals(rec.recommend(["1"], k=5)[cols])
    assert sorted(p.name for p in d.iterdir()) == [  # JSON and safetensors, and the training log
        "candidates.json", "candidates.safetensors", "history.csv", "history.json", "model.safetensors",
        "preprocessor.json", "recstack.json"]


def test_exclusions_unseen_and_other_verbs(trained):
    exp, d = trained
    rec = recstack.load(d)
    seen = set(exp.full_train[exp.full_train.user_id == 3].item_id)
    top = rec.recommend([3], k=20, exclude="seen")
    assert len(top) == 20 and not seen & set(top.item_id)
    assert len(rec.recommend([987654], k=4)) == 4  # unseen user -> OOV
    assert rec.is_known([3, "3", 987654]).tolist() == [True, True, False]
    # every training user is known, so the OOV row was never trained: it is still the zero it started as
    assert rec.model.embedding.table_of("user_id").weight[1].abs().sum() == 0
    assert rec.is_known(987654).tolist() == [False]
    # text IDs (the CLI's) in the training table's spelling; unknown IDs as given
    assert rec.stored_ids(["3", 3.0, "x", "987654", "-0", "007"]) == [3, 3, "x", 987654, "-0", "007"]
    assert type(rec.stored_ids("3")[0]) is int  # "-0" and "007" are other IDs than 0 and 7, as canonical keys say
    first = rec.recommend([3], k=1).item_id[0]
    assert first not in set(rec.recommend([3], k=5, exclude=[first]).item_id)
    s = rec.score([3], [first, 10 ** 9])
    assert s.score.notna().tolist() == [True, False]
    assert first not in set(rec.similar(first, k=5).item_id)


def test_corruption_and_version_errors(trained, tmp_path):
    import shutil

    _, d = trained
    bad = tmp_path / "bad"
    shutil.copytree(d, bad)
    w = bad / "model.safetensors"
    data = bytearray(w.read_bytes())
    data[-3] ^= 0xFF
    w.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="checksum"):
        recstack.load(bad)
    w.unlink()
    with pytest.raises(ArtifactError, match="missing model.safetensors"):
        recstack.load(bad)
    shutil.rmtree(bad)
    shutil.copytree(d, bad)
    m = json.loads((bad / "recstack.json").read_text())
    m["format_version"] = 99
    (bad / "recstack.json").write_text(json.dumps(m))
    with pytest.raises(ArtifactError, match="upgrade"):
        recstack.load(bad)
    with pytest.raises(ArtifactError, match="not a directory"):
        recstack.load(tmp_path / "nothing")


def test_candidate_bias_round_trips_and_stays_out_of_item_similarity(tmp_path):
    exp = RetrievalExperiment(small_config(**{"train.epochs": 2, "model.candidate_bias": True}))
    exp.fit()
    rec = recstack.load(exp.save(tmp_path / "m"))
    users = [1, 2, 3]
    assert rec.recommend(users, k=5).equals(exp.recommender().recommend(users, k=5))
    assert rec.index.embeddings.shape[1] == 8 + 1
    # scores are [q, 1] . [c, b]: the bias column is the learned per-item bias
    items = rec.candidate_ids
    bias = exp.model.bias.weight[exp.catalogue.features["item_id"], 0].detach()
    assert torch.allclose(rec.index.embeddings[:, -1], bias)
    top = rec.similar(items[0], k=3)
    emb = rec.index.embeddings[:, :-1]
    expected = emb[1:] @ emb[0]
    assert top.score.tolist() == pytest.approx(expected.topk(3).values.tolist(), rel=1e-5)


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


def test_save_paths_nullable_values_and_malformed_but_checksummed_files(trained, tmp_path, monkeypatch):
    import shutil

    import pandas as pd

    exp, d = trained
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ArtifactError, match="is a file"):
        exp.save(tmp_path / "afile")
    assert not list(tmp_path.glob(".afile*"))
    monkeypatch.chdir(tmp_path / "..")
    out = exp.save(tmp_path.name + "/dot/.")  # "." resolves to a named folder
    assert out.name == "dot" and (out / "recstack.json").exists()
    from recstack.artifacts.query_rows import jsonable

    assert jsonable(pd.NA) is None and jsonable(np.bool_(True)) is True

    def tamper(name, meta):
        bad = tmp_path / name
        shutil.copytree(d, bad)
        (bad / "candidates.json").write_text(json.dumps(meta))
        rechecksum(bad, "candidates.json")
        return bad

    meta = json.loads((d / "candidates.json").read_text())
    assert len(recstack.load(tamper("same", meta)).candidate_ids) == len(meta["ids"])  # the re-checksum works
    cases = {"no_ids": {k: v for k, v in meta.items() if k != "ids"}, "a_list": [1, 2],
             "dup_ids": {**meta, "ids": [meta["ids"][0]] * len(meta["ids"])},
             "bad_rows": {**meta, "known_queries": {"columns": meta["known_queries"]["columns"], "rows": [[1]]}},
             "no_rows": {**meta, "known_queries": {"columns": ["user_id"]}},
             "short_column": {**meta, "known_queries": {**meta["known_queries"], "data": {
                 c: v[:1] for c, v in meta["known_queries"]["data"].items()}}},
             "no_tensor": {**meta, "known_queries": {**meta["known_queries"], "lists": ["user_id", "history"],
                                                     "columns": ["user_id", "history"]}}}
    for name, m in cases.items():
        with pytest.raises(ArtifactError, match="malformed|twice|needs an object|query_column") as err:
            recstack.load(tamper(name, m))
        assert "checksum" not in str(err.value), name
        assert str(err.value).count("re-export the model") == 1, name  # one message, not wrapped twice


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


def test_offline_evaluation_uses_the_query_columns_a_table_has_even_when_others_are_absent(tmp_path):
    """`recstack evaluate` on a test file with only some query columns: those cells count."""
    from recstack.experiment.offline import evaluate_recommender

    features = {**small_config().to_dict()["features"], "age": {"type": "numeric", "normalize": True}}
    cfg = small_config(**{"features": features, "model.query": ["user_id", "history", "age"], "train.epochs": 2})
    exp = RetrievalExperiment(cfg)
    exp.fit()
    rec = exp.recommender()
    test = exp.test_table[["user_id", "item_id"]].reset_index(drop=True)
    metrics = ["mrr", "hit_rate@10"]
    by_id = evaluate_recommender(rec, test, metrics=metrics)
    stored_age = rec.known_queries.set_index("user_id")["age"]
    same = evaluate_recommender(rec, test.assign(age=test.user_id.map(stored_age)), metrics=metrics)
    assert same == pytest.approx(by_id)  # the stored age given explicitly: the same answer
    old = evaluate_recommender(rec, test.assign(age=99.0), metrics=metrics)  # history absent, age given
    assert old["mrr"] != pytest.approx(by_id["mrr"])
    assert evaluate_recommender(rec, test.assign(age=None), metrics=metrics) == pytest.approx(by_id)  # empty cells


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


def test_exclude_combines_seen_with_ids_covers_a_given_history_and_warns_about_unknown_ids(trained, caplog):
    exp, d = trained
    rec = recstack.load(d)
    assert rec.history_column == "history" and exp.recommender().history_column == "history"
    seen = set(exp.full_train[exp.full_train.user_id == 3].item_id)
    extra = rec.recommend([3], k=1, exclude="seen").item_id[0]
    both = rec.recommend([3], k=30, exclude=["seen", extra])
    assert not (seen | {extra}) & set(both.item_id)
    # a new user's history given in the row counts as seen
    given = sorted(seen)[:4]
    row = {"user_id": 987654, "history": given}
    assert set(given) & set(rec.recommend([row], k=80).item_id)  # the test needs them to rank at all
    assert not set(given) & set(rec.recommend([row], k=80, exclude="seen").item_id)
    with caplog.at_level("WARNING", logger="recstack.artifacts.recommender"):
        kept = rec.recommend([3], k=5, exclude=["no-such-item", 10 ** 9])
    assert "2 of 2 IDs are not in the catalogue" in caplog.text
    assert kept.equals(rec.recommend([3], k=5))
    with pytest.raises(recstack.errors.ConfigError, match="exclude must be 'seen'"):
        rec.recommend([3], k=5, exclude="everything")


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


def test_a_model_saved_with_a_missing_known_user_still_loads_and_serves(trained):
    """Artifacts written before IDs were checked could hold a user row without an ID."""
    import pandas as pd

    from recstack.artifacts.recommender import Recommender

    exp, _ = trained
    rec = exp.recommender()
    known = pd.concat([rec.known_queries, rec.known_queries.iloc[:1].assign(user_id=None)], ignore_index=True)
    offsets, items = rec.seen
    seen = (torch.cat([offsets, offsets[-1:]]), items)
    old = Recommender(model=rec.model, preprocessor=rec.preprocessor, candidate_ids=rec.candidate_ids,
                      candidate_embeddings=rec.index.embeddings, query_column="user_id", known_queries=known,
                      seen=seen)
    assert old.recommend([3], k=5, exclude="seen").equals(rec.recommend([3], k=5, exclude="seen"))
    assert old.is_known([3, None]).tolist() == [True, False]


def test_offline_evaluation_in_chunks_gives_the_same_metrics(trained, monkeypatch):
    import recstack.experiment.offline as offline
    from recstack.artifacts import recommender as rec_mod

    exp, d = trained
    rec = recstack.load(d)
    table = exp.test_table[["user_id", "item_id"]].reset_index(drop=True).copy()
    table.loc[2, "item_id"] = 10**9  # not in the catalogue: a miss, in any chunk
    metrics = ["hit_rate@10", "recall@10", "ndcg@10", "mrr"]
    whole = offline.evaluate_recommender(rec, table, metrics=metrics, exclude_seen=True)
    monkeypatch.setattr(rec_mod, "RANK_CHUNK", 7)
    assert offline.evaluate_recommender(rec, table, metrics=metrics, exclude_seen=True) == pytest.approx(whole)
    assert whole != offline.evaluate_recommender(rec, table, metrics=metrics, exclude_seen=False)
    ranks = rec.rank(table[["user_id"]], table["item_id"], exclude="seen")  # the public verb behind it
    assert int(ranks[2]) == len(rec.candidate_ids) and ranks.dtype == torch.long
    with pytest.raises(ConfigError, match="one item per row"):
        rec.rank(table[["user_id"]], table["item_id"][:3])
    assert rec.is_candidate(table["item_id"][:3]).tolist() == [True, True, False]


def test_offline_evaluation_tells_nan_scores_from_items_outside_the_catalogue(trained, caplog):
    from recstack.experiment.offline import evaluate_recommender

    exp, d = trained
    rec = recstack.load(d)
    table = exp.test_table[["user_id", "item_id"]].reset_index(drop=True).head(20).copy()
    table.loc[2, "item_id"] = 10**9
    row = int(np.flatnonzero(rec.is_candidate(table["item_id"]))[0])
    rec.index.embeddings[rec.candidate_ids.index(table["item_id"][row])] = float("nan")
    with caplog.at_level("WARNING"):
        evaluate_recommender(rec, table, metrics=["hit_rate@10"])
    nan_rows = int((table["item_id"] == table["item_id"][row]).sum())
    assert "1 of 20 rows have a item_id not in the catalogue" in caplog.text
    assert f"{nan_rows} of 20 rows score NaN for their item_id" in caplog.text


def rechecksum(bad, name):
    import hashlib

    from recstack.artifacts.manifest import DIGEST, manifest_digest

    manifest = json.loads((bad / "recstack.json").read_text())
    manifest["files"][name] = hashlib.sha256((bad / name).read_bytes()).hexdigest()
    manifest[DIGEST] = manifest_digest(manifest)  # the manifest's own checksum, updated too
    (bad / "recstack.json").write_text(json.dumps(manifest))


def test_re_checksummed_edits_name_the_problem_once(trained, tmp_path):
    import shutil

    from safetensors.torch import load_file, save_file

    _, d = trained
    # integer weights would be cast on load (bit patterns as numbers): refused by dtype
    bad = tmp_path / "int_weights"
    shutil.copytree(d, bad)
    w = load_file(str(bad / "model.safetensors"))
    save_file({k: v.view(torch.int32) if v.dtype == torch.float32 else v for k, v in w.items()},
              str(bad / "model.safetensors"))
    rechecksum(bad, "model.safetensors")
    with pytest.raises(ArtifactError, match=r"stores .* as I32, the model needs torch.float32"):
        recstack.load(bad)
    # an ArtifactError from the candidate checks is not wrapped in a second "malformed" message
    # (the candidate checks' own errors are not wrapped in a second "malformed" message: see
    # test_save_paths_nullable_values_and_malformed_but_checksummed_files)


def test_a_bytes_id_is_one_id_and_oversized_requests_are_refused(trained, monkeypatch):
    from recstack.errors import ConfigError

    exp, d = trained
    rec = recstack.load(d)
    from recstack.errors import SchemaError

    for bad in (b"1", [1, b"1"], [{"user_id": 1 + 2j}], np.array([np.datetime64("2020-01-01")])):
        with pytest.raises(SchemaError, match="in the request; IDs, labels and text must be strings"):
            rec.recommend(bad, k=3)  # as fitting refuses them; b"1" matched user 1 (and was not [49])
    with pytest.raises(SchemaError, match=r"holds b'1' \(type bytes\) in the request.*decode"):
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


def test_rank_with_groups_keeps_a_groups_items_in_every_row_of_it(trained, monkeypatch):
    import recstack.metrics.ranking as ranking

    _, d = trained
    rec = recstack.load(d)
    user = rec.known_queries["user_id"].iloc[0]
    offsets, items = rec.seen
    seen = [rec.candidate_ids[i] for i in items[int(offsets[0]):int(offsets[1])].tolist()]
    scores = rec.score([user], rec.candidate_ids).set_index("item_id").score
    b = scores[seen].idxmax()  # a test item the user also had in training (bought again), scored high
    a = scores.drop(seen)[lambda s: s < scores[b]].idxmax()  # an unseen test item just below it
    rows = [{"user_id": user}, {"user_id": user}]
    apart = rec.rank(rows, [a, b], exclude="seen")
    one_list = rec.rank(rows, [a, b], exclude="seen", groups=[0, 0])
    others = [i for i in seen if i != b]
    assert int(one_list[0]) == int(rec.rank([user], [a], exclude=others)[0])  # b is in a's list
    assert int(apart[0]) == int(rec.rank([user], [a], exclude=seen)[0]) and one_list[1] == apart[1]
    assert one_list[0] == apart[0] + 1  # b above a in the user's one list
    chunks = []
    real = ranking.ranks_and_ties
    monkeypatch.setattr(ranking, "ranks_and_ties", lambda *a, **k: chunks.append(k["chunk_size"]) or real(*a, **k))
    rec.rank(rows, [a, b], chunk_size=3)
    assert chunks == [3]
    with pytest.raises(ConfigError, match="1 groups for 2 query rows"):
        rec.rank(rows, [a, b], groups=[0])

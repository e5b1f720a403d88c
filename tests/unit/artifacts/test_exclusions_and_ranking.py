"""Excluding seen and given items, rank(), and offline evaluation of a loaded model."""

import numpy as np
import pytest
import torch

import recstack
from recstack.errors import ConfigError
from recstack.experiment import RetrievalExperiment
from tests.conftest import small_config


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
    assert "1 of 20 rows have item_id values not in the catalogue" in caplog.text
    assert f"{nan_rows} of 20 rows score NaN for their item_id" in caplog.text


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

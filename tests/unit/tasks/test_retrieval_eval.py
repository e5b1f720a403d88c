"""RetrievalEvaluator: tie rules, the tie warning, and eval.ties from the config."""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd
import pytest
import torch

from recstack.config import ExperimentConfig
from recstack.errors import ConfigError, SchemaError
from recstack.experiment import RetrievalExperiment
from recstack.tasks.retrieval_eval import RetrievalEvaluator
from tests.conftest import small_config


class Towers(torch.nn.Module):
    """Query vectors from a fixed table (by row id), candidate vectors from another."""

    def __init__(self, queries: torch.Tensor, candidates: torch.Tensor) -> None:
        super().__init__()
        self.q, self.c = queries, candidates

    def query_embedding(self, features):
        return self.q[features["row"]]

    def candidate_embedding(self, features):
        return self.c[features["item"]]


def evaluator(n: int, c: int, ties: str) -> RetrievalEvaluator:
    return RetrievalEvaluator(
        {"row": torch.arange(n)}, torch.arange(n) % c, {"item": torch.arange(c)},
        metrics=["hit_rate@10"], ties=ties,
    )


def test_a_constant_model_is_flagged_and_only_optimistic_ties_reward_it(caplog):
    model = Towers(torch.zeros(40, 4), torch.randn(100, 4))
    with caplog.at_level(logging.WARNING, logger="recstack.tasks.retrieval_eval"):
        assert evaluator(40, 100, "optimistic")(model)["hit_rate@10"] == 1.0
    assert "eval.ties: mid" in caplog.text and "100% of sampled positives" in caplog.text
    caplog.clear()
    ev = evaluator(40, 100, "optimistic")
    with caplog.at_level(logging.WARNING, logger="recstack.tasks.retrieval_eval"):
        for _ in range(3):  # one evaluator per run, called every epoch: said once
            ev(model)
    assert caplog.text.count("sampled positives") == 1
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="recstack.tasks.retrieval_eval"):
        assert evaluator(40, 100, "mid")(model)["hit_rate@10"] == 0.0  # middle of 100: rank 49
        assert evaluator(40, 100, "pessimistic")(model)["hit_rate@10"] == 0.0
    assert caplog.text == ""


def test_a_model_without_ties_scores_the_same_under_every_rule(caplog):
    g = torch.Generator().manual_seed(0)
    model = Towers(torch.randn(60, 4, generator=g), torch.randn(30, 4, generator=g))
    with caplog.at_level(logging.WARNING):
        results = {t: evaluator(60, 30, t)(model) for t in ("optimistic", "mid", "pessimistic")}
    assert results["optimistic"] == results["mid"] == results["pessimistic"]
    assert caplog.text == ""


def test_eval_ties_reaches_the_experiment_evaluator():
    exp = RetrievalExperiment(small_config(**{"eval.ties": "mid", "data.validation_fraction": 0.0}))
    assert exp.evaluator(exp.test_table).ties == "mid"
    d = small_config().to_dict()
    d["eval"]["ties"] = "random"
    with pytest.raises(ConfigError, match=r"eval\.ties"):
        ExperimentConfig.from_dict(d)


def test_positives_missing_from_the_catalogue_are_misses_even_when_k_exceeds_it():
    model = Towers(torch.tensor([[1.0], [1.0]]), torch.tensor([[3.0], [2.0], [1.0]]))
    ev = RetrievalEvaluator({"row": torch.arange(2)}, torch.tensor([-1, 1]), {"item": torch.arange(3)},
                            metrics=["hit_rate@5", "recall@5", "ndcg@5", "mrr", "mrr@5"])
    m = ev(model)
    assert m["hit_rate@5"] == 0.5 and m["recall@5"] == 0.5
    assert m["mrr"] == pytest.approx((0 + 1 / 2) / 2) and m["mrr@5"] == pytest.approx(1 / 4)
    assert m["ndcg@5"] == pytest.approx((0 + 1 / math.log2(3)) / 2)
    nan_model = Towers(torch.tensor([[1.0], [1.0]]), torch.tensor([[3.0], [float("nan")], [1.0]]))
    assert ev(nan_model)["hit_rate@5"] == 0.0  # a NaN positive score is a miss too


def test_seen_items_are_excluded_when_the_test_table_spells_user_ids_as_floats():
    """IDs match canonically: 7 in training is 7.0 in an object/float test column."""
    exp = RetrievalExperiment(small_config(**{"data.validation_fraction": 0.0, "train.epochs": 1}))
    exp.fit()
    as_int = exp.evaluate(exclude_seen=True)
    spelled = exp.test_table.assign(user_id=exp.test_table["user_id"].astype(float).astype(object))
    assert exp.evaluate(spelled, exclude_seen=True) == as_int
    assert exp.evaluate(spelled, exclude_seen=False) != as_int  # the exclusion did something


def test_an_evaluation_row_without_a_user_names_the_row():
    exp = RetrievalExperiment(small_config(**{"data.validation_fraction": 0.0, "train.epochs": 1}))
    table = exp.test_table.assign(user_id=exp.test_table["user_id"].astype(object))
    table.loc[3, "user_id"] = None
    with pytest.raises(SchemaError, match=r"'user_id' is empty in 1 of \d+ rows \(first: row 3\)"):
        exp.evaluate(table)


def test_known_users_are_unique_and_a_missing_id_is_unknown():
    # (a training row without a user is an error: test_experiment_inputs)
    exp = RetrievalExperiment(small_config(**{"data.validation_fraction": 0.0, "train.epochs": 1}))
    exp.fit()
    rec = exp.recommender()
    known = rec.known_queries["user_id"]
    assert known.notna().all() and known.is_unique
    train = exp.tables.train
    assert rec.is_known([train["user_id"][0], float(train["user_id"][0]), None]).tolist() == [True, True, False]


@pytest.mark.parametrize("cold_start", ["average", "oov"])
def test_training_report_and_saved_model_score_unknown_users_alike(cold_start):
    """`recstack train`'s test metrics equal `recstack evaluate`'s for users unseen in training."""
    from recstack.data import add_history
    from recstack.experiment.offline import evaluate_recommender

    exp = RetrievalExperiment(small_config(**{"data.validation_fraction": 0.0, "train.epochs": 2,
                                              "eval.cold_start": cold_start}))
    exp.fit()
    raw = exp.tables.test.reset_index(drop=True)
    raw.loc[raw["user_id"] % 2 == 0, "user_id"] += 100_000  # half the rows: unknown users
    h = exp.config.data.history
    table = add_history(raw, user_col="user_id", item_col="item_id", time_col=exp.config.data.time_column,
                        max_length=h.max_length, output_col=h.column, reference=exp.full_train)
    reported = exp.evaluate(table)
    served = evaluate_recommender(exp.recommender(), raw[["user_id", "item_id"]], metrics=exp.config.eval.metrics,
                                  cold_start=cold_start)
    assert reported == pytest.approx(served, rel=1e-6)
    exp.config.eval.cold_start = "oov" if cold_start == "average" else "average"
    assert exp.evaluate(table)["mrr"] != pytest.approx(reported["mrr"], rel=1e-6)  # the setting matters


def test_an_unknown_user_described_by_another_query_feature_is_not_cold():
    cfg = small_config(**{"data.validation_fraction": 0.0, "train.epochs": 1})
    d = cfg.to_dict()
    d["features"]["age"] = {"type": "numeric", "normalize": True}
    d["model"]["query"] = ["user_id", "history", "age"]
    exp = RetrievalExperiment(ExperimentConfig.from_dict(d))
    table = pd.DataFrame({"user_id": [1, 2, 3], "age": [30.0, None, None], "history": [[], [], [5]]})
    unknown = np.array([True, True, False])
    from recstack.experiment.evaluation import _cold_rows

    assert _cold_rows(exp, table, unknown).tolist() == [False, True, False]


def test_an_empty_evaluation_table_is_a_clear_error():
    from recstack.errors import DataError

    with pytest.raises(DataError, match="no rows"):
        RetrievalEvaluator({"user_id": torch.zeros(0, dtype=torch.long)}, torch.zeros(0, dtype=torch.long),
                           {"item_id": torch.arange(3)}, metrics=["hit_rate@1"])


def test_the_evaluator_ranks_a_users_test_items_as_one_list_under_exclusion():
    from recstack.metrics import build_exclusion

    model = Towers(torch.ones(2, 1), torch.tensor([[0.9], [0.85], [0.8], [0.1]]))
    groups = torch.tensor([0, 0])
    ev = RetrievalEvaluator({"row": torch.arange(2)}, torch.tensor([2, 0]), {"item": torch.arange(4)},
                            metrics=["recall@2"], groups=groups,
                            exclude=build_exclusion(groups, torch.tensor([0, 0]), torch.tensor([0, 3])))
    assert ev.ranks(model).tolist() == [2, 0] and ev(model)["recall@2"] == 0.5  # was [1, 0] and 1.0


def test_the_tie_check_runs_only_where_ties_can_inflate_and_nan_candidates_are_flagged(caplog, monkeypatch):
    import recstack.metrics.ranking as ranking

    calls = []
    real = ranking.ranks_and_ties
    monkeypatch.setattr(ranking, "ranks_and_ties", lambda *a, **k: calls.append(k) or real(*a, **k))
    model = Towers(torch.randn(40, 4), torch.randn(100, 4))
    evaluator(40, 100, "mid")(model)
    assert [c["tie_rows"] for c in calls] == [None]  # mid/pessimistic: ties cannot inflate, nothing to count
    calls.clear()
    ev = RetrievalEvaluator({"row": torch.arange(40)}, torch.arange(40), {"item": torch.arange(100)},
                            metrics=["hit_rate@10"], chunk_size=8)
    ev(model)
    assert [(c["chunk_size"], int(c["tie_rows"].sum())) for c in calls] == [(8, 40)]  # counted in the one pass
    bad = model.c.clone()
    bad[5] = float("nan")
    with caplog.at_level(logging.WARNING, logger="recstack.tasks.retrieval_eval"):
        ev = evaluator(40, 100, "optimistic")
        for _ in range(2):
            ev(Towers(model.q, bad))
    assert caplog.text.count("1 of 100 candidates have NaN or infinite vectors") == 1  # once per evaluator

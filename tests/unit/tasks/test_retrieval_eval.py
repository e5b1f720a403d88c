"""RetrievalEvaluator: tie rules, the tie warning, and eval.ties from the config."""

from __future__ import annotations

import logging

import pytest
import torch

from recstack.config import ExperimentConfig
from recstack.errors import ConfigError
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

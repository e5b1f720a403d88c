"""Ties are counted from the ranking's own scores (no second scoring pass), on a sample spread
over all rows: evaluation and Recommender.rank share the one rank loop."""

from __future__ import annotations

import logging

import pandas as pd
import torch

import recstack.metrics.topk as topk
from recstack.tasks.retrieval_eval import RetrievalEvaluator
from tests.unit.tasks.test_retrieval_eval import Towers

WARNING = "of sampled positives score exactly like another candidate"


def _evaluate(queries: torch.Tensor, caplog) -> str:
    n = len(queries)
    ev = RetrievalEvaluator({"row": torch.arange(n)}, torch.arange(n) % 100, {"item": torch.arange(100)},
                            metrics=["hit_rate@10"])
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="recstack.tasks.retrieval_eval"):
        ev(Towers(queries, torch.randn(100, 4, generator=torch.Generator().manual_seed(1))))
    return caplog.text


def test_every_row_is_scored_once_ties_included(monkeypatch):
    scored = []
    real = topk._chunk_scores
    monkeypatch.setattr(topk, "_chunk_scores", lambda *a: scored.append(a[-1] - a[-2]) or real(*a))
    ev = RetrievalEvaluator({"row": torch.arange(300)}, torch.arange(300) % 100, {"item": torch.arange(100)},
                            metrics=["hit_rate@10"], chunk_size=64)
    ev(Towers(torch.zeros(300, 4), torch.randn(100, 4)))  # all tied: the check runs and warns
    assert sum(scored) == 300  # before: 300 + the 300 rows of the tie sample scored again


def test_ties_after_the_first_rows_are_seen(caplog):
    g = torch.Generator().manual_seed(0)
    q = torch.cat([torch.randn(1024, 4, generator=g), torch.zeros(3072, 4)])  # the last 3/4 of rows all tied
    assert "75% " + WARNING in _evaluate(q, caplog)  # the first 1,024 rows alone showed none


def test_ties_of_the_first_rows_alone_are_not_taken_for_all(caplog):
    g = torch.Generator().manual_seed(0)
    q = torch.cat([torch.zeros(30, 4), torch.randn(4066, 4, generator=g)])  # 0.7% of rows tied
    assert WARNING not in _evaluate(q, caplog)  # the first 1,024 rows alone: 2.9%, a warning


def test_recommender_rank_warns_from_the_same_count(caplog):
    from tests.conftest import id_only_experiment

    exp = id_only_experiment(pd.DataFrame({"user_id": ["a", "a", "b", "c"], "item_id": ["x", "y", "x", "z"]}))
    rec = exp.recommender()
    rec.index.embeddings = torch.ones_like(rec.index.embeddings)  # every candidate scores alike
    with caplog.at_level(logging.WARNING, logger="recstack.tasks.retrieval_eval"):
        assert rec.rank(["a", "b"], ["x", "z"]).tolist() == [0, 0]  # first of the three tied candidates
        assert rec.rank(["a", "b"], ["x", "z"], ties="pessimistic").tolist() == [2, 2]
    assert caplog.text.count("100% " + WARNING) == 1  # optimistic only

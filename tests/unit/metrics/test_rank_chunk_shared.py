"""One row block for ranking: evaluation and Recommender.rank take metrics.ranking.RANK_CHUNK."""

from __future__ import annotations

import torch

import recstack.artifacts.recommender as rec_mod
import recstack.metrics.ranking as ranking
import recstack.tasks.retrieval_eval as retrieval_eval
from recstack.metrics import PositiveRanker


def test_evaluation_and_rank_share_the_block_of_the_ranker():
    assert rec_mod.RANK_CHUNK is ranking.RANK_CHUNK and retrieval_eval.RANK_CHUNK is ranking.RANK_CHUNK
    assert not hasattr(retrieval_eval, "EXCLUDE_BLOCK")
    rows = ranking.RANK_CHUNK + 5
    ranker = PositiveRanker(torch.zeros(rows, dtype=torch.long))  # the default block
    assert [len(b) for b in ranker.blocks] == [ranking.RANK_CHUNK, 5]

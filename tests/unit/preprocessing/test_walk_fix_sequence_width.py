"""A sequence is padded to min(max_length, its longest row), not to max_length (walkthrough:
max_length 5000 over histories of 300 took 10x the time and 6 GB; 1e8 failed allocating TiB).
Models read the width from the tensor, so metrics and saved models are unchanged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import recstack
from recstack.config import ExperimentConfig
from recstack.experiment import RetrievalExperiment
from recstack.experiment.tables import Tables
from recstack.features import Schema
from recstack.layers.embedding import FeatureEmbedding
from recstack.preprocessing import Preprocessor

ROWS = pd.DataFrame({"h": [[1, 2, 3], [4], [], [2, 5]]})


def transform(max_length: int, rows: pd.DataFrame = ROWS, **spec: object) -> np.ndarray:
    schema = Schema.from_dict({"h": {"type": "sequence", "max_length": max_length, **spec}})
    return Preprocessor(schema).fit(ROWS).transform(rows)["h"].numpy()


@pytest.mark.parametrize("max_length", [3, 5000, 10**8])
def test_a_sequence_is_as_wide_as_its_longest_row_under_max_length(max_length):
    out = transform(max_length)
    assert out.shape == (4, 3)
    assert (out != 0).sum(axis=1).tolist() == [3, 1, 0, 2]


def test_max_length_still_cuts_longer_rows_keeping_the_chosen_end():
    last, first = transform(2), transform(2, keep="first")
    assert last.shape == first.shape == (4, 2)
    assert (last[0] == transform(3)[0, 1:]).all() and (first[0] == transform(3)[0, :2]).all()


def test_rows_without_items_give_one_padding_column():
    assert transform(5000, pd.DataFrame({"h": [[], []]})).tolist() == [[0], [0]]


@pytest.mark.parametrize("encoder", ["mean", "sum", "sqrtn", "max"])
def test_pooling_is_the_same_at_any_padded_width(encoder):
    schema = Schema.from_dict({"h": {"type": "sequence", "max_length": 50, "encoder": encoder}})
    pp = Preprocessor(schema).fit(ROWS)
    emb = FeatureEmbedding(pp.outputs, embedding_dim=4)
    narrow = pp.transform(ROWS)["h"]
    wide = torch.cat([narrow, torch.zeros(len(ROWS), 47, dtype=narrow.dtype)], dim=1)
    assert torch.allclose(emb.field({"h": narrow}, "h"), emb.field({"h": wide}, "h"))


def _config(tmp_path, max_length):
    return ExperimentConfig.from_dict({
        "data": {"train": "x.csv", "time_column": "timestamp",
                 "history": {"max_length": 6, "mode": "before", "eval_history": "before"}},
        "features": {"history": {"type": "sequence", "max_length": max_length}, "item_id": {"type": "categorical"}},
        "model": {"kind": "two_tower", "query": ["history"], "candidate": ["item_id"], "embedding_dim": 8},
        "task": {"kind": "retrieval", "candidates": "catalogue"},
        "train": {"lr": 0.2, "batch_size": 256, "epochs": 1, "seed": 1, "progress": False},
        "eval": {"metrics": ["hit_rate@10", "mrr"]}}, base_dir=str(tmp_path))


def test_a_huge_max_length_trains_evaluates_and_serves_as_a_fitting_one(tmp_path):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"user_id": rng.integers(0, 30, 1200), "item_id": rng.integers(0, 50, 1200),
                       "timestamp": rng.integers(10**9, 10**9 + 10**6, 1200)})
    train, test = df.iloc[:900].reset_index(drop=True), df.iloc[900:].reset_index(drop=True)
    results = []
    for max_length in (6, 10**8):
        exp = RetrievalExperiment(_config(tmp_path, max_length), tables=Tables(train, test))
        exp.fit()
        exp.save(tmp_path / str(max_length))
        rec = recstack.load(tmp_path / str(max_length))
        results.append((exp.evaluate(), rec.recommend([0, 1, 29], k=5)))
    (metrics6, lists6), (metrics_huge, lists_huge) = results
    assert metrics6 == pytest.approx(metrics_huge)
    pd.testing.assert_frame_equal(lists6, lists_huge)

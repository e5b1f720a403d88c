import os
from pathlib import Path

import pytest

from recstack.config import ExperimentConfig


def ml100k_dir() -> Path | None:
    root = os.environ.get("RECSTACK_DATA")
    return Path(root) / "ml-100k" if root else None


needs_ml100k = pytest.mark.skipif(ml100k_dir() is None, reason="RECSTACK_DATA is not set")


def small_config(**overrides) -> ExperimentConfig:
    d = {
        "data": {"dataset": "synthetic",
                 "dataset_options": {"num_users": 150, "num_items": 80, "num_interactions": 3000, "seed": 1},
                 "validation_fraction": 0.1, "history": {"max_length": 20}},
        "features": {"user_id": {"type": "categorical"}, "item_id": {"type": "categorical"},
                     "history": {"type": "sequence", "source": "item_id", "max_length": 20},
                     "genres": {"type": "multi_hot"}},
        "model": {"kind": "two_tower", "query": ["user_id", "history"], "candidate": ["item_id", "genres"],
                  "embedding_dim": 8, "layers": [16, 8]},
        "task": {"kind": "retrieval", "logq_correction": True},
        "train": {"optimizer": "adagrad", "lr": 0.1, "batch_size": 512, "epochs": 3, "seed": 7,
                  "progress": False, "checkpoint_every": 1},
        "eval": {"metrics": ["hit_rate@10", "hit_rate@50", "recall@10", "ndcg@10", "mrr"]},
    }
    return ExperimentConfig.from_dict(apply_overrides(d, overrides))


def apply_overrides(d: dict, overrides: dict) -> dict:
    """Sets ``{"train.lr": 0.5, ...}`` (dotted config paths) in the nested dict ``d``; returns it."""
    for path, value in overrides.items():
        node = d
        *head, last = path.split(".")
        for h in head:
            node = node[h]
        node[last] = value
    return d

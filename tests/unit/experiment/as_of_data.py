"""A small config of the as-of-time recipe (``data.history.eval_history: before``) for tests
that give their own tables."""

from __future__ import annotations

from recstack.config import ExperimentConfig


def as_of_config(tmp_path, candidates: str = "catalogue") -> ExperimentConfig:
    """History of the last 6 earlier items as the query, item_id as the candidate, one epoch."""
    return ExperimentConfig.from_dict({
        "data": {"train": "x.csv", "time_column": "timestamp",
                 "history": {"max_length": 6, "mode": "before", "eval_history": "before"}},
        "features": {"history": {"type": "sequence", "max_length": 6}, "item_id": {"type": "categorical"}},
        "model": {"kind": "two_tower", "query": ["history"], "candidate": ["item_id"], "embedding_dim": 8},
        "task": {"kind": "retrieval", "candidates": candidates},
        "train": {"lr": 0.2, "batch_size": 256, "epochs": 1, "seed": 1, "progress": False},
        "eval": {"metrics": ["hit_rate@10", "mrr"], "ties": "mid"}}, base_dir=str(tmp_path))

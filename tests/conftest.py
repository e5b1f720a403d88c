import os
from pathlib import Path

import pytest

from recstack.config import ExperimentConfig


def ml100k_dir() -> Path | None:
    """``$RECSTACK_DATA/ml-100k`` when it holds MovieLens 100K, else None (those tests skip:
    `make test` defaults RECSTACK_DATA to ../shared/data, which a clone elsewhere lacks)."""
    root = os.environ.get("RECSTACK_DATA")
    d = Path(root) / "ml-100k" if root else None
    return d if d is not None and (d / "u.data").is_file() else None


needs_ml100k = pytest.mark.skipif(
    ml100k_dir() is None,
    reason=f"no MovieLens 100K in RECSTACK_DATA={os.environ.get('RECSTACK_DATA')!r} (set it to the folder holding ml-100k/)",
)


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


def id_only_experiment(train, *, train_dtype=None):
    """A trained two-tower of ``user_id -> item_id`` (embedding 4, one epoch) on the DataFrame
    ``train``; ``train_dtype`` is recorded as the training file's ``dtype`` (nothing is read)."""
    from recstack.experiment import RetrievalExperiment
    from recstack.experiment.tables import Tables

    cfg = ExperimentConfig.from_dict({
        "data": {"train": {"path": "unused.csv", "dtype": train_dtype} if train_dtype else "unused.csv",
                 "time_column": None},
        "features": {"user_id": {"type": "categorical"}, "item_id": {"type": "categorical"}},
        "model": {"kind": "two_tower", "query": ["user_id"], "candidate": ["item_id"], "embedding_dim": 4},
        "train": {"batch_size": 8, "epochs": 1, "progress": False},
    })
    exp = RetrievalExperiment(cfg, tables=Tables(train, None, None, None))
    exp.fit()
    return exp

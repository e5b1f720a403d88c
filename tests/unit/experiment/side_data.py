"""Small interaction files with users/items side tables (data.join), for experiment and CLI tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from recstack.data import load_dataset
from tests.conftest import apply_overrides


def write_side_data(folder: Path, *, cold_users: int = 0, seed: int = 3) -> dict[str, pd.DataFrame]:
    """``train.csv``/``test.csv`` (user_id, item_id, timestamp), ``users.csv`` (user_id, age,
    country) and ``items.csv`` (item_id, title, genres, price) in ``folder``. The first
    ``cold_users`` users have all their rows in the test file (unseen in training)."""
    ds = load_dataset("synthetic", num_users=60, num_items=30, num_interactions=1200, seed=seed)
    cols = ["user_id", "item_id", "timestamp"]
    cold = ds.train.user_id <= cold_users
    train = ds.train.loc[~cold, cols].reset_index(drop=True)
    test = pd.concat([ds.test[cols], ds.train.loc[cold, cols]], ignore_index=True)
    folder.mkdir(parents=True, exist_ok=True)
    tables = {"train": train, "test": test, "users": ds.users, "items": ds.items}
    for name, table in tables.items():
        table.to_csv(folder / f"{name}.csv", index=False)
    return tables


def side_config(**overrides: Any) -> dict[str, Any]:
    """A config over :func:`write_side_data`'s files (relative paths: the config's folder)."""
    d: dict[str, Any] = {
        "data": {"train": "train.csv", "test": "test.csv", "time_column": "timestamp",
                 "join": {"users": {"path": "users.csv", "key": "user_id"},
                          "items": {"path": "items.csv", "key": "item_id"}},
                 "validation_fraction": 0.0, "history": {"max_length": 10, "mode": "others"}},
        "features": {"user_id": {"type": "categorical"}, "age": {"type": "numeric", "normalize": True},
                     "country": {"type": "categorical"}, "history": {"type": "sequence", "max_length": 10},
                     "item_id": {"type": "categorical"}, "genres": {"type": "multi_hot"}},
        "model": {"kind": "two_tower", "query": ["user_id", "age", "country", "history"],
                  "candidate": ["item_id", "genres"], "embedding_dim": 8, "layers": [8]},
        "task": {"kind": "retrieval", "candidates": "catalogue"},
        "train": {"optimizer": "adagrad", "lr": 0.2, "batch_size": 256, "epochs": 2, "seed": 1, "progress": False},
        "eval": {"metrics": ["hit_rate@5", "hit_rate@10", "ndcg@10", "mrr"], "exclude_seen": True, "ties": "mid"},
    }
    return apply_overrides(d, overrides)

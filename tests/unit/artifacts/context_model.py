"""A small trained two-tower whose query reads the per-interaction ``timestamp`` (TFRS's
context-features tutorial), for the serving-notice tests of request context."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recstack.config import ExperimentConfig
from recstack.experiment import RetrievalExperiment
from recstack.experiment.tables import Tables


def context_train() -> pd.DataFrame:
    """60 users x 5 rows, timestamps 1e9 .. 1e9 + 299e3 (seconds), differing within each user."""
    rng = np.random.default_rng(0)
    n = 300
    return pd.DataFrame({"user_id": np.repeat(np.arange(60), 5), "item_id": rng.integers(0, 40, n),
                         "timestamp": 1_000_000_000 + np.arange(n) * 1000})


def context_experiment(*, context: bool = False, items: bool = False) -> RetrievalExperiment:
    """Trained one epoch: query ``user_id`` + ``timestamp`` (normalized, ``context`` as given);
    ``items``: the candidate also reads a numeric ``year`` of each row's item."""
    train = context_train()
    features: dict[str, dict[str, object]] = {
        "user_id": {"type": "categorical"}, "item_id": {"type": "categorical"},
        "timestamp": {"type": "numeric", "normalize": True, "fill": 0.0, **({"context": True} if context else {})}}
    candidate = ["item_id"]
    if items:
        train["year"] = 1990 + train["item_id"] % 10
        features["year"] = {"type": "numeric", "normalize": True}
        candidate.append("year")
    cfg = ExperimentConfig.from_dict({
        "data": {"train": "unused.csv"}, "features": features,
        "model": {"kind": "two_tower", "query": ["user_id", "timestamp"], "candidate": candidate,
                  "embedding_dim": 4, "layers": [4]},
        "train": {"batch_size": 64, "epochs": 1, "progress": False},
    })
    exp = RetrievalExperiment(cfg, tables=Tables(train, None, None, None, {}))
    exp.fit()
    return exp

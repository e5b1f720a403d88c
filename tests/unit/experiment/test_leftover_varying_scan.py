"""The training table is scanned once for query columns that differ between a user's rows:
the start-up warning and the stored query rows' ``per_interaction`` share the scan, with the
result of a scan of their own; another table is scanned for itself."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
import pytest

import recstack
import recstack.experiment.checks as checks
import recstack.experiment.export as export
from recstack.config import ExperimentConfig
from recstack.experiment import RetrievalExperiment
from recstack.experiment.export import stored_query_rows
from recstack.experiment.tables import Tables


def _table(seed: int = 0, n: int = 3000, users: int = 200, items: int = 60) -> pd.DataFrame:
    """Interactions with a per-user ``country`` and a per-row ``device`` (it differs between a user's rows)."""
    rng = np.random.default_rng(seed)
    u = rng.integers(0, users, n)
    return pd.DataFrame({"user_id": u, "item_id": rng.integers(0, items, n),
                         "country": np.array(["fr", "de", "us", "jp"])[u % 4],
                         "device": rng.choice(["ios", "android", "web"], n), "timestamp": rng.permutation(n)})


def _experiment(table: pd.DataFrame) -> RetrievalExperiment:
    cfg = ExperimentConfig.from_dict({
        "data": {"train": "unused.csv", "time_column": "timestamp", "validation_fraction": 0.2},
        "features": {"user_id": {"type": "categorical"}, "item_id": {"type": "categorical"},
                     "country": {"type": "categorical"}, "device": {"type": "categorical"}},
        "model": {"kind": "two_tower", "query": ["user_id", "country", "device"], "candidate": ["item_id"],
                  "embedding_dim": 4, "layers": [4]},
        "train": {"batch_size": 256, "epochs": 1, "progress": False},
        "eval": {"metrics": ["hit_rate@10", "mrr"], "exclude_seen": True},
    })
    return RetrievalExperiment(cfg, tables=Tables(table, None, None, None))


def _count(monkeypatch: pytest.MonkeyPatch, calls: Counter[str], module: Any, name: str) -> None:
    """Counts the calls of ``module.name`` (the name the module calls) in ``calls[name]``."""
    original = getattr(module, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[name] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)


def test_the_training_table_is_scanned_once_for_per_interaction_columns(monkeypatch, caplog, tmp_path):
    calls: Counter[str] = Counter()
    for module in (checks, export):
        _count(monkeypatch, calls, module, "varying_query_columns")
    with caplog.at_level(logging.WARNING):
        exp = _experiment(_table())
    assert "feature 'device' reads column 'device'" in caplog.text  # the start-up warning still comes
    assert calls["varying_query_columns"] == 1
    exp.fit()
    exp.recommender()
    exp.save(tmp_path / "model")
    assert calls["varying_query_columns"] == 1, calls  # the stored rows reuse the start-up scan
    monkeypatch.undo()
    fresh = stored_query_rows(exp.full_train, exp.config, exp.schema, exp.query_features)
    known = exp.known_queries()
    assert known.equals(fresh) and known.attrs == fresh.attrs == {"per_interaction": ["device"]}
    assert recstack.load(tmp_path / "model").known_queries.attrs == {"per_interaction": ["device"]}


def test_another_table_gets_its_own_per_interaction_columns():
    """The kept scan is the training table's: a table whose device is one per user lists none."""
    exp = _experiment(_table())
    other = exp.full_train.assign(device=np.where(exp.full_train["user_id"] % 2 == 0, "ios", "web"))
    assert exp.known_queries(other).attrs == {"per_interaction": []}
    assert exp.known_queries().attrs == {"per_interaction": ["device"]}
    assert exp.known_queries(exp.fit_table).attrs == stored_query_rows(
        exp.fit_table, exp.config, exp.schema, exp.query_features).attrs

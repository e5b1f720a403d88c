"""Train, evaluate, then save builds the stored users (query rows, users-table rows, seen-items
CSR) and the metadata once, and the in-memory Recommender and the saved artifact share them."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

import recstack
import recstack.experiment.export as export
import recstack.experiment.retrieval as retrieval
from recstack.experiment import RetrievalExperiment
from tests.conftest import small_config


@pytest.fixture(scope="module")
def exp() -> RetrievalExperiment:
    e = RetrievalExperiment(small_config(**{"train.epochs": 1}))
    e.fit()
    return e


def _count(monkeypatch: pytest.MonkeyPatch, calls: Counter[str], names: list[str]) -> None:
    """Counts calls of ``names`` wherever the experiment's modules call them."""
    for module in (retrieval, export):
        for name in names:
            if hasattr(module, name):
                original = getattr(module, name)

                def counted(*args: Any, _name: str = name, _f: Any = original, **kwargs: Any) -> Any:
                    calls[_name] += 1
                    return _f(*args, **kwargs)

                monkeypatch.setattr(module, name, counted)


def test_evaluate_recommender_and_save_build_the_stored_users_once(exp, tmp_path, monkeypatch):
    calls: Counter[str] = Counter()
    _count(monkeypatch, calls, ["stored_query_rows", "users_table_rows", "artifact_metadata"])
    # a user training never saw: evaluation averages the known users' queries (their stored rows)
    stranger = exp.test_table.iloc[:1].assign(user_id=10_000)
    stranger["history"] = pd.Series([[]], dtype=exp.test_table["history"].dtype, index=stranger.index)
    exp.evaluate(pd.concat([exp.test_table, stranger], ignore_index=True))
    rec = exp.recommender()
    exp.save(tmp_path / "model")
    assert calls["stored_query_rows"] == 1, calls
    assert calls["users_table_rows"] <= 1, calls
    assert calls["artifact_metadata"] == 2, calls  # one per Recommender / artifact, not two for a save
    saved = recstack.load(tmp_path / "model")
    assert saved.known_queries.equals(rec.known_queries)
    assert all(torch.equal(a, b) for a, b in zip(saved.seen, rec.seen))


def test_save_writes_the_rows_the_recommender_holds(exp, tmp_path, monkeypatch):
    """Equal, not the same objects: what save writes is what the in-memory Recommender serves
    from, and a caller's edits to one Recommender reach neither another one nor the artifact."""
    written: dict[str, Any] = {}
    real = retrieval.save_artifact

    def capture(directory: Any, **kwargs: Any) -> Any:
        written.update(kwargs)
        return real(directory, **kwargs)

    monkeypatch.setattr(retrieval, "save_artifact", capture)
    rec = exp.recommender()
    exp.save(tmp_path / "model")
    assert written["known_queries"].equals(rec.known_queries)
    assert all(torch.equal(a, b) for a, b in zip(written["seen"], rec.seen))


def test_edits_through_one_recommender_stay_its_own(exp, tmp_path):
    first = exp.recommender()
    seen_before = exp.recommender().seen[1].clone()
    users_before = exp.known_queries()["user_id"].copy()
    first.seen[1].zero_()
    first.known_queries["user_id"] += 1000
    caller = exp.known_queries()
    caller["user_id"] += 1000  # the caller's copy
    second = exp.recommender()
    assert torch.equal(second.seen[1], seen_before)
    assert second.known_queries["user_id"].equals(users_before)
    saved = recstack.load(exp.save(tmp_path / "model"))
    assert torch.equal(saved.seen[1], seen_before)
    assert saved.known_queries["user_id"].tolist() == users_before.tolist()


def test_array_cells_of_an_object_history_are_not_shared(tmp_path):
    """Mixed int/str item IDs: the history is an object column of arrays (no Arrow list), whose
    cells a shallow or pandas-deep copy would share."""
    from recstack.config import ExperimentConfig
    from recstack.experiment.tables import Tables

    items = [1, "a", 2, "b", 3, "c"]
    train = pd.DataFrame({"user_id": [u for u in range(1, 7) for _ in range(4)],
                          "item_id": pd.Series([items[(u + k) % 6] for u in range(1, 7) for k in range(4)],
                                               dtype=object), "t": range(24)})
    cfg = ExperimentConfig.from_dict({
        "data": {"train": "unused.csv", "time_column": "t", "history": {"max_length": 5}},
        "features": {"user_id": {"type": "categorical"}, "item_id": {"type": "categorical"},
                     "history": {"type": "sequence", "source": "item_id", "max_length": 5}},
        "model": {"kind": "two_tower", "query": ["user_id", "history"], "candidate": ["item_id"],
                  "embedding_dim": 4, "layers": [4]},
        "train": {"batch_size": 8, "epochs": 1, "progress": False}})
    e = RetrievalExperiment(cfg, tables=Tables(train, None, None, None))
    e.fit()
    before = list(e.known_queries().at[0, "history"])
    cell = e.recommender().known_queries.at[0, "history"]
    assert isinstance(cell, np.ndarray)  # the case under test: an array in an object cell
    cell[0] = "ZZZ"
    assert list(e.known_queries().at[0, "history"]) == before
    assert list(e.recommender().known_queries.at[0, "history"]) == before
    assert list(recstack.load(e.save(tmp_path / "m")).known_queries.at[0, "history"]) == before

"""``data.split`` divides a built-in dataset that brings no test rows (``movielens-100k`` with
``dataset_options: {split: all}``), as TFRS tutorials split all 100k ratings 80/20 at random;
before, any ``data.split`` with ``data.dataset`` was refused. A dataset with its own test rows
still refuses it, saying how to get a split of all ratings."""

from __future__ import annotations

from typing import Any

import pytest

from recstack.config.experiment import ExperimentConfig
from recstack.errors import ConfigError
from recstack.experiment.tables import load_tables
from tests.conftest import needs_ml100k


def _config(dataset: str, options: dict[str, Any], split: dict[str, Any]) -> dict[str, Any]:
    return {"data": {"dataset": dataset, "dataset_options": options, "split": split},
            "features": {"user_id": {"type": "categorical"}, "item_id": {"type": "categorical"}},
            "model": {"query": ["user_id"], "candidate": ["item_id"]}}


@needs_ml100k
def test_a_random_split_of_all_movielens_ratings():
    cfg = ExperimentConfig.from_dict(_config("movielens-100k", {"split": "all"},
                                             {"kind": "random", "test_fraction": 0.2, "seed": 42}))
    tables = load_tables(cfg.data, cfg.base_dir)
    assert tables.test is not None
    assert len(tables.train) + len(tables.test) == 100_000 and 19_000 < len(tables.test) < 21_000
    assert "title" in tables.test.columns  # the side columns come along, as with the published splits


@needs_ml100k
def test_leave_last_n_of_all_movielens_ratings():
    cfg = ExperimentConfig.from_dict(_config("movielens-100k", {"split": "all"}, {"kind": "leave_last_n"}))
    tables = load_tables(cfg.data, cfg.base_dir)
    assert tables.test is not None and len(tables.test) == tables.test["user_id"].nunique() == 943


@pytest.mark.parametrize("dataset, options, hint", [
    ("movielens-100k", {}, "set data.dataset_options: {split: all}"),
    ("movielens-100k", {"split": "u2"}, "set data.dataset_options: {split: all}"),
    ("synthetic", {}, "remove data.split"),
])
def test_a_dataset_with_its_own_test_rows_refuses_a_split(dataset, options, hint):
    with pytest.raises(ConfigError) as info:
        ExperimentConfig.from_dict(_config(dataset, options, {"kind": "random"}))
    message = str(info.value)
    assert message.startswith(f"data.split: not used with data.dataset {dataset}, which brings its own test rows")
    assert hint in message

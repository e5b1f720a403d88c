"""Checks of two config keys together name the key to change (``data.split.cutoff``, not the
section ``data.split``) and say how to fix it: one case per cross-field check of the config."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from recstack.config import ExperimentConfig
from recstack.errors import ConfigError

BASE: dict[str, Any] = {
    "data": {"train": "train.csv"},
    "features": {"user_id": {"type": "categorical"}, "item_id": {"type": "categorical"}},
    "model": {"kind": "two_tower", "query": ["user_id"], "candidate": ["item_id"]},
}


def _config(data: dict[str, Any] | None = None, **sections: Any) -> dict[str, Any]:
    d = copy.deepcopy(BASE)
    if data is not None:
        d["data"] = data
    d.update(sections)
    return d


# (config, the full key path the message starts with, a phrase of the fix)
CASES = [
    # data.split: an option of another kind
    (_config({"train": "t.csv", "split": {"kind": "random", "cutoff": 5}}), "data.split.cutoff", "remove cutoff"),
    (_config({"train": "t.csv", "split": {"kind": "random", "n": 2}}), "data.split.n", "remove n"),
    (_config({"train": "t.csv", "split": {"kind": "leave_last_n", "test_fraction": 0.1}}),
     "data.split.test_fraction", "remove test_fraction"),
    (_config({"train": "t.csv", "split": {"kind": "temporal", "cutoff": 5, "test_fraction": 0.1}}),
     "data.split.test_fraction", "remove test_fraction"),
    (_config({"train": "t.csv", "split": {"kind": "temporal", "seed": 1}}), "data.split.seed", "remove seed"),
    # data: the source of the interactions
    (_config({"user_column": "u"}), "data.train", "give data.train"),
    (_config({"dataset": "synthetic", "train": "t.csv"}), "data.train", "remove"),
    (_config({"dataset": "synthetic", "test": "t.csv"}), "data.test", "remove"),
    (_config({"dataset": "synthetic", "join": {"users": {"path": "u.csv", "key": "user_id"}}}), "data.join",
     "remove"),
    (_config({"train": "t.csv", "test": "s.csv", "split": {"kind": "random"}}), "data.split", "remove"),
    (_config({"dataset": "synthetic", "split": {"kind": "random"}}), "data.split", "remove"),
    (_config({"train": "t.csv", "time_column": None, "split": {"kind": "temporal"}}), "data.time_column",
     "set data.time_column"),
    (_config({"train": "t.csv", "dataset_options": {"split": "u1"}}), "data.dataset_options", "set the reader options"),
    # across sections (ExperimentConfig.from_dict)
    (_config({"train": "t.csv"}, train={"early_stopping": {"metric": "hit_rate@10"}}), "data.validation_fraction",
     "set data.validation_fraction"),
    (_config({"train": "t.csv", "validation_fraction": 0.1},
             train={"early_stopping": {"metric": "hit_rate@10"}, "eval_every": 5, "epochs": 3}),
     "train.eval_every", "set train.eval_every"),
    (_config({"train": "t.csv", "validation_fraction": 0.1},
             train={"early_stopping": {"metric": "hit_rate@7"}}),
     "train.early_stopping.metric", "add it"),
    (_config(model={"kind": "two_tower", "query": ["user_id", "item_id"], "candidate": ["item_id"]}),
     "model.query", "remove"),
]


@pytest.mark.parametrize("config, key, fix", CASES, ids=[f"{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_a_cross_field_error_names_the_full_key_and_the_fix(config, key, fix):
    with pytest.raises(ConfigError) as info:
        ExperimentConfig.from_dict(config)
    message = str(info.value)
    assert re.match(re.escape(key) + ": ", message), message
    assert fix in message, message


def test_a_history_without_a_time_column_names_data_time_column():
    """``DataConfig.check_column_roles`` (run on the training table) checks two keys together too."""
    from recstack.config import DataConfig

    data = DataConfig(train="t.csv", history={}, time_column=None)
    with pytest.raises(ConfigError, match=r"^data\.time_column: null, but data\.history needs it.*set "
                                          r"data\.time_column"):
        data.check_column_roles(["user_id", "item_id", "timestamp"])

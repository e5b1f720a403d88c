"""The experiment's calls pass config keys down, so errors name the key to change: the history
built from ``data`` (``data.time_column``, not ``time_col``), ``task.*`` and ``model.candidate_key``."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from recstack.errors import ConfigError, SchemaError
from recstack.experiment import RetrievalExperiment
from tests.conftest import small_config


def test_task_checks_name_the_task_key():
    with pytest.raises(ConfigError, match=r"^task\.logq_correction: .*set logq_correction: false"):
        small_config(**{"task.candidates": "catalogue", "task.logq_correction": True})
    with pytest.raises(ConfigError, match=r"^task\.num_negatives: .*set num_negatives: 0"):
        small_config(**{"task.candidates": "catalogue", "task.logq_correction": False, "task.num_negatives": 4})


def test_an_empty_row_time_names_data_time_column(tmp_path):
    rows = pd.DataFrame({"user_id": [1, 1, 2, 2, 3, 3] * 4, "item_id": [1, 2, 3, 4, 5, 6] * 4,
                         "t": [1.0, 2.0, None, 4.0, 5.0, 6.0] * 4})
    rows.to_csv(tmp_path / "train.csv", index=False)
    config = small_config(**{
        "data": {"train": str(tmp_path / "train.csv"), "time_column": "t", "history": {"max_length": 5}},
        "features": {"item_id": {"type": "categorical"},
                     "history": {"type": "sequence", "source": "item_id", "max_length": 5}},
        "model.query": ["history"], "model.candidate": ["item_id"],
    })
    with pytest.raises(SchemaError, match=r"^data\.time_column: column 't' is empty") as info:
        RetrievalExperiment(config, run_dir=tmp_path / "run").fit()
    assert not re.search(r"\btime_col\b", str(info.value))

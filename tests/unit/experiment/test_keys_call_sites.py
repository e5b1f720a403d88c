"""The experiment's calls pass config keys down, so errors name the key to change: the history
built from ``data`` (``data.time_column``, not ``time_col``), ``task.*`` and ``model.candidate_key``."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from recstack.config import ExperimentConfig
from recstack.errors import ConfigError, DataError, SchemaError
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


def test_a_fractional_item_id_names_the_training_data_and_its_file_row(tmp_path):
    (tmp_path / "train.csv").write_text("user_id,item_id\n1,1\n2,1\n3,1\n1,2\n2,2\n3,7.5\n")
    (tmp_path / "test.csv").write_text("user_id,item_id\n1,2\n")
    config = ExperimentConfig.from_dict({
        "data": {"train": "train.csv", "test": "test.csv", "time_column": None},
        "features": {"user_id": {"type": "categorical"}, "item_id": {"type": "categorical"}},
        "model": {"kind": "two_tower", "query": ["user_id"], "candidate": ["item_id"]},
    }, base_dir=str(tmp_path))
    # before: "of the table ... (data row 3: 7.5)", a row of the de-duplicated catalogue
    with pytest.raises(DataError, match=r"column 'item_id' of the training data \(rows counted after any "
                                        r"data\.split\) holds a float that is not a whole number \(data row 6: 7\.5\)"):
        RetrievalExperiment(config, run_dir=tmp_path / "run")

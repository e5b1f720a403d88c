"""Experiment-level history settings: vocabularies that match, no future items in validation."""

from __future__ import annotations

import numpy as np
import pytest

from recstack.config import ExperimentConfig
from recstack.errors import ConfigError
from recstack.experiment import RetrievalExperiment
from tests.conftest import small_config


def test_a_history_sharing_a_vocabulary_of_another_column_than_the_item_column_is_an_error():
    d = small_config().to_dict()
    d["features"]["title"] = {"type": "categorical"}
    d["features"]["history"]["source"] = "title"
    d["model"]["candidate"] = ["title"]
    with pytest.raises(ConfigError, match=r"features\.history\.source: 'title'.*set data\.item_column: title"):
        RetrievalExperiment(ExperimentConfig.from_dict(d))
    d["data"]["item_column"] = "title"  # the history now lists titles: accepted
    RetrievalExperiment(ExperimentConfig.from_dict(d))


def test_before_histories_of_validation_rows_hold_no_later_items():
    exp = RetrievalExperiment(small_config(**{"data.validation_fraction": 0.2, "data.history.max_length": 20}))
    assert exp.config.data.history.mode == "before"
    fit, val, t = exp.fit_table, exp.val_table, exp.config.data.time_column
    first = fit.groupby(["user_id", "item_id"])[t].min()  # an item may repeat for a user
    time_of = first.to_dict()
    later = [time_of[(u, i)] >= ts for u, h, ts in zip(val.user_id, val.history, val[t]) for i in h]
    assert later and not any(later)
    assert np.mean([len(h) for h in val.history]) > 0

"""``context: true`` on a feature spec: request context given with each query. It silences the
experiment's per-interaction warning for that feature only, is refused when not a boolean, and
is written in a spec only when set (specs written before it existed compare equal)."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from recstack.config import ExperimentConfig
from recstack.errors import ConfigError
from recstack.experiment import RetrievalExperiment
from recstack.experiment.tables import Tables
from recstack.features import Schema

TRAIN = pd.DataFrame({
    "user_id": [1, 1, 1, 2, 2, 3, 3, 3],
    "item_id": [10, 11, 12, 10, 13, 11, 12, 13],
    "rating": [5, 3, 4, 1, 5, 2, 2, 4],
    "timestamp": [100, 200, 300, 110, 210, 120, 220, 320],
})


def _experiment(features: dict[str, dict[str, object]]) -> RetrievalExperiment:
    cfg = ExperimentConfig.from_dict({
        "data": {"train": "unused.csv"},
        "features": {"user_id": {"type": "categorical"}, "item_id": {"type": "categorical"}, **features},
        "model": {"kind": "two_tower", "query": ["user_id", *features], "candidate": ["item_id"],
                  "embedding_dim": 4, "layers": [4]},
        "train": {"batch_size": 4, "epochs": 1, "progress": False},
    })
    return RetrievalExperiment(cfg, tables=Tables(TRAIN, None, None, None, {}))


def test_a_declared_context_feature_is_not_warned_about(caplog):
    with caplog.at_level(logging.WARNING):
        _experiment({"timestamp": {"type": "numeric", "normalize": True, "context": True},
                     "rating": {"type": "numeric"}})
    assert "feature 'timestamp' reads column" not in caplog.text
    assert "feature 'rating' reads column 'rating', which differs" in caplog.text  # a rating stays the user's call


def test_the_warning_names_the_context_setting(caplog):
    with caplog.at_level(logging.WARNING):
        _experiment({"timestamp": {"type": "numeric"}})
    assert "declare it: features.timestamp.context: true" in caplog.text


def test_context_must_be_a_boolean():
    with pytest.raises(ConfigError, match=r"features\.t\.context"):
        Schema.from_dict({"t": {"type": "numeric", "context": "yes"}})


def test_context_is_written_only_when_set():
    schema = Schema.from_dict({"t": {"type": "numeric", "context": True}, "u": {"type": "categorical"}})
    spec = schema.to_dict()["features"]
    assert spec["t"]["context"] is True and "context" not in spec["u"]
    assert Schema.from_json_dict(schema.to_dict()) == schema


def test_context_on_a_candidate_feature_is_refused():
    """It was accepted and did nothing: a candidate is scored without a request."""
    with pytest.raises(ConfigError, match=r"^features\.genre\.context: true declares request context, which only "
                       r"a model\.query feature can be; 'genre' is in model\.candidate: remove context$"):
        ExperimentConfig.from_dict({
            "data": {"train": "unused.csv"},
            "features": {"user_id": {"type": "categorical"}, "item_id": {"type": "categorical"},
                         "genre": {"type": "categorical", "context": True}},
            "model": {"kind": "two_tower", "query": ["user_id"], "candidate": ["item_id", "genre"]}})

"""Checks of two feature-spec keys together name the key to change (``features.age.boundaries``,
not the feature ``features.age``) and say how to fix it: one case per cross-field check of a spec."""

from __future__ import annotations

from typing import Any

import pytest

from recstack.errors import ConfigError
from recstack.features import Schema

ITEM = {"item_id": {"type": "categorical"}}

# (features, the full key path the message starts with, a phrase of the fix)
CASES: list[tuple[dict[str, Any], str, str]] = [
    ({"age": {"type": "numeric", "buckets": 4, "boundaries": [18, 30]}}, "features.age.boundaries",
     "remove boundaries"),
    ({"age": {"type": "numeric", "boundaries": [30, 18]}}, "features.age.boundaries", "increasing"),
    ({"age": {"type": "numeric", "boundaries": []}}, "features.age.boundaries", "increasing"),
    ({"price": {"type": "numeric", "log": True, "fill": -2}}, "features.price.fill", "remove log: true"),
    ({"age": {"type": "numeric", "as_value": False}}, "features.age.as_value", "set buckets"),
    ({"user_id": {"type": "categorical", "num_buckets": 10, "min_count": 5}}, "features.user_id.min_count",
     "remove min_count"),
    ({"user_id": {"type": "categorical", "num_buckets": 10, "max_size": 5}}, "features.user_id.max_size",
     "remove max_size"),
    ({"user_id": {"type": "categorical", "num_buckets": 10, "num_oov": 5}}, "features.user_id.num_oov",
     "remove num_oov"),
    ({**ITEM, "hist": {"type": "sequence", "source": "item_id", "min_count": 5}}, "features.hist.min_count",
     "set it on the feature 'item_id'"),
    ({**ITEM, "hist": {"type": "sequence", "source": "item_id", "max_size": 5}}, "features.hist.max_size",
     "remove source"),
    ({**ITEM, "hist": {"type": "sequence", "source": "item_id", "num_oov": 3}}, "features.hist.num_oov",
     "remove source"),
]


def _refusal(features: dict[str, Any]) -> str:
    """The message of the ``ConfigError`` that ``features`` are refused with."""
    with pytest.raises(ConfigError) as info:
        Schema.from_dict(features)
    return str(info.value)


@pytest.mark.parametrize("features, key, fix", CASES, ids=[f"{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_a_cross_field_spec_error_names_the_full_key_and_the_fix(features, key, fix):
    message = _refusal(features)
    assert message.startswith(key + ": ") and fix in message, message


def test_every_vocabulary_setting_given_with_a_source_is_named():
    message = _refusal({**ITEM, "hist": {"type": "sequence", "source": "item_id", "min_count": 2, "num_oov": 3}})
    assert "features.hist.min_count: " in message and "features.hist.num_oov: " in message, message
    assert "(got 2)" in message and "(got 3)" in message, message


def test_the_config_names_the_feature_key_too():
    """Through ``ExperimentConfig``: the same path, from the config's ``features`` section."""
    from recstack.config import ExperimentConfig

    config = {"data": {"train": "t.csv"},
              "features": {"user_id": {"type": "categorical", "num_buckets": 8, "min_count": 2}, **ITEM},
              "model": {"kind": "two_tower", "query": ["user_id"], "candidate": ["item_id"]}}
    with pytest.raises(ConfigError, match=r"^features\.user_id\.min_count: .*num_buckets"):
        ExperimentConfig.from_dict(config)

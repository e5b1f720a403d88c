"""An unknown config key suggests the key of its section it probably meant: a close spelling
(``train.lrr`` -> ``lr``) or another library's name for it (``train.learning_rate`` -> ``lr``,
as Keras/TFRS call it). Before, every unknown key got the same hint with no key named."""

from __future__ import annotations

import pytest

from recstack._validation import allowed_keys, suggest_keys
from recstack.config.experiment import ExperimentConfig
from recstack.errors import ConfigError
from recstack.features.schema import parse_feature
from tests.conftest import small_config


@pytest.mark.parametrize("key, value, message", [
    ("train.learning_rate", 0.1, "train.learning_rate: unknown key; did you mean 'lr'?"),
    ("train.optimiser", "adam", "train.optimiser: unknown key; did you mean 'optimizer'?"),
    ("train.num_epochs", 3, "train.num_epochs: unknown key; did you mean 'epochs'?"),
    ("train.initial_accumulator_value", 0.1,
     "train.initial_accumulator_value: unknown key; did you mean 'adagrad_initial_accumulator'?"),
    ("train.lrr", 0.1, "train.lrr: unknown key; did you mean 'lr'?"),
    ("model.embedding_dimension", 32, "model.embedding_dimension: unknown key; did you mean 'embedding_dim'?"),
    ("model.embedding_size", 32, "model.embedding_size: unknown key; did you mean 'embedding_dim'?"),
    ("task.remove_accidental_hit", False,
     "task.remove_accidental_hit: unknown key; did you mean 'remove_accidental_hits'?"),
    ("eval.metric", ["mrr"], "eval.metric: unknown key; did you mean 'metrics'?"),
    ("train.early_stopping", {"metric": "mrr", "patiance": 2},
     "train.early_stopping.patiance: unknown key; did you mean 'patience'?"),
    ("data.split", {"kind": "random", "test_size": 0.2},
     "data.split.test_size: unknown key; did you mean 'test_fraction'?"),
    ("features.user_id", {"type": "categorical", "embedding_size": 8},
     "features.user_id.embedding_size: unknown key; did you mean 'embedding_dim'?"),
])
def test_unknown_key_suggests_the_key_of_its_section(key, value, message):
    with pytest.raises(ConfigError) as info:
        small_config(**{key: value})
    assert str(info.value) == message


def test_a_key_like_none_keeps_the_plain_hint():
    with pytest.raises(ConfigError) as info:
        small_config(**{"train.xyz": 1})
    assert str(info.value) == "train.xyz: unknown key (check the spelling; see the documented keys)"


def test_an_alias_is_suggested_only_where_its_key_is_allowed():
    # learning_rate means lr, which the model section does not have: no suggestion of a key it refuses
    with pytest.raises(ConfigError) as info:
        small_config(**{"model.learning_rate": 0.1})
    assert "did you mean" not in str(info.value)
    assert suggest_keys("learning_rate", ["epochs"]) == []


def test_a_union_branch_names_its_own_keys():
    d = small_config().to_dict()
    d["data"] = {"train": {"path": "x.csv", "dtyp": {"a": "str"}}}
    with pytest.raises(ConfigError) as info:
        ExperimentConfig.from_dict(d)
    assert str(info.value) == "data.train.dtyp: unknown key; did you mean 'dtype'?"
    assert "dtype" in allowed_keys(ExperimentConfig, ["data", "train", "TableSource"])
    assert "base_dir" not in allowed_keys(ExperimentConfig, [])  # filled by the loader, never a fix


def test_a_feature_parsed_alone_suggests_too():
    with pytest.raises(ConfigError) as info:
        parse_feature("year", {"type": "numeric", "num_bins": 10})
    assert str(info.value) == "features.year.num_bins: unknown key; did you mean 'buckets'?"

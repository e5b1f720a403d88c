"""An unknown key that is a key of a subsection (written one level too high) is told where it belongs."""

from __future__ import annotations

import pytest

from recstack.config import ExperimentConfig
from recstack.errors import ConfigError

BASE = {"data": {"dataset": "movielens-100k"}, "model": {"query": ["user_id"], "candidate": ["item_id"]},
        "features": {"user_id": {"type": "categorical"}, "item_id": {"type": "categorical"}}}


@pytest.mark.parametrize("section, key, value, home", [
    ("data", "eval_history", "before", "data.history.eval_history"),
    ("train", "patience", 3, "train.early_stopping.patience"),
])
def test_a_subsection_key_is_told_where_it_belongs(section, key, value, home):
    d = {**BASE, section: {**BASE.get(section, {}), key: value}}
    with pytest.raises(ConfigError, match=rf"{section}\.{key}: unknown key here; did you mean {home}\?"):
        ExperimentConfig.from_dict(d)


def test_a_close_spelling_still_wins():
    with pytest.raises(ConfigError, match=r"train\.learning_rate: unknown key; did you mean 'lr'\?"):
        ExperimentConfig.from_dict({**BASE, "train": {"learning_rate": 0.1}})

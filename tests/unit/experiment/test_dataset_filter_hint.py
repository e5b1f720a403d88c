"""``data.filter`` on a built-in dataset: the fix for a text column names no ``data.train.dtype``
(a key ``data.dataset`` refuses), but says the dataset gives the column its type."""

from __future__ import annotations

import pytest

from recstack.config import ExperimentConfig
from recstack.errors import ConfigError
from recstack.experiment.tables import load_tables


def _data(rows):
    return ExperimentConfig.from_dict({
        "data": {"dataset": "synthetic", "dataset_options": {"num_users": 20, "num_items": 10, "num_interactions": 100},
                 "filter": {"rows": rows}},
        "features": {"user_id": {"type": "categorical"}, "item_id": {"type": "categorical"}},
        "model": {"query": ["user_id"], "candidate": ["item_id"]}}).data


@pytest.mark.parametrize("rows", [{"country": {"min": 1}}, {"country": {"in": [5]}}])
def test_a_filter_on_a_text_column_of_a_dataset_says_the_dataset_types_it(rows):
    with pytest.raises(ConfigError) as err:
        load_tables(_data(rows))
    message = str(err.value)
    assert "of the training data of synthetic" in message and "data.train.dtype" not in message
    assert "the dataset gives country its type, and data.dataset takes no dtype" in message

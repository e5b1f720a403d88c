"""A raw ID the model does not know is a failed lookup (KeyError), a bad k a ValueError; both
stay ConfigErrors for callers that caught those."""

from __future__ import annotations

import pandas as pd
import pytest

from recstack.errors import ConfigError, UnknownIDError
from tests.conftest import id_only_experiment


@pytest.fixture(scope="module")
def rec():
    train = pd.DataFrame({"user_id": [1, 1, 2, 2, 3, 3], "item_id": [10, 11, 11, 12, 10, 12]})
    return id_only_experiment(train).recommender()


def test_similar_of_an_unknown_item_is_a_key_error_with_a_plain_message(rec) -> None:
    with pytest.raises(KeyError) as info:
        rec.similar(99)
    assert isinstance(info.value, UnknownIDError) and isinstance(info.value, ConfigError)
    assert str(info.value) == "item_id 99 is not in the catalogue"  # not KeyError's quoted repr


@pytest.mark.parametrize("k", [0, -1, 1.5])
def test_a_bad_k_is_a_value_error(rec, k) -> None:
    with pytest.raises(ValueError, match="k must be a positive integer"):
        rec.recommend([1], k=k)
    with pytest.raises(ValueError, match="k must be a positive integer"):
        rec.similar(10, k=k)

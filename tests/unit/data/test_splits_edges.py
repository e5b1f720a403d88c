"""Splits and dataset fetching on awkward input: IDs spelt two ways, bad arguments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recstack.data import leave_last_n, temporal_split
from recstack.data.datasets import download_movielens_100k, fetch_dataset
from recstack.errors import ConfigError, DatasetUnavailableError


def test_leave_last_n_groups_users_by_canonical_key():
    # 1 and "1" are one user (as vocabularies match them); True is not 1; a missing user stays in train
    df = pd.DataFrame({"u": pd.Series([1, "1", 1, 2, True, True, np.nan, np.nan], dtype=object),
                       "i": [10, 11, 13, 20, 30, 31, 40, 41], "t": [1, 2, 3, 1, 1, 2, 1, 2]})
    train, test = leave_last_n(df, "u", "t", n=1)
    assert sorted(test["i"]) == [13, 31]
    assert sorted(train["i"]) == [10, 11, 20, 30, 40, 41]


@pytest.mark.parametrize("n", [1.5, True, 0])
def test_leave_last_n_needs_a_positive_integer(n):
    df = pd.DataFrame({"u": [1, 1, 1], "i": [1, 2, 3], "t": [1, 2, 3]})
    with pytest.raises(ConfigError, match=r"data\.split\.n: .* is not an integer >= 1"):
        leave_last_n(df, "u", "t", n=n)


def test_a_cutoff_of_another_type_than_the_time_column_is_a_clear_error():
    df = pd.DataFrame({"u": [1, 2], "t": [1, 2]})
    with pytest.raises(ConfigError, match="cutoff: 'soon' cannot be compared with data.time_column 't'"):
        temporal_split(df, "t", cutoff="soon")
    # an ISO date is a date: on numbers it means Unix seconds, which 1 and 2 are not
    with pytest.raises(ConfigError, match=r"data\.split\.cutoff: 2020-01-01 is a date, but column 't' .* not Unix "):
        temporal_split(df, "t", cutoff="2020-01-01")


def test_fetch_of_a_dataset_without_files_fetches_nothing_and_a_bad_url_is_unavailable(tmp_path):
    from recstack.data.datasets import DATASETS

    DATASETS.register("test-plugin-nofiles")(lambda: pd.DataFrame({"user_id": [1]}))
    try:
        assert "no files to fetch" in fetch_dataset("test-plugin-nofiles")  # not the MovieLens folder
    finally:
        DATASETS._entries.pop("test-plugin-nofiles", None)
    with pytest.raises(DatasetUnavailableError, match="could not download not a url"):
        download_movielens_100k(tmp_path, url="not a url")


def test_a_bool_is_not_a_number_among_dataset_options():
    from recstack.data.datasets import validate_dataset_options

    with pytest.raises(ConfigError, match=r"data\.dataset_options\.num_users: expected int, got True"):
        validate_dataset_options("synthetic", {"num_users": True})
    assert validate_dataset_options("movielens-100k", {"download": True}) == {"download": True}

"""Config errors name the key to change: a value that fits none of a union's members is one line at
its key, the key and the value once (before: a line per member); a default for a column that the
feature of the same name does not read names that feature's column."""

from __future__ import annotations

import pytest

from recstack.errors import ConfigError
from tests.conftest import small_config


@pytest.mark.parametrize("overrides, message", [
    ({"data.filter": {"rows": {"rating": {"min": "4"}}}},
     "data.filter.rows.rating.min: Input should be a valid number (unquoted) or an ISO date or time (2020-01-31, "
     "2020-01-31T12:00:00) (got '4')"),
    ({"features.age": {"type": "numeric", "fill": "x"}},  # before: features.age.fill.float: ...; ...literal[...]
     "features.age.fill: Input should be a valid number or 'mean' or 'median' (got 'x')"),
])
def test_union_members_wants_are_one_line(overrides, message):
    with pytest.raises(ConfigError) as info:
        small_config(**overrides)
    assert str(info.value) == message


def test_distinct_problems_stay_distinct_lines():
    with pytest.raises(ConfigError) as info:
        small_config(**{"train.lr": "0.1", "train.epochs": 2.5})
    assert str(info.value).split("; ") == ["train.lr: Input should be a valid number (got '0.1')",
                                           "train.epochs: Input should be a valid integer (got 2.5)"]


def test_a_default_for_a_column_that_its_namesake_feature_does_not_read_points_at_the_feature():
    # genres: {column: genre} (the typo) with data.defaults: {genres: ...}: the default is unread
    with pytest.raises(ConfigError, match=r"^data\.defaults\.genres: no feature reads column 'genres' \(the feature "
                                          r"genres reads column 'genre': if that is the typo, fix "
                                          r"features\.genres\.column\)"):
        small_config(**{"features.genres": {"type": "multi_hot", "column": "genre"}, "data.defaults": {"genres": "x"}})
    with pytest.raises(ConfigError, match=r"^data\.defaults\.genre: no feature reads column 'genre' \(a typo\?\)"):
        small_config(**{"data.defaults": {"genre": "x"}})

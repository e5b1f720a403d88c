"""A quoted 8-digit bound (``min: "20190105"``) was read as the date 2019-01-05 (Python 3.11's
``date.fromisoformat`` takes the basic form): on a column of plain numbers or of YYYYMMDD
numbers it failed with an error about Unix seconds that never said the value was quoted, and
on Unix seconds it silently bounded by that date. Now it is refused where it is given, with
both ways to write it; unquoted numbers and ISO dates with dashes work as before."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from recstack.data.filters import row_filter
from recstack.data.splits import temporal_split
from recstack.errors import ConfigError
from tests.conftest import small_config

FIX = ("'20190105' is quoted, so it is neither a number nor a date: write 20190105 without quotes to compare "
       "numbers (a column of YYYYMMDD numbers), or 2019-01-05 for the date (a column of times or Unix seconds)")


@pytest.mark.parametrize("key", ["min", "max"])
def test_a_quoted_yyyymmdd_bound_is_refused_with_both_ways_to_write_it(key):
    with pytest.raises(ConfigError) as info:
        small_config(**{"data.filter": {"rows": {"rating": {key: "20190105"}}}})
    assert str(info.value) == f"data.filter.rows.rating.{key}: {FIX} (got '20190105')"


def test_unquoted_numbers_and_dates_with_dashes_bound_as_before():
    rows = small_config(**{"data.filter": {"rows": {"day": {"min": 20190105}, "t": {"max": "2019-01-05"}}}}
                        ).data.filter.rows
    assert rows["day"].min == 20190105 and rows["t"].max == date(2019, 1, 5)
    table = pd.DataFrame({"day": [20190101, 20190105, 20190301], "t": [1546300800, 1546646400, 1551398400]})
    assert row_filter(table, rows).day.tolist() == [20190105]  # day >= 20190105 and t <= 2019-01-05 (seconds)


def test_eight_digits_that_are_no_date_keep_the_plain_message():
    with pytest.raises(ConfigError, match=r"min: Input should be a valid number \(unquoted\) or an ISO date"):
        small_config(**{"data.filter": {"rows": {"rating": {"min": "20191305"}}}})


@pytest.mark.parametrize("times", [[20190101, 20190301], [1, 5], [1546300800, 1551398400]])
def test_a_quoted_yyyymmdd_cutoff_is_refused_on_any_column_of_numbers(times):
    table = pd.DataFrame({"t": times})
    with pytest.raises(ConfigError) as info:
        temporal_split(table, "t", cutoff="20190105")
    assert str(info.value) == f"data.split.cutoff: {FIX}"
    train, test = temporal_split(table, "t", cutoff=times[1])  # the number itself, unquoted
    assert train.t.tolist() == times[:1] and test.t.tolist() == times[1:]

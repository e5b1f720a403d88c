"""data.filter.rows values as a demanding user writes them in YAML: text vs numbers, YAML
booleans (yes/on), null for missing cells, dates, and the empty-table message of the k-core."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from recstack.config.filter import FilterConfig
from recstack.data.filters import k_core, row_filter
from recstack.errors import ConfigError, DataError

TABLE = pd.DataFrame({
    "rating": [1, 4, 5, 4],
    "code": pd.Series(["1", "4", "10", None], dtype=object),  # digits read as text (dtype: str)
    "answer": pd.Series(["yes", "no", "on", "off"], dtype=object),
    "score": [1.0, np.nan, 5.0, 4.5],
    "flag": [True, False, True, True],
})


def rows(text: str) -> FilterConfig:
    return FilterConfig.model_validate(yaml.safe_load(text))


@pytest.mark.parametrize("text, message", [
    ("rows: {rating: {in: ['4']}}", r"rows\.rating\.in: '4' is text, but column 'rating' of the interactions holds "
                                    r"numbers \(int64\), so it matches no row; write it without quotes \(4\)"),
    ("rows: {rating: {not_in: ['4', 5]}}", r"rows\.rating\.not_in: '4' is text, .* write it without quotes"),
    ("rows: {code: {in: [4]}}", r"rows\.code\.in: 4 is a number, but column 'code' .* holds text .* quote it "
                                r"\('4'\), or read the column as numbers"),
    ("rows: {answer: {in: [yes, on]}}", r"rows\.answer\.in: true is a boolean, .* holds text .*YAML reads unquoted "
                                        r"true/false/yes/no/on/off as booleans: quote the text"),
    ("rows: {rating: {in: [true]}}", r"rows\.rating\.in: true is a boolean, but column 'rating' .* holds numbers "
                                     r"\(int64\); YAML reads"),
    ("rows: {flag: {in: ['true']}}", r"rows\.flag\.in: 'true' is text, .* holds booleans .* write true or false"),
])
def test_a_listed_value_that_cannot_match_the_column_is_an_error_not_an_empty_keep(text, message):
    with pytest.raises(ConfigError, match=r"^data\.filter\." + message):
        row_filter(TABLE, rows(text).rows)


@pytest.mark.parametrize("text, kept", [
    ("rows: {answer: {in: ['yes', 'on']}}", [0, 2]),  # quoted: text
    ("rows: {code: {in: ['4', '10']}}", [1, 2]),
    ("rows: {rating: {in: [4.0]}}", [1, 3]),  # 4.0 matches 4
    ("rows: {flag: {in: [true]}}", [0, 2, 3]),
    ("rows: {flag: {in: [1]}}", [0, 2, 3]),  # 0/1 on booleans: as pandas compares them
    ("rows: {score: {min: 4}}", [2, 3]),  # NaN fails min
    ("rows: {score: {not_in: [5.0]}}", [0, 1, 3]),  # NaN passes not_in
    ("rows: {score: {not_in: [null]}}", [0, 2, 3]),  # null: the missing cells
    ("rows: {code: {not_in: [null, '1']}}", [1, 2]),  # object column (isin's array is read-only)
    ("rows: {code: {in: [null]}}", [3]),
])
def test_values_keep_the_rows_a_user_expects(text, kept):
    cfg = rows(text)
    assert FilterConfig.model_validate(cfg.plain()) == cfg  # saved and reloaded alike
    assert row_filter(TABLE, cfg.rows).equals(TABLE.iloc[kept].reset_index(drop=True))


def test_nan_in_a_list_points_to_null():
    with pytest.raises(ValueError, match=r"write null for a missing cell"):
        FilterConfig.model_validate({"rows": {"score": {"not_in": [float("nan")]}}})


def test_a_number_on_a_column_of_times_asks_for_a_date():
    table = pd.DataFrame({"when": pd.to_datetime([880000000, 890000000], unit="s")})
    with pytest.raises(ConfigError, match=r"^data\.filter\.rows\.when\.min: column 'when' of the interactions holds "
                       r"times \(datetime64\[\w+\]\), and 880000000 is a number: give min as a date or time"):
        row_filter(table, rows("rows: {when: {min: 880000000}}").rows)
    assert len(row_filter(table, rows("rows: {when: {min: 1998-03-14}}").rows)) == 1  # 890000000: 1998-03-15


def test_a_k_core_that_empties_the_table_says_how_far_off_it_is():
    table = pd.DataFrame({"u": [1, 1, 1, 2], "i": [1, 2, 3, 1]})
    with pytest.raises(DataError, match=r"^data\.filter leaves the training rows empty: it keeps 0 of its 4 rows "
                       r"\(min_user_rows: 4, min_item_rows: 1, after 2 rounds; the most rows of one user is 3\); "
                       r"loosen the filter in data\.filter$"):
        k_core(table, "u", "i", min_user_rows=4)

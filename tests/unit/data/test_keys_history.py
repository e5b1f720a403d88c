"""``add_history`` errors name what to change: the argument for a Python caller (``time_col``),
the config key for the experiment's call (``config_keys=HISTORY_KEYS``: ``data.time_column``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from recstack.config.data import HISTORY_KEYS
from recstack.data import add_history
from recstack.errors import ConfigError, SchemaError

ROWS = pd.DataFrame({"u": [1, 1, 2], "i": [10, 11, 12], "t": [1.0, 2.0, 3.0]})
GAP = ROWS.assign(t=[1.0, np.nan, 3.0])
COLS = {"user_col": "u", "item_col": "i", "time_col": "t"}

# (table, arguments, exception, the argument's error, the config key's error)
CASES: list[tuple[pd.DataFrame, dict[str, Any], type[Exception], str, str]] = [
    (ROWS, {**COLS, "item_col": "movie"}, SchemaError, "item_col: the table has no column 'movie'",
     "data.item_column: the table has no column 'movie' (to build data.history.column)"),
    (ROWS, {**COLS, "user_col": "usr"}, SchemaError, "user_col: the table has no column 'usr'",
     "data.user_column: the table has no column 'usr'"),
    (ROWS, {**COLS, "time_col": "ts"}, SchemaError, "time_col: the table has no column 'ts'",
     "data.time_column: the table has no column 'ts'"),
    (ROWS, {**COLS, "max_length": 0}, ValueError, "max_length: must be an integer >= 1, got 0",
     "data.history.max_length: must be an integer >= 1, got 0"),
    (ROWS, {**COLS, "mode": "after"}, ValueError, "mode: must be 'before' or 'others'",
     "data.history.mode: must be 'before' or 'others'"),
    (GAP, COLS, SchemaError, "time_col: column 't' is empty in 1 of 3 rows (first: row 1); ordering by time_col",
     "data.time_column: column 't' is empty in 1 of 3 rows (first: row 1); ordering by data.time_column"),
    (ROWS, {**COLS, "time_col": None, "reference": ROWS, "before_each_row": True}, ConfigError,
     "before_each_row: needs a time column (time_col)", "data.history.mode: needs a time column (data.time_column)"),
    (GAP, {**COLS, "reference": ROWS, "before_each_row": True}, SchemaError,
     "time_col (the rows): column 't' is empty", "data.time_column (the rows): column 't' is empty"),
    (ROWS, {**COLS, "reference": GAP}, SchemaError,
     "time_col (the reference): column 't' is empty", "data.time_column (the reference): column 't' is empty"),
]


@pytest.mark.parametrize("table, arguments, error, by_argument, by_key", CASES,
                         ids=[c[4].split(":")[0] + f"-{i}" for i, c in enumerate(CASES)])
def test_errors_name_the_argument_or_the_config_key(table, arguments, error, by_argument, by_key):
    with pytest.raises(error) as info:
        add_history(table, **arguments)
    assert str(info.value).startswith(by_argument), str(info.value)
    with pytest.raises(error) as info:
        add_history(table, **arguments, config_keys=HISTORY_KEYS)
    assert str(info.value).startswith(by_key), str(info.value)
    assert "add_history" not in str(info.value)


def test_history_keys_name_keys_of_the_config():
    from recstack.config import DataConfig, HistoryConfig

    for key in HISTORY_KEYS.values():
        section, _, name = key.removeprefix("data.").rpartition(".")
        assert name in (HistoryConfig if section == "history" else DataConfig).model_fields, key

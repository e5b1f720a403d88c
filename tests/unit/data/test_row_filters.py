"""data.filters: the value conditions and the iterative k-core, on tables small enough to check by hand."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from recstack.data.filters import k_core, k_core_mask, row_filter, row_filter_masks
from recstack.errors import ConfigError, DataError


def cond(min=None, max=None, in_=None, not_in=None):  # noqa: A002 - the config's own key names
    return SimpleNamespace(min=min, max=max, in_=in_, not_in=not_in)


TABLE = pd.DataFrame({"rating": [5.0, 3.0, np.nan, 4.0, 1.0],
                      "genre": ["a", "b", None, "a", "c"],
                      "user_id": [1, 2, 3, 4, 5]})


@pytest.mark.parametrize("rows, kept", [
    ({"rating": cond(min=4)}, [0, 3]),                       # inclusive; a missing cell fails min
    ({"rating": cond(max=3)}, [1, 4]),                       # inclusive; missing fails max
    ({"rating": cond(min=2, max=4)}, [1, 3]),
    ({"genre": cond(in_=["a"])}, [0, 3]),                    # missing fails in
    ({"genre": cond(not_in=["b"])}, [0, 2, 3, 4]),           # missing passes not_in
    ({"user_id": cond(in_=[2.0, 4])}, [1, 3]),               # 2.0 matches the integer 2
    ({"rating": cond(min=4), "genre": cond(not_in=["a"])}, []),
    ({"rating": cond(max=4), "genre": cond(not_in=["c"])}, [1, 3]),
])
def test_each_condition_keeps_exactly_its_rows(rows, kept):
    masks = row_filter_masks(TABLE, rows)
    keep = np.logical_and.reduce(list(masks.values()))
    assert np.flatnonzero(keep).tolist() == kept
    if kept:
        out = row_filter(TABLE, rows)
        assert out.user_id.tolist() == [i + 1 for i in kept] and out.index.tolist() == list(range(len(kept)))


def test_no_rows_returns_the_table_itself_and_logs_kept_and_dropped_per_rule(caplog):
    assert row_filter(TABLE, {}) is TABLE
    with caplog.at_level(logging.INFO, logger="recstack.data.filters"):
        row_filter(TABLE, {"rating": cond(min=4), "genre": cond(in_=["a", "b"])}, where="data.train")
    (line,) = [r.getMessage() for r in caplog.records]
    assert line == "data.filter: data.train: kept 2 of 5 rows, dropped 3 (rows.rating drops 3, rows.genre drops 2)"


def test_an_unknown_column_names_the_key_and_lists_the_columns():
    with pytest.raises(ConfigError, match=r"^data\.filter\.rows\.ratng: 'ratng' is not a column of data\.train; "
                       r"columns: \['genre', 'rating', 'user_id'\]"):
        row_filter(TABLE, {"ratng": cond(min=4)}, where="data.train")


def test_min_or_max_on_a_text_column_names_the_key():
    with pytest.raises(ConfigError, match=r"^data\.filter\.rows\.genre\.max: column 'genre' .* not numbers"):
        row_filter(TABLE, {"genre": cond(max=3)})


def test_a_filter_that_keeps_nothing_is_an_error_with_the_counts():
    with pytest.raises(DataError, match=r"data\.filter leaves data\.test empty: it keeps 0 of its 5 rows "
                       r"\(rows\.rating drops 5\)"):
        row_filter(TABLE, {"rating": cond(min=6)}, where="data.test")


# users A..C, items x..z: z has one row, so C-z goes; then C has one row, so C-y goes, in a second
# round (one pass over users and items keeps C-y); a third round finds nothing more to drop
CORE = pd.DataFrame({"user_id": ["A", "A", "B", "B", "C", "C"], "item_id": ["x", "y", "x", "y", "y", "z"]})


def test_k_core_repeats_until_every_user_and_item_has_its_minimum():
    keep, rounds = k_core_mask(CORE.user_id, CORE.item_id, min_user_rows=2, min_item_rows=2)
    assert keep.tolist() == [True, True, True, True, False, False] and rounds == 3
    out = k_core(CORE, "user_id", "item_id", min_user_rows=2, min_item_rows=2)
    assert out.to_dict("list") == {"user_id": ["A", "A", "B", "B"], "item_id": ["x", "y", "x", "y"]}
    again, rounds = k_core_mask(out.user_id, out.item_id, min_user_rows=2, min_item_rows=2)
    assert again.all() and rounds == 1  # a fixed point


def test_k_core_on_one_side_only_and_off():
    keep, _ = k_core_mask(CORE.user_id, CORE.item_id, min_user_rows=1, min_item_rows=2)
    assert keep.tolist() == [True, True, True, True, True, False]  # C keeps C-y: users are not counted
    keep, _ = k_core_mask(CORE.user_id, CORE.item_id, min_user_rows=3, min_item_rows=1)
    assert not keep.any()
    assert k_core(CORE, "user_id", "item_id") is CORE


def test_k_core_leaves_rows_with_a_missing_key_to_the_experiment_checks():
    t = pd.DataFrame({"user_id": [1, 1, None, 2], "item_id": ["x", "x", "x", "y"]})
    keep, _ = k_core_mask(t.user_id, t.item_id, min_user_rows=2, min_item_rows=1)
    assert keep.tolist() == [True, True, True, False]


def test_k_core_errors_name_the_config_keys(caplog):
    with pytest.raises(ConfigError, match=r"^data\.filter\.min_item_rows: 2 counts rows per item, but "
                       r"data\.item_column 'movie' is not a column"):
        k_core(CORE, "user_id", "movie", min_item_rows=2, columns_key={"item": "data.item_column"})
    with pytest.raises(DataError, match=r"data\.filter leaves the training rows empty: it keeps 0 of its 6 rows "
                       r"\(min_user_rows: 3, min_item_rows: 1"):
        k_core(CORE, "user_id", "item_id", min_user_rows=3)
    with caplog.at_level(logging.INFO, logger="recstack.data.filters"):
        k_core(CORE, "user_id", "item_id", min_user_rows=2, min_item_rows=2)
    assert caplog.records[-1].getMessage() == (
        "data.filter: the training rows: kept 4 of 6 rows, dropped 2 (min_user_rows: 2, min_item_rows: 2; 3 rounds; "
        "users 2 of 3, items 2 of 3)")

"""Text times order rows only as ISO 8601 text of one shape (walkthrough): other text
(``23/03/1998 02:08``) is refused naming data.time_column, a bad value and the fix, instead of
ordering splits and histories as text; ``temporal`` takes ISO text (its cutoff found by
sorting, not pandas' numeric quantile)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from recstack.config.data import HISTORY_KEYS
from recstack.data import add_history, leave_last_n, read_table, temporal_split
from recstack.errors import ConfigError, SchemaError

SECONDS = np.array([890_000_000, 880_000_000, 885_000_000, 881_000_000, 889_000_000, 884_000_000,
                    886_000_000, 883_000_000], dtype=np.int64)


def table(shape: str = "%Y-%m-%d %H:%M:%S", dtype: object = "str") -> pd.DataFrame:
    """Two users' rows; ``t``: ``SECONDS`` as text of ``shape`` (``s``: the seconds)."""
    text = pd.to_datetime(SECONDS, unit="s").strftime(shape)
    return pd.DataFrame({"u": [1, 1, 1, 1, 2, 2, 2, 2], "i": np.arange(8) + 10, "s": SECONDS,
                         "t": pd.Series(list(text), dtype=dtype)})


def fixed(values: list[str], dtype: object = "str") -> pd.DataFrame:
    return pd.DataFrame({"u": [1] * len(values), "i": np.arange(len(values)), "t": pd.Series(values, dtype=dtype)})


ISO_DTYPES = ["str", object, pd.ArrowDtype(pa.large_string()), pd.ArrowDtype(pa.string())]


@pytest.mark.parametrize("split", [lambda df: leave_last_n(df, "u", "t"),
                                   lambda df: temporal_split(df, "t", test_fraction=0.25)])
def test_day_first_text_times_are_refused_naming_the_key_a_value_and_the_fix(split):
    with pytest.raises(SchemaError) as err:
        split(table("%d/%m/%Y %H:%M"))
    text = str(err.value)
    assert "data.split (kind: " in text and "data.time_column" in text and "column 't'" in text
    assert "8 of 8 rows are not ISO 8601 text of one shape, first row 0: '15/03/1998 22:13'" in text
    assert "Unix seconds" in text and "YYYY-MM-DD HH:MM:SS" in text
    assert err.value.column == "t" and err.value.rows.tolist() == list(range(8))


def test_a_history_over_day_first_text_is_refused_naming_data_time_column():
    with pytest.raises(SchemaError, match=r"^data\.time_column: column 't' holds text that does not sort as time"):
        add_history(table("%d/%m/%Y %H:%M"), user_col="u", item_col="i", time_col="t", config_keys=HISTORY_KEYS)


@pytest.mark.parametrize("values, problem, row", [
    (["1998-03-23 02:08:00", "1998-03-23 2:09:00", "1998-03-23 10:00:00"], "1 of 3 rows are not ISO 8601 text "
     "of one shape (the others are like '1998-03-23 02:08:00'), first row 1: '1998-03-23 2:09:00'", 1),
    (["1998-03-23 02:08:00", "1998-03-23T01:00:00", "1998-03-24 00:00:00"], "not ISO 8601 text of one shape", 1),
    (["1998-03-23 02:08", "1998-03-23 02:09", "1998-03-23 02:08:30"], "1 of 3 rows are not ISO", 2),
    (["1998-03-23T02:08:00+02:00", "1998-03-23T01:00:00-05:00"], "1 of 2 rows are not ISO 8601 text of one", 1),
    (["1998-03-23T02:08:00+02:00", "1998-03-23T01:00:00+05:00"], "1 of 2 rows have another zone offset", 1),
    (["1998-03-23 02:08:00", "1998-13-23 02:08:00"], "1 of 2 rows are no real date or time", 1),
    (["1998-03-23", "1997-12-01", "20 March 1998"], "1 of 3 rows are not ISO", 2),
])
def test_iso_text_of_several_shapes_or_no_real_time_is_refused_naming_the_first_bad_row(values, problem, row):
    with pytest.raises(SchemaError, match=r"^data\.split \(kind: leave_last_n\): column 't' holds text") as err:
        leave_last_n(fixed(values), "u", "t")
    assert problem in str(err.value) and err.value.rows.tolist() == [row]


@pytest.mark.parametrize("dtype", ISO_DTYPES)
def test_iso_text_of_one_shape_orders_as_the_seconds_do(dtype):
    df = table(dtype=dtype)
    train, test = leave_last_n(df, "u", "t")
    assert test["s"].tolist() == [890_000_000, 889_000_000]  # each user's latest by time
    for q in (0.25, 0.5, 0.9):
        by_text, by_seconds = temporal_split(df, "t", test_fraction=q), temporal_split(df, "s", test_fraction=q)
        assert by_text[1]["s"].tolist() == by_seconds[1]["s"].tolist()
    hist = add_history(df, user_col="u", item_col="i", time_col="t")["history"]
    want = add_history(df, user_col="u", item_col="i", time_col="s")["history"]
    assert [list(h) for h in hist] == [list(h) for h in want]


@pytest.mark.parametrize("values", [
    ["1998-03-23T02:08:00Z", "1998-03-22T02:08:00Z"],
    ["1998-03-23T02:08:00+02:00", "1998-03-22T02:08:00+02:00"],
    ["1998-03-23 02:08:00.125", "1998-03-22 02:08:00.500"],
    ["1998-03-23", "1998-03-22"],
    ["1998-03-23 02:08", "1998-03-22 23:59"],
])
def test_other_iso_shapes_are_accepted_when_all_rows_share_one(values):
    train, test = leave_last_n(fixed(values * 2), "u", "t")
    assert test["t"].tolist() == [values[0]]


def test_a_temporal_split_on_text_no_longer_fails_in_pandas_quantile():
    df = table(dtype=pd.ArrowDtype(pa.large_string()))  # what a CSV reader may give
    train, test = temporal_split(df, "t", test_fraction=0.25)
    assert sorted(test["s"]) == [889_000_000, 890_000_000] and len(train) == 6


def test_a_text_cutoff_on_iso_text_must_be_written_as_the_column_writes_times():
    df = table()
    assert len(temporal_split(df, "t", cutoff="1998-03-10")[1]) == 1  # a date: compares as the column's prefix
    assert len(temporal_split(df, "t", cutoff="1998-03-15 22:13:20")[1]) == 1
    for bad in ("01/03/1998", "1998-03-15T22:13:20", "1998-3-1", "1998-02-30"):
        with pytest.raises(ConfigError, match=r"^data\.split\.cutoff: .* write the cutoff as the column writes"):
            temporal_split(df, "t", cutoff=bad)


def test_a_history_as_of_each_row_needs_one_shape_on_both_sides():
    ref = fixed(["1998-03-23 02:08:00", "1998-03-24 02:08:00"])
    rows = fixed(["1998-03-23T03:00:00"])
    with pytest.raises(SchemaError, match=r"data\.time_column \(the reference's rows, then the rows\)"):
        add_history(rows, user_col="u", item_col="i", time_col="t", reference=ref, before_each_row=True,
                    config_keys=HISTORY_KEYS)
    ok = add_history(fixed(["1998-03-23 03:00:00"]), user_col="u", item_col="i", time_col="t", reference=ref,
                     before_each_row=True)
    assert list(ok["history"][0]) == [0]


def test_a_csv_of_day_first_times_is_refused(tmp_path):
    (tmp_path / "r.csv").write_text("u,i,when\n1,10,23/03/1998 02:08\n1,11,24/01/1997 10:00\n2,12,01/01/1998 00:00\n")
    with pytest.raises(SchemaError, match="first row 0: '23/03/1998 02:08'"):
        leave_last_n(read_table(tmp_path / "r.csv"), "u", "when")


@pytest.mark.parametrize("times", [SECONDS, SECONDS.astype(float), pd.to_datetime(SECONDS, unit="s"),
                                   pd.to_datetime(SECONDS, unit="s").tz_localize("UTC")])
def test_numbers_and_datetimes_order_as_before(times):
    df = table().assign(t=times)
    assert leave_last_n(df, "u", "t")[1]["s"].tolist() == [890_000_000, 889_000_000]
    assert sorted(temporal_split(df, "t", test_fraction=0.25)[1]["s"]) == [889_000_000, 890_000_000]

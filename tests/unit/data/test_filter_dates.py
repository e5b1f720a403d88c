"""data.filter.rows min/max as dates: on a column of times, and on a column of Unix seconds (as
ML-100K's timestamp), where a date is its midnight UTC in seconds; a date on any other column, or
on numbers that cannot be seconds, is an error naming the key."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import yaml

from recstack.config.filter import FilterConfig, RowCondition
from recstack.data.filters import row_filter
from recstack.errors import ConfigError, DataError
from tests.conftest import small_config

DAY = 86_400
JAN_1_1998 = 883_612_800  # 1998-01-01T00:00:00Z in Unix seconds


def rows(text: str) -> FilterConfig:
    return FilterConfig.model_validate(yaml.safe_load(text))


SECONDS = pd.DataFrame({"timestamp": [JAN_1_1998 - 1, JAN_1_1998, JAN_1_1998 + DAY - 1, JAN_1_1998 + DAY,
                                      JAN_1_1998 + 40 * DAY]})


@pytest.mark.parametrize("text, kept", [
    ("rows: {timestamp: {min: 1998-01-01}}", [1, 2, 3, 4]),               # a date: its midnight UTC, inclusive
    ("rows: {timestamp: {max: 1998-01-01}}", [0, 1]),
    ("rows: {timestamp: {max: '1998-01-01T23:59:59'}}", [0, 1, 2]),        # the whole day: its last second
    ("rows: {timestamp: {min: 1998-01-01 00:00:01}}", [2, 3, 4]),         # YAML's datetime, no zone: UTC
    ("rows: {timestamp: {min: '1998-01-01T02:00:00+02:00'}}", [1, 2, 3, 4]),  # a zone: converted to UTC
    ("rows: {timestamp: {min: 1998-01-02, max: 1998-02-10}}", [3, 4]),
])
def test_a_date_bounds_a_column_of_unix_seconds(text, kept):
    out = row_filter(SECONDS, rows(text).rows)
    assert out.timestamp.tolist() == SECONDS.timestamp[kept].tolist()


@pytest.mark.parametrize("dtype", ["float64", "Int64"])
def test_unix_seconds_with_empty_cells(dtype):
    table = pd.DataFrame({"timestamp": pd.Series([JAN_1_1998 - 1, None, JAN_1_1998 + 5], dtype=dtype)})
    assert row_filter(table, rows("rows: {timestamp: {min: 1998-01-01}}").rows).timestamp.tolist() == [JAN_1_1998 + 5]
    empty = pd.DataFrame({"timestamp": pd.Series([None, None], dtype=dtype)})  # no cell: dropped, not a crash
    with pytest.raises(DataError, match=r"^data\.filter leaves the interactions empty"):
        row_filter(empty, rows("rows: {timestamp: {max: 1998-01-01}}").rows)


def test_a_date_bounds_a_column_of_times_with_or_without_a_zone():
    naive = pd.DataFrame({"when": pd.to_datetime(["1997-12-31 23:00", "1998-01-01 00:00", "1998-01-01 12:00"])})
    got = row_filter(naive, rows("rows: {when: {min: 1998-01-01}}").rows)
    assert got.when.astype(str).tolist() == ["1998-01-01 00:00:00", "1998-01-01 12:00:00"]
    aware = naive.assign(when=naive.when.dt.tz_localize("UTC").dt.tz_convert("Europe/Paris"))  # +01:00 in January
    got = row_filter(aware, rows("rows: {when: {max: '1998-01-01T01:00:00+01:00'}}").rows)  # midnight UTC
    assert len(got) == 2
    got = row_filter(naive, rows("rows: {when: {max: '1998-01-01T01:00:00+01:00'}}").rows)  # naive column: UTC
    assert len(got) == 2


@pytest.mark.parametrize("table, message", [
    (pd.DataFrame({"day": ["1998-01-01", "1998-02-01"]}),
     r"^data\.filter\.rows\.day\.min: 1998-01-01 is a date, but column 'day' of the interactions holds \w+ values, "
     r"not times; .*text dates are not parsed"),
    (pd.DataFrame({"day": [True, False]}), r"^data\.filter\.rows\.day\.min: .* holds bool values, not times"),
    (pd.DataFrame({"day": [JAN_1_1998 * 1000, JAN_1_1998 * 1000 + 1]}),
     r"^data\.filter\.rows\.day\.min: 1998-01-01 is a date, but column 'day' of the interactions holds numbers up to "
     r"883612800001, which are not Unix seconds \(they look like milliseconds or finer\)"),
    (pd.DataFrame({"day": [1997, 1998]}), r"not Unix seconds \(they look like years, days or counts\)"),
    # 20190105 read as seconds is August 1970: a date bound kept or dropped every row, silently
    (pd.DataFrame({"day": [20190105, 20210101]}), r"holds numbers up to 20210101, which are not Unix seconds "
                                                   r"\(they look like YYYYMMDD dates\); .*own unit \(as YYYYMMDD, "
                                                   r"1998-01-01 is 19980101\)$"),
])
def test_a_date_on_a_column_that_holds_no_times_is_an_error(table, message):
    with pytest.raises(ConfigError, match=message):
        row_filter(table, rows("rows: {day: {min: 1998-01-01}}").rows)


def test_dates_round_trip_through_the_saved_json_and_are_checked_together():
    cond = RowCondition.model_validate({"min": dt.date(1998, 1, 1), "max": dt.datetime(1998, 2, 1, 12)})
    plain = cond.model_dump(mode="json")
    assert plain["min"] == "1998-01-01" and plain["max"] == "1998-02-01T12:00:00"
    assert RowCondition.model_validate(plain) == cond
    with pytest.raises(ConfigError, match=r"^data\.filter\.rows\.t\.min: 1998-02-02 is above max 1998-02-01 12:00:00"):
        small_config(**{"data.filter": {"rows": {"t": {"min": dt.date(1998, 2, 2), "max": dt.datetime(1998, 2, 1, 12)}}}})
    with pytest.raises(ConfigError, match=r"^data\.filter\.rows\.t\.min: 1998-01-01 and max 5 must both be numbers "
                       r"or both dates"):
        small_config(**{"data.filter": {"rows": {"t": {"min": dt.date(1998, 1, 1), "max": 5}}}})
    with pytest.raises(ConfigError, match=r"^data\.filter\.rows\.t\.max: Input should be a valid number \(unquoted\) "
                       r"or an ISO date or time .*\(got '1998-13-01'\)"):
        small_config(**{"data.filter": {"rows": {"t": {"max": "1998-13-01"}}}})


def test_a_date_filter_trains_saves_and_evaluates_as_it_filtered(tmp_path):
    from recstack.artifacts import load
    from recstack.experiment import RetrievalExperiment
    from recstack.experiment.offline import evaluate_recommender
    from recstack.experiment.tables import load_tables

    cfg = small_config(**{"data.filter": {"rows": {"timestamp": {"min": dt.date(2020, 11, 1)}}}, "train.epochs": 1})
    raw = load_tables(small_config().data)
    exp = RetrievalExperiment(cfg, run_dir=tmp_path / "run")
    cut = pd.Timestamp("2020-11-01", tz="UTC").timestamp()
    assert len(exp.full_train) == int((raw.train.timestamp >= cut).sum()) < len(raw.train)
    exp.fit()
    exp.save(tmp_path / "m")
    rec = load(tmp_path / "m")
    assert rec.metadata["experiment"]["data"]["filter"]["rows"]["timestamp"]["min"] == "2020-11-01"
    assert raw.test is not None
    assert evaluate_recommender(rec, raw.test) == pytest.approx(exp.evaluate())  # the saved date filters alike
    resumed = RetrievalExperiment(small_config(**{"data.filter": {"rows": {"timestamp": {"min": "2020-11-01"}}},
                                                  "train.epochs": 2}))
    resumed.fit(resume_from=tmp_path / "run" / "checkpoints")  # the same date, as text: the same fingerprint


def test_a_zoned_arrow_timestamp_column_takes_a_date_bound():
    """Its zone is on the Arrow type, not ``dtype.tz``: the bound was made naive, and the
    comparison raised pandas' TypeError."""
    import pyarrow as pa

    when = pd.Series(pd.to_datetime(["2020-01-30 23:30", "2020-01-31 00:30"]).tz_localize("UTC"))
    table = pd.DataFrame({"when": when.astype(pd.ArrowDtype(pa.timestamp("us", tz="UTC")))})
    got = row_filter(table, rows("rows: {when: {min: 2020-01-31}}").rows)
    assert got.when.astype(str).tolist() == ["2020-01-31 00:30:00+00:00"]

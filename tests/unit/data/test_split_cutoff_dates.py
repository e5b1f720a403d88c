"""data.split.cutoff as a date: on a column of times, and on a column of Unix seconds (as
ML-100K's timestamp), by data.filter's rule (a date is its midnight UTC, a time without a zone
UTC); a date on any other column is an error naming the key; the cutoff round-trips through a
saved config and the resume fingerprint."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
import yaml

from recstack.config import ExperimentConfig
from recstack.config.data import SplitConfig
from recstack.data import temporal_split
from recstack.errors import ConfigError, DataError
from recstack.experiment.tables import load_tables
from tests.unit.experiment.side_data import side_config, write_side_data

DAY = 86_400
JAN_1_1998 = 883_612_800  # 1998-01-01T00:00:00Z in Unix seconds
SECONDS = [JAN_1_1998 - 1, JAN_1_1998, JAN_1_1998 + 1, JAN_1_1998 + DAY]


def cutoff(text: str) -> object:
    """The cutoff as the config holds it after YAML (``1998-01-01`` is a date there)."""
    return SplitConfig.model_validate(yaml.safe_load(f"{{kind: temporal, cutoff: {text}}}")).cutoff


def rows_in_test(df: pd.DataFrame, cut: object) -> list[int]:
    """The ``row`` numbers of ``df``'s test part."""
    return temporal_split(df, "t", cutoff=cut)[1]["row"].tolist()


@pytest.mark.parametrize("text, test_rows", [
    ("1998-01-01", [1, 2, 3]),                    # a date: its midnight UTC, in test
    ("1998-01-01 00:00:01", [2, 3]),              # YAML's datetime, no zone: UTC
    ("'1998-01-01T02:00:01+02:00'", [2, 3]),      # ISO text (as a saved model's JSON holds it); a zone: to UTC
    ("'1998-01-02'", [3]),
    (str(JAN_1_1998), [1, 2, 3]),                 # a number still compares as it is
])
def test_a_date_cutoff_on_unix_seconds_and_on_times(text, test_rows):
    seconds = pd.DataFrame({"t": SECONDS, "row": range(4)})
    assert rows_in_test(seconds, cutoff(text)) == test_rows
    if text.isdigit():
        return
    naive = seconds.assign(t=pd.to_datetime(seconds.t, unit="s"))  # a column of times without a zone: UTC
    aware = seconds.assign(t=pd.to_datetime(seconds.t, unit="s", utc=True).dt.tz_convert("Asia/Tokyo"))
    assert rows_in_test(naive, cutoff(text)) == test_rows
    assert rows_in_test(aware, cutoff(text)) == test_rows


@pytest.mark.parametrize("column, message", [
    (["1997-12-31", "1998-01-01", "1998-01-02", "1998-02-01"], r"holds (str|object) values, not times"),
    ([False, False, True, True], r"holds bool values, not times"),
    ([s * 1000 for s in SECONDS], r"not Unix seconds \(they look like milliseconds or finer\)"),
])
def test_a_date_on_a_column_without_times_is_an_error_naming_the_key(column, message):
    df = pd.DataFrame({"t": column, "row": range(4)})
    with pytest.raises(ConfigError, match=r"^data\.split\.cutoff: 1998-01-01 is a date, but .*" + message):
        temporal_split(df, "t", cutoff=cutoff("1998-01-01"))


def test_a_date_cutoff_on_milliseconds_advises_a_cutoff_in_the_column_unit_not_a_filter_bound():
    df = pd.DataFrame({"t": [s * 1000 for s in SECONDS], "row": range(4)})
    with pytest.raises(ConfigError) as caught:
        temporal_split(df, "t", cutoff=cutoff("1998-01-01"))
    assert str(caught.value).endswith(
        "a date compares with a column of numbers as seconds since 1970-01-01 UTC: give data.split.cutoff as a "
        "number in the column's own unit (in milliseconds, 1998-01-01 is 883612800000), or the column as Unix "
        "seconds")
    years = pd.DataFrame({"t": [1996, 1997, 1998, 1999], "row": range(4)})
    with pytest.raises(ConfigError, match=r"not Unix seconds \(they look like years, days or counts\); .*UTC: give "
                       r"data\.split\.cutoff as a number in the column's own unit, or the column as Unix seconds$"):
        temporal_split(years, "t", cutoff=cutoff("1998-01-01"))
    days = pd.DataFrame({"t": [19971231, 19980101, 19980102, 19980301], "row": range(4)})  # read as seconds: 1970
    with pytest.raises(ConfigError, match=r"not Unix seconds \(they look like YYYYMMDD dates\); .*own unit \(as "
                       r"YYYYMMDD, 1998-01-01 is 19980101\), or the column as Unix seconds$"):
        temporal_split(days, "t", cutoff=cutoff("1998-01-01"))


def test_a_date_cutoff_after_every_time_names_the_date_in_the_empty_side_error():
    seconds = pd.DataFrame({"t": SECONDS, "row": range(4)})
    with pytest.raises(DataError, match=r"data\.split\.cutoff '1999-01-01' on data\.time_column 't' leaves test empty"):
        temporal_split(seconds, "t", cutoff=cutoff("1999-01-01"))


def test_text_compares_as_text_on_a_column_of_text_and_a_number_on_times_is_refused():
    text = pd.DataFrame({"t": ["1997-12-31", "1998-01-01", "1998-01-02", "1998-02-01"], "row": range(4)})
    assert rows_in_test(text, cutoff("'1998-01-01'")) == [1, 2, 3]  # as before: quoted, it is text
    times = text.assign(t=pd.to_datetime(text.t))
    with pytest.raises(ConfigError, match=r"data\.split\.cutoff: 5 cannot be compared .* a date or time"):
        temporal_split(times, "t", cutoff=5)


def test_the_config_takes_a_yaml_date_and_refuses_other_kinds_in_one_message():
    assert cutoff("1998-01-01") == dt.date(1998, 1, 1)
    assert cutoff("1998-01-01 12:00:00") == dt.datetime(1998, 1, 1, 12)
    assert cutoff("'1998-01-01'") == "1998-01-01"  # text stays text: a column of text compares it so
    with pytest.raises(ValueError, match=r"cutoff\n.*Input should be a number, a date or time .* or text"):
        cutoff("[1998, 1]")


NOV_1_2020 = 1_604_188_800  # 2020-11-01T00:00:00Z: the synthetic timestamps are Unix seconds around it


@pytest.mark.parametrize("split, seconds", [
    ({"kind": "temporal", "cutoff": dt.date(2020, 11, 1)}, NOV_1_2020),
    ({"kind": "temporal", "cutoff": dt.datetime(2020, 11, 1, 12, tzinfo=dt.timezone.utc)}, NOV_1_2020 + DAY // 2),
    ({"kind": "temporal"}, None),
    ({"kind": "random", "seed": 3}, None),
    ({"kind": "leave_last_n", "n": 2}, None),
])
def test_a_split_round_trips_through_the_saved_config_and_the_fingerprint(tmp_path, split, seconds):
    write_side_data(tmp_path)
    d = side_config(**{"data.test": None, "data.split": split})
    cfg = ExperimentConfig.from_dict(d, base_dir=str(tmp_path))
    saved = json.loads(json.dumps(cfg.to_dict()))  # as recstack.json holds it: every key, dates as ISO text
    again = ExperimentConfig.from_dict(saved, base_dir=str(tmp_path))
    assert again.to_dict() == saved
    fingerprint = cfg.data.resume_fingerprint()
    assert again.data.resume_fingerprint() == fingerprint == json.loads(json.dumps(fingerprint))  # as state.json
    first, second = load_tables(cfg.data, str(tmp_path)), load_tables(again.data, str(tmp_path))
    assert first.test is not None and second.test is not None
    pd.testing.assert_frame_equal(first.test, second.test)
    if seconds is not None:
        assert (first.test.timestamp >= seconds).all() and (first.train.timestamp < seconds).all()
        assert len(first.test) and len(first.train)

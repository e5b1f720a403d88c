"""``read_table(dtype=...)`` keeps zero-padded IDs as written; folders are named as folders."""

from __future__ import annotations

import pandas as pd
import pytest

from recstack.data import read_table
from recstack.errors import ConfigError, DataError, SchemaError


@pytest.fixture
def padded(tmp_path):
    p = tmp_path / "zp.csv"
    p.write_text("user_id,item_id,n\n0007,0042,1\n0008,x,\n")
    return p


def test_str_keeps_zero_padded_ids_and_missing_values(padded, tmp_path):
    df = read_table(padded, dtype={"user_id": "str", "item_id": "str"})
    assert df["user_id"].tolist() == ["0007", "0008"] and df["item_id"].tolist() == ["0042", "x"]
    assert read_table(padded)["user_id"].tolist() == [7, 8]  # the default is unchanged
    pq = tmp_path / "t.parquet"
    pd.DataFrame({"u": [7, 8], "v": [1.0, None]}).to_parquet(pq)
    df = read_table(pq, dtype={"u": "str", "v": "str"})
    assert df["u"].tolist() == ["7", "8"] and df["v"].tolist()[0] == "1" and pd.isna(df["v"].iloc[1])


def test_int_and_float_cast_whole_columns_or_name_the_bad_value(padded):
    df = read_table(padded, dtype={"user_id": "int", "n": "float"})
    assert df["user_id"].dtype == "int64" and df["n"].dtype == "float64"
    with pytest.raises(DataError, match=r"dtype\.item_id: column 'item_id' .* not all int values \(data row 2: 'x'\)"):
        read_table(padded, dtype={"item_id": "int"})
    with pytest.raises(DataError, match=r"dtype\.n: .*data row 2: a missing value"):
        read_table(padded, dtype={"n": "int"})


def test_unknown_columns_and_types_are_named(padded):
    with pytest.raises(SchemaError, match=r"dtype\.userid: 'userid' is not a column of .*zp\.csv; columns: \["):
        read_table(padded, dtype={"userid": "str"})
    with pytest.raises(ConfigError, match=r"dtype\.user_id: 'bytes' is not a column type; use one of str, int, float"):
        read_table(padded, dtype={"user_id": "bytes"})  # type: ignore[dict-item]


def test_a_folder_is_named_as_a_folder(tmp_path):
    with pytest.raises(DataError, match="is a folder; give a table file"):
        read_table(tmp_path)


def test_dtype_if_present_types_the_columns_the_table_has_and_skips_the_others(padded):
    """Types known ahead of the file (a saved model's, for ``recstack evaluate``): one read, no
    error for a column the file lacks; ``dtype`` still names such a column, and wins on overlap."""
    df = read_table(padded, dtype_if_present={"user_id": "str", "absent": "int"})
    assert df["user_id"].tolist() == ["0007", "0008"] and "absent" not in df.columns
    df = read_table(padded, dtype={"user_id": "int"}, dtype_if_present={"user_id": "str", "item_id": "str"})
    assert df["user_id"].tolist() == [7, 8] and df["item_id"].tolist() == ["0042", "x"]
    df = read_table(padded, columns=["user_id"], dtype_if_present={"item_id": "int", "user_id": "str"})
    assert df["user_id"].tolist() == ["0007", "0008"]  # after columns=: item_id is not there, so not cast
    with pytest.raises(SchemaError, match=r"^dtype\.absent: 'absent' is not a column of .*zp\.csv"):
        read_table(padded, dtype={"absent": "str"}, dtype_if_present={"user_id": "str"})
    with pytest.raises(ConfigError, match=r"^dtype_if_present\.user_id: 'text' is not a column type"):
        read_table(padded, dtype_if_present={"user_id": "text"})  # type: ignore[dict-item]
    frame = pd.DataFrame({"u": [1.0, 2.0]})
    assert read_table(frame, dtype_if_present={"u": "str", "v": "str"})["u"].tolist() == ["1", "2"]

"""Edge cases of ``read_table``: archives, options, separators, exact IDs, NA strings, short rows."""

from __future__ import annotations

import re
import zipfile

import pandas as pd
import pytest

from recstack.data import read_table
from recstack.errors import ConfigError, DataError, SchemaError


def test_zip_archives_that_pandas_cannot_read_are_named(tmp_path):
    with zipfile.ZipFile(tmp_path / "two.csv.zip", "w") as z:
        z.writestr("a.csv", "a,b\n1,2\n")
        z.writestr("b.csv", "a,b\n3,4\n")
    with pytest.raises(DataError, match=r"two\.csv\.zip holds 2 entries \(a\.csv, b\.csv\); a \.zip must hold exactly one"):
        read_table(tmp_path / "two.csv.zip")
    with zipfile.ZipFile(tmp_path / "none.csv.zip", "w"):
        pass
    with pytest.raises(DataError, match=r"none\.csv\.zip holds 0 entries"):
        read_table(tmp_path / "none.csv.zip")
    (tmp_path / "text.csv.zip").write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match=r"text\.csv\.zip is not a zip archive"):
        read_table(tmp_path / "text.csv.zip")
    with zipfile.ZipFile(tmp_path / "one.csv.zip", "w") as z:
        z.writestr("one.csv", "a,b\n1,2\n")
    assert read_table(tmp_path / "one.csv.zip").to_dict("list") == {"a": [1], "b": [2]}


def test_zst_without_zstandard_names_the_package(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "zstandard" else real(name, *a))
    (tmp_path / "x.csv.zst").write_bytes(b"\x28\xb5\x2f\xfd" + b"garbage")
    with pytest.raises(DataError, match=r"x\.csv\.zst is zstd-compressed, which needs the zstandard package"):
        read_table(tmp_path / "x.csv.zst")


def test_bad_header_names_sep_and_columns_are_config_errors_naming_the_file(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("1,2\n3,4\n")
    with pytest.raises(ConfigError, match=r"header: -1 for .*t\.csv is not a row number"):
        read_table(f, header=-1)
    with pytest.raises(ConfigError, match=r"names: 'a' appears more than once in the names for .*t\.csv"):
        read_table(f, names=["a", "a"])
    with pytest.raises(ConfigError, match=r"sep: empty separator for .*t\.csv"):
        read_table(f, sep="")
    with pytest.raises(SchemaError, match=r"columns: 0 is listed more than once"):
        read_table(f, header=None, columns=[0, 0])  # type: ignore[list-item]


def test_table_source_rejects_a_negative_header_and_repeated_names():
    from recstack.config.experiment import TableSource

    with pytest.raises(Exception, match="not a row number"):
        TableSource(path="x.csv", header=-1)
    with pytest.raises(Exception, match="'u' appears more than once"):
        TableSource(path="x.csv", names=["u", "i", "u"])
    assert TableSource(path="x.csv", header=2, names=["u", "i"]).header == 2


def test_a_parquet_file_with_a_text_name_suggests_format_parquet(tmp_path):
    pd.DataFrame({"a": [1, 2]}).to_parquet(tmp_path / "t.csv")
    with pytest.raises(DataError, match=r"t\.csv is a Parquet file \(it starts with PAR1\).*format='parquet'"):
        read_table(tmp_path / "t.csv")
    assert read_table(tmp_path / "t.csv", format="parquet")["a"].tolist() == [1, 2]


@pytest.mark.parametrize("sep", ["||", "|#|", "**", "::", "§"])
def test_a_separator_that_cannot_be_a_regex_is_literal(tmp_path, sep):
    f = tmp_path / "t.txt"
    f.write_text(f"user{sep}item\n10{sep}20\n30{sep}40\n")
    assert read_table(f, sep=sep).to_dict("list") == {"user": [10, 30], "item": [20, 40]}


def test_regex_separators_still_work(tmp_path):
    f = tmp_path / "t.txt"
    f.write_text("user , item\n10,  20\n30 ,40\n")
    assert read_table(f, sep=r"\s*,\s*").to_dict("list") == {"user": [10, 30], "item": [20, 40]}
    (tmp_path / "d.txt").write_text("a.b\n1.2\n")
    assert read_table(tmp_path / "d.txt", sep=re.escape("..")).columns.tolist() == ["a.b"]

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
    with pytest.raises(DataError, match=r"two\.csv\.zip holds 2 entries \(a\.csv, b\.csv\); a \.zip must hold"):
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


def test_dtype_int_is_exact_within_int64_and_an_error_beyond(tmp_path):
    f = tmp_path / "ids.csv"
    f.write_text("u,i\n9007199254740993,1\n9223372036854775807,2\n-9223372036854775808,3\n 0042 ,4\n1.0,5\n")
    assert read_table(f, dtype={"u": "int"})["u"].tolist() == [
        9007199254740993, 9223372036854775807, -9223372036854775808, 42, 1]
    f.write_text("u,i\n5,1\n18446744073709551617,2\n")
    with pytest.raises(DataError, match=r"dtype\.u: column 'u' .* has a value beyond int64 \(data row 2: "
                                        r"'?18446744073709551617'?\); IDs this large need dtype str"):
        read_table(f, dtype={"u": "int"})
    f.write_text("u,i\n9223372036854775808,2\n")
    with pytest.raises(DataError, match="beyond int64"):
        read_table(f, dtype={"u": "int"})
    f.write_text("u,i\n9.007199254740993e15,2\n")
    with pytest.raises(DataError, match="a float too large to be an exact integer"):
        read_table(f, dtype={"u": "int"})
    big = pd.DataFrame({"u": pd.Series([2**64 - 1, 5], dtype="uint64"), "v": pd.Series([2**70, 5], dtype=object)})
    with pytest.raises(DataError, match=r"dtype\.u: .*beyond int64 \(data row 1"):
        read_table(big, dtype={"u": "int"})
    with pytest.raises(DataError, match=r"dtype\.v: .*beyond int64 \(data row 1"):
        read_table(big, dtype={"v": "int"})
    exact = pd.DataFrame({"v": pd.Series([2**53 + 1, 7], dtype=object), "w": [True, False]})
    out = read_table(exact, dtype={"v": "int", "w": "int"})
    assert out["v"].tolist() == [2**53 + 1, 7] and out["w"].tolist() == [1, 0] and out["v"].dtype == "int64"


def test_dtype_str_writes_integral_floats_as_integers_like_a_text_file(tmp_path):
    import pyarrow as pa

    (tmp_path / "u.csv").write_text("u\n1\n3\n")
    from_csv = read_table(tmp_path / "u.csv", dtype={"u": "str"})["u"].tolist()
    from_arrow = read_table(pa.table({"u": pa.array([1, None, 3], pa.int64())}), dtype={"u": "str"})["u"].tolist()
    from_df = read_table(pd.DataFrame({"u": [1.0, None, 3.0]}), dtype={"u": "str"})["u"].tolist()
    assert from_csv == ["1", "3"]
    assert [from_arrow[0], from_arrow[2]] == [from_df[0], from_df[2]] == ["1", "3"]
    assert pd.isna(from_arrow[1]) and pd.isna(from_df[1])
    mixed = pd.DataFrame({"u": pd.Series([2.0, "x", 3, None, -7.0], dtype=object), "f": [0.0, 1.0, -3.0, 7.0, 1.0]})
    out = read_table(mixed, dtype={"u": "str", "f": "str"})
    assert out["u"].tolist()[:3] == ["2", "x", "3"] and pd.isna(out["u"].iloc[3]) and out["u"].iloc[4] == "-7"
    assert out["f"].tolist() == ["0", "1", "-3", "7", "1"]
    # a float that is no exact whole number is no ID (tests/unit/data/test_dataprep_dtypes.py)
    for bad in (2.5, float("inf"), 1e20):
        with pytest.raises(DataError, match=r"dtype\.u: column 'u' of the DataFrame holds a float"):
            read_table(mixed.assign(u=mixed["u"].where(mixed.index != 2, bad)), dtype={"u": "str"})


def test_a_text_column_of_large_integers_with_a_gap_is_an_error_not_rounded_ids(tmp_path):
    f = tmp_path / "users.csv"
    f.write_text("user_id,item_id\n9007199254740993,1\n9007199254740992,2\n,3\n")
    with pytest.raises(DataError, match=r"users\.csv: column 'user_id' holds integers of 2\*\*53 or more and a gap"
                                        r".*dtype: \{user_id: str\}"):
        read_table(f)
    assert read_table(f, dtype={"user_id": "str"})["user_id"].tolist()[:2] == ["9007199254740993", "9007199254740992"]
    assert read_table(f, dtype={"user_id": "float"})["user_id"].iloc[0] == 2.0**53  # floats, as asked
    f.write_text("u,i\n9007199254740993,1\n7.0,2\n")  # no gap, but a decimal point makes the column float
    with pytest.raises(DataError, match="column 'u' holds integers of 2"):
        read_table(f)
    assert read_table(f, dtype={"u": "int"})["u"].tolist() == [9007199254740993, 7]  # int: exact
    f.write_text("u,x\n9007199254740993,1.5\n12.5,2\n,3\n")  # not all integral: real floats
    assert read_table(f)["x"].tolist() == [1.5, 2.0, 3.0]


def test_arrow_and_parquet_integer_ids_with_nulls_stay_exact(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from recstack.features import Schema
    from recstack.preprocessing import Preprocessor

    ids = [9007199254740993, 9007199254740992, None]
    table = pa.table({"user_id": pa.array(ids, pa.int64()), "big": pa.array([2**64 - 1, None, 5], pa.uint64()),
                      "small": pa.array([1, None, 3], pa.int64()), "none": pa.array([None] * 3, pa.int64())})
    pq.write_table(table, tmp_path / "u.parquet")
    for source in (table, tmp_path / "u.parquet"):
        df = read_table(source)
        assert df["user_id"].tolist()[:2] == ids[:2] and pd.isna(df["user_id"].iloc[2])
        assert df["big"].iloc[0] == 2**64 - 1
        assert df["small"].dtype == "float64" and df["none"].dtype == "float64"  # as pandas gives them
        pp = Preprocessor(Schema.from_dict({"user_id": {"type": "categorical"}})).fit(df)
        assert pp.vocabulary("user_id").keys_.tolist() == ["9007199254740992", "9007199254740993"]
        assert read_table(source, dtype={"user_id": "str"})["user_id"].tolist()[:2] == [str(i) for i in ids[:2]]
    # a table written from pandas with an index of its own: the exact column is placed by position
    indexed = pa.Table.from_pandas(pd.DataFrame({"u": [1.0, None], "x": [1, 2]}, index=[7, 9]))
    indexed = indexed.set_column(0, "u", pa.array([2**53 + 1, None], pa.int64()))
    pq.write_table(indexed, tmp_path / "i.parquet")
    df = read_table(tmp_path / "i.parquet")
    assert df["u"].iloc[0] == 2**53 + 1 and pd.isna(df["u"].iloc[1]) and df["x"].tolist() == [1, 2]


@pytest.mark.parametrize(("name", "sep"), [("c.csv", ","), ("c.dat", "::"), ("c.csv.gz", ",")])
def test_str_columns_keep_na_like_text_and_only_an_empty_cell_is_missing(tmp_path, name, sep):
    import gzip

    text = "".join(f"{a}{sep}{b}{sep}{c}\n" for a, b, c in [("user_id", "country", "n"), ("u1", "NA", "NA"),
                   ("u2", "US", "1"), ("u3", "None", "null"), ("u4", "", "N/A"), ("u5", "nan", "")])
    f = tmp_path / name
    f.write_bytes(gzip.compress(text.encode()) if name.endswith(".gz") else text.encode())
    df = read_table(f, sep=sep, dtype={"country": "str"})
    assert df["country"].tolist()[:3] == ["NA", "US", "None"] and pd.isna(df["country"].iloc[3])
    assert df["country"].iloc[4] == "nan"
    assert df["n"].isna().tolist() == [True, False, True, True, True]  # untyped columns: pandas' NA strings
    body = "".join(text.splitlines(keepends=True)[1:])
    (tmp_path / "n.txt").write_text(body)
    df = read_table(tmp_path / "n.txt", sep=sep, names=["user_id", "country", "n"],
                    dtype={"country": "str", "n": "str"})
    assert df["n"].tolist()[:3] == ["NA", "1", "null"] and pd.isna(df["n"].iloc[4])


def test_short_rows_are_found_with_multi_character_separators_zip_header_and_quotes(tmp_path):
    (tmp_path / "r.dat").write_bytes(b"1::10::5\n\n  \n2::20\n")
    with pytest.raises(DataError, match=r"r\.dat: line 4 has 2 fields but 3 names given"):
        read_table(tmp_path / "r.dat", sep="::", names=["user_id", "item_id", "rating"])
    (tmp_path / "o.dat").write_bytes(b"1::a::5\n2:::20\n")  # ":::" holds one "::", as pandas splits it
    with pytest.raises(DataError, match=r"line 2 has 2 fields but 3 names given"):
        read_table(tmp_path / "o.dat", sep="::", names=["u", "i", "r"])
    (tmp_path / "ok.dat").write_bytes(b"1::a::5\n2::b::\n  3::c::7  \n")  # an empty last field is a field
    assert read_table(tmp_path / "ok.dat", sep="::", names=["u", "i", "r"])["u"].tolist() == [1, 2, 3]
    with zipfile.ZipFile(tmp_path / "s.csv.zip", "w") as z:
        z.writestr("s.csv", "a,b,c\n1,2,3\n4,5\n")
    with pytest.raises(DataError, match=r"s\.csv\.zip: line 3 has 2 fields but the header has 3 columns"):
        read_table(tmp_path / "s.csv.zip")
    (tmp_path / "h.csv").write_text("# export\n\na,b,c\n1,2,3\n4,5\n")
    with pytest.raises(DataError, match=r"h\.csv: line 5 has 2 fields but the header has 3 columns"):
        read_table(tmp_path / "h.csv", header=1)
    (tmp_path / "h.csv").write_text("# export\na,b,c\n1,2,3\n4,5,\n")
    assert read_table(tmp_path / "h.csv", header=1).shape == (2, 3)


def test_short_rows_are_found_in_files_with_quoted_fields(tmp_path):
    (tmp_path / "q.tsv").write_bytes(b'id\ttitle\tyear\n1\t"Heat"\t1995\n2\tAlien\n')
    with pytest.raises(DataError, match=r"q\.tsv: line 3 has 2 fields but the header has 3 columns"):
        read_table(tmp_path / "q.tsv")
    # quoted separators, doubled quotes and newlines are inside fields; lines count as an editor shows them
    (tmp_path / "m.csv").write_bytes(b'id,title,year\n1,"Heat, ""The""\nmovie",\n2,"a,b"\n3,c,1999\n')
    with pytest.raises(DataError, match=r"m\.csv: line 4 has 2 fields but the header has 3 columns"):
        read_table(tmp_path / "m.csv")
    (tmp_path / "m.csv").write_bytes(b'id,title,year\n1,"Heat, ""The""\nmovie",\n2,"a,b",\n')
    df = read_table(tmp_path / "m.csv")
    assert df["title"].tolist() == ['Heat, "The"\nmovie', "a,b"] and df["year"].isna().all()


def test_a_file_whose_fields_cannot_be_counted_is_read_with_one_warning(tmp_path, caplog):
    (tmp_path / "w.csv").write_text('id,height,n\n1,5\'11",\n2,6\'0",3\n')  # a quote inside a field
    with caplog.at_level("WARNING", logger="recstack.data.readers"):
        df = read_table(tmp_path / "w.csv")
    assert df["height"].tolist() == ["5'11\"", "6'0\""]
    assert len(caplog.records) == 1 and "could not check that every row has all 3 fields" in caplog.text
    assert "a quote character inside an unquoted field, line 2" in caplog.text
    assert "1 rows have an empty last column" in caplog.text
    caplog.clear()
    (tmp_path / "r.txt").write_text("a , b\n1,2\n3 ,\n")
    with caplog.at_level("WARNING", logger="recstack.data.readers"):
        read_table(tmp_path / "r.txt", sep=r"\s*,\s*")
    assert "sep is a regular expression" in caplog.text


def test_non_overlapping_matches_are_those_a_split_takes():
    import random

    import numpy as np

    from recstack.data._field_check import _matches, _non_overlapping

    rng = random.Random(0)
    for _ in range(500):
        sep = rng.choice(["::", ":::", "aba", "abab", "|#|"])
        text = "".join(rng.choice("ab:|#") for _ in range(rng.randint(0, 40)))
        pos = _non_overlapping(_matches(np.frombuffer(text.encode(), dtype=np.uint8), sep.encode()), len(sep))
        assert pos.tolist() == [m.start() for m in re.finditer(re.escape(sep), text)]


def test_the_field_check_is_the_same_across_block_boundaries(tmp_path, monkeypatch, caplog):
    import recstack.data._field_check as field_check

    monkeypatch.setattr(field_check, "_BLOCK", 7)  # records and quoted newlines straddle blocks
    (tmp_path / "m.csv").write_bytes(b'id,title,year\n1,"Heat, ""The""\nmovie",\n2,"a,b"\n3,c,1999\n')
    with pytest.raises(DataError, match=r"m\.csv: line 4 has 2 fields but the header has 3 columns"):
        read_table(tmp_path / "m.csv")
    (tmp_path / "h.csv").write_text("# export\n\na,b,c\n1,2,3\n4,5,\n6,7\n")
    with pytest.raises(DataError, match=r"h\.csv: line 6 has 2 fields"):
        read_table(tmp_path / "h.csv", header=1)
    (tmp_path / "r.dat").write_bytes(b"1::10::5\n2::20::\n3:::30\n")
    with pytest.raises(DataError, match=r"line 3 has 2 fields but 3 names given"):
        read_table(tmp_path / "r.dat", sep="::", names=["u", "i", "r"])
    monkeypatch.setattr(field_check, "_MAX_RECORD", 20)
    (tmp_path / "long.csv").write_bytes(b'a,b\n1,"' + b"x" * 50 + b'"\n2,\n')
    with caplog.at_level("WARNING", logger="recstack.data.readers"):
        assert read_table(tmp_path / "long.csv").shape == (2, 2)
    assert "a row longer than" in caplog.text


@pytest.mark.parametrize(("sep", "name"), [(",", "m.csv"), ("::", "m.dat"), ("§", "m.txt")])
def test_short_rows_are_found_in_files_with_cr_line_endings(tmp_path, monkeypatch, sep, name):
    import recstack.data._field_check as field_check

    f = tmp_path / name
    # old Mac files: a lone CR ends a line
    f.write_bytes(f"a{sep}b{sep}c\r1{sep}2{sep}3\r\r4{sep}5\r6{sep}7{sep}8\r".encode())
    with pytest.raises(DataError, match=rf"{name}: line 4 has 2 fields but the header has 3 columns"):
        read_table(f, sep=sep)
    # mixed endings; a quoted CR is text (with "::" quotes are not special: a line end)
    f.write_bytes(f'a{sep}b{sep}c\r\n1{sep}"x\ry"{sep}\r4{sep}5\r\n'.encode())
    with pytest.raises(DataError, match=rf"{name}: line {2 if sep == '::' else 4} has 2 fields"):
        read_table(f, sep=sep)
    f.write_bytes(f"ab{sep}c\r\n1{sep}\r\n2{sep}3\r\n4\r\n".encode())
    for block in range(1, 8):  # a CRLF split between blocks is one line end, not two
        monkeypatch.setattr(field_check, "_BLOCK", block)
        with pytest.raises(DataError, match=rf"{name}: line 4 has 1 field but the header has 2 columns"):
            read_table(f, sep=sep)
    f.write_bytes(f"ab{sep}c\r\n1{sep}\r\n2{sep}3\r\n".encode())
    assert read_table(f, sep=sep)["ab"].tolist() == [1, 2]


def test_a_row_pandas_shifts_after_a_blank_cr_line_is_a_warning(tmp_path, monkeypatch, caplog):
    import recstack.data._field_check as field_check

    f = tmp_path / "s.csv"
    f.write_bytes(b"a,b,c\r1,2,3\r\r,5,6\r7,8,9\r")  # pandas' C parser reads line 4 as 5,6,NaN
    for block in (3, 1 << 24):  # also when the blank line ends a block
        monkeypatch.setattr(field_check, "_BLOCK", block)
        caplog.clear()
        with caplog.at_level("WARNING", logger="recstack.data.readers"):
            assert read_table(f)["c"].isna().tolist() == [False, True, False]
        assert len(caplog.records) == 1 and "line 4 starts with the separator after a blank line" in caplog.text
    f.write_bytes(b"a,b,c\r1,2,3\r\r,5,6\r7,8\r")  # a row short as written is still an error
    with pytest.raises(DataError, match=r"s\.csv: line 5 has 2 fields"):
        read_table(f)


def test_large_floats_with_a_gap_are_floats_and_only_long_integers_written_out_are_refused(tmp_path, monkeypatch):
    import recstack.data.readers as readers

    monkeypatch.setattr(readers, "_TEXT_CHUNK", 2)  # the text is looked at in chunks: rows count on across them
    f = tmp_path / "wei.csv"
    f.write_text("user_id,amount_wei\n1,1.5e18\n2,\n3,2.25e20\n4,9007199254740992\n5,225000000000000000000\n")
    got = read_table(f)["amount_wei"].tolist()  # all exact: written as floats, or integers float64 holds
    assert got[0] == 1.5e18 and pd.isna(got[1]) and got[2:] == [2.25e20, 2.0**53, 2.25e20]
    for cell, rounded in [("9007199254740993", "9007199254740992"), ("-0009007199254740993", "-9007199254740992"),
                          ("123456789012345678901", "123456789012345683968")]:
        f.write_text(f"user_id,amount\n1,1.5e18\n2,\n3,{cell}\n")
        with pytest.raises(DataError, match=rf"wei\.csv: column 'amount' holds integers of 2\*\*53 or more .*"
                                            rf"\(data row 3: {cell} becomes {rounded}\).*dtype: \{{amount: str\}}"
                                            r".*numeric feature.*dtype: \{amount: float\}"):
            read_table(f)
        assert read_table(f, dtype={"amount": "float"})["amount"].iloc[2] == float(cell)


@pytest.mark.parametrize("dtype", [object, "str"])
def test_inexact_integers_are_the_cells_float64_rounds(dtype):
    import random

    from recstack.data._dtypes import inexact_integers

    rng = random.Random(0)

    def cell() -> str | None:
        kind = rng.random()
        if kind < 0.1:
            return rng.choice([None, "1.5e18", "7.0", "x", "", " ", "+", "-0", "9007199254740993.0"])
        value = rng.randint(1, 2**53) << rng.randint(0, 80) if kind < 0.5 else rng.randint(0, 10 ** rng.randint(1, 30))
        return rng.choice(["", "+", "-"]) + "0" * rng.randint(0, 2) + str(value) + rng.choice(["", " "])

    def rounded(text: str | None) -> bool:
        if text is None or not re.fullmatch(r"[+-]?\d+", text.strip()):
            return False
        return int(float(int(text))) != int(text)

    edges = [str(v) for v in (2**53, 2**53 + 1, 2**63 - 1, 2**63, -(2**63), 2**64, 2**64 + 1, 10**22, 10**23)]
    cells = edges + [cell() for _ in range(3000)]
    assert inexact_integers(pd.Series(cells, dtype=dtype)).tolist() == [rounded(c) for c in cells]

"""Messages of read_table for text files that do not read: they name the line, the option
(the config key when read for a config) and the fix, without pandas' own wording."""

from __future__ import annotations

import gzip
import re

import pandas as pd
import pytest

import recstack.data._text_errors as text_errors
from recstack.data import read_table
from recstack.errors import DataError

ROWS = ["1|Toy Story (1995)|0", "2|GoldenEye (1995)|1"]


def _latin1_file(tmp_path, newline="\n"):
    """A pipe-separated file whose third line holds a latin-1 byte (as MovieLens u.item)."""
    lines = [*ROWS, "3|Misérables, Les (1995)|0", "4|Heat (1995)|1"]
    path = tmp_path / "u.item"
    path.write_bytes(newline.join(lines).encode("latin-1") + newline.encode())
    return path, len((newline.join(ROWS) + newline).encode()) + len("3|Mis")


def test_a_decode_error_names_the_line_the_byte_the_snippet_and_the_config_key(tmp_path):
    path, offset = _latin1_file(tmp_path)
    with pytest.raises(DataError) as err:
        read_table(path, sep="|", names=["item_id", "title", "x"], config_key="data.join.items")
    msg = str(err.value)
    # before: "u.item is not utf-8 text (byte 3): a binary file, or pass encoding= (...)" (byte 3 of a field)
    assert f"u.item: line 3 (byte {offset}) is not utf-8 text: byte 0xe9 in " in msg
    assert '"3|Mis\\xe9rables, Les (1995)|0"' in msg
    assert msg.endswith("set the file's encoding (MovieLens u.item is latin-1): data.join.items.encoding: latin-1")
    assert "binary" not in msg
    assert read_table(path, sep="|", header=None, encoding="latin-1").iloc[2, 1] == "Misérables, Les (1995)"


def test_a_decode_error_for_a_python_caller_names_the_argument(tmp_path):
    path, _ = _latin1_file(tmp_path)
    with pytest.raises(DataError, match=re.escape("encoding='latin-1' (recstack evaluate: --encoding latin-1)")):
        read_table(path, sep="|", header=None)


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_a_decode_error_counts_crlf_and_lone_cr_lines(tmp_path, newline):
    path, offset = _latin1_file(tmp_path, newline)
    with pytest.raises(DataError, match=rf"line 3 \(byte {offset}\).* in \"3\|Mis\\xe9rables, Les \(1995\)\|0\""):
        read_table(path, sep="|", header=None)


def test_a_decode_error_is_placed_exactly_across_blocks(tmp_path, monkeypatch):
    # small blocks: a valid 2-byte character and a CRLF split between blocks, the bad byte later
    monkeypatch.setattr(text_errors, "_BLOCK", 3)
    path = tmp_path / "t.csv"
    data = "a,b\r\né,1\r\nx,2\r\n".encode() + b"y\xff,3\n"
    path.write_bytes(data)
    bad = data.index(b"\xff")
    with pytest.raises(DataError, match=rf"t\.csv: line 4 \(byte {bad}\) .*byte 0xff in \"y\\xff,3\""):
        read_table(path)


def test_a_decode_error_suggests_utf8_where_the_bytes_are_utf8(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\nMisérables,1\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"line 2 .*is not ascii text: byte 0xc3 .*bytes there are UTF-8\): "
                                        r"data\.train\.encoding: utf-8$"):
        read_table(path, encoding="ascii", config_key="data.train")


def test_a_decode_error_in_a_compressed_file_gives_the_decompressed_offset(tmp_path):
    path = tmp_path / "t.csv.gz"
    path.write_bytes(gzip.compress(b"a,b\nx\xe9,1\n"))
    with pytest.raises(DataError, match=r"line 2 \(byte 5 of the decompressed text\)"):
        read_table(path)


def test_a_file_with_nul_bytes_that_does_not_decode_is_called_binary_or_utf16(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-16")
    with pytest.raises(DataError, match=r"t\.csv is not utf-8 text: it holds NUL bytes, so it is a binary file .*"
                                        r"or UTF-16 text \(data\.train\.encoding: utf-16\)"):
        read_table(path, config_key="data.train")
    assert read_table(path, encoding="utf-16").to_dict("list") == {"a": [1], "b": [2]}


def test_one_name_too_few_names_the_counts_the_line_and_the_config_key(tmp_path):
    path = tmp_path / "u.item"
    path.write_text("1|Toy Story|0|1\n2|GoldenEye|1|0\n")
    with pytest.raises(DataError) as err:
        read_table(path, sep="|", names=["item_id", "title", "action"], config_key="data.join.items")
    # before: "rows have more fields than the header or the given names (Length of header or names does
    # not match length of data. This leads to a loss of data with index_col=False.); check sep= and names="
    assert str(err.value).endswith("u.item: line 1 has 4 fields but 3 names given; add the missing names to "
                                   "data.join.items.names (one per field), or check data.join.items.sep")


def test_too_few_names_or_header_columns_name_the_first_longer_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b,c,d\n\n1,2,3,4\n")
    with pytest.raises(DataError, match=r"t\.csv: line 3 has 4 fields but 3 names given; add the missing names "
                                        r"to names= \(one per field\), or check sep=$"):
        read_table(path, names=["x", "y", "z"], header=0)  # the header row is not data
    path.write_text("a,b,c\n1,2,3,4\n")
    with pytest.raises(DataError, match=r"t\.csv: line 2 has 4 fields but the header has 3 columns; add the "
                                        r"missing column names to the header row, or check sep=$"):
        read_table(path)


def test_a_longer_row_after_rows_that_fit_names_that_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b,c\n1,2,3\n\n4,5,6,7\n8,9,10\n")
    # before: "t.csv is malformed: Error tokenizing data. C error: Expected 3 fields in line 4, saw 4; ..."
    with pytest.raises(DataError, match=r"t\.csv: line 4 has 4 fields but the header has 3 columns; fix that "
                                        r"line \(quote a field that holds the separator\), or add the missing "
                                        r"column names to the header row, or check data\.train\.sep$"):
        read_table(path, config_key="data.train")
    with pytest.raises(DataError, match=r"line 4 has 4 fields but 3 names given; fix that line .*, or add the "
                                        r"missing names to names= \(one per field\), or check sep=$"):
        read_table(path, names=["x", "y", "z"], header=0)


def test_too_few_names_where_fields_cannot_be_counted_still_says_what_to_do(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("1 , 2 , 3\n")
    with pytest.raises(DataError, match=r"rows have more fields than the 2 names given, so pandas would drop data; "
                                        r"give one name per field, or check data\.train\.sep$"):
        read_table(path, sep=r"\s*,\s*", names=["a", "b"], config_key="data.train")


def test_a_wrong_separator_with_names_suggests_the_one_the_data_holds(tmp_path):
    path = tmp_path / "u1.base"
    path.write_text("1\t1\t5\t874965758\n1\t2\t3\t876893171\n")
    names = ["user_id", "item_id", "rating", "timestamp"]
    # before: "line 1 has 1 fields but 4 names given; fix that line, or check sep= and names="
    with pytest.raises(DataError, match=re.escape(
            "u1.base: line 1 has 1 field but 4 names given; the separator is probably '\\t' (it splits that line "
            'into 4 fields): data.train.sep: "\\t"')):
        read_table(path, sep=",", names=names, config_key="data.train")
    with pytest.raises(DataError, match=re.escape("sep='\\t' (recstack evaluate: --sep '\\t')")):
        read_table(path, sep=",", names=names)
    with pytest.raises(DataError, match=re.escape("the separator is probably '\\t' (that line holds it, not ',')")):
        read_table(path, sep=",", names=names[:3] + ["x", "y"])  # no separator gives 5 fields: the one it holds


def test_a_wrong_separator_giving_too_many_fields_is_suggested_too(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes(b"1,5|2,5\r3,5|4\r")  # lone CR line ends; a decimal comma
    with pytest.raises(DataError, match=re.escape("t.txt: line 1 has 3 fields but 2 names given; the separator is "
                                                  "probably '|' (it splits that line into 2 fields)")):
        read_table(path, sep=",", names=["a", "b"])
    # a header read as one column: the separator that splits it as it splits the line
    path.write_bytes(b"a|b\r1,5|2,5\r")
    with pytest.raises(DataError, match=re.escape("t.txt: line 2 has 3 fields but the header has 1 column; the "
                                                  "separator is probably '|' (it splits the header and that line "
                                                  "into 2 fields)")):
        read_table(path, sep=",")


def test_a_short_row_without_a_better_separator_names_the_options(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("1,2,3\n4\n")
    with pytest.raises(DataError, match=r"t\.csv: line 2 has 1 field but 3 names given; fix that line, or check "
                                        r"data\.train\.sep and data\.train\.names$"):
        read_table(path, names=["a", "b", "c"], config_key="data.train")


@pytest.mark.parametrize(("kind", "article"), [("int", "an"), ("str", "a")])
def test_a_float_id_that_is_not_whole_takes_the_right_article(kind, article):
    with pytest.raises(DataError, match=rf"\(data row 1: 1\.5\); {article} {kind} ID from a float must be one"):
        read_table(pd.DataFrame({"u": [1.5, 2.0]}), dtype={"u": kind})  # before: "a int ID"


def test_a_header_read_as_one_column_warns_with_the_exact_setting(tmp_path, caplog):
    path = tmp_path / "t.csv"
    path.write_text("user_id,item_id\n1,2\n")
    with caplog.at_level("WARNING", logger="recstack.data.readers"):
        read_table(path, sep="\t", config_key="data.train")
        read_table(path, sep="\t")
    # before: "... the separator is probably ',': set data.train.sep" / "set sep= (recstack evaluate: --sep)"
    first, second = (r.getMessage() for r in caplog.records)
    assert first.endswith("read as one column 'user_id,item_id' with separator '\\t'; the separator is probably "
                          "',': set data.train.sep: \",\"")
    assert second.endswith("the separator is probably ',': set sep=',' (recstack evaluate: --sep ,)")


def test_a_file_the_parser_cannot_read_names_the_separator_setting_of_the_config(tmp_path):
    path = tmp_path / "quote.csv"
    path.write_text('a,b\n"1,2\n')
    # before: "... check the separator (sep=) and quoting" also for a file read for data.join.items
    with pytest.raises(DataError, match=r"quote\.csv is malformed: .*; check the separator "
                                        r"\(data\.join\.items\.sep\) and quoting$"):
        read_table(path, config_key="data.join.items")
    with pytest.raises(DataError, match=r"; check the separator \(sep=\) and quoting$"):
        read_table(path)

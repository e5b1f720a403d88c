"""Messages of read_table for text files that do not read: they name the line, the option
(the config key when read for a config) and the fix, without pandas' own wording."""

from __future__ import annotations

import gzip
import re

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

"""docs/config.md describes ``sep`` as ``read_table`` reads it: literally, whatever its length,
unless written as a regular expression (a backslash or a ``[set]``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from recstack.data import read_table

DOC = Path(__file__).resolve().parents[3] / "docs" / "config.md"


def _sep_row() -> str:
    rows = [line for line in DOC.read_text(encoding="utf-8").splitlines() if line.startswith("| `sep` |")]
    assert len(rows) == 1, rows
    return rows[0]


def test_the_doc_says_a_separator_is_literal_unless_written_as_a_regular_expression():
    row = _sep_row()
    assert "two or more characters are a regular expression" not in row
    assert "taken literally" in row and "backslash" in row and "character set" in row, row


@pytest.mark.parametrize("sep, text", [
    ("::", "a::b\n1::2\n"),  # MovieLens-1M
    ("..", "a..b\n1..2\n"),  # as a pattern, ".." would match any two characters
    ("|", "a|b\n1|2\n"),
    (r"\s*,\s*", "a , b\n1 ,2\n"),  # a backslash: a regular expression
    ("[,;]", "a;b\n1,2\n"),  # a character set
])
def test_the_documented_separators_read_as_the_doc_says(tmp_path, sep, text):
    path = tmp_path / "t.csv"
    path.write_text(text)
    table = read_table(path, sep=sep)
    assert list(table.columns) == ["a", "b"] and table.iloc[0].tolist() == [1, 2]

"""read_table's separators: literal unless written as a regular expression."""

from __future__ import annotations

import re

import pytest

from recstack.data import read_table
from recstack.errors import ConfigError


@pytest.mark.parametrize("sep", ["..", "|", ".|", "a|b", "$$", "||", "**", "::", "+", "(|)", "^^"])
def test_a_separator_with_regex_metacharacters_is_taken_literally(tmp_path, sep):
    f = tmp_path / "t.txt"
    f.write_text(f"user{sep}item{sep}n\n10{sep}20{sep}1\n30{sep}40{sep}2\n")
    assert read_table(f, sep=sep).to_dict("list") == {"user": [10, 30], "item": [20, 40], "n": [1, 2]}


def test_a_literal_separator_is_not_found_inside_fields(tmp_path):
    f = tmp_path / "t.txt"  # as a regex, ".." would split "a.b" and "1.5" anywhere
    f.write_text("a.b..c\n1.5..2\n")
    assert read_table(f, sep="..").to_dict("list") == {"a.b": [1.5], "c": [2]}


@pytest.mark.parametrize("sep", [r"\s*,\s*", r"[,;]", r"\|+", re.escape("..")])
def test_a_separator_written_as_a_regex_is_one(tmp_path, sep):
    f = tmp_path / "t.txt"
    f.write_text({r"\s*,\s*": "u , i\n1,  2\n", r"[,;]": "u;i\n1,2\n", r"\|+": "u||i\n1|2\n"}.get(sep, "u..i\n1..2\n"))
    assert read_table(f, sep=sep).to_dict("list") == {"u": [1], "i": [2]}


@pytest.mark.parametrize(("sep", "problem"), [(r"\s*", "matches the empty string"), (r"\s+(", "is not one"),
                                               (r"[,;]*", "matches the empty string")])
def test_a_regex_separator_that_cannot_split_is_a_config_error(tmp_path, sep, problem):
    f = tmp_path / "t.txt"
    f.write_text("u,i\n1,2\n")
    with pytest.raises(ConfigError, match=rf"^data\.train\.sep: .* for .*t\.txt .*{problem}"):
        read_table(f, sep=sep, config_key="data.train")

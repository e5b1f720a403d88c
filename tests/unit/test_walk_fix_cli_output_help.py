"""``recstack recommend --help`` says what ``--output`` does: the suffix picks the format and
any other suffix is refused (it said "else CSV", but a .txt output is refused)."""

from __future__ import annotations

import pytest

from recstack.cli.batch import TABLE_SUFFIXES, check_output
from recstack.cli.main import build_parser
from recstack.errors import ConfigError


def _help(capsys) -> str:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["recommend", "--help"])
    return " ".join(capsys.readouterr().out.split())  # argparse wraps lines


def test_output_help_names_every_accepted_suffix_and_says_others_are_refused(capsys, tmp_path):
    text = _help(capsys)
    assert "else CSV" not in text and "any other suffix is refused" in text
    for suffix in TABLE_SUFFIXES:
        assert suffix in text
        check_output(str(tmp_path / f"out{suffix}"), as_json=False)  # each one named is accepted
    for other in (".txt", ".json", ""):
        with pytest.raises(ConfigError, match="name a .csv, .tsv or .parquet file"):
            check_output(str(tmp_path / f"out{other}"), as_json=False)

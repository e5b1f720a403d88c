"""recstack recommend --users-file with repeated IDs: each user answered once, in first-seen
order (a repeat only scored the same list again and wrote it twice), with one warning."""

from __future__ import annotations

import json
import logging

import pandas as pd
import pytest
import yaml

import recstack.cli.batch as batch
from recstack.cli.main import main
from tests.conftest import small_config


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("dups")
    cfg = root / "c.yaml"
    cfg.write_text(yaml.safe_dump(small_config(**{"train.epochs": 1}).to_dict()))
    assert main(["train", str(cfg), "-o", str(root / "m"), "-q"]) == 0
    return root / "m"


def test_repeated_ids_of_a_text_file_are_answered_once_in_first_seen_order(model, tmp_path, capsys, caplog,
                                                                           monkeypatch):
    scored: list[object] = []
    original = batch.recommend_chunks

    def spy(rec, users, **kwargs):
        scored.extend(users)
        return original(rec, users, **kwargs)

    monkeypatch.setattr(batch, "recommend_chunks", spy)
    ids = tmp_path / "users.txt"
    ids.write_text("5\n3\n5\n3\n7\n5\n")
    out = tmp_path / "r.csv"
    capsys.readouterr()
    with caplog.at_level(logging.WARNING, logger="recstack.cli.batch"):
        assert main(["recommend", str(model), "--users-file", str(ids), "-k", "2", "--output", str(out)]) == 0
    assert scored == [5, 3, 7]
    assert pd.read_csv(out).user_id.tolist() == [5, 5, 3, 3, 7, 7]
    assert json.loads(capsys.readouterr().out)["users"] == 3
    assert [r.getMessage() for r in caplog.records] == [
        f"--users-file {ids}: 3 repeated user IDs dropped (6 listed, 3 distinct); each user is answered once, "
        "in first-seen order"]


def test_repeated_ids_of_a_table_are_answered_once_and_no_repeat_logs_nothing(model, tmp_path, capsys, caplog):
    table = tmp_path / "users.csv"
    pd.DataFrame({"user_id": [9, 2, 9, 2, 4]}).to_csv(table, index=False)
    capsys.readouterr()
    with caplog.at_level(logging.WARNING, logger="recstack.cli.batch"):
        assert main(["recommend", str(model), "--users-file", str(table), "-k", "1"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert [r.split(",")[0] for r in printed[1:]] == ["9", "2", "4"]
    assert "2 repeated user IDs dropped (5 listed, 3 distinct)" in caplog.text
    caplog.clear()
    pd.DataFrame({"user_id": [9, 2]}).to_csv(table, index=False)
    with caplog.at_level(logging.WARNING, logger="recstack.cli.batch"):
        assert main(["recommend", str(model), "--users-file", str(table), "-k", "1"]) == 0
    assert "repeated" not in caplog.text

"""recstack recommend for many users: --users-file (text or table) and --all-users, written
chunk by chunk to CSV or Parquet with --output; the same lists as --user gives."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

import recstack.cli.batch as batch
from recstack.cli.main import main
from tests.conftest import small_config


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("batch")
    cfg = root / "c.yaml"
    cfg.write_text(yaml.safe_dump(small_config(**{"train.epochs": 1}).to_dict()))
    assert main(["train", str(cfg), "-o", str(root / "m"), "-q"]) == 0
    return root / "m"


def _single(model, capsys, user, k=3) -> pd.DataFrame:
    assert main(["recommend", str(model), "--user", str(user), "-k", str(k), "--exclude-seen", "--json"]) == 0
    return pd.DataFrame(json.loads(capsys.readouterr().out))


def test_all_users_to_parquet_in_chunks_matches_single_requests(model, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(batch, "CHUNK_USERS", 7)  # several chunks, the last one partial
    calls = []
    original = batch.recommend_chunks

    def counted(*args, **kwargs):
        for chunk in original(*args, **kwargs):
            calls.append(len(chunk))
            yield chunk

    monkeypatch.setattr(batch, "recommend_chunks", counted)
    capsys.readouterr()
    out = tmp_path / "all.parquet"
    assert main(["recommend", str(model), "--all-users", "-k", "3", "--exclude-seen", "--output", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    got = pd.read_parquet(out)
    assert list(got.columns) == ["user_id", "rank", "item_id", "score"]
    users = got.user_id.unique()
    assert summary == {"output": str(out), "users": len(users), "rows": len(got)} and len(got) == 3 * len(users)
    assert len(calls) == -(-len(users) // 7) and max(calls) == 7 * 3
    one = _single(model, capsys, users[9])
    pd.testing.assert_frame_equal(got[got.user_id == users[9]].reset_index(drop=True), one, check_dtype=False)


def test_users_file_text_and_csv_to_csv(model, tmp_path, capsys):
    ids = tmp_path / "users.txt"
    ids.write_text("3\n\n5\n")
    out = tmp_path / "r.csv"
    assert main(["recommend", str(model), "--users-file", str(ids), "-k", "2", "--output", str(out)]) == 0
    got = pd.read_csv(out)
    assert got.user_id.tolist() == [3, 3, 5, 5] and got["rank"].tolist() == [1, 2, 1, 2]
    table = tmp_path / "users.csv"
    pd.DataFrame({"user_id": [5, 3], "other": ["a", "b"]}).to_csv(table, index=False)
    capsys.readouterr()
    assert main(["recommend", str(model), "--users-file", str(table), "-k", "2"]) == 0  # CSV on stdout
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "user_id,rank,item_id,score" and [r.split(",")[0] for r in printed[1:]] == ["5", "5", "3", "3"]
    pd.DataFrame({"uid": [1]}).to_csv(table, index=False)
    assert main(["recommend", str(model), "--users-file", str(table)]) == 2
    assert "no column 'user_id'" in capsys.readouterr().err


def test_the_users_are_given_one_way(model, capsys):
    assert main(["recommend", str(model)]) == 2
    assert "give the users one way" in capsys.readouterr().err
    assert main(["recommend", str(model), "--user", "1", "--all-users"]) == 2
    assert "(got --user, --all-users)" in capsys.readouterr().err


def test_a_header_line_is_skipped_and_unknown_text_ids_still_write_parquet(model, tmp_path, capsys):
    """A .txt file's first line 'user_id' was a cold-start user, and an ID of another type than
    the stored integers ('abc') made Parquet raise ArrowTypeError."""
    users = tmp_path / "hdr.txt"
    users.write_text("user_id\n1\nabc\n")
    out = tmp_path / "o.parquet"
    assert main(["recommend", str(model), "--users-file", str(users), "-k", "2", "--output", str(out)]) == 0
    got = pd.read_parquet(out)
    assert sorted(set(got["user_id"])) == ["1", "abc"] and len(got) == 4


def test_parquet_skips_empty_chunks_and_a_bad_output_is_refused_before_loading(model, tmp_path, capsys,
                                                                                monkeypatch):
    """An empty first chunk gave the file a null schema, and the next chunk failed to cast."""
    chunks = iter([pd.DataFrame({"user_id": pd.Series([], dtype=object), "rank": pd.Series([], dtype="int64")}),
                   pd.DataFrame({"user_id": [1, 2], "rank": [1, 1]})])
    out = tmp_path / "e.parquet"
    assert batch.write_chunks(chunks, str(out), as_json=False) == 2
    assert pd.read_parquet(out)["user_id"].tolist() == [1, 2]
    monkeypatch.setattr("recstack.artifacts.load", lambda *a, **k: pytest.fail("loaded before checking --output"))
    for output, extra, message in ((tmp_path / "no" / "x.csv", [], "does not exist"),
                                   (tmp_path / "x.json", [], "name a .csv, .tsv or .parquet file"),
                                   (tmp_path / "x.csv", ["--json"], "--json writes to the terminal")):
        assert main(["recommend", str(model), "--all-users", "--output", str(output), *extra]) != 0
        assert message in capsys.readouterr().err


def test_chunks_are_sized_by_k_clipped_to_the_catalogue(model, monkeypatch):
    seen: list[int] = []
    real = batch.recommend_chunks

    def counted(*args, size, **kwargs):
        seen.append(size)
        return real(*args, size=size, **kwargs)

    monkeypatch.setattr(batch, "recommend_chunks", counted)
    assert main(["recommend", str(model), "--all-users", "-k", "50000000", "--json"]) == 0
    assert seen == [batch.CHUNK_USERS]

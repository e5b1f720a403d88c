"""``recstack datasets fetch`` with a local copy (no network) and ``recstack quickstart
--dataset movielens-100k``'s wiring (the run itself is too slow for the suite: see
tests/unit/config/test_gap_shipped_configs.py)."""

from __future__ import annotations

import io
import urllib.error
import urllib.request

import pytest

from recstack.cli import main
from recstack.data.datasets.movielens import ML100K_MD5, ML100K_URL
from tests.conftest import ml100k_dir, needs_ml100k

LOCAL = ml100k_dir()  # read before the fixture below clears RECSTACK_DATA


@pytest.fixture
def downloads(monkeypatch):
    """No network: every URL asked for is recorded, and the answer is ``downloads.payload``
    (a URLError when it is None)."""

    class Downloads:
        asked: list[str] = []
        payload: bytes | None = None

    def urlopen(url, timeout=None):
        Downloads.asked.append(url)
        if Downloads.payload is None:
            raise urllib.error.URLError("offline")
        return io.BytesIO(Downloads.payload)

    Downloads.asked = []
    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    monkeypatch.delenv("RECSTACK_DATA", raising=False)
    monkeypatch.delenv("RECSTACK_CACHE", raising=False)
    return Downloads


def fake_copy(folder):
    folder.mkdir(parents=True)
    for name in ("u.data", "u.item", "u.user"):
        (folder / name).write_text("")
    return folder


@needs_ml100k
@pytest.mark.parametrize("root", ["parent", "folder"])
def test_fetch_prints_the_local_copy_under_recstack_data_and_downloads_nothing(tmp_path, monkeypatch, capsys,
                                                                               downloads, root):
    monkeypatch.setenv("RECSTACK_DATA", str(LOCAL.parent if root == "parent" else LOCAL))
    assert main(["datasets", "fetch", "--cache-dir", str(tmp_path / "cache")]) == 0
    assert capsys.readouterr().out == f"{LOCAL}\n"
    assert downloads.asked == [] and not (tmp_path / "cache").exists()


def test_fetch_prints_the_copy_in_the_cache_dir_and_downloads_nothing(tmp_path, capsys, downloads):
    copy = fake_copy(tmp_path / "cache" / "ml-100k")
    assert main(["datasets", "fetch", "movielens-100k", "--cache-dir", str(tmp_path / "cache")]) == 0
    assert capsys.readouterr().out == f"{copy}\n"
    assert downloads.asked == []


def test_fetch_uses_recstack_cache_when_no_cache_dir_is_given(tmp_path, monkeypatch, capsys, downloads):
    copy = fake_copy(tmp_path / "env-cache" / "ml-100k")
    monkeypatch.setenv("RECSTACK_CACHE", str(tmp_path / "env-cache"))
    assert main(["datasets", "fetch"]) == 0
    assert capsys.readouterr().out == f"{copy}\n"
    assert downloads.asked == []


def test_fetch_with_nothing_local_downloads_and_a_corrupt_zip_is_a_clear_error(tmp_path, capsys, downloads):
    downloads.payload = b"PK\x03\x04 not really a zip"
    assert main(["datasets", "fetch", "--cache-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert downloads.asked == [ML100K_URL]
    assert err.startswith(f"recstack: error: download of {ML100K_URL} is corrupted: md5 ")
    assert f"expected {ML100K_MD5}; try again" in err
    assert list(tmp_path.iterdir()) == []
    downloads.payload = None  # offline: the error names where it looked
    assert main(["datasets", "fetch", "--cache-dir", str(tmp_path)]) == 2
    assert f"searched {tmp_path}, {tmp_path / 'ml-100k'}" in capsys.readouterr().err


def test_fetch_synthetic_needs_no_files(capsys, downloads):
    assert main(["datasets", "fetch", "synthetic"]) == 0
    assert capsys.readouterr().out == "(synthetic data is generated, nothing to fetch)\n"
    assert downloads.asked == []


def test_quickstart_movielens_passes_dataset_data_dir_and_epochs_to_the_run(tmp_path, monkeypatch, capsys):
    import recstack.quickstart

    calls = []

    def run_quickstart(dataset, **kw):
        calls.append((dataset, kw))
        return {"dataset": dataset}

    monkeypatch.setattr(recstack.quickstart, "run_quickstart", run_quickstart)
    out = str(tmp_path / "q")
    assert main(["quickstart", "--dataset", "movielens-100k", "--data-dir", "/data/ml", "-o", out,
                 "--epochs", "2", "-q"]) == 0
    assert calls == [("movielens-100k", {"output": out, "epochs": 2, "data_dir": "/data/ml", "progress": False})]
    assert '"dataset": "movielens-100k"' in capsys.readouterr().out

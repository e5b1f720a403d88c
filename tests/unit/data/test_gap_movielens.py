"""The MovieLens 100K loader on the published files: side columns joined as the raw u.item and
u.user lines say, the ``split`` option, and the MD5 check of a download (no network)."""

from __future__ import annotations

import hashlib
import io
import urllib.request
import zipfile
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from recstack.data.datasets import fetch_dataset, load_movielens_100k
from recstack.data.datasets.movielens import GENRES, ML100K_MD5, ML100K_URL, download_movielens_100k
from recstack.errors import DatasetUnavailableError
from tests.conftest import ml100k_dir, needs_ml100k

pytestmark = needs_ml100k


@cache
def load(split: str):
    return load_movielens_100k(ml100k_dir(), split=split, download=False)


def raw_lines(name: str) -> dict[int, list[str]]:
    """``{id: fields}`` of a ``|``-separated file, parsed without pandas."""
    text = (ml100k_dir() / name).read_bytes().decode("latin-1")
    return {int(f[0]): f for f in (line.split("|") for line in text.splitlines() if line)}


def raw_ratings(name: str) -> np.ndarray:
    return np.array((ml100k_dir() / name).read_bytes().split(), dtype=np.int64).reshape(-1, 4)


def test_pinned_rows_carry_their_title_genres_and_user_columns():
    train = load("u1").train
    first = train.iloc[0]
    assert (first.user_id, first.item_id, first.rating, first.timestamp) == (1, 1, 5, 874965758)
    assert (first.title, first.genres, first.release_year) == ("Toy Story (1995)", "Animation|Children's|Comedy", 1995.0)
    assert (first.age, first.gender, first.occupation, first.zip) == (24, "M", "technician", "85711")
    items = load("u1").items.set_index("item_id")
    assert items.loc[543, "title"] == "Misérables, Les (1995)"  # latin-1 in u.item
    assert items.loc[543, "genres"] == "Drama|Musical"
    assert (items.loc[267, "title"], items.loc[267, "genres"]) == ("unknown", "unknown")
    assert np.isnan(items.loc[267, "release_year"])  # u.item has no release date for it
    users = load("u1").users.set_index("user_id")
    assert users.loc[9].tolist() == [29, "M", "student", "01002"]  # a leading zero is kept
    assert users.loc[74].tolist() == [39, "M", "scientist", "T8H1N"]
    row = train[(train.user_id == 9)].iloc[0]
    assert (row.age, row.gender, row.occupation, row.zip) == (29, "M", "student", "01002")


def test_every_test_row_is_joined_to_its_raw_u_item_and_u_user_lines():
    items, users = raw_lines("u.item"), raw_lines("u.user")
    test = load("u1").test
    assert len(test) == 20_000
    want_title = [items[i][1] for i in test.item_id]
    want_genres = ["|".join(g for g, flag in zip(GENRES, items[i][5:]) if flag == "1") for i in test.item_id]
    assert test.title.tolist() == want_title
    assert test.genres.tolist() == want_genres
    assert test.age.tolist() == [int(users[u][1]) for u in test.user_id]
    assert test.gender.tolist() == [users[u][2] for u in test.user_id]
    assert test.occupation.tolist() == [users[u][3] for u in test.user_id]
    assert test.zip.tolist() == [users[u][4] for u in test.user_id]


@pytest.mark.parametrize("split", ["u1", "u2"])
def test_the_split_option_reads_that_splits_base_and_test_files(split):
    data = load(split)
    cols = ["user_id", "item_id", "rating", "timestamp"]
    for part, suffix in ((data.train, "base"), (data.test, "test")):
        raw = raw_ratings(f"{split}.{suffix}")
        assert np.array_equal(part[cols].to_numpy(), raw)


def test_u1_and_u2_differ_as_their_files_do():
    cols = ["user_id", "item_id", "rating", "timestamp"]
    u1, u2 = load("u1"), load("u2")
    assert (len(u1.train), len(u1.test), len(u2.train), len(u2.test)) == (80_000, 20_000, 80_000, 20_000)
    assert u1.train[cols].iloc[0].tolist() == [1, 1, 5, 874965758]
    assert u1.test[cols].iloc[0].tolist() == [1, 6, 5, 887431973]
    assert u2.train[cols].iloc[0].tolist() == [1, 3, 4, 878542960]
    assert u2.test[cols].iloc[0].tolist() == [1, 1, 5, 874965758]


# ------------------------------------------------------------------ download checksum


def small_zip() -> bytes:
    """A zip laid out as the official one (``ml-100k/u.*``), with the first ratings only."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        lines = (ml100k_dir() / "u.data").read_bytes().splitlines(keepends=True)
        z.writestr("ml-100k/u.data", b"".join(lines[:50]))
        for name in ("u.item", "u.user"):
            z.writestr(f"ml-100k/{name}", (ml100k_dir() / name).read_bytes())
    return buf.getvalue()


def serve(monkeypatch, payload: bytes) -> list[str]:
    """urlopen returns ``payload``; gives the list of URLs asked for."""
    asked: list[str] = []

    def urlopen(url, timeout=None):
        asked.append(url)
        return io.BytesIO(payload)

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    monkeypatch.delenv("RECSTACK_DATA", raising=False)
    return asked


def test_a_corrupted_download_is_refused_naming_both_md5s_and_leaves_nothing(tmp_path, monkeypatch):
    good = small_zip()
    bad = good[:-40] + bytes(b ^ 0xFF for b in good[-40:])  # damaged central directory
    asked = serve(monkeypatch, bad)
    cache_dir = tmp_path / "cache"
    digest = hashlib.md5(bad).hexdigest()
    with pytest.raises(DatasetUnavailableError) as err:
        fetch_dataset("movielens-100k", cache_dir=str(cache_dir))
    assert str(err.value) == f"download of {ML100K_URL} is corrupted: md5 {digest}, expected {ML100K_MD5}; try again"
    assert asked == [ML100K_URL]
    assert sorted(p.name for p in cache_dir.iterdir()) == []  # no .part, no zip, no folder


def test_a_download_with_the_expected_md5_is_extracted_and_loads(tmp_path, monkeypatch):
    payload = small_zip()
    serve(monkeypatch, payload)
    folder = download_movielens_100k(tmp_path, md5=hashlib.md5(payload).hexdigest())
    assert folder == tmp_path / "ml-100k"
    assert (tmp_path / "ml-100k.zip").read_bytes() == payload and not (tmp_path / "ml-100k.zip.part").exists()
    data = load_movielens_100k(cache_dir=str(tmp_path), split="all", download=False)
    assert len(data.train) == 50 and len(data.test) == 0
    assert data.train.iloc[0][["user_id", "item_id", "title"]].tolist() == [196, 242, "Kolya (1996)"]


def test_the_wrong_md5_rejects_even_a_sound_zip(tmp_path, monkeypatch):
    serve(monkeypatch, small_zip())
    with pytest.raises(DatasetUnavailableError, match=rf"is corrupted: md5 [0-9a-f]{{32}}, expected {ML100K_MD5}"):
        download_movielens_100k(Path(tmp_path))
    assert list(tmp_path.iterdir()) == []

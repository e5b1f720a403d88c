"""MovieLens 100K: local folder first, else a checksummed download into a cache folder.

F. Maxwell Harper and Joseph A. Konstan. 2015. The MovieLens Datasets: History and Context.
"""

from __future__ import annotations

import functools
import hashlib
import http.client
import os
import shutil
import urllib.request
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recstack.data.datasets.base import DATASETS, InteractionData
from recstack.data.readers import read_table
from recstack.errors import ConfigError, DatasetUnavailableError

__all__ = ["load_movielens_100k", "download_movielens_100k", "find_movielens_100k", "ML100K_URL", "ML100K_MD5"]

ML100K_URL = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
ML100K_MD5 = "0e33842e24a9c977be4e0107933c0723"  # as published by GroupLens
SPLITS = ("u1", "u2", "u3", "u4", "u5", "ua", "ub", "all")
GENRES = ["unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
          "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller",
          "War", "Western"]
RATING_COLS = ["user_id", "item_id", "rating", "timestamp"]
ITEM_COLS = ["item_id", "title", "release_date", "video_release_date", "imdb_url"] + GENRES
USER_COLS = ["user_id", "age", "gender", "occupation", "zip"]


def cache_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Download folder: argument, ``$RECSTACK_CACHE``, else ``~/.cache/recstack``."""
    return Path(explicit or os.environ.get("RECSTACK_CACHE") or Path.home() / ".cache" / "recstack")


def _has_files(d: Path) -> bool:
    return (d / "u.data").is_file() and (d / "u.item").is_file() and (d / "u.user").is_file()


def find_movielens_100k(data_dir: str | os.PathLike[str] | None = None, cache: str | None = None) -> tuple[Path | None, list[Path]]:
    """The folder holding ``u.data`` etc., and the folders searched.

    An explicit ``data_dir`` is the only place searched: a folder given on purpose that
    lacks the files must not be replaced by another copy (``$RECSTACK_DATA``, the cache).
    """
    roots = [Path(data_dir)] if data_dir else []
    if not data_dir:
        if os.environ.get("RECSTACK_DATA"):
            roots.append(Path(os.environ["RECSTACK_DATA"]))
        roots.append(cache_dir(cache))
    tried = []
    for r in roots:
        for d in (r, r / "ml-100k"):
            tried.append(d)
            if _has_files(d):
                return d, tried
    return None, tried


DOWNLOAD_TIMEOUT_S = 60.0


def download_movielens_100k(
    cache: str | os.PathLike[str] | None = None,
    *,
    url: str = ML100K_URL,
    md5: str = ML100K_MD5,
    opener: Callable[[str], Any] | None = None,
    timeout: float = DOWNLOAD_TIMEOUT_S,
    searched: Sequence[Path] = (),
) -> Path:
    """Downloads and extracts the official zip into the cache; verifies its MD5.

    ``opener`` is injectable so tests run without network; the default is ``urlopen`` with
    ``timeout`` seconds per blocking read, so a stalled connection fails instead of hanging.
    ``searched``: the local folders already looked in (see :func:`find_movielens_100k`),
    named in the error when the download fails, so an offline user sees where to put the files.
    """
    if opener is None:
        opener = functools.partial(urllib.request.urlopen, timeout=timeout)
    root = cache_dir(cache)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as err:  # e.g. a file where the cache folder should be
        raise DatasetUnavailableError(f"cannot use {root} as the download folder ({err}); pass another cache_dir") from None
    zpath = root / "ml-100k.zip"
    tmp = root / "ml-100k.zip.part"
    try:
        with opener(url) as resp, open(tmp, "wb") as fh:
            shutil.copyfileobj(resp, fh)
    except (OSError, ValueError, http.client.HTTPException) as err:  # URLError, TimeoutError: OSErrors;
        # ValueError: a malformed URL
        tmp.unlink(missing_ok=True)
        where = f"not found locally (searched {', '.join(map(str, searched))}) and " if searched else ""
        raise DatasetUnavailableError(
            f"MovieLens 100K {where}could not download {url} ({err}); put the extracted ml-100k folder "
            "somewhere and pass data_dir=... or set RECSTACK_DATA to its parent folder"
        ) from None
    digest = hashlib.md5(tmp.read_bytes()).hexdigest()
    if digest != md5:
        tmp.unlink(missing_ok=True)
        raise DatasetUnavailableError(f"download of {url} is corrupted: md5 {digest}, expected {md5}; try again")
    os.replace(tmp, zpath)
    with zipfile.ZipFile(zpath) as z:
        z.extractall(root)
    d = root / "ml-100k"
    if not _has_files(d):
        raise DatasetUnavailableError(f"{zpath} does not contain ml-100k/u.data, u.item, u.user")
    return d


def _items(d: Path) -> pd.DataFrame:
    raw = read_table(d / "u.item", sep="|", names=ITEM_COLS, encoding="latin-1")
    flags = raw[GENRES].to_numpy(dtype=bool)
    names = np.array(GENRES, dtype=object)
    genres = ["|".join(names[row]) for row in flags]  # 1,682 rows: once per load
    year = pd.to_datetime(raw["release_date"], format="%d-%b-%Y", errors="coerce").dt.year
    return pd.DataFrame({"item_id": raw["item_id"], "title": raw["title"].astype(str), "genres": genres,
                         "release_year": year.astype("float64")})


@DATASETS.register("movielens-100k")
def load_movielens_100k(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    split: str = "u1",
    cache_dir: str | None = None,
    download: bool = True,
) -> InteractionData:
    """MovieLens 100K with item titles/genres/year and user age/gender/occupation/zip joined.

    Args:
        data_dir: a folder with ``u.data``... or its parent; else ``$RECSTACK_DATA``, the cache.
        split: ``u1``..``u5``, ``ua``, ``ub`` (the published files) or ``all`` (empty test).
        cache_dir: download folder.
        download: download the official zip when no local copy is found.
    """
    if split not in SPLITS:
        raise ConfigError(f"data.dataset_options.split: {split!r} is not one of {', '.join(SPLITS)}")
    if data_dir is not None and not Path(data_dir).is_dir():  # an explicit folder must exist: no silent fallback
        raise DatasetUnavailableError(f"data_dir {str(data_dir)!r} is not a folder; pass the folder that holds "
                                      "ml-100k/ (or its files)")
    d, tried = find_movielens_100k(data_dir, cache_dir)
    if d is None and data_dir is not None:
        raise DatasetUnavailableError(
            f"data_dir {str(data_dir)!r} holds no MovieLens 100K files (u.data, u.item, u.user) in "
            f"{' or '.join(map(str, tried))}; pass the folder that holds them, or leave data_dir out to use "
            "RECSTACK_DATA, the cache or a download"
        )
    if d is None:
        if not download:
            raise DatasetUnavailableError(
                f"MovieLens 100K not found in {', '.join(map(str, tried))}; set RECSTACK_DATA or pass data_dir"
            )
        d = download_movielens_100k(cache_dir, searched=tried)
    items = _items(d)
    users = read_table(d / "u.user", sep="|", names=USER_COLS)
    users["zip"] = users["zip"].astype(str)
    if split == "all":
        train = read_table(d / "u.data", sep="\t", names=RATING_COLS)
        test = train.iloc[:0]
    else:
        train = read_table(d / f"{split}.base", sep="\t", names=RATING_COLS)
        test = read_table(d / f"{split}.test", sep="\t", names=RATING_COLS)

    def join(t: pd.DataFrame) -> pd.DataFrame:
        return t.merge(items, on="item_id", how="left").merge(users, on="user_id", how="left")

    return InteractionData("movielens-100k", join(train), join(test).reset_index(drop=True), items, users)

"""What a table file is (its format, by name and content) and how its raw bytes are opened."""

from __future__ import annotations

import bz2
import contextlib
import gzip
import importlib
import importlib.util
import lzma
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from recstack.errors import DataError

_PARQUET = {".parquet", ".pq"}
_COMPRESSED = {".gz", ".bz2", ".zip", ".xz", ".zst"}
_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}


def detect_format(path: Path, fmt: str | None, sep: str | None) -> str:
    """``csv``, ``tsv`` or ``parquet``: ``fmt`` if given, else from the name (``x.tsv.gz`` is tsv)."""
    if fmt is not None:
        if fmt not in ("csv", "tsv", "parquet"):
            raise DataError(f"unknown format {fmt!r} for {path}; use csv, tsv or parquet")
        return fmt
    suffixes = [s.lower() for s in path.suffixes[-2:]]  # "x.tsv.gz": the format before the compression
    if suffixes and suffixes[-1] in _COMPRESSED:
        suffixes = suffixes[:-1]
    suffix = suffixes[-1] if suffixes else ""
    if suffix in _PARQUET:
        return "parquet"
    if suffix == ".tsv" or sep == "\t":
        return "tsv"
    return "csv"


def check_container(path: Path, where: str) -> None:
    """Refuses what pandas would fail on with a bare error: a ``.zip`` that is not a zip or
    does not hold exactly one file, a ``.zst`` without ``zstandard``, a Parquet file read as text."""
    suffix = path.suffix.lower()
    if suffix == ".zip":
        try:
            with zipfile.ZipFile(path) as zf:
                zip_member(zf, where)
        except zipfile.BadZipFile:
            raise DataError(f"{where} is not a zip archive; check that the file is what its name says "
                            "(a plain text file must not end in .zip)") from None
    elif suffix == ".zst" and importlib.util.find_spec("zstandard") is None:
        raise DataError(f"{where} is zstd-compressed, which needs the zstandard package: "
                        "pip install zstandard, or decompress the file first (unzstd)")
    elif suffix not in _COMPRESSED:
        with open(path, "rb") as fh:
            if fh.read(4) == b"PAR1":
                raise DataError(f"{where} is a Parquet file (it starts with PAR1), not text; pass "
                                "format='parquet' (format: parquet in a config) or name it .parquet")


def zip_member(zf: zipfile.ZipFile, where: str) -> str:
    """The one entry of a ``.zip`` (pandas reads only archives of one entry)."""
    names = zf.namelist()
    if len(names) != 1:
        listed = f" ({', '.join(names[:5])}{', ...' if len(names) > 5 else ''})" if names else ""
        raise DataError(f"{where} holds {len(names)} entries{listed}; a .zip must hold exactly one table "
                        "file: extract the one you want and read it, or zip it alone")
    return names[0]


@contextlib.contextmanager
def open_binary(path: Path) -> Iterator[IO[bytes]]:
    """The decompressed bytes of a text file (by its suffix, as pandas reads it)."""
    suffix = path.suffix.lower()
    if suffix == ".zip":
        with zipfile.ZipFile(path) as zf, zf.open(zip_member(zf, str(path))) as member:
            yield member
    elif suffix == ".zst":
        with importlib.import_module("zstandard").open(path, "rb") as stream:
            yield stream
    else:
        opener: Callable[..., IO[bytes]] = _OPENERS.get(suffix, open)  # type: ignore[assignment]
        with opener(path, "rb") as fh:
            yield fh

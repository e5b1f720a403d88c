"""Errors reading a delimited text file, as messages naming the file, the line and the fix.

pandas and the decompressors raise their own errors (a decoding error at a byte of pandas'
buffer, a warning that rows have more fields than names); :func:`csv_errors` turns them into
``DataError``. :func:`check_row_lengths` finds rows with too few fields, which pandas fills
with NaN silently. Warnings go to the ``recstack.data.readers`` logger, as before the move.
"""

from __future__ import annotations

import contextlib
import gzip
import logging
import lzma
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from recstack.data._field_check import Unchecked, first_short_row
from recstack.data._files import open_binary
from recstack.errors import DataError

__all__ = ["TextFile", "check_row_lengths", "csv_errors"]

log = logging.getLogger("recstack.data.readers")


@dataclass(frozen=True)
class TextFile:
    """A delimited text file being read, as its error messages need it."""

    path: Path
    where: str  # the file as messages name it
    sep: str | None  # the literal separator; None for a regular expression
    encoding: str
    names: list[str] | None
    header: int | None  # pandas' header row (None: no header row)
    key: Callable[[str], str]  # an option's name in messages: "data.train.sep" or "sep"


def looks_binary(path: Path, probe: int = 8192) -> bool:
    """Whether the first ``probe`` decompressed bytes hold a NUL, which no text table does."""
    try:
        with open_binary(path) as fh:
            return b"\x00" in fh.read(probe)
    except Exception:  # a damaged container: the parser's own error says more
        return False


@contextlib.contextmanager
def csv_errors(src: TextFile) -> Iterator[None]:
    """pandas' and the decompressors' errors (and the warning that data was dropped) as
    ``DataError`` naming the file and the fix."""
    path, where = src.path, src.where
    try:
        with warnings.catch_warnings():
            # pandas only warns when rows have more fields than names, then drops data
            warnings.filterwarnings("error", message="Length of header", category=pd.errors.ParserWarning)
            yield
    except pd.errors.ParserWarning as err:
        raise DataError(f"{where}: rows have more fields than the header or the given names ({err}); "
                        "check sep= and names=") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{where} is empty; it needs a header row and data rows") from None
    except pd.errors.ParserError as err:
        if looks_binary(path):  # NUL bytes: no table text at all, whatever the separator
            raise DataError(f"{where} is not a text table (it holds NUL bytes: a binary file); check that the "
                            "file is what its name says") from None
        raise DataError(f"{where} is malformed: {err}; check the separator (sep=) and quoting") from None
    except (EOFError, gzip.BadGzipFile, lzma.LZMAError, OSError) as err:
        raise DataError(f"{where} could not be read as {path.suffix or 'text'} ({type(err).__name__}: {err}); "
                        "check that the file is what its name says") from None
    except UnicodeDecodeError as err:
        raise DataError(
            f"{where} is not {src.encoding} text (byte {err.start}): a binary file, or pass encoding= "
            "(MovieLens u.item is latin-1)"
        ) from None
    except Exception as err:  # zstandard's own error type for a damaged .zst
        if type(err).__module__.split(".")[0] != "zstandard":
            raise
        raise DataError(f"{where} could not be read as .zst ({type(err).__name__}: {err}); "
                        "check that the file is what its name says") from None


def check_row_lengths(src: TextFile, df: pd.DataFrame) -> None:
    """Raises naming the first row with too few fields (pandas filled it with NaN, or added
    all-NaN columns, silently); one warning where fields cannot be counted. Nothing to do when
    no row has an empty last column (a short row always has)."""
    empty = int(df.iloc[:, -1].isna().sum()) if len(df.columns) else 0
    if not empty:
        return
    try:
        short = first_short_row(src.path, sep=src.sep, encoding=src.encoding, expected=len(df.columns),
                                skip=0 if src.header is None else src.header + 1)
    except Unchecked as why:
        log.warning("%s: could not check that every row has all %d fields (%s); %d rows have an empty last "
                    "column: if some lack fields, pandas filled them with NaN",
                    src.where, len(df.columns), why, empty)
        return
    if short is not None:
        line, fields = short
        names = src.names
        given = f"{len(names)} names given" if names is not None else f"the header has {len(df.columns)} columns"
        raise DataError(f"{src.where}: line {line} has {fields} fields but {given}; fix that line, "
                        "or check sep= and names=")

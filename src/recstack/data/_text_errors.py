"""Errors reading a delimited text file, as messages naming the file, the line and the fix.

pandas and the decompressors raise their own errors (a decoding error at a byte of pandas'
buffer, a warning that rows have more fields than names); :func:`csv_errors` turns them into
``DataError``. :func:`check_row_lengths` finds rows with too few fields, which pandas fills
with NaN silently. Warnings go to the ``recstack.data.readers`` logger, as before the move.
"""

from __future__ import annotations

import codecs
import contextlib
import gzip
import io
import itertools
import json
import logging
import lzma
import re
import shlex
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from recstack.data._field_check import Unchecked, first_short_row
from recstack.data._files import open_binary
from recstack.errors import DataError

__all__ = ["USUAL_SEPARATORS", "TextFile", "check_row_lengths", "csv_errors"]

log = logging.getLogger("recstack.data.readers")

_BLOCK = 1 << 20  # bytes decoded at once when looking for an undecodable byte
_MORE_FIELDS = re.compile(r"Expected \d+ fields in line \d+, saw \d+")  # pandas: a row too long
_SNIPPET = 60  # bytes of a line shown either side of a bad spot

USUAL_SEPARATORS = (",", "\t", ";", "|", "::")
"""The separators a hint suggests when a file reads wrong with the one given (first match wins)."""


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
    read: dict[str, Any] = field(default_factory=dict)  # the pandas.read_csv options

    def option(self, option: str) -> str:
        """An option as messages name it: ``data.train.sep`` in a config, ``sep=`` for read_table."""
        name = self.key(option)
        return name if name != option else f"{option}="

    def setting(self, option: str, value: str) -> str:
        """How to set an option: ``data.train.sep: "\\t"`` in a config, ``sep='\\t'`` for read_table
        (and the flag of ``recstack evaluate``, which reads its ``--data`` without a config)."""
        name = self.key(option)
        if name != option:
            plain = value.replace("-", "").replace("_", "").isalnum()
            return f"{name}: {value if plain else json.dumps(value)}"
        return f"{option}={value!r} (recstack evaluate: --{option} {shlex.quote(repr(value)[1:-1])})"


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
    except pd.errors.ParserWarning:
        raise DataError(_long_rows(src) or _more_fields(src)) from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{where} is empty; it needs a header row and data rows") from None
    except pd.errors.ParserError as err:
        if looks_binary(path):  # NUL bytes: no table text at all, whatever the separator
            raise DataError(f"{where} is not a text table (it holds NUL bytes: a binary file); check that the "
                            "file is what its name says") from None
        more = _long_rows(src, later=True) if _MORE_FIELDS.search(str(err)) else None
        if more:  # a later row is longer than the first ones
            raise DataError(more) from None
        raise DataError(f"{where} is malformed: {err}; check the separator ({src.option('sep')}) and quoting"
                        ) from None
    except (EOFError, gzip.BadGzipFile, lzma.LZMAError, OSError) as err:
        raise DataError(f"{where} could not be read as {path.suffix or 'text'} ({type(err).__name__}: {err}); "
                        "check that the file is what its name says") from None
    except UnicodeDecodeError:
        raise DataError(_decode_error(src)) from None
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
        fix = (_separator_hint(src, line, len(df.columns))
               or f"; fix that line, or check {src.option('sep')} and {src.option('names')}")
        raise DataError(f"{src.where}: line {line} has {_count(fields, 'field')} but {given}{fix}")


def _decode_error(src: TextFile) -> str:
    """What is wrong with a file that does not decode as ``src.encoding``: NUL bytes (binary or
    UTF-16), else the line and byte of the first bad byte, a snippet, and the encoding to set."""
    if looks_binary(src.path):
        return (f"{src.where} is not {src.encoding} text: it holds NUL bytes, so it is a binary file (check that "
                f"the file is what its name says) or UTF-16 text ({src.setting('encoding', 'utf-16')})")
    at = _first_undecodable(src.path, src.encoding)
    if at is None:  # pandas failed where a plain decode does not: say what is known
        return f"{src.where} is not {src.encoding} text; {src.setting('encoding', 'latin-1')} if it is latin-1"
    line, before, after = _around(src.path, at)
    utf8 = codecs.lookup(src.encoding).name != "utf-8" and _utf8_starts(after)
    compressed = src.path.suffix.lower() in (".gz", ".bz2", ".xz", ".zip", ".zst")
    offset = f"byte {at}" + (" of the decompressed text" if compressed else "")
    why = "its bytes there are UTF-8" if utf8 else "MovieLens u.item is latin-1"
    return (f"{src.where}: line {line} ({offset}) is not {src.encoding} text: byte 0x{after[0]:02x} in "
            f"{_shown(before + after, src.encoding)}; set the file's encoding ({why}): "
            f"{src.setting('encoding', 'utf-8' if utf8 else 'latin-1')}")


def _shown(data: bytes, encoding: str) -> str:
    """A line's bytes in double quotes for a message: bytes that do not decode as ``\\xe9``,
    control characters (a tab) escaped."""
    text = data.decode(encoding, errors="backslashreplace")
    return '"' + text.translate({c: repr(chr(c))[1:-1] for c in range(32)}) + '"'


def _first_undecodable(path: Path, encoding: str) -> int | None:
    """Offset (in the decompressed bytes) of the first byte ``encoding`` cannot decode, or None."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    with open_binary(path) as fh:
        while True:
            block = fh.read(_BLOCK)
            pending = len(decoder.getstate()[0])  # bytes of an unfinished character, decoded with this block
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as err:
                return offset - pending + err.start
            if not block:
                return None
            offset += len(block)


def _around(path: Path, at: int) -> tuple[int, bytes, bytes]:
    """``(line, bytes of that line before byte at, bytes from it on)``: the 1-based line of byte ``at``
    (lines end at ``\\n``, ``\\r\\n`` or a lone ``\\r``) and up to ``_SNIPPET`` bytes of it either side."""
    line, pos, last = 1, 0, b""
    window = b""  # the bytes [at - _SNIPPET, at + _SNIPPET)
    with open_binary(path) as fh:
        while pos < at + _SNIPPET:
            block = fh.read(_BLOCK)
            if not block:
                break
            part = block[: max(0, at - pos)]  # bytes before `at` (`at` itself is no line end)
            line += part.count(b"\n") + part.count(b"\r") - part.count(b"\r\n")
            line -= last == b"\r" and part[:1] == b"\n"  # a CRLF split between blocks
            last = part[-1:] or last
            window += block[max(0, at - _SNIPPET - pos): max(0, at + _SNIPPET - pos)]
            pos += len(block)
    cut = at - max(0, at - _SNIPPET)
    before, after = window[:cut], window[cut:]
    before = before[max(before.rfind(b"\n"), before.rfind(b"\r")) + 1:]
    ends = [i for i in (after.find(b"\n"), after.find(b"\r")) if i >= 0]
    return line, before, after[: min(ends)] if ends else after


def _utf8_starts(data: bytes) -> bool:
    """Whether ``data`` starts with a non-ASCII UTF-8 character (the file may be UTF-8)."""
    for size in (2, 3, 4):
        try:
            data[:size].decode("utf-8")
            return data[0] >= 0x80
        except UnicodeDecodeError:
            continue
    return False


def _long_rows(src: TextFile, later: bool = False) -> str | None:
    """What is wrong when rows have more fields than the names or the header: the counts, the
    first such line, and the fix (the separator the line holds, more names, or, ``later``, where
    pandas stopped at a row after some that fit, that row); None if no such line is found."""
    header = None  # a header read as one column, which may hold the right separator
    if src.names is not None:
        expected, given = len(src.names), f"{len(src.names)} names given"
        fix = f"add the missing names to {src.option('names')} (one per field)"
    else:
        try:
            columns = pd.read_csv(src.path, **{**src.read, "nrows": 0}).columns
        except Exception:  # the header does not read either: the caller says what is known
            return None
        expected, given = len(columns), f"the header has {_count(len(columns), 'column')}"
        header = str(columns[0]) if expected == 1 else None
        fix = "add the missing column names to the header row"
    if later:
        fix = f"fix that line (quote a field that holds the separator), or {fix}"
    try:
        long = first_short_row(src.path, sep=src.sep, encoding=src.encoding, expected=expected,
                               skip=0 if src.header is None else src.header + 1, more=True)
    except Unchecked:
        return None
    if long is None:
        return None
    line, fields = long
    hint = _separator_hint(src, line, expected, header)
    return (f"{src.where}: line {line} has {_count(fields, 'field')} but {given}"
            + (hint or f"; {fix}, or check {src.option('sep')}"))


def _more_fields(src: TextFile) -> str:
    """Rows have more fields than the names or the header, where the line is not known."""
    than = f"the {len(src.names)} names given" if src.names is not None else "the header"
    return (f"{src.where}: rows have more fields than {than}, so pandas would drop data; give one "
            f"{'name' if src.names is not None else 'column name'} per field, or check {src.option('sep')}")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _separator_hint(src: TextFile, line: int, expected: int, header: str | None = None) -> str | None:
    """``"; the separator is probably ..."`` when another usual separator splits ``line`` into
    ``expected`` fields (or splits a ``header`` read as one column as it splits the line; or, for
    a line read as one field, is in it at all), else None."""
    if src.sep is None:
        return None
    text = _line_text(src, line)
    splits = {other: len(text.split(other)) for other in USUAL_SEPARATORS if other != src.sep and other in text}
    best, why = "", None
    for other, n in splits.items():
        if n == expected:
            best, why = other, f"it splits that line into {n} fields"
        elif header is not None and len(header.split(other)) == n:
            best, why = other, f"it splits the header and that line into {n} fields"
        if why:
            break
    if why is None and splits and len(text.split(src.sep)) == 1:
        best = max(splits, key=lambda other: splits[other])
        why = f"that line holds it, not {src.sep!r}"
    if why is None:
        return None
    return f"; the separator is probably {best!r} ({why}): {src.setting('sep', best)}"


def _line_text(src: TextFile, line: int) -> str:
    """Line ``line`` (1-based, as an editor counts) of the file, decoded; "" past the end."""
    with open_binary(src.path) as fh:
        text = io.TextIOWrapper(fh, encoding=src.encoding, errors="replace", newline=None)
        return next(itertools.islice(text, line - 1, None), "").rstrip("\n")

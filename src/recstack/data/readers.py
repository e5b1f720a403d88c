"""Readers: CSV/TSV/Parquet files, pandas DataFrames and Arrow tables -> pandas DataFrame."""

from __future__ import annotations

import bz2
import codecs
import contextlib
import gzip
import importlib
import importlib.util
import logging
import lzma
import re
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from pathlib import Path
from typing import IO, Any, Literal, get_args

import numpy as np
import pandas as pd

from recstack.errors import ConfigError, DataError, SchemaError

__all__ = ["ColumnType", "read_table"]

log = logging.getLogger(__name__)

ColumnType = Literal["str", "int", "float"]
"""A column type a reader can be told to keep (``str`` keeps IDs like ``0007`` as written)."""
COLUMN_TYPES: tuple[str, ...] = get_args(ColumnType)

_PARQUET = {".parquet", ".pq"}
_COMPRESSED = {".gz", ".bz2", ".zip", ".xz", ".zst"}


def _detect_format(path: Path, fmt: str | None, sep: str | None) -> str:
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


def _check_container(path: Path, where: str) -> None:
    """Refuses what pandas would fail on with a bare error: a ``.zip`` that is not a zip or
    does not hold exactly one file, a ``.zst`` without ``zstandard``, a Parquet file read as text."""
    suffix = path.suffix.lower()
    if suffix == ".zip":
        try:
            with zipfile.ZipFile(path) as zf:
                _zip_member(zf, where)
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


def _zip_member(zf: zipfile.ZipFile, where: str) -> str:
    """The one entry of a ``.zip`` (pandas reads only archives of one entry)."""
    names = zf.namelist()
    if len(names) != 1:
        listed = f" ({', '.join(names[:5])}{', ...' if len(names) > 5 else ''})" if names else ""
        raise DataError(f"{where} holds {len(names)} entries{listed}; a .zip must hold exactly one table "
                        "file: extract the one you want and read it, or zip it alone")
    return names[0]


_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
_BLOCK = 1 << 24  # bytes scanned at once by the field-count check
_MAX_RECORD = 4 * _BLOCK  # a longer record (an unclosed quote?) stops the check
_BLANK_BYTES = np.array([9, 10, 13, 32], dtype=np.uint8)  # tab, newline, carriage return, space
_STRIPPED = np.zeros(256, dtype=bool)  # bytes str.strip() removes (ASCII): pandas' regex-separator lines
_STRIPPED[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True
_BYTE_ENCODINGS = ("utf-8", "ascii", "iso8859", "latin", "cp125", "koi8")  # ASCII bytes mean ASCII
_NONE = np.empty(0, dtype=np.int64)
_Scan = tuple[int, np.ndarray, np.ndarray, np.ndarray, int]


class _Unchecked(Exception):
    """The field count of a file could not be checked: ``why``, at ``line`` of the block if known."""

    def __init__(self, why: str, line: int | None = None) -> None:
        super().__init__(why)
        self.why, self.line = why, line


@contextlib.contextmanager
def _open_binary(path: Path) -> Iterator[IO[bytes]]:
    """The decompressed bytes of a text file (by its suffix, as pandas reads it)."""
    suffix = path.suffix.lower()
    if suffix == ".zip":
        with zipfile.ZipFile(path) as zf, zf.open(_zip_member(zf, str(path))) as member:
            yield member
    elif suffix == ".zst":
        with importlib.import_module("zstandard").open(path, "rb") as stream:
            yield stream
    else:
        opener: Callable[..., IO[bytes]] = _OPENERS.get(suffix, open)  # type: ignore[assignment]
        with opener(path, "rb") as fh:
            yield fh


def _matches(arr: np.ndarray, sep: bytes) -> np.ndarray:
    """Start positions of every occurrence of ``sep`` in ``arr`` (overlapping ones included)."""
    k = len(sep)
    if len(arr) < k:
        return np.empty(0, dtype=np.int64)
    hit = arr[: len(arr) - k + 1] == sep[0]
    for j in range(1, k):
        hit &= arr[j : len(arr) - k + 1 + j] == sep[j]
    return np.flatnonzero(hit)


def _non_overlapping(pos: np.ndarray, k: int) -> np.ndarray:
    """The matches a left-to-right split takes among sorted match starts ``pos`` of a ``k``-byte
    separator (``":::"`` holds one ``"::"``): the first of each run of overlapping matches, then
    the next match at least ``k`` further, and so on; found by pointer doubling, no Python loop
    per match."""
    if k == 1 or pos.size < 2 or bool((np.diff(pos) >= k).all()):
        return pos
    n = pos.size
    jump = np.append(np.searchsorted(pos, pos + k), n)  # the next match a split can take; n: none
    keep = np.zeros(n + 1, dtype=bool)
    keep[0] = True
    keep[1:n] = np.diff(pos) >= k  # a match clear of the one before is always taken
    while True:  # keep: chains of length < 2**t from those; jump: 2**t steps
        grown = keep.copy()
        grown[jump[keep]] = True
        if bool((grown == keep).all()):
            return pos[keep[:n]]
        keep, jump = grown, jump[jump]


def _scan_quoted(arr: np.ndarray, sep: bytes, python: bool = False) -> _Scan:
    """Records of a delimited block as pandas reads them (double quotes may hold separators and
    newlines): its C parser, or with ``python`` its python engine (``csv.reader``), which also
    skips a row of one quoted blank field. Returns ``(cut, first_lines, fields, has_text, lines)``
    for the whole records before byte ``cut``; see :func:`_short_row`."""
    newlines = np.flatnonzero(arr == 10)
    is_quote = arr == 34
    seps = _matches(arr, sep)
    quotes = np.flatnonzero(is_quote)
    if quotes.size:  # inside quotes after an odd number of them
        inside = np.bitwise_xor.accumulate(is_quote.view(np.uint8))
        seps = seps[inside[seps] == 0]
        end_at = np.flatnonzero(inside[newlines] == 0)  # which newlines end a record
    else:
        end_at = np.arange(newlines.size)
    if not end_at.size:
        return 0, _NONE, _NONE, _NONE, 0
    ends = newlines[end_at]
    cut = int(ends[-1]) + 1
    seps = _non_overlapping(seps[seps < cut], len(sep))
    starts = np.concatenate([[0], ends[:-1] + 1])
    opening = quotes[0::2]
    opening = opening[opening < cut]
    if opening.size:  # the parity model holds only if every opening quote starts a field
        before = opening - 1
        closing = np.concatenate([[-2], quotes[1::2]])[: opening.size]  # the quote before each opening one
        field_end = np.zeros(cut, dtype=bool)  # a newline or a separator's last byte
        field_end[newlines[newlines < cut]] = True
        field_end[seps + len(sep) - 1] = True
        ok = (opening == 0) | (before == closing) | field_end[before]
        if not ok.all():
            first = int(np.searchsorted(newlines, opening[~ok][0]))
            raise _Unchecked("a quote character inside an unquoted field", first)
    fields = np.diff(np.searchsorted(seps, ends), prepend=0) + 1  # no separator lies on a newline
    has_text = fields > 1
    if not has_text.all():  # a row of one field may be blank: look at its bytes
        blank = _STRIPPED.copy() if python else np.isin(np.arange(256), _BLANK_BYTES)
        blank[34] = python  # python: '" "' is a blank row (a quoted "" that is one '"' is taken as blank too)
        blank[np.frombuffer(sep, dtype=np.uint8)] = False  # a line of separators is a row of empty fields
        has_text |= np.logical_or.reduceat(~blank[arr[:cut]], starts)
    return cut, np.concatenate([[0], end_at[:-1] + 1]), fields, has_text, int(end_at[-1]) + 1


def _scan_split(arr: np.ndarray, sep: bytes) -> _Scan:
    """Lines of a block as pandas' python engine splits them at a separator of two or more
    characters: each line stripped of surrounding whitespace, cut at non-overlapping
    occurrences, quotes not special. Same returns as :func:`_scan_quoted`."""
    ends = np.flatnonzero(arr == 10)
    if not ends.size:
        return 0, _NONE, _NONE, _NONE, 0
    cut = int(ends[-1]) + 1
    starts = np.concatenate([[0], ends[:-1] + 1])
    solid = ~_STRIPPED[arr[:cut]]
    has_text = np.logical_or.reduceat(solid, starts)
    k = len(sep)
    seps = _matches(arr[:cut], sep)
    if _STRIPPED[np.frombuffer(sep, dtype=np.uint8)].any():  # only then can stripping cut an occurrence
        at = np.flatnonzero(solid)
        lo_i, hi_i = np.searchsorted(at, starts), np.searchsorted(at, ends)
        at = at if at.size else np.zeros(1, dtype=np.int64)
        lo = at[np.minimum(lo_i, at.size - 1)]  # the stripped line is [lo, hi)
        hi = at[np.maximum(hi_i - 1, 0)] + 1
        line = np.searchsorted(ends, seps)
        seps = seps[has_text[line] & (seps >= lo[line]) & (seps + k <= hi[line])]
    seps = _non_overlapping(seps, k)
    fields = np.bincount(np.searchsorted(ends, seps), minlength=ends.size) + 1
    return cut, np.arange(ends.size), fields, has_text, ends.size


def _short_row(path: Path, sep: bytes, *, split: bool, expected: int, skip: int) -> tuple[int, int] | None:
    """``(line, fields)`` of the first data row with fewer than ``expected`` fields, else None.

    pandas fills a short row with NaN without a word. Fields are counted on the raw bytes in
    blocks with NumPy (bounded memory), as pandas splits them: with ``split`` (a separator of
    two or more characters, pandas' python engine) each line stripped and cut at
    non-overlapping occurrences; otherwise quoted separators and newlines do not count. Blank
    rows are skipped as pandas skips them, and so are the first ``skip`` other rows (up to the
    header).

    Raises:
        _Unchecked: a quote inside an unquoted field, or a record longer than ``_MAX_RECORD``.
    """
    scan = _scan_split if split else partial(_scan_quoted, python=len(sep) > 1)
    line = records = 0
    carry = b""
    with _open_binary(path) as fh:
        while True:
            block = fh.read(_BLOCK)
            data = carry + block
            if not block and data and not data.endswith(b"\n"):
                data += b"\n"
            try:
                cut, first_lines, fields, has_text, lines = scan(np.frombuffer(data, dtype=np.uint8), sep)
            except _Unchecked as err:
                raise _Unchecked(f"{err.why}, line {line + (err.line or 0) + 1}") from None
            ordinal = records + np.cumsum(has_text) - 1
            short = np.flatnonzero(has_text & (ordinal >= skip) & (fields < expected))
            if short.size:
                return line + int(first_lines[short[0]]) + 1, int(fields[short[0]])
            records += int(has_text.sum())
            line += lines
            carry = data[cut:]
            if not block:
                if carry:
                    raise _Unchecked("the file ends inside a quoted field")
                return None
            if len(carry) > _MAX_RECORD:
                raise _Unchecked(f"a row longer than {_MAX_RECORD >> 20} MiB (an unclosed quote?)")


def _check_fields(path: Path, where: str, df: pd.DataFrame, sep: str | None, encoding: str,
                  header: int | None) -> tuple[int, int] | None:
    """:func:`_short_row` where it can tell, else one warning; nothing to do when no row has an
    empty last column (a short row always has)."""
    empty = int(df.iloc[:, -1].isna().sum()) if len(df.columns) else 0
    if not empty:
        return None
    sep_bytes = _byte_countable(encoding, sep) if sep is not None else None
    try:
        if sep_bytes is None:
            raise _Unchecked("sep is a regular expression" if sep is None else f"the {encoding} encoding")
        return _short_row(path, sep_bytes, split=len(sep or "") > 1, expected=len(df.columns),
                          skip=0 if header is None else header + 1)
    except _Unchecked as why:
        log.warning("%s: could not check that every row has all %d fields (%s); %d rows have an empty last "
                    "column: if some lack fields, pandas filled them with NaN", where, len(df.columns), why, empty)
        return None


def _byte_countable(encoding: str, sep: str) -> bytes | None:
    """``sep`` encoded, if ``encoding`` writes newlines, quotes and ``sep`` as bytes that mean
    nothing else (ASCII-compatible), else None."""
    if not codecs.lookup(encoding).name.startswith(_BYTE_ENCODINGS):
        return None
    try:
        sep_bytes = sep.encode(encoding)
    except UnicodeEncodeError:
        return None
    return None if (b"\n" in sep_bytes or b"\r" in sep_bytes) else sep_bytes


try:  # pandas' default missing-value strings ("NA", "null", "None", "nan", "N/A", ...)
    from pandas._libs.parsers import STR_NA_VALUES as _PANDAS_NA
except ImportError:  # pragma: no cover - moved in some pandas version
    _PANDAS_NA = {"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
                  "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"}
_DEFAULT_NA = sorted(_PANDAS_NA)
_REGEX_META = frozenset(".^$*+?{}[]\\|()")


def _resolve_sep(sep: str) -> tuple[str, str | None]:
    """``(separator for pandas, the literal separator or None for a regular expression)``.

    pandas reads a separator of two or more characters as a regular expression. One without
    metacharacters (``"::"``) is the same taken literally; one that is not a valid expression
    (``"**"``) or that matches the empty string (``"||"``, which would split between every
    character) can only be meant literally, so it is escaped.
    """
    if len(sep) <= 1 or not _REGEX_META.intersection(sep):
        return sep, sep
    try:
        literal = re.compile(sep).match("") is not None
    except re.error:
        literal = True
    return (re.escape(sep), sep) if literal else (sep, None)


def _arrow_to_pandas(table: Any) -> pd.DataFrame:
    """``table.to_pandas()``, except that a 64-bit integer column with nulls and values of 2**53
    or more becomes nullable ``Int64``/``UInt64``: the default, float64, would round those IDs and
    merge distinct ones. Other columns convert as pandas converts them."""
    df = table.to_pandas()
    schema = getattr(table, "schema", None)
    if schema is None:  # not a table (e.g. a single array)
        return df
    import pyarrow as pa
    import pyarrow.compute as pc

    exact = {pa.int64(): pd.Int64Dtype(), pa.uint64(): pd.UInt64Dtype()}
    fix = []
    for i, field in enumerate(schema):
        col = table.column(i)
        if field.type not in exact or not col.null_count or list(df.columns).count(field.name) != 1:
            continue
        if df[field.name].dtype == np.float64:
            lo, hi = (v.as_py() for v in pc.min_max(col).values())
            if lo is not None and max(abs(lo), abs(hi)) >= 2**53:
                fix.append(i)
    if fix:
        part = table.select(fix).replace_schema_metadata(None).to_pandas(types_mapper=exact.get)
        for name in part.columns:
            df[name] = part[name].array  # by position: df may carry a restored pandas index
    return df


def _rounded_integers(df: pd.DataFrame, dtype: Mapping[str, ColumnType]) -> list[Any]:
    """Columns a text parser made float64 although every value is an integer, some of them 2**53
    or more: those may have been rounded (``float("9007199254740993") == 2**53``); ``float`` ones
    are as asked."""
    out = []
    for col in df.columns[(df.dtypes == np.float64).to_numpy()]:
        if dtype.get(col) == "float":
            continue
        f = df[col].to_numpy()
        big = np.abs(f) >= 2.0**53  # NaN compares False
        if big.any() and bool(np.all(np.floor(f[big]) == f[big])):
            finite = f[np.isfinite(f)]
            if bool(np.all(np.floor(finite) == finite)):
                out.append(col)
    return out


def _check_options(where: str, sep: str | None, names: list[str] | None, header: Any) -> None:
    """Text reader options pandas would reject with a bare ``ValueError`` (or silently ignore)."""
    if sep == "":
        raise ConfigError(f"sep: empty separator for {where}; give one, e.g. ',' or '\\t', or leave it out")
    if header not in ("infer", None) and (not isinstance(header, int) or isinstance(header, bool) or header < 0):
        raise ConfigError(f"header: {header!r} for {where} is not a row number; use the header's row "
                          "(0 = first non-blank line), 'infer', or None for a file without a header row")
    if names is not None:
        dups = [n for n, count in Counter(names).items() if count > 1]
        if dups:
            raise ConfigError(f"names: {dups[0]!r} appears more than once in the names for {where}; "
                              "give every column its own name")


def read_table(
    source: Any,
    *,
    format: Literal["csv", "tsv", "parquet"] | None = None,
    sep: str | None = None,
    names: list[str] | None = None,
    header: int | Literal["infer"] | None = "infer",
    encoding: str = "utf-8",
    columns: list[str] | None = None,
    dtype: Mapping[str, ColumnType] | None = None,
) -> pd.DataFrame:
    """Reads a table from a file, a DataFrame or a ``pyarrow.Table``.

    Args:
        source: path (``.csv``, ``.tsv``, ``.parquet``/``.pq``, or any name with ``format``),
            ``pandas.DataFrame`` (copied) or ``pyarrow.Table``.
        format: force ``csv``, ``tsv`` or ``parquet``.
        sep: field separator for text files (``"\\t"`` for MovieLens ``u.data``, ``"|"`` for ``u.item``,
            ``"::"`` for MovieLens-1M). One of two or more characters is a regular expression, as in
            pandas (``"\\s*,\\s*"``), except one that is not a valid expression or matches the empty
            string (``"||"``, ``"**"``), which is taken literally; escape metacharacters to be sure
            (``re.escape("..")``).
        names: column names for a file without a header row (implies ``header=None``).
        header: header row number (``0`` = the first non-blank line), ``"infer"`` or ``None``.
        encoding: text encoding (MovieLens ``u.item`` is ``latin-1``).
        columns: keep only these columns (unknown names are an error listing the available ones).
        dtype: column types, ``{"user_id": "str"}`` etc. (``str``, ``int`` or ``float``); a
            text file reads ``str`` columns as written, so zero-padded IDs like ``0007`` are
            not turned into ``7`` and ``NA``/``null``/``None`` stay text (only an empty cell is
            missing; other columns treat pandas' usual strings as missing). ``int`` is exact
            within int64. A name that is not a column is an error.

    A text file's rows are checked for fields missing at the end (pandas would fill them with
    NaN): that is an error naming the line. Where the fields cannot be counted (a regex ``sep``,
    a quote inside an unquoted field, an encoding that is not ASCII-compatible), one warning says
    so. A text column of integers that pandas parses as float64 (a gap or a decimal point) with
    values of 2**53 or more is an error (the values would be rounded), unless typed.

    Raises:
        DataError: missing, empty or malformed file, a row with too few fields, a ``.zip`` not of
            exactly one file, a ``.zst`` without ``zstandard``, rounded integer IDs (names the
            file and, when known, the line or column).
        ConfigError: an invalid option (``header`` < 0, repeated ``names``, empty ``sep``).
    """
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ConfigError(f"encoding: unknown text encoding {encoding!r}; e.g. utf-8 or latin-1") from None
    dtype = dict(dtype or {})
    bad_types = {c: t for c, t in dtype.items() if t not in COLUMN_TYPES}
    if bad_types:
        c, t = next(iter(bad_types.items()))
        raise ConfigError(f"dtype.{c}: {t!r} is not a column type; use one of {', '.join(COLUMN_TYPES)}")
    if isinstance(source, pd.DataFrame):
        df = source.copy()
        where = "the DataFrame"
    elif type(source).__module__.startswith("pyarrow"):
        df = _arrow_to_pandas(source)
        where = "the Arrow table"
    else:
        path = Path(source)
        where = str(path)
        if path.is_dir():
            raise DataError(f"{where!r} is a folder; give a table file (CSV, TSV or Parquet) inside it")
        if not path.is_file():
            raise DataError(f"file {where!r} does not exist; check the path (relative paths start at {Path.cwd()})")
        _check_options(where, sep, names, header)
        fmt = _detect_format(path, format, sep)
        if fmt == "parquet":
            if names is not None or sep is not None:
                raise ConfigError(f"{where}: names= and sep= apply to text files; a Parquet file names its own "
                                  "columns (rename them after reading, or pass format='csv' for a text file)")
            try:
                import pyarrow.parquet as pq

                df = _arrow_to_pandas(pq.read_table(path))
            except Exception as err:  # pyarrow raises several unrelated types for bad files
                raise DataError(f"{where} is not a valid Parquet file ({type(err).__name__}: {err}); "
                                "check the file or pass format='csv'") from None
        else:
            _check_container(path, where)
            # index_col=False: a row with more fields than names must not become an index (a lost column)
            sep, literal_sep = _resolve_sep(sep or ("\t" if fmt == "tsv" else ","))
            kwargs: dict[str, Any] = {"sep": sep, "encoding": encoding, "index_col": False,
                                      "dtype": {c: str for c, t in dtype.items() if t == "str"}}
            if len(sep.encode(encoding, errors="replace")) > 1:  # "::", a regex, or "§" (2 bytes): python engine
                kwargs["engine"] = "python"
            if names is not None:
                kwargs.update(names=names, header=None if header == "infer" else header)
            else:
                kwargs["header"] = 0 if header == "infer" else header
            try:
                with warnings.catch_warnings():
                    # pandas only warns when rows have more fields than names, then drops data
                    warnings.filterwarnings("error", message="Length of header", category=pd.errors.ParserWarning)
                    if kwargs["dtype"]:  # str columns keep "NA", "null", "None", ... as written
                        header_names = names if names is not None else pd.read_csv(path, **kwargs, nrows=0).columns
                        kwargs.update(keep_default_na=False, na_values={
                            c: [""] if dtype.get(c) == "str" else _DEFAULT_NA for c in header_names})
                    df = pd.read_csv(path, **kwargs)
            except pd.errors.ParserWarning as err:
                raise DataError(f"{where}: rows have more fields than the header or the given names ({err}); "
                                "check sep= and names=") from None
            except pd.errors.EmptyDataError:
                raise DataError(f"{where} is empty; it needs a header row and data rows") from None
            except pd.errors.ParserError as err:
                raise DataError(f"{where} is malformed: {err}; check the separator (sep=) and quoting") from None
            except (EOFError, gzip.BadGzipFile, lzma.LZMAError, OSError) as err:
                raise DataError(f"{where} could not be read as {path.suffix or 'text'} ({type(err).__name__}: {err}); "
                                "check that the file is what its name says") from None
            except UnicodeDecodeError as err:
                raise DataError(
                    f"{where} is not {encoding} text (byte {err.start}): a binary file, or pass encoding= "
                    "(MovieLens u.item is latin-1)"
                ) from None
            except Exception as err:  # zstandard's own error type for a damaged .zst
                if type(err).__module__.split(".")[0] != "zstandard":
                    raise
                raise DataError(f"{where} could not be read as .zst ({type(err).__name__}: {err}); "
                                "check that the file is what its name says") from None
            if names is not None and len(df.columns) != len(names):
                raise DataError(f"{where}: {len(names)} names given for {len(df.columns)} columns")
            short = _check_fields(path, where, df, literal_sep, encoding, kwargs["header"])
            if short is not None:  # pandas would fill the row (or add all-NaN columns) silently
                line, fields = short
                given = f"{len(names)} names given" if names is not None else f"the header has {len(df.columns)} columns"
                raise DataError(f"{where}: line {line} has {fields} fields but {given}; fix that line, "
                                "or check sep= and names=")
            rounded = _rounded_integers(df, dtype)
            as_int = [c for c in rounded if dtype.get(c) == "int"]
            if as_int:  # an int column written "7.0" somewhere: its text, converted exactly below
                df[as_int] = pd.read_csv(path, **{**kwargs, "usecols": as_int, "dtype": dict.fromkeys(as_int, str)})
            rounded = [c for c in rounded if c not in as_int]
            if rounded:
                raise DataError(
                    f"{where}: column {rounded[0]!r} holds integers of 2**53 or more and a gap (or a decimal "
                    "point), so it is read as float64, which rounds them (9007199254740993 becomes "
                    "9007199254740992) and distinct IDs would merge; read it as text: "
                    f"dtype: {{{rounded[0]}: str}} (read_table(..., dtype={{{rounded[0]!r}: 'str'}}))")
    if len(df.columns) == 0:
        raise DataError(f"{where} has no columns")
    if len(df) == 0:
        raise DataError(f"{where} is empty (0 rows)")
    if columns is not None:
        repeated = [c for c, count in Counter(columns).items() if count > 1]
        if repeated:
            raise SchemaError(f"columns: {repeated[0]!r} is listed more than once for {where}; list each column once")
        unknown = [c for c in columns if c not in df.columns]
        if unknown:
            raise SchemaError(f"{where} has no columns {unknown}; available: {list(df.columns)}")
        df = df[columns]
    if dtype:
        df = _apply_dtype(df, dtype, where)
    return df.reset_index(drop=True)


def _apply_dtype(df: pd.DataFrame, dtype: Mapping[str, ColumnType], where: str) -> pd.DataFrame:
    """Casts whole columns; missing values stay missing (never the string ``"nan"``)."""
    unknown = [c for c in dtype if c not in df.columns]
    if unknown:
        raise SchemaError(f"dtype.{unknown[0]}: {unknown[0]!r} is not a column of {where}; columns: {list(df.columns)}")
    out = df.copy()
    for col, kind in dtype.items():
        values = out[col]
        if kind == "str":
            out[col] = _as_text(values)
        elif kind == "int":
            out[col] = _as_int64(values, col, where)
        else:
            num = pd.to_numeric(values, errors="coerce")
            _refuse(col, "float", where, values, (num.isna() & values.notna()).to_numpy())
            out[col] = num.astype("float64")
    return out


_FLOAT_TYPES = (float, np.floating)
_INT64_DIGITS = {False: str(np.iinfo(np.int64).max), True: str(np.iinfo(np.int64).max + 1)}  # by sign


def _refuse(col: str, kind: str, where: str, values: pd.Series, bad: np.ndarray,
            problem: str = "", fix: str = "fix the data or use dtype str") -> None:
    """Raises naming the first ``bad`` row, unless there is none."""
    if not bad.any():
        return
    row = int(bad.argmax())
    got = "a missing value" if pd.isna(values.iloc[row]) else repr(values.iloc[row])
    raise DataError(f"dtype.{col}: column {col!r} of {where} {problem or f'is not all {kind} values'} "
                    f"(data row {row + 1}: {got}); {fix}")


def _as_text(values: pd.Series) -> pd.Series:
    """Each present value as text; integral floats as integers (``1.0`` -> ``"1"``, as a text file
    holds an integer column with a gap), so every source gives an ID the same key."""
    if pd.api.types.is_string_dtype(values.dtype) and (
            values.dtype != object or pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty")):
        return values  # text already (a text file's str column): nothing to convert
    text = values.astype(str).astype(object).where(values.notna(), np.nan)  # missing: NaN, as from a text file
    if pd.api.types.is_float_dtype(values.dtype):
        floats = values.notna().to_numpy()
    elif values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) in (
            "floating", "mixed-integer-float", "mixed"):
        types = values.map(type)  # one pass inside pandas; the float test runs per distinct type
        is_float = types.map({t: issubclass(t, _FLOAT_TYPES) for t in types.unique()}).to_numpy(dtype=bool)
        floats = is_float & values.notna().to_numpy()
    else:
        return text
    f = pd.to_numeric(values[floats]).to_numpy(dtype=np.float64)
    whole = np.isfinite(f) & (np.floor(f) == f) & (np.abs(f) < 2.0**63)
    rows = np.flatnonzero(floats)[whole]
    text.iloc[rows] = f[whole].astype(np.int64).astype(str).astype(object)
    return text


def _as_int64(values: pd.Series, col: str, where: str) -> pd.Series:
    """The column as exact int64: integers, integral floats, or integer text of any length
    (never through float64, which rounds above 2**53); beyond int64 is an error."""
    _refuse(col, "int", where, values, values.isna().to_numpy())
    beyond = {"problem": "has a value beyond int64", "fix": "IDs this large need dtype str"}
    dt = values.dtype
    if pd.api.types.is_bool_dtype(dt):
        return values.astype(np.int64)
    if pd.api.types.is_integer_dtype(dt):
        arr = values.to_numpy()
        if arr.dtype.kind == "u":
            _refuse(col, "int", where, values, arr > np.iinfo(np.int64).max, **beyond)
        return pd.Series(arr.astype(np.int64), index=values.index)
    if pd.api.types.is_float_dtype(dt):
        f = values.to_numpy(dtype=np.float64)
        _refuse(col, "int", where, values, ~np.isfinite(f) | (np.floor(f) != f))
        _refuse(col, "int", where, values, np.abs(f) >= 2.0**63, **beyond)
        return pd.Series(f.astype(np.int64), index=values.index)
    text = values.astype(str).str.strip()  # Python ints of any size print exactly
    is_int = text.str.fullmatch(r"[+-]?\d+").to_numpy(dtype=bool)
    digits = text[is_int].str.lstrip("+-").str.lstrip("0")
    negative = text[is_int].str.startswith("-").to_numpy(dtype=bool)
    n = digits.str.len().to_numpy()
    over = (n > 19) | ((n == 19) & np.where(negative, (digits > _INT64_DIGITS[True]).to_numpy(dtype=bool),
                                              (digits > _INT64_DIGITS[False]).to_numpy(dtype=bool)))
    overflow = np.zeros(len(values), dtype=bool)
    overflow[np.flatnonzero(is_int)[over]] = True
    num = pd.to_numeric(text[~is_int], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad, inexact = np.zeros(len(values), dtype=bool), np.zeros(len(values), dtype=bool)
    bad[~is_int] = ~np.isfinite(num) | (np.floor(num) != num)
    inexact[~is_int] = np.abs(num) >= 2.0**53
    _refuse(col, "int", where, values, bad)
    _refuse(col, "int", where, values, overflow, **beyond)
    _refuse(col, "int", where, values, inexact, "has a float too large to be an exact integer",
            "write it as an integer, or use dtype str")
    out = np.empty(len(values), dtype=np.int64)
    out[is_int] = text[is_int].astype(np.int64).to_numpy()
    out[~is_int] = num.astype(np.int64)
    return pd.Series(out, index=values.index)

"""Readers: CSV/TSV/Parquet files, pandas DataFrames and Arrow tables -> pandas DataFrame.

:func:`read_table` loads a source and then selects and types its columns. The checks it runs
live in private modules, one job each: ``_files`` (format, archives), ``_text_errors`` (parser
errors, rows with too few fields), ``_field_check`` (field counts), ``_dtypes`` (column types,
exact integers), ``_arrow`` (Arrow tables).
"""

from __future__ import annotations

import codecs
import logging
import re
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, NoReturn

import numpy as np
import pandas as pd

from recstack.data._arrow import arrow_to_pandas
from recstack.data._dtypes import (COLUMN_TYPES, DEFAULT_NA, ColumnType, apply_dtype, checked_dtype, inexact_integers,
                                   rounded_integers)
from recstack.data._files import check_container, detect_format
from recstack.data._text_errors import USUAL_SEPARATORS, TextFile, check_row_lengths, csv_errors
from recstack.errors import ConfigError, DataError, SchemaError

__all__ = ["ColumnType", "encoding_problem", "read_table"]


def encoding_problem(encoding: str) -> str | None:
    """Why ``encoding`` cannot decode a text file, or ``None`` (for read_table and the config)."""
    try:
        codecs.lookup(encoding)
    except LookupError:
        return f"unknown text encoding {encoding!r}; e.g. utf-8 or latin-1"
    return None

log = logging.getLogger(__name__)

_REGEX_META = frozenset(".^$*+?{}[]\\|()")
_REGEX_MARKS = re.compile(r"\\|\[[^\]]+\]")  # a backslash, or a character set: a separator written as a regex
_TEXT_CHUNK = 1 << 20  # rows of a column re-read as text at once


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
    dtype_if_present: Mapping[str, ColumnType] | None = None,
    config_key: str | None = None,
) -> pd.DataFrame:
    """Reads a table from a file, a DataFrame or a ``pyarrow.Table``.

    Args:
        source: path (``.csv``, ``.tsv``, ``.parquet``/``.pq``, or any name with ``format``),
            ``pandas.DataFrame`` (copied) or ``pyarrow.Table``.
        format: force ``csv``, ``tsv`` or ``parquet``.
        sep: field separator for text files (``"\\t"`` for MovieLens ``u.data``, ``"|"`` for ``u.item``,
            ``"::"`` for MovieLens-1M), taken literally (``".."``, ``"|"``, ``"a|b"``, ``"**"``),
            unless it is written as a regular expression: with a backslash (``"\\s*,\\s*"``,
            ``"\\|+"``, ``re.escape("..")``) or a character set (``"[,;]"``). An expression that
            does not compile, or that matches the empty string, is an error.
        names: column names for a file without a header row (implies ``header=None``).
        header: header row number (``0`` = the first non-blank line), ``"infer"`` or ``None``.
        encoding: text encoding (MovieLens ``u.item`` is ``latin-1``).
        columns: keep only these columns (unknown names are an error listing the available ones).
        dtype: column types, ``{"user_id": "str"}`` etc. (``str``, ``int`` or ``float``); a
            text file reads ``str`` columns as written, so zero-padded IDs like ``0007`` are
            not turned into ``7`` and ``NA``/``null``/``None`` stay text (only an empty cell is
            missing; other columns treat pandas' usual strings as missing). ``int`` is exact
            within int64. A name that is not a column is an error. Float cells (a DataFrame's float
            column, or floats among other values) become ``str`` or ``int`` IDs only as whole
            numbers below 2**53: ``1.0`` is the ID ``1``; ``1.5``, ``inf`` and ``1e17`` (float64
            cannot hold every integer that large, so IDs may have merged already) are errors.
        dtype_if_present: column types as ``dtype``, applied only to the columns the table has
            (after ``columns``): a name that is not a column is skipped, not an error. For types
            known ahead of the file, e.g. the ones a saved model's training file was read with
            (``recstack evaluate``), whose evaluation file may bring a column by a join key
            instead. ``dtype`` wins where both name a column.
        config_key: where these options come from in a config (``"data.train"``): errors about an
            option name it in full (``data.train.dtype.user_id``, ``data.train.sep``); by default
            they name the argument (``dtype.user_id``).

    A text file's rows (lines ending in ``\\n``, ``\\r\\n`` or ``\\r``) are checked for fields
    missing at the end (pandas would fill them with NaN): that is an error naming the line. Where
    the fields cannot be counted (a regex ``sep``, a quote inside an unquoted field, an encoding
    that is not ASCII-compatible, a row pandas shifts because it starts with the separator after
    a blank line ending in ``\\r``), one warning says so. In a text column that pandas parses as
    float64 (a gap, or a decimal point elsewhere), a cell written as an integer of 2**53 or more
    that float64 cannot hold exactly is an error (distinct IDs would merge), unless the column is
    typed; numbers written as floats (``1.5e18``) are read as floats.

    Raises:
        DataError: missing, empty or malformed file, a row with too few fields, a ``.zip`` not of
            exactly one file, a ``.zst`` without ``zstandard``, rounded integer IDs (names the
            file and, when known, the line or column).
        ConfigError: an invalid option (``header`` < 0, repeated ``names``, empty or invalid ``sep``).
        SchemaError: a ``dtype`` name that is not a column (``dtype.usr: 'usr' is not a column of t.csv; ...``).
    """
    def key(option: str) -> str:
        return f"{config_key}.{option}" if config_key else option

    problem = encoding_problem(encoding)
    if problem:
        raise ConfigError(f"{key('encoding')}: {problem}")
    types = checked_dtype(dtype, key("dtype"))
    optional = {c: t for c, t in checked_dtype(dtype_if_present, key("dtype_if_present")).items() if c not in types}
    if isinstance(source, pd.DataFrame):
        df, where = source.copy(), "the DataFrame"
    elif type(source).__module__.startswith("pyarrow"):
        df, where = arrow_to_pandas(source), "the Arrow table"
    else:
        path = Path(source)
        where = str(path)
        df = _read_file(path, where, format=format, sep=sep, names=names, header=header, encoding=encoding,
                        dtype={**optional, **types}, key=key)
    if len(df.columns) == 0:
        raise DataError(f"{where} has no columns")
    if len(df) == 0:
        raise DataError(f"{where} is empty (0 rows)")
    if columns is not None:
        df = _select_columns(df, columns, where)
    types = {**{c: t for c, t in optional.items() if c in df.columns}, **types}
    if types:
        df = apply_dtype(df, types, where, key("dtype"))
    return df.reset_index(drop=True)


def _read_file(path: Path, where: str, *, format: str | None, sep: str | None, names: list[str] | None,
               header: int | Literal["infer"] | None, encoding: str, dtype: dict[str, ColumnType],
               key: Callable[[str], str]) -> pd.DataFrame:
    """A table file, as Parquet or as delimited text (by ``format``, else its name)."""
    if path.is_dir():
        raise DataError(f"{where!r} is a folder; give a table file (CSV, TSV or Parquet) inside it")
    if not path.is_file():
        raise DataError(f"file {where!r} does not exist; check the path (relative paths start at {Path.cwd()})")
    _check_options(where, sep, names, header, key)
    fmt = detect_format(path, format, sep)
    if fmt == "parquet":
        return _read_parquet(path, where, names=names, sep=sep)
    check_container(path, where)
    return _read_text(path, where, sep=sep or ("\t" if fmt == "tsv" else ","), names=names, header=header,
                      encoding=encoding, dtype=dtype, key=key)


def _read_parquet(path: Path, where: str, *, names: list[str] | None, sep: str | None) -> pd.DataFrame:
    if names is not None or sep is not None:
        raise ConfigError(f"{where}: names= and sep= apply to text files; a Parquet file names its own "
                          "columns (rename them after reading, or pass format='csv' for a text file)")
    try:
        import pyarrow.parquet as pq

        return arrow_to_pandas(pq.read_table(path))
    except Exception as err:  # pyarrow raises several unrelated types for bad files
        raise DataError(f"{where} is not a valid Parquet file ({type(err).__name__}: {err}); "
                        "check the file or pass format='csv'") from None


def _read_text(path: Path, where: str, *, sep: str, names: list[str] | None, header: int | Literal["infer"] | None,
               encoding: str, dtype: dict[str, ColumnType], key: Callable[[str], str]) -> pd.DataFrame:
    """A delimited text file through pandas; rows with too few fields, or integer IDs that
    float64 would round, are errors instead of silent NaN or rounding."""
    sep, literal_sep = _resolve_sep(sep, where, key)
    kwargs = _csv_options(sep, names, header, encoding, dtype)
    src = TextFile(path, where, literal_sep, encoding, names, kwargs["header"], key, kwargs)
    with csv_errors(src):
        if kwargs["dtype"]:  # str columns keep "NA", "null", "None", ... as written
            header_names = names if names is not None else pd.read_csv(path, **kwargs, nrows=0).columns
            kwargs.update(keep_default_na=False, na_values={
                c: [""] if dtype.get(c) == "str" else DEFAULT_NA for c in header_names})
        df = pd.read_csv(path, **kwargs)
    if names is not None and len(df.columns) != len(names):
        raise DataError(f"{where}: {len(names)} names given for {len(df.columns)} columns")
    check_row_lengths(src, df)
    _warn_one_column(df, src, sep)
    return _exact_large_integers(path, where, df, kwargs, dtype, key("dtype"))


def _warn_one_column(df: pd.DataFrame, src: TextFile, sep: str) -> None:
    """One warning when a header row was read as one column holding another usual separator
    (``user_id,movie_id,...`` read with a tab): every later error would only say a column is missing.
    It ends with the exact setting (``data.train.sep: ","``, or ``sep=','`` and the CLI flag)."""
    if len(df.columns) != 1:
        return
    name = str(df.columns[0])
    for other in USUAL_SEPARATORS:
        if other != sep and name.count(other) >= 1:
            log.warning("%s: read as one column %r with separator %r; the separator is probably %r: set %s",
                        src.where, name if len(name) <= 80 else name[:77] + "...", sep, other,
                        src.setting("sep", other))
            return


def _csv_options(sep: str, names: list[str] | None, header: int | Literal["infer"] | None, encoding: str,
                 dtype: dict[str, ColumnType]) -> dict[str, Any]:
    """``pandas.read_csv`` arguments: ``str`` columns as text, the python engine where needed."""
    # index_col=False: a row with more fields than names must not become an index (a lost column)
    kwargs: dict[str, Any] = {"sep": sep, "encoding": encoding, "index_col": False,
                              "dtype": {c: str for c, t in dtype.items() if t == "str"}}
    if len(sep.encode(encoding, errors="replace")) > 1:  # "::", a regex, or "§" (2 bytes): python engine
        kwargs["engine"] = "python"
    if names is not None:
        kwargs.update(names=names, header=None if header == "infer" else header)
    else:
        kwargs["header"] = 0 if header == "infer" else header
    return kwargs


def _exact_large_integers(path: Path, where: str, df: pd.DataFrame, kwargs: dict[str, Any],
                          dtype: dict[str, ColumnType], dtype_key: str) -> pd.DataFrame:
    """Columns pandas made float64 whose values are all integers, some of 2**53 or more (a gap,
    a decimal point or an exponent elsewhere), looked at as written: ``int`` ones take their text
    (converted exactly by :func:`apply_dtype`); in others, a cell written as an integer that
    float64 rounds is an error (distinct IDs would merge). Floats written as floats stay floats."""
    suspects = rounded_integers(df, dtype)
    as_int = [c for c in suspects if dtype.get(c) == "int"]
    if as_int:  # an int column written "7.0" somewhere: its text, converted exactly later
        df[as_int] = pd.read_csv(path, **{**kwargs, "usecols": as_int, "dtype": dict.fromkeys(as_int, str)})
    others = [c for c in suspects if c not in as_int]
    if not others:
        return df
    first = 0  # the text in chunks (bounded memory), up to the first rounded cell
    for text in pd.read_csv(path, **{**kwargs, "usecols": others, "dtype": dict.fromkeys(others, str),
                                     "chunksize": _TEXT_CHUNK}):
        for col in others:
            rounded = np.flatnonzero(inexact_integers(text[col]))
            if rounded.size:
                _refuse_rounded(where, col, first + int(rounded[0]), str(text[col].iloc[rounded[0]]).strip(),
                                int(df[col].iloc[first + rounded[0]]), dtype_key)
        first += len(text)
    return df


def _refuse_rounded(where: str, col: Any, row: int, written: str, read: int, dtype_key: str) -> NoReturn:
    raise DataError(
        f"{where}: column {col!r} holds integers of 2**53 or more and a gap (or a decimal point or an "
        f"exponent elsewhere), so it is read as float64, which rounds them (data row {row + 1}: {written} "
        f"becomes {read}) and distinct IDs would merge; read it as text: {dtype_key}: {{{col}: str}} "
        f"(read_table(..., dtype={{{col!r}: 'str'}})), or, for a numeric feature, as floats: "
        f"{dtype_key}: {{{col}: float}}")


def _select_columns(df: pd.DataFrame, columns: list[str], where: str) -> pd.DataFrame:
    repeated = [c for c, count in Counter(columns).items() if count > 1]
    if repeated:
        raise SchemaError(f"columns: {repeated[0]!r} is listed more than once for {where}; list each column once")
    unknown = [c for c in columns if c not in df.columns]
    if unknown:
        raise SchemaError(f"{where} has no columns {unknown}; available: {list(df.columns)}")
    return df[columns]


def _resolve_sep(sep: str, where: str, key: Callable[[str], str]) -> tuple[str, str | None]:
    """``(separator for pandas, the literal separator or None for a regular expression)``.

    A separator is literal (pandas would read ``".."`` as "any two characters" and ``"a|b"`` as
    "a or b"), unless it is written as a regular expression: with a backslash (``\\s``, ``\\|``)
    or a character set (``[,;]``). A literal one of several characters is escaped for pandas.
    """
    if len(sep) == 1 or not _REGEX_MARKS.search(sep):
        return (re.escape(sep), sep) if len(sep) > 1 and _REGEX_META.intersection(sep) else (sep, sep)
    try:
        empty = re.compile(sep).match("") is not None
    except re.error as err:
        raise ConfigError(f"{key('sep')}: {sep!r} for {where} is written as a regular expression (a backslash or "
                          f"[...]) but is not one ({err}); escape it (re.escape) to mean it literally") from None
    if empty:
        raise ConfigError(f"{key('sep')}: {sep!r} for {where} matches the empty string, so it would split between "
                          "every character; make it match at least one character (e.g. \\s+ rather than \\s*)")
    return sep, None


def _check_options(where: str, sep: str | None, names: list[str] | None, header: Any,
                   key: Callable[[str], str]) -> None:
    """Text reader options pandas would reject with a bare ``ValueError`` (or silently ignore)."""
    if sep == "":
        raise ConfigError(f"{key('sep')}: empty separator for {where}; give one, e.g. ',' or '\\t', or leave it out")
    if header not in ("infer", None) and (not isinstance(header, int) or isinstance(header, bool) or header < 0):
        raise ConfigError(f"{key('header')}: {header!r} for {where} is not a row number; use the header's row "
                          "(0 = first non-blank line), 'infer', or None for a file without a header row")
    if names is not None:
        dups = [n for n, count in Counter(names).items() if count > 1]
        if dups:
            raise ConfigError(f"{key('names')}: {dups[0]!r} appears more than once in the names for {where}; "
                              "give every column its own name")

"""``recstack recommend`` for many users: IDs from a file or every stored user, answered in
chunks and written as they come (CSV or Parquet), so memory stays bounded by one chunk."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from recstack.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from recstack.artifacts.recommender import Recommender
    from recstack.data.readers import ColumnType

__all__ = ["CHUNK_USERS", "batch_users", "check_output", "chunk_size", "write_chunks"]

log = logging.getLogger(__name__)

CHUNK_USERS = 4096  # users per recommend() call
TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")  # users files read, and --output files written
TEXT_SUFFIXES = ("", ".txt", ".ids", ".lst")


def batch_users(rec: Recommender, users_file: str | None, all_users: bool) -> list[Any]:
    """The raw user IDs of ``--users-file`` (one ID per line in a text file, or the query column
    of a CSV/TSV/Parquet table read with the model's saved ID types) or of ``--all-users``
    (every user the model stores from training), as the training table spelled them. A user the
    file lists more than once is answered once, at its first line (one warning says how many
    repeats were dropped): a repeat would only score the same list again and write it twice."""
    column = rec.query_column
    if all_users:
        known = rec.known_queries
        if known is None or column not in known.columns or len(known) == 0:
            raise ConfigError("--all-users: this model stores no users; give them with --users-file or --user")
        return list(known[column].tolist())
    assert users_file is not None
    path = Path(users_file)
    if not path.is_file():
        raise ConfigError(f"--users-file {users_file}: no such file")
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        lines = [line.strip() for line in path.read_text(encoding="utf-8-sig").splitlines()]
        lines = [line for line in lines if line]
        if lines and lines[0] == str(column):  # a header line, not a user
            lines = lines[1:]
        return _first_seen(rec.stored_ids(lines), users_file)  # "42" is user 42 of an integer column
    if suffix not in TABLE_SUFFIXES:
        raise ConfigError(f"--users-file {users_file}: use a .txt file (one ID per line) or a CSV, TSV or "
                          f"Parquet table with a {column!r} column")
    return _first_seen(_table_users(rec, path, users_file), users_file)


def _first_seen(users: list[Any], given: str) -> list[Any]:
    """``users`` without repeats, in first-seen order; a warning when any were dropped. IDs
    compare as stored (``"42"`` of a text file is user ``42`` of an integer column)."""
    unique = list(dict.fromkeys(users))
    if len(unique) < len(users):
        log.warning("--users-file %s: %d repeated user IDs dropped (%d listed, %d distinct); each user is "
                    "answered once, in first-seen order", given, len(users) - len(unique), len(users), len(unique))
    return unique


def _table_users(rec: Recommender, path: Path, given: str) -> list[Any]:
    """The query column of a table file, typed as training typed it (zero-padded IDs stay text)."""
    from recstack.data import read_table
    from recstack.experiment.offline import saved_id_types

    column = rec.query_column
    table = read_table(path, dtype_if_present=cast("dict[str, ColumnType]", saved_id_types(rec)) or None)
    if column not in table.columns:
        raise ConfigError(f"--users-file {given}: no column {column!r} (the model's user column); it has "
                          f"{sorted(map(str, table.columns))}. Give that column a header, or write one ID per "
                          "line in a .txt file")
    empty = table[column].isna().to_numpy()
    if empty.any():
        raise ConfigError(f"--users-file {given}: column {column!r} is empty in {int(empty.sum())} rows (first: "
                          f"row {int(empty.argmax())}); every row needs a user ID")
    return rec.stored_ids(table[column].tolist())


def chunk_size(k: int) -> int:
    """Users per chunk: :data:`CHUNK_USERS`, fewer when ``k`` is large (one call's result rows
    stay within ``MAX_RESULT_ROWS``)."""
    from recstack.artifacts.requests import MAX_RESULT_ROWS

    return max(1, min(CHUNK_USERS, MAX_RESULT_ROWS // max(k, 1)))


def recommend_chunks(rec: Recommender, users: list[Any], *, k: int, exclude: Any, cold_start: str,
                     size: int) -> Iterator[pd.DataFrame]:
    """``rec.recommend`` of ``users``, ``size`` at a time."""
    for start in range(0, len(users), size):
        yield rec.recommend(users[start : start + size], k=k, exclude=exclude, cold_start=cold_start)


def check_output(output: str | None, as_json: bool) -> None:
    """Refuses an ``--output`` that could not be written, before any work: a folder that does not
    exist, a suffix that is not CSV, TSV or Parquet, or ``--json`` beside it."""
    if output is None:
        return
    path = Path(output)
    if path.suffix.lower() not in TABLE_SUFFIXES:
        raise ConfigError(f"--output {output}: name a .csv, .tsv or .parquet file (the suffix picks the format)")
    if as_json:
        raise ConfigError("--json writes to the terminal; with --output the file's suffix picks the format: "
                          "drop one of them")
    if not path.parent.is_dir():
        raise ConfigError(f"--output {output}: folder {str(path.parent)!r} does not exist; create it first")


def write_chunks(chunks: Iterator[pd.DataFrame], output: str | None, *, as_json: bool,
                 text_columns: tuple[str, ...] = ()) -> int:
    """Writes result chunks to ``output`` (``.parquet``/``.pq``: Parquet; ``.csv``: CSV; ``.tsv``:
    tab-separated; :func:`check_output` refuses other suffixes first), or to stdout as CSV (JSON
    Lines with ``as_json``); returns the rows.
    ``text_columns``: written as text in Parquet (user IDs of mixed types: known users as
    integers, unknown ones as given), where a column holds one type."""
    rows = 0
    if output is None:
        for i, df in enumerate(chunks):
            if as_json:
                text = df.to_json(orient="records", lines=True)
                sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")
            else:
                df.to_csv(sys.stdout, index=False, header=i == 0)
            rows += len(df)
        return rows
    path = Path(output)
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        import pyarrow as pa
        import pyarrow.parquet as pq

        writer, empty = None, None
        try:
            for df in chunks:
                df = df.astype({c: str for c in text_columns if c in df.columns})
                if not len(df):  # its object columns would make the file's schema null
                    empty = df if empty is None else empty
                    continue
                table = pa.Table.from_pandas(df, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(path, table.schema)
                writer.write_table(table.cast(writer.schema))
                rows += len(df)
            if writer is None and empty is not None:  # every chunk empty: the columns, no rows
                pq.write_table(pa.Table.from_pandas(empty, preserve_index=False), path)
        finally:
            if writer is not None:
                writer.close()
        return rows
    sep = "\t" if suffix == ".tsv" else ","
    with path.open("w", encoding="utf-8", newline="") as fh:
        for i, df in enumerate(chunks):
            df.to_csv(fh, index=False, header=i == 0, sep=sep)
            rows += len(df)
    return rows

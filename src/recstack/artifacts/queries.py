"""Raw query requests (IDs, row dicts, DataFrames) made into query vectors for a saved model:
known users completed from their stored training rows, cold starts, defaults, chunked embedding."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import torch

from recstack.artifacts.context import context_columns, warn_context_fill
from recstack.artifacts.fill_errors import untrained_fill
from recstack.artifacts.query_ids import StoredIds
from recstack.artifacts.ranges import warn_far_values
from recstack.artifacts.requests import (
    check_result_size, frame, id_list, lacking_rows, mapping_rows, rows_table, undescribed_rows,
)
from recstack.errors import ConfigError, MissingValueError
from recstack.models.two_tower import TwoTower
from recstack.preprocessing import Preprocessor

__all__ = ["COLD_START", "QueryEncoder", "QueryInput", "QueryRows", "embed_rows", "fill_missing",
           "warn_unused_columns"]

logger = logging.getLogger("recstack.artifacts.recommender")  # the Recommender's messages, as before

QueryInput = Any  # an ID, a list of IDs, a row dict, a list of row dicts, or a DataFrame
COLD_START = ("average", "oov")
AVERAGE_CHUNK = 8192  # known users embedded at once for the average query
COLD_NAMED = 5  # cold IDs a cold-start warning names
_INT = re.compile(r"0|-?[1-9][0-9]*")  # an integer as canonical keys write it ("42"; not "042", "+42", "-0")


class QueryRows(NamedTuple):
    """A request's query rows and where its IDs were found, from one lookup that answering,
    echoing the IDs and the cold-start warning all reuse (a request is looked up once)."""

    table: pd.DataFrame  # the raw rows, completed from the stored rows
    known: np.ndarray  # (n,) each row's position among the known users, -1: unknown
    side: np.ndarray  # (n,) its row among the users-table rows, -1: none (a known user has none)
    cold: np.ndarray  # (n,) bool: unknown, and nothing but the ID describes it


class QueryEncoder:
    """The query half of :class:`~recstack.artifacts.recommender.Recommender`: which users are
    known, their stored training rows, and the query vector of any request.

    Args:
        model: the two-tower model (its query tower).
        preprocessor: the fitted feature state.
        query_column: the raw column of user IDs.
        known_queries: one stored raw row per training user (their query features), or None.
        history_column: the query column listing a user's past candidates, if any.
        side_queries: rows of the users tables (``data.join`` on the user column) of users
            training never saw, with the query columns those tables hold, or None.
    """

    def __init__(self, *, model: TwoTower, preprocessor: Preprocessor, query_column: str,
                 known_queries: pd.DataFrame | None, history_column: str | None,
                 side_queries: pd.DataFrame | None = None) -> None:
        self.model = model
        self.preprocessor = preprocessor
        self.query_column = query_column
        self.known_queries = known_queries
        self.history_column = history_column
        self.side_queries = side_queries
        self.stored = StoredIds(  # one index: a request's IDs are canonicalised once
            None if known_queries is None else known_queries[query_column],
            None if side_queries is None else side_queries[query_column], column=query_column)
        self._average: torch.Tensor | None = None

    @property
    def query_features(self) -> list[str]:
        return list(self.model.config.query)

    def table(self, queries: QueryInput) -> QueryRows:
        """Raw query rows, completed from the stored rows (a known user's training row; an
        unseen user's users-table row), with each row's place among the known users and the
        users-table rows, and which rows are cold (:class:`QueryRows`)."""
        given_as = None  # a type error names the column of the rows given, or the argument of bare IDs
        if isinstance(queries, pd.DataFrame):
            table = queries.reset_index(drop=True)
        elif isinstance(queries, Mapping):
            table = rows_table([queries])
        elif isinstance(queries, (str, bytes, int, float, np.integer, np.floating)):
            return self.table([queries])  # one ID (bytes too, refused as one: not [49])
        elif isinstance(queries, (np.ndarray, pd.Series, pd.Index)):
            return self.table(id_list(queries, "queries", check=False))  # checked once, by the lookup
        elif isinstance(queries, Sequence) and len(queries) == 0:
            raise ConfigError("no queries given")
        elif isinstance(queries, Sequence):
            rows = mapping_rows(queries)
            if rows.all():
                table = rows_table(queries)
            elif rows.any():
                raise ConfigError("queries mix raw IDs and row dicts; give all IDs or all rows (e.g. {'user_id': 2})")
            else:
                table = frame({self.query_column: list(queries)})  # bare IDs: rows that give nothing but the ID
                given_as = "queries"
        else:
            raise ConfigError(
                "queries must be an ID, a list of IDs, a row dict, a list of row dicts or a DataFrame; "
                f"got {type(queries).__name__} {queries!r:.80}"
            )
        if len(table) == 0:
            raise ConfigError("no queries given")
        given = set(map(str, table.columns))
        none = np.full(len(table), -1)
        pos, side = (self.stored.lookup(table[self.query_column].tolist(), given_as)  # the request's one lookup
                     if self.query_column in table.columns else (none, none))  # (QueryRows carries it on)
        unknown = pos < 0
        if (side >= 0).any() and self.side_queries is not None:
            # users of the users table that training never saw: their side columns, as evaluation joins them
            table = _fill_from(table, self.side_queries, side, self.query_column)
        cold = unknown & undescribed_rows(table, self.preprocessor, self.query_features, self.query_column,
                                          self.history_column) if unknown.any() else unknown
        context = context_columns(self.known_queries, self.preprocessor, self.query_features)
        before = {c: lacking_rows(table, [c]) for c in context}
        table = self._complete_known_rows(table, pos)
        warn_context_fill({c: m for c, m in before.items() if m.any()}, table, pos, cold, self.preprocessor)
        self._warn_unused_columns(given)
        self._warn_missing_columns(table, given, cold)
        return QueryRows(table, pos, side, cold)

    def _warn_unused_columns(self, given: set[str]) -> None:
        """Query rows with a column the model does not read (a typo such as ``agee``) get a
        warning: the row would otherwise be answered as if the value had not been given. The
        one check of every verb (recommend, score, rank); rows that lack a column the model
        reads are told of by :meth:`_warn_missing_columns`."""
        warn_unused_columns(given, self.preprocessor, self.query_features, "query rows", [self.query_column])

    def _warn_missing_columns(self, table: pd.DataFrame, given: set[str], cold: np.ndarray) -> None:
        """Rows that go through the model lacking a column it reads, which the request did not
        give and no stored row (a known user's, a users-table row) filled: their fill or OOV
        row stands in for it, which the caller should know."""
        schema = self.preprocessor.schema
        read = set(schema.columns_of(self.query_features)) - {self.query_column, self.history_column}
        absent = sorted(c for c in map(str, read) if c not in given)
        if not absent:
            return
        count = int((lacking_rows(table, absent) & ~cold).sum())
        if count:
            logger.warning("query rows: %d of %d rows lack columns %s, which the model reads, and no stored row of "
                           "their user gives them; those features count as missing (their fill or OOV row)",
                           count, len(table), absent)

    def has_features(self, ids: list[Any], columns: Sequence[str] = ()) -> np.ndarray:
        """``(n,)`` bool: IDs with stored query features: seen in training, or rows of the
        users tables (``data.join`` on the user column) that training never saw, when those
        rows hold ``columns`` (a training row holds every query column)."""
        known, side = self.stored.lookup(ids, "ids")
        found = known >= 0
        if self.side_queries is not None and set(columns) <= set(map(str, self.side_queries.columns)):
            held = side >= 0
            if columns and held.any():  # a user missing from one of the users tables lacks its columns
                cells = self.side_queries[list(columns)].iloc[side[held]].notna().all(axis=1).to_numpy()
                held[np.flatnonzero(held)[~cells]] = False
            found |= held
        return found

    def _complete_known_rows(self, table: pd.DataFrame, pos: np.ndarray) -> pd.DataFrame:
        """Known users' absent or missing query cells taken from their stored training row.

        A row like ``{"user_id": 42}`` (or the bare ID 42) means user 42 as trained, not user
        42 with an empty history; unknown users' cells stay missing (defaults apply later).
        """
        if self.known_queries is None:
            return table
        return _fill_from(table, self.known_queries, pos, self.query_column)

    def stored_ids(self, ids: Any) -> list[Any]:
        """Each raw query ID as the training table spelled it (``"42"`` → ``42`` for an integer
        column); an unknown ID as given, or as an integer when the column holds integers and it
        is one written as text (``"517"`` → ``517``): for callers whose IDs arrive as text, like
        the CLI."""
        given = id_list(ids, "ids", check=False)
        pos = self.known_positions(given)  # checks the IDs
        if self.known_queries is None:
            return given
        out = np.empty(len(given), dtype=object)
        out[:] = given  # element by element: the checked IDs are scalars
        known = pos >= 0
        out[known] = self.stored.known_spellings()[pos[known]]  # plain Python, as JSON writes them
        rest = np.flatnonzero(~known)
        if rest.size:
            integers = pd.api.types.is_integer_dtype(self.known_queries[self.query_column].dtype)
            out[rest] = _unknown_spellings(pd.Series(out[rest], dtype=object), integers)
        return out.tolist()

    def known_positions(self, ids: list[Any]) -> np.ndarray:
        """``(n,)`` each ID's row among the known users, ``-1`` where training never saw it."""
        return self.stored.lookup(ids, "ids")[0]

    def fill_missing(self, table: pd.DataFrame) -> pd.DataFrame:
        """Adds absent query columns as missing cells, so unseen users still get an answer."""
        return fill_missing(table, self.preprocessor, self.query_features)

    def embed(self, table: pd.DataFrame, rows: np.ndarray | None = None) -> torch.Tensor:
        """Query vectors, preprocessed and embedded in chunks (bounded memory for big requests);
        ``rows``: each row's position in the request, for errors (default: its own)."""
        return embed_rows(table, self.preprocessor, self.query_features, self.model.query_embedding, rows=rows)

    def average(self) -> torch.Tensor:
        """``(1, d)`` mean query vector of the users seen in training (cold-start queries).

        Computed once, in chunks of known users, then cached.
        """
        if self._average is None:
            known = self.known_queries
            if known is None or not self.stores_known_users:
                raise ConfigError(
                    "cold_start='average' needs the known users, which this model does not store; "
                    "pass cold_start='oov' or give the query rows with their features"
                )
            total = torch.zeros(())
            for start in range(0, len(known), AVERAGE_CHUNK):
                chunk = known.iloc[start : start + AVERAGE_CHUNK].reset_index(drop=True)
                total = total + self.embed(self.fill_missing(chunk)).sum(0, dtype=torch.float64)
            self._average = (total / len(known)).float().unsqueeze(0)
        return self._average

    @property
    def stores_known_users(self) -> bool:
        """Whether the model keeps its training users' query rows (needed by ``cold_start="average"``)."""
        return self.known_queries is not None and len(self.known_queries) > 0

    def encode(self, queries: QueryInput, cold_start: str, per_query: tuple[int, str] | None = None,
               *, tell_cold: bool = True) -> tuple[QueryRows, torch.Tensor]:
        """Query rows (:meth:`table`) and their vectors, cold rows per ``cold_start``.
        ``per_query``: result rows per query and what sets them, checked against
        ``MAX_RESULT_ROWS`` before any query is embedded. ``tell_cold``: one warning naming the
        cold rows (off for callers that report them themselves, as an evaluation does)."""
        if cold_start not in COLD_START:
            raise ConfigError(f"cold_start must be one of {list(COLD_START)}, got {cold_start!r}")
        rows = self.table(queries)
        table, cold = rows.table, rows.cold
        if per_query is not None:
            check_result_size(len(table), *per_query)
        average = cold_start == "average" and bool(cold.any())
        if average and not self.stores_known_users:
            logger.warning(
                "%d cold-start queries answered through the OOV embedding: this model stores no known "
                "users to average (cold_start='average' needs them)", int(cold.sum()),
            )
            average = False
        elif tell_cold and cold.any():
            self._warn_cold(rows, average)
        if not average:
            return rows, self.embed(self.fill_missing(table))
        # cold rows never reach the model, so they need no feature values or defaults
        warm = np.flatnonzero(~cold)
        avg = self.average()
        q = avg.expand(len(table), -1).clone()
        if warm.size:
            q[torch.as_tensor(warm)] = self.embed(self.fill_missing(table.iloc[warm].reset_index(drop=True)), warm)
        return rows, q

    def _warn_cold(self, rows: QueryRows, average: bool) -> None:
        """One warning per request with cold rows: how many, the first IDs, how they were
        answered and how to tell them apart (an unknown user is answered silently otherwise)."""
        first = np.flatnonzero(rows.cold)[: COLD_NAMED + 1]  # named ones, and whether more follow
        ids = (self.stored.echo(rows.table[self.query_column].iloc[first], rows.known[first], rows.side[first]).tolist()
               if self.query_column in rows.table.columns else [])
        named = ", ".join(map(str, ids[:COLD_NAMED])) + (", ..." if len(ids) > COLD_NAMED else "")
        where = " nor in the users table" if self.side_queries is not None else ""
        how = ("as the average known user (cold_start='average'; 'oov' answers them through the model's OOV rows)"
               if average else "through the OOV embedding (cold_start='oov')")
        logger.warning("%d of %d queries are cold starts (%s%s: not seen in training%s, no query features given): "
                       "answered %s; Recommender.is_known and has_features tell such IDs apart",
                       int(rows.cold.sum()), len(rows.table), self.query_column, f" {named}" if named else "",
                       where, how)

    def labels(self, rows: QueryRows) -> dict[str, np.ndarray]:
        """Output columns naming each query: its ID (:meth:`StoredIds.echo`); when a row has none,
        every row also gets its position in the request (``query_row``), and the ID stays
        empty, never made up."""
        table = rows.table
        if self.query_column not in table.columns:
            return {self.query_column: np.full(len(table), None, dtype=object), "query_row": np.arange(len(table))}
        ids = table[self.query_column]
        labels = {self.query_column: self.stored.echo(ids, rows.known, rows.side)}  # 1.0 of a float column as 1
        if ids.isna().any():
            labels["query_row"] = np.arange(len(table))
        return labels


def _fill_from(table: pd.DataFrame, stored: pd.DataFrame, pos: np.ndarray, id_column: str) -> pd.DataFrame:
    """``table``'s absent or missing cells of ``stored``'s columns taken from row ``pos[i]`` of
    ``stored`` (``-1``: none), for each row ``i``; the cells a row gives are kept."""
    rows = np.flatnonzero(pos >= 0)
    if rows.size == 0:
        return table
    picked = stored.iloc[pos[rows]]
    for col in picked.columns:
        if col == id_column:
            continue
        given = col in table.columns
        cells = table[col].to_numpy(dtype=object).copy() if given else np.full(len(table), None, dtype=object)
        take = table[col].isna().to_numpy()[rows] if given else np.ones(rows.size, dtype=bool)
        if take.any():
            cells[rows[take]] = picked[col].to_numpy(dtype=object)[take]  # a list cell is given
            table[col] = pd.Series(cells, dtype=object, index=table.index)
    return table


def warn_unused_columns(given: set[str], preprocessor: Preprocessor, features: Sequence[str], what: str,
                        also: Sequence[str] = ()) -> None:
    """Request rows with a column the model's ``features`` (or ``also``) do not read (a typo such
    as ``agee``) get one warning: the row would otherwise be answered as if it lacked the value."""
    schema = preprocessor.schema
    read = set(also) | set(schema.columns_of(features))
    unused = sorted(given - set(map(str, read)))
    if unused:
        logger.warning("%s: columns %s are not read by the model and are ignored; it reads %s",
                       what, unused, sorted(map(str, read)))


def fill_missing(table: pd.DataFrame, preprocessor: Preprocessor, features: Sequence[str]) -> pd.DataFrame:
    """Adds the absent source columns of ``features`` as missing cells (query or candidate rows)."""
    schema = preprocessor.schema
    for col in schema.columns_of(features):
        if col not in table.columns:  # missing cells: the preprocessor applies data.defaults (a list
            # default of a multi_hot column is one row's labels, not one label per row), else an
            # empty history or set, else the feature's own fill (or OOV), else its error names it
            table[col] = pd.Series([None] * len(table), dtype=object, index=table.index)
    return table


def _unknown_spellings(ids: pd.Series, integers: bool) -> np.ndarray:
    """Unknown IDs as :meth:`QueryEncoder.stored_ids` answers them: integer text (``"517"``, as
    canonical keys write integers) as an int when the stored column holds integers, NumPy
    scalars as Python values, the rest as given; Python only for the distinct types and the
    cells converted."""
    types = ids.map(type)
    kinds = pd.unique(types)
    out = ids.to_numpy(dtype=object).copy()
    generic = types.isin([t for t in kinds if issubclass(t, np.generic)]).to_numpy()
    if generic.any():
        out[generic] = [v.item() for v in out[generic]]
    if integers:
        text = np.flatnonzero(types.isin([t for t in kinds if issubclass(t, str)]).to_numpy())
        if text.size:
            whole = text[ids.iloc[text].astype(str).str.fullmatch(_INT.pattern).to_numpy(dtype=bool)]
            out[whole] = [int(v) for v in out[whole]]  # exact at any size, as int() is
    return out


def embed_rows(table: pd.DataFrame, preprocessor: Preprocessor, features: Sequence[str],
               tower: Callable[[Mapping[str, torch.Tensor]], torch.Tensor], *,
               rows: np.ndarray | None = None) -> torch.Tensor:
    """``tower``'s vectors of raw rows, preprocessed (``features``) and embedded ``AVERAGE_CHUNK``
    rows at a time (bounded memory for big requests). A missing value the model has no fill for
    is an error naming the request's row (``rows``: each row's position there, default its own)
    and the fix a trained model takes (:func:`~recstack.artifacts.fill_errors.untrained_fill`).
    Numeric values far outside their training range get one warning per call
    (:func:`~recstack.artifacts.ranges.warn_far_values`)."""
    warn_far_values(table, preprocessor, features)  # once per call, on the whole request
    parts = []
    for start in range(0, len(table), AVERAGE_CHUNK):
        chunk = table.iloc[start : start + AVERAGE_CHUNK]
        try:
            feats = preprocessor.transform(chunk, features=list(features))
        except MissingValueError as err:
            raise untrained_fill(err, table, start, rows) from None
        with torch.no_grad():
            parts.append(tower(feats))
    return torch.cat(parts) if len(parts) != 1 else parts[0]

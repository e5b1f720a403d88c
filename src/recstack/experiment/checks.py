"""Checks of an experiment's config against its data, with errors that say where columns come from.

Kept apart from :class:`~recstack.experiment.retrieval.RetrievalExperiment`, which runs the
experiment: these read the schema, the config and the tables, and either pass or explain.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import torch

from recstack.artifacts.timeline import check_time_column
from recstack.config.experiment import ExperimentConfig
from recstack.errors import ConfigError, SchemaError
from recstack.experiment.tables import SideTable, Tables
from recstack.features import Schema
from recstack.preprocessing._cells import canonical_keys
from recstack.preprocessing.keys import key_codes

__all__ = ["ExperimentChecks", "varying_query_columns"]

log = logging.getLogger(__name__)


class ExperimentChecks:
    """The checks :class:`~recstack.experiment.retrieval.RetrievalExperiment` runs on its config
    and data (a component of it, with the inputs named here).

    Args:
        config: the experiment config.
        schema: its feature schema.
        tables: the tables read for it (training data, join tables, items).
        query_features / candidate_features: the model's feature lists.
        candidate_key: the feature that identifies a candidate.
    """

    def __init__(self, *, config: ExperimentConfig, schema: Schema, tables: Tables, query_features: list[str],
                 candidate_features: list[str], candidate_key: str) -> None:
        self.config = config
        self.schema = schema
        self.tables = tables
        self.query_features = query_features
        self.candidate_features = candidate_features
        self.candidate_key = candidate_key
        self._varying: tuple[pd.DataFrame, dict[str, tuple[str, int, int]]] | None = None

    def columns(self, table: pd.DataFrame, features: list[str], where: str) -> None:
        """``table`` has the column of every feature in ``features``, or an error says where such columns come from."""
        missing = [(f, c) for f in features for c in self.schema[f].source_columns if c not in table.columns]
        if missing:
            raise SchemaError(
                f"{where} lacks columns for features {', '.join(f'{f} (column {c!r})' for f, c in missing)}; "
                f"available columns: {sorted(map(str, table.columns))}. {self.column_hint([c for _, c in missing])}"
            )

    def column_hint(self, columns: list[str]) -> str:
        """Where missing feature columns come from: data.history builds the history column,
        side columns are joined from data.join tables."""
        hist = self.config.data.history
        sequences = {self.schema[f].source_column for f in self.schema.names if self.schema[f].type == "sequence"}
        if hist is None and any(c in sequences for c in columns):
            c = next(c for c in columns if c in sequences)
            return (f"A history column is built from each user's other rows by data.history, which is not set: add "
                    f"data.history: {{column: {c}, max_length: 50}} (or give {c!r} in the data)")
        joins = self.tables.joins
        if not joins:
            return "Side columns (user or item attributes) come from tables joined with data.join; none is set"
        listed = "; ".join(f"{n} (on {s.key}): {sorted(map(str, s.table.columns))}" for n, s in joins.items())
        return f"Side columns come from the data.join tables, none of which has them: {listed}"

    def unmatched_join_hint(self, message: str, train: pd.DataFrame) -> str:
        """Which joins left rows of ``train`` (the training table as read) without the side
        columns ``message`` names."""
        read = set(self.schema.columns_of(self.query_features + self.candidate_features))
        notes = []
        for name, side in self.tables.joins.items():
            cols = sorted(c for c in map(str, side.table.columns)
                          if c in read and c != side.key and repr(c) in message)
            if not cols or side.key not in train.columns:
                continue
            keys = canonical_keys(train[side.key], column=side.key)
            side_keys = pd.Index(canonical_keys(side.table[side.key], column=side.key))
            lost = pd.notna(keys) & (side_keys.get_indexer(keys) < 0)
            if lost.any():
                notes.append(f"{int(lost.sum())} training rows have {side.key} values that the {name} table "
                             f"(data.join.{name}) lacks, so their {cols} are empty")
        if not notes:
            return ""
        return "; " + "; ".join(notes) + (": add those rows to the side table, or give the features a fill "
                                          "(or data.defaults)")

    def history_hint(self, message: str) -> str:
        """For a history column with a vocabulary of its own that fitting found empty (most
        users have one training row): the fix is sharing the item feature's vocabulary."""
        hist = self.config.data.history
        if hist is None or f"column {hist.column!r} has no values to learn a vocabulary" not in message:
            return ""
        item = next((f for f in self.candidate_features if self.schema[f].source_column == self.config.data.item_column),
                    self.candidate_key)
        feats = [f.name for f in self.schema if f.source_column == hist.column]
        name = feats[0] if feats else hist.column
        return (f"; {hist.column!r} is built by data.history from each user's other training rows, so it is empty "
                f"when users have one row each: share the items' vocabulary instead (features.{name}.source: "
                f"{item}), which also lets a served history use every known item")

    def query_columns(self, train: pd.DataFrame) -> None:
        """No query feature reads a column that describes the candidate and that only the data
        shows: the item column (when the data has it), or the key or a column of a side table
        joined on the candidate (``data.join.items``), which holds the positive item's value in
        every row; training metrics would look perfect, serving not. A candidate feature's own
        column is refused by the config (``model.query``), which needs no data for it."""
        data = self.config.data
        candidate_columns = set(self.schema.columns_of(self.candidate_features))
        item_side = set(candidate_columns)
        if data.item_column in train.columns:
            item_side.add(data.item_column)
        joins = dict(self.tables.joins)
        key_col = self.schema[self.candidate_key].source_column
        if not joins and self.tables.items is not None and key_col in self.tables.items.columns:
            joins["items"] = SideTable(self.tables.items, key_col)
        source: dict[str, str] = {}  # column -> the candidate-side join that brings it
        keyed: dict[str, str] = {}  # key column -> the candidate-side join keyed on it
        done: set[str] = set()  # candidate-side joins taken in (one that brings no column, too)
        grew = True
        while grew:  # a join keyed on a candidate-side column describes the candidate; so do its columns
            grew = False
            for name, side in joins.items():
                cols = {side.key, *map(str, side.table.columns)}
                if name not in done and (side.key in item_side or (cols - {side.key}) & item_side):
                    done.add(name)
                    source.update({c: name for c in cols if c not in source and c != side.key})
                    keyed.setdefault(side.key, name)
                    item_side |= cols
                    grew = True
        for f, col in ((f, c) for f in self.query_features for c in self.schema[f].source_columns):
            if col in source:
                raise ConfigError(
                    f"model.query: feature {f!r} reads column {col!r} of the {source[col]} table (data.join."
                    f"{source[col]}), joined on the candidate: every training row would see its own positive's "
                    f"{col}, which tells the model the answer; move {f!r} to model.candidate (a user's taste for "
                    "it shows in their history)"
                )
            if col in item_side and col not in candidate_columns:
                role = f"the key of data.join.{keyed[col]}, joined on the candidate" if col in keyed else (
                    "data.item_column")
                raise ConfigError(
                    f"model.query: feature {f!r} reads column {col!r}, the candidate of each row ({role}): it "
                    "tells the model the answer; remove it from model.query"
                )
        self.per_interaction_columns(train)

    def per_interaction_columns(self, train: pd.DataFrame) -> None:
        """Warns about a query feature whose column differs between a user's rows (a rating, the
        row's own timestamp): it describes the interaction, not the user. Each training row sees
        its own value, which may tell the model about its positive, while a saved model answers a
        known user with their latest row's value. A user attribute (a users-table column, or one
        value repeated on each of the user's rows) is never flagged; request context (e.g. the
        device, given with each query) is legitimate, hence a warning, not an error, and none for
        a feature declared ``context: true``."""
        for f, (col, count, users) in self.varying_columns(train).items():
            if self.schema[f].context:
                continue
            log.warning(
                "model.query: feature %r reads column %r, which differs between a user's rows (%d of %d users): "
                "it describes each interaction, not the user. Training rows see their own row's value (a rating "
                "or the row's time tells the model about the positive it is scored on), and a saved model "
                "answers a known user with their latest row's value. If it is request context given with "
                "each query at serving time (e.g. the time of the request), declare it: features.%s.context: "
                "true; else remove %r from model.query (user attributes come from a users table, data.join)",
                f, col, count, users, f, f)

    def varying_columns(self, train: pd.DataFrame) -> dict[str, tuple[str, int, int]]:
        """:func:`varying_query_columns` of the training table ``train``, kept for that table (the
        same object): the start-up warning and the stored query rows' ``per_interaction`` read one
        scan of it; another table is scanned afresh (and then kept instead)."""
        if self._varying is None or self._varying[0] is not train:
            hist = self.config.data.history
            self._varying = (train, varying_query_columns(train, self.schema, self.query_features,
                                                          self.config.data.user_column,
                                                          None if hist is None else hist.column))
        return self._varying[1]

    def history_vocabulary(self) -> None:
        """A history that shares another feature's vocabulary must hold that feature's values.

        The history lists ``data.item_column`` values; looked up in the vocabulary of a
        feature of another column, every element would be OOV and every user's query the same.
        """
        data = self.config.data
        assert data.history is not None
        names = set(self.schema.names)
        for spec in self.schema:
            shared = getattr(spec, "source", None)
            if spec.source_column != data.history.column or not shared or shared not in names:
                continue
            name = spec.name
            column = self.schema[shared].source_column
            if column != data.item_column:
                raise ConfigError(
                    f"features.{name}.source: {shared!r} reads column {column!r}, but data.history lists values "
                    f"of data.item_column {data.item_column!r}, so every history item would be OOV; set "
                    f"data.item_column: {column} (or drop features.{name}.source for a vocabulary of its own)"
                )

    def positives_in_catalogue(self, rows: torch.Tensor, items: pd.Series, catalogue_size: int) -> None:
        """``task.candidates: catalogue`` scores each training row's item among the catalogue's:
        an item the catalogue lacks (an items table without it) has no column to score, so all such
        rows are counted and named before training."""
        outside = (rows >= catalogue_size).numpy()
        if outside.any():
            sample = sorted(set(items[outside].tolist()), key=str)[:5]
            raise ConfigError(
                f"task.candidates: catalogue: {int(outside.sum())} of {len(rows)} training rows have "
                f"{items.name} values the catalogue lacks (e.g. {sample}): the catalogue is data.join.items when it has "
                "every candidate column; add those items to the items table, or use task.candidates: in_batch")

    def timeline(self, train: pd.DataFrame, key_column: str) -> None:
        """``data.history.eval_history: before`` saves each user's training items (as catalogue
        rows of the candidate key) with their times: the history must list the candidate key's
        values, and the times must be storable; checked before training, not at save."""
        data = self.config.data
        assert data.history is not None and data.time_column is not None
        if data.item_column != key_column:
            raise ConfigError(f"data.history.eval_history: before saves each user's training items as candidates, "
                              f"but data.item_column {data.item_column!r} is not the candidate key's column "
                              f"{key_column!r}; set data.item_column: {key_column}, or eval_history: profile")
        check_time_column(train[data.time_column], data.time_column)


def varying_query_columns(train: pd.DataFrame, schema: Schema, query_features: list[str], user: str,
                          history_column: str | None) -> dict[str, tuple[str, int, int]]:
    """``{feature: (column, users whose rows differ in it, users)}`` for each categorical or
    numeric query feature whose column takes more than one value among some user's rows of
    ``train`` (per-interaction values: a rating, the row's time); one ``factorize`` and one
    ``unique`` per column. The user column, the history and list cells are never counted."""
    users = key_codes(train[user], column=user)[0]
    out: dict[str, tuple[str, int, int]] = {}
    for f in query_features:
        spec = schema[f]
        col = spec.source_column
        if spec.type not in ("categorical", "numeric") or col == user or col not in train.columns or (
                col == history_column):
            continue
        try:
            values = pd.factorize(train[col], use_na_sentinel=True)[0]
        except TypeError:  # unhashable cells (lists): not a scalar per row
            continue
        ok = (values >= 0) & (users >= 0)
        span = int(values.max()) + 1 if ok.any() else 1
        pairs = np.unique(users[ok] * span + values[ok])  # distinct (user, value) pairs
        per_user = np.bincount(pairs // span)
        varying = int((per_user > 1).sum())
        if varying:
            out[f] = (col, varying, int((per_user > 0).sum()))
    return out

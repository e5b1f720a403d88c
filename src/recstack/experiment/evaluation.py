"""Evaluation of a retrieval experiment on a table: raw rows made like the test split
(filtered, joined, given their history) and the full-catalogue evaluator over them, with the
seen-item lists and cold rows it needs. ``RetrievalExperiment.prepare``/``evaluator`` call these."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch

from recstack.artifacts.recommender import undescribed_rows
from recstack.errors import SchemaError
from recstack.experiment.cold_start import warm_query_features
from recstack.experiment.eval_history import earlier_items, evaluation_histories
from recstack.experiment.export import seen_lists
from recstack.experiment.filtering import filter_evaluation_rows
from recstack.experiment.tables import join_side_tables
from recstack.metrics import ExclusionLists
from recstack.metrics.exclusion import concat_rows
from recstack.preprocessing.keys import key_codes, require_ids, require_items
from recstack.tasks.retrieval_eval import RetrievalEvaluator, warn_outside_catalogue

if TYPE_CHECKING:
    from recstack.experiment.retrieval import RetrievalExperiment

__all__ = ["build_evaluator", "prepare_rows"]

log = logging.getLogger(__name__)


def prepare_rows(exp: RetrievalExperiment, table: pd.DataFrame) -> pd.DataFrame:
    """Raw interaction rows (e.g. a test file) made like the test split: the side columns
    the model reads joined from the ``data.join`` tables, and the history column built
    from the training data (``data.history``); ``data.filter.rows`` first. Columns it has are kept."""
    if table is exp.val_table or table is exp.test_table:
        return table
    table = filter_evaluation_rows(table, exp.config.data.filter.rows, joins=exp.tables.joins)
    user = exp.config.data.user_column
    key_col = exp.schema[exp.candidate_key].source_column
    needed = [user, key_col] + exp.schema.columns_of(exp.query_features)
    table = join_side_tables(table.reset_index(drop=True), exp.tables.joins, needed, where="the evaluation data")
    hist = exp.config.data.history
    if hist is not None and hist.column in needed and hist.column not in table.columns and user in table.columns:
        table = evaluation_histories(exp.config.data, table, exp.full_train, where="the evaluation data")
    return table

def build_evaluator(exp: RetrievalExperiment, table: pd.DataFrame, *, exclude_seen: bool | None = None
                    ) -> RetrievalEvaluator:
    """A full-catalogue evaluator over the rows of ``table`` (raw rows go through :func:`prepare_rows` first)."""
    ev = exp.config.eval
    exclude_seen = ev.exclude_seen if exclude_seen is None else exclude_seen
    # validation rows: only the fitted part was seen; any other table: all of train
    seen_train = exp.fit_table if table is exp.val_table else exp.full_train
    raw = table is not exp.val_table and table is not exp.test_table  # those were checked in _prepare
    hist = exp.config.data.history  # a history cell the table gives may hold items seen_train lacks
    given_history = raw and hist is not None and hist.column in table.columns
    table = prepare_rows(exp, table)
    exp.checks.columns(table, exp.query_features, "evaluation data")
    key_col = exp.schema[exp.candidate_key].source_column
    user = exp.config.data.user_column
    if key_col not in table.columns or user not in table.columns:
        raise SchemaError(f"evaluation data needs columns {user!r} and {key_col!r}; it has "
                          f"{sorted(map(str, table.columns))}. {exp.checks.column_hint([key_col])}")
    if raw:  # as evaluate_recommender does: a row without an item is an error, not a miss
        require_items(table, key_col, "evaluation data")
    positives = torch.as_tensor(exp.catalogue.rows_of(table[key_col]), dtype=torch.long)
    where = "validation data" if table is exp.val_table else "evaluation data"
    warn_outside_catalogue(int((positives < 0).sum()), len(table), key_col, where)
    seen_codes, table_codes = key_codes(seen_train[user], table[user], column=user)
    groups = require_ids(table_codes, user)
    exclude = (_seen_lists(exp, table, seen_train, key_col, given_history, (seen_codes, table_codes))
               if exclude_seen else None)
    cold, known = None, None
    unknown = ~np.isin(table_codes, seen_codes)
    cold_rows = _cold_rows(exp, table, unknown)
    if unknown.any():  # as recstack evaluate says it: much of such a split's metric may be the cold answer
        log.warning("%s: %d of %d rows have %s values not seen in training; %d of them give no other query "
                    "feature and are scored as cold starts (eval.cold_start: %s)", where, int(unknown.sum()),
                    len(table), user, int(cold_rows.sum()), ev.cold_start)
    if ev.cold_start == "average":
        cold = torch.as_tensor(cold_rows)
        known_rows = exp.known_queries(seen_train) if bool(cold.any()) else None
        if known_rows is None or len(known_rows) == 0:
            cold = None  # nothing cold, or no known user to average (every ID missing)
        else:
            known = exp.preprocessor.transform(known_rows, features=exp.query_features)
    qfeats = warm_query_features(exp.preprocessor, exp.query_features, table, cold, known)
    return RetrievalEvaluator(
        qfeats, positives, exp.catalogue.features,
        metrics=ev.metrics, groups=groups, exclude=exclude, chunk_size=ev.chunk_size, ties=ev.ties,
        cold=cold, known_features=known,
    )

def _seen_lists(exp: RetrievalExperiment, table: pd.DataFrame, seen_train: pd.DataFrame, key_col: str,
                given: bool, codes: tuple[np.ndarray, np.ndarray]) -> ExclusionLists:
    """:func:`~recstack.experiment.export.seen_lists` of ``table``: for all training data, the stored
    users' CSR; else (validation) one built from ``codes``, the user codes of ``seen_train`` and
    ``table`` the evaluator has; a history cell's items only where the table gave the cell
    (``given``: one built from ``seen_train``'s item column holds none its user's list lacks)."""
    data, hist = exp.config.data, exp.config.data.history
    if hist is not None and hist.eval_history == "before":
        return _earlier_lists(exp, table, seen_train, given, codes[1])
    full = seen_train is exp.full_train
    stored = (exp._known_rows()[data.user_column], exp.stored_users().seen) if full else None
    cells = table[hist.column] if hist is not None and hist.column in table.columns else None
    own = cells is not None and (given or data.item_column != key_col)
    history = exp.catalogue.history_rows(cells, exp.schema, exp.query_features) if own else None
    return seen_lists(table[data.user_column], seen_train, data.user_column, key_col, exp.catalogue,
                      stored=stored, codes=codes, history=history)

def _earlier_lists(exp: RetrievalExperiment, table: pd.DataFrame, seen_train: pd.DataFrame, given: bool,
                   row_codes: np.ndarray) -> ExclusionLists:
    """Seen lists as of each row (``eval_history: before``): its user's ``seen_train`` items
    strictly earlier than the row, and the items of a history cell the table gave. One list per
    row (each a prefix of its user's items, so their sizes add up over a user's rows)."""
    hist = exp.config.data.history
    assert hist is not None
    earlier = earlier_items(exp.config.data, table, seen_train, where="the evaluation data")
    offsets, items = exp.catalogue.history_rows(earlier, exp.schema, exp.query_features)
    if given:  # a given history may hold items seen_train lacks (a repeat is dropped by ExclusionLists)
        offsets, items = concat_rows([(offsets, items), exp.catalogue.history_rows(table[hist.column], exp.schema,
                                                                                     exp.query_features)])
    return ExclusionLists(per_group=None, row_groups=torch.as_tensor(row_codes, dtype=torch.long),
                          per_row=(offsets, items))


def _cold_rows(exp: RetrievalExperiment, table: pd.DataFrame, unknown: np.ndarray) -> np.ndarray:
    """Rows of unknown users that no query feature describes: the user ID and the history
    (empty for them) carry nothing, so such a row is cold unless another query column,
    e.g. age, has a value (the rule of :meth:`Recommender.recommend`, shared)."""
    if not unknown.any():
        return unknown
    hist = exp.config.data.history
    return unknown & undescribed_rows(table, exp.preprocessor, exp.query_features, exp.config.data.user_column,
                                      None if hist is None else hist.column)

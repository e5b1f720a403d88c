"""Applies ``data.filter`` to an experiment's interaction tables (the filters themselves are in
:mod:`recstack.data.filters`): the row conditions to every interactions table as read, before
``data.split``; the k-core to the training rows after it (the test rows keep their users and
items, which may then be unseen: cold start and outside-catalogue rules apply to them).

A condition may read a column of a ``data.join`` table (a user's ``age``, an item's genre): it is
checked once per row of that table, and each interaction row takes the result of its key's row,
as the left join will give it the cell (a key the table lacks: an empty cell). So the row
conditions still run before the split, without joining every column onto every row first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from recstack.config.data import DataConfig
from recstack.config.filter import RowCondition
from recstack.data.filters import Condition, k_core, keep_rows, row_filter_masks, unknown_column

if TYPE_CHECKING:  # tables.py calls this module while it loads
    from recstack.experiment.tables import SideTable, Tables

__all__ = ["DATASET_DTYPE_HINT", "EVALUATION_DTYPE_HINT", "EVALUATION_HINT", "filter_evaluation_rows", "filter_rows",
           "filtered_tables", "join_bringing", "joined_row_filter", "training_core"]


EVALUATION_HINT = ("the model's test rows were filtered by it: give the evaluation rows with that column, or keep "
                   "every row with recstack evaluate --no-filter, evaluate_recommender(..., filter_rows=False)")

EVALUATION_DTYPE_HINT = "recstack evaluate --dtype {column}=float, or read_table(..., dtype={{{column!r}: 'float'}})"
TEST_DTYPE_HINT = "data.test.dtype: {{{column}: float}}"
# data.dataset takes no data.train/data.test, so no dtype key applies: say where the type comes from
DATASET_DTYPE_HINT = ("the dataset gives {column} its type, and data.dataset takes no dtype; to change it, write the "
                      "dataset's rows to a file and read that as data.train with dtype: {{{column}: float}}")


def _join_dtype_hint(name: str) -> str:
    """How to read a column of join ``name`` as numbers, with ``{column}`` (as ``DTYPE_HINT``)."""
    return "data.join." + name.replace("{", "{{").replace("}", "}}") + ".dtype: {{{column}: float}}"


def join_bringing(column: str, joins: Mapping[str, SideTable], before: str | None = None) -> str | None:
    """The first join (in order, up to ``before``) whose table brings ``column`` (not its key)."""
    for name, side in joins.items():
        if name == before:
            return None
        if column != side.key and column in side.table.columns:
            return name
    return None


def _side_rows(table: pd.DataFrame, joins: Mapping[str, SideTable], name: str, where: str,
               found: dict[str, tuple[pd.DataFrame, np.ndarray]]) -> tuple[pd.DataFrame, np.ndarray]:
    """Join ``name``'s joinable rows and, per row of ``table``, its row there (``-1``: none); a key
    an earlier join brings (an item's studio) is followed through that join's table."""
    from recstack.experiment.tables import match_keys  # tables.py imports this module

    if name not in found:
        key = joins[name].key
        via = None if key in table.columns else join_bringing(key, joins, before=name)
        if via is None:  # the key is the table's own column (else match_keys names it missing)
            right, _, rows = match_keys(table, joins[name], name, where=where)
        else:
            earlier, at = _side_rows(table, joins, via, where, found)
            right, _, per = match_keys(earlier, joins[name], name, where=f"the {via} table (data.join.{via})")
            rows = np.where(at >= 0, per[np.maximum(at, 0)], -1)
        found[name] = (right.reset_index(drop=True), rows)
    return found[name]


def joined_row_filter(table: pd.DataFrame, rows: Mapping[str, Condition], joins: Mapping[str, SideTable], *,
                      where: str, missing_hint: str | None = None, dtype_hint: str | None = None) -> pd.DataFrame:
    """``table`` without the rows that fail a condition of ``rows`` (``data.filter.rows``), the
    conditions on columns ``table`` lacks read from the ``joins`` tables that bring them (see the
    module's docstring); one log line with what each rule drops.

    Raises:
        ConfigError: a column neither ``table`` nor a join has (naming ``data.filter.rows.<column>``
            and the columns of each), or what :func:`~recstack.data.filters.row_filter_masks` raises.
        SchemaError: a needed join's key cannot be matched (as the join itself would say).
        DataError: no row is kept.
    """
    if not rows:
        return table
    own = {c: cond for c, cond in rows.items() if c in table.columns}
    by_join: dict[str, dict[str, Condition]] = {}
    for column, cond in rows.items():
        if column in own:
            continue
        name = join_bringing(column, joins)
        if name is None:
            sources: dict[str, Iterable[Any]] = {"": table.columns}
            sources.update({f"data.join.{n}": [c for c in s.table.columns if c != s.key] for n, s in joins.items()})
            raise unknown_column(f"data.filter.rows.{column}", column, where, sources, missing_hint)
        by_join.setdefault(name, {})[column] = cond
    masks = row_filter_masks(table, own, where=where, dtype_hint=dtype_hint)
    found: dict[str, tuple[pd.DataFrame, np.ndarray]] = {}
    for name, conds in by_join.items():
        right, at = _side_rows(table, joins, name, where, found)
        cells = right[list(conds)]
        if (at < 0).any():  # rows without a match get an empty cell, as the left join gives them
            cells = cells.reindex(np.arange(len(right) + 1))
            at = np.where(at < 0, len(right), at)
        side_masks = row_filter_masks(cells, conds, where=f"the {name} table (data.join.{name})",
                                      dtype_hint=_join_dtype_hint(name))
        masks.update({c: m[at] for c, m in side_masks.items()})
    return keep_rows(table, {c: masks[c] for c in rows}, where=where)


def filter_rows(table: pd.DataFrame, cfg: DataConfig, where: str, *, dtype_hint: str | None = None,
                joins: Mapping[str, SideTable] | None = None) -> pd.DataFrame:
    """``table`` (interactions: ``where`` names it in logs and errors) without the rows that
    fail a condition of ``data.filter.rows``, reading the columns it lacks from the ``joins``
    tables that bring them; ``dtype_hint``: how to read a column as numbers (default:
    ``data.train.dtype``)."""
    return joined_row_filter(table, cfg.filter.rows, joins or {}, where=where, dtype_hint=dtype_hint)


def filter_evaluation_rows(table: pd.DataFrame, rows: dict[str, RowCondition],
                           joins: Mapping[str, SideTable] | None = None) -> pd.DataFrame:
    """Evaluation rows (``exp.evaluate``, ``recstack evaluate``) without those failing the model's
    row conditions ``rows``, a column the rows lack read from the ``joins`` tables (the model's
    ``data.join`` tables) when given; a missing column names ``--no-filter``."""
    return joined_row_filter(table, rows, joins or {}, where="the evaluation data", missing_hint=EVALUATION_HINT,
                             dtype_hint=EVALUATION_DTYPE_HINT)


def training_core(table: pd.DataFrame, cfg: DataConfig) -> pd.DataFrame:
    """The training rows reduced to the k-core of ``data.filter.min_user_rows``/``min_item_rows``
    (unchanged when both are 1)."""
    f = cfg.filter
    return k_core(table, cfg.user_column, cfg.item_column, min_user_rows=f.min_user_rows,
                  min_item_rows=f.min_item_rows, config_key="data.filter", where="the training rows",
                  columns_key={"user": "data.user_column", "item": "data.item_column"})


def filtered_tables(tables: Tables, cfg: DataConfig) -> Tables:
    """``tables`` with ``data.filter`` applied, unless :func:`~recstack.experiment.tables.load_tables`
    already did (``tables.filtered``); for tables given to an experiment instead of read."""
    if tables.filtered or not cfg.filter.active:
        return tables
    train = training_core(filter_rows(tables.train, cfg, "the training data", joins=tables.joins), cfg)
    test = None if tables.test is None else filter_rows(tables.test, cfg, "the test data", dtype_hint=TEST_DTYPE_HINT,
                                                        joins=tables.joins)
    return replace(tables, train=train, test=test, filtered=True)

"""Applies ``data.filter`` to an experiment's interaction tables (the filters themselves are in
:mod:`recstack.data.filters`): the row conditions to every interactions table as read, before
``data.split``; the k-core to the training rows after it (the test rows keep their users and
items, which may then be unseen: cold start and outside-catalogue rules apply to them)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import pandas as pd

from recstack.config.data import DataConfig
from recstack.config.filter import RowCondition
from recstack.data.filters import k_core, row_filter

if TYPE_CHECKING:  # tables.py calls this module while it loads
    from recstack.experiment.tables import Tables

__all__ = ["EVALUATION_DTYPE_HINT", "EVALUATION_HINT", "filter_evaluation_rows", "filter_rows", "filtered_tables",
           "training_core"]


EVALUATION_HINT = ("the model's test rows were filtered by it: give the evaluation rows with that column, or keep "
                   "every row with recstack evaluate --no-filter, evaluate_recommender(..., filter_rows=False)")

EVALUATION_DTYPE_HINT = "recstack evaluate --dtype {column}=float, or read_table(..., dtype={{{column!r}: 'float'}})"
TEST_DTYPE_HINT = "data.test.dtype: {{{column}: float}}"


def filter_rows(table: pd.DataFrame, cfg: DataConfig, where: str, *, dtype_hint: str | None = None) -> pd.DataFrame:
    """``table`` (interactions: ``where`` names it in logs and errors) without the rows that
    fail a condition of ``data.filter.rows``; ``dtype_hint``: how to read a column as numbers
    (default: ``data.train.dtype``)."""
    return row_filter(table, cfg.filter.rows, config_key="data.filter", where=where, dtype_hint=dtype_hint)


def filter_evaluation_rows(table: pd.DataFrame, rows: dict[str, RowCondition]) -> pd.DataFrame:
    """Evaluation rows (``exp.evaluate``, ``recstack evaluate``) without those failing the model's
    row conditions ``rows``; a missing column names ``--no-filter``."""
    return row_filter(table, rows, config_key="data.filter", where="the evaluation data",
                      missing_hint=EVALUATION_HINT, dtype_hint=EVALUATION_DTYPE_HINT)


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
    train = training_core(filter_rows(tables.train, cfg, "the training data"), cfg)
    test = None if tables.test is None else filter_rows(tables.test, cfg, "the test data", dtype_hint=TEST_DTYPE_HINT)
    return replace(tables, train=train, test=test, filtered=True)

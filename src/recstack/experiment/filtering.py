"""Applies ``data.filter`` to an experiment's interaction tables (the filters themselves are in
:mod:`recstack.data.filters`): the row conditions to every interactions table as read, before
``data.split``; the k-core to the training rows after it (the test rows keep their users and
items, which may then be unseen: cold start and outside-catalogue rules apply to them)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import pandas as pd

from recstack.config.data import DataConfig
from recstack.data.filters import k_core, row_filter

if TYPE_CHECKING:  # tables.py calls this module while it loads
    from recstack.experiment.tables import Tables

__all__ = ["EVALUATION_DTYPE_HINT", "EVALUATION_HINT", "filter_rows", "filtered_tables", "training_core"]


EVALUATION_HINT = ("the model's test rows were filtered by it: give the evaluation rows with that column, or keep "
                   "every row with recstack evaluate --no-filter, evaluate_recommender(..., filter_rows=False)")

EVALUATION_DTYPE_HINT = "recstack evaluate --dtype {column}=float, or read_table(..., dtype={{{column!r}: 'float'}})"
_TEST_DTYPE_HINT = "data.test.dtype: {{{column}: float}}"
_DTYPE_HINTS = {"data.test": _TEST_DTYPE_HINT, "the test data": _TEST_DTYPE_HINT,
                "the evaluation data": EVALUATION_DTYPE_HINT}


def filter_rows(table: pd.DataFrame, cfg: DataConfig, where: str) -> pd.DataFrame:
    """``table`` (interactions: ``where`` names it in logs and errors) without the rows that
    fail a condition of ``data.filter.rows``."""
    hint = EVALUATION_HINT if where == "the evaluation data" else None
    return row_filter(table, cfg.filter.rows, config_key="data.filter", where=where, missing_hint=hint,
                      dtype_hint=_DTYPE_HINTS.get(where))


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
    test = None if tables.test is None else filter_rows(tables.test, cfg, "the test data")
    return replace(tables, train=train, test=test, filtered=True)

"""The candidate catalogue of an experiment: every item once, with its raw attributes and features."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from recstack.artifacts.requests import history_exclusion
from recstack.experiment.tables import integer_ids
from recstack.features import Schema
from recstack.preprocessing import Preprocessor
from recstack.preprocessing._cells import check_labels
from recstack.preprocessing.keys import KeyIndex, key_codes, one_row_per_key

__all__ = ["Catalogue", "build_catalogue"]

log = logging.getLogger(__name__)


@dataclass
class Catalogue:
    """All candidates: raw IDs, raw attribute rows and their preprocessed features."""

    ids: list[Any]
    table: pd.DataFrame
    features: dict[str, torch.Tensor]
    index: KeyIndex  # raw ID (canonical key) -> row

    def rows_of(self, raw_ids: pd.Series) -> np.ndarray:
        """Catalogue row of each raw ID (``-1`` when absent)."""
        return self.index.positions(raw_ids)

    def item_rows(self, items: pd.Series) -> torch.Tensor:
        """``(N,)`` each raw item's catalogue row; items outside the catalogue get rows after it."""
        rows = self.rows_of(items)
        outside = rows < 0
        if outside.any():
            rows[outside] = len(self.ids) + key_codes(items[outside], column=str(items.name))[0]
        return torch.as_tensor(rows, dtype=torch.long)

    def history_rows(self, history: pd.Series, schema: Schema, query_features: list[str]) -> tuple[Tensor, Tensor]:
        """CSR of each row's history items in the catalogue (items outside it are left out): they
        are excluded as seen, as a saved model's ``exclude="seen"`` reads a history cell, so
        ``recstack evaluate`` reports what the experiment's evaluation reports."""
        return history_exclusion(history, schema, query_features,
                                 lambda flat: self.rows_of(pd.Series(flat, dtype=object)))


def build_catalogue(
    schema: Schema, candidate_features: list[str], candidate_key: str, *, items_table: pd.DataFrame | None,
    train: pd.DataFrame, preprocessor: Preprocessor,
) -> Catalogue:
    """One row per candidate key: from the items table when it has every candidate column, else
    from the training rows; IDs checked to be savable, keyless rows left out with a warning."""
    key_col = schema[candidate_key].source_column
    cols = schema.columns_of(candidate_features)
    if items_table is not None and all(c in items_table.columns for c in cols):
        table, where = items_table[cols], "the items table"
    else:
        table, where = pd.concat([train[cols]], ignore_index=True), "the training data"
    check_labels(table[key_col], column=key_col, where=f" in {where}")  # saved as JSON with the model
    keep = one_row_per_key(table[key_col], column=key_col)
    keyless = table[key_col].isna().to_numpy()
    if keyless.any():
        log.warning("catalogue: %d of %d rows of %s have no %s and are left out", int(keyless.sum()),
                    len(table), where, key_col)
    counted = where if where == "the items table" else f"{where} (rows counted after any data.split)"
    ids = integer_ids(table.loc[keep, key_col], where=counted)  # an empty ID cell made the IDs floats (514.0)
    table = table[keep].reset_index(drop=True)
    table[key_col] = ids.to_numpy()
    index = KeyIndex(table[key_col], column=key_col)
    features = preprocessor.transform(table, features=candidate_features)
    return Catalogue(table[key_col].tolist(), table, features, index)

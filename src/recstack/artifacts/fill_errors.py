"""A trained model's missing-value errors, told for serving: its fills were fixed at training.

Preprocessing says "set fill on the feature, or data.defaults" for a missing value of a
numeric feature without a fill; a saved model cannot take that fix without a retrain, so a
request is told to give the value, or to retrain with a fill.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recstack.errors import MissingValueError
from recstack.preprocessing._cells import such_rows

__all__ = ["untrained_fill"]


def untrained_fill(err: MissingValueError, table: pd.DataFrame, start: int = 0,
                   rows: np.ndarray | None = None) -> MissingValueError:
    """``err``, raised on the rows of ``table`` from ``start`` on (a chunk), reworded for a request.

    ``rows``: each row of ``table``'s position in the request, where they differ (a request's
    rows that reach the model); default: its own position. The error names the first such row
    of the request and how many rows of ``table`` lack the value.
    """
    column, feature = err.column, err.feature
    if column is None or feature is None:
        return err
    lacking = table[column].isna().to_numpy(dtype=bool) if column in table.columns else np.zeros(0, dtype=bool)
    if not lacking.any():  # the chunk's own rows, where the table does not show them
        lacking = np.zeros(len(table), dtype=bool)
        lacking[start + (err.rows if err.rows is not None else np.zeros(1, dtype=np.int64))] = True
    first = int(np.flatnonzero(lacking)[0])
    row = int(rows[first]) if rows is not None else first
    return err.reworded(
        f"feature {feature!r}: column {column!r}: row {row} of the rows given has no value (absent, NaN or None; "
        f"{such_rows(lacking)}), and this model was trained without a fill for it: pass {column!r} in every "
        f"row, or retrain with features.{feature}.fill (or data.defaults.{column})",
        rows=rows[lacking] if rows is not None else np.flatnonzero(lacking),
    )

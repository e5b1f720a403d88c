"""Indicator (0/1) columns read as one multi-hot set: a row's labels are its set flags' names.

MovieLens' ``u.item`` has one 0/1 column per genre (``Action``, ``Comedy``, ...), census and
CTR tables one per attribute. A ``multi_hot`` feature with ``flags`` reads them::

    Action  Comedy  Drama            flat     ["Action", "Comedy", "Drama"]
    1       0       0          ->    lengths  [1, 0, 2]
    0       NaN     0
    1       0       1

Each column is checked and converted whole (no Python per row): ``1``, ``True`` and ``"1"``
(also ``1.0``, ``"true"``) set the label; ``0``, ``False``, empty text and missing cells do
not; anything else (``2``, ``"yes"``) is an error naming the column and row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from recstack.errors import SchemaError
from recstack.features.multi_hot import FLAG_SET, FLAG_UNSET
from recstack.preprocessing._cells import _short, such_rows

__all__ = ["flag_labels", "flag_values", "no_flag_set_error"]


def flag_values(s: pd.Series, *, column: str, feature: str = "") -> np.ndarray:
    """``(n,)`` bool: which cells of one flag column set its label.

    Raises:
        SchemaError: a cell that is no flag value, naming ``column``, its first row (by
            position), how many such rows there are and the fix.
    """
    dtype = s.dtype
    if pd.api.types.is_bool_dtype(dtype):  # bool, nullable boolean, Arrow bool, categorical of bools
        if not s.hasnans:
            return s.to_numpy(dtype=bool)
        missing = s.isna().to_numpy(dtype=bool)  # a mask, not fillna: False may be no category of it
        return ~missing & s.astype(object).where(~missing, False).to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
        v = s.to_numpy(dtype=np.float64, na_value=np.nan)
        _refuse(s, ~(np.isnan(v) | (v == 0) | (v == 1)), column, feature)
        return v == 1
    missing = s.isna().to_numpy(dtype=bool)
    text = s.astype(object).where(~missing, "").astype(str).str.strip().str.lower()
    on = text.isin(FLAG_SET).to_numpy(dtype=bool)
    _refuse(s, ~(on | text.isin(FLAG_UNSET).to_numpy(dtype=bool)), column, feature)
    return on


def _refuse(s: pd.Series, bad: np.ndarray, column: str, feature: str) -> None:
    if not bad.any():
        return
    rows = np.flatnonzero(bad)
    key = f"features.{feature}.flags" if feature else "flags"
    raise SchemaError(
        f"column {column!r}: row {int(rows[0])} holds {_short(s.iloc[int(rows[0])])}, which is not a flag value "
        f"({such_rows(bad)}); a flag column ({key}) holds 1/True/'1' (label set) or 0/False/empty (not set): "
        f"convert it first, e.g. df[{column!r}] = (df[{column!r}] > 0).astype(int) for counts",
        column=column, rows=rows,
    )


def flag_labels(columns: Mapping[str, pd.Series], flags: Sequence[str], *,
                feature: str = "") -> tuple[np.ndarray, np.ndarray]:
    """The labels of each row: the names of its set flags, in ``flags`` order.

    Args:
        columns: ``{flag: (n,) column}`` holding every name of ``flags``.
        flags: the flag columns, each one label named after it.
        feature: the feature, for errors (``features.<feature>.flags``).

    Returns:
        ``flat``: ``(total,)`` object array of labels, row after row; ``lengths``: ``(n,)`` int64.
    """
    if not flags:
        raise SchemaError(f"features.{feature}.flags: no flag columns given")
    n = len(columns[flags[0]])
    set_ = np.empty((n, len(flags)), dtype=bool)
    for j, name in enumerate(flags):
        s = columns[name]
        if len(s) != n:
            raise SchemaError(f"flag column {name!r} has {len(s)} rows, {flags[0]!r} has {n}; give columns of one table",
                              column=name)
        set_[:, j] = flag_values(s, column=name, feature=feature)
    _, which = np.nonzero(set_)  # row-major: row after row, flags in order
    flat = np.asarray(list(flags), dtype=object)[which]
    return flat, set_.sum(axis=1, dtype=np.int64)


def no_flag_set_error(flags: Sequence[str], feature: str) -> SchemaError:
    """Fitting found no training row with a flag set: the vocabulary would be empty."""
    shown = ", ".join(map(repr, flags[:5])) + (", ..." if len(flags) > 5 else "")
    return SchemaError(
        f"no training row has any of its {len(flags)} flag columns ({shown}) set (every value is 0, False or "
        f"empty), so there are no labels to learn a vocabulary from; check features.{feature}.flags names the "
        "0/1 columns, or remove the feature"
    )

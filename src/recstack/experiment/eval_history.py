"""The history column of evaluation rows (test split, ``exp.evaluate(table)``, ``recstack
evaluate``), built from the training rows as ``data.history.eval_history`` says."""

from __future__ import annotations

import pandas as pd

from recstack.config.data import HISTORY_KEYS, DataConfig
from recstack.data import add_history
from recstack.errors import SchemaError

__all__ = ["evaluation_histories"]

_EVAL_KEYS = {**HISTORY_KEYS, "before_each_row": "data.history.eval_history"}


def evaluation_histories(data: DataConfig, table: pd.DataFrame, reference: pd.DataFrame, *,
                         where: str) -> pd.DataFrame:
    """``table`` with ``data.history.column`` built from ``reference`` (the training rows, or a
    saved model's training timeline): each user's whole profile (``eval_history: profile``), or
    only the items strictly earlier than the row's time (``before``), which needs the rows'
    ``data.time_column``; ``where`` names the table in that error."""
    hist = data.history
    assert hist is not None, "callers check data.history"
    as_of = hist.eval_history == "before"
    time = data.time_column
    if as_of and (time is None or time not in table.columns):
        raise SchemaError(
            f"data.history.eval_history: before gives each row of {where} the training items earlier than its "
            f"time, but {where} has no column {time!r} (data.time_column); add the column, or set "
            f"data.history.eval_history: profile (each user's whole training profile)")
    args = {**data.history_args(), "config_keys": _EVAL_KEYS}
    return add_history(table, **args, reference=reference, before_each_row=as_of)

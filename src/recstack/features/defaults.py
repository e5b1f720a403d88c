"""Per-column default values (``data.defaults``), checked when the schema is built.

A default replaces the missing entries of its raw column before any feature reads it, in
training and at serving time alike; it is saved with the model as JSON. So it is checked
up front, not when a missing value first shows up (possibly only at serving time):

- a JSON scalar: ``str``, ``int``, ``float`` (finite) or ``bool``; NumPy scalars
  (``df.c.mode()[0]``) become the Python value, so the saved state stays JSON;
- never missing itself (``None``, NaN, ``pd.NA``): it would fill nothing;
- a column a ``numeric`` feature reads takes a number, by the rule of a feature's ``fill``
  (:func:`~recstack.features.numeric.numeric_fill_problem`): ``"abc"`` there is a bad
  config value, not bad data found later;
- a column read only by ``multi_hot``/``sequence`` features may take a list: one row's labels
  (``[Drama, Comedy]``); a scalar default there is a one-label row (a string is read like the
  column's strings: split on the feature's ``separator`` where it has one);
- a flag column of a ``multi_hot`` with ``flags`` takes a flag value (``0``/``1``, ``true``/``false``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from recstack.errors import ConfigError
from recstack.features.multi_hot import MultiHotFeature, flag_state
from recstack.features.numeric import NumericFeature, numeric_fill_problem
from recstack.features.sequence import SequenceFeature

__all__ = ["check_defaults", "is_ragged_column"]

_RAGGED = (MultiHotFeature, SequenceFeature)


def _ragged(feature: Any) -> bool:
    return isinstance(feature, _RAGGED) and not feature.flag_columns


def _flag_readers(column: str, features: list[Any]) -> list[Any]:
    """The ``multi_hot`` features that read ``column`` as one of their ``flags``."""
    return [f for f in features if column in f.flag_columns]


def is_ragged_column(column: str, features: list[Any]) -> bool:
    """True when ``column`` is read, and read only, by ``multi_hot``/``sequence`` features as a
    column of labels (a ``multi_hot``'s flag column holds 0/1 values: not ragged)."""
    readers = [f for f in features if column in f.source_columns]
    return bool(readers) and all(_ragged(f) for f in readers)


def check_defaults(defaults: Mapping[Any, Any], features: list[Any]) -> dict[str, Any]:
    """``defaults`` checked against the features that read each column, as plain JSON values.

    Returns:
        ``{column: value}``: a Python ``str``/``int``/``float``/``bool``, or a list of them
        for a ragged column.

    Raises:
        ConfigError: naming ``data.defaults.<column>``, what was received and the fix.
    """
    if not isinstance(defaults, Mapping):
        raise ConfigError(f"data.defaults: expected a mapping of column -> value, got {type(defaults).__name__}")
    out: dict[str, Any] = {}
    for column, value in defaults.items():
        if not isinstance(column, str):
            raise ConfigError(
                f"data.defaults: the key {column!r} ({type(column).__name__}) is not a column name; "
                f"columns are named by strings, e.g. {str(column)!r}"
            )
        path = f"data.defaults.{column}"
        flags = _flag_readers(column, features)
        if flags and (isinstance(value, (list, tuple, np.ndarray)) or _is_na(value) or flag_state(value) is None):
            name = flags[0].name
            raise ConfigError(
                f"{path}: {_short(value)} is not a flag value, but column {column!r} is a flag of the multi_hot "
                f"feature {name} (features.{name}.flags), which reads 1/True (set) or 0/False (not set); give "
                f"{column}: 0 or {column}: 1"
            )
        if isinstance(value, (list, tuple, np.ndarray)):
            if any(not _ragged(f) for f in features if column in f.source_columns):
                raise ConfigError(
                    f"{path}: a list ({_short(value)}) fills one row of a multi_hot/sequence column, but column "
                    f"{column!r} is read by {_readers(column, features)}; give one value, e.g. {column}: unknown"
                )
            out[column] = [_scalar(path, v, f"{path}[{i}]") for i, v in enumerate(list(value))]
            continue
        out[column] = _scalar(path, value, path)
        _check_numeric(path, column, out[column], [f for f in features if column in f.source_columns])
    return out


def _check_numeric(path: str, column: str, value: Any, readers: list[Any]) -> None:
    """A numeric feature's column takes a number (then any log1p must be defined on it)."""
    numeric = [f for f in readers if isinstance(f, NumericFeature)]
    if not numeric:
        return
    problem = numeric_fill_problem(value, log=any(f.log for f in numeric))
    if problem == "not a number":
        raise ConfigError(
            f"{path}: {value!r} is not a number, but column {column!r} is read by the numeric feature "
            f"{', '.join(f.name for f in numeric)}, which needs numbers; give a number (e.g. {column}: 0), or remove {path} and set fill on the feature"
        )
    if problem == "log1p":
        logged = ", ".join(f.name for f in numeric if f.log)
        raise ConfigError(f"{path}: {value} with log: true (feature {logged}): log1p needs values > -1; "
                          "give a default above -1 (e.g. 0)")


def _scalar(path: str, value: Any, where: str) -> Any:
    """``value`` as a Python JSON scalar, or a ConfigError naming ``where``."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isnan(value):
            raise ConfigError(
                f"{where}: NaN is itself a missing value, so it would fill nothing; give a value "
                "(e.g. 0, or 'unknown'), or remove the entry to keep missing values missing"
            )
        if not math.isfinite(value):
            raise ConfigError(f"{where}: {value} is not a finite number; give a finite value such as 0")
        return float(value)
    if value is None or _is_na(value):
        raise ConfigError(
            f"{where}: {value!r} is itself a missing value, so it would fill nothing; give a value "
            f"(e.g. 0, or 'unknown'), or remove {path} to keep missing values missing"
        )
    raise ConfigError(
        f"{where}: expected a string, number or boolean (saved as JSON), got {_short(value)} "
        f"({type(value).__name__}); convert it, e.g. str(value)"
    )


def _is_na(value: Any) -> bool:
    import pandas as pd

    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _readers(column: str, features: list[Any]) -> str:
    readers = [f"{f.name} ({f.type})" for f in features if column in f.source_columns]
    return ", ".join(readers) if readers else "no feature"


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value.tolist() if isinstance(value, np.ndarray) else value)
    return text if len(text) <= limit else text[: limit - 3] + "..."

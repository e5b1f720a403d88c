"""One exception hierarchy for recstack.

Every error a user can trigger derives from :class:`RecstackError`; the subclasses also
derive from the built-in exception that fits (``ValueError``, ``TypeError``, ...), so
``except ValueError`` keeps working. Messages say what was wrong, where (column, row,
config path) and what to do about it.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np

__all__ = [
    "RecstackError",
    "ConfigError",
    "SchemaError",
    "MissingValueError",
    "DataError",
    "NotFittedError",
    "AlreadyFittedError",
    "UnknownIDError",
    "ArtifactError",
    "DatasetUnavailableError",
    "empty_cells",
]


class RecstackError(Exception):
    """Base class of every error raised on purpose by recstack."""


class ConfigError(RecstackError, ValueError):
    """An experiment, model or feature configuration is invalid (names the config path)."""


class SchemaError(RecstackError, ValueError):
    """A table does not match the declared features: missing/unknown column, wrong type, NaNs.

    A check of a column's cells may say where, for callers that reword the error (e.g. to name
    the side table a column was joined from):

    Attributes:
        column: the raw column at fault, or ``None``.
        rows: ``(k,)`` int64 positions, in the table checked, of every offending row the check
            found (the message names the first), or ``None`` when it did not say.
        feature: the feature whose preprocessing raised it, or ``None``.
    """

    def __init__(self, *args: object, column: str | None = None, rows: Any = None,
                 feature: str | None = None) -> None:
        super().__init__(*args)
        self.column = column
        self.rows: np.ndarray | None = None if rows is None else np.asarray(rows, dtype=np.int64).reshape(-1)
        self.feature = feature

    def reworded(self, message: str, **fields: Any) -> Self:
        """The same error (its class and fields, ``fields`` replacing some) with ``message``."""
        kept: dict[str, Any] = {"column": self.column, "rows": self.rows, "feature": self.feature}
        return type(self)(message, **{**kept, **fields})


class MissingValueError(SchemaError):
    """Cells a feature needs are empty and it has no fill (``rows``: those cells' rows)."""


class DataError(RecstackError, ValueError):
    """A file or table cannot be read or is malformed (names the file, row or column)."""


class NotFittedError(RecstackError, ValueError):
    """A fitted object (vocabulary, normalizer, preprocessor, an experiment's model) was used
    before ``fit``."""


class AlreadyFittedError(RecstackError, RuntimeError):
    """``fit`` was called again on an object that is fitted once (an experiment); the message
    says how to train longer instead."""


class UnknownIDError(ConfigError, KeyError):
    """A raw ID that is looked up (e.g. the item of ``Recommender.similar``) is not known to the
    model. A :class:`KeyError` (a failed lookup) and, as before, a :class:`ConfigError`."""

    def __str__(self) -> str:  # the message as written, not KeyError's repr of it
        return Exception.__str__(self)


class ArtifactError(RecstackError, ValueError):
    """A saved model directory is missing, corrupted or from an incompatible format version."""


class DatasetUnavailableError(RecstackError, OSError):
    """A built-in dataset is neither in a local directory nor downloadable (e.g. offline)."""


def empty_cells(where: str, column: str, empty: Any, need: str) -> SchemaError:
    """The one message for required cells left empty: where, which column, how many of how
    many rows, the first such row, and why each row needs a value (``need``)."""
    flags = np.asarray(empty, dtype=bool)
    return SchemaError(
        f"{where}: column {column!r} is empty in {int(flags.sum())} of {len(flags)} rows (first: row "
        f"{int(np.flatnonzero(flags)[0])}); {need}"
    )

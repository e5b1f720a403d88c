"""The base of every feature spec: what a raw column is, not how it is fitted."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from pydantic import BeforeValidator, Field, Strict

from recstack._validation import StrictModel

__all__ = ["FeatureSpec", "Int", "Real", "number_setting"]


def number_setting(value: Any) -> Any:
    """Refuses booleans (``max_length: true`` would be 1); NumPy numbers as Python ones."""
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"expected a number, got the boolean {bool(value)}; write the number itself (e.g. 1)")
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


Int = Annotated[int, BeforeValidator(number_setting), Strict()]
"""An integer setting: ``3`` (YAML/JSON ints, NumPy ints); not ``true``, ``"3"`` or ``3.0``."""
Real = Annotated[float, BeforeValidator(number_setting), Strict()]
"""A real-number setting: ints and floats; not ``true`` or ``"2.5"``."""


class FeatureSpec(StrictModel):
    """A declarative description of one model input built from one raw column.

    Attributes:
        name: the feature's name (the key in the config's ``features`` mapping).
        column: the raw column it reads; defaults to ``name``.
        embedding_dim: per-feature embedding size; ``None`` uses the model's ``embedding_dim``.
        context: a query feature that is request context (e.g. the time of the request), given
            with each query: its value may differ between a user's rows without the experiment
            warning of a leak, and serving warns when a request leaves it out.
    """

    type: str
    name: str = Field(default="", description="feature name; filled from the config key")
    column: str | None = None
    embedding_dim: Int | None = Field(default=None, ge=1)
    context: bool = False

    @property
    def source_column(self) -> str:
        """The raw column this feature reads (a ``multi_hot`` with ``flags``: its name; it reads
        the flag columns, see :attr:`source_columns`)."""
        return self.column or self.name

    @property
    def source_columns(self) -> tuple[str, ...]:
        """Every raw column this feature reads: ``(source_column,)``, or a ``multi_hot``'s flag
        columns. Code that selects, checks or fills a feature's columns should read this."""
        return (self.source_column,)

    @property
    def flag_columns(self) -> tuple[str, ...]:
        """The 0/1 columns a ``multi_hot`` with ``flags`` reads, one label each; ``()`` for every
        other feature (which reads :attr:`source_column` as one column of values)."""
        return ()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (round-trips through ``Schema.from_dict``); ``context`` only when
        set, so specs (and resume fingerprints) written before it existed compare equal."""
        out = self.model_dump(mode="json", exclude_defaults=False)
        if not self.context:
            out.pop("context")
        return out

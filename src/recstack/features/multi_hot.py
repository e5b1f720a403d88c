"""Multi-hot sets: delimited strings (``Comedy|Drama``), lists of labels, or 0/1 flag columns."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from recstack._validation import key_error
from recstack.features.base import FeatureSpec, Int

__all__ = ["FLAG_SET", "FLAG_UNSET", "MultiHotFeature", "flag_state"]

FLAG_SET: frozenset[str] = frozenset({"1", "1.0", "true"})
"""A flag cell that sets its label, as its lowercased, stripped text: ``1``, ``1.0``, ``True``, ``"1"``."""
FLAG_UNSET: frozenset[str] = frozenset({"0", "0.0", "false", ""})
"""A flag cell that leaves its label unset (missing cells, NaN, too): ``0``, ``False``, ``""``."""


def flag_state(value: object) -> bool | None:
    """Whether a flag value sets its label, or ``None`` when it is no flag value (``2``, ``"yes"``)."""
    text = str(value).strip().lower()
    return True if text in FLAG_SET else False if text in FLAG_UNSET else None


class MultiHotFeature(FeatureSpec):
    """A variable-size set of class labels per row, pooled into one vector.

    Values arrive as delimited strings or lists in one column (``column``); or, with ``flags``,
    as one 0/1 indicator column per label (MovieLens' ``Action``, ``Comedy``, ... columns): a
    row's labels are the names of its flag columns that are set (``1``, ``True``, ``"1"``; not
    set: ``0``, ``False``, empty). Either way they become padded IDs (index 0 = padding) with the
    same vocabulary layout as :class:`CategoricalFeature`.

    Labels of a delimited string are stripped and empty ones dropped (``"Drama| Comedy|"`` is
    ``{Drama, Comedy}``). List elements are taken exactly as given: ``[" Drama", ""]`` holds
    the labels ``" Drama"`` and ``""`` (only missing elements are dropped); clean lists before
    fitting if they need it, e.g. ``df.g.map(lambda xs: [x.strip() for x in xs if x.strip()])``.

    Attributes:
        separator: delimiter for string values (not with ``flags``).
        flags: the indicator columns read instead of ``column``, each one label named after
            its column (``None``: one column of labels).
        min_count / max_size / num_oov: vocabulary settings, as for categorical.
        max_length: keep at most this many labels per row (``None``: longest seen in training;
            a warning is logged when that row is far longer than typical). A longer row keeps
            its known labels ahead of out-of-vocabulary ones.
        pooling: how the model combines the label embeddings.
    """

    type: Literal["multi_hot"] = "multi_hot"
    separator: str = Field(default="|", min_length=1)
    flags: list[str] | None = Field(default=None, min_length=1)
    min_count: Int = Field(default=1, ge=1)
    max_size: Int | None = Field(default=None, ge=1)
    num_oov: Int = Field(default=1, ge=1)
    max_length: Int | None = Field(default=None, ge=1)
    pooling: Literal["mean", "sum", "sqrtn", "max"] = "mean"

    @field_validator("flags", mode="before")
    @classmethod
    def _column_names(cls, flags: Any) -> Any:
        if isinstance(flags, str):
            raise ValueError(f"expected a list of the 0/1 columns, e.g. flags: [{flags}, ...]; a single column of "
                             f"delimited labels is read with column: {flags}")
        if isinstance(flags, (list, tuple)):
            for i, f in enumerate(flags):
                if not isinstance(f, str):
                    raise ValueError(f"entry {i} is {f!r} ({type(f).__name__}), not a column name; write it as a "
                                     f"string (in YAML, quote it: '{f}')")
            return list(flags)
        return flags

    @field_validator("flags")
    @classmethod
    def _distinct_names(cls, flags: list[str] | None) -> list[str] | None:
        if flags is None:
            return None
        empty = [i for i, f in enumerate(flags) if not f.strip()]
        if empty:
            raise ValueError(f"entry {empty[0]} is an empty column name; list the names of the 0/1 columns")
        twice = sorted({f for f in flags if flags.count(f) > 1})
        if twice:
            raise ValueError(f"{', '.join(map(repr, twice))} listed more than once; list each flag column once")
        return flags

    @model_validator(mode="after")
    def _flags_replace_the_column(self) -> MultiHotFeature:
        if self.flags is None:
            return self
        if self.column is not None:
            raise key_error("column", f"names one column of delimited labels, but flags lists the 0/1 columns "
                            f"read instead ({len(self.flags)} of them); remove column (or flags)", self.column)
        if self.separator != "|":
            raise key_error("separator", "has no effect with flags (each flag column is one label, nothing is "
                            "split); remove separator", self.separator)
        return self

    @property
    def flag_columns(self) -> tuple[str, ...]:
        """The columns of ``flags`` (``()`` without them)."""
        return tuple(self.flags or ())

    @property
    def source_columns(self) -> tuple[str, ...]:
        """The flag columns with ``flags``, else the one column of labels."""
        return self.flag_columns or (self.source_column,)

"""The ``data.filter`` section of the experiment config: which interaction rows an experiment
keeps (value conditions per column, and a k-core on users and items of the training rows).

It replaces the row filtering users otherwise write by hand before training (keep ratings of
4 and more as positives, drop users with too few interactions); being part of the config, the
settings are saved with the model and compared when a run is resumed. The filtering itself
lives in :mod:`recstack.data.filters`, which knows nothing about configs.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timezone
from typing import Any

from pydantic import ConfigDict, Field, field_validator, model_validator

from recstack._validation import StrictModel, key_error
from recstack.data._times import iso_time, quoted_yyyymmdd

__all__ = ["FilterConfig", "RowCondition"]

Scalar = str | int | float | bool
Bound = int | float | datetime | date
"""A ``min``/``max``: a number, or a date / datetime (YAML's ``2020-01-31``, or an ISO string)."""


class RowCondition(StrictModel):
    """What a column's value must satisfy for its row to be kept (all given keys at once).

    Attributes:
        min / max: inclusive bounds on a numeric column (``rating: {min: 4}`` keeps 4 and 5), or
            dates / datetimes (``2020-01-31``, ``2020-01-31T12:00:00Z``; an ISO string too) on a
            column of times or of Unix seconds; a time without a zone is UTC, a date its midnight.
        in_ (``in`` in YAML): the row's value is one of these.
        not_in: the row's value is none of these.

    A missing cell fails ``min``, ``max`` and ``in`` (the row is dropped: nothing says it
    qualifies) and passes ``not_in`` (nothing says it is excluded), unless the list holds
    ``null``, which stands for a missing cell (``not_in: [null]`` drops rows without a value).
    """

    model_config = ConfigDict(**StrictModel.model_config, serialize_by_alias=True, validate_by_name=True)

    min: Bound | None = None
    max: Bound | None = None
    in_: list[Scalar | None] | None = Field(default=None, alias="in", min_length=1)
    not_in: list[Scalar | None] | None = Field(default=None, min_length=1)

    @field_validator("min", "max", mode="before")
    @classmethod
    def _iso(cls, value: Any) -> Any:
        """An ISO date or datetime string (as a saved model's JSON holds them) as a date; anything
        but a number or a date is refused here, in one message rather than one per type. Quoted
        YYYYMMDD digits (``"20190105"``) are refused too, saying how to write the number or the
        date: read as a date, they made an error about Unix seconds on a column of numbers."""
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if value is None or number or isinstance(value, date):
            return value
        parsed = iso_time(value) if isinstance(value, str) else None
        if parsed is not None:
            return parsed
        fix = quoted_yyyymmdd(value) if isinstance(value, str) else None
        if fix is not None:
            raise ValueError(fix)
        raise ValueError("Input should be a valid number (unquoted) or an ISO date or time (2020-01-31, "
                         "2020-01-31T12:00:00)")

    @model_validator(mode="after")
    def _coherent(self) -> RowCondition:
        if self.min is None and self.max is None and self.in_ is None and self.not_in is None:
            raise ValueError("an empty condition keeps every row; give min, max, in or not_in, or remove the "
                             "column from data.filter.rows")
        for name in ("min", "max"):
            value = getattr(self, name)
            if isinstance(value, (int, float)) and not math.isfinite(value):
                raise key_error(name, "must be a finite number", value)
        if self.min is not None and self.max is not None:
            low, high = _comparable(self.min), _comparable(self.max)
            if type(low) is not type(high):
                raise key_error("min", f"{self.min} and max {self.max} must both be numbers or both dates", self.min)
            if low > high:  # type: ignore[operator]  # both numbers or both datetimes
                raise key_error("min", f"{self.min} is above max {self.max}, so no row could be kept; swap them",
                                self.min)
        for name, values in (("in", self.in_), ("not_in", self.not_in)):
            if values is not None and any(isinstance(v, float) and math.isnan(v) for v in values):
                raise key_error(name, "NaN matches no value; write null for a missing cell (missing cells fail "
                                "in and pass not_in unless the list holds null)", values)
        return self

    @property
    def keys_given(self) -> list[str]:
        """The condition's keys, in YAML spelling (``in``, not ``in_``), for messages."""
        return [k for k in ("min", "max", "in", "not_in") if getattr(self, "in_" if k == "in" else k) is not None]


def _comparable(bound: Bound) -> float | datetime:
    """A number as a float, a date as an aware datetime (no zone: UTC; a date: its midnight)."""
    if not isinstance(bound, date):
        return float(bound)
    at = bound if isinstance(bound, datetime) else datetime(bound.year, bound.month, bound.day)
    return at if at.tzinfo is not None else at.replace(tzinfo=timezone.utc)


class FilterConfig(StrictModel):
    """Rows an experiment keeps, before any split, validation carving or history building.

    Attributes:
        rows: per column of the interactions (or of a ``data.join`` table, looked up by key), a
            :class:`RowCondition`; applied to every interactions table (``data.train``,
            ``data.test``, a dataset's splits, and ``recstack evaluate``'s file unless
            ``--no-filter``), never to the ``data.join`` tables themselves.
        min_user_rows / min_item_rows: iterative k-core of the training rows: rows are dropped
            until every kept user (``data.user_column``) has at least ``min_user_rows`` rows and
            every kept item (``data.item_column``) at least ``min_item_rows``. ``1`` = off. Test
            rows are not filtered by these (test users and items may then be unseen in training:
            the cold-start and outside-catalogue rules apply to them).
    """

    rows: dict[str, RowCondition] = Field(default_factory=dict)
    min_user_rows: int = Field(default=1, ge=1)
    min_item_rows: int = Field(default=1, ge=1)

    @property
    def active(self) -> bool:
        """Whether any filter is set (an inactive section changes nothing and logs nothing)."""
        return bool(self.rows) or self.min_user_rows > 1 or self.min_item_rows > 1

    def plain(self) -> dict[str, Any]:
        """The section as JSON-ready data, with ``in`` spelled as in YAML."""
        return self.model_dump(mode="json")

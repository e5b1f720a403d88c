"""The ``data`` section of the experiment config: where the interactions come from, the
columns' roles, the history column and the train/test split."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from pydantic import Field, model_validator

from recstack._validation import StrictModel
from recstack.config.sources import JoinSource, TableSource
from recstack.errors import ConfigError

__all__ = ["DataConfig", "HistoryConfig", "SplitConfig"]


class HistoryConfig(StrictModel):
    """Adds a column with each row's other items of the same user (never the row itself).

    Attributes:
        column: name of the new column (use it as a ``sequence`` feature).
        max_length: most recent items kept.
        mode: ``before`` (for temporal/leave-last splits): a training row gets the user's items
            strictly earlier in time (items with its own timestamp are not before it; without
            a time column, the rows above it in the table); a validation
            row gets the fitted part's items strictly earlier in time; a test row gets the
            user's whole training profile, as a saved model serves it. ``others`` (for random
            splits such as MovieLens u1): every row gets all of the user's other training items.
    """

    column: str = "history"
    max_length: int = Field(default=50, ge=1)
    mode: Literal["before", "others"] = "before"


class SplitConfig(StrictModel):
    """How ``data.train`` is split into training and test rows when no ``data.test`` is given.

    Attributes:
        kind: ``random`` (rows drawn at random, seeded), ``temporal`` (one cutoff in time for
            everyone: the last ``test_fraction`` of the rows by ``data.time_column``, or the rows
            at or after ``cutoff``) or ``leave_last_n`` (each user's last ``n`` rows by time;
            users with ``n`` or fewer rows stay in training).
        test_fraction: share of rows in the test part (``random``, ``temporal``).
        cutoff: ``temporal`` only: the first test time, in the time column's unit (instead of
            ``test_fraction``).
        n: ``leave_last_n``: test rows per user.
        seed: ``random``: the seed of the draw.
    """

    kind: Literal["random", "temporal", "leave_last_n"]
    test_fraction: float = Field(default=0.2, gt=0, lt=1)
    cutoff: int | float | str | None = None
    n: int = Field(default=1, ge=1, strict=True)
    seed: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _options_of_the_kind(self) -> SplitConfig:
        given = self.model_fields_set
        if self.cutoff is not None and self.kind != "temporal":
            raise ValueError(f"cutoff applies to kind: temporal, not {self.kind}")
        if "n" in given and self.kind != "leave_last_n":
            raise ValueError(f"n applies to kind: leave_last_n, not {self.kind}")
        if "test_fraction" in given and (self.kind == "leave_last_n" or self.cutoff is not None):
            raise ValueError("test_fraction applies to kind: random, or temporal without a cutoff")
        if "seed" in given and self.kind != "random":
            raise ValueError(f"seed applies to kind: random, not {self.kind}")
        return self


class DataConfig(StrictModel):
    """Where the interactions come from (a built-in dataset or files) and how to split.

    Attributes:
        dataset: ``movielens-100k`` or ``synthetic`` (instead of ``train``/``test``).
        dataset_options: keyword arguments of the dataset loader (e.g. ``{split: u1}``).
        train / test: interaction files (a path or a :class:`TableSource`).
        join: side tables joined on their ``key`` column, e.g. ``{items: {path: ..., key: item_id}}``;
            a table named ``items`` also defines the candidate catalogue.
        defaults: per raw column, the value used where data is missing.
        user_column / item_column / time_column: roles of columns (query key for
            seen-item exclusion and per-user metrics, candidate key, ordering).
        validation_fraction: share of training rows held out (seeded) for evaluation
            and early stopping during training; the test set is never used for that.
        history: add a leakage-free column of each row's other items of the user (see
            :class:`HistoryConfig`: earlier ones for ``before``, all others for ``others``).
        split: split ``train`` into training and test rows (see :class:`SplitConfig`), for
            data that comes as one file; not with ``test`` or ``dataset``.
    """

    dataset: str | None = None
    dataset_options: dict[str, Any] = Field(default_factory=dict)
    train: str | TableSource | None = None
    test: str | TableSource | None = None
    join: dict[str, JoinSource] = Field(default_factory=dict)
    defaults: dict[str, Any] = Field(default_factory=dict)
    user_column: str = "user_id"
    item_column: str = "item_id"
    time_column: str | None = "timestamp"
    validation_fraction: float = Field(default=0.0, ge=0, lt=1)
    validation_seed: int = Field(default=0, ge=0)
    history: HistoryConfig | None = None
    split: SplitConfig | None = None

    @model_validator(mode="after")
    def _one_source(self) -> DataConfig:
        if (self.dataset is None) == (self.train is None):
            raise ValueError("give either dataset (a built-in name) or train (a file), not both/neither")
        if self.dataset is not None and (self.test is not None or self.join):
            raise ValueError("test and join are not used with dataset (it brings its own split and side "
                             "tables); remove them, or give train: FILE instead of dataset")
        if self.split is not None and (self.test is not None or self.dataset is not None):
            raise ValueError("split divides data.train into training and test rows; it is not used with "
                             f"{'test (the test rows are given)' if self.test is not None else 'dataset'}: remove one")
        if self.split is not None and self.split.kind != "random" and self.time_column is None:
            raise ValueError(f"split kind {self.split.kind} orders rows by data.time_column, which is null")
        if self.dataset is None and self.dataset_options:
            raise ValueError("dataset_options apply to a built-in dataset (data.dataset); with train: FILE, "
                             "set the reader options on the file (sep, names, dtype, ...)")
        return self

    def check_column_roles(self, columns: Iterable[str]) -> None:
        """Checks the role columns against the training table's ``columns`` (after joins).

        ``user_column`` is always needed; ``item_column`` and ``time_column`` are checked
        when ``history`` uses them or when the config sets them, so a typo there is not
        silently ignored (their defaults may be absent from data that does not need them).

        Raises:
            ConfigError: ``data.time_column: 'ts' is not a column of the training data; columns: [...]``.
        """
        cols = list(columns)
        if self.history is not None and self.time_column is None:
            raise ConfigError("data.history needs data.time_column to order interactions")
        hist = self.history is not None
        roles = [("user_column", self.user_column, True), ("item_column", self.item_column, hist),
                 ("time_column", self.time_column, hist)]
        for role, value, needed in roles:
            if value is not None and (needed or role in self.model_fields_set) and value not in cols:
                raise ConfigError(f"data.{role}: {value!r} is not a column of the training data; "
                                  f"columns: {sorted(cols)}")


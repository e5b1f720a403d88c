"""The ``data`` section of the experiment config: where the interactions come from, the
columns' roles, the history column and the train/test split."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from types import MappingProxyType
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from recstack._validation import StrictModel, key_error
from recstack.config.filter import FilterConfig
from recstack.config.sources import JoinSource, TableSource
from recstack.errors import ConfigError

__all__ = ["HISTORY_KEYS", "DataConfig", "FilterConfig", "HistoryConfig", "SplitConfig", "key_error"]


HISTORY_KEYS: Mapping[str, str] = MappingProxyType({
    "user_col": "data.user_column", "item_col": "data.item_column", "time_col": "data.time_column",
    "max_length": "data.history.max_length", "output_col": "data.history.column", "mode": "data.history.mode",
    "before_each_row": "data.history.mode",  # mode: before gives validation rows only earlier items
})
"""The config key of each argument of :func:`recstack.data.add_history` that ``data`` sets: pass it
as ``add_history(..., config_keys=HISTORY_KEYS)`` so errors name ``data.time_column``,
``data.history.max_length``, ... instead of the argument names."""


def _plain(value: Any) -> Any:
    """A section as plain data (an error's input: a mapping is not repeated in the message)."""
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else value


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
        eval_history: what a test or evaluation row's history holds: ``profile`` (the user's
            whole training profile, as a saved model serves a known user now) or ``before``
            (with ``mode: before``: only the training items strictly earlier than the row's
            own time, as training and validation rows get them: the history a request at
            that time would have seen). ``before`` is the honest test of a model trained on
            earlier items when test rows are interleaved in time with training rows (a
            random split such as MovieLens u1); on a temporal split both agree. The
            evaluation rows need the time column; a saved model keeps each user's training
            times for ``recstack evaluate``.
    """

    column: str = "history"
    max_length: int = Field(default=50, ge=1)
    mode: Literal["before", "others"] = "before"
    eval_history: Literal["profile", "before"] = "profile"

    @model_validator(mode="after")
    def _as_of_needs_before(self) -> HistoryConfig:
        if self.eval_history == "before" and self.mode != "before":
            raise key_error("eval_history", "before gives evaluation rows only earlier items, but mode: others "
                            "trains on each user's items before and after the row; set mode: before, or "
                            "eval_history: profile", self.eval_history)
        return self


class SplitConfig(StrictModel):
    """How ``data.train`` is split into training and test rows when no ``data.test`` is given.

    Attributes:
        kind: ``random`` (rows drawn at random, seeded), ``temporal`` (one cutoff in time for
            everyone: the last ``test_fraction`` of the rows by ``data.time_column``, or the rows
            at or after ``cutoff``) or ``leave_last_n`` (each user's last ``n`` rows by time;
            users with ``n`` or fewer rows stay in training).
        test_fraction: share of rows in the test part (``random``, ``temporal``).
        cutoff: ``temporal`` only: the first test time (instead of ``test_fraction``): a value of
            the time column's type, or a date / datetime (YAML's ``1998-01-01``, or ISO text) on a
            column of times or of Unix seconds, as ``data.filter``'s ``min``/``max`` take them (a
            date is its midnight, a time without a zone UTC). Text stays text: on a column of text
            it compares as text.
        n: ``leave_last_n``: test rows per user.
        seed: ``random``: the seed of the draw.
    """

    kind: Literal["random", "temporal", "leave_last_n"]
    test_fraction: float = Field(default=0.2, gt=0, lt=1)
    # left to right: ISO text stays text (from JSON too), which temporal_split reads by the column's type
    cutoff: str | int | float | datetime | date | None = Field(default=None, union_mode="left_to_right")
    n: int = Field(default=1, ge=1, strict=True)
    seed: int = Field(default=0, ge=0)

    @field_validator("cutoff", mode="before")
    @classmethod
    def _one_cutoff(cls, value: Any) -> Any:
        """Anything but a number, a date or text is refused here, in one message rather than one per type."""
        if value is None or isinstance(value, (str, date)) or (isinstance(value, (int, float))
                                                               and not isinstance(value, bool)):
            return value
        raise ValueError("Input should be a number, a date or time (1998-01-01, 1998-01-01T12:00:00) or text")

    @model_validator(mode="after")
    def _options_of_the_kind(self) -> SplitConfig:
        # a key at its default changes nothing: a saved config (to_dict) lists every key, and must load again
        given = {k for k in self.model_fields_set if getattr(self, k) != type(self).model_fields[k].default}
        if self.cutoff is not None and self.kind != "temporal":
            raise key_error("cutoff", f"applies to kind: temporal, not {self.kind}; remove cutoff, or set "
                            "kind: temporal", self.cutoff)
        if "n" in given and self.kind != "leave_last_n":
            raise key_error("n", f"applies to kind: leave_last_n, not {self.kind}; remove n, or set "
                            "kind: leave_last_n", self.n)
        if "test_fraction" in given and (self.kind == "leave_last_n" or self.cutoff is not None):
            why = "kind: leave_last_n takes n test rows per user" if self.kind == "leave_last_n" else (
                "cutoff sets the test rows")
            raise key_error("test_fraction", f"applies to kind: random, or temporal without a cutoff ({why}); "
                            "remove test_fraction", self.test_fraction)
        if "seed" in given and self.kind != "random":
            raise key_error("seed", f"applies to kind: random, not {self.kind} (which draws nothing at random); "
                            "remove seed", self.seed)
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
            data that comes as one file; not with ``test``, nor with a ``dataset`` that brings
            its own test rows (``movielens-100k`` with ``dataset_options: {split: all}`` does not).
        filter: rows kept (value conditions, k-core of the training rows; see :class:`FilterConfig`),
            applied before the split, the validation carving and the histories.
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
    filter: FilterConfig = Field(default_factory=FilterConfig)

    @model_validator(mode="after")
    def _one_source(self) -> DataConfig:
        if self.dataset is None and self.train is None:
            raise key_error("train", "no interactions: give data.train (a file), or data.dataset (a built-in "
                            "dataset: movielens-100k, synthetic)", None, missing=True)
        if self.dataset is not None:
            brings = "a built-in dataset brings its own split and side tables"
            for key, value in (("train", self.train), ("test", self.test), ("join", self.join)):
                if value is not None and value != {}:
                    raise key_error(key, f"not used with data.dataset ({brings}); remove data.{key}, or remove "
                                    "data.dataset and give train: FILE", _plain(value))
            from recstack.data.datasets import dataset_has_test  # local: config sits above data

            if self.split is not None and dataset_has_test(self.dataset, self.dataset_options):
                how = ("for a split of all its ratings (a random 80/20 one as in the TensorFlow Recommenders "
                       "tutorials), set data.dataset_options: {split: all}"
                       if self.dataset == "movielens-100k" else "remove data.split")
                raise key_error("split", f"not used with data.dataset {self.dataset}, which brings its own test "
                                f"rows; {how}", _plain(self.split))
        if self.split is not None and self.test is not None:
            raise key_error("split", "divides data.train into training and test rows, but data.test gives the "
                            "test rows; remove data.split or data.test", _plain(self.split))
        if self.split is not None and self.split.kind != "random" and self.time_column is None:
            raise key_error("time_column", f"null, but data.split kind {self.split.kind} orders rows by time; "
                            "set data.time_column to the column of times, or use split kind: random", None)
        if self.dataset is None and self.dataset_options:
            raise key_error("dataset_options", "apply to a built-in dataset (data.dataset); with train: FILE, "
                            "remove them and set the reader options on the file (sep, names, dtype, ...)",
                            self.dataset_options)
        return self

    def resume_fingerprint(self) -> dict[str, Any]:
        """The settings of this section that shape the training rows, which a resumed run must
        share with its checkpoint (the table sources are not: the data sizes stand for them).
        ``filter`` only when set, so checkpoints written before it existed still resume;
        ``history.eval_history`` never (it shapes test rows only)."""
        keys = {"history", "defaults", "split", "user_column", "item_column", "time_column", "validation_fraction",
                "validation_seed"} | ({"filter"} if self.filter.active else set())
        out = self.model_dump(mode="json", include=keys)
        if out.get("history"):
            out["history"].pop("eval_history", None)
        return out

    def history_args(self) -> dict[str, Any]:
        """The :func:`recstack.data.add_history` arguments this section sets (not ``mode`` nor
        ``reference``, which each call chooses), with ``config_keys`` so errors name these keys."""
        if self.history is None:
            raise ConfigError("data.history is not set: no history column to build")
        return dict(user_col=self.user_column, item_col=self.item_column, time_col=self.time_column,
                    max_length=self.history.max_length, output_col=self.history.column, config_keys=HISTORY_KEYS)

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
            raise ConfigError("data.time_column: null, but data.history needs it to order interactions; set "
                              "data.time_column to the column of times, or remove data.history")
        hist = self.history is not None
        roles = [("user_column", self.user_column, True), ("item_column", self.item_column, hist),
                 ("time_column", self.time_column, hist)]
        for role, value, needed in roles:
            if value is not None and (needed or role in self.model_fields_set) and value not in cols:
                raise ConfigError(f"data.{role}: {value!r} is not a column of the training data; "
                                  f"columns: {sorted(cols)}")


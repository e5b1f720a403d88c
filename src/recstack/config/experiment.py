"""The experiment config: one YAML file describes data, features, model, task, training.

Every section is a strict pydantic model: unknown keys and wrong types are rejected with
the config path (``train.lr: Input should be greater than 0 (got -1)``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from recstack._validation import StrictModel, validate_model
from recstack.data.datasets import validate_dataset_options
from recstack.data.readers import ColumnType, encoding_problem
from recstack.errors import ConfigError
from recstack.features.schema import Schema
from recstack.metrics import parse_metric_name
from recstack.tasks.retrieval import RetrievalTaskConfig
from recstack.training.config import TrainConfig

log = logging.getLogger(__name__)

__all__ = [
    "ExperimentConfig",
    "DataConfig",
    "EvalConfig",
    "TableSource",
    "JoinSource",
    "HistoryConfig",
    "SplitConfig",
    "load_config",
]


class TableSource(StrictModel):
    """A table on disk and how to read it.

    Attributes:
        path: CSV/TSV/Parquet file; a relative path is looked up in the current folder,
            the config file's folder, then ``$RECSTACK_DATA``.
        sep / names / header / encoding / format: reader options (see ``read_table``).
        key: join column when the table is joined onto the interactions (``data.join``).
        dtype: column types, e.g. ``{user_id: str, item_id: str}`` keeps zero-padded IDs
            (``0007``) as written; ``str``, ``int`` or ``float``; a name that is not a
            column of the file is an error.
    """

    path: str
    sep: str | None = None
    names: list[str] | None = None
    header: int | Literal["infer"] | None = "infer"
    encoding: str = "utf-8"
    format: Literal["csv", "tsv", "parquet"] | None = None
    key: str | None = None
    dtype: dict[str, ColumnType] | None = None

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, v: str) -> str:
        problem = encoding_problem(v)
        if problem:
            raise ValueError(problem)
        return v

    @field_validator("header")
    @classmethod
    def _header_row(cls, v: int | str | None) -> int | str | None:
        if isinstance(v, int) and v < 0:
            raise ValueError(f"{v} is not a row number; use the header's row (0 = first non-blank line), "
                             "or null for a file without a header row")
        return v

    @field_validator("names")
    @classmethod
    def _unique_names(cls, v: list[str] | None) -> list[str] | None:
        dups = sorted({n for n in v if v.count(n) > 1}) if v else []
        if dups:
            raise ValueError(f"{dups[0]!r} appears more than once; give every column its own name")
        return v


class JoinSource(TableSource):
    """A side table of ``data.join``: a :class:`TableSource` whose ``key`` is required."""

    key: str | None = Field(default=None, validate_default=True)

    @field_validator("key")
    @classmethod
    def _key_given(cls, v: str | None) -> str:
        if v is None:  # "missing": the error names data.join.<name>.key and shows no input
            raise PydanticCustomError("missing", "the join column is required (e.g. key: item_id)")
        return v


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


class EvalConfig(StrictModel):
    """Evaluation over the full candidate catalogue.

    Attributes:
        metrics: names like ``hit_rate@100``, ``recall@10``, ``ndcg@10``, ``mrr``.
        exclude_seen: drop each user's training items from their ranking.
        chunk_size: query rows scored at once (bounds memory: chunk x catalogue floats).
        ties: the positive's place among candidates with exactly its score:
            ``optimistic`` (first, as TFRS ``FactorizedTopK``), ``mid`` (the middle: the
            expected position under random tie-breaking) or ``pessimistic`` (last).
        cold_start: how rows of users unseen in training are scored when nothing but their
            ID (and their, empty, history) describes them: ``average`` (the mean query
            vector of the known users, as ``Recommender.recommend`` answers them by default)
            or ``oov`` (through the model with the OOV index and an empty history).
    """

    metrics: list[str] = Field(
        default_factory=lambda: ["hit_rate@10", "hit_rate@50", "hit_rate@100", "recall@10", "ndcg@10", "mrr"]
    )
    exclude_seen: bool = False
    chunk_size: int = Field(default=2048, ge=1)
    ties: Literal["optimistic", "mid", "pessimistic"] = "optimistic"
    cold_start: Literal["average", "oov"] = "average"

    @field_validator("metrics")
    @classmethod
    def _known_metrics(cls, metrics: list[str]) -> list[str]:
        if not metrics:
            raise ValueError("no metric: name at least one, e.g. [hit_rate@10, hit_rate@100, ndcg@10]")
        for m in metrics:  # a field validator, so the error names eval.metrics
            try:
                parse_metric_name(m)
            except ConfigError as err:
                raise ValueError(str(err)) from None
        return metrics


class ModelSection(StrictModel):
    """``model``: ``kind`` plus the kind's own keys (validated by the model's config class)."""

    model_config = {"extra": "allow"}
    kind: str = "two_tower"


class ExperimentConfig(StrictModel):
    """The whole experiment (see ``examples/*.yaml``)."""

    data: DataConfig
    features: dict[str, dict[str, Any]]
    model: ModelSection
    task: RetrievalTaskConfig = Field(default_factory=RetrievalTaskConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    eval: EvalConfig = Field(default_factory=EvalConfig)
    base_dir: str | None = Field(default=None, description="folder of the config file (set by load_config)")

    # Public API: intentionally shadows pydantic's deprecated v1 classmethod ``BaseModel.schema()``.
    def schema(self) -> Schema:  # type: ignore[override]
        """The feature schema (validated; errors name ``features.<name>.<key>``)."""
        return Schema.from_dict(self.features, defaults=self.data.defaults)

    def model_options(self) -> dict[str, Any]:
        """The model section without ``kind`` (validated later by the model's config class)."""
        d = self.model.model_dump(mode="json")
        d.pop("kind", None)
        return d

    def to_dict(self) -> dict[str, Any]:
        d = self.model_dump(mode="json", exclude={"base_dir"})
        return d

    @classmethod
    def from_dict(cls, data: Any, *, base_dir: str | None = None) -> ExperimentConfig:
        """Validates a config mapping; errors name the path, e.g. ``train.lr``."""
        if not isinstance(data, dict):
            raise ConfigError(f"the config must be a mapping with data/features/model/..., got {type(data).__name__}")
        cfg = validate_model(cls, {**data, "base_dir": base_dir})
        if cfg.data.dataset is not None:  # a typo in an option fails now, not after data is read
            validate_dataset_options(cfg.data.dataset, cfg.data.dataset_options)
        schema = cfg.schema()  # feature errors surface now, with their paths
        unused = [c for c in cfg.data.defaults if c not in schema.columns]
        if unused:
            raise ConfigError(
                f"data.defaults.{unused[0]}: no feature reads column {unused[0]!r} (a typo?); "
                f"feature columns: {schema.columns}"
            )
        roles = [c for c in (cfg.data.user_column, cfg.data.item_column) if c in cfg.data.defaults]
        if roles:
            raise ConfigError(f"data.defaults.{roles[0]}: {roles[0]!r} is the "
                              f"{'user' if roles[0] == cfg.data.user_column else 'item'} column; an interaction "
                              "needs its own, so a default cannot stand in for it: drop the rows without one")
        es = cfg.train.early_stopping
        if es is not None and cfg.data.validation_fraction == 0:
            raise ConfigError("train.early_stopping needs validation rows, which data.validation_fraction: 0 "
                              "leaves none of: set data.validation_fraction (e.g. 0.1), or remove early_stopping")
        if es is not None and not 1 <= cfg.train.eval_every <= cfg.train.epochs:
            raise ConfigError(f"train.early_stopping: train.eval_every {cfg.train.eval_every} never evaluates in "
                              f"{cfg.train.epochs} epochs; set eval_every between 1 and train.epochs")
        if es is not None and es.metric not in cfg.eval.metrics:
            raise ConfigError(
                f"train.early_stopping.metric: {es.metric!r} is not in eval.metrics {cfg.eval.metrics}; "
                "validation computes only eval.metrics, so add it there"
            )
        from recstack.models.base import MODELS  # local: config sits above models

        cls_ = MODELS.get(cfg.model.kind, path="model.kind")
        validate_model(cls_.config_cls, cfg.model.model_dump(mode="json"), "model")
        _check_towers(cfg.model_options(), schema)
        used = set(cfg.model_options().get("query", [])) | set(cfg.model_options().get("candidate", []))
        used |= {str(getattr(schema[f], "source", None)) for f in used if getattr(schema[f], "source", None)}
        idle = [f for f in schema.names if f not in used]
        if idle:  # declared, fitted, stored, never read: usually a feature someone forgot to add to a tower
            log.warning("features %s are in neither model.query nor model.candidate: they are fitted but not used",
                        idle)
        hist = cfg.data.history
        if hist is not None and not any(schema[f].source_column == hist.column for f in used if f in schema.names):
            log.warning("data.history builds column %r, which no feature of the model reads: add a sequence "
                        "feature on it to model.query, or drop data.history", hist.column)
        return cfg


def _check_towers(options: dict[str, Any], schema: Schema) -> None:
    """``model.query`` / ``model.candidate`` name known features, once each, on one side only,
    and no query feature reads a column a candidate feature reads (the answer, under another name).

    The leaks only the data shows (the item column, side tables joined on the candidate) are
    checked when the experiment reads it (``RetrievalExperiment``)."""
    names = schema.names
    sides = {side: list(options.get(side) or []) for side in ("query", "candidate")}
    for side, feats in sides.items():
        unknown = [f for f in feats if f not in names]
        if unknown:
            raise ConfigError(f"model.{side}: unknown feature {unknown[0]!r}; features: {names}")
        repeated = sorted({f for f in feats if feats.count(f) > 1})
        if repeated:
            raise ConfigError(f"model.{side}: {repeated} listed twice; list each feature once")
    both = [f for f in sides["query"] if f in sides["candidate"]]
    if both:
        raise ConfigError(
            f"model.query and model.candidate both use {both}: a candidate feature on the query side "
            "tells the model the answer; keep each feature on one side"
        )
    candidate_columns = {schema[f].source_column: f for f in sides["candidate"]}
    for f in sides["query"]:
        col = schema[f].source_column
        if col in candidate_columns:
            raise ConfigError(
                f"model.query: feature {f!r} reads column {col!r}, which the candidate feature "
                f"{candidate_columns[col]!r} reads: on the query side it tells the model the answer; remove it "
                "from model.query (a user's past items belong in a history column, data.history)"
            )


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that rejects a key given twice in one mapping (YAML keeps the last silently)."""


def _unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} is given twice in one mapping; keep one", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)
# YAML 1.2 floats: PyYAML (YAML 1.1) reads `1e-3` and `5e2` as strings, which the config's strict
# types would refuse; with this resolver they are the numbers a reader expects
_UniqueKeyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
                |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
                |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
                |[-+]?\.(?:inf|Inf|INF)
                |\.(?:nan|NaN|NAN))$""", re.X),
    list("-+0123456789."),
)


def load_config(path: str | Path) -> ExperimentConfig:
    """Reads and validates a YAML experiment config."""
    p = Path(path)
    if p.is_dir():
        raise ConfigError(f"config file {str(p)!r} is a folder; give the YAML file inside it")
    if not p.is_file():
        raise ConfigError(f"config file {str(p)!r} does not exist")
    try:
        data = yaml.load(p.read_text(), Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as err:
        raise ConfigError(f"{p}: not valid YAML: {err}") from None
    return ExperimentConfig.from_dict(data, base_dir=str(p.resolve().parent))

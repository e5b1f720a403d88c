"""The experiment config: one YAML file describes data, features, model, task, training.

Every section is a strict pydantic model: unknown keys and wrong types are rejected with
the config path (``train.lr: Input should be greater than 0 (got -1)``). The sections live in
their own modules (:mod:`~recstack.config.sources`, :mod:`~recstack.config.data`,
:mod:`~recstack.config.evaluation`); this one holds the whole config, the checks across
sections, and :func:`load_config`. Every name keeps importing from here.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pydantic import Field

from recstack._validation import StrictModel, validate_model
from recstack.config.data import DataConfig, HistoryConfig, SplitConfig
from recstack.config.evaluation import EvalConfig
from recstack.config.sources import JoinSource, TableSource
from recstack.config.yaml_loader import read_yaml
from recstack.data.datasets import validate_dataset_options
from recstack.errors import ConfigError
from recstack.features.schema import Schema
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
            # a feature named like the column that reads another one: the typo may be its column:
            typo = (f" (the feature {unused[0]} reads column {schema[unused[0]].source_column!r}: if that is the "
                    f"typo, fix features.{unused[0]}.column)") if unused[0] in schema.names else " (a typo?)"
            raise ConfigError(
                f"data.defaults.{unused[0]}: no feature reads column {unused[0]!r}{typo}; "
                f"feature columns: {schema.columns}"
            )
        roles = [c for c in (cfg.data.user_column, cfg.data.item_column) if c in cfg.data.defaults]
        if roles:
            raise ConfigError(f"data.defaults.{roles[0]}: {roles[0]!r} is the "
                              f"{'user' if roles[0] == cfg.data.user_column else 'item'} column; an interaction "
                              "needs its own, so a default cannot stand in for it: drop the rows without one")
        es = cfg.train.early_stopping
        if es is not None and cfg.data.validation_fraction == 0:
            raise ConfigError("data.validation_fraction: 0 leaves no validation rows, which train.early_stopping "
                              "needs: set data.validation_fraction (e.g. 0.1), or remove train.early_stopping")
        if es is not None and not 1 <= cfg.train.eval_every <= cfg.train.epochs:
            raise ConfigError(f"train.eval_every: {cfg.train.eval_every} never evaluates in train.epochs "
                              f"{cfg.train.epochs}, so train.early_stopping could never stop; set train.eval_every "
                              f"between 1 and {cfg.train.epochs}, or remove train.early_stopping")
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
        if hist is not None and hist.column not in schema.columns_of(f for f in used if f in schema.names):
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
            f"model.query: {both} {'is' if len(both) == 1 else 'are'} in model.candidate too: a candidate feature on "
            "the query side tells the model the answer; remove it from model.query (keep each feature on one side)"
        )
    declared = [f for f in sides["candidate"] if getattr(schema[f], "context", False)]
    if declared:  # request context describes the query; a candidate is scored without one
        raise ConfigError(f"features.{declared[0]}.context: true declares request context, which only a "
                          f"model.query feature can be; {declared[0]!r} is in model.candidate: remove context")
    candidate_columns = {c: f for f in sides["candidate"] for c in schema[f].source_columns}
    for f, col in ((f, c) for f in sides["query"] for c in schema[f].source_columns):
        if col in candidate_columns:
            raise ConfigError(
                f"model.query: feature {f!r} reads column {col!r}, which the candidate feature "
                f"{candidate_columns[col]!r} reads: on the query side it tells the model the answer; remove it "
                "from model.query (a user's past items belong in a history column, data.history)"
            )


def load_config(path: str | Path) -> ExperimentConfig:
    """Reads and validates a YAML experiment config."""
    p = Path(path)
    if p.is_dir():
        raise ConfigError(f"config file {str(p)!r} is a folder; give the YAML file inside it")
    if not p.is_file():
        raise ConfigError(f"config file {str(p)!r} does not exist")
    return ExperimentConfig.from_dict(read_yaml(p), base_dir=str(p.resolve().parent))

"""The validated experiment config (YAML <-> typed models)."""

from recstack.config.experiment import (
    DataConfig,
    EvalConfig,
    ExperimentConfig,
    HistoryConfig,
    SplitConfig,
    TableSource,
    load_config,
)

__all__ = ["DataConfig", "EvalConfig", "ExperimentConfig", "HistoryConfig", "SplitConfig", "TableSource", "load_config"]

"""recstack: deep-learning recommender systems on PyTorch, from raw tables to served models.

Importing recstack has no side effects. The top-level API::

    recstack.load(dir)           -> Recommender (recommend / score / rank / similar / is_known on raw inputs)
    recstack.load_config(path)   -> ExperimentConfig (every key: docs/config.md)
    recstack.RetrievalExperiment -> fit / evaluate / save from a config
    recstack.Schema              -> feature specs
"""

from recstack._version import __version__
from recstack.artifacts import Recommender, load
from recstack.config import ExperimentConfig, load_config
from recstack.errors import (
    AlreadyFittedError,
    ArtifactError,
    ConfigError,
    DataError,
    DatasetUnavailableError,
    MissingValueError,
    NotFittedError,
    RecstackError,
    SchemaError,
    UnknownIDError,
)
from recstack.experiment import RetrievalExperiment
from recstack.features import Schema

__all__ = [
    "AlreadyFittedError",
    "ArtifactError",
    "ConfigError",
    "DataError",
    "DatasetUnavailableError",
    "ExperimentConfig",
    "MissingValueError",
    "NotFittedError",
    "Recommender",
    "RecstackError",
    "RetrievalExperiment",
    "Schema",
    "SchemaError",
    "UnknownIDError",
    "__version__",
    "load",
    "load_config",
]

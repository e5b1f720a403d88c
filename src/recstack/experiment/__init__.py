"""Experiments: the library calls behind ``recstack train`` (config in, artifact out)."""

from recstack.experiment.retrieval import Catalogue, RetrievalExperiment
from recstack.experiment.tables import Tables, load_tables

__all__ = ["Catalogue", "RetrievalExperiment", "Tables", "load_tables"]

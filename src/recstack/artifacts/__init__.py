"""Artifacts: a trained model as a directory (JSON + safetensors) and the Recommender."""

from recstack.artifacts.io import load, save
from recstack.artifacts.manifest import FORMAT_VERSION, read_manifest
from recstack.artifacts.recommender import Recommender

__all__ = ["FORMAT_VERSION", "Recommender", "load", "read_manifest", "save"]

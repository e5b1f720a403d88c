"""Models: compositions of layers, built from a config and the preprocessor's outputs."""

from recstack.models.base import MODELS, RecModel, build_model
from recstack.models.two_tower import TwoTower, TwoTowerConfig

__all__ = ["MODELS", "RecModel", "TwoTower", "TwoTowerConfig", "build_model"]

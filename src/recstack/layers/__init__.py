"""Reusable blocks: feature embedders, MLPs, retrieval helpers."""

from recstack.layers.embedding import FeatureEmbedding
from recstack.layers.mlp import MLP

__all__ = ["FeatureEmbedding", "MLP"]

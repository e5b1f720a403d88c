"""The shape every built-in dataset returns, and the dataset registry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from recstack.registry import Registry

__all__ = ["InteractionData", "DATASETS", "load_dataset", "list_datasets"]


@dataclass
class InteractionData:
    """Interactions split into ``train``/``test`` (side features joined), plus entity tables.

    Columns shared by all built-in datasets: ``user_id``, ``item_id``, ``rating``,
    ``timestamp``, ``title``, ``genres``.
    """

    name: str
    train: pd.DataFrame
    test: pd.DataFrame
    items: pd.DataFrame
    users: pd.DataFrame


DATASETS: Registry[Callable[..., InteractionData]] = Registry("dataset")


def load_dataset(name: str, **kwargs: Any) -> InteractionData:
    """Loads a built-in dataset by name (``movielens-100k``, ``synthetic``)."""
    return DATASETS.get(name, path="data.dataset")(**kwargs)


def list_datasets() -> list[str]:
    return DATASETS.names()

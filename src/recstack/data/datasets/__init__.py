"""Built-in datasets: ``movielens-100k`` (local or downloaded) and ``synthetic``."""

from collections.abc import Mapping
from typing import Any

from recstack.data.datasets.base import (
    DATASETS,
    InteractionData,
    list_datasets,
    load_dataset,
    validate_dataset_options,
)
from recstack.data.datasets.movielens import download_movielens_100k, find_movielens_100k, load_movielens_100k
from recstack.data.datasets.synthetic import make_synthetic

__all__ = [
    "DATASETS",
    "InteractionData",
    "download_movielens_100k",
    "fetch_dataset",
    "find_movielens_100k",
    "list_datasets",
    "load_dataset",
    "load_movielens_100k",
    "make_synthetic",
    "validate_dataset_options",
    "dataset_has_test",
]


def dataset_has_test(name: str, options: Mapping[str, Any]) -> bool:
    """Whether the built-in dataset ``name`` loaded with ``options`` brings its own test rows
    (then ``data.split`` has nothing to divide): ``movielens-100k`` does but with ``split: all``;
    ``synthetic`` and datasets registered by users are taken to."""
    if name == "movielens-100k":
        return options.get("split", "u1") != "all"
    return True


def fetch_dataset(name: str, *, cache_dir: str | None = None) -> str:
    """Makes a dataset available locally and returns its folder (``synthetic`` needs none)."""
    if name == "synthetic":
        return "(synthetic data is generated, nothing to fetch)"
    if name != "movielens-100k":
        DATASETS.get(name)  # an unknown name: the registry's error lists the known ones
        return f"({name} has no files to fetch: its loader reads them itself)"
    found, tried = find_movielens_100k(None, cache_dir)
    return str(found or download_movielens_100k(cache_dir, searched=tried))

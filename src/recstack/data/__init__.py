"""Data: readers, splits, histories, negative samplers, batches, built-in datasets."""

from recstack.data.batch import Batch
from recstack.data.dataset import BatchIterator, TensorDataset
from recstack.data.history import add_history
from recstack.data.readers import read_table
from recstack.data.splits import given_split, leave_last_n, random_split, temporal_split
from recstack.data.datasets import InteractionData, list_datasets, load_dataset

__all__ = [
    "Batch",
    "BatchIterator",
    "InteractionData",
    "TensorDataset",
    "add_history",
    "given_split",
    "leave_last_n",
    "list_datasets",
    "load_dataset",
    "random_split",
    "read_table",
    "temporal_split",
]

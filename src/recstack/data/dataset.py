"""A columnar in-memory dataset and a batch iterator that slices contiguous tensors."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np
import torch
from torch import Tensor

from recstack.data.batch import Batch
from recstack.errors import DataError

__all__ = ["TensorDataset", "BatchIterator"]


class TensorDataset:
    """Rows stored as whole-column tensors (all with the same first dimension).

    int64 feature columns whose values fit in int32 (every vocabulary index does) are
    stored as int32 and widened back to int64 per batch: a padded ``(n, L)`` history column
    is the largest tensor of a sequence-aware run, and the per-epoch shuffle copies it.

    Args:
        features: ``{key: tensor}`` from ``Preprocessor.transform``.
        labels: ``{name: (n,) tensor}``.
        weights: ``(n,)`` per-row weights or ``None``.
    """

    def __init__(
        self,
        features: Mapping[str, Tensor],
        labels: Mapping[str, Tensor] | None = None,
        weights: Tensor | None = None,
    ) -> None:
        self.features, self._narrowed = _narrow_ids(features)
        self.labels = {k: v.float() for k, v in (labels or {}).items()}
        self.weights = None if weights is None else weights.float()
        sizes = {k: int(v.shape[0]) for k, v in {**self.features, **self.labels}.items()}
        if self.weights is not None:
            sizes["<weights>"] = int(self.weights.shape[0])
        if not sizes:
            raise DataError("TensorDataset needs at least one feature or label column")
        if len(set(sizes.values())) != 1:
            raise DataError(f"columns have different numbers of rows: {sizes}")
        self.num_rows = next(iter(sizes.values()))
        if self.num_rows == 0:
            raise DataError("the dataset is empty (0 rows); check the input table and any filters")

    def __len__(self) -> int:
        return self.num_rows

    def take(self, index: Tensor) -> TensorDataset:
        """A new dataset with the rows at ``index`` (int64 positions)."""
        out = TensorDataset(
            {k: v.index_select(0, index) for k, v in self.features.items()},
            {k: v.index_select(0, index) for k, v in self.labels.items()},
            None if self.weights is None else self.weights.index_select(0, index),
        )
        out._narrowed = out._narrowed | self._narrowed  # a subset may fit int32 where the whole did not
        return out

    def column(self, key: str) -> Tensor:
        """Feature column ``key`` as given (int64 where it was stored narrowed); a copy if so."""
        v = self.features[key]
        return v.long() if key in self._narrowed else v

    def batch(self, start: int, stop: int) -> Batch:
        """Rows ``start:stop`` as a :class:`Batch`: views, except int64 copies of narrowed IDs."""
        return Batch(
            {k: v[start:stop].long() if k in self._narrowed else v[start:stop] for k, v in self.features.items()},
            {k: v[start:stop] for k, v in self.labels.items()},
            None if self.weights is None else self.weights[start:stop],
        )


def _narrow_ids(features: Mapping[str, Tensor]) -> tuple[dict[str, Tensor], frozenset[str]]:
    """Stores int64 columns whose values fit in int32 as int32; returns them and their keys."""
    out, narrowed = dict(features), set()
    lo, hi = torch.iinfo(torch.int32).min, torch.iinfo(torch.int32).max
    for k, v in features.items():
        if v.dtype == torch.int64 and v.numel() and lo <= int(v.min()) and int(v.max()) <= hi:
            out[k] = v.to(torch.int32)
            narrowed.add(k)
    return out, frozenset(narrowed)


class BatchIterator:
    """Yields :class:`Batch` objects over a :class:`TensorDataset`.

    With ``shuffle``, each epoch draws one permutation from a seeded generator
    (seeded by the pair ``(seed, epoch)``, so epochs differ, a run repeats, and runs with
    neighbouring seeds do not share shifted epochs), gathers every column once
    into contiguous storage, then yields views: no per-row Python.

    Args:
        dataset: the rows.
        batch_size: rows per batch.
        shuffle: permute rows each epoch.
        seed: base seed of the permutation.
        drop_last: skip a final short batch.
    """

    def __init__(
        self,
        dataset: TensorDataset,
        batch_size: int,
        *,
        shuffle: bool = False,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.drop_last = drop_last
        self.epoch = 0

    def __len__(self) -> int:
        n, b = len(self.dataset), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def set_epoch(self, epoch: int) -> None:
        """Selects the permutation of ``epoch`` (used on resume)."""
        self.epoch = epoch

    def __iter__(self) -> Iterator[Batch]:
        ds = self.dataset
        if self.shuffle:
            gen = torch.Generator().manual_seed(_epoch_seed(self.seed, self.epoch))
            ds = ds.take(torch.randperm(len(ds), generator=gen))
        self.epoch += 1
        n = len(ds)
        stop = (n // self.batch_size) * self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            yield ds.batch(start, min(start + self.batch_size, n))


def _epoch_seed(seed: int, epoch: int) -> int:
    """A 63-bit seed mixed from ``(seed, epoch)``: seed 43's epoch 1 is not seed 42's epoch 2."""
    state = np.random.SeedSequence([seed % 2**64, epoch]).generate_state(2, dtype=np.uint32)
    return (int(state[0]) << 31) ^ int(state[1])

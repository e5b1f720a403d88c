"""The ``Batch``: what a model's ``forward`` receives.

Layout (``B`` rows)::

    Batch.features  {key: tensor}  keys and layouts from the preprocessor's OutputSpecs
                                   "id" (B,) int64 | "ids" (B, L) int64, 0 = pad | "value" (B,) float32
    Batch.labels    {name: (B,) float32}     e.g. {"rating": ...}; empty for retrieval
    Batch.weights   (B,) float32 or None     per-example loss weights
    Batch.extras    {name: tensor}           task inputs that are not features, e.g.
                                             sampled negatives' feature tensors
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

__all__ = ["Batch"]


@dataclass
class Batch:
    """A slice of rows as named tensors (see the module docstring for the layout)."""

    features: dict[str, Tensor]
    labels: dict[str, Tensor] = field(default_factory=dict)
    weights: Tensor | None = None
    extras: dict[str, Tensor] = field(default_factory=dict)

    def __len__(self) -> int:
        for t in self.features.values():
            return int(t.shape[0])
        for t in self.labels.values():
            return int(t.shape[0])
        return 0

    def to(self, device: torch.device | str) -> Batch:
        """The same batch on ``device`` (non-blocking copies)."""

        def mv(d: dict[str, Tensor]) -> dict[str, Tensor]:
            return {k: v.to(device, non_blocking=True) for k, v in d.items()}

        w = None if self.weights is None else self.weights.to(device, non_blocking=True)
        return Batch(mv(self.features), mv(self.labels), w, mv(self.extras))

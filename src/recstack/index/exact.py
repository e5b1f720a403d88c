"""Exact top-K search over candidate embeddings (chunked matmul + topk)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

__all__ = ["CandidateIndex", "ExactIndex"]


class CandidateIndex:
    """Base of candidate indexes: ``search(queries, k, exclude=...) -> (scores, rows)``."""

    embeddings: Tensor
    ids: list[Any]

    def search(
        self, queries: Tensor, k: int, *, exclude: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, Tensor]:  # pragma: no cover
        raise NotImplementedError


class ExactIndex(CandidateIndex):
    """Brute-force maximum inner product search, ``chunk_size`` queries at a time.

    Ties are broken by the lower candidate row (results sorted by ``(-score, row)``), so
    answers are deterministic.

    Args:
        embeddings: ``(C, d)`` candidate vectors.
        ids: raw ID of each row (defaults to the row numbers).
    """

    def __init__(self, embeddings: Tensor, ids: Sequence[Any] | None = None, *, chunk_size: int = 1024) -> None:
        if embeddings.ndim != 2:
            raise ValueError(f"embeddings must be (C, d), got shape {tuple(embeddings.shape)}")
        self.embeddings = embeddings.detach().float().contiguous()
        self.ids = list(range(len(embeddings))) if ids is None else list(ids)
        if len(self.ids) != len(self.embeddings):
            raise ValueError(f"{len(self.ids)} ids for {len(self.embeddings)} embeddings")
        self.chunk_size = chunk_size

    def search(
        self, queries: Tensor, k: int, *, exclude: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, Tensor]:
        """Top ``k`` rows per query: ``scores (Q, k)``, ``rows (Q, k)`` (``-1``/``-inf`` padding
        where fewer than ``k`` candidates remain after exclusion)."""
        if queries.ndim != 2 or queries.shape[1] != self.embeddings.shape[1]:
            raise ValueError(f"queries must be (Q, {self.embeddings.shape[1]}), got {tuple(queries.shape)}")
        c = len(self.embeddings)
        k = max(0, min(int(k), c))
        n = queries.shape[0]
        all_scores = torch.full((n, k), float("-inf"))
        all_rows = torch.full((n, k), -1, dtype=torch.long)
        for start in range(0, n, self.chunk_size):
            stop = min(start + self.chunk_size, n)
            scores = queries[start:stop].float() @ self.embeddings.T
            if exclude is not None:
                offsets, items = exclude
                lengths = offsets[start + 1 : stop + 1] - offsets[start:stop]
                r = torch.repeat_interleave(torch.arange(stop - start), lengths)
                scores[r, items[int(offsets[start]) : int(offsets[stop])]] = float("-inf")
            # stable descending sort on scores gives (-score, row) order
            top_scores, top_rows = torch.sort(scores, dim=1, descending=True, stable=True)
            top_scores, top_rows = top_scores[:, :k], top_rows[:, :k]
            top_rows = torch.where(torch.isinf(top_scores), torch.full_like(top_rows, -1), top_rows)
            all_scores[start:stop], all_rows[start:stop] = top_scores, top_rows
        return all_scores, all_rows

    def ids_for(self, rows: Tensor) -> list[list[Any]]:
        """Raw IDs of ``rows`` from :meth:`search` (``-1`` padding dropped)."""
        return [[self.ids[i] for i in r if i >= 0] for r in rows.tolist()]

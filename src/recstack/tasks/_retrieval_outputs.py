"""The retrieval model outputs a task reads, and helpers over them (shared by the in-batch and
the catalogue softmax)."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["CANDIDATE_ROW", "NEG_PREFIX", "identities", "query_index", "remove_from_normalizer", "row_queries"]

NEG_PREFIX = "negative:"
CANDIDATE_ROW = ".candidate_row"
"""Batch feature: each row's item identity (catalogue row). The leading dot keeps it apart from
feature outputs, whose names cannot start with one."""


def identities(outputs: dict[str, Tensor]) -> tuple[Tensor, Tensor, bool]:
    """What tells two candidates apart: item rows when the batch carries them for the
    candidates and the sampled negatives alike, else candidate-key IDs; and which it is."""
    ids = outputs["candidate_ids"]
    neg_ids = outputs.get("negative_ids", ids[:0])
    if "candidate_rows" in outputs and ("negative" not in outputs or "negative_rows" in outputs):
        return outputs["candidate_rows"], outputs.get("negative_rows", ids[:0]), True
    return ids, neg_ids, False


def query_index(outputs: dict[str, Tensor]) -> Tensor:
    """Row -> unique query (the model may deduplicate queries); identity when it did not."""
    if "query_index" in outputs:
        return outputs["query_index"]
    return torch.arange(outputs["positive"].shape[0], device=outputs["positive"].device)


def row_queries(outputs: dict[str, Tensor]) -> Tensor:
    """``(B, d)`` one query vector per example."""
    q = outputs["query"]
    return q.index_select(0, outputs["query_index"]) if "query_index" in outputs else q


def remove_from_normalizer(lse: Tensor, removed: Tensor) -> Tensor:
    """``log(exp(lse) * (1 - removed))``; ``removed`` < 1 is the share of mass to drop.

    In float64: when the removed columns dominate, ``1 - removed`` is small and float32
    would lose most of its digits.
    """
    keep = (1.0 - removed.double()).clamp_min(1e-300)
    return lse + torch.log(keep).to(lse.dtype)

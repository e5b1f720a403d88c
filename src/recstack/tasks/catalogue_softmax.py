"""The exact softmax over the whole candidate catalogue (``task.candidates: catalogue``).

Every item of the catalogue is a column: no sampling bias to correct and no accidental hit to
remove, except other catalogue rows that carry the positive's (OOV) ID when the batch does
not tell items apart (``CANDIDATE_ROW``). ``Q x C`` logits per step while they fit
``LOGITS_BUDGET``; above it the normalizer is streamed over blocks of the catalogue
(:mod:`~recstack.tasks.streamed_logsumexp`), so memory stays bounded and the cost is
``Q x C x d`` multiply-adds per step, three times over.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from recstack.errors import ConfigError
from recstack.tasks._retrieval_outputs import query_index, remove_from_normalizer, row_queries
from recstack.tasks.streamed_logsumexp import LOGITS_BUDGET, catalogue_logsumexp

__all__ = ["catalogue_logits", "catalogue_positives", "catalogue_row_loss", "shared_id_hits"]


def catalogue_positives(outputs: dict[str, Tensor], row_of: Tensor | None) -> tuple[Tensor, Tensor]:
    """Each row's positive ID and its catalogue column; a clear error when one is missing.

    ``row_of``: candidate-key ID -> catalogue row (-1: absent), on the outputs' device.
    """
    if "negative" not in outputs or row_of is None:
        raise ConfigError("task.candidates=catalogue: the batch carries no catalogue; call prepare_batch(...)")
    positive_ids = outputs["candidate_ids"][outputs["positive"]]
    if "candidate_rows" in outputs:  # the item itself is known: its own row, even for an OOV ID
        cols = outputs["candidate_rows"][outputs["positive"]]
        outside = (cols < 0) | (cols >= outputs["negative"].shape[0])
        if bool(outside.any()):
            raise ConfigError(
                f"task.candidates=catalogue: {int(outside.sum())} training rows have an item that is not in the "
                "catalogue; build the catalogue from every training item (or use candidates: in_batch)"
            )
        return positive_ids, cols
    cols = row_of[positive_ids.clamp_max(row_of.numel() - 1)]
    missing = (cols < 0) | (positive_ids >= row_of.numel())
    if bool(missing.any()):
        bad = positive_ids[missing][:5].tolist()
        raise ConfigError(
            f"task.candidates=catalogue: positives with candidate-key indices {bad} are not in the "
            "catalogue; build the catalogue from every training item (or use candidates: in_batch)"
        )
    return positive_ids, cols


def shared_id_hits(
    outputs: dict[str, Tensor], positive_ids: Tensor, cols: Tensor, shared_values: Tensor | None
) -> tuple[Tensor, Tensor] | None:
    """``(rows, columns)``: other catalogue rows carrying a row's positive (OOV) ID; None if none.

    Only rows whose positive ID occurs more than once in the catalogue are compared
    with it (usually none: training positives are known IDs), not a ``(B, C)`` mask.
    ``shared_values``: the IDs several catalogue rows carry (on the outputs' device), ``None``
    when none do or when accidental hits are kept.
    """
    if shared_values is None or "candidate_rows" in outputs:
        return None  # with item identities, other items sharing the OOV ID are true negatives
    rows = torch.isin(positive_ids, shared_values).nonzero().squeeze(1)
    if rows.numel() == 0:
        return None
    same = outputs["negative_ids"].unsqueeze(0) == positive_ids[rows].unsqueeze(1)  # (R, C)
    same[torch.arange(rows.numel(), device=rows.device), cols[rows]] = False
    r, c = same.nonzero(as_tuple=True)
    return rows[r], c


def catalogue_logits(
    outputs: dict[str, Tensor], *, temperature: float, row_of: Tensor | None, shared_values: Tensor | None
) -> tuple[Tensor, Tensor, Tensor]:
    """The reference ``(B, C)`` logits over the whole catalogue, each row's positive column, a zero offset."""
    q = row_queries(outputs)
    positive_ids, cols = catalogue_positives(outputs, row_of)
    logits = q @ outputs["negative"].T / temperature  # (B, C)
    same = shared_id_hits(outputs, positive_ids, cols, shared_values)
    if same is not None:  # other catalogue rows with the positive's (OOV) ID are not negatives
        logits = logits.index_put(same, logits.new_tensor(torch.finfo(logits.dtype).min / 2))
    return logits, cols, torch.zeros(q.shape[0], device=q.device)


def catalogue_row_loss(
    outputs: dict[str, Tensor], *, temperature: float, row_of: Tensor | None, shared_values: Tensor | None
) -> Tensor:
    """``(B,)`` loss of each example under the full-catalogue softmax, on unique queries."""
    positive_ids, cols = catalogue_positives(outputs, row_of)
    q = outputs["query"] / temperature
    qi = query_index(outputs)
    neg = outputs["negative"]
    same = shared_id_hits(outputs, positive_ids, cols, shared_values)
    if q.shape[0] * neg.shape[0] <= LOGITS_BUDGET:
        scores = q @ neg.T  # (Q, C)
        if same is None and "query_index" not in outputs:
            return F.cross_entropy(scores, cols, reduction="none")  # one row per example: fused log-softmax
        lse = torch.logsumexp(scores, dim=1)[qi]
    else:  # a big catalogue: the normalizer streamed over blocks of it, no (Q, C) logits
        lse = catalogue_logsumexp(q, neg)[qi]

    def row_logits(rows: Tensor, columns: Tensor) -> Tensor:
        # per-pair dot products: gathering from the (Q, C) scores would make backward
        # allocate and fill a (Q, C) zero gradient
        return (q.index_select(0, qi[rows]) * neg.index_select(0, columns)).sum(1)

    pos_logit = row_logits(torch.arange(len(cols), device=cols.device), cols)
    if same is None:
        return lse - pos_logit
    hit_rows, hit_cols = same
    hit_share = torch.exp(row_logits(hit_rows, hit_cols).to(lse.dtype) - lse[hit_rows])
    removed = torch.zeros_like(lse).index_add(0, hit_rows, hit_share)
    return remove_from_normalizer(lse, removed) - pos_logit

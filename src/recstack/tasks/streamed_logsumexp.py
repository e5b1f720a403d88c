"""``logsumexp(q @ c.T, dim=1)`` without a ``(Q, C)`` matrix: the full-catalogue softmax's
normalizer, streamed over blocks of the catalogue and recomputed block by block in backward.

Exact (up to float summation order). Memory is ``Q x block`` scores instead of ``Q x C``
logits plus their softmax and gradient, which is what lets ``task.candidates: catalogue``
train on catalogues of 10^5 items and more (the scale review measured +1.96 GB at 20k items
and about 10 GB projected at 100k with the dense path). The cost is one more matmul per block
in backward (the scores are recomputed rather than kept).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

__all__ = ["LOGITS_BUDGET", "catalogue_logsumexp"]

LOGITS_BUDGET = 1 << 26  # (Q, C) logits the dense path may hold (256 MB of float32); larger streams


def catalogue_logsumexp(q: Tensor, candidates: Tensor, *, budget: int = LOGITS_BUDGET) -> Tensor:
    """``(Q,)`` ``logsumexp(q @ candidates.T, dim=1)``, differentiable in both arguments.

    Dense (one matmul and ``torch.logsumexp``) when ``Q x C`` fits ``budget``, else streamed
    over blocks of ``max(1, budget // Q)`` candidates.
    """
    n, c = q.shape[0], candidates.shape[0]
    if n * c <= budget:
        return torch.logsumexp(q @ candidates.T, dim=1)
    block = max(1, budget // max(n, 1))
    out: Tensor = _StreamedLogSumExp.apply(q, candidates, block)
    return out


class _StreamedLogSumExp(torch.autograd.Function):
    """Forward: a running (max, sum of exp) over candidate blocks. Backward: per block, the
    softmax ``p = exp(s - lse) * grad`` gives ``grad_q += p @ c_block`` and
    ``grad_c[block] = p.T @ q``."""

    @staticmethod
    def forward(ctx: Any, q: Tensor, candidates: Tensor, block: int) -> Tensor:
        n = q.shape[0]
        running_max = torch.full((n,), float("-inf"), dtype=q.dtype, device=q.device)
        running_sum = torch.zeros(n, dtype=q.dtype, device=q.device)
        for start in range(0, candidates.shape[0], block):
            s = q @ candidates[start : start + block].T
            new_max = torch.maximum(running_max, s.max(dim=1).values)
            safe = torch.where(torch.isfinite(new_max), new_max, torch.zeros_like(new_max))
            # in place: one (Q, block) buffer per block
            running_sum = running_sum * torch.exp(running_max - safe) + s.sub_(safe[:, None]).exp_().sum(dim=1)
            running_max = new_max
        safe = torch.where(torch.isfinite(running_max), running_max, torch.zeros_like(running_max))
        lse = safe + torch.log(running_sum)
        ctx.save_for_backward(q, candidates, lse)
        ctx.block = block
        return lse

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None, None]:
        q, candidates, lse = ctx.saved_tensors
        need_q, need_c = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        grad_q = torch.zeros_like(q) if need_q else None
        grad_c = torch.zeros_like(candidates) if need_c else None
        for start in range(0, candidates.shape[0], ctx.block):
            c_block = candidates[start : start + ctx.block]
            p = (q @ c_block.T).sub_(lse[:, None]).exp_().mul_(grad[:, None])  # (Q, block) softmax x upstream, in place
            if grad_q is not None:
                grad_q += p @ c_block
            if grad_c is not None:
                grad_c[start : start + ctx.block] = p.T @ q
        return grad_q, grad_c, None

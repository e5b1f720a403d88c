"""Divergence checks after each epoch: a model with non-finite weights or outputs is an
error, never a checkpoint or a saved model."""

from __future__ import annotations

import torch

from recstack.data.batch import Batch
from recstack.models.base import RecModel

__all__ = ["check_finite", "FIX"]

FIX = "training diverged: lower train.lr or set train.grad_clip (e.g. 1.0)"


def check_finite(model: RecModel, batch: Batch | None, epoch: int) -> None:
    """Raises ``FloatingPointError`` when a parameter of ``model`` holds NaN or inf, or when the
    model's outputs on ``batch`` (the epoch's last, already prepared) do: weights can be finite
    but so large that the towers overflow. Runs in eval mode (no dropout, no random draws), so a
    run's results do not depend on it."""
    for name, p in model.named_parameters():
        if not bool(torch.isfinite(p).all()):
            bad = int((~torch.isfinite(p)).sum())
            raise FloatingPointError(f"parameter {name} has {bad} NaN or infinite values after epoch {epoch}; {FIX}")
    if batch is None:
        return
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():  # the batch's own rows: not its extras (a catalogue, embedded again)
            outputs = model(Batch(batch.features, batch.labels, batch.weights, {}))
    finally:
        model.train(was_training)
    for key, out in outputs.items():
        if torch.is_tensor(out) and out.is_floating_point() and not bool(torch.isfinite(out).all()):
            bad = int((~torch.isfinite(out)).sum())
            raise FloatingPointError(f"the model's {key} outputs have {bad} NaN or infinite values after epoch "
                                     f"{epoch} on the epoch's last batch (its weights are finite but overflow); {FIX}")

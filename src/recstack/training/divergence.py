"""Checks after each epoch: a model with non-finite weights or outputs is an error, never a
checkpoint or a saved model (divergence); a part that gives every row the same output is named
so the trainer can warn (collapse: it still trains, but cannot tell its inputs apart)."""

from __future__ import annotations

import torch

from recstack.data.batch import Batch
from recstack.models.base import RecModel

__all__ = ["check_finite", "collapse_message", "FIX"]

FIX = "training diverged: lower train.lr or set train.grad_clip (e.g. 1.0)"


def collapse_message(parts: list[str], epoch: int) -> str:
    """The warning for parts that :func:`check_finite` found constant after ``epoch``."""
    return (f"after epoch {epoch}, on a batch of the epoch, {' and '.join(parts)} one and the same vector: "
            "the model cannot tell them apart, so nearly every query gets the same ranking. With model.layers "
            "this is usually the ReLU units of the MLP gone inactive after steps too large for it, and such units "
            "do not recover: retrain with a lower train.lr (e.g. 0.02), or with train.optimizer: adam and "
            "train.lr 0.001 to 0.005")


def check_finite(model: RecModel, batch: Batch | None, epoch: int, *, collapse: bool = True) -> list[str]:
    """Raises ``FloatingPointError`` when a parameter of ``model`` holds NaN or inf, or when the
    model's outputs on ``batch`` (the epoch's last full-size one, already prepared) do: weights
    can be finite but so large that the towers overflow. Runs in eval mode (no dropout, no
    random draws), so a run's results do not depend on it.

    Returns:
        with ``collapse``, the parts of the model whose outputs on ``batch`` are constant
        although their inputs differ (:meth:`~recstack.models.base.RecModel.constant_outputs`);
        else (once warned of: a collapsed MLP stays so), or without a batch, empty.
    """
    for name, p in model.named_parameters():
        if not bool(torch.isfinite(p).all()):
            bad = int((~torch.isfinite(p)).sum())
            raise FloatingPointError(f"parameter {name} has {bad} NaN or infinite values after epoch {epoch}; {FIX}")
    if batch is None:
        return []
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():  # the batch's own rows: not its extras (a catalogue, embedded again)
            own = Batch(batch.features, batch.labels, batch.weights, {})
            outputs = model(own)
            constant = model.constant_outputs(own, outputs) if collapse else []
    finally:
        model.train(was_training)
    for key, out in outputs.items():
        if torch.is_tensor(out) and out.is_floating_point() and not bool(torch.isfinite(out).all()):
            bad = int((~torch.isfinite(out)).sum())
            raise FloatingPointError(f"the model's {key} outputs have {bad} NaN or infinite values after epoch "
                                     f"{epoch} on a batch of the epoch (its weights are finite but overflow); {FIX}")
    return constant

"""Training settings (config section ``train``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from recstack._validation import StrictModel

__all__ = ["TrainConfig", "EarlyStoppingConfig"]


class EarlyStoppingConfig(StrictModel):
    """Stop when ``metric`` has not improved for ``patience`` evaluations.

    Attributes:
        metric: a validation metric name, e.g. ``hit_rate@100`` (one of ``eval.metrics``).
        mode: ``max`` for accuracy-like metrics, ``min`` for losses/errors.
        patience: evaluations without improvement before stopping.
        min_delta: smallest change that counts as an improvement.
        restore_best: load the best epoch's weights when training ends.
    """

    metric: str
    mode: Literal["max", "min"] = "max"
    patience: int = Field(default=3, ge=1)
    min_delta: float = Field(default=0.0, ge=0)
    restore_best: bool = True


class TrainConfig(StrictModel):
    """How to train. Defaults train the MovieLens two-tower well out of the box.

    Attributes:
        optimizer: ``adagrad`` (default, robust for sparse embeddings), ``adam``,
            ``adamw`` or ``sgd``.
        lr: learning rate.
        adagrad_initial_accumulator: Adagrad's starting sum of squared gradients, in the
            units of a loss SUMMED over the batch, like Keras' ``initial_accumulator_value``
            (0.1) under TFRS. recstack averages the loss, so torch gets
            ``value / batch_size**2``, which makes the steps equal to Keras'. With 0, any
            parameter whose gradient is only rounding noise (e.g. a last-layer bias that
            shifts every candidate's score equally) takes full ``lr``-sized steps.
        weight_decay: L2 penalty (decoupled for ``adamw``).
        batch_size: rows per step.
        epochs: maximum number of passes over the training data.
        eval_every: evaluate every this many epochs (0: never during training).
        early_stopping: optional, see :class:`EarlyStoppingConfig`.
        seed: makes a run repeatable on CPU: shuffling and negative sampling, and the initial
            weights when the model is built after ``seed_everything(seed)`` (as
            ``RetrievalExperiment`` does; ``Trainer.fit`` seeds only when it starts). From
            -2**63 to 2**64 - 1, torch's range; a negative seed ``s`` runs as ``s + 2**64``.
        grad_clip: clip the global gradient norm to this value.
        checkpoint_every: write a checkpoint every this many epochs (0: never); only when the
            trainer has a ``run_dir``, i.e. ``recstack train --keep-checkpoints``, which writes
            them to ``OUTPUT.run/checkpoints/epoch-NNNN/``.
        progress: one summary line per epoch on stderr (loss, validation metrics, time), and
            a live progress bar with the loss while stderr is a terminal (not in log files).
    """

    optimizer: Literal["adagrad", "adam", "adamw", "sgd"] = "adagrad"
    lr: float = Field(default=0.1, gt=0)
    adagrad_initial_accumulator: float = Field(default=0.1, ge=0)
    weight_decay: float = Field(default=0.0, ge=0)
    batch_size: int = Field(default=8192, ge=1)
    epochs: int = Field(default=10, ge=1)
    eval_every: int = Field(default=1, ge=0)
    early_stopping: EarlyStoppingConfig | None = None
    seed: int = Field(default=42, ge=-(2**63), lt=2**64)
    grad_clip: float | None = Field(default=None, gt=0)
    checkpoint_every: int = Field(default=1, ge=0)
    progress: bool = True

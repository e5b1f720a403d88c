"""The ``Task`` contract: turns a model's named outputs and a batch into a loss."""

from __future__ import annotations

from typing import Any, ClassVar

from torch import Tensor, nn

from recstack.data.batch import Batch
from recstack.registry import Registry

__all__ = ["Task", "TASKS"]

TASKS: Registry[type[Task]] = Registry("task")


class Task(nn.Module):
    """Loss (and the metrics that belong to it) for one kind of objective.

    Subclasses implement :meth:`loss`. :meth:`prepare_batch` may add task inputs that are
    not features (e.g. sampled negatives) before the model runs; the default is a no-op.
    """

    kind: ClassVar[str] = ""

    def prepare_batch(self, batch: Batch) -> Batch:
        return batch

    def get_rng_state(self) -> Tensor | None:
        """State of the task's own random generator (e.g. negative sampling), for checkpoints."""
        return None

    def set_rng_state(self, state: Tensor) -> None:
        """Restores :meth:`get_rng_state`'s state (a task without a generator ignores it)."""

    def loss(self, outputs: dict[str, Tensor], batch: Batch) -> Tensor:  # pragma: no cover
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:  # pragma: no cover
        raise NotImplementedError

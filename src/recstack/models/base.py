"""The model contract and the registry from config names to model classes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from torch import Tensor, nn

from recstack._validation import StrictModel, validate_model
from recstack.data.batch import Batch
from recstack.preprocessing.outputs import OutputSpec
from recstack.registry import Registry

__all__ = ["RecModel", "MODELS", "build_model"]

MODELS: Registry[type[RecModel]] = Registry("model kind")


class RecModel(nn.Module):
    """Base of every model: ``forward(batch) -> {name: tensor}``; built from config + outputs.

    A model never sees optimizers, epochs or files: the ``Trainer`` loops, the ``Task``
    scores, artifacts save ``get_config()`` and the weights.

    Args:
        config: the model's validated config (``config_cls``).
        outputs: the fitted preprocessor's output specs (the feature map).
    """

    kind: ClassVar[str] = ""
    config_cls: ClassVar[type[StrictModel]]

    def __init__(self, config: StrictModel, outputs: Sequence[OutputSpec]) -> None:
        super().__init__()
        self.config = config
        self.outputs = list(outputs)

    def forward(self, batch: Batch) -> dict[str, Tensor]:  # pragma: no cover
        raise NotImplementedError

    def constant_outputs(self, batch: Batch, outputs: Mapping[str, Tensor]) -> list[str]:
        """What of ``outputs`` (the model's outputs on ``batch``) is one vector for every row
        although its input features differ: a collapsed part that ignores its input, e.g. an MLP
        whose ReLU units are all inactive. Each entry names the part and its config key; none
        by default (a model without such parts)."""
        return []

    def get_config(self) -> dict[str, Any]:
        """JSON-able config; ``build_model(kind, config, outputs)`` rebuilds the model."""
        return self.config.model_dump(mode="json")


def build_model(kind: str, config: dict[str, Any] | StrictModel, outputs: Sequence[OutputSpec]) -> RecModel:
    """Instantiates a registered model from its config dict (validated, errors name ``model.*``)."""
    cls = MODELS.get(kind, path="model.kind")
    cfg = config if isinstance(config, StrictModel) else validate_model(cls.config_cls, config, "model")
    return cls(cfg, outputs)

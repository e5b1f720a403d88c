"""A multilayer perceptron: Linear layers with an activation between them."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from recstack.errors import ConfigError

__all__ = ["MLP"]

_ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh, "silu": nn.SiLU}


class MLP(nn.Module):
    """``(B, in_dim) -> (B, layers[-1])``: Linear -> act [-> dropout] per hidden layer.

    The last layer has no activation unless ``final_activation`` (towers end in a plain
    linear map, as in the TFRS deep retrieval tutorial). ``layers=[]`` is the identity.

    Args:
        in_dim: input width.
        layers: output width of each layer.
        activation: ``relu`` (default), ``gelu``, ``tanh`` or ``silu``.
        dropout: dropout after each hidden activation.
        final_activation: also apply the activation after the last layer.
    """

    def __init__(
        self,
        in_dim: int,
        layers: Sequence[int],
        *,
        activation: str = "relu",
        dropout: float = 0.0,
        final_activation: bool = False,
    ) -> None:
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ConfigError(f"unknown activation {activation!r}; one of {sorted(_ACTIVATIONS)}")
        if any(w < 1 for w in layers):
            raise ConfigError(f"layer widths must be >= 1, got {list(layers)}")
        mods: list[nn.Module] = []
        width = in_dim
        for i, w in enumerate(layers):
            mods.append(nn.Linear(width, w))
            last = i == len(layers) - 1
            if not last or final_activation:
                mods.append(_ACTIVATIONS[activation]())
                if dropout > 0 and not last:
                    mods.append(nn.Dropout(dropout))
            width = w
        self.net = nn.Sequential(*mods)
        self.out_dim = width

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)

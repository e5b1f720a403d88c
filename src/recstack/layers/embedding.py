"""Feature embedders: every preprocessed tensor becomes one ``(B, d)`` field vector.

One :class:`FeatureEmbedding` owns all embedding tables of a model, so features that share
an ID space (an ``item_id`` and a ``history`` of item IDs) share one table even when they
sit in different towers. Towers and CTR bodies ask it for the fields they use::

    ids  "id"    (B,)    -> table lookup                      -> (B, d)
    ids  "ids"   (B, L)  -> lookups pooled over non-padding   -> (B, d)   (or (B, L, d) + mask)
    vals "value" (B,)    -> value * learned vector + bias     -> (B, d)

``fields(features, keys)`` stacks them to ``(B, F, d)`` for FM/DeepFM/DCN-style bodies;
``concat(features, keys)`` concatenates them to ``(B, sum d_i)`` for towers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from recstack.errors import ConfigError
from recstack.preprocessing.outputs import OutputSpec

__all__ = ["FeatureEmbedding"]


class FeatureEmbedding(nn.Module):
    """Embedding tables and per-feature embedders for a list of :class:`OutputSpec`.

    Args:
        outputs: the preprocessor's output specs (all features the model may use).
        embedding_dim: default size of every embedding (a spec's ``embedding_dim`` wins).
        init_std: standard deviation of the normal initialization. PyTorch's default
            ``N(0, 1)`` makes initial dot products huge and training unstable; 0.05 is
            close to Keras' ``uniform(-0.05, 0.05)`` scale.
        max_norm: optional max L2 norm of looked-up rows (``nn.Embedding(max_norm=...)``).
    """

    def __init__(
        self,
        outputs: Sequence[OutputSpec],
        *,
        embedding_dim: int,
        init_std: float = 0.05,
        max_norm: float | None = None,
    ) -> None:
        super().__init__()
        if embedding_dim < 1:
            raise ConfigError(f"model.embedding_dim must be >= 1, got {embedding_dim}")
        self.specs: dict[str, OutputSpec] = {o.key: o for o in outputs}
        self.embedding_dim = embedding_dim
        self.tables = nn.ModuleDict()
        self.value_weight = nn.ParameterDict()
        self.value_bias = nn.ParameterDict()
        for o in outputs:
            dim = o.embedding_dim or embedding_dim
            if o.kind in ("id", "ids"):
                name = o.table or o.feature
                if name in self.tables:
                    table = self.tables[name]
                    if table.num_embeddings != o.cardinality or table.embedding_dim != dim:
                        raise ConfigError(
                            f"features {o.key!r} and the table {name!r} disagree on size "
                            f"({o.cardinality}x{dim} vs {table.num_embeddings}x{table.embedding_dim})"
                        )
                    continue
                table = nn.Embedding(o.cardinality, dim, padding_idx=0, max_norm=max_norm)
                nn.init.normal_(table.weight, std=init_std)
                with torch.no_grad():
                    table.weight[: 1 + o.num_oov].zero_()  # padding and OOV rows (OutputSpec.num_oov)
                self.tables[name] = table
            elif o.kind == "value":
                self.value_weight[_pkey(o.key)] = nn.Parameter(torch.randn(dim) * init_std * math.sqrt(dim))
                self.value_bias[_pkey(o.key)] = nn.Parameter(torch.zeros(dim))
            else:  # pragma: no cover - OutputSpec kinds are closed
                raise ConfigError(f"unknown output kind {o.kind!r} for {o.key!r}")

    def dim_of(self, key: str) -> int:
        """Size of the vector this key's field produces."""
        o = self._spec(key)
        return o.embedding_dim or self.embedding_dim

    def table_of(self, key: str) -> nn.Embedding:
        """The embedding table behind an ``id``/``ids`` key."""
        o = self._spec(key)
        return self.tables[o.table or o.feature]  # type: ignore[return-value]

    def _spec(self, key: str) -> OutputSpec:
        try:
            return self.specs[key]
        except KeyError:
            raise ConfigError(f"unknown feature {key!r}; the preprocessor produces {sorted(self.specs)}") from None

    def field(self, features: Mapping[str, Tensor], key: str) -> Tensor:
        """The ``(B, d)`` vector of one feature."""
        o = self._spec(key)
        x = features[key]
        if o.kind == "value":
            return x.unsqueeze(-1) * self.value_weight[_pkey(key)] + self.value_bias[_pkey(key)]
        table = self.table_of(key)
        if o.kind == "id":
            return table(x)
        mode = o.pooling or "mean"
        if mode == "max":
            seq, mask = self.sequence(features, key)
            out = seq.masked_fill(~mask.unsqueeze(-1), float("-inf")).amax(dim=1)
            return torch.where(mask.any(dim=1, keepdim=True), out, torch.zeros_like(out))
        if mode == "sqrtn":  # sum / sqrt(n), TensorFlow's "sqrtn" combiner
            total = F.embedding_bag(x, table.weight, mode="sum", padding_idx=0, max_norm=table.max_norm)
            return total * (x != 0).sum(dim=1, keepdim=True).clamp_min(1).to(total.dtype).rsqrt()
        # embedding_bag skips padding_idx entries; a row of only padding pools to zeros.
        return F.embedding_bag(x, table.weight, mode=mode, padding_idx=0, max_norm=table.max_norm)

    def sequence(self, features: Mapping[str, Tensor], key: str) -> tuple[Tensor, Tensor]:
        """Unpooled ``(B, L, d)`` embeddings and the ``(B, L)`` bool mask of an ``ids`` key."""
        o = self._spec(key)
        if o.kind != "ids":
            raise ConfigError(f"feature {key!r} is {o.kind!r}, not a sequence of ids")
        x = features[key]
        return self.table_of(key)(x), x != 0

    def concat(self, features: Mapping[str, Tensor], keys: Sequence[str]) -> Tensor:
        """Fields of ``keys`` concatenated: ``(B, sum of their dims)``."""
        return torch.cat([self.field(features, k) for k in keys], dim=-1)

    def fields(self, features: Mapping[str, Tensor], keys: Sequence[str]) -> Tensor:
        """Fields of ``keys`` stacked: ``(B, F, d)``; all must share one size."""
        dims = {self.dim_of(k) for k in keys}
        if len(dims) != 1:
            raise ConfigError(f"stacked fields need one embedding_dim, got {sorted(dims)} for {list(keys)}")
        return torch.stack([self.field(features, k) for k in keys], dim=1)


def _pkey(key: str) -> str:
    # ParameterDict keys may not contain '.'
    return key.replace(".", "__")

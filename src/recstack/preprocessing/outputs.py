"""What a fitted preprocessor produces: one ``OutputSpec`` per tensor (the feature map).

Models build their embedders from this list alone, so a model never needs the raw
feature specs or the data.

Tensor layouts by ``kind`` (``n`` rows):

    "id"     int64  (n,)     one index per row; 0 = padding, 1..num_oov = OOV, then known
    "ids"    int64  (n, L)   padded indices (0 = padding, so ``mask = ids != 0``)
    "value"  float32 (n,)    a (filled, logged, standardized) number
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

__all__ = ["OutputSpec", "OutputKind"]

OutputKind = Literal["id", "ids", "value"]


@dataclass(frozen=True)
class OutputSpec:
    """One tensor of the preprocessed table.

    Attributes:
        key: the tensor's key in the transformed mapping and in ``Batch.features``;
            the feature name, or ``"<feature>.bucket"`` for a numeric feature's bucket IDs.
        feature: the feature spec it comes from.
        kind: ``"id"``, ``"ids"`` or ``"value"`` (layouts in the module docstring).
        cardinality: rows of the embedding table (``id``/``ids``), 0 for ``value``.
        table: name of the embedding table; a sequence with ``source: item_id`` shares
            ``item_id``'s table, so both get ``table="item_id"``.
        pooling: for ``ids``: ``"mean"``, ``"sum"``, ``"sqrtn"`` (sum / sqrt(n)) or ``"max"`` over the non-padding entries.
        embedding_dim: per-feature embedding size, ``None`` for the model default.
        num_oov: rows ``1..num_oov`` of the table are OOV buckets (0 for hashed and
            bucketized IDs). Embedders start them at zero: a bucket that training never
            sees (every training value was known) then adds nothing, where a random
            vector would push an unseen value's scores in an arbitrary direction.
    """

    key: str
    feature: str
    kind: OutputKind
    cardinality: int = 0
    table: str = ""
    pooling: str = ""
    embedding_dim: int | None = None
    num_oov: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> OutputSpec:
        return cls(**d)

"""The base of every feature spec: what a raw column is, not how it is fitted."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from recstack._validation import StrictModel

__all__ = ["FeatureSpec"]


class FeatureSpec(StrictModel):
    """A declarative description of one model input built from one raw column.

    Attributes:
        name: the feature's name (the key in the config's ``features`` mapping).
        column: the raw column it reads; defaults to ``name``.
        embedding_dim: per-feature embedding size; ``None`` uses the model's ``embedding_dim``.
    """

    type: str
    name: str = Field(default="", description="feature name; filled from the config key")
    column: str | None = None
    embedding_dim: int | None = Field(default=None, ge=1)

    @property
    def source_column(self) -> str:
        """The raw column this feature reads."""
        return self.column or self.name

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (round-trips through ``Schema.from_dict``)."""
        return self.model_dump(mode="json", exclude_defaults=False)

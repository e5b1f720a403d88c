"""Multi-hot sets: delimited strings (``Comedy|Drama``) or lists of labels."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from recstack.features.base import FeatureSpec, Int

__all__ = ["MultiHotFeature"]


class MultiHotFeature(FeatureSpec):
    """A variable-size set of class labels per row, pooled into one vector.

    Values arrive as delimited strings or lists; they become padded IDs (index 0 = padding)
    with the same vocabulary layout as :class:`CategoricalFeature`.

    Labels of a delimited string are stripped and empty ones dropped (``"Drama| Comedy|"`` is
    ``{Drama, Comedy}``). List elements are taken exactly as given: ``[" Drama", ""]`` holds
    the labels ``" Drama"`` and ``""`` (only missing elements are dropped); clean lists before
    fitting if they need it, e.g. ``df.g.map(lambda xs: [x.strip() for x in xs if x.strip()])``.

    Attributes:
        separator: delimiter for string values.
        min_count / max_size / num_oov: vocabulary settings, as for categorical.
        max_length: keep at most this many labels per row (``None``: longest seen in training;
            a warning is logged when that row is far longer than typical). A longer row keeps
            its known labels ahead of out-of-vocabulary ones.
        pooling: how the model combines the label embeddings.
    """

    type: Literal["multi_hot"] = "multi_hot"
    separator: str = Field(default="|", min_length=1)
    min_count: Int = Field(default=1, ge=1)
    max_size: Int | None = Field(default=None, ge=1)
    num_oov: Int = Field(default=1, ge=1)
    max_length: Int | None = Field(default=None, ge=1)
    pooling: Literal["mean", "sum", "sqrtn", "max"] = "mean"

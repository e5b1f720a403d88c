"""Categorical IDs: a vocabulary learned from data, or hashing for unbounded ID spaces."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from recstack._validation import key_error
from recstack.features.base import FeatureSpec, Int

__all__ = ["MAX_HASH_BUCKETS", "CategoricalFeature"]

MAX_HASH_BUCKETS = 100_000_000
"""Upper bound of ``num_buckets``: the table has ``num_buckets + 1`` rows (at 32 dimensions,
10**8 rows are 12.8 GB of float32 before optimizer state)."""


class CategoricalFeature(FeatureSpec):
    """One ID per row (user id, item id, country, ...); strings and integers alike.

    Index layout (shared by every ID feature): ``0`` is padding (never produced for a
    present value), ``1..num_oov`` are out-of-vocabulary buckets (unseen values are hashed
    among them), known values follow in order of decreasing frequency.
    With ``num_buckets`` the vocabulary is replaced by a stable hash into
    ``1..num_buckets``.

    Attributes:
        min_count: values seen fewer times in training go to OOV.
        max_size: keep at most this many most frequent values.
        num_oov: number of OOV buckets (vocabulary only: an error with ``num_buckets``).
        num_buckets: hash into this many buckets instead of learning a vocabulary; at most
            ``MAX_HASH_BUCKETS`` (100,000,000).
    """

    type: Literal["categorical"] = "categorical"
    min_count: Int = Field(default=1, ge=1)
    max_size: Int | None = Field(default=None, ge=1)
    num_oov: Int = Field(default=1, ge=1)
    num_buckets: Int | None = Field(default=None, ge=1, le=MAX_HASH_BUCKETS)

    @model_validator(mode="after")
    def _hashing_excludes_vocabulary(self) -> CategoricalFeature:
        # errors name the key to change (features.user_id.min_count), not the feature, and the fix
        if self.num_buckets is None:
            return self
        for key, value, default in (("min_count", self.min_count, 1), ("max_size", self.max_size, None)):
            if value != default:
                raise key_error(key, f"a vocabulary setting, but num_buckets ({self.num_buckets}) hashes the values "
                                f"and learns no vocabulary; remove {key}, or remove num_buckets to learn a "
                                "vocabulary", value)
        if self.num_oov != 1:  # the Hasher has no OOV buckets: unused
            raise key_error("num_oov", "has no effect with num_buckets (hashing sends "
                            "every value, seen or not, to one of the num_buckets buckets); remove num_oov, or "
                            "num_buckets to learn a vocabulary with OOV buckets", self.num_oov)
        return self

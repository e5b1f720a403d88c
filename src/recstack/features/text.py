"""Free text split into tokens and used as a bag of tokens."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from recstack.features.base import FeatureSpec

__all__ = ["TextFeature"]


class TextFeature(FeatureSpec):
    """A string column tokenized by a regular expression into a bag of tokens.

    Attributes:
        split: regular expression to split on (``"\\\\s+"`` for words, ``":"`` for
            ``viewer:123``-style keys).
        lowercase: lowercase before splitting.
        max_tokens: keep at most this many most frequent tokens.
        min_count: tokens seen fewer times go to OOV.
        num_oov: OOV buckets.
        max_length: tokens kept per row (``None``: longest seen in training).
        pooling: how the model combines the token embeddings.
    """

    type: Literal["text"] = "text"
    split: str = r"\s+"
    lowercase: bool = True
    max_tokens: int | None = Field(default=None, ge=1)
    min_count: int = Field(default=1, ge=1)
    num_oov: int = Field(default=1, ge=1)
    max_length: int | None = Field(default=None, ge=1)
    pooling: Literal["mean", "sum", "sqrtn", "max"] = "mean"

    @field_validator("split")
    @classmethod
    def _compiles(cls, v: str) -> str:
        import re

        try:
            pattern = re.compile(v)
        except re.error as err:
            raise ValueError(f"split is not a valid regular expression: {err}") from None
        if pattern.search("") is not None:  # e.g. "\\s*": splitting on empty matches never ends
            raise ValueError(f"split {v!r} matches the empty string; use a pattern that needs a character, e.g. '[\\s,]+'")
        if pattern.groups:  # engines disagree on whether captured separators become tokens
            raise ValueError(f"split {v!r} has a capturing group; write it as a non-capturing one, (?:...)")
        return v

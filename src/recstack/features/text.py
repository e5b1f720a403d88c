"""Free text split into tokens and used as a bag of tokens."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from recstack.features.base import FeatureSpec, Int

__all__ = ["TextFeature", "split_problem"]


class TextFeature(FeatureSpec):
    """A string column tokenized by a regular expression into a bag of tokens.

    Attributes:
        split: regular expression to split on (``"\\\\s+"`` for words, ``":"`` for
            ``viewer:123``-style keys).
        lowercase: lowercase before splitting.
        max_tokens: keep at most this many most frequent tokens.
        min_count: tokens seen fewer times go to OOV.
        num_oov: OOV buckets.
        max_length: tokens kept per row, the first ones (``None``: longest seen in training; a
            warning is logged when that row is far longer than typical, as one long text sets the
            width of every batch).
        pooling: how the model combines the token embeddings.
    """

    type: Literal["text"] = "text"
    split: str = r"\s+"
    lowercase: bool = True
    max_tokens: Int | None = Field(default=None, ge=1)
    min_count: Int = Field(default=1, ge=1)
    num_oov: Int = Field(default=1, ge=1)
    max_length: Int | None = Field(default=None, ge=1)
    pooling: Literal["mean", "sum", "sqrtn", "max"] = "mean"

    @field_validator("split")
    @classmethod
    def _compiles(cls, v: str) -> str:
        problem = split_problem(v)
        if problem is not None:
            raise ValueError(problem)
        return v


def split_problem(pattern: str) -> str | None:
    """What is wrong with a split pattern, or ``None``: it must be a Python regular expression
    that needs at least one character (an empty match splits between every character in
    Python and never ends in RE2) and has no capturing group (Python ``re`` keeps captured
    separators as tokens, RE2 drops them). Shared by the spec and the tokenizer."""
    import re

    try:
        compiled = re.compile(pattern)
    except (re.error, TypeError) as err:
        return f"split: {pattern!r} is not a Python regular expression ({err})"
    if compiled.search("") is not None:
        return (f"split: {pattern!r} matches the empty string, so it would split between every character; use a "
                "pattern that needs at least one character, e.g. '[\\s,;]+' instead of '[\\s,;]*'")
    if compiled.groups:
        return f"split: {pattern!r} has a capturing group; write it as a non-capturing one, (?:...)"
    return None

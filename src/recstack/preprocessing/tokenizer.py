"""Text to padded token IDs: regex split, optional lowercase, a token vocabulary."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from recstack.errors import ArtifactError, ConfigError, SchemaError
from recstack.preprocessing._cells import (
    LIST,
    MISSING,
    SCALAR,
    _short,
    as_series,
    as_str_series,
    canonical_keys,
    cell_kinds,
    check_labels,
    first_row,
)
from recstack.preprocessing._fitted import check_is_fitted, check_state
from recstack.preprocessing._lengths import fitted_width
from recstack.preprocessing._split import check_split, split_strings
from recstack.preprocessing.ragged import pad
from recstack.preprocessing.vocabulary import Vocabulary

__all__ = ["Tokenizer"]


class Tokenizer:
    """Splits strings by a regular expression and maps tokens to IDs (vocabulary layout).

    Args:
        split: regular expression to split on (``r"\\s+"`` for words, ``":"`` for
            ``viewer:123``-style keys); empty tokens are dropped. It must need at least one
            character: ``"[\\s,]*"`` (matches the empty string) is a :class:`ConfigError`.
        lowercase: lowercase before splitting.
        max_tokens: keep at most this many most frequent tokens.
        min_count: tokens seen fewer times go to OOV.
        num_oov: OOV buckets.
        max_length: tokens kept per row (the first ones); ``None``: longest row seen in
            training (at least 1).

    Fitted attributes:
        vocabulary_ (:class:`Vocabulary` of tokens), max_length_ (int, the ``L`` of ``transform``).

    Example:
        >>> t = Tokenizer(split=":").fit(["viewer:123", "viewer:7"])
        >>> t.transform(["viewer:7", None]).tolist()
        [[2, 4], [0, 0]]
    """

    def __init__(
        self,
        split: str = r"\s+",
        lowercase: bool = True,
        max_tokens: int | None = None,
        min_count: int = 1,
        num_oov: int = 1,
        max_length: int | None = None,
    ) -> None:
        self.split = split
        self.lowercase = lowercase
        self.max_tokens = max_tokens
        self.min_count = min_count
        self.num_oov = num_oov
        self.max_length = max_length

    def tokenize(self, texts: Any, *, column: str = "values", strict: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Texts ``(n,)`` -> ``flat`` tokens ``(total,)`` object and ``lengths`` ``(n,)`` int64.

        Missing texts give no tokens; numbers are read as the canonical key of an ID (``42``,
        ``42.0`` and ``np.int64(42)`` are ``"42"``; ``4.5`` is ``"4.5"``), so a token does not
        depend on whether a column was read as int or float. Dicts are an
        error naming the row, and with ``strict`` (fitting) so are other non-string objects
        (bytes, dates), which would be tokenized from their ``str()``.
        """
        s = as_series(texts)
        kinds = cell_kinds(s)
        scalar = kinds == SCALAR
        if scalar.any():
            check_labels(s if s.dtype != object else s[scalar], column=column, strict=strict)
        if (kinds == LIST).any():
            row = first_row(kinds == LIST)
            raise SchemaError(
                f"column {column!r}: row {row} holds a list {_short(s.iloc[row])}; a text feature "
                "needs one string per row; join the list, or use type: multi_hot / sequence"
            )
        present = kinds != MISSING
        cells = s[present]
        if scalar.any():  # numbers as the canonical keys IDs use: 42 and 42.0 (an int column with a gap) alike
            text = cells.to_numpy(dtype=object, copy=True)
            numbers = scalar[present]
            text[numbers] = canonical_keys(cells[numbers], column=column)
            cells = pd.Series(text, index=cells.index, dtype=object)
        tokens, rows = split_strings(as_str_series(cells), self.split, regex=True, lowercase=self.lowercase)
        return tokens, np.bincount(np.flatnonzero(present)[rows], minlength=len(s)).astype(np.int64)

    def fit(
        self, texts: Any, *, column: str = "values", allow_empty: bool = True, feature: str | None = None
    ) -> Tokenizer:
        """Learns the token vocabulary and ``max_length_`` from training texts ``(n,)``
        (``allow_empty``: as for :meth:`Vocabulary.fit`). With ``max_length`` unset, a longest
        row far above the typical one logs a warning naming ``feature`` (default: ``column``)."""
        if self.max_length is not None and int(self.max_length) < 1:
            raise ConfigError(f"max_length: expected an integer >= 1, got {self.max_length!r}")
        check_split(self.split)  # a Python regex that needs at least one character
        flat, lengths = self.tokenize(texts, column=column, strict=True)
        self.vocabulary_ = Vocabulary(self.min_count, self.max_tokens, self.num_oov).fit(
            flat, column=column, allow_empty=allow_empty
        )
        self.max_length_ = fitted_width(lengths, self.max_length, feature=feature or column, unit="tokens")
        return self

    @property
    def size(self) -> int:
        """Rows of the token embedding table (``vocabulary_.size``)."""
        check_is_fitted(self, "vocabulary_")
        return self.vocabulary_.size

    def transform(self, texts: Any, *, column: str = "values") -> np.ndarray:
        """Texts ``(n,)`` -> ``(n, max_length_)`` int64 token IDs, first tokens kept, 0 = padding."""
        check_is_fitted(self, "vocabulary_")
        flat, lengths = self.tokenize(texts, column=column)
        ids = self.vocabulary_.transform(flat, column=column)
        return pad(ids, lengths, self.max_length_, keep="first")

    def fit_transform(self, texts: Any, *, column: str = "values") -> np.ndarray:
        return self.fit(texts, column=column).transform(texts, column=column)

    def get_state(self) -> dict[str, Any]:
        check_is_fitted(self, "vocabulary_")
        return {
            "class": "Tokenizer",
            "split": self.split,
            "lowercase": bool(self.lowercase),
            "max_tokens": self.max_tokens,
            "min_count": int(self.min_count),
            "num_oov": int(self.num_oov),
            "max_length": self.max_length,
            "max_length_fitted": self.max_length_,
            "vocabulary": self.vocabulary_.get_state(),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Tokenizer:
        keys = ["split", "lowercase", "max_tokens", "min_count", "num_oov", "max_length"]
        check_state(state, cls, [*keys, "max_length_fitted", "vocabulary"])
        tok = cls(**{k: state[k] for k in keys})
        try:
            check_split(tok.split)
        except ConfigError as err:
            raise ArtifactError(f"Tokenizer state: {err}") from None
        tok.vocabulary_ = Vocabulary.from_state(state["vocabulary"])
        tok.max_length_ = int(state["max_length_fitted"])
        if tok.max_length_ < 1:
            raise ArtifactError(f"Tokenizer state: max_length_fitted must be >= 1, got {tok.max_length_}")
        return tok

    def __repr__(self) -> str:
        return (
            f"Tokenizer(split={self.split!r}, lowercase={self.lowercase}, max_tokens={self.max_tokens}, "
            f"min_count={self.min_count}, num_oov={self.num_oov}, max_length={self.max_length})"
        )

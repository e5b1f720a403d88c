"""One fitted transformer per feature spec: the bridge from a spec to its output tensors.

Each ``FeatureTransformer`` reads one raw column and produces the arrays named by its
:class:`OutputSpec` list; the :class:`~recstack.preprocessing.Preprocessor` only routes
columns and collects results.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any

import numpy as np
import pandas as pd

from recstack.errors import SchemaError
from recstack.features import CategoricalFeature, MultiHotFeature, NumericFeature, SequenceFeature, TextFeature
from recstack.preprocessing._cells import STRING, canonical_keys, cell_kinds, such_rows
from recstack.preprocessing._lengths import fitted_width
from recstack.preprocessing.flags import flag_labels, no_flag_set_error
from recstack.preprocessing.hashing import Hasher
from recstack.preprocessing.numeric import NumericTransformer
from recstack.preprocessing.outputs import OutputSpec
from recstack.preprocessing.ragged import pad, split_ragged
from recstack.preprocessing.tokenizer import Tokenizer
from recstack.preprocessing.vocabulary import Vocabulary

__all__ = ["FeatureTransformer", "make_feature_transformer"]

log = logging.getLogger(__name__)


class FeatureTransformer(ABC):
    """Fits on, and transforms, the raw column of one feature spec."""

    def __init__(self, spec: Any) -> None:
        self.spec = spec

    @abstractmethod
    def fit(self, column: pd.Series) -> None: ...

    @abstractmethod
    def transform(self, column: pd.Series) -> dict[str, np.ndarray]: ...

    @abstractmethod
    def outputs(self) -> list[OutputSpec]: ...

    @abstractmethod
    def get_state(self) -> dict[str, Any]: ...

    @abstractmethod
    def set_state(self, state: dict[str, Any]) -> None: ...

    def get_vocabulary(self) -> Vocabulary | None:
        """The vocabulary behind this feature's IDs, or ``None`` (numeric, hashed)."""
        return None

    def _ids(self, kind: str, cardinality: int, table: str, pooling: str = "") -> OutputSpec:
        name, vocab = self.spec.name, self.get_vocabulary()
        return OutputSpec(
            name, name, kind, cardinality, table, pooling, self.spec.embedding_dim,  # type: ignore[arg-type]
            vocab.num_oov if vocab is not None else 0,
        )


class CategoricalTransformer(FeatureTransformer):
    """``id`` (n,) from a :class:`Vocabulary`, or a :class:`Hasher` with ``num_buckets``."""

    spec: CategoricalFeature

    def _new(self) -> Vocabulary | Hasher:
        s = self.spec
        return Hasher(s.num_buckets) if s.num_buckets is not None else Vocabulary(s.min_count, s.max_size, s.num_oov)

    def fit(self, column: pd.Series) -> None:
        new = self._new()
        if isinstance(new, Vocabulary):
            new.fit(column, column=self.spec.source_column, allow_empty=False)
        else:
            new.fit(column, column=self.spec.source_column)
        self.transformer: Vocabulary | Hasher = new

    def transform(self, column: pd.Series) -> dict[str, np.ndarray]:
        return {self.spec.name: self.transformer.transform(column, column=self.spec.source_column)}

    def outputs(self) -> list[OutputSpec]:
        return [self._ids("id", self.transformer.size, self.spec.name)]

    def get_state(self) -> dict[str, Any]:
        return self.transformer.get_state()

    def get_vocabulary(self) -> Vocabulary | None:
        return self.transformer if isinstance(self.transformer, Vocabulary) else None

    def set_state(self, state: dict[str, Any]) -> None:
        cls = Hasher if self.spec.num_buckets is not None else Vocabulary
        self.transformer = cls.from_state(state)


class NumericFeatureTransformer(FeatureTransformer):
    """``value`` (n,) float32 if ``as_value``; ``<name>.bucket`` ``id`` (n,) if bucketized."""

    spec: NumericFeature

    def fit(self, column: pd.Series) -> None:
        s = self.spec
        self.transformer = NumericTransformer(
            fill=s.fill, log=s.log, normalize=s.normalize, buckets=s.buckets, boundaries=s.boundaries
        ).fit(column, column=s.source_column)

    def transform(self, column: pd.Series) -> dict[str, np.ndarray]:
        value, bucket = self.transformer.transform(column, column=self.spec.source_column)
        if self.spec.as_value:
            _require_finite(value, column, self.spec.source_column)
        out = {self.spec.name: value} if self.spec.as_value else {}
        if bucket is not None:
            out[f"{self.spec.name}.bucket"] = bucket
        return out

    def outputs(self) -> list[OutputSpec]:
        name, out = self.spec.name, []
        if self.spec.as_value:
            out.append(OutputSpec(name, name, "value", 0, "", "", None))
        if self.spec.bucketized:
            size = self.transformer.num_buckets_ + 1
            out.append(OutputSpec(f"{name}.bucket", name, "id", size, name, "", self.spec.embedding_dim))
        return out

    def get_state(self) -> dict[str, Any]:
        return self.transformer.get_state()

    def set_state(self, state: dict[str, Any]) -> None:
        self.transformer = NumericTransformer.from_state(state)


def _require_finite(value: np.ndarray, raw: pd.Series, column: str) -> None:
    """A value fed to the model must be finite: one inf turns every score of its row into NaN."""
    bad = ~np.isfinite(value)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise SchemaError(
            f"column {column!r}: row {row} holds {raw.iloc[row]!r}, which is not a finite float32 after "
            f"preprocessing ({such_rows(bad)}); clip the column, make those values missing "
            "(the feature's fill applies), or use it as buckets only (as_value: false)",
            column=column, rows=np.flatnonzero(bad),
        )


def _first_of_each_label(flat: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drops a label's repeats within its row (order kept), vectorized over all rows."""
    if len(flat) == 0:
        return flat, lengths
    row = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    codes = pd.factorize(canonical_keys(flat))[0].astype(np.int64)  # 1 and "1" are one label, True is not
    _, first = np.unique(row * (int(codes.max()) + 1) + codes, return_index=True)
    keep = np.zeros(len(flat), dtype=bool)
    keep[first] = True
    return flat[keep], np.bincount(row[keep], minlength=len(lengths)).astype(lengths.dtype)


def _known_first(ids: np.ndarray, lengths: np.ndarray, width: int, num_oov: int) -> np.ndarray:
    """A multi-hot set is cut to ``width`` labels keeping the first ones: in rows longer than that,
    known labels move ahead of OOV ones (order otherwise kept), so an unseen label never pushes
    out a known one. Other rows are unchanged."""
    cut = lengths > width
    if not cut.any():
        return ids
    row = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    oov = (ids <= num_oov) & cut[row]  # 0 is never produced for a present label
    order = np.lexsort((np.arange(len(ids)), oov, row))  # by row, then known before OOV, then position
    return ids[order]


def _warn_unused_separator(column: pd.Series, separator: str, feature: str) -> None:
    """One warning when no training value holds the feature's separator but many hold another
    usual one (``separator: ","`` on ``Comedy|Drama``): each value would silently be one label."""
    text = column[cell_kinds(column) == STRING].astype(str)
    if text.empty or text.str.contains(separator, regex=False).any():
        return
    for other in ("|", ",", ";", "/", ":"):
        share = float(text.str.contains(other, regex=False).mean())
        if other != separator and share >= 0.1:
            log.warning("feature %r: no training value of column %r contains its separator %r, so each value is one "
                        "label (%r); %.0f%% contain %r: set separator: '%s' if that divides the labels", feature,
                        column.name, separator, text.iloc[int(text.str.contains(other, regex=False).argmax())],
                        100 * share, other, other)
            return


class RaggedTransformer(FeatureTransformer):
    """``ids`` (n, L) for ``multi_hot`` and ``sequence`` (own vocabulary or the source's).

    A sequence's ``L`` is ``max_length`` or the longest row given, if shorter: ``max_length``
    is a cap (a history's most recent items), and padding past the longest row costs memory
    and time for nothing (``max_length: 5000`` over histories of 300 made every batch 16x
    wider); the model reads ``L`` from each tensor and pooling skips padding."""

    spec: MultiHotFeature | SequenceFeature

    def __init__(self, spec: Any, source: CategoricalTransformer | None = None) -> None:
        super().__init__(spec)
        source_vocab = None if source is None else source.transformer
        assert source_vocab is None or isinstance(source_vocab, Vocabulary)
        self.source: Vocabulary | None = source_vocab
        self.embedding_dim = spec.embedding_dim
        if source is not None:  # one shared table, one size (the Schema checks the two agree)
            self.embedding_dim = source.spec.embedding_dim

    @property
    def keep(self) -> str:
        return self.spec.keep if isinstance(self.spec, SequenceFeature) else "first"

    def _split(self, column: pd.Series, strict: bool = False) -> tuple[np.ndarray, np.ndarray]:
        s = self.spec
        if s.flag_columns:  # column: {flag: series} (Preprocessor)
            return flag_labels(column, s.flag_columns, feature=s.name)
        flat, lengths = split_ragged(column, separator=s.separator, column=s.source_column, strict=strict)
        if isinstance(self.spec, MultiHotFeature):  # a set: "Drama|Drama|Comedy" is {Drama, Comedy}
            flat, lengths = _first_of_each_label(flat, lengths)
        return flat, lengths

    def fit(self, column: pd.Series) -> None:
        flat, lengths = self._split(column, strict=True)
        s = self.spec
        if s.flag_columns and not len(flat):
            raise no_flag_set_error(s.flag_columns, s.name)
        if s.separator is not None and not s.flag_columns and (lengths <= 1).all():
            _warn_unused_separator(column, s.separator, s.name)
        if self.source is not None:
            self.vocab = self.source
        else:
            self.vocab = Vocabulary(s.min_count, s.max_size, s.num_oov).fit(
                flat, column=s.source_column, allow_empty=False
            )
        self.max_length = fitted_width(lengths, s.max_length, feature=s.name, unit="labels")

    def transform(self, column: pd.Series) -> dict[str, np.ndarray]:
        flat, lengths = self._split(column)
        ids = self.vocab.transform(flat, column=self.spec.source_column)
        if isinstance(self.spec, MultiHotFeature):
            ids = _known_first(ids, lengths, self.max_length, self.vocab.num_oov)
        width = self.max_length
        if isinstance(self.spec, SequenceFeature):
            width = min(width, max(int(lengths.max(initial=0)), 1))
        return {self.spec.name: pad(ids, lengths, width, keep=self.keep)}  # type: ignore[arg-type]

    def outputs(self) -> list[OutputSpec]:
        s = self.spec
        source = getattr(s, "source", None)
        pooling = s.encoder if isinstance(s, SequenceFeature) else s.pooling
        return [OutputSpec(
            s.name, s.name, "ids", self.vocab.size, source or s.name, pooling, self.embedding_dim, self.vocab.num_oov
        )]

    def get_vocabulary(self) -> Vocabulary | None:
        return self.vocab

    def get_state(self) -> dict[str, Any]:
        vocab = None if self.source is not None else self.vocab.get_state()
        return {"class": "RaggedTransformer", "max_length": self.max_length, "vocabulary": vocab}

    def set_state(self, state: dict[str, Any]) -> None:
        self.max_length = int(state["max_length"])
        self.vocab = self.source if self.source is not None else Vocabulary.from_state(state["vocabulary"])


class TextTransformer(FeatureTransformer):
    """``ids`` (n, L) of tokens from a :class:`Tokenizer`."""

    spec: TextFeature

    def fit(self, column: pd.Series) -> None:
        s = self.spec
        self.transformer = Tokenizer(
            s.split, s.lowercase, s.max_tokens, s.min_count, s.num_oov, s.max_length
        ).fit(column, column=s.source_column, allow_empty=False, feature=s.name)

    def transform(self, column: pd.Series) -> dict[str, np.ndarray]:
        return {self.spec.name: self.transformer.transform(column, column=self.spec.source_column)}

    def outputs(self) -> list[OutputSpec]:
        return [self._ids("ids", self.transformer.size, self.spec.name, self.spec.pooling)]

    def get_state(self) -> dict[str, Any]:
        return self.transformer.get_state()

    def get_vocabulary(self) -> Vocabulary | None:
        return self.transformer.vocabulary_

    def set_state(self, state: dict[str, Any]) -> None:
        self.transformer = Tokenizer.from_state(state)


def make_feature_transformer(spec: Any, fitted: dict[str, FeatureTransformer]) -> FeatureTransformer:
    """The transformer for ``spec``; a sequence with ``source`` shares ``fitted[source]``'s vocabulary."""
    if isinstance(spec, CategoricalFeature):
        return CategoricalTransformer(spec)
    if isinstance(spec, NumericFeature):
        return NumericFeatureTransformer(spec)
    if isinstance(spec, SequenceFeature) and spec.source is not None:
        source = fitted[spec.source]
        assert isinstance(source, CategoricalTransformer)  # Schema checks sources
        return RaggedTransformer(spec, source)
    if isinstance(spec, (MultiHotFeature, SequenceFeature)):
        return RaggedTransformer(spec)
    if isinstance(spec, TextFeature):
        return TextTransformer(spec)
    raise TypeError(f"no preprocessing for feature spec {type(spec).__name__}")

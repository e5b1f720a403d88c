"""A vocabulary: raw IDs (strings or integers) to embedding indices, with hashed OOV buckets."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from recstack.errors import ArtifactError, ConfigError, DataError, SchemaError
from recstack.preprocessing._cells import KeyKind, arrow_strings, factorize_keys, take_codes
from recstack.preprocessing._fitted import check_is_fitted, check_state
from recstack.preprocessing.hashing import _check_positive, stable_hash

__all__ = ["Vocabulary"]


class Vocabulary:
    """Maps raw IDs to indices with the layout shared by every ID feature::

        0                      padding (missing values; never a present value)
        1 .. num_oov           out-of-vocabulary buckets: 1 + stable_hash(value) % num_oov
        num_oov+1 .. size-1    known values, most frequent first (ties: by value string)

    Integers and strings are interchangeable (``42``, ``42.0`` and ``"42"`` are one value);
    ``inverse`` returns values in the type seen in training (``dtype_``).

    Args:
        min_count: values seen fewer times in training go to OOV.
        max_size: keep at most this many known values (the most frequent).
        num_oov: number of OOV buckets (hashing spreads unseen values over them).

    Fitted attributes:
        keys_: ``(len,)`` object array, canonical string of each known value, by index.
        counts_: ``(size,)`` int64, training frequency of each index (OOV buckets count the
            training values that fell into them; padding 0), e.g. for popularity or logQ.
        dtype_: ``"int"`` if training values were integers, else ``"str"``.

    Example:
        >>> v = Vocabulary().fit(["b", "a", "b", "c"])
        >>> v.transform(["b", "a", "zzz", None]).tolist()
        [2, 3, 1, 0]
        >>> v.inverse([2, 1]).tolist()
        ['b', None]
    """

    def __init__(self, min_count: int = 1, max_size: int | None = None, num_oov: int = 1) -> None:
        self.min_count = min_count
        self.max_size = max_size
        self.num_oov = num_oov

    def _check_settings(self) -> None:
        _check_positive("min_count", self.min_count)
        _check_positive("num_oov", self.num_oov)
        if self.max_size is not None:
            _check_positive("max_size", self.max_size)

    def fit(self, values: Any, *, column: str = "values", allow_empty: bool = True) -> Vocabulary:
        """Learns the known values from a training column ``(n,)``; returns ``self``.

        ``allow_empty=False`` (what features use) makes an empty vocabulary an error naming the
        cause: no present values, or ``min_count`` above every value's count.
        """
        self._check_settings()
        codes, keys, kind = factorize_keys(values, column=column, strict=True)
        per_unique = np.bincount(codes[codes >= 0], minlength=len(keys))
        # distinct raw values can share a key (42 and "42"): sum their counts
        counts = pd.Series(per_unique, dtype=np.int64).groupby(pd.Index(keys, dtype=object), sort=False).sum()
        # most frequent first, ties by key (distinct str, by code point as Python compares them)
        key, count = counts.index.to_numpy(dtype=object), counts.to_numpy(dtype=np.int64)
        order = _key_order(key)
        order = order[np.argsort(-count[order], kind="stable")]
        key, count = key[order], count[order]
        keep = count >= self.min_count
        if not keep.any() and not allow_empty:  # every value would share the OOV rows: all scores equal
            if len(key) == 0:
                raise SchemaError(
                    f"column {column!r} has no values to learn a vocabulary from (every entry is missing "
                    f"or empty); fill it (data.defaults: {{{column}: <value>}}), check the column, or remove the feature"
                )
            raise SchemaError(
                f"column {column!r}: no value is seen min_count={self.min_count} times (the most frequent, "
                f"{key[0]!r}, is seen {int(count[0])} times), so the vocabulary would be empty and "
                f"every value would share one out-of-vocabulary row; lower min_count to at most {int(count[0])}"
            )
        if self.max_size is not None:
            keep &= np.cumsum(keep) <= self.max_size
        self._set_state(key[keep], count[keep], kind)
        np.add.at(self.counts_, self._oov_index(key[~keep]), count[~keep])
        return self

    def _set_state(self, keys: np.ndarray, known_counts: np.ndarray, kind: KeyKind) -> None:
        self.keys_ = keys
        self.dtype_: KeyKind = kind
        self.counts_ = np.zeros(1 + self.num_oov + len(keys), dtype=np.int64)
        self.counts_[1 + self.num_oov :] = known_counts
        self._index = pd.Index(keys, dtype=object)

    def _oov_index(self, keys: np.ndarray) -> np.ndarray:
        return 1 + (stable_hash(keys) % np.uint64(self.num_oov)).astype(np.int64)

    @property
    def size(self) -> int:
        """Rows of the embedding table: ``1 + num_oov + len(keys_)``."""
        check_is_fitted(self, "keys_")
        return 1 + self.num_oov + len(self.keys_)

    def __len__(self) -> int:
        """Number of known values (excluding padding and OOV buckets)."""
        check_is_fitted(self, "keys_")
        return len(self.keys_)

    def transform(self, values: Any, *, column: str = "values") -> np.ndarray:
        """Raw IDs ``(n,)`` -> indices ``(n,)`` int64 (missing -> 0, unseen -> OOV bucket)."""
        check_is_fitted(self, "keys_")
        codes, keys, _ = factorize_keys(values, column=column)
        pos = self._index.get_indexer(pd.Index(keys, dtype=object))
        ids = pos + 1 + self.num_oov
        unseen = pos < 0
        if unseen.any():
            ids[unseen] = self._oov_index(keys[unseen])
        return take_codes(ids, codes)

    lookup = transform

    def fit_transform(self, values: Any, *, column: str = "values") -> np.ndarray:
        return self.fit(values, column=column).transform(values, column=column)

    def inverse(self, indices: Any) -> np.ndarray:
        """Indices (any shape) -> raw values of the same shape, object dtype.

        Known indices give the value in its training type (``int`` or ``str``); padding and
        OOV indices give ``None``.
        """
        check_is_fitted(self, "keys_")
        idx = np.asarray(indices)
        if idx.size and not np.issubdtype(idx.dtype, np.integer):
            raise DataError(f"Vocabulary.inverse: expected integer indices, got dtype {idx.dtype}")
        if idx.size and (idx.min() < 0 or idx.max() >= self.size):
            raise DataError(
                f"Vocabulary.inverse: indices must be in [0, {self.size}), got min {idx.min()} "
                f"max {idx.max()}; were they produced by another vocabulary?"
            )
        out = np.full(idx.shape, None, dtype=object)
        known = idx > self.num_oov
        out[known] = self.values[idx[known] - 1 - self.num_oov]
        return out

    @property
    def values(self) -> np.ndarray:
        """Known values by index (``(len,)`` object array) in their training type."""
        check_is_fitted(self, "keys_")
        if self.dtype_ == "int":
            return np.array([int(k) for k in self.keys_], dtype=object)  # Python ints: no int64 overflow
        return self.keys_.copy()

    def get_state(self) -> dict[str, Any]:
        """Plain JSON-able state (settings, keys by index, counts, dtype)."""
        check_is_fitted(self, "keys_")
        return {
            "class": "Vocabulary",
            "min_count": int(self.min_count),
            "max_size": None if self.max_size is None else int(self.max_size),
            "num_oov": int(self.num_oov),
            "dtype": self.dtype_,
            "keys": [str(k) for k in self.keys_.tolist()],
            "counts": self.counts_.tolist(),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Vocabulary:
        """Rebuilds a fitted vocabulary from :meth:`get_state` output."""
        check_state(state, cls, ["min_count", "max_size", "num_oov", "dtype", "keys", "counts"])
        vocab = cls(int(state["min_count"]), state["max_size"], int(state["num_oov"]))
        try:
            vocab._check_settings()
        except ConfigError as err:
            raise ArtifactError(f"Vocabulary state: {err}") from None
        keys = np.asarray(state["keys"], dtype=object).reshape(-1)
        counts = np.asarray(state["counts"], dtype=np.int64)
        if len(counts) != 1 + vocab.num_oov + len(keys) or state["dtype"] not in ("int", "str"):
            raise ArtifactError(
                f"Vocabulary state: {len(keys)} keys need {1 + vocab.num_oov + len(keys)} counts "
                f"and dtype 'int'|'str'; got {len(counts)} counts, dtype {state['dtype']!r}"
            )
        vocab._set_state(keys, counts[1 + vocab.num_oov :], state["dtype"])
        vocab.counts_ = counts
        return vocab

    def __repr__(self) -> str:
        fitted = f", size={self.size}" if hasattr(self, "keys_") else ""
        return f"Vocabulary(min_count={self.min_count}, max_size={self.max_size}, num_oov={self.num_oov}{fitted})"


def _key_order(keys: np.ndarray) -> np.ndarray:
    """``(u,)`` int64 positions that sort distinct ``str`` keys as Python's ``sorted`` would.

    Arrow sorts the UTF-8 bytes, which is code point order (3-4x faster than sorting Python
    objects); a key with no UTF-8 form (a lone surrogate, ``"\udce9"``) falls back to the
    object sort.
    """
    arr = arrow_strings(keys)  # canonical keys: always str (factorize_keys)
    if arr is None:
        return np.argsort(keys, kind="stable")
    return pc.array_sort_indices(arr).to_numpy().astype(np.int64)

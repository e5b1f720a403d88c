"""Stable hashing of IDs: the same value gets the same bucket in every process and run."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from recstack.errors import ConfigError
from recstack.preprocessing._cells import factorize_keys, take_codes
from recstack.preprocessing._fitted import check_state

__all__ = ["Hasher", "stable_hash"]

# pandas' default SipHash key, pinned here so a pandas change cannot silently remap buckets.
_HASH_KEY = "0123456789123456"


def stable_hash(keys: np.ndarray) -> np.ndarray:
    """SipHash-2-4 of canonical string keys (``(n,)`` object array of ``str``) -> ``(n,)`` uint64.

    Unlike Python's ``hash()``, which is salted per process, this is deterministic, so
    unseen IDs land in the same OOV bucket at training and serving time. A key with a lone
    surrogate is hashed by its escaped UTF-8 bytes (``"\\udce9"`` as ``"\\xed\\xb3\\xa9"``).
    """
    arr = np.asarray(keys, dtype=object)
    if arr.size == 0:
        return np.zeros(0, dtype=np.uint64)
    try:
        return pd.util.hash_array(arr, hash_key=_HASH_KEY, categorize=True)
    except UnicodeEncodeError:  # a lone surrogate ("\udce9", valid JSON) has no UTF-8 form: hash an escaped one
        escaped = pd.Series(arr, dtype=object).str.encode("utf-8", "surrogatepass").str.decode("utf-8", "backslashreplace")
        return pd.util.hash_array(escaped.to_numpy(dtype=object), hash_key=_HASH_KEY, categorize=True)


def _check_positive(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(f"{name}: expected an integer >= 1, got {value!r}")
    return int(value)


class Hasher:
    """Hashes raw IDs into ``1..num_buckets``; ``0`` stays padding (missing values).

    Stateless: ``fit`` only returns ``self``, so ``transform`` also works unfitted. Values are
    canonicalized first, so ``42``, ``42.0`` and ``"42"`` share a bucket.

    Args:
        num_buckets: number of hash buckets; the embedding table has ``size = num_buckets + 1`` rows.

    Example:
        >>> Hasher(10).transform(["a", 42, "42", None]).tolist()
        [5, 3, 3, 0]
    """

    def __init__(self, num_buckets: int) -> None:
        self.num_buckets = num_buckets

    @property
    def size(self) -> int:
        """Rows of the embedding table: ``num_buckets + 1`` (index 0 = padding)."""
        return _check_positive("num_buckets", self.num_buckets) + 1

    def fit(self, values: Any = None, *, column: str = "values") -> Hasher:
        """Validates the settings and, if given, the training column's cells (the checks of
        ``transform``: one scalar ID per row, str/int/float/bool); nothing is learned. Returns ``self``."""
        _check_positive("num_buckets", self.num_buckets)
        if values is not None:
            factorize_keys(values, column=column, strict=True)
        return self

    def transform(self, values: Any, *, column: str = "values") -> np.ndarray:
        """Raw IDs ``(n,)`` -> bucket indices ``(n,)`` int64 in ``1..num_buckets`` (0 if missing)."""
        nb = _check_positive("num_buckets", self.num_buckets)
        codes, keys, _ = factorize_keys(values, column=column)
        buckets = 1 + (stable_hash(keys) % np.uint64(nb)).astype(np.int64)
        return take_codes(buckets, codes)

    lookup = transform

    def fit_transform(self, values: Any, *, column: str = "values") -> np.ndarray:
        return self.fit(values, column=column).transform(values, column=column)

    def get_state(self) -> dict[str, Any]:
        """Plain JSON-able state: ``{"class": "Hasher", "num_buckets": ...}``."""
        return {"class": "Hasher", "num_buckets": int(self.num_buckets)}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Hasher:
        check_state(state, cls, ["num_buckets"])
        return cls(int(state["num_buckets"])).fit()

    def __repr__(self) -> str:
        return f"Hasher(num_buckets={self.num_buckets})"

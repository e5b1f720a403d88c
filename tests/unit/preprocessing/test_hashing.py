"""Hasher: stable buckets 1..num_buckets, 0 for missing, int/str equivalence, state."""

from __future__ import annotations

import json

import numpy as np
import pytest

from recstack.errors import ConfigError
from recstack.preprocessing import Hasher


def test_buckets_are_pinned_and_in_range():
    h = Hasher(10)
    out = h.transform(["a", "42", None])
    assert out.tolist() == [1 + 13950350942979735504 % 10, 1 + 12441728511894777052 % 10, 0]
    many = h.transform([f"id{i}" for i in range(1000)])
    assert many.min() >= 1 and many.max() <= 10
    assert len(set(many.tolist())) == 10
    assert h.size == 11


def test_all_missing_and_empty_columns():
    assert Hasher(3).transform([None, np.nan]).tolist() == [0, 0]
    assert Hasher(3).transform([]).tolist() == []


def test_int_and_str_share_a_bucket():
    h = Hasher(1000)
    assert len(set(h.transform([42, "42", 42.0, np.int32(42)]).tolist())) == 1


def test_stateless_fit_returns_self_and_state_round_trips():
    h = Hasher(5)
    assert h.fit(["x"]) is h
    g = Hasher.from_state(json.loads(json.dumps(h.get_state())))
    assert g.transform(["x", "y", 3]).tolist() == h.transform(["x", "y", 3]).tolist()


def test_bad_num_buckets():
    with pytest.raises(ConfigError, match="num_buckets"):
        Hasher(0).fit()

"""The k-core tells users and items apart as the rest of the library does (``key_codes``: ``1``,
``1.0`` and ``"1"`` are one ID), so it counts the rows the split, histories and vocabularies
will see as one user's."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from recstack.data.filters import k_core, k_core_mask
from recstack.preprocessing.keys import key_codes

# user 1 has 4 rows, two written 1 and two "1" (a column pasted from two sources); user 2 has 2
MIXED = pd.DataFrame({"user_id": pd.Series([1, "1", 1, "1", 2, 2], dtype=object),
                      "item_id": pd.Series(["a", "a", 1.0, "1", "a", 1], dtype=object)})


def test_the_k_core_counts_1_and_one_written_as_text_as_one_user():
    keep, _ = k_core_mask(MIXED.user_id, MIXED.item_id, min_user_rows=3)
    assert keep.tolist() == [True] * 4 + [False] * 2  # user 1 has 4 rows, not 2 + 2
    keep, _ = k_core_mask(MIXED.user_id, MIXED.item_id, min_item_rows=3)
    assert keep.tolist() == [True] * 6  # item "a": 3 rows; item 1 / 1.0 / "1": 3 rows


def test_the_k_core_agrees_with_key_codes():
    rng = np.random.default_rng(0)
    n = 2000
    raw = rng.integers(0, 60, n)
    users = pd.Series(np.where(rng.random(n) < 0.5, raw.astype(object), raw.astype(str)), dtype=object)
    items = pd.Series(rng.integers(0, 40, n).astype(float))
    keep, _ = k_core_mask(users, items, min_user_rows=25, min_item_rows=30)
    u, i = key_codes(users)[0][keep], key_codes(items)[0][keep]
    assert 0 < keep.sum() < n
    assert np.bincount(u)[np.unique(u)].min() >= 25 and np.bincount(i)[np.unique(i)].min() >= 30
    # a fixed point: the k-core of the k-core is itself
    again, rounds = k_core_mask(users[keep], items[keep], min_user_rows=25, min_item_rows=30)
    assert again.all() and rounds == 1


def test_the_log_counts_users_by_canonical_key(caplog):
    with caplog.at_level(logging.INFO, logger="recstack.data.filters"):
        k_core(MIXED, "user_id", "item_id", min_user_rows=3)
    assert "users 1 of 2, items 2 of 2" in caplog.records[-1].getMessage()

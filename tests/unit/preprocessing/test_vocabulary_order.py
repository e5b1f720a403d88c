"""Vocabulary.fit sorts its keys in Arrow: the same order as the Python object sort, without it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from recstack.preprocessing import Vocabulary
from recstack.preprocessing import vocabulary as vocabulary_module

SURROGATE = json.loads('"\\udce9"')  # valid JSON, no UTF-8 form


def _mixed_values(extra: list[object]) -> list[object]:
    rng = np.random.default_rng(7)
    labels: list[object] = [
        "b", "a", "B", "", " ", "a\x00", "a\x00b", "ab", "é", "e\u0301", "\uffff", "😀", "\U0010ffff", "ÿ",
        "007", "7", "42", 42, 42.0, 4.5, -1, "-1", "-10", 10, 9, 2**70, -(2**70), True, False, 1e300, "x y",
        *extra,
    ]
    repeats = rng.integers(1, 4, len(labels))  # many ties: their order is the order by key
    return [v for v, r in zip(labels, repeats) for _ in range(r)]


def _object_sort_fit(values: pd.Series, monkeypatch: pytest.MonkeyPatch, **settings: int) -> Vocabulary:
    """The vocabulary as fitted before the Arrow sort: one stable argsort on the object keys."""
    with monkeypatch.context() as m:
        m.setattr(vocabulary_module, "_key_order", lambda keys: np.argsort(keys, kind="stable"))
        return Vocabulary(**settings).fit(values)


@pytest.mark.parametrize("extra", [[], [SURROGATE, "a" + SURROGATE]], ids=["utf8", "lone-surrogate"])
def test_the_order_is_the_object_sort_order_on_mixed_keys(extra, monkeypatch):
    values = pd.Series(_mixed_values(extra), dtype=object)
    settings = {"min_count": 2, "max_size": 20, "num_oov": 3}
    expected = _object_sort_fit(values, monkeypatch, **settings)
    fitted = Vocabulary(**settings).fit(values)
    assert fitted.keys_.tolist() == expected.keys_.tolist()
    assert fitted.counts_.tolist() == expected.counts_.tolist()
    full = Vocabulary().fit(values)
    counts = dict(zip(full.keys_.tolist(), full.counts_[2:].tolist()))
    assert full.keys_.tolist() == sorted(counts, key=lambda k: (-counts[k], k))  # Python's str order


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(np.random.default_rng(0).integers(0, 300, 2_000)),  # int keys: by their string
        pd.Series(np.random.default_rng(1).integers(0, 300, 2_000)).astype(str).radd("é"),
        pd.Series(_mixed_values([]), dtype=object),
    ],
    ids=["int", "str", "mixed"],
)
def test_fit_sorts_no_python_object_array(values, monkeypatch):
    # np.argsort on the object keys (Python compares per pair) made fit ~30% slower: 5M rows,
    # 1.8M distinct ints 2.4 -> 3.1 s
    object_sorts = []
    argsort = np.argsort

    def spy(a, *args, **kwargs):
        if np.asarray(a).dtype == object:
            object_sorts.append(len(a))
        return argsort(a, *args, **kwargs)

    monkeypatch.setattr(np, "argsort", spy)
    v = Vocabulary().fit(values)
    assert object_sorts == []
    monkeypatch.setattr(np, "argsort", argsort)
    assert v.keys_.tolist() == _object_sort_fit(values, monkeypatch).keys_.tolist()

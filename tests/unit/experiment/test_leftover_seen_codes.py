"""The validation evaluator's seen lists reuse the user codes the evaluator computed
(``key_codes`` of the fitted part and the rows) instead of hashing the user column again; the
lists are those built afresh, and a brute force's."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import torch

import recstack.experiment.export as export
from recstack.experiment.export import seen_lists
from recstack.metrics import ExclusionLists
from recstack.preprocessing.keys import key_codes
from recstack.tasks.retrieval_eval import RetrievalEvaluator
from tests.unit.experiment.test_leftover_varying_scan import _count, _experiment, _table


def _per_row(lists: ExclusionLists, n: int) -> list[list[int]]:
    offsets, items = lists.rows(torch.arange(n))
    return [sorted(items[offsets[i]:offsets[i + 1]].tolist()) for i in range(n)]


def test_validation_seen_lists_reuse_the_evaluator_codes(monkeypatch):
    exp = _experiment(_table(seed=1))
    val = exp.val_table
    stranger = val.iloc[:3].assign(user_id=[10_000, 10_001, 10_000])  # users the fitted part lacks
    calls: Counter[str] = Counter()
    for name in ("one_row_per_key", "key_codes", "KeyIndex"):
        _count(monkeypatch, calls, export, name)
    ev = exp.evaluator(val, exclude_seen=True)
    assert not calls, calls  # the user column is hashed once, by the evaluator
    monkeypatch.undo()
    # the lists are those built by hashing the users afresh (and those of a brute force)
    for table in (val, pd.concat([val, stranger], ignore_index=True)):
        codes = key_codes(exp.fit_table["user_id"], table["user_id"], column="user_id")
        shared = seen_lists(table["user_id"], exp.fit_table, "user_id", "item_id", exp.catalogue, codes=codes)
        afresh = seen_lists(table["user_id"], exp.fit_table, "user_id", "item_id", exp.catalogue)
        got = _per_row(shared, len(table))
        assert got == _per_row(afresh, len(table))
        rows = exp.catalogue.rows_of(exp.fit_table["item_id"])
        seen = {u: sorted(set(rows[(exp.fit_table["user_id"] == u).to_numpy()].tolist()))
                for u in table["user_id"].unique()}
        assert got == [seen[u] for u in table["user_id"]]
    assert got[-3:] == [[], [], []]
    # ranks and metrics: those of the evaluator given the lists built afresh
    afresh = seen_lists(val["user_id"], exp.fit_table, "user_id", "item_id", exp.catalogue)
    old = RetrievalEvaluator(ev.query_features, ev.positives, ev.catalogue_features, metrics=ev.metrics,
                             groups=ev.groups, exclude=afresh)
    exp.model.eval()
    assert torch.equal(ev.ranks(exp.model), old.ranks(exp.model))
    assert ev(exp.model) == old(exp.model)


def test_codes_match_ids_canonically():
    """``42``, ``42.0`` and ``"42"`` are one user whichever column they come from."""
    exp = _experiment(_table(seed=2))
    train = pd.DataFrame({"user_id": pd.Series([1, "2", 3.0, 1, "x"], dtype=object),
                          "item_id": exp.catalogue.ids[:5]})
    rows = pd.Series(["1", 2, 3, "x", 7, 2.0], dtype=object)
    codes = key_codes(train["user_id"], rows, column="user_id")
    shared = seen_lists(rows, train, "user_id", "item_id", exp.catalogue, codes=codes)
    afresh = seen_lists(rows, train, "user_id", "item_id", exp.catalogue)
    got = _per_row(shared, len(rows))
    assert got == _per_row(afresh, len(rows))
    assert [len(r) for r in got] == [2, 1, 1, 1, 0, 1]

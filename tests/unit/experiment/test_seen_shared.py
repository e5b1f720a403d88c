"""Evaluation excludes the training users' seen items through the stored users' CSR (built
once, shared with the saved model, never changed), and a history cell the experiment built
adds no second list: ranks equal those of lists built the earlier way (per group code, with
every row's history), for the test split, the validation split and a raw table."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd
import pytest
import torch

import recstack.experiment.export as export
import recstack.experiment.retrieval as retrieval
from recstack.experiment import RetrievalExperiment
from recstack.metrics import ExclusionLists, build_exclusion
from recstack.preprocessing.keys import key_codes
from recstack.tasks.retrieval_eval import RetrievalEvaluator
from tests.conftest import small_config


@pytest.fixture(scope="module")
def exp() -> RetrievalExperiment:
    e = RetrievalExperiment(small_config(**{"train.epochs": 1}))
    e.fit()
    return e


def _earlier_lists(exp: RetrievalExperiment, table: pd.DataFrame, seen_train: pd.DataFrame) -> ExclusionLists:
    """The lists as evaluation built them before they were shared: per group code, each row's
    history items too."""
    seen_codes, table_codes = key_codes(seen_train["user_id"], table["user_id"], column="user_id")
    groups = torch.as_tensor(table_codes)
    rows = torch.as_tensor(exp.catalogue.rows_of(seen_train["item_id"]), dtype=torch.long)
    users = torch.as_tensor(seen_codes)
    ok = (rows >= 0) & (users >= 0)
    history = exp.catalogue.history_rows(table["history"], exp.schema, exp.query_features)
    return ExclusionLists(per_group=build_exclusion(torch.arange(int(groups.max()) + 1), users[ok], rows[ok]),
                          row_groups=groups, per_row=history)


def _same_ranks(exp: RetrievalExperiment, ev: RetrievalEvaluator, earlier: ExclusionLists) -> None:
    old = RetrievalEvaluator(ev.query_features, ev.positives, ev.catalogue_features, metrics=ev.metrics,
                             groups=ev.groups, exclude=earlier)
    exp.model.eval()
    assert torch.equal(ev.ranks(exp.model), old.ranks(exp.model))
    assert ev(exp.model) == old(exp.model)  # to the last digit


def test_test_and_validation_ranks_match_the_earlier_lists(exp):
    _same_ranks(exp, exp.evaluator(exp.test_table, exclude_seen=True),
                _earlier_lists(exp, exp.test_table, exp.full_train))
    _same_ranks(exp, exp.evaluator(exp.val_table, exclude_seen=True),
                _earlier_lists(exp, exp.val_table, exp.fit_table))


def test_a_history_the_table_gives_is_still_excluded(exp):
    raw = exp.test_table.drop(columns="history").reset_index(drop=True)
    first = set(exp.full_train["item_id"][exp.full_train.user_id == raw.user_id[0]])
    unseen = [i for i in exp.catalogue.ids if i not in first]
    raw["history"] = pd.Series([unseen[:3]] * len(raw), dtype=object)  # items the users' lists may lack
    ev = exp.evaluator(raw, exclude_seen=True)
    earlier = _earlier_lists(exp, exp.prepare(raw), exp.full_train)
    row_items = earlier._prepared().row
    assert row_items is not None and row_items[1].numel() > 0  # items only the history names
    _same_ranks(exp, ev, earlier)


def test_the_seen_items_are_built_once_for_evaluation_and_the_model(exp, tmp_path, monkeypatch):
    before = [t.clone() for t in exp.stored_users().seen]
    exp._stored = None  # as a fresh experiment after fit
    calls: Counter[str] = Counter()
    for module in (export, retrieval):
        original = module.seen_items

        def counted(*args: Any, _f: Any = original, **kwargs: Any) -> Any:
            calls["seen_items"] += 1
            return _f(*args, **kwargs)

        monkeypatch.setattr(module, "seen_items", counted)
    exp.evaluate(exclude_seen=True)
    exp.evaluate(exclude_seen=True)
    rec = exp.recommender()
    exp.save(tmp_path / "model")
    assert calls["seen_items"] == 1, calls
    assert all(torch.equal(a, b) for a, b in zip(exp.stored_users().seen, before))  # evaluation changed nothing
    rec.seen[1].zero_()  # the Recommender's copy is its own
    assert torch.equal(exp.stored_users().seen[1], before[1])

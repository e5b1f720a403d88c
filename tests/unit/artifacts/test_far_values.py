"""Numeric request values far outside a feature's training range (a timestamp in milliseconds
for a model trained on seconds) get one warning per call; values a little outside (a test
split's later times) do not. The range is part of the fitted state; older states still load."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

import recstack
from recstack.preprocessing import NumericTransformer
from tests.conftest import ml100k_dir
from tests.unit.artifacts.context_model import context_experiment

FAR = "lie far outside its training range"


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    exp = context_experiment(items=True)
    return recstack.load(exp.save(tmp_path_factory.mktemp("far") / "model"))


def test_milliseconds_for_seconds_are_warned_about_once(saved, caplog):
    rows = [{"user_id": 1, "timestamp": 1_000_100_000}, {"user_id": 2, "timestamp": 1_000_100_000_000},
            {"user_id": 3, "timestamp": 1_000_200_000_000}]
    with caplog.at_level(logging.WARNING):
        saved.recommend(rows, k=3)
    msgs = [r.getMessage() for r in caplog.records if FAR in r.getMessage()]
    assert msgs == ["request rows: feature 'timestamp' (column 'timestamp'): 2 of 3 values lie far outside its "
                    "training range [1000000000, 1000299000] (beyond max + (max - min) or below min - (max - min)), "
                    "e.g. 1000100000000: is the unit or scale wrong (milliseconds for seconds)? The model never saw "
                    "such values; its scores for them mean little"]


def test_values_a_little_outside_are_not(saved, caplog):
    with caplog.at_level(logging.WARNING):
        saved.recommend([{"user_id": 1, "timestamp": 1_000_500_000}, {"user_id": 2, "timestamp": 999_800_000}], k=3)
    assert FAR not in caplog.text


def test_candidate_rows_are_checked_too(saved, caplog):
    with caplog.at_level(logging.WARNING):
        saved.score({"user_id": 1, "timestamp": 1_000_100_000}, [{"item_id": 3, "year": 1993},
                                                                 {"item_id": 4, "year": 19940}])
    assert "feature 'year' (column 'year'): 1 of 2 values lie far outside its training range [1990, 1999]" \
        in caplog.text


def test_the_range_is_saved_and_an_older_state_loads_without_it():
    t = NumericTransformer(fill=0.0, normalize=True).fit([2.0, 5.0, np.nan, 3.0])  # the fill is no value seen
    state = t.get_state()
    assert (state["min"], state["max"]) == (2.0, 5.0)
    assert NumericTransformer.from_state(state).far_outside([8.0, 8.5, -1.5]).tolist() == [False, True, True]
    old = {k: v for k, v in state.items() if k not in ("min", "max")}
    assert not NumericTransformer.from_state(old).far_outside([1e12]).any()


def test_the_movielens_test_splits_are_not_far_outside():
    d = ml100k_dir()
    if d is None:
        pytest.skip("no MovieLens 100K in RECSTACK_DATA")
    names = ["user_id", "item_id", "rating", "timestamp"]
    base = pd.read_csv(d / "u1.base", sep="\t", names=names)
    test = pd.read_csv(d / "u1.test", sep="\t", names=names)
    assert not NumericTransformer().fit(base["timestamp"]).far_outside(test["timestamp"]).any()
    everything = pd.read_csv(d / "u.data", sep="\t", names=names).sort_values("timestamp")
    cut = int(len(everything) * 0.8)  # a temporal split: the test rows are all later
    later = NumericTransformer().fit(everything["timestamp"][:cut])
    assert not later.far_outside(everything["timestamp"][cut:]).any()

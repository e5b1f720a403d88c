"""eval_history: before on unusual inputs: training items outside the catalogue, zones of any
kind, evaluation times of another type, times a timeline cannot store, tampered timelines."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pytest
import torch

import recstack
from recstack.artifacts.timeline import Timeline, check_time_column
from recstack.errors import ArtifactError, ConfigError, SchemaError
from recstack.experiment import RetrievalExperiment
from recstack.experiment.offline import evaluate_recommender
from recstack.experiment.tables import Tables
from tests.unit.experiment.as_of_data import as_of_config


_config = as_of_config


def _rows(times=None, n=1200):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"user_id": rng.integers(0, 30, n), "item_id": rng.integers(0, 50, n),
                       "timestamp": rng.integers(0, 100, n) if times is None else times(rng, n)})
    test = rng.random(n) < 0.25
    return df[~test].reset_index(drop=True), df[test].reset_index(drop=True)


def _saved_agrees(tmp_path, exp):
    """exp.evaluate() on the test split == the saved model's evaluate_recommender on the raw rows."""
    exp.fit()
    expected = exp.evaluate()
    raw = exp.test_table.drop(columns=["history"])
    exp.save(tmp_path / "m")
    rec = recstack.load(tmp_path / "m")
    assert evaluate_recommender(rec, raw) == pytest.approx(expected, abs=1e-9)
    return rec, raw


def test_training_items_outside_the_catalogue_stay_in_the_histories(tmp_path):
    train, test = _rows()
    items = pd.DataFrame({"item_id": np.arange(40)})  # items 40..49 are trained on but not candidates
    exp = RetrievalExperiment(_config(tmp_path, "in_batch"), tables=Tables(train, test, items=items))
    rec, _ = _saved_agrees(tmp_path, exp)
    assert rec.timeline is not None and sorted(rec.timeline.extra_ids) == list(range(40, 50))


@pytest.mark.parametrize("zone", ["dateutil/Europe/Paris", datetime.timezone(datetime.timedelta(hours=-5), "EST-ish")])
def test_any_zone_saves_and_evaluates(tmp_path, zone):
    def stamps(rng, n):
        return (pd.Timestamp("2020-06-01") + pd.to_timedelta(rng.integers(0, 50, n), unit="h")).tz_localize(zone)
    train, test = _rows(stamps)
    rec, raw = _saved_agrees(tmp_path, RetrievalExperiment(_config(tmp_path), tables=Tables(train, test)))
    assert rec.timeline is not None and rec.timeline.utc


def test_evaluation_times_of_another_kind(tmp_path):
    def stamps(rng, n):
        return pd.Timestamp("2020-06-01") + pd.to_timedelta(rng.integers(0, 50, n), unit="h")
    train, test = _rows(stamps)
    rec, raw = _saved_agrees(tmp_path, RetrievalExperiment(_config(tmp_path), tables=Tables(train, test)))
    as_text = raw.assign(timestamp=raw.timestamp.astype(str))  # a CSV file's ISO text
    assert evaluate_recommender(rec, as_text) == evaluate_recommender(rec, raw)
    for bad, holds in ((raw.timestamp.dt.tz_localize("UTC"), "datetime64"), (raw.timestamp.astype("int64"), "int64"),
                       (as_text.timestamp + "x", "(object|str)")):
        with pytest.raises(SchemaError, match=rf"'timestamp' .* holds {holds}.*give datetimes without a zone"):
            evaluate_recommender(rec, raw.assign(timestamp=bad))
    train, test = _rows()
    exp = RetrievalExperiment(_config(tmp_path), tables=Tables(train, test))
    raw = exp.test_table.drop(columns=["history"])
    for bad in (raw.timestamp.astype(str), raw.timestamp > 50):
        with pytest.raises(SchemaError, match=r"holds (object|str|bool) and the training times int64; give numbers"):
            exp.evaluate(raw.assign(timestamp=bad))
    assert exp.evaluate(raw.assign(timestamp=raw.timestamp.astype(float))) == exp.evaluate(raw)


def test_times_a_timeline_cannot_hold_are_refused_before_training():
    far = pd.Series(np.array(["2500-01-01"], dtype="datetime64[s]"))
    with pytest.raises(ConfigError, match="outside 1677-09-21..2262-04-11"):
        check_time_column(far, "ts")
    with pytest.raises(ConfigError, match=r"uint64 values of 2\*\*63 or more"):
        check_time_column(pd.Series(np.array([2**63], dtype=np.uint64)), "ts")
    check_time_column(pd.Series(np.array([2**63 - 1], dtype=np.uint64)), "ts")


def test_a_tampered_timeline_is_an_artifact_error():
    t = Timeline(torch.tensor([0, 2, 3]), torch.tensor([0, 1, 2]), torch.tensor([5, 6, 7]), "int",
                 extra_ids=(9,))
    assert Timeline.read(t.tensors(), t.spec(), n_users=2, n_items=2, where="x").extra_ids == (9,)
    nat = torch.tensor([5, np.iinfo(np.int64).min, 7])
    for tensors, spec in [
        ({**t.tensors(), "timeline_times": torch.tensor([True, False, True])}, t.spec()),
        ({**t.tensors(), "timeline_items": torch.tensor([0, 1, 2], dtype=torch.int32)}, t.spec()),
        ({**t.tensors(), "timeline_times": torch.tensor([5.0, float("nan"), 7.0], dtype=torch.float64)},
         {**t.spec(), "kind": "float"}),
        ({**t.tensors(), "timeline_times": nat}, {**t.spec(), "kind": "datetime"}),
        (t.tensors(), {**t.spec(), "utc": "Europe/Paris"}),
        (t.tensors(), {**t.spec(), "utc": True}),  # a zone on numbers
        (t.tensors(), {**t.spec(), "extra_ids": []}),  # row 2 names no item
        (t.tensors(), {**t.spec(), "extra_ids": [[9]]}),
    ]:
        with pytest.raises(ArtifactError, match="x: the training timeline is malformed"):
            Timeline.read(tensors, spec, n_users=2, n_items=2, where="x")

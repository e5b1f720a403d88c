"""data.history.eval_history: before: a test row's history holds only its user's training items
earlier than the row, in training, ``exp.evaluate(table)`` and on the saved model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import recstack
from recstack.config import ExperimentConfig
from recstack.errors import ArtifactError, ConfigError, SchemaError
from recstack.experiment import RetrievalExperiment
from recstack.experiment.offline import evaluate_recommender
from tests.unit.experiment.side_data import side_config, write_side_data

HIST = {"max_length": 6, "mode": "before", "eval_history": "before"}


def _config(tmp_path, **overrides):
    d = side_config(**{"data.test": None, "data.split": {"kind": "random", "test_fraction": 0.25, "seed": 2},
                       "data.history": HIST, "model.query": ["history"], "model.candidate": ["item_id"],
                       "model.layers": [], **overrides})
    return ExperimentConfig.from_dict(d, base_dir=str(tmp_path))


def _earlier(train: pd.DataFrame, row: pd.Series, max_length: int) -> list:
    """Brute force: the user's training items strictly before the row, oldest first, the last ``max_length``."""
    mine = train[(train.user_id == row.user_id) & (train.timestamp < row.timestamp)]
    return mine.sort_values("timestamp", kind="stable").item_id.tolist()[-max_length:]


def test_test_rows_get_only_earlier_training_items(tmp_path):
    write_side_data(tmp_path)
    exp = RetrievalExperiment(_config(tmp_path))
    test, train = exp.test_table, exp.full_train
    assert test is not None
    got = [list(h) for h in test.history]
    assert got == [_earlier(train, r, 6) for r in test.itertuples()]
    whole = RetrievalExperiment(_config(tmp_path, **{"data.history": {**HIST, "eval_history": "profile"}}))
    assert whole.test_table is not None
    later = [len(h) for h in whole.test_table.history]
    assert sum(later) > sum(map(len, got))  # the profile also holds items after the row


def _saved(tmp_path, exclude_seen):
    """A model trained 3 epochs on the side data, its test metrics, raw test rows and the saved model."""
    write_side_data(tmp_path)
    exp = RetrievalExperiment(_config(tmp_path, **{"eval.exclude_seen": exclude_seen, "train.epochs": 3}))
    exp.fit()
    expected = exp.evaluate()
    assert exp.test_table is not None
    exp.save(tmp_path / "model")
    return exp, expected, exp.test_table.drop(columns=["history"]), recstack.load(tmp_path / "model")


def test_saved_model_and_raw_tables_evaluate_like_the_test_split(tmp_path):
    exp, expected, raw, rec = _saved(tmp_path, False)
    assert exp.evaluate(raw) == expected  # exp.evaluate(table) builds the same histories
    assert rec.timeline is not None and rec.timeline.kind == "int"
    assert evaluate_recommender(rec, raw) == pytest.approx(expected, abs=1e-6)
    assert evaluate_recommender(exp.recommender(), raw) == pytest.approx(expected, abs=1e-6)
    with pytest.raises(SchemaError, match=r"eval_history: before .* no column 'timestamp'"):
        evaluate_recommender(rec, raw.drop(columns=["timestamp"]))
    with pytest.raises(SchemaError, match=r"the evaluation data has no column 'timestamp'.*eval_history: profile"):
        exp.evaluate(raw.drop(columns=["timestamp"]))


def test_a_tampered_or_missing_timeline_is_an_artifact_error(tmp_path):
    from safetensors.torch import load_file, save_file

    write_side_data(tmp_path)
    exp = RetrievalExperiment(_config(tmp_path, **{"train.epochs": 1}))
    exp.fit()
    exp.save(tmp_path / "model")
    path = tmp_path / "model" / "candidates.safetensors"
    tensors = load_file(str(path))
    tensors["timeline_items"] = tensors["timeline_items"] + 10_000  # rows outside the catalogue
    save_file(tensors, str(path))
    with pytest.raises(ArtifactError):  # the digest, or the timeline's own check
        recstack.load(tmp_path / "model")
    rec = exp.recommender()
    rec.timeline = None
    assert exp.test_table is not None
    with pytest.raises(ArtifactError, match="keeps no training timeline"):
        evaluate_recommender(rec, exp.test_table.drop(columns=["history"]))


def test_the_timeline_check_reads_a_bad_layout(tmp_path):
    from recstack.artifacts.timeline import Timeline

    t = Timeline(torch.tensor([0, 2, 3]), torch.tensor([0, 1, 1]), torch.tensor([5, 6, 7]), "int")
    good = Timeline.read(t.tensors(), t.spec(), n_users=2, n_items=2, where="x")
    assert good.items.tolist() == [0, 1, 1]
    for tensors, spec, users, items in [
        (t.tensors(), t.spec(), 3, 2),  # a row per stored user
        (t.tensors(), t.spec(), 2, 1),  # a catalogue row past the catalogue
        (t.tensors(), {"kind": "float"}, 2, 2),  # integer times said to be floats
        (t.tensors(), {"kind": "text"}, 2, 2),
        ({**t.tensors(), "timeline_offsets": torch.tensor([0, 3, 2])}, t.spec(), 2, 2),
        ({k: v for k, v in t.tensors().items() if k != "timeline_times"}, t.spec(), 2, 2),
    ]:
        with pytest.raises(ArtifactError, match="x: the training timeline is malformed"):
            Timeline.read(tensors, spec, n_users=users, n_items=items, where="x")


@pytest.mark.parametrize("tz", [None, "Europe/Paris"])
def test_datetimes_round_trip_with_their_zone(tz):
    from recstack.artifacts.timeline import Timeline

    when = pd.Series(pd.to_datetime(["2020-01-02 10:00", "2020-01-01 09:00", "2020-03-01 00:00"]))
    if tz:
        when = when.dt.tz_localize(tz)
    train = pd.DataFrame({"u": ["b", "a", "b"], "i": [7, 8, 9], "t": when})
    users = pd.Series(["a", "b"])
    t = Timeline.build(users, train, user="u", item="i", time="t", item_rows=np.array([0, 1, 2]), catalogue_size=3)
    back = t.reference(users, [7, 8, 9], user="u", item="i", time="t")
    assert back.u.tolist() == ["a", "b", "b"] and back.i.tolist() == [8, 7, 9]
    assert back.t.tolist() == [when[1], when[0], when[2]]


def test_settings_that_cannot_work_are_refused_before_training(tmp_path):
    write_side_data(tmp_path)
    with pytest.raises(ConfigError, match=r"data\.history\.eval_history: before gives .* set mode: before"):
        _config(tmp_path, **{"data.history": {**HIST, "mode": "others"}})
    train = pd.read_csv(tmp_path / "train.csv")
    train.assign(timestamp=train.timestamp.astype(str)).to_csv(tmp_path / "train.csv", index=False)
    cfg = _config(tmp_path, **{"data.train": {"path": "train.csv", "dtype": {"timestamp": "str"}}})
    with pytest.raises(ConfigError, match=r"data\.time_column 'timestamp' holds str; give numbers"):
        RetrievalExperiment(cfg)
    train.rename(columns={"item_id": "movie"}).assign(item_id=train.item_id).to_csv(tmp_path / "train.csv",
                                                                                     index=False)
    with pytest.raises(ConfigError, match=r"data\.item_column 'movie' is not the candidate key's column 'item_id'"):
        RetrievalExperiment(_config(tmp_path, **{"data.item_column": "movie"}))


def test_eval_history_does_not_change_what_a_checkpoint_resumes(tmp_path):
    write_side_data(tmp_path)
    before = _config(tmp_path).data.resume_fingerprint()
    profile = _config(tmp_path, **{"data.history": {**HIST, "eval_history": "profile"}}).data.resume_fingerprint()
    assert before == profile and "eval_history" not in before["history"]  # as checkpoints written before it


def test_exclude_seen_excludes_only_the_items_seen_before_the_row(tmp_path):
    write_side_data(tmp_path)
    exp = RetrievalExperiment(_config(tmp_path, **{"eval.exclude_seen": True}))
    test, train = exp.test_table, exp.full_train
    assert test is not None
    lists = exp.evaluator(test).exclude
    offsets, items = lists.rows(torch.arange(len(test)))
    rows_of = exp.catalogue.rows_of
    for r, row in enumerate(test.itertuples()):
        mine = train[(train.user_id == row.user_id) & (train.timestamp < row.timestamp)]
        tested = set(rows_of(test[test.user_id == row.user_id].item_id))  # a user's test items are kept
        want = set(rows_of(mine.item_id)) - tested
        assert set(items[offsets[r]:offsets[r + 1]].tolist()) == want, r
    profile = RetrievalExperiment(_config(tmp_path, **{"eval.exclude_seen": True,
                                                       "data.history": {**HIST, "eval_history": "profile"}}))
    o2, i2 = profile.evaluator(profile.test_table).exclude.rows(torch.arange(len(test)))
    assert len(i2) > len(items)  # the whole profile: later items too


def test_the_saved_model_excludes_what_training_excluded(tmp_path):
    exp, expected, raw, rec = _saved(tmp_path, True)
    assert evaluate_recommender(rec, raw) == pytest.approx(expected, abs=1e-9)
    assert evaluate_recommender(rec, exp.test_table) == pytest.approx(expected, abs=1e-9)  # a given history
    whole = evaluate_recommender(rec, raw, exclude_seen=False)
    assert whole != expected
    with pytest.raises(recstack.errors.ConfigError, match="exclude_rows replaces exclude='seen'"):
        rec.rank(raw[["user_id"]], raw.item_id, exclude="seen", exclude_rows=(torch.zeros(len(raw) + 1,
                                                                                           dtype=torch.long),
                                                                               torch.zeros(0, dtype=torch.long)))

"""data.filter in an experiment: config errors, the tables an experiment trains and tests on,
the resume fingerprint, the saved model, ``recstack evaluate`` (and ``--no-filter``), ML-100K."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pandas as pd
import pytest

from recstack.artifacts import load
from recstack.cli.main import main
from recstack.config import ExperimentConfig
from recstack.errors import ArtifactError, ConfigError, DataError
from recstack.experiment import RetrievalExperiment
from recstack.experiment.offline import evaluate_recommender
from recstack.experiment.tables import load_tables
from tests.conftest import small_config
from tests.unit.experiment.side_data import side_config, write_side_data

FILTER = {"rows": {"rating": {"min": 4}}, "min_user_rows": 5, "min_item_rows": 20}


@pytest.mark.parametrize("bad, message", [
    ({"rows": {"rating": {}}}, r"^data\.filter\.rows\.rating: .*empty condition"),
    ({"rows": {"rating": {"min": 5, "max": 4}}}, r"^data\.filter\.rows\.rating\.min: 5 is above max 4"),
    ({"rows": {"rating": {"min": "4"}}}, r"^data\.filter\.rows\.rating\.min: Input should be a valid"),
    ({"rows": {"rating": {"in": []}}}, r"^data\.filter\.rows\.rating\.in: List should have at least 1 item"),
    ({"rows": {"rating": {"above": 4}}}, r"^data\.filter\.rows\.rating\.above: unknown key"),
    ({"min_user_rows": 0}, r"^data\.filter\.min_user_rows: Input should be greater than or equal to 1"),
])
def test_config_errors_name_the_key(bad, message):
    with pytest.raises(ConfigError, match=message):
        small_config(**{"data.filter": bad})


def test_in_round_trips_under_its_yaml_name():
    cfg = small_config(**{"data.filter": {"rows": {"genres": {"in": ["a"], "not_in": ["b"]}}}})
    plain = cfg.to_dict()["data"]["filter"]
    assert plain["rows"]["genres"] == {"min": None, "max": None, "in": ["a"], "not_in": ["b"]}
    assert ExperimentConfig.from_dict(cfg.to_dict()).data.filter == cfg.data.filter


def test_a_column_the_interactions_lack_or_text_under_min_is_a_config_error():
    with pytest.raises(ConfigError, match=r"^data\.filter\.rows\.ratin: 'ratin' is not a column of the training "
                       r"data of synthetic; columns: \[.*'rating'"):
        load_tables(small_config(**{"data.filter": {"rows": {"ratin": {"min": 4}}}}).data)
    with pytest.raises(ConfigError, match=r"^data\.filter\.rows\.title\.min: column 'title'"):
        load_tables(small_config(**{"data.filter": {"rows": {"title": {"min": 4}}}}).data)
    with pytest.raises(DataError, match=r"^data\.filter leaves the training data of synthetic empty: it keeps 0 of "
                       r"its 2850 rows \(rows\.rating drops 2850\)"):
        load_tables(small_config(**{"data.filter": {"rows": {"rating": {"min": 6}}}}).data)


def test_the_experiment_trains_on_the_filtered_k_core_and_tests_on_the_filtered_rows(caplog):
    raw = load_tables(small_config().data)
    with caplog.at_level(logging.INFO, logger="recstack.data.filters"):
        exp = RetrievalExperiment(small_config(**{"data.filter": FILTER}))
    # independently: ratings >= 4, then drop rows until users have 5 and items 20
    want = raw.train[raw.train.rating >= 4]
    while True:
        ok = (want.groupby("user_id").item_id.transform("size") >= 5) & (
            want.groupby("item_id").user_id.transform("size") >= 20)
        if ok.all():
            break
        want = want[ok]
    got = exp.full_train
    assert len(got) == len(want) < (raw.train.rating >= 4).sum()
    assert got[["user_id", "item_id", "timestamp"]].equals(want[["user_id", "item_id", "timestamp"]]
                                                           .reset_index(drop=True))
    assert exp.test_table is not None and len(exp.test_table) == int((raw.test.rating >= 4).sum())  # no k-core
    assert len(exp.fit_table) + len(exp.val_table) == len(got)  # validation carved after the filter
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3 and lines[0].startswith("data.filter: the training data of synthetic: kept ")
    assert lines[1].startswith(f"data.filter: the training rows: kept {len(want)} of ")
    assert lines[2].startswith("data.filter: the test data of synthetic: kept ")


def test_the_filter_is_in_the_checkpoint_fingerprint_and_the_saved_model(tmp_path):
    cfg = small_config(**{"data.filter": FILTER, "train.epochs": 1})
    exp = RetrievalExperiment(cfg, run_dir=tmp_path / "run")
    exp.fit()
    state = json.loads(next((tmp_path / "run" / "checkpoints").glob("epoch-*/state.json")).read_text())
    assert state["fingerprint"]["data.filter.rows.rating.min"] == 4
    assert state["fingerprint"]["data.filter.min_item_rows"] == 20
    with pytest.raises(ArtifactError, match=r"data\.filter\.min_item_rows is 10 now, 20 in the checkpoint"):
        RetrievalExperiment(small_config(**{"data.filter": {**FILTER, "min_item_rows": 10}, "train.epochs": 2})
                            ).fit(resume_from=tmp_path / "run" / "checkpoints")
    with pytest.raises(ArtifactError, match=r"data\.filter\.rows\.rating\.min is None now, 4 in the checkpoint"):
        RetrievalExperiment(small_config(**{"train.epochs": 2})).fit(resume_from=tmp_path / "run" / "checkpoints")
    exp.save(tmp_path / "model")
    saved = load(tmp_path / "model").metadata["experiment"]["data"]["filter"]
    assert saved == {"rows": {"rating": {"min": 4, "max": None, "in": None, "not_in": None}},
                     "min_user_rows": 5, "min_item_rows": 20}


def test_without_a_filter_the_fingerprint_is_as_before():
    exp = RetrievalExperiment(small_config(**{"train.epochs": 1}))
    exp.fit()
    assert not any(k.startswith("data.filter") for k in exp.trainer.fingerprint)


def test_evaluate_applies_the_saved_rows_filter_unless_told_not_to(tmp_path, capsys):
    write_side_data(tmp_path)
    for name in ("train", "test"):  # a rating column: every 3rd row is a 2
        t = pd.read_csv(tmp_path / f"{name}.csv")
        t.assign(rating=[2 if i % 3 == 0 else 5 for i in range(len(t))]).to_csv(tmp_path / f"{name}.csv", index=False)
    cfg = ExperimentConfig.from_dict(side_config(**{"data.filter": {"rows": {"rating": {"min": 3}}}}),
                                     base_dir=str(tmp_path))
    exp = RetrievalExperiment(cfg)
    test = pd.read_csv(tmp_path / "test.csv")
    assert len(exp.full_train) < len(pd.read_csv(tmp_path / "train.csv"))
    assert exp.test_table is not None and len(exp.test_table) == int((test.rating >= 3).sum())
    exp.fit()
    trained = exp.evaluate()
    assert exp.evaluate(test) == trained  # a raw table is filtered as the test rows were
    exp.save(tmp_path / "m")
    rec = load(tmp_path / "m")
    assert evaluate_recommender(rec, test) == pytest.approx(trained)
    unfiltered = evaluate_recommender(rec, test, filter_rows=False)
    assert unfiltered == pytest.approx(evaluate_recommender(rec, test[test.rating >= 0], filter_rows=False))
    assert unfiltered != pytest.approx(trained)
    for flags, want in (([], trained), (["--no-filter"], unfiltered)):
        assert main(["evaluate", str(tmp_path / "m"), "--data", str(tmp_path / "test.csv"), *flags]) == 0
        assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == pytest.approx(want)


def _ml100k() -> Path | None:
    root = os.environ.get("RECSTACK_DATA")
    folder = Path(root) / "ml-100k" if root else None
    return folder if folder is not None and (folder / "u1.base").is_file() else None


@pytest.mark.skipif(_ml100k() is None, reason="no MovieLens 100K in RECSTACK_DATA (set it to the folder holding ml-100k/)")
def test_movielens_u1_keeps_exactly_the_ratings_of_4_and_more():
    folder = _ml100k()
    assert folder is not None
    cols = ["user_id", "item_id", "rating", "timestamp"]
    base = pd.read_csv(folder / "u1.base", sep="\t", names=cols)
    test = pd.read_csv(folder / "u1.test", sep="\t", names=cols)
    cfg = small_config(**{"data.dataset": "movielens-100k", "data.dataset_options": {"download": False},
                          "data.filter": {"rows": {"rating": {"min": 4}}}})
    tables = load_tables(cfg.data)
    assert len(tables.train) == int((base.rating >= 4).sum()) == 44_140
    assert tables.test is not None and len(tables.test) == int((test.rating >= 4).sum())
    assert (tables.train.rating >= 4).all()

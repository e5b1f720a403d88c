"""``recstack evaluate`` joins the model's data.join tables and uses its eval settings, so it
reports what ``recstack train`` reported on the same test file."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
import yaml

from recstack.cli import main
from tests.unit.experiment.side_data import side_config, write_side_data


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A model with user side features, trained from a config in its own folder (relative
    paths), on data where 5 users appear only in the test file (cold, with side features)."""
    root = tmp_path_factory.mktemp("evaljoin")
    write_side_data(root / "cfg", cold_users=5)
    (root / "cfg" / "c.yaml").write_text(yaml.safe_dump(side_config()))
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(elsewhere)  # the side files are found through the config's folder
        mp.delenv("RECSTACK_DATA", raising=False)
        assert main(["train", str(root / "cfg" / "c.yaml"), "-o", str(root / "m"), "-q"]) == 0
    return root


def _evaluate(capsys, *args) -> dict[str, float]:
    capsys.readouterr()
    assert main(["evaluate", *map(str, args)]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_evaluate_agrees_with_train_for_cold_users_with_side_features(trained, capsys, monkeypatch):
    monkeypatch.chdir(trained / "elsewhere")
    reported = json.loads((trained / "m" / "recstack.json").read_text())["metrics"]
    test = trained / "cfg" / "test.csv"  # user_id, item_id, timestamp: no side columns
    settings = ["--metrics", ",".join(reported), "--exclude-seen", "--ties", "mid"]  # as trained, given
    assert _evaluate(capsys, trained / "m", "--data", test, *settings) == pytest.approx(reported, rel=1e-6)
    assert _evaluate(capsys, trained / "m", "--data", test) == pytest.approx(reported, rel=1e-6)  # saved ones
    # without the join, the model's own copy of its unseen users' users-table rows describes them
    assert _evaluate(capsys, trained / "m", "--data", test, "--no-join") == pytest.approx(reported, rel=1e-6)
    # a file joined beforehand is used as it is
    joined = pd.read_csv(test).merge(pd.read_csv(trained / "cfg" / "users.csv"), on="user_id", how="left")
    joined.to_csv(trained / "joined.csv", index=False)
    assert _evaluate(capsys, trained / "m", "--data", trained / "joined.csv") == pytest.approx(reported, rel=1e-6)


def test_a_join_file_that_moved_is_an_error_naming_the_join_and_the_option(trained, capsys, monkeypatch):
    monkeypatch.chdir(trained / "elsewhere")
    monkeypatch.delenv("RECSTACK_DATA", raising=False)
    moved = trained / "moved"
    moved.mkdir(exist_ok=True)
    shutil.copytree(trained / "cfg", moved / "cfg", dirs_exist_ok=True)
    shutil.copytree(trained / "m", moved / "m", dirs_exist_ok=True)
    reported = json.loads((moved / "m" / "recstack.json").read_text())["metrics"]
    (trained / "cfg" / "users.csv").rename(trained / "users.csv")  # the file training read is gone
    try:
        test = moved / "cfg" / "test.csv"
        assert main(["evaluate", str(moved / "m"), "--data", str(test)]) == 2
        err = capsys.readouterr().err
        assert "data.join.users" in err and "--join users=PATH" in err and "--no-join" in err
        given = _evaluate(capsys, moved / "m", "--data", test, "--join", f"users={moved / 'cfg' / 'users.csv'}")
        assert given == pytest.approx(reported, rel=1e-6)
        monkeypatch.setenv("RECSTACK_DATA", str(moved / "cfg"))  # found as training would find it
        assert _evaluate(capsys, moved / "m", "--data", test) == pytest.approx(reported, rel=1e-6)
        assert main(["evaluate", str(moved / "m"), "--data", str(test), "--join", "movies=x.csv"]) == 2
        assert "joins no table named 'movies'; it joins: items, users" in capsys.readouterr().err
        assert main(["evaluate", str(moved / "m"), "--data", str(test), "--join", "users"]) == 2
        assert "--join: 'users' must be NAME=PATH" in capsys.readouterr().err
        assert main(["evaluate", str(moved / "m"), "--data", str(test), "--join", "users=u.csv", "--no-join"]) == 2
        assert "--no-join and --join exclude each other" in capsys.readouterr().err
    finally:
        (trained / "users.csv").rename(trained / "cfg" / "users.csv")


def test_evaluate_defaults_to_the_models_eval_settings_and_flags_override_them(trained, capsys):
    m, test = trained / "m", trained / "cfg" / "test.csv"
    reported = json.loads((m / "recstack.json").read_text())["metrics"]  # exclude_seen: true, ties: mid
    assert set(reported) == {"hit_rate@5", "hit_rate@10", "ndcg@10", "mrr"}
    same = _evaluate(capsys, m, "--data", test, "--exclude-seen", "--ties", "mid", "--cold-start", "average")
    assert same == pytest.approx(reported, rel=1e-6)
    kept = _evaluate(capsys, m, "--data", test, "--no-exclude-seen", "--metrics", "mrr")
    assert set(kept) == {"mrr"} and kept["mrr"] < reported["mrr"]  # seen items rank above the positives


def test_python_offline_evaluation_joins_too(trained):
    import recstack
    from recstack.experiment.offline import evaluate_recommender

    rec = recstack.load(trained / "m")
    reported = rec.metadata["metrics"]
    test = pd.read_csv(trained / "cfg" / "test.csv")
    assert evaluate_recommender(rec, test) == pytest.approx(reported, rel=1e-6)
    users = pd.read_csv(trained / "cfg" / "users.csv")
    assert evaluate_recommender(rec, test, joins={"users": users}) == pytest.approx(reported, rel=1e-6)
    assert evaluate_recommender(rec, test, joins=False) == pytest.approx(reported, rel=1e-6)  # stored rows
    rec.queries = type(rec.queries)(model=rec.model, preprocessor=rec.preprocessor, query_column=rec.query_column,
                                    known_queries=rec.known_queries, history_column=rec.history_column)
    # a model without them (saved before they were stored): the cold users' ages and countries are unknown
    assert evaluate_recommender(rec, test, joins=False) != pytest.approx(reported, rel=1e-6)


def test_joins_that_build_on_each_other_are_applied_in_the_trained_order(tmp_path):
    """``users`` brings ``city_id``, ``cities`` (keyed on it) brings ``region``: cities must be
    joined after users, although the saved manifest sorts its keys."""
    import recstack
    from recstack.config import ExperimentConfig
    from recstack.experiment import RetrievalExperiment
    from recstack.experiment.offline import evaluate_recommender

    tables = write_side_data(tmp_path, cold_users=3)
    users = tables["users"].assign(city_id=tables["users"].user_id % 7)
    users.drop(columns=["age", "country"]).to_csv(tmp_path / "users.csv", index=False)
    pd.DataFrame({"city_id": range(7), "region": list("NNSSEWW")}).to_csv(tmp_path / "cities.csv", index=False)
    d = side_config(**{"model.query": ["user_id", "region", "history"], "train.epochs": 1})
    d["data"]["join"] = {"users": {"path": "users.csv", "key": "user_id"},
                         "cities": {"path": "cities.csv", "key": "city_id"},
                         "items": {"path": "items.csv", "key": "item_id"}}
    d["features"] = {k: v for k, v in d["features"].items() if k not in ("age", "country")}
    d["features"]["region"] = {"type": "categorical"}
    exp = RetrievalExperiment(ExperimentConfig.from_dict(d, base_dir=str(tmp_path)))
    exp.fit()
    exp.save(tmp_path / "m")
    rec = recstack.load(tmp_path / "m")
    raw = pd.read_csv(tmp_path / "test.csv")
    assert evaluate_recommender(rec, raw) == pytest.approx(exp.evaluate(), rel=1e-6)


def test_a_model_trained_on_a_built_in_dataset_gets_its_side_tables(tmp_path):
    from recstack.config import ExperimentConfig
    from recstack.experiment import RetrievalExperiment
    from recstack.experiment.offline import join_saved_tables
    from tests.conftest import small_config

    d = small_config(**{"train.epochs": 1}).to_dict()
    d["features"]["age"] = {"type": "numeric", "normalize": True}
    d["model"]["query"] = ["user_id", "age", "history"]
    exp = RetrievalExperiment(ExperimentConfig.from_dict(d))
    exp.fit()
    rec = exp.recommender()
    raw = exp.tables.test[["user_id", "item_id"]].head(20)
    joined = join_saved_tables(rec, raw)
    expected = raw.merge(exp.tables.users, on="user_id", how="left")
    assert joined.age.tolist() == expected.age.tolist() and "title" not in joined  # only what the model reads

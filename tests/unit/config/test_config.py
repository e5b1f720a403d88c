from pathlib import Path

import pytest
import yaml

from recstack.config import ExperimentConfig, load_config
from recstack.errors import ConfigError
from tests.conftest import small_config


def write(tmp_path, d):
    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump(d))
    return p


def test_round_trip_and_errors(tmp_path):
    cfg = small_config()
    d = cfg.to_dict()
    assert ExperimentConfig.from_dict(d).to_dict() == d
    cases = [
        (("train", "lrr"), 0.1, "train.lrr"),
        (("train", "lr"), "abc", "train.lr"),
        (("features", "age"), {"type": "numbr"}, "numeric"),
        (("eval", "metrics"), ["precision@3"], "hit_rate@K"),
        (("model", "kind"), "deepfmm", "two_tower"),
    ]
    for (sec, key), value, expect in cases:
        bad = cfg.to_dict()
        bad[sec][key] = value
        with pytest.raises(ConfigError, match=expect.replace(".", r"\.").replace("@", "@")):
            ExperimentConfig.from_dict(bad)
    bad = cfg.to_dict()
    bad["data"]["train"] = "x.csv"
    with pytest.raises(ConfigError, match=r"data\.train: not used with data\.dataset"):
        ExperimentConfig.from_dict(bad)


def test_missing_file_names_path_and_env(tmp_path):
    d = small_config().to_dict()
    d["data"] = {"train": "nope/u1.base"}
    cfg = load_config(write(tmp_path, d))
    from recstack.experiment import RetrievalExperiment

    with pytest.raises(ConfigError, match="RECSTACK_DATA"):
        RetrievalExperiment(cfg)


@pytest.mark.parametrize("path", sorted((Path(__file__).resolve().parents[3] / "examples").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_every_example_config_validates(path):
    from recstack.models import TwoTowerConfig

    cfg = load_config(path)
    assert cfg.schema() is not None
    assert cfg.model.kind == "two_tower"
    TwoTowerConfig.model_validate(cfg.model_options())


def test_the_readme_config_validates():
    import re

    from recstack.models import TwoTowerConfig

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", readme, re.S)
    assert blocks, "README.md has no yaml block"
    for block in blocks:
        cfg = ExperimentConfig.from_dict(yaml.safe_load(block))
        TwoTowerConfig.model_validate(cfg.model_options())


@pytest.mark.parametrize("pattern", [r"[\s,]*", r"\s*", ",?", "x*"])
def test_a_text_split_that_matches_nothing_is_rejected(pattern):
    from recstack.features import Schema

    with pytest.raises(ConfigError, match=r"features\.title\.split.*matches the empty string"):
        Schema.from_dict({"title": {"type": "text", "split": pattern}})


def test_an_empty_separator_is_rejected():
    from recstack.features import Schema

    for spec in ({"type": "multi_hot", "separator": ""}, {"type": "sequence", "separator": ""}):
        with pytest.raises(ConfigError, match=r"features\.g\.separator"):
            Schema.from_dict({"g": spec})


def test_config_mistakes_that_used_to_pass_silently(tmp_path):
    p = tmp_path / "dup.yaml"
    p.write_text("data: {dataset: synthetic}\nfeatures:\n  user_id: {type: categorical}\n"
                 "  item_id: {type: categorical}\n  user_id: {type: numeric}\n"
                 "model: {kind: two_tower, query: [user_id], candidate: [item_id]}\n")
    with pytest.raises(ConfigError, match="key 'user_id' is given twice"):
        load_config(p)
    d = small_config().to_dict()
    d["data"]["test"] = "data/test.csv"
    with pytest.raises(ConfigError, match=r"data\.test: not used with data\.dataset"):
        ExperimentConfig.from_dict(d)
    d = small_config().to_dict()
    d["data"]["defaults"] = {"genress": ""}
    with pytest.raises(ConfigError, match=r"data\.defaults\.genress: no feature reads column"):
        ExperimentConfig.from_dict(d)
    d = small_config().to_dict()
    d["features"]["user_id"] = {"type": ["categorical"]}
    with pytest.raises(ConfigError, match=r"features\.user_id\.type: unknown feature type"):
        ExperimentConfig.from_dict(d)


def test_joins_match_keys_canonically_and_reject_conflicting_duplicates(tmp_path):
    import pandas as pd

    from recstack.errors import SchemaError
    from recstack.experiment.tables import join_side_table, side_table

    def _join(left, right, on, name):
        return join_side_table(left, side_table(right, on, name), name)

    inter = pd.DataFrame({"item_id": [1.0, 2.0, float("nan"), 3.0], "r": [5, 4, 3, 2]})  # a NaN made it float
    items = pd.DataFrame({"item_id": [1, 2, 3], "title": ["a", "b", "c"]})
    out = _join(inter, items, "item_id", "items")
    assert out.title.tolist()[:2] == ["a", "b"] and pd.isna(out.title[2]) and out.title[3] == "c"
    assert len(out) == 4
    with pytest.raises(SchemaError, match="not unique in the items table"):
        _join(inter, pd.DataFrame({"item_id": [1, 1], "title": ["a", "z"]}), "item_id", "items")
    assert len(_join(inter, pd.concat([items, items]), "item_id", "items")) == 4  # exact repeats are fine
    with pytest.raises(SchemaError, match="no 'item_id' value of the interactions is in the items table"):
        _join(inter, pd.DataFrame({"item_id": ["x"], "title": ["a"]}), "item_id", "items")


def test_validation_fraction_and_test_columns_are_checked_before_training():
    from recstack.errors import SchemaError
    from recstack.experiment import RetrievalExperiment

    with pytest.raises(ConfigError, match=r"data\.validation_fraction: 0\.0001 of .* leaves the validation part empty"):
        RetrievalExperiment(small_config(**{"data.validation_fraction": 0.0001}))
    exp = RetrievalExperiment(small_config())
    from recstack.experiment.tables import Tables

    t = exp.tables
    with pytest.raises(SchemaError, match="data.test: the test table needs columns"):
        RetrievalExperiment(small_config(), tables=Tables(t.train, t.test.drop(columns=["item_id"]), t.items, t.users))


@pytest.mark.parametrize(("query", "candidate", "match"), [
    (["user_idd"], ["item_id"], r"model\.query: unknown feature 'user_idd'"),
    (["user_id", "user_id"], ["item_id"], r"model\.query: \['user_id'\] listed twice"),
    (["user_id", "item_id"], ["item_id"], r"model\.query: \['item_id'\] is in model\.candidate too"),
])
def test_tower_feature_lists_are_checked(query, candidate, match):
    d = small_config().to_dict()
    d["model"]["query"], d["model"]["candidate"] = query, candidate
    with pytest.raises(ConfigError, match=match):
        ExperimentConfig.from_dict(d)


def test_a_folder_is_not_a_data_file(tmp_path):
    from recstack.experiment.tables import resolve_path

    (tmp_path / "data").mkdir()
    with pytest.raises(ConfigError, match=r"data\.train: file 'data' not found"):
        resolve_path("data", str(tmp_path), where="data.train")


@pytest.mark.parametrize(("key", "value", "match"), [
    ("data.time_column", "ts", r"data\.time_column: 'ts' is not a column"),
    ("data.history", {"column": "user_id", "max_length": 20}, r"data\.history\.column: 'user_id' is already a column"),
])
def test_history_settings_name_their_config_key(key, value, match):
    from recstack.experiment import RetrievalExperiment

    with pytest.raises(ConfigError, match=match):
        RetrievalExperiment(small_config(**{key: value}))


@pytest.mark.parametrize("dataset, options, expect", [
    ("movielens-100k", {"splitt": "u1"},
     r"data\.dataset_options\.splitt: unknown option of dataset 'movielens-100k'; allowed: data_dir, split"),
    ("synthetic", {"num_users": "many"}, r"data\.dataset_options\.num_users: expected int, got 'many'"),
])
def test_dataset_options_are_checked_at_config_load(tmp_path, dataset, options, expect):
    d = small_config().to_dict()
    d["data"].update(dataset=dataset, dataset_options=options)
    with pytest.raises(ConfigError, match=expect):
        load_config(write(tmp_path, d))


def test_table_source_dtype_allows_str_int_float():
    from recstack.config import TableSource

    assert TableSource(path="x.csv", dtype={"user_id": "str", "n": "int"}).dtype == {"user_id": "str", "n": "int"}
    d = small_config().to_dict()
    d["data"] = {"train": {"path": "x.csv", "dtype": {"user_id": "string"}}}
    with pytest.raises(ConfigError, match=r"data\.train\..*dtype\.user_id"):
        ExperimentConfig.from_dict(d)


def test_role_columns_are_checked_when_set_or_used():
    from recstack.config import DataConfig

    cols = ["user_id", "item_id", "timestamp"]
    given = DataConfig(train="x.csv", item_column="movie", time_column="ts")
    with pytest.raises(ConfigError, match=r"^data\.item_column: 'movie' is not a column of the training data; "
                                          r"columns: \['item_id', 'timestamp', 'user_id'\]"):
        given.check_column_roles(cols)
    with pytest.raises(ConfigError, match=r"^data\.time_column: 'ts' is not"):
        DataConfig(train="x.csv", time_column="ts").check_column_roles(cols)
    with pytest.raises(ConfigError, match=r"^data\.user_column: 'uid' is not"):
        DataConfig(train="x.csv", user_column="uid").check_column_roles(cols)
    # defaults that nothing uses may be absent (no history): e.g. a table without timestamps
    DataConfig(train="x.csv").check_column_roles(["user_id", "movie"])
    with pytest.raises(ConfigError, match=r"^data\.time_column: 'timestamp' is not"):
        DataConfig(train="x.csv", history={}).check_column_roles(["user_id", "item_id"])
    with pytest.raises(ConfigError, match=r"^data\.time_column: null, but data\.history needs it"):
        DataConfig(train="x.csv", history={}, time_column=None).check_column_roles(cols)


def test_a_bad_layer_width_names_its_config_path():
    d = small_config().to_dict()
    d["model"]["layers"] = [16, 0]
    with pytest.raises(ConfigError, match=r"^model\.layers\.1: Input should be greater than or equal to 1 \(got 0\)"):
        ExperimentConfig.from_dict(d)


def test_a_mistake_inside_a_table_source_names_it_without_the_string_branchs_noise():
    d = small_config().to_dict()
    d.pop("data")
    d["data"] = {"train": {"path": "x.csv", "dtyp": {"a": "str"}}}
    with pytest.raises(ConfigError) as err:
        ExperimentConfig.from_dict(d)
    assert str(err.value) == "data.train.dtyp: unknown key; did you mean 'dtype'?"
    d["data"] = {"train": 5}  # neither branch fits a number: both are named, without tags
    with pytest.raises(ConfigError, match=r"^data\.train: Input should be a valid string") as err:
        ExperimentConfig.from_dict(d)
    assert ".TableSource:" not in str(err.value) and ".str:" not in str(err.value)
    d["data"] = {"dataset": "synthetic"}
    d["features"] = {"Age": {"type": "numeric", "buckets": "x"}, "Genre": {"type": "categorical", "min_count": "y"}}
    with pytest.raises(ConfigError, match=r"features\.Age\.buckets"):  # user keys are never taken for tags
        ExperimentConfig.from_dict(d)


def test_reader_options_are_checked_where_they_apply():
    d = small_config().to_dict()
    d["data"] = {"train": {"path": "x.csv", "encoding": "latin_one"}}
    with pytest.raises(ConfigError, match=r"data\.train\.encoding: .*unknown text encoding 'latin_one'"):
        ExperimentConfig.from_dict(d)
    d["data"] = {"train": "x.csv", "dataset_options": {"split": "u9"}}
    with pytest.raises(ConfigError, match=r"data\.dataset_options: apply to a built-in dataset"):
        ExperimentConfig.from_dict(d)


def test_the_movielens_quickstart_uses_profile_histories_for_its_random_split():
    from recstack.quickstart import quickstart_config

    assert quickstart_config("movielens-100k").data.history.mode == "others"
    assert quickstart_config("synthetic").data.history.mode == "before"


def test_section_level_errors_do_not_dump_the_section_and_metrics_name_their_key():
    d = small_config().to_dict()
    d["eval"]["metrics"] = ["hit@10"]
    with pytest.raises(ConfigError, match=r"^eval\.metrics: .*unknown metric 'hit@10'"):
        ExperimentConfig.from_dict(d)
    d = small_config().to_dict()
    d["model"]["candidate_key"] = "foo"
    with pytest.raises(ConfigError) as err:
        ExperimentConfig.from_dict(d)
    assert "model.candidate_key: not one of model.candidate ['item_id', 'genres']; set it to one of them, or add it to model.candidate (got 'foo')" in str(err.value) and "(got {" not in str(err.value)


@pytest.mark.parametrize("overrides, message", [
    ({"data.validation_fraction": 0.0}, r"data\.validation_fraction: 0 leaves no validation rows, which train\.early_stopping"),
    ({"train.eval_every": 0}, r"train\.eval_every: 0 never evaluates in train\.epochs 3"),
    ({"train.eval_every": 5}, r"train\.eval_every: 5 never evaluates in train\.epochs 3"),
])
def test_early_stopping_that_could_never_run_is_refused_with_the_config(overrides, message):
    """It was refused only after the data was read (or silently never ran: eval_every > epochs)."""
    with pytest.raises(ConfigError, match=message):
        small_config(**{"train.early_stopping": {"metric": "hit_rate@10", "patience": 1}, **overrides})


def test_values_must_have_their_type_and_yaml_scientific_floats_are_numbers(tmp_path):
    """"0.1", 2.0 or true were coerced (batch_size: true trained with batch size 1)."""
    for overrides, message in [({"train.lr": "0.1"}, "train.lr: Input should be a valid number"),
                               ({"train.epochs": 2.0}, "train.epochs: Input should be a valid integer"),
                               ({"train.batch_size": True}, "train.batch_size: Input should be a valid integer"),
                               ({"train.progress": "yes"}, "train.progress: Input should be a valid boolean"),
                               ({"data.defaults": {"user_id": 0}}, "data.defaults.user_id: 'user_id' is the user column")]:
        with pytest.raises(ConfigError, match=message):
            small_config(**overrides)
    assert small_config(**{"train.lr": 1}).train.lr == 1.0  # an integer is a number
    d = small_config().to_dict()
    text = yaml.safe_dump(d).replace("lr: 0.1", "lr: 1e-1").replace("weight_decay: 0.0", "weight_decay: 5e-4")
    (tmp_path / "c.yaml").write_text(text)
    cfg = load_config(tmp_path / "c.yaml")
    assert cfg.train.lr == 0.1 and cfg.train.weight_decay == 5e-4  # PyYAML alone reads 1e-1 as text


def test_unused_declarations_are_said_and_empty_metrics_or_another_name_are_refused(caplog):
    """A feature in no tower, a history no feature reads and `eval.metrics: []` passed silently;
    a feature spec's `name` renamed the feature (then "unknown feature 'user_id'")."""
    with caplog.at_level("WARNING", logger="recstack.config.experiment"):
        small_config(**{"model.query": ["history"]})
    assert "features ['user_id'] are in neither model.query nor model.candidate" in caplog.text
    caplog.clear()
    features = {k: v for k, v in small_config().to_dict()["features"].items() if k != "history"}
    with caplog.at_level("WARNING", logger="recstack.config.experiment"):
        small_config(**{"features": features, "model.query": ["user_id"]})
    assert "data.history builds column 'history', which no feature of the model reads" in caplog.text
    with pytest.raises(ConfigError, match=r"eval.metrics: .*no metric"):
        small_config(**{"eval.metrics": []})
    with pytest.raises(ConfigError, match=r"features.user_id.name: 'uid' is not the feature's key 'user_id'"):
        small_config(**{"features.user_id": {"type": "categorical", "name": "uid"}})

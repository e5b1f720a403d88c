"""Errors about a config's table reader options name the full config key (``data.train.dtype.user_id``,
``data.join.items.sep``), and float IDs that are no exact integers are refused by column name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recstack.config import ExperimentConfig
from recstack.config.sources import JoinSource
from recstack.errors import ConfigError, DataError, SchemaError
from recstack.experiment.offline import _load_join
from recstack.experiment.tables import integer_ids, load_tables, side_table


def _files(tmp_path: Path) -> Path:
    (tmp_path / "train.csv").write_text("user_id,item_id\nu1,1\nu2,2\n")
    (tmp_path / "test.csv").write_text("user_id,item_id\nu1,2\n")
    (tmp_path / "items.csv").write_text("item_id,genre\n1,a\n2,b\n")
    return tmp_path


def _data(tmp_path: Path, **sources: object) -> ExperimentConfig:
    data = {"train": "train.csv", "test": "test.csv", "time_column": None, **sources}
    return ExperimentConfig.from_dict({
        "data": data,
        "features": {"user_id": {"type": "categorical"}, "item_id": {"type": "categorical"}},
        "model": {"kind": "two_tower", "query": ["user_id"], "candidate": ["item_id"]},
    }, base_dir=str(_files(tmp_path)))


def test_a_bad_dtype_of_data_train_names_data_train_dtype_user_id(tmp_path):
    cfg = _data(tmp_path, train={"path": "train.csv", "dtype": {"user_id": "int"}})
    with pytest.raises(DataError, match=r"^data\.train\.dtype\.user_id: column 'user_id' .*is not all int values"):
        load_tables(cfg.data, cfg.base_dir)


@pytest.mark.parametrize("section, source, key", [
    ("train", {"path": "train.csv", "dtype": {"usr": "str"}}, "data.train.dtype.usr"),
    ("test", {"path": "test.csv", "dtype": {"usr": "str"}}, "data.test.dtype.usr"),
    ("join", {"items": {"path": "items.csv", "key": "item_id", "dtype": {"gnre": "str"}}}, "data.join.items.dtype.gnre"),
    ("join", {"items": {"path": "items.csv", "key": "item_id", "sep": ""}}, "data.join.items.sep"),
])
def test_reader_option_errors_name_the_config_key(tmp_path, section, source, key):
    cfg = _data(tmp_path, **{section: source})
    with pytest.raises((ConfigError, SchemaError), match="^" + key.replace(".", r"\.") + ": "):
        load_tables(cfg.data, cfg.base_dir)


def test_a_saved_join_read_again_for_evaluation_names_data_join(tmp_path):
    items = _files(tmp_path) / "items.csv"
    src = JoinSource(path="elsewhere/items.csv", key="item_id", dtype={"gnre": "str"})
    with pytest.raises(SchemaError, match=r"^data\.join\.items\.dtype\.gnre: "):  # the file training read
        _load_join("items", src, None, {"path": str(items)}, None)
    with pytest.raises(SchemaError, match=r"^data\.join\.items\.dtype\.gnre: "):  # --join items=PATH
        _load_join("items", src, str(items), None, None)
    with pytest.raises(SchemaError, match=r"^data\.join\.items\.dtype\.gnre: "):  # found from the config's folder
        _load_join("items", src.model_copy(update={"path": "items.csv"}), None, None, str(tmp_path))


def test_integer_ids_keeps_whole_floats_as_int64():
    out = integer_ids(pd.Series([514.0, 2.0, -3.0], name="item_id"))
    assert out.dtype == np.int64 and out.tolist() == [514, 2, -3]
    text = pd.Series(["a", "b"], name="item_id")
    assert integer_ids(text) is text


@pytest.mark.parametrize("value, problem", [
    (1.5, "holds a float that is not a whole number"),
    (float("inf"), "holds a float that is not a whole number"),
    (2.0**53, "holds a float of 2\\*\\*53 or more"),
    (-1e17, "holds a float of 2\\*\\*53 or more"),
])
def test_integer_ids_refuses_floats_that_are_no_exact_ids(value, problem):
    with pytest.raises(DataError, match=rf"column 'item_id' of the items table {problem} \(.*\); "):
        integer_ids(pd.Series([1.0, value], name="item_id"), where="the items table")


def test_a_side_table_with_a_keyless_row_and_a_huge_float_key_is_refused_by_name():
    table = pd.DataFrame({"item_id": [1.0, np.nan, 2.0**60], "genre": ["a", "b", "c"]})
    with pytest.raises(DataError, match=r"column 'item_id' of the items table \(data\.join\.items\) holds a float "
                                        r"of 2\*\*53 or more \(data row 3: "):
        side_table(table, "item_id", "items")

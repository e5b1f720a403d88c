"""data.filter.rows on columns a data.join table brings (a user's age, an item's price), when
training from files: checked once per side row, each interaction row taking its key's result,
before the split, as if the table had been joined first; an unknown column lists the columns of
the interactions and of each join."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from recstack.config import ExperimentConfig
from recstack.data import leave_last_n
from recstack.errors import ConfigError, SchemaError
from recstack.experiment.filtering import filter_evaluation_rows, filtered_tables
from recstack.experiment.tables import Tables, load_tables, side_table
from tests.unit.experiment.side_data import side_config, write_side_data

COLS = ["user_id", "item_id", "timestamp"]


def _joined(folder, name: str) -> pd.DataFrame:
    """``name``.csv joined with users and items by hand (left joins)."""
    t = pd.read_csv(folder / f"{name}.csv").merge(pd.read_csv(folder / "users.csv"), on="user_id", how="left")
    return t.merge(pd.read_csv(folder / "items.csv"), on="item_id", how="left")


def _tables(folder, rows, **overrides) -> Tables:
    cfg = ExperimentConfig.from_dict(side_config(**{"data.filter": {"rows": rows}, **overrides}), base_dir=str(folder))
    return load_tables(cfg.data, cfg.base_dir)


def test_conditions_on_joined_columns_keep_what_a_filter_after_the_join_keeps(tmp_path, caplog):
    write_side_data(tmp_path)
    rows = {"age": {"min": 30}, "country": {"not_in": ["US"]}, "price": {"max": 60.0}}
    with caplog.at_level(logging.INFO, logger="recstack.data.filters"):
        tables = _tables(tmp_path, rows)
    for name, got in (("train", tables.train), ("test", tables.test)):
        t = _joined(tmp_path, name)
        want = t[(t.age >= 30) & (t.country != "US") & (t.price <= 60.0)].reset_index(drop=True)
        assert got is not None and 0 < len(got) < len(t)
        assert got[COLS].equals(want[COLS])
        assert (got.age >= 30).all() and (got.price <= 60.0).all()
    line = caplog.records[0].getMessage()
    t = _joined(tmp_path, "train")
    assert line == (f"data.filter: data.train: kept {len(tables.train)} of {len(t)} rows, dropped "
                    f"{len(t) - len(tables.train)} (rows.age drops {int((t.age < 30).sum())}, rows.country drops "
                    f"{int((t.country == 'US').sum())}, rows.price drops {int((t.price > 60).sum())})")


def test_joined_conditions_apply_before_the_split(tmp_path):
    write_side_data(tmp_path)
    tables = _tables(tmp_path, {"price": {"max": 50.0}}, **{"data.test": None,
                                                          "data.split": {"kind": "leave_last_n", "n": 1}})
    t = _joined(tmp_path, "train")
    train, test = leave_last_n(t[t.price <= 50.0].reset_index(drop=True), "user_id", "timestamp", n=1)
    assert tables.test is not None
    assert tables.train[COLS].equals(train[COLS].reset_index(drop=True))  # each user's last cheap item is test
    assert tables.test[COLS].equals(test[COLS].reset_index(drop=True))


def test_a_key_the_side_table_lacks_is_an_empty_cell(tmp_path, caplog):
    write_side_data(tmp_path)
    users = pd.read_csv(tmp_path / "users.csv")
    users[users.user_id != 5].to_csv(tmp_path / "users.csv", index=False)
    train = pd.read_csv(tmp_path / "train.csv")
    assert (train.user_id == 5).any()
    kept = _tables(tmp_path, {"age": {"min": 0}}).train  # an empty cell fails min
    assert len(kept) == int((train.user_id != 5).sum())
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        kept = _tables(tmp_path, {"country": {"not_in": ["nowhere"]}}).train  # and passes not_in
    assert len(kept) == len(train)
    lost = int((train.user_id == 5).sum())
    assert (f"data.join.users: {lost} of {len(train)} rows of the training data (data.train) have user_id values "
            "not in the users table; their users columns are empty") in caplog.text
    kept = _tables(tmp_path, {"country": {"not_in": [None]}}).train  # null matches it
    assert len(kept) == int((train.user_id != 5).sum())


def test_an_unknown_column_lists_the_interactions_and_each_join(tmp_path):
    write_side_data(tmp_path)
    with pytest.raises(ConfigError, match=r"^data\.filter\.rows\.agee: 'agee' is not a column of data\.train or of a "
                       r"data\.join table; columns: \['item_id', 'timestamp', 'user_id'\]; data\.join\.users columns: "
                       r"\['age', 'country'\]; data\.join\.items columns: \['genres', 'price', 'title'\]$"):
        _tables(tmp_path, {"agee": {"min": 30}})


def test_text_under_min_in_a_joined_column_names_the_join_table_and_its_dtype(tmp_path):
    write_side_data(tmp_path)
    with pytest.raises(ConfigError, match=r"^data\.filter\.rows\.title\.min: column 'title' of the items table "
                       r"\(data\.join\.items\) holds .* \(data\.join\.items\.dtype: \{title: float\}\)"):
        _tables(tmp_path, {"title": {"min": 3}})


def test_a_joined_key_column_missing_from_the_interactions_is_the_joins_error(tmp_path):
    write_side_data(tmp_path)
    pd.read_csv(tmp_path / "train.csv").drop(columns="user_id").to_csv(tmp_path / "train.csv", index=False)
    with pytest.raises(SchemaError, match=r"^data\.join\.users\.key: data\.train has no column 'user_id'"):
        _tables(tmp_path, {"age": {"min": 30}})


def test_a_key_that_an_earlier_join_brings_is_followed(tmp_path):
    write_side_data(tmp_path)
    items = pd.read_csv(tmp_path / "items.csv")
    items.assign(studio=items.item_id % 3).to_csv(tmp_path / "items.csv", index=False)
    pd.DataFrame({"studio": [0, 1, 2], "founded": [1950, 1990, 2010]}).to_csv(tmp_path / "studios.csv", index=False)
    join = {"users": {"path": "users.csv", "key": "user_id"}, "items": {"path": "items.csv", "key": "item_id"},
            "studios": {"path": "studios.csv", "key": "studio"}}
    tables = _tables(tmp_path, {"founded": {"min": 1980}}, **{"data.join": join})
    t = pd.read_csv(tmp_path / "train.csv")
    assert len(tables.train) == int((t.item_id % 3 != 0).sum()) and (tables.train.founded >= 1980).all()


def test_given_tables_and_evaluation_rows_read_joined_columns_from_their_joins(tmp_path):
    frames = write_side_data(tmp_path)
    cfg = ExperimentConfig.from_dict(side_config(**{"data.filter": {"rows": {"age": {"min": 30}}}}),
                                     base_dir=str(tmp_path))
    joins = {"users": side_table(frames["users"], "user_id", "users")}
    got = filtered_tables(Tables(frames["train"], frames["test"], joins=joins), cfg.data)
    old = frames["users"].set_index("user_id").age
    assert len(got.train) == int((frames["train"].user_id.map(old) >= 30).sum())
    rows = cfg.data.filter.rows
    assert len(filter_evaluation_rows(frames["test"], rows, joins)) == int((frames["test"].user_id.map(old) >= 30).sum())
    with pytest.raises(ConfigError, match=r"^data\.filter\.rows\.age: 'age' is not a column of the evaluation data; "
                       r"columns: \['item_id', 'timestamp', 'user_id'\] \(the model's test rows were filtered"):
        filter_evaluation_rows(frames["test"], rows)  # without the joins: as before


def test_a_million_rows_take_their_users_result_and_unknown_users_fail_min():
    """Users 2000 to 2099 are not in the users table: their age is empty, so min drops them."""
    users = side_table(pd.DataFrame({"user_id": np.arange(2000), "age": np.arange(2000) % 80}), "user_id", "users")
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"user_id": rng.integers(0, 2100, 1_000_000), "item_id": rng.integers(0, 50, 1_000_000)})
    cfg = ExperimentConfig.from_dict(side_config(**{"data.filter": {"rows": {"age": {"min": 40}}}}))
    got = filtered_tables(Tables(table, None, joins={"users": users}), cfg.data).train
    assert len(got) == int(((table.user_id < 2000) & (table.user_id % 80 >= 40)).sum())


def test_raw_evaluation_rows_are_filtered_on_joined_columns_as_the_test_rows_were(tmp_path, caplog):
    """``exp.evaluate(raw)`` and ``recstack evaluate`` filter a file of raw rows on a column a
    join brings (before: the missing-column error, naming --no-filter); a column only the filter
    reads (price) is joined for it and dropped again; the file's other columns (timestamp) are
    not query data, so no unread-column warning follows."""
    import recstack
    from recstack.experiment import RetrievalExperiment
    from recstack.experiment.offline import evaluate_recommender

    write_side_data(tmp_path)
    rows = {"price": {"max": 60.0}, "age": {"min": 30}}
    cfg = ExperimentConfig.from_dict(side_config(**{"data.filter": {"rows": rows}}), base_dir=str(tmp_path))
    exp = RetrievalExperiment(cfg)
    exp.fit()
    want = exp.evaluate()  # the test rows, filtered as read
    raw = pd.read_csv(tmp_path / "test.csv")
    assert len(exp.test_table) < len(raw)
    assert exp.evaluate(raw) == want
    exp.save(tmp_path / "model")
    rec = recstack.load(tmp_path / "model")
    with caplog.at_level(logging.WARNING):
        assert evaluate_recommender(rec, raw) == pytest.approx(want, abs=1e-6)
    assert not [r for r in caplog.records if "not read by the model" in r.getMessage()]
    with pytest.raises(ConfigError, match=r"^data\.filter\.rows\.age: 'age' is not a column of the evaluation "
                       r"data.*--no-filter"):
        evaluate_recommender(rec, raw, joins=False)  # no join to bring it

"""data.join side tables: name clashes, list-valued columns, keyless rows, key mismatches."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from recstack.config import ExperimentConfig
from recstack.errors import SchemaError
from recstack.experiment import RetrievalExperiment
from recstack.experiment.tables import join_side_table, side_table
from tests.unit.experiment.side_data import side_config, write_side_data


def _join(left: pd.DataFrame, right: pd.DataFrame, on: str, name: str) -> pd.DataFrame:
    """A raw side table joined as data.join joins it."""
    return join_side_table(left, side_table(right, on, name), name)


def _experiment(tmp_path, **overrides) -> RetrievalExperiment:
    return RetrievalExperiment(ExperimentConfig.from_dict(side_config(**overrides), base_dir=str(tmp_path)))


def test_a_side_column_that_the_interactions_already_have_is_an_error_naming_column_join_and_fix():
    inter = pd.DataFrame({"item_id": [1, 2], "rating": [5, 1]})
    items = pd.DataFrame({"item_id": [1, 2], "rating": [3.5, 4.1], "title": ["a", "b"]})
    with pytest.raises(SchemaError, match=r"data\.join\.items: column 'rating' is both in the interactions and in "
                                          r"the items table.*rename it"):
        _join(inter, items, "item_id", "items")
    out = _join(inter, items.rename(columns={"rating": "avg_rating"}), "item_id", "items")  # the key may repeat
    assert out.avg_rating.tolist() == [3.5, 4.1] and out.rating.tolist() == [5, 1]


def test_the_clash_is_reported_from_the_config(tmp_path):
    tables = write_side_data(tmp_path)
    tables["items"].assign(timestamp=0).to_csv(tmp_path / "items.csv", index=False)
    with pytest.raises(SchemaError, match=r"data\.join\.items: column 'timestamp' is both in the training data"):
        _experiment(tmp_path)


def test_list_valued_side_columns_join_and_repeat_exactly(tmp_path):
    write_side_data(tmp_path)
    items = pd.read_csv(tmp_path / "items.csv")
    items["genres"] = [np.array(g.split("|")) for g in items.genres]  # a Parquet list column reads as arrays
    pd.concat([items, items.iloc[:3]]).to_parquet(tmp_path / "items.parquet")  # exact repeats are harmless
    exp = _experiment(tmp_path, **{"data.join.items": {"path": "items.parquet", "key": "item_id"}})
    assert len(exp.catalogue.ids) == len(items)
    as_text = _experiment(tmp_path)  # the same genres as "A|B" strings: the same features
    assert all(torch_equal(exp.catalogue.features[k], as_text.catalogue.features[k]) for k in exp.catalogue.features)
    clash = items.iloc[:1].assign(genres=[np.array(["Other"])])
    with pytest.raises(SchemaError, match=r"key 'item_id' is not unique in the items table .* e\.g\. \[1\]"):
        _join(pd.DataFrame({"item_id": [1]}), pd.concat([items, clash]), "item_id", "items")


def torch_equal(a, b) -> bool:
    return a.shape == b.shape and bool((a == b).all())


def test_an_items_row_without_key_is_dropped_with_a_warning_and_ids_stay_integers(tmp_path, caplog):
    tables = write_side_data(tmp_path)
    items = tables["items"].astype({"item_id": object})
    items.loc[len(items)] = [None, "no key", "Drama", 1.0]
    items.to_csv(tmp_path / "items.csv", index=False)  # read back: item_id is float (1.0, ..., NaN)
    with caplog.at_level(logging.WARNING, logger="recstack.experiment.tables"):
        exp = _experiment(tmp_path)
    assert f"1 of {len(items)} rows of the items table have no item_id (first: row {len(items) - 1})" in caplog.text
    ids = exp.catalogue.ids
    assert len(ids) == len(items) - 1 and all(type(i) is int for i in ids), ids[:3]
    assert exp.tables.joins["items"].table.item_id.dtype == np.int64


def test_a_catalogue_from_a_float_key_column_keeps_integer_ids():
    from recstack.experiment.tables import Tables

    train = pd.DataFrame({"user_id": [1, 1, 2], "item_id": [1, 2, 3], "genres": ["a", "b", "a"]})
    items = pd.DataFrame({"item_id": [1.0, 2.0, 3.0, np.nan], "genres": ["a", "b", "a", "c"]})
    cfg = ExperimentConfig.from_dict({
        "data": {"train": "unused.csv", "time_column": None},
        "features": {"user_id": {"type": "categorical"}, "item_id": {"type": "categorical"},
                     "genres": {"type": "multi_hot"}},
        "model": {"kind": "two_tower", "query": ["user_id"], "candidate": ["item_id", "genres"], "embedding_dim": 4,
                  "layers": [4]},
    })
    exp = RetrievalExperiment(cfg, tables=Tables(train, None, items, None))
    assert exp.catalogue.ids == [1, 2, 3] and all(type(i) is int for i in exp.catalogue.ids)


def test_a_key_mismatch_shows_plain_values_and_suggests_dtype():
    inter = pd.DataFrame({"item_id": np.array([1, 2], dtype=np.int64)})
    items = pd.DataFrame({"item_id": ["00001", "00002"], "title": ["a", "b"]})
    with pytest.raises(SchemaError) as err:
        _join(inter, items, "item_id", "items")
    msg = str(err.value)
    assert "(e.g. 1 vs '00001')" in msg and "np.int64" not in msg
    assert "dtype: {item_id: str}" in msg and "data.join.items" in msg

"""User and catalogue IDs are saved as JSON with the model: cells that cannot be are refused
before training, also when no feature reads the column."""

from __future__ import annotations

import decimal

import pandas as pd
import pytest

from recstack.config import ExperimentConfig
from recstack.data import load_dataset
from recstack.errors import SchemaError
from recstack.experiment import RetrievalExperiment
from recstack.experiment.tables import Tables


def _history_only_config() -> ExperimentConfig:
    """The query is only the history: no feature fits the user column."""
    return ExperimentConfig.from_dict({
        "data": {"dataset": "synthetic", "history": {"max_length": 5}},
        "features": {"item_id": {"type": "categorical"},
                     "history": {"type": "sequence", "source": "item_id", "max_length": 5}},
        "model": {"kind": "two_tower", "query": ["history"], "candidate": ["item_id"], "embedding_dim": 4},
        "train": {"epochs": 1, "progress": False}, "eval": {"metrics": ["hit_rate@10"]}})


def _train() -> pd.DataFrame:
    ds = load_dataset("synthetic", num_users=10, num_items=8, num_interactions=80, seed=2)
    return ds.train[["user_id", "item_id", "timestamp"]].reset_index(drop=True)


@pytest.mark.parametrize(("make", "kind", "fix"), [
    (lambda u: decimal.Decimal(int(u)), "Decimal", r"\.astype\(str\)"),  # a Parquet decimal column
    (lambda u: str(int(u)).encode(), "bytes", r"\.str\.decode\('utf-8'\)"),  # a Parquet binary column
])
def test_user_ids_that_cannot_be_saved_are_an_error_before_training(make, kind, fix):
    train = _train()
    train["user_id"] = train["user_id"].astype(object)
    train.loc[4, "user_id"] = make(train.loc[4, "user_id"])
    with pytest.raises(SchemaError, match=rf"column 'user_id': row 4 holds .* \(type {kind}\) in the training data "
                                          rf"\(data\.user_column\); .*saved as JSON.*{fix}"):
        RetrievalExperiment(_history_only_config(), tables=Tables(train, None, None, None))


def test_catalogue_ids_from_an_items_table_that_cannot_be_saved_are_an_error_before_training():
    train = _train()
    items = pd.DataFrame({"item_id": sorted(train.item_id.unique())}).astype(object)
    items.loc[2, "item_id"] = decimal.Decimal(int(items.loc[2, "item_id"]))
    with pytest.raises(SchemaError, match=r"column 'item_id': row 2 holds .* \(type Decimal\) in the items table; "):
        RetrievalExperiment(_history_only_config(), tables=Tables(train, None, items, None))


def test_a_query_id_that_cannot_be_saved_is_refused_even_in_a_validation_row():
    # the preprocessor fits on the fitted part only; the stored users come from every training row
    train = _train().assign(country="fr")
    train["country"] = train["country"].astype(object)
    train.loc[len(train) - 1, "country"] = decimal.Decimal(3)
    cfg = _history_only_config().to_dict()
    cfg["features"]["country"] = {"type": "categorical"}
    cfg["model"]["query"] = ["history", "country"]
    cfg["data"]["validation_fraction"] = 0.5
    with pytest.raises(SchemaError, match=r"column 'country': row \d+ holds .* \(type Decimal\) in the training "
                                          r"data \(features\.country\)"):
        RetrievalExperiment(ExperimentConfig.from_dict(cfg), tables=Tables(train, None, None, None))

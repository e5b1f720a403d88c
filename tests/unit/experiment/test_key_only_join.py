"""A candidate-side side table that brings no column (only its key) is accepted."""

from __future__ import annotations

import pandas as pd

from recstack.config import ExperimentConfig
from recstack.experiment import RetrievalExperiment
from tests.unit.experiment.side_data import side_config, write_side_data


def test_an_items_side_join_with_only_its_key_column_builds(tmp_path):
    """The query-leak check took in candidate-side joins until none was new; one adding no
    column never counted as taken in, so building the experiment looped forever."""
    tables = write_side_data(tmp_path)
    tables["items"][["item_id"]].to_csv(tmp_path / "allowed.csv", index=False)
    d = side_config()
    d["data"]["join"]["allowed"] = {"path": "allowed.csv", "key": "item_id"}
    exp = RetrievalExperiment(ExperimentConfig.from_dict(d, base_dir=str(tmp_path)))
    assert list(exp.tables.joins["allowed"].table.columns) == ["item_id"]
    assert len(exp.catalogue.ids) == pd.read_csv(tmp_path / "items.csv").item_id.nunique()

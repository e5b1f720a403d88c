"""``recstack evaluate`` and the join files it reads: a file that changed since training, a
built-in dataset that is not needed."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from recstack.config import ExperimentConfig
from recstack.errors import SchemaError
from recstack.experiment import RetrievalExperiment
from recstack.experiment.offline import evaluate_recommender
from tests.unit.experiment.side_data import side_config, write_side_data


def test_a_join_file_that_lost_a_column_the_model_reads_names_the_join_file_columns_and_option(tmp_path):
    """The recorded columns said the users table brings 'country': a raw KeyError before."""
    tables = write_side_data(tmp_path)
    rec = RetrievalExperiment(ExperimentConfig.from_dict(side_config(), base_dir=str(tmp_path))).recommender()
    tables["users"].drop(columns=["country"]).to_csv(tmp_path / "users.csv", index=False)
    file = re.escape(str(tmp_path / "users.csv"))
    message = rf"data\.join\.users: the users table read from {file} lacks columns \['country'\], .*--join users=PATH"
    with pytest.raises(SchemaError, match=message):
        evaluate_recommender(rec, pd.read_csv(tmp_path / "test.csv"))

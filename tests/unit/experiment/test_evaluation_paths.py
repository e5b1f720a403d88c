"""``RetrievalExperiment.evaluate(raw)`` and ``evaluate_recommender`` treat raw rows alike."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recstack.config import ExperimentConfig
from recstack.errors import SchemaError
from recstack.experiment import RetrievalExperiment
from recstack.experiment.offline import evaluate_recommender
from tests.unit.experiment.side_data import side_config, write_side_data


def test_a_raw_row_without_an_item_is_the_same_error_on_both_evaluation_paths(tmp_path):
    """``evaluate(raw)`` counted such a row as a miss; ``evaluate_recommender`` raised."""
    write_side_data(tmp_path)
    exp = RetrievalExperiment(ExperimentConfig.from_dict(side_config(), base_dir=str(tmp_path)))
    raw = pd.read_csv(tmp_path / "test.csv")
    raw.loc[3, "item_id"] = np.nan
    message = r"evaluation data: column 'item_id' is empty in 1 of \d+ rows \(first: row 3\)"
    with pytest.raises(SchemaError, match=message):
        exp.evaluate(raw)
    with pytest.raises(SchemaError, match=message):
        evaluate_recommender(exp.recommender(), raw)

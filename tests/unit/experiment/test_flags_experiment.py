"""An experiment whose items table has one 0/1 column per genre (``multi_hot`` with ``flags``):
it reads, checks, trains and serves those columns as it does a delimited ``genres`` column."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import recstack
from recstack.config import ExperimentConfig
from recstack.errors import ConfigError, SchemaError
from recstack.experiment import RetrievalExperiment
from tests.unit.experiment.side_data import side_config, write_side_data



def flag_items(folder: Path) -> list[str]:
    """Rewrites ``items.csv`` with a 0/1 column per genre in place of ``genres``; returns them."""
    items = pd.read_csv(folder / "items.csv")
    flags = items.genres.str.get_dummies("|")
    items.drop(columns="genres").join(flags).to_csv(folder / "items.csv", index=False)
    return list(flags.columns)


def experiment(folder: Path, genres: dict[str, Any], **overrides: Any) -> RetrievalExperiment:
    d = side_config(**{"features.genres": genres, "train.epochs": 1, **overrides})
    return RetrievalExperiment(ExperimentConfig.from_dict(d, base_dir=str(folder)))


def test_flags_train_like_the_delimited_column_and_serve_raw_rows(tmp_path, caplog):
    write_side_data(tmp_path / "text")
    write_side_data(tmp_path / "flags")
    genres = flag_items(tmp_path / "flags")
    text = experiment(tmp_path / "text", {"type": "multi_hot"})
    flags = experiment(tmp_path / "flags", {"type": "multi_hot", "flags": genres})
    text.fit()
    flags.fit()
    assert flags.evaluate() == pytest.approx(text.evaluate(), abs=1e-6)  # the same IDs, the same model
    rec = recstack.load(flags.save(tmp_path / "m"))
    assert rec.preprocessor.schema["genres"].flags == genres
    items = pd.read_csv(tmp_path / "flags" / "items.csv")
    rows = items.iloc[:3][["item_id", *genres]]
    by_id, by_row = rec.score([1], [1, 2, 3]), rec.score([1], rows)
    assert np.allclose(by_row["score"].to_numpy(dtype=float), by_id["score"].to_numpy(dtype=float), atol=1e-5)
    with caplog.at_level(logging.WARNING):
        lacking = rec.score([1], rows.drop(columns=genres[0]))  # a flag column absent: that flag unset
    assert "lack some of the columns" in caplog.text
    unset = rec.score([1], rows.assign(**{genres[0]: 0}))
    assert np.allclose(lacking["score"].to_numpy(dtype=float), unset["score"].to_numpy(dtype=float), atol=1e-6)


def test_a_query_feature_on_a_flag_column_is_a_leak(tmp_path):
    write_side_data(tmp_path)
    genres = flag_items(tmp_path)
    with pytest.raises(ConfigError, match=rf"model\.query: feature 'g0' reads column '{genres[0]}', which the "
                                          "candidate feature 'genres' reads"):
        experiment(tmp_path, {"type": "multi_hot", "flags": genres},
                   **{"features.g0": {"type": "categorical", "column": genres[0]},
                      "model.query": ["user_id", "age", "country", "history", "g0"]})


def test_a_missing_or_bad_flag_column_is_named(tmp_path):
    write_side_data(tmp_path)
    genres = flag_items(tmp_path)
    with pytest.raises(SchemaError, match=r"lacks columns for features genres \(column 'Missing'\)"):
        experiment(tmp_path, {"type": "multi_hot", "flags": [*genres, "Missing"]}).fit()
    items = pd.read_csv(tmp_path / "items.csv")
    items.loc[4, genres[1]] = 2
    items.to_csv(tmp_path / "items.csv", index=False)
    with pytest.raises(SchemaError, match=rf"column '{genres[1]}': row \d+ holds 2, which is not a flag value"):
        experiment(tmp_path, {"type": "multi_hot", "flags": genres}).fit()

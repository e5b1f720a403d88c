"""Stored query rows by column: history lists as tensors, scalar columns as JSON lists."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from safetensors.torch import load_file

import recstack
from recstack.artifacts.query_rows import decode_rows, encode_rows
from recstack.experiment import RetrievalExperiment
from tests.conftest import small_config


def test_columns_round_trip_with_lists_as_tensors_and_missing_values_kept():
    history = pd.arrays.ArrowExtensionArray(pa.array([[3, 4], [], [5]], pa.large_list(pa.int64())))
    table = pd.DataFrame({"user_id": [1, 2, 3], "age": [31.5, np.nan, 20.0], "country": ["fr", None, "de"],
                          "history": history})
    stored, tensors = encode_rows(table, "known_queries")
    assert stored["lists"] == ["history"] and "history" not in stored["data"]
    assert tensors["known_queries.3.values"].tolist() == [3, 4, 5] and tensors["known_queries.3.offsets"].tolist() == [0, 2, 2, 3]
    back = decode_rows(json.loads(json.dumps(stored)), tensors, "known_queries")
    assert back.user_id.tolist() == [1, 2, 3] and back.country.tolist()[::2] == ["fr", "de"]
    assert pd.isna(back.age[1]) and pd.isna(back.country[1]) and [list(h) for h in back.history] == [[3, 4], [], [5]]
    old = {"columns": ["user_id", "age"], "rows": [[1, 31.5], [2, None]]}  # written row by row before
    assert decode_rows(old, {}, "known_queries").user_id.tolist() == [1, 2]


def test_a_saved_model_stores_histories_as_tensors_and_answers_as_before(tmp_path):
    exp = RetrievalExperiment(small_config(**{"train.epochs": 1}))
    exp.fit()
    exp.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "candidates.json").read_text())
    assert meta["known_queries"]["lists"] == ["history"]
    assert any(k.startswith("known_queries.") for k in load_file(str(tmp_path / "m" / "candidates.safetensors")))
    rec = recstack.load(tmp_path / "m")
    users = [1, 2, 3, 99999]
    assert rec.recommend(users, k=5).equals(exp.recommender().recommend(users, k=5))
    assert rec.recommend(users, k=5, exclude="seen").equals(exp.recommender().recommend(users, k=5, exclude="seen"))
    with pytest.raises(ValueError, match="different lengths"):
        decode_rows({"columns": ["a", "b"], "data": {"a": [1, 2], "b": [1]}, "lists": []}, {}, "x")


def test_the_training_log_arrives_with_the_model_in_one_rename(tmp_path, monkeypatch):
    """history.csv/json were written after the folder was renamed into place: a reader (or a
    crash) in between saw a model without its log."""
    import recstack.artifacts.io as io_mod

    exp = RetrievalExperiment(small_config(**{"train.epochs": 1}))
    exp.fit()
    seen = []
    real = io_mod.replace_dir
    monkeypatch.setattr(io_mod, "replace_dir", lambda tmp, final: seen.append(sorted(p.name for p in tmp.iterdir()))
                        or real(tmp, final))
    exp.save(tmp_path / "m")
    assert "history.csv" in seen[0] and "history.json" in seen[0]

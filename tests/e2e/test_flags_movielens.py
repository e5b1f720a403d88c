"""Raw MovieLens 100K ``u.item`` (19 genre flag columns) joined onto ``u1.base``: ``genres`` as a
``multi_hot`` with ``flags`` in the candidate tower trains, saves, loads and scores, raw rows
included (a walkthrough user could not build this feature before ``flags``)."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd

import recstack
from recstack.config import ExperimentConfig
from recstack.experiment import RetrievalExperiment
from tests.conftest import ml100k_dir, needs_ml100k


GENRES = ["unknown", "Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary", "Drama",
          "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western"]
ITEM_FIELDS = ["item_id", "title", "release_date", "video_release_date", "imdb_url", *GENRES]
RATINGS = {"sep": "\t", "names": ["user_id", "item_id", "rating", "timestamp"]}


def config() -> dict:
    d = ml100k_dir()
    assert d is not None
    return {
        "data": {"train": {"path": str(d / "u1.base"), **RATINGS}, "test": {"path": str(d / "u1.test"), **RATINGS},
                 "join": {"items": {"path": str(d / "u.item"), "sep": "|", "encoding": "latin-1", "key": "item_id",
                                    "names": ITEM_FIELDS}}},
        "features": {"user_id": {"type": "categorical"}, "item_id": {"type": "categorical"},
                     "genres": {"type": "multi_hot", "flags": GENRES},
                     "release_year": {"type": "text", "column": "release_date", "split": "\\d{2}-[a-z]{3}-"}},
        "model": {"kind": "two_tower", "query": ["user_id"], "candidate": ["item_id", "genres", "release_year"],
                  "embedding_dim": 16, "layers": [32]},
        "task": {"kind": "retrieval"},
        "train": {"epochs": 1, "batch_size": 4096, "seed": 0},
        "eval": {"metrics": ["hit_rate@100", "recall@10"]},
    }


@needs_ml100k
def test_genre_flags_train_save_load_and_score(tmp_path, caplog):
    exp = RetrievalExperiment(ExperimentConfig.from_dict(config()))
    exp.fit()
    metrics = exp.evaluate()
    assert 0 < metrics["hit_rate@100"] <= 1
    pp = exp.preprocessor
    vocab = pp.vocabulary("genres")
    assert sorted(vocab.inverse(np.arange(2, vocab.size)).tolist()) == sorted(GENRES)
    year = pp.vocabulary("release_year")
    assert "1995" in year.inverse(np.arange(2, year.size)).tolist()
    items = pd.read_csv(ml100k_dir() / "u.item", sep="|", encoding="latin-1", names=ITEM_FIELDS)  # type: ignore[operator]
    toy = items[items.title.str.startswith("Toy Story")]  # Animation, Children's, Comedy
    ids = pp.transform(toy, features=["genres"])["genres"][0]
    assert sorted(vocab.inverse(ids[ids > 0].numpy()).tolist()) == ["Animation", "Children", "Comedy"]

    rec = recstack.load(exp.save(tmp_path / "m", metrics=metrics))
    saved = json.loads((tmp_path / "m" / "preprocessor.json").read_text())  # JSON, loaded back as such
    assert saved["state"]["schema"]["features"]["genres"]["flags"] == GENRES == rec.preprocessor.schema["genres"].flags
    by_id = rec.score([1], [1, 2, 50])
    assert len(by_id) == 3 and np.isfinite(by_id["score"].to_numpy(dtype=float)).all()
    rows = toy[["item_id", "release_date", *GENRES]].to_dict("records")
    from_rows = rec.score([1], rows)
    assert np.isclose(float(from_rows["score"].iloc[0]),
                      float(by_id.set_index("item_id").loc[1, "score"]), atol=1e-5)  # the catalogue's own row
    with caplog.at_level(logging.WARNING):
        lacking = rec.score([1], [{k: v for k, v in rows[0].items() if k != "Comedy"}])  # a flag column absent
    assert np.isfinite(float(lacking["score"].iloc[0])) and "lack some of the columns" in caplog.text
    unset = rec.score([1], [{**rows[0], "Comedy": 0}])
    assert np.isclose(float(lacking["score"].iloc[0]), float(unset["score"].iloc[0]), atol=1e-6)
    assert rec.recommend([1], k=5).shape[0] == 5

"""RetrievalExperiment fits its preprocessor on the fitted part of the training data only:
values seen only in validation or test rows are out of vocabulary, and numeric statistics
are the fitted rows' own."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from recstack.config import ExperimentConfig
from recstack.experiment import RetrievalExperiment
from recstack.experiment.tables import Tables

N_TRAIN = 40
# random_split's rule with data.validation_seed 0: rows drawn below the fraction are validation
VAL_ROWS = np.flatnonzero(np.random.default_rng(0).random(N_TRAIN) < 0.25)
FIT_ROWS = np.setdiff1d(np.arange(N_TRAIN), VAL_ROWS)
N_FIT, N_VAL = len(FIT_ROWS), len(VAL_ROWS)


@cache
def experiment() -> RetrievalExperiment:
    rng = np.random.default_rng(0)
    train = pd.DataFrame({
        "user_id": [f"u{i % 8}" for i in range(N_TRAIN)],
        "item_id": [i % 10 for i in range(N_TRAIN)],
        "tag": [f"tag{i}" for i in range(N_TRAIN)],  # one value per row: each part has its own
        "age": rng.uniform(18, 70, N_TRAIN).round(1),
    })
    test = pd.DataFrame({"user_id": ["u1", "test-only-user"], "item_id": [3, 4],
                         "tag": ["test-only-tag", "tag0"], "age": [500.0, 700.0]})
    cfg = ExperimentConfig.from_dict({
        "data": {"train": "unused.csv", "time_column": None, "validation_fraction": 0.25},
        "features": {"user_id": {"type": "categorical"}, "item_id": {"type": "categorical"},
                     "tag": {"type": "categorical"}, "age": {"type": "numeric", "normalize": True}},
        "model": {"kind": "two_tower", "query": ["user_id", "tag", "age"], "candidate": ["item_id"],
                  "embedding_dim": 4, "layers": [4]},
        "train": {"batch_size": 8, "epochs": 1, "progress": False},
    })
    return RetrievalExperiment(cfg, tables=Tables(train, test, None, None))


def test_the_validation_part_is_carved_out_of_training_rows():
    exp = experiment()
    assert (N_FIT, N_VAL) == (32, 8)
    assert exp.fit_table.tag.tolist() == [f"tag{i}" for i in FIT_ROWS]
    assert exp.val_table.tag.tolist() == [f"tag{i}" for i in VAL_ROWS]


def test_the_vocabulary_holds_the_fitted_rows_values_only():
    exp = experiment()
    pp = exp.preprocessor
    assert sorted(pp.vocabulary("tag").values) == sorted(f"tag{i}" for i in FIT_ROWS)
    assert {o.key: o.cardinality for o in pp.outputs}["tag"] == 1 + 1 + N_FIT  # padding, OOV, fitted tags
    assert set(pp.vocabulary("user_id").values) == {f"u{i % 8}" for i in FIT_ROWS}


def test_values_only_in_validation_or_test_rows_are_oov():
    exp = experiment()
    pp = exp.preprocessor
    val_tags = pd.DataFrame({"tag": [f"tag{i}" for i in VAL_ROWS]})
    assert pp.transform(val_tags, features=["tag"])["tag"].tolist() == [1] * N_VAL
    codes = pp.transform(exp.test_table, features=["tag", "user_id"])
    assert codes["tag"][0].item() == 1 and codes["user_id"][1].item() == 1  # test-only tag and user
    fitted = pp.transform(pd.DataFrame({"tag": [f"tag{i}" for i in FIT_ROWS]}), features=["tag"])["tag"]
    assert sorted(fitted.tolist()) == list(range(2, 2 + N_FIT))


def test_numeric_mean_and_std_are_the_fitted_rows_statistics():
    exp = experiment()
    ages = exp.tables.train.age.to_numpy()[FIT_ROWS]
    mean, std = float(np.mean(ages)), float(np.std(ages))  # population std
    out = exp.preprocessor.transform(pd.DataFrame({"age": [mean, mean + std, mean - 2 * std]}), features=["age"])
    assert np.allclose(out["age"].numpy(), [0.0, 1.0, -2.0], atol=1e-6)
    assert abs(float(np.mean(exp.tables.train.age)) - mean) > 0.1  # the check can tell the parts apart

"""Runs that would train nothing, diverge, or leave a misleading folder are stopped or said."""

import math

import pytest
import torch

from recstack.errors import ConfigError
from recstack.experiment import RetrievalExperiment
from recstack.training import EarlyStoppingConfig, TrainConfig, Trainer
from tests.conftest import small_config


def test_a_diverged_last_step_raises_and_writes_no_checkpoint(tmp_path):
    """The weights stay finite but overflow the towers: only the next batch's loss used to see it."""
    cfg = small_config(**{"train.optimizer": "sgd", "train.lr": 1.0e30, "train.batch_size": 100000,
                          "train.epochs": 3})
    exp = RetrievalExperiment(cfg, run_dir=tmp_path)
    with pytest.raises(FloatingPointError, match="after epoch 1.*lower train.lr or set train.grad_clip"):
        exp.fit()
    assert not list((tmp_path / "checkpoints").glob("epoch-*"))


def test_non_finite_parameters_raise():
    exp = RetrievalExperiment(small_config(**{"train.epochs": 1}))

    def poison(record):
        with torch.no_grad():
            next(exp.model.parameters())[0, 0] = math.inf

    trainer = Trainer(exp.model, exp.task, exp.config.train)
    trainer.callbacks.append(poison)  # runs after epoch 1's check: epoch 2's check sees it
    trainer.config = exp.config.train.model_copy(update={"epochs": 2})
    with pytest.raises(FloatingPointError, match=r"parameter .* NaN or infinite values after epoch 2"):
        trainer.fit(exp.train_data)


def test_batch_size_one_with_only_in_batch_negatives_is_refused(caplog):
    def cfg(**overrides):  # about 200 training rows: one epoch of 1-row batches stays quick
        tiny = {"num_users": 30, "num_items": 20, "num_interactions": 220, "seed": 1}
        return small_config(**{"data.dataset_options": tiny, "eval.metrics": ["hit_rate@10"], "train.epochs": 1,
                               **overrides})

    with pytest.raises(ConfigError, match="train.batch_size: 1 row per batch .* without negatives"):
        RetrievalExperiment(cfg(**{"train.batch_size": 1})).fit()
    sampled = RetrievalExperiment(cfg(**{"train.batch_size": 1, "task": {"kind": "retrieval", "num_negatives": 4}}))
    rows = len(sampled.train_data)
    assert 150 < rows < 250
    assert math.isfinite(sampled.fit().records[0]["train/loss"])  # sampled negatives: every row has some
    odd = RetrievalExperiment(cfg(**{"train.batch_size": rows - 1}))
    with caplog.at_level("WARNING"):
        odd.fit()
    assert f"leaves the last batch of each epoch with 1 of the {rows} training rows" in caplog.text


def test_keep_checkpoints_without_checkpoints_clears_an_older_run_and_says_so(tmp_path, caplog):
    RetrievalExperiment(small_config(**{"train.epochs": 3}), run_dir=tmp_path).fit()
    with caplog.at_level("WARNING"):
        RetrievalExperiment(small_config(**{"train.epochs": 1, "train.checkpoint_every": 0}), run_dir=tmp_path).fit()
    assert not list((tmp_path / "checkpoints").glob("epoch-*"))
    assert not (tmp_path / "checkpoints" / "LATEST").exists()
    assert "removed 3 checkpoints of an earlier run" in caplog.text
    assert "train.checkpoint_every is 0: no checkpoints are written" in caplog.text


def test_a_seed_outside_torchs_range_is_a_config_error():
    with pytest.raises(ConfigError, match="train.seed"):
        small_config(**{"train.seed": 2**64})


def test_the_early_stopping_line_when_no_evaluation_was_finite(capfd):
    exp = RetrievalExperiment(small_config(**{"train.epochs": 1}))
    cfg = TrainConfig(epochs=3, batch_size=512, early_stopping=EarlyStoppingConfig(metric="m", patience=1))
    Trainer(exp.model, exp.task, cfg).fit(exp.train_data, evaluator=lambda model: {"m": float("nan")})
    err = capfd.readouterr().err
    assert "early stopping at epoch 1: no evaluation gave a finite val/m" in err and "None" not in err

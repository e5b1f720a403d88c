"""An experiment is trained once: a second fit() is refused (resume goes on instead), save()
and recommender() before fit() raise NotFittedError, evaluate() before it warns once."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from recstack.errors import AlreadyFittedError, NotFittedError, RecstackError
from recstack.experiment import RetrievalExperiment
from tests.conftest import small_config


def test_second_fit_is_refused_and_says_how_to_train_longer(tmp_path: Path) -> None:
    exp = RetrievalExperiment(small_config(**{"train.epochs": 2}), run_dir=tmp_path / "run")
    exp.fit()
    before = [p.detach().clone() for p in exp.model.parameters()]
    with pytest.raises(AlreadyFittedError) as info:
        exp.fit()
    msg = str(info.value)
    assert "already trained (2 epochs" in msg and "train.epochs higher" in msg and "resume" in msg
    assert str(tmp_path / "run" / "checkpoints") in msg and "new RetrievalExperiment" in msg
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, RecstackError)
    assert all((a == b.detach()).all() for a, b in zip(before, exp.model.parameters(), strict=True))
    assert len(exp.history or []) == 2


def test_resume_with_more_epochs_goes_on(tmp_path: Path) -> None:
    run = tmp_path / "run"
    RetrievalExperiment(small_config(**{"train.epochs": 1}), run_dir=run).fit()
    exp = RetrievalExperiment(small_config(**{"train.epochs": 2}), run_dir=run)
    history = exp.fit(resume_from=run / "checkpoints")
    assert [r["epoch"] for r in history.to_list()] == [1, 2]
    # a resume may follow a finished fit too: the checkpoint restores weights, optimizer, history
    again = exp.fit(resume_from=run / "checkpoints")
    assert [r["epoch"] for r in again.to_list()] == [1, 2]
    exp.save(tmp_path / "model")


def test_refused_fit_before_training_can_be_retried() -> None:
    exp = RetrievalExperiment(small_config(**{"train.epochs": 1}))
    with pytest.raises(RecstackError):
        exp.fit(resume_from="/nonexistent/checkpoints")
    exp.fit()  # the refused resume touched nothing
    assert len(exp.history or []) == 1


def test_save_and_recommender_before_fit_raise_not_fitted(tmp_path: Path) -> None:
    exp = RetrievalExperiment(small_config(**{"train.epochs": 1}))
    with pytest.raises(NotFittedError, match=r"save: .*not trained \(call fit\(\) first\)"):
        exp.save(tmp_path / "model")
    assert not (tmp_path / "model").exists()
    with pytest.raises(NotFittedError, match="recommender: "):
        exp.recommender()


def test_evaluate_before_fit_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    exp = RetrievalExperiment(small_config(**{"train.epochs": 1, "data.validation_fraction": 0.0}))
    table = exp.full_train.head(50)
    with caplog.at_level(logging.WARNING):
        exp.evaluate(table)
        exp.evaluate(table)
    untrained = [r for r in caplog.records if "untrained baseline" in r.getMessage()]
    assert len(untrained) == 1
    caplog.clear()
    exp.fit()
    with caplog.at_level(logging.WARNING):
        exp.evaluate(table)
    assert not [r for r in caplog.records if "untrained baseline" in r.getMessage()]


def test_weights_trained_outside_fit_count_as_trained(tmp_path: Path, caplog) -> None:
    """A Trainer of one's own on exp.model (as benchmarks/retrieval_movielens.py does, for
    per-epoch callbacks), or weights loaded into it, are not 'the random initial ones'."""
    from recstack.training import Trainer

    cfg = small_config(**{"train.epochs": 1})
    exp = RetrievalExperiment(cfg)
    Trainer(exp.model, exp.task, cfg.train).fit(exp.train_data)
    with caplog.at_level(logging.WARNING):
        exp.evaluate()
    assert "not trained" not in caplog.text
    exp.save(tmp_path / "own")
    other = RetrievalExperiment(cfg)
    other.model.load_state_dict(exp.model.state_dict())
    other.recommender()  # loaded weights: no NotFittedError
    fresh = RetrievalExperiment(cfg)
    with pytest.raises(NotFittedError):
        fresh.save(tmp_path / "fresh")


def test_save_after_an_interrupted_fit_says_it_stopped_part_way(tmp_path: Path, monkeypatch) -> None:
    """It said the weights were 'the random initial ones' after a trained epoch, and pointed to
    checkpoints a run without run_dir never wrote."""
    import recstack.training.trainer as trainer_mod

    real = trainer_mod.check_finite

    def stop_after_epoch_1(model, batch, epoch, **kwargs):
        if epoch == 2:
            raise KeyboardInterrupt
        return real(model, batch, epoch, **kwargs)

    monkeypatch.setattr(trainer_mod, "check_finite", stop_after_epoch_1)
    for run_dir, where in ((None, "kept no checkpoints"), (tmp_path / "run", "resume it from its checkpoints")):
        exp = RetrievalExperiment(small_config(**{"train.epochs": 3}), run_dir=run_dir)
        with pytest.raises(KeyboardInterrupt):
            exp.fit()
        with pytest.raises(NotFittedError) as info:
            exp.save(tmp_path / "m")
        assert "stopped part-way" in str(info.value) and where in str(info.value)
        assert "random initial" not in str(info.value)

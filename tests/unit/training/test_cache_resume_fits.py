"""A resume checks that the checkpoint fits the model once (``prepare_resume``), not again in
``apply_checkpoint``; ``apply_checkpoint`` called on its own still checks before it changes anything."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from recstack.errors import ArtifactError
from recstack.experiment import RetrievalExperiment
from recstack.training import checkpoint, resume
from recstack.training.checkpoint import apply_checkpoint, read_checkpoint, save_checkpoint
from tests.conftest import small_config


def counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts calls of ``check_fits`` under both names it is called by."""
    calls: list[int] = []
    real = checkpoint.check_fits

    def check_fits(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        real(*args, **kwargs)

    monkeypatch.setattr(checkpoint, "check_fits", check_fits)
    monkeypatch.setattr(resume, "check_fits", check_fits)
    return calls


def test_a_resume_checks_the_fit_once(tmp_path, monkeypatch):
    RetrievalExperiment(small_config(**{"train.epochs": 1}), run_dir=tmp_path).fit()
    calls = counted(monkeypatch)
    history = RetrievalExperiment(small_config(**{"train.epochs": 2})).fit(resume_from=tmp_path / "checkpoints")
    assert len(history) == 2
    assert len(calls) == 1  # before: 2, in prepare_resume and again in apply_checkpoint


def test_apply_checkpoint_on_its_own_refuses_a_checkpoint_that_does_not_fit(tmp_path, monkeypatch):
    small = torch.nn.Linear(4, 2)
    save_checkpoint(tmp_path, epoch=1, model=small, task=torch.nn.Module(),
                    optimizer=torch.optim.SGD(small.parameters(), lr=0.1), extra={})
    wide = torch.nn.Linear(4, 3)
    opt = torch.optim.SGD(wide.parameters(), lr=0.1)
    before = {k: v.clone() for k, v in wide.state_dict().items()}
    calls = counted(monkeypatch)
    with pytest.raises(ArtifactError, match="does not fit this model"):
        apply_checkpoint(read_checkpoint(tmp_path), model=wide, task=torch.nn.Module(), optimizer=opt)
    assert len(calls) == 1 and opt.state_dict()["state"] == {}
    assert all(torch.equal(before[k], v) for k, v in wide.state_dict().items())

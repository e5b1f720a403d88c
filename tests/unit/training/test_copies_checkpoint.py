"""Checkpoints and best weights without needless copies of the model or optimizer state, and
still all or nothing: a refused checkpoint changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from safetensors.torch import load_file, save_file
from torch.overrides import TorchFunctionMode

from recstack.errors import ArtifactError
from recstack.experiment import RetrievalExperiment
from recstack.training.checkpoint import apply_checkpoint, load_checkpoint, read_checkpoint, save_checkpoint
from recstack.training.trainer import keep_best
from tests.conftest import small_config


class NewStorage(TorchFunctionMode):
    """Records the torch calls whose result holds new memory of at least ``numel`` elements:
    copies of a weight at least that large."""

    def __init__(self, numel: int) -> None:
        super().__init__()
        self.numel = numel
        self.copies: list[str] = []
        self.known: set[int] = set()

    def remember(self, tensors: Any) -> None:
        self.known.update(t.untyped_storage().data_ptr() for t in tensors)

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        out = func(*args, **(kwargs or {}))
        if (isinstance(out, torch.Tensor) and out.numel() >= self.numel
                and out.untyped_storage().data_ptr() not in self.known):
            self.copies.append(f"{getattr(func, '__name__', func)} {tuple(out.shape)}")
        return out


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One epoch with Adam (state per parameter) and a 64-wide embedding, so that the tables are
    the largest tensors about."""
    run = tmp_path_factory.mktemp("run")
    exp = RetrievalExperiment(small_config(**{"train.epochs": 1, "train.optimizer": "adam",
                                               "model.embedding_dim": 64}), run_dir=run)
    exp.fit()
    return exp, run / "checkpoints"


def largest(exp: RetrievalExperiment) -> int:
    return max(p.numel() for p in exp.model.parameters())


def live_tensors(exp: RetrievalExperiment) -> list[torch.Tensor]:
    opt = exp.trainer.optimizer
    assert opt is not None
    state = [v for s in opt.state.values() for v in s.values() if torch.is_tensor(v)]
    return [*exp.model.state_dict().values(), *exp.task.state_dict().values(), *state]


def test_saving_a_checkpoint_copies_no_weights(trained, tmp_path):
    exp, _ = trained
    best = keep_best(None, exp.model)
    watch = NewStorage(largest(exp))
    watch.remember(live_tensors(exp) + list(best.values()))
    with watch:
        folder = save_checkpoint(tmp_path, epoch=1, model=exp.model, task=exp.task, optimizer=exp.trainer.optimizer,
                                 extra={}, best_weights=best)
    assert watch.copies == []  # before: every weight, optimizer state and best weight cloned first
    saved = load_file(str(folder / "weights.safetensors"))
    assert all(torch.equal(saved["model." + k], v) for k, v in exp.model.state_dict().items())
    assert all(torch.equal(v, load_file(str(folder / "best.safetensors"))["model." + k]) for k, v in best.items())


def test_tied_weights_are_saved_under_each_name(tmp_path):
    shared = torch.nn.Linear(3, 3)
    model = torch.nn.ModuleDict({"a": shared, "b": shared})  # one weight, two names
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    folder = save_checkpoint(tmp_path, epoch=1, model=model, task=torch.nn.Module(), optimizer=opt, extra={})
    saved = load_file(str(folder / "weights.safetensors"))
    assert torch.equal(saved["model.a.weight"], shared.weight) and torch.equal(saved["model.b.weight"], shared.weight)


def test_applying_a_checkpoint_copies_no_weights(trained):
    exp, ckpt_dir = trained
    ckpt = read_checkpoint(ckpt_dir)
    watch = NewStorage(largest(exp))
    watch.remember(live_tensors(exp) + list(ckpt.weights.values()) + list(ckpt.optimizer_tensors.values()))
    with watch:
        apply_checkpoint(ckpt, model=exp.model, task=exp.task, optimizer=exp.trainer.optimizer)
    assert watch.copies == []  # before: the model, task and optimizer state deep-copied for a rollback
    assert all(torch.equal(ckpt.weights["model." + k], v) for k, v in exp.model.state_dict().items())


def test_a_checkpoint_the_optimizer_refuses_changes_nothing(trained, tmp_path):
    exp, ckpt_dir = trained
    folder = read_checkpoint(ckpt_dir).folder
    damaged = tmp_path / "epoch-0001"
    damaged.mkdir()
    for name in ("state.json", "weights.safetensors"):
        (damaged / name).write_bytes((folder / name).read_bytes())
    opt = load_file(str(folder / "optimizer.safetensors"))
    del opt["state.0.step"]  # passes every check of names and shapes; Adam's own load fails on it
    save_file(opt, str(damaged / "optimizer.safetensors"))
    with torch.no_grad():  # weights that differ from the checkpoint's, so a load would show
        for p in exp.model.parameters():
            p.add_(1.0)
    model = {k: v.clone() for k, v in exp.model.state_dict().items()}
    task = {k: v.clone() for k, v in exp.task.state_dict().items()}
    optimizer = exp.trainer.optimizer
    assert optimizer is not None
    state = {p: {k: v.clone() for k, v in s.items()} for p, s in optimizer.state.items()}
    with pytest.raises(ArtifactError, match="does not match this model/optimizer"):
        load_checkpoint(damaged, model=exp.model, task=exp.task, optimizer=optimizer)
    assert all(torch.equal(model[k], v) for k, v in exp.model.state_dict().items())
    assert all(torch.equal(task[k], v) for k, v in exp.task.state_dict().items())
    assert optimizer.state.keys() == state.keys()
    for p, s in optimizer.state.items():
        assert s.keys() == state[p].keys() and all(torch.equal(s[k], v) for k, v in state[p].items())


def test_the_best_weights_are_one_copy_written_over_at_each_improvement():
    model = torch.nn.Linear(4, 2)
    best = keep_best(None, model)
    assert all(v.untyped_storage().data_ptr() != p.untyped_storage().data_ptr()
               for v, p in zip(best.values(), model.state_dict().values()))  # a copy, not the live weights
    with torch.no_grad():
        model.weight.add_(1.0)
    again = keep_best(best, model)
    assert again is best and all(torch.equal(again[k], v) for k, v in model.state_dict().items())
    other = keep_best({"weight": torch.zeros(2, 4)}, model)  # e.g. read from another checkpoint: a new copy
    assert set(other) == {"weight", "bias"} and torch.equal(other["weight"], model.weight)

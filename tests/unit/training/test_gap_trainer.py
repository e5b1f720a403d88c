"""Optimizers by name, the evaluation cadence (``train.eval_every``) and early stopping counted
in evaluations, and resume with dropout (torch's RNG restored from the checkpoint)."""

from __future__ import annotations

import pytest
import torch

from recstack.data.dataset import TensorDataset
from recstack.experiment import RetrievalExperiment
from recstack.models import TwoTower, TwoTowerConfig
from recstack.tasks import RetrievalTask
from recstack.training import Trainer
from recstack.training.config import TrainConfig
from recstack.training.trainer import make_optimizer
from tests.conftest import small_config
from tests.contract._tiny import MODEL_EXAMPLES, preprocessor, tiny_table

TINY_ROWS = len(tiny_table())


def tiny_trainer(**train) -> Trainer:
    """A tiny two-tower on the contract tests' 12-row table; ``train``: TrainConfig fields."""
    torch.manual_seed(0)
    model = TwoTower(TwoTowerConfig(**MODEL_EXAMPLES["two_tower"]), preprocessor().outputs)
    cfg = TrainConfig(**{"epochs": 1, "progress": False, "checkpoint_every": 0, **train})
    return Trainer(model, RetrievalTask(), cfg)


def tiny_data() -> TensorDataset:
    return TensorDataset(preprocessor().transform(tiny_table()))


# ------------------------------------------------------------------ optimizers

P0 = [1.0, -2.0]
G = torch.tensor([0.5, -0.25])  # the gradient of sum(G * p)
LR, WD = 0.1, 0.5


def one_step(name: str, **kw) -> tuple[torch.optim.Optimizer, list[float]]:
    p = torch.nn.Parameter(torch.tensor(P0, dtype=torch.float64))
    opt = make_optimizer(name, [p], LR, WD, **kw)
    (p * G.double()).sum().backward()
    opt.step()
    return opt, p.detach().tolist()


def test_adamw_is_torchs_adamw_with_decoupled_weight_decay():
    opt, p = one_step("adamw")
    assert type(opt) is torch.optim.AdamW and opt.param_groups[0]["weight_decay"] == WD
    # p * (1 - lr * wd), then Adam's first step: lr * g / (|g| + eps)
    assert p == pytest.approx([1.0 * 0.95 - 0.1, -2.0 * 0.95 + 0.1], abs=1e-7)


def test_adam_is_torchs_adam_with_l2_weight_decay_in_the_gradient():
    opt, p = one_step("adam")
    assert type(opt) is torch.optim.Adam and opt.param_groups[0]["weight_decay"] == WD
    # g + wd * p = (1.0, -1.25): the first step moves each weight by lr against its sign
    assert p == pytest.approx([0.9, -1.9], abs=1e-7)


def test_sgd_is_torchs_sgd_with_momentum_0_9():
    opt, p = one_step("sgd")
    assert type(opt) is torch.optim.SGD and opt.param_groups[0]["momentum"] == 0.9
    assert opt.param_groups[0]["weight_decay"] == WD
    # first step: the momentum buffer is the gradient g + wd * p = (1.0, -1.25)
    assert p == pytest.approx([1.0 - 0.1 * 1.0, -2.0 + 0.1 * 1.25], abs=1e-12)


def test_adagrad_starts_its_accumulator_at_the_given_value():
    opt, p = one_step("adagrad", initial_accumulator=0.75)
    assert type(opt) is torch.optim.Adagrad and opt.param_groups[0]["weight_decay"] == WD
    g = [1.0, -1.25]  # g + wd * p
    expected = [w - LR * gi / ((0.75 + gi * gi) ** 0.5 + 1e-10) for w, gi in zip(P0, g)]
    assert p == pytest.approx(expected, abs=1e-12)
    assert opt.state[opt.param_groups[0]["params"][0]]["sum"].tolist() == pytest.approx([0.75 + 1.0, 0.75 + 1.5625])


@pytest.mark.parametrize("name, cls", [("adagrad", torch.optim.Adagrad), ("adam", torch.optim.Adam),
                                       ("adamw", torch.optim.AdamW), ("sgd", torch.optim.SGD)])
def test_train_optimizer_builds_that_optimizer_and_one_step_changes_every_weight(name, cls):
    trainer = tiny_trainer(optimizer=name, lr=0.05, weight_decay=0.01)
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    history = trainer.fit(tiny_data())
    opt = trainer.optimizer
    assert type(opt) is cls
    assert (opt.param_groups[0]["lr"], opt.param_groups[0]["weight_decay"]) == (0.05, 0.01)
    assert len(history) == 1
    changed = {k: not torch.equal(v, before[k]) for k, v in trainer.model.state_dict().items()}
    assert all(changed.values()), [k for k, c in changed.items() if not c]


@pytest.mark.parametrize("batch_size, rows_per_step", [(8192, TINY_ROWS), (5, 5)])
def test_the_trainer_passes_adagrad_the_accumulator_for_the_mean_loss(batch_size, rows_per_step):
    """benchmarks/README.md, "The Adagrad accumulator": Keras' 0.1 on the summed loss is
    ``0.1 / batch**2`` on recstack's mean loss, ``batch`` capped at the training rows."""
    trainer = tiny_trainer(optimizer="adagrad", adagrad_initial_accumulator=0.1, batch_size=batch_size)
    trainer.fit(tiny_data())
    assert trainer.optimizer.param_groups[0]["initial_accumulator_value"] == 0.1 / rows_per_step**2


# ------------------------------------------------------------------ evaluation cadence


class Scripted:
    """An evaluator that returns the given values of ``m`` one per call."""

    def __init__(self, values):
        self.values, self.calls = list(values), 0

    def __call__(self, model):
        self.calls += 1
        return {"m": self.values[self.calls - 1]}


def evaluated_epochs(history) -> list[int]:
    return [r["epoch"] for r in history.records if "val/m" in r]


def test_eval_every_evaluates_only_every_nth_epoch():
    scripted = Scripted([0.1, 0.2, 0.3])
    history = tiny_trainer(epochs=7, eval_every=3, batch_size=4).fit(tiny_data(), evaluator=scripted)
    assert [r["epoch"] for r in history.records] == [1, 2, 3, 4, 5, 6, 7]
    assert evaluated_epochs(history) == [3, 6]
    assert scripted.calls == 2
    assert [r["val/m"] for r in history.records if "val/m" in r] == [0.1, 0.2]
    assert all("val/seconds" not in r for r in history.records if r["epoch"] not in (3, 6))


def test_eval_every_0_never_evaluates():
    scripted = Scripted([])
    history = tiny_trainer(epochs=3, eval_every=0).fit(tiny_data(), evaluator=scripted)
    assert scripted.calls == 0 and evaluated_epochs(history) == []


def test_early_stopping_counts_patience_in_evaluations_not_epochs():
    # evaluations at epochs 2, 4, 6, 8: best at 2, then two without improvement -> stop at 6
    es = {"metric": "m", "patience": 2, "restore_best": False}
    trainer = tiny_trainer(epochs=20, eval_every=2, early_stopping=es)
    history = trainer.fit(tiny_data(), evaluator=Scripted([0.5, 0.4, 0.3, 0.9, 0.9]))
    assert [r["epoch"] for r in history.records] == [1, 2, 3, 4, 5, 6]
    assert evaluated_epochs(history) == [2, 4, 6]
    assert trainer.stopped_early and (trainer.best_epoch, trainer.best_metric) == (2, 0.5)


def test_an_improvement_resets_the_patience_count():
    es = {"metric": "m", "patience": 2, "restore_best": False}
    trainer = tiny_trainer(epochs=20, eval_every=2, early_stopping=es)
    history = trainer.fit(tiny_data(), evaluator=Scripted([0.5, 0.4, 0.6, 0.6, 0.1, 0.9]))
    # 0.5 (best), 0.4 (1), 0.6 (best, reset), 0.6 (1: not better), 0.1 (2) -> stop at epoch 10
    assert evaluated_epochs(history) == [2, 4, 6, 8, 10] and len(history) == 10
    assert (trainer.best_epoch, trainer.best_metric) == (6, 0.6)


# ------------------------------------------------------------------ resume with dropout


def test_resume_with_dropout_equals_the_uninterrupted_run_bit_for_bit(tmp_path):
    """Dropout draws from torch's global RNG: a resumed run must restore it from the checkpoint
    to draw the masks the uninterrupted run drew at epochs 3 and 4."""
    over = {"model.dropout": 0.3, "data.validation_fraction": 0.0, "data.dataset_options.num_interactions": 1500}
    full = RetrievalExperiment(small_config(**over, **{"train.epochs": 4}))
    full.fit()
    RetrievalExperiment(small_config(**over, **{"train.epochs": 2}), run_dir=tmp_path / "b").fit()
    resumed = RetrievalExperiment(small_config(**over, **{"train.epochs": 4}))
    history = resumed.fit(resume_from=tmp_path / "b" / "checkpoints")
    assert [r["epoch"] for r in history.records] == [1, 2, 3, 4]
    assert [r["train/loss"] for r in history.records] == [r["train/loss"] for r in full.history.records]
    for k, v in full.model.state_dict().items():
        assert torch.equal(v, resumed.model.state_dict()[k]), k

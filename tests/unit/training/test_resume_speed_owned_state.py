"""A resumed run's optimizer state and kept best weights own their memory.

``safetensors.torch.load_file`` maps the file copy-on-write, and ``Optimizer.load_state_dict``
keeps a tensor already of its parameter's dtype and device as it is: without a copy the
resumed optimizer's state (Adam's moments, Adagrad's sums) would be views of the map of
``optimizer.safetensors`` for the rest of the run. These tests guard that cause, not a timing:
the loaded state is contiguous and (on Linux) lies in no mapped ``.safetensors`` file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from recstack.data.dataset import TensorDataset
from recstack.models import TwoTower, TwoTowerConfig
from recstack.tasks import RetrievalTask
from recstack.training import Trainer
from recstack.training.checkpoint import apply_checkpoint, read_checkpoint
from recstack.training.config import EarlyStoppingConfig, TrainConfig
from recstack.training.resume import _best_weights
from tests.contract._tiny import MODEL_EXAMPLES, preprocessor, tiny_table


def _mapped_safetensors() -> list[tuple[int, int]]:
    """The address ranges of the ``.safetensors`` files this process maps (Linux)."""
    ranges = []
    for line in Path("/proc/self/maps").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 6 and parts[-1].endswith(".safetensors"):
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            ranges.append((lo, hi))
    return ranges


def _in_a_mapped_file(t: torch.Tensor) -> bool:
    ptr = t.untyped_storage().data_ptr()
    return any(lo <= ptr < hi for lo, hi in _mapped_safetensors())


linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/maps")


def _trainer(optimizer: str, run_dir: Path | None, **train) -> Trainer:
    torch.manual_seed(0)
    model = TwoTower(TwoTowerConfig(**MODEL_EXAMPLES["two_tower"]), preprocessor().outputs)
    cfg = TrainConfig(**{"epochs": 2, "progress": False, "checkpoint_every": 1, "optimizer": optimizer,
                         "batch_size": 4, **train})
    return Trainer(model, RetrievalTask(), cfg, run_dir=run_dir)


def _state_tensors(opt: torch.optim.Optimizer) -> list[torch.Tensor]:
    return [v for st in opt.state.values() for v in st.values() if torch.is_tensor(v)]


@pytest.mark.parametrize("optimizer", ["adam", "adagrad", "sgd"])
def test_loaded_optimizer_state_owns_its_memory(tmp_path, optimizer):
    data = TensorDataset(preprocessor().transform(tiny_table()))
    first = _trainer(optimizer, tmp_path)
    first.fit(data)
    target = _trainer(optimizer, None)
    opt = target.optimizer = torch.optim.Adam(target.model.parameters()) if optimizer == "adam" else (
        torch.optim.Adagrad(target.model.parameters()) if optimizer == "adagrad"
        else torch.optim.SGD(target.model.parameters(), lr=0.1, momentum=0.9))
    ckpt = read_checkpoint(tmp_path / "checkpoints")  # held: its tensors (the file's map) stay alive
    apply_checkpoint(ckpt, model=target.model, task=target.task, optimizer=opt)
    loaded = _state_tensors(opt)
    assert loaded, "the checkpoint carried no optimizer state"
    assert all(t.is_contiguous() for t in loaded)
    if sys.platform.startswith("linux"):
        assert not any(_in_a_mapped_file(t) for t in loaded if t.numel()), "optimizer state is in the file's map"
        assert not any(_in_a_mapped_file(t) for t in ckpt.optimizer_tensors.values() if t.numel())
    # same values as the uninterrupted run's optimizer at the checkpoint (epoch 2)
    want = first.optimizer.state_dict()["state"]  # type: ignore[union-attr]
    got = opt.state_dict()["state"]
    assert want.keys() == got.keys()
    for pid, st in want.items():
        for name, val in st.items():
            assert torch.equal(torch.as_tensor(val), torch.as_tensor(got[pid][name])), (pid, name)


@linux_only
def test_the_guard_sees_a_mapped_file(tmp_path):
    """The checks here mean something: ``load_file`` itself hands back views of the file's map
    (while safetensors maps files; skipped should it read them into memory instead)."""
    _trainer("adam", tmp_path, epochs=1).fit(TensorDataset(preprocessor().transform(tiny_table())))
    raw = load_file(str(tmp_path / "checkpoints" / "epoch-0001" / "optimizer.safetensors"))
    big = [t for t in raw.values() if t.numel() > 1]
    if not any(_in_a_mapped_file(t) for t in big):
        pytest.skip("this safetensors reads files into memory: nothing is mapped")
    assert all(_in_a_mapped_file(t) for t in big)


@pytest.mark.parametrize("every", [1, 2])  # 1: the best epoch's own checkpoint; 2: best.safetensors carried
def test_best_weights_read_on_resume_own_their_memory(tmp_path, every):
    """restore_best after a resume: keep_best later writes into these weights in place, and the
    epoch they were read from may be removed; they must be copies, not the file's map."""
    es = EarlyStoppingConfig(metric="m", patience=10, restore_best=True)
    data = TensorDataset(preprocessor().transform(tiny_table()))
    _trainer("adam", tmp_path, early_stopping=es, checkpoint_every=every).fit(data, evaluator=lambda m: {"m": 1.0})
    ckpt = read_checkpoint(tmp_path / "checkpoints" / "epoch-0002")
    assert (ckpt.folder / "best.safetensors").exists() == (every == 2)
    best = _best_weights(ckpt, 1)
    assert best is not None and best
    for t in best.values():
        assert t.is_contiguous()
        if sys.platform.startswith("linux") and t.numel():
            assert not _in_a_mapped_file(t)

"""Saving writes weights straight from memory: a copy only where safetensors needs one."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

import recstack.artifacts.io as artifact_io
from recstack._storable import storable
from recstack.experiment import RetrievalExperiment
from tests.conftest import small_config


def test_contiguous_tensors_are_passed_as_they_are():
    a, b = torch.randn(4, 3), torch.randn(5)
    out = storable({"a": a, "b": b})
    assert out["a"].data_ptr() == a.data_ptr() and out["b"].data_ptr() == b.data_ptr()


def test_tied_and_strided_tensors_are_copied_so_save_file_takes_them(tmp_path):
    w = torch.randn(3, 4)
    out = storable({"w": w, "w_again": w, "t": w.t()})
    assert out["w"].data_ptr() == w.data_ptr()
    assert out["w_again"].data_ptr() != w.data_ptr() and torch.equal(out["w_again"], w)
    assert out["t"].is_contiguous() and torch.equal(out["t"], w.t())
    from safetensors.torch import save_file

    save_file(out, str(tmp_path / "x.safetensors"))  # refuses shared memory without the copy
    back = load_file(str(tmp_path / "x.safetensors"))
    assert torch.equal(back["w_again"], w) and torch.equal(back["t"], w.t())


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    exp = RetrievalExperiment(small_config(**{"train.epochs": 1}), run_dir=tmp_path_factory.mktemp("run"))
    exp.fit()
    return exp


def test_saving_a_model_does_not_copy_its_weights(fitted, tmp_path, monkeypatch):
    written: dict[str, dict[str, torch.Tensor]] = {}
    real = artifact_io.save_file

    def spy(tensors, filename, *args, **kwargs):
        written[filename.rsplit("/", 1)[-1]] = dict(tensors)
        return real(tensors, filename, *args, **kwargs)

    monkeypatch.setattr(artifact_io, "save_file", spy)
    folder = fitted.save(tmp_path / "model")
    state = fitted.model.state_dict()
    sent = written["model.safetensors"]
    assert set(sent) == set(state)
    # before: every weight was cloned first (a second copy of the model in memory during save)
    assert all(sent[k].data_ptr() == v.data_ptr() for k, v in state.items() if v.is_contiguous())
    saved = load_file(str(folder / "model.safetensors"))
    assert all(torch.equal(saved[k], v) for k, v in state.items())

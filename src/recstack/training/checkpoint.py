"""Atomic checkpoints: model + task + optimizer tensors in safetensors, the rest in JSON.

Layout of ``<dir>/epoch-0003/``::

    weights.safetensors     model.* and task.* tensors
    best.safetensors        model.* of the best epoch so far, when that epoch has no checkpoint
                            of its own (``restore_best`` with ``checkpoint_every`` > 1)
    optimizer.safetensors   optimizer state tensors (``state.<param>.<name>``) + RNG state
    state.json              epoch, history, optimizer scalars and param groups, format

A checkpoint is written to a temporary folder, flushed to disk and renamed into place, and
``LATEST`` names the newest one, so neither a crash nor a power cut leaves a half-written
checkpoint behind.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from recstack._atomic import replace_dir, write_text
from recstack.errors import ArtifactError
from recstack.tasks.base import Task

__all__ = ["save_checkpoint", "load_checkpoint", "latest_checkpoint"]

FORMAT = 1


def _flatten_optimizer(opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    sd = opt.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, st in sd["state"].items():
        for name, val in st.items():
            if torch.is_tensor(val):
                tensors[f"state.{pid}.{name}"] = val.detach().contiguous().clone()
            else:
                scalars.setdefault(str(pid), {})[name] = val
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _unflatten_optimizer(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for key, val in tensors.items():
        if not key.startswith("state."):
            continue
        _, pid, name = key.split(".", 2)
        state.setdefault(int(pid), {})[name] = val
    for pid, sc in meta["scalars"].items():
        state.setdefault(int(pid), {}).update(sc)
    return {"state": state, "param_groups": meta["param_groups"]}


def save_checkpoint(
    directory: str | Path,
    *,
    epoch: int,
    model: nn.Module,
    task: nn.Module,
    optimizer: torch.optim.Optimizer,
    extra: dict[str, Any],
    best_weights: dict[str, torch.Tensor] | None = None,
) -> Path:
    """Writes ``directory/epoch-XXXX`` atomically and points ``LATEST`` at it.

    ``best_weights``: the model state of an earlier best epoch that was not checkpointed.
    """
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    final = epoch_dir(root, epoch)
    tmp = root / f".tmp-epoch-{epoch:04d}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    weights = {f"model.{k}": v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    weights.update({f"task.{k}": v.detach().contiguous().clone() for k, v in task.state_dict().items()})
    save_file(weights, str(tmp / "weights.safetensors"))
    if best_weights is not None:
        save_file({f"model.{k}": v.detach().contiguous().clone() for k, v in best_weights.items()},
                  str(tmp / "best.safetensors"))
    opt_tensors, opt_meta = _flatten_optimizer(optimizer)
    opt_tensors["rng.torch"] = torch.get_rng_state()
    task_rng = task.get_rng_state() if isinstance(task, Task) else None
    if task_rng is not None:  # e.g. the negative sampler: a resumed run draws the same negatives
        opt_tensors["rng.task"] = task_rng
    save_file(opt_tensors, str(tmp / "optimizer.safetensors"))
    state = {"format": FORMAT, "epoch": epoch, "optimizer": opt_meta, **extra}
    (tmp / "state.json").write_text(json.dumps(state))
    replace_dir(tmp, final)
    write_text(root / "LATEST", final.name)
    return final


def epoch_dir(root: str | Path, epoch: int) -> Path:
    """The checkpoint folder of ``epoch`` in run folder ``root`` (``epoch-0003``)."""
    return Path(root) / f"epoch-{epoch:04d}"


def checkpoint_root(path: str | Path) -> Path:
    """The run folder (the one holding ``LATEST`` and ``epoch-*``) of a path given to resume:
    the run folder itself or one of its checkpoint folders."""
    p = Path(path)
    return p if (p / "LATEST").exists() else p.parent


def clear_checkpoints(directory: str | Path, *, after: int | None = None) -> int:
    """Removes the checkpoints of an earlier run in ``directory`` (``epoch-*`` and ``LATEST``).

    A fresh run that writes into the same folder must not leave them beside its own: a later
    resume with ``restore_best`` would load an old run's epoch of the same number. ``after``:
    remove only the epochs after it (a run resumed from that epoch in the same folder replaces
    the ones it abandoned). Returns how many were removed.
    """
    root = Path(directory)
    if not root.is_dir():
        return 0
    old = [p for p in root.glob("epoch-*") if p.is_dir()]
    if after is not None:
        old = [p for p in old if p.name[len("epoch-"):].isdigit() and int(p.name[len("epoch-"):]) > after]
    for p in old:
        shutil.rmtree(p)
    if after is None or old:
        (root / "LATEST").unlink(missing_ok=True)
    return len(old)


def latest_checkpoint(directory: str | Path) -> Path | None:
    """The checkpoint ``LATEST`` points to, or ``None`` when there is none."""
    root = Path(directory)
    marker = root / "LATEST"
    if not marker.exists():
        return None
    path = root / marker.read_text().strip()
    return path if path.exists() else None


def load_checkpoint(
    path: str | Path, *, model: nn.Module, task: nn.Module, optimizer: torch.optim.Optimizer
) -> dict[str, Any]:
    """Restores model, task, optimizer and RNG from ``path``; returns ``state.json``'s dict.

    A checkpoint folder (``epoch-XXXX``) or a run folder containing ``LATEST`` is accepted.
    """
    p = Path(path)
    if (p / "LATEST").exists():
        p = latest_checkpoint(p) or p
    try:
        state = json.loads((p / "state.json").read_text())
        weights = load_file(str(p / "weights.safetensors"))
        opt_tensors = load_file(str(p / "optimizer.safetensors"))
    except (OSError, ValueError, SafetensorError) as err:
        raise ArtifactError(
            f"cannot read checkpoint {p}: {err}; pass a folder written by the Trainer "
            "(it holds state.json, weights.safetensors, optimizer.safetensors)"
        ) from None
    if state.get("format") != FORMAT:
        raise ArtifactError(f"checkpoint {p} has format {state.get('format')!r}, this version reads {FORMAT}")
    try:
        model.load_state_dict(_part(weights, "model"), strict=True)
        task.load_state_dict(_part(weights, "task"), strict=True)
        optimizer.load_state_dict(_unflatten_optimizer(opt_tensors, state["optimizer"]))
    except (RuntimeError, KeyError, ValueError) as err:
        raise ArtifactError(f"checkpoint {p} does not match this model/optimizer: {err}") from None
    if "rng.torch" not in opt_tensors:
        raise ArtifactError(f"checkpoint {p} lacks the RNG state (rng.torch); it is incomplete, use another one")
    torch.set_rng_state(opt_tensors["rng.torch"])
    if "rng.task" in opt_tensors and isinstance(task, Task):
        task.set_rng_state(opt_tensors["rng.task"])
    return state


def load_model_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """The model weights (``model.*``) stored in checkpoint folder ``path``."""
    try:
        weights = load_file(str(Path(path) / "weights.safetensors"))
    except (OSError, ValueError, SafetensorError) as err:
        raise ArtifactError(f"cannot read checkpoint weights in {path}: {err}") from None
    return _part(weights, "model")


def load_best_weights(path: str | Path) -> dict[str, torch.Tensor] | None:
    """The best epoch's model weights carried by checkpoint ``path`` (or a run folder's
    latest checkpoint), or ``None`` when it carries none."""
    p = Path(path)
    if (p / "LATEST").exists():
        p = latest_checkpoint(p) or p
    if not (p / "best.safetensors").exists():
        return None
    try:
        weights = load_file(str(p / "best.safetensors"))
    except (OSError, ValueError, SafetensorError) as err:
        raise ArtifactError(f"cannot read the best weights in {p}: {err}") from None
    return _part(weights, "model")


def _part(weights: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The ``prefix.*`` entries of a checkpoint's weights, without the prefix."""
    head = prefix + "."
    return {k[len(head):]: v for k, v in weights.items() if k.startswith(head)}

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from recstack._atomic import replace_dir, write_text
from recstack._storable import storable
from recstack.errors import ArtifactError
from recstack.tasks.base import Task
from recstack.training.state import validate_state

__all__ = ["save_checkpoint", "load_checkpoint", "latest_checkpoint", "read_checkpoint", "resolve_checkpoint"]

FORMAT = 1


def _flatten_optimizer(opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    sd = opt.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, st in sd["state"].items():
        for name, val in st.items():
            if torch.is_tensor(val):
                tensors[f"state.{pid}.{name}"] = val
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
    weights = {f"model.{k}": v for k, v in model.state_dict().items()}
    weights.update({f"task.{k}": v for k, v in task.state_dict().items()})
    save_file(storable(weights), str(tmp / "weights.safetensors"))
    if best_weights is not None:
        save_file(storable({f"model.{k}": v for k, v in best_weights.items()}), str(tmp / "best.safetensors"))
    opt_tensors, opt_meta = _flatten_optimizer(optimizer)
    opt_tensors["rng.torch"] = torch.get_rng_state()
    task_rng = task.get_rng_state() if isinstance(task, Task) else None
    if task_rng is not None:  # e.g. the negative sampler: a resumed run draws the same negatives
        opt_tensors["rng.task"] = task_rng
    save_file(storable(opt_tensors), str(tmp / "optimizer.safetensors"))
    state = {"format": FORMAT, "epoch": epoch, "optimizer": opt_meta, **extra}
    (tmp / "state.json").write_text(json.dumps(state))
    replace_dir(tmp, final)
    write_text(root / "LATEST", final.name)
    return final


def epoch_dir(root: str | Path, epoch: int) -> Path:
    """The checkpoint folder of ``epoch`` in run folder ``root`` (``epoch-0003``)."""
    return Path(root) / f"epoch-{epoch:04d}"


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


def _epoch_folders(root: Path) -> str:
    found = sorted(p.name for p in root.glob("epoch-*") if (p / "state.json").is_file())
    return ", ".join(found) if found else "none"


def resolve_checkpoint(path: str | Path) -> tuple[Path, Path]:
    """``(folder, root)`` of a path given to resume: the checkpoint folder (``epoch-NNNN``) it
    names and the run's checkpoint folder (the one holding ``LATEST`` and ``epoch-*``).

    ``path`` is ``OUTPUT.run/checkpoints`` (its ``LATEST``) or one ``epoch-NNNN`` folder; any
    other path is an :class:`ArtifactError` saying what to pass instead.
    """
    p = Path(path)
    hint = "pass OUTPUT.run/checkpoints (its latest checkpoint) or one OUTPUT.run/checkpoints/epoch-NNNN folder"
    if (p / "LATEST").is_file():
        try:
            name = (p / "LATEST").read_text().strip()
        except (OSError, UnicodeDecodeError) as err:
            raise ArtifactError(f"cannot read {p / 'LATEST'}: {err}; pass one of its epoch-NNNN folders "
                                f"instead (found: {_epoch_folders(p)})") from None
        folder = p / name
        if not name or "/" in name or not (folder / "state.json").is_file():
            raise ArtifactError(f"{p / 'LATEST'} names {name!r}, which is not a checkpoint in {p}; pass one of "
                                f"its epoch-NNNN folders instead (found: {_epoch_folders(p)})")
        return folder, p
    if (p / "state.json").is_file():
        return p, p.parent
    if not p.exists():
        raise ArtifactError(f"resume: {p} does not exist; {hint}")
    if not p.is_dir():
        raise ArtifactError(f"resume: {p} is not a folder; {hint}")
    if (p / "checkpoints").is_dir():
        raise ArtifactError(f"resume: {p} is a run folder; pass its checkpoints, {p / 'checkpoints'}")
    if any(p.glob("epoch-*")) or any(p.glob(".tmp-epoch-*")):
        raise ArtifactError(f"resume: {p} has no LATEST (the run ended before its first checkpoint was complete, "
                            f"or it was removed); complete epoch-NNNN folders found: {_epoch_folders(p)}; "
                            "pass one of them, or train afresh without resuming")
    raise ArtifactError(f"resume: {p} holds no checkpoint (no LATEST, no state.json); {hint}")


def _unreadable(folder: Path, err: Exception) -> ArtifactError:
    return ArtifactError(f"cannot read checkpoint {folder}: {err}; pass a folder written by the Trainer "
                         "(it holds state.json, weights.safetensors, optimizer.safetensors)")


def read_state(folder: Path) -> dict[str, Any]:
    """The validated ``state.json`` of checkpoint folder ``folder``."""
    try:
        raw = json.loads((folder / "state.json").read_text())
    except (OSError, ValueError) as err:
        raise _unreadable(folder, err) from None
    return validate_state(raw, folder / "state.json", FORMAT)


@dataclass
class Checkpoint:
    """A checkpoint read from disk and checked, not yet applied to anything."""

    folder: Path  # the epoch-NNNN folder
    root: Path  # the folder holding LATEST and the epoch-* folders
    state: dict[str, Any]
    weights: dict[str, torch.Tensor]
    optimizer_tensors: dict[str, torch.Tensor]

    @property
    def epoch(self) -> int:
        return int(self.state["epoch"])


def read_checkpoint(path: str | Path) -> Checkpoint:
    """Reads and validates the checkpoint at ``path`` (see :func:`resolve_checkpoint`);
    changes nothing."""
    folder, root = resolve_checkpoint(path)
    state = read_state(folder)
    try:
        weights = load_file(str(folder / "weights.safetensors"))
        # the optimizer's load_state_dict keeps CPU tensors of its dtype as they are: owned
        opt_tensors = _owned(load_file(str(folder / "optimizer.safetensors")))
    except (OSError, ValueError, SafetensorError) as err:
        raise _unreadable(folder, err) from None
    if "rng.torch" not in opt_tensors:
        raise ArtifactError(f"checkpoint {folder} lacks the RNG state (rng.torch); it is incomplete, use another one")
    return Checkpoint(folder, root, state, weights, opt_tensors)


def check_fits(ckpt: Checkpoint, *, model: nn.Module, task: nn.Module, optimizer: torch.optim.Optimizer) -> None:
    """Raises :class:`ArtifactError` (one sentence) when the checkpoint's tensors do not fit
    ``model``, ``task`` and ``optimizer``: other names or shapes."""
    have = {f"model.{k}": tuple(v.shape) for k, v in model.state_dict().items()}
    have.update({f"task.{k}": tuple(v.shape) for k, v in task.state_dict().items()})
    stored = {k: tuple(v.shape) for k, v in ckpt.weights.items() if k.startswith(("model.", "task."))}
    problems = [f"{k} is {list(stored[k])} in the checkpoint and {list(have[k])} here"
                for k in have if k in stored and stored[k] != have[k]]
    problems += [f"{k} is missing from the checkpoint" for k in have if k not in stored]
    problems += [f"the checkpoint has {k}, which this model lacks" for k in stored if k not in have]
    groups = ckpt.state["optimizer"]["param_groups"]
    sizes = [len(g["params"]) for g in optimizer.param_groups]
    if not problems and [len(g["params"]) for g in groups] != sizes:
        problems.append(f"its optimizer has parameter groups of {[len(g['params']) for g in groups]} "
                        f"parameters, this one {sizes}")
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ArtifactError(f"checkpoint {ckpt.folder} does not fit this model: {problems[0]}{more}; the model, "
                            "features or data changed since it was written: resume with the same config and "
                            "data, or train afresh without resuming")


def apply_checkpoint(
    ckpt: Checkpoint,
    *,
    model: nn.Module,
    task: nn.Module,
    optimizer: torch.optim.Optimizer,
    checked: bool = False,
) -> None:
    """Loads the checkpoint into ``model``, ``task``, ``optimizer`` and the RNGs; all or nothing.

    Without a copy of anything: what can refuse the checkpoint runs before the model and task
    change. :func:`check_fits` (names, shapes, parameter groups), then the optimizer's load;
    should it fail, the optimizer takes back its own state (kept by reference: a load replaces
    the state, it does not write into it). After those, loading the model and task (names and
    shapes known to fit) cannot fail.

    ``checked``: :func:`check_fits` already passed for these very ``model``, ``task`` and
    ``optimizer``, unchanged since (the resume path: ``prepare_resume`` runs it), so it is not
    run again. Leave it False otherwise: a checkpoint that does not fit would then fail halfway.
    """
    if not checked:
        check_fits(ckpt, model=model, task=task, optimizer=optimizer)
    before = optimizer.state_dict()  # references, not copies
    try:
        optimizer.load_state_dict(_unflatten_optimizer(ckpt.optimizer_tensors, ckpt.state["optimizer"]))
    except (RuntimeError, KeyError, ValueError, TypeError) as err:
        optimizer.load_state_dict(before)
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ArtifactError(f"checkpoint {ckpt.folder} does not match this model/optimizer ({first}); resume "
                            "with the config it was written with, or train afresh without resuming") from None
    model.load_state_dict(_part(ckpt.weights, "model"), strict=True)
    task.load_state_dict(_part(ckpt.weights, "task"), strict=True)
    torch.set_rng_state(ckpt.optimizer_tensors["rng.torch"])
    if "rng.task" in ckpt.optimizer_tensors and isinstance(task, Task):
        task.set_rng_state(ckpt.optimizer_tensors["rng.task"])


def load_checkpoint(
    path: str | Path, *, model: nn.Module, task: nn.Module, optimizer: torch.optim.Optimizer
) -> dict[str, Any]:
    """Restores model, task, optimizer and RNG from ``path``; returns ``state.json``'s dict.

    A checkpoint folder (``epoch-XXXX``) or a run folder containing ``LATEST`` is accepted.
    Everything is checked before anything is changed: a refused checkpoint leaves the model,
    task and optimizer as they were.
    """
    ckpt = read_checkpoint(path)
    apply_checkpoint(ckpt, model=model, task=task, optimizer=optimizer)
    return ckpt.state


def _owned(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Copies, not views of the file's map, of tensors a run keeps and writes into: load_file
    maps the file (copy-on-write), so views would alias it for the rest of the run (written
    into page by page, the file held open even once the run removes its folder). The views are
    dropped, which releases the map; the copies are the same bits."""
    return {k: v.clone(memory_format=torch.contiguous_format) for k, v in tensors.items()}


def load_model_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """The model weights (``model.*``) stored in checkpoint folder ``path``, owned (not views
    of the file: :func:`_owned`)."""
    try:
        weights = load_file(str(Path(path) / "weights.safetensors"))
    except (OSError, ValueError, SafetensorError) as err:
        raise ArtifactError(f"cannot read checkpoint weights in {path}: {err}") from None
    return _owned(_part(weights, "model"))


def load_best_weights(folder: str | Path) -> dict[str, torch.Tensor] | None:
    """The best epoch's model weights carried by checkpoint folder ``folder``
    (``best.safetensors``), or ``None`` when it carries none; owned (:func:`_owned`)."""
    p = Path(folder)
    if not (p / "best.safetensors").exists():
        return None
    try:
        weights = load_file(str(p / "best.safetensors"))
    except (OSError, ValueError, SafetensorError) as err:
        raise ArtifactError(f"cannot read the best weights in {p}: {err}; resume from another checkpoint") from None
    return _owned(_part(weights, "model"))


def _part(weights: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The ``prefix.*`` entries of a checkpoint's weights, without the prefix."""
    head = prefix + "."
    return {k[len(head):]: v for k, v in weights.items() if k.startswith(head)}

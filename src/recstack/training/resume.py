"""Resuming a run from a checkpoint: what may change and what may not.

Everything is read and checked (paths, ``state.json``, optimizer, config fingerprint, tensor
shapes, early-stopping settings, epochs) before the model, task or optimizer is touched, so a
refused resume leaves them as they were.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from recstack._atomic import write_text
from recstack.errors import ArtifactError, ConfigError
from recstack.training.checkpoint import (
    Checkpoint,
    check_fits,
    clear_checkpoints,
    epoch_dir,
    load_best_weights,
    load_model_weights,
    read_checkpoint,
    read_state,
    resolve_checkpoint,
)
from recstack.training.config import TrainConfig

__all__ = ["Resumed", "check_resume_path", "prepare_resume", "fingerprint_of", "tidy_run_folder"]

log = logging.getLogger(__name__)

WARN_ONLY = ("train.seed", "train.batch_size", "train.grad_clip", "train.eval_every")
"""Fingerprint keys whose change is allowed with a warning: training goes on, but the run no
longer matches an uninterrupted one. Any other difference refuses the resume."""


@dataclass
class Resumed:
    """Where a resumed run starts: the checkpoint (not yet applied) and the loop's state."""

    ckpt: Checkpoint
    history: list[dict[str, Any]]
    best_metric: float | None
    best_epoch: int | None
    bad_evals: int
    stopped_early: bool
    best_state: dict[str, torch.Tensor] | None = field(default=None, repr=False)


def fingerprint_of(sections: Mapping[str, Any] | None, cfg: TrainConfig) -> dict[str, Any]:
    """The flat ``{"model.embedding_dim": 8, ...}`` a checkpoint stores: ``sections`` (config
    sections and data sizes that must not change on resume) plus the train settings of
    :data:`WARN_ONLY`, whose change is allowed with a warning."""
    flat: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict) and value:
            for k, v in value.items():
                walk(f"{prefix}.{k}", v)
        else:
            flat[prefix] = value

    for name, value in (sections or {}).items():
        walk(name, json.loads(json.dumps(value, default=str)))  # as state.json will hold it
    for key in WARN_ONLY:  # the train settings a resume may change, with a warning
        flat[key] = getattr(cfg, key.removeprefix("train."))
    return flat


def _check_fingerprint(stored: dict[str, Any] | None, current: dict[str, Any], folder: Path) -> None:
    if stored is None:  # written before checkpoints had one: the shape check still applies
        return
    differ = sorted(k for k in stored.keys() | current.keys() if stored.get(k) != current.get(k))
    refused = [k for k in differ if k not in WARN_ONLY]
    if refused:
        data = " (the training data or its data.* settings changed)" if any(k.startswith("data.") for k in refused) else ""
        changes = "; ".join(f"{k} is {current.get(k)!r} now, {stored.get(k)!r} in the checkpoint" for k in refused)
        raise ArtifactError(f"checkpoint {folder} was written with another config: {changes}{data}; resume with "
                            "the checkpoint's settings, or train afresh without resuming")
    for k in differ:
        log.warning("resume from %s: %s is %r, the checkpoint's run used %r; training goes on, but the result "
                    "will not match an uninterrupted run", folder, k, current.get(k), stored.get(k))


def _early_stopping_state(ckpt: Checkpoint, cfg: TrainConfig) -> tuple[float | None, int | None, int]:
    """best_metric, best_epoch, bad_evals to go on with: the checkpoint's, unless they were
    measured with another early-stopping metric or mode (then reset: a best hit_rate cannot
    be compared with an mrr) or min_delta (then patience counts afresh)."""
    state, es = ckpt.state, cfg.early_stopping
    kept = state.get("best_metric"), state.get("best_epoch"), state.get("bad_evals", 0)
    stored = state.get("early_stopping")
    if es is None or stored is None:  # not watching now; or the old run watched nothing / did not say
        return kept
    if (stored["metric"], stored["mode"]) != (es.metric, es.mode):
        log.warning("resume from %s: train.early_stopping watches %s (%s) now, the checkpoint's run watched %s (%s); "
                    "its best epoch (%s) is forgotten and early stopping starts afresh from epoch %d, so restore_best "
                    "can only pick an epoch from here on", ckpt.folder, es.metric, es.mode, stored["metric"],
                    stored["mode"], state.get("best_epoch"), ckpt.epoch + 1)
        return None, None, 0
    if stored["min_delta"] != es.min_delta:
        log.warning("resume from %s: train.early_stopping.min_delta is %g now, the checkpoint's run used %g; the "
                    "best epoch (%s) is kept and patience counts afresh", ckpt.folder, es.min_delta,
                    stored["min_delta"], state.get("best_epoch"))
        return kept[0], kept[1], 0
    return kept


def _best_weights(ckpt: Checkpoint, best_epoch: int) -> dict[str, torch.Tensor] | None:
    """The best epoch's weights, for ``restore_best`` after a resume: the copy the resumed
    checkpoint carries (``best.safetensors``), else the best epoch's own checkpoint."""
    # owned copies (the loaders'): keep_best writes into them, and the run may remove the
    # checkpoint they were read from
    carried = load_best_weights(ckpt.folder)  # written with the resumed checkpoint: trusted first
    if carried is not None:
        return carried
    best = epoch_dir(ckpt.root, best_epoch)
    if (best / "weights.safetensors").exists():
        return load_model_weights(best)
    log.warning(
        "restore_best: no weights of the best epoch %d in %s (neither its own checkpoint nor a copy in "
        "the one resumed); the final weights are kept unless a later epoch improves", best_epoch, ckpt.root,
    )
    return None


def _check_settings(folder: Path, state: dict[str, Any], cfg: TrainConfig) -> None:
    written_by = state.get("optimizer_name", cfg.optimizer)
    if written_by != cfg.optimizer:
        raise ArtifactError(
            f"checkpoint {folder} was written with train.optimizer {written_by!r}, this run uses "
            f"{cfg.optimizer!r}; resume with the same optimizer or start afresh"
        )
    if state["epoch"] > cfg.epochs:
        raise ConfigError(f"checkpoint {folder} is at epoch {state['epoch']}, past train.epochs ({cfg.epochs}); "
                          f"a resumed run cannot go back: set train.epochs (--epochs) to {state['epoch']} or more, "
                          "or resume from an earlier epoch-NNNN folder")


def check_resume_path(path: str | Path, cfg: TrainConfig) -> Path:
    """The checkpoint folder ``path`` names, after the checks that need no data or model (the
    path, ``state.json``, optimizer, epochs): ``recstack train --resume`` runs them before it
    loads any data."""
    folder, _ = resolve_checkpoint(path)
    _check_settings(folder, read_state(folder), cfg)
    return folder


def prepare_resume(
    path: str | Path,
    cfg: TrainConfig,
    fingerprint: dict[str, Any],
    *,
    model: torch.nn.Module,
    task: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
) -> Resumed:
    """Reads and checks the checkpoint at ``path`` against this run; changes nothing.

    Apply it with :func:`recstack.training.checkpoint.apply_checkpoint` and ``checked=True``
    (:func:`check_fits` ran here) to the same, unchanged model, task and optimizer.
    """
    ckpt = read_checkpoint(path)
    state = ckpt.state
    _check_settings(ckpt.folder, state, cfg)
    _check_fingerprint(state.get("fingerprint"), fingerprint, ckpt.folder)
    check_fits(ckpt, model=model, task=task, optimizer=optimizer)
    best_metric, best_epoch, bad_evals = _early_stopping_state(ckpt, cfg)
    es = cfg.early_stopping
    best_state = None
    if es is not None and es.restore_best and best_epoch is not None:
        best_state = _best_weights(ckpt, best_epoch)
    stopped = es is not None and bad_evals >= es.patience  # the run had stopped early there
    return Resumed(ckpt, list(state.get("history", [])), best_metric, best_epoch, bad_evals, stopped, best_state)


def apply_config_hyperparameters(optimizer: torch.optim.Optimizer, cfg: TrainConfig, source: str | Path) -> None:
    """After a resume, ``train.lr`` and ``train.weight_decay`` win over the checkpoint's values.

    Loading an optimizer's state also loads its settings; a run resumed with a changed
    learning rate would otherwise keep the old one without a word.
    """
    for name, value in (("lr", cfg.lr), ("weight_decay", cfg.weight_decay)):
        old = {group[name] for group in optimizer.param_groups}
        if old != {value}:
            log.warning("resume from %s: train.%s is %g, the checkpoint used %s; continuing with %g",
                        source, name, value, ", ".join(f"{v:g}" for v in sorted(old)), value)
            for group in optimizer.param_groups:
                group[name] = value


def _checkpoints(n: int) -> str:
    return f"{n} checkpoint{'' if n == 1 else 's'}"


def tidy_run_folder(target: Path, resumed: Resumed | None, *, epochs_left: bool) -> None:
    """Makes ``target`` (the run's ``checkpoints`` folder) hold only this run's epochs.

    A fresh run, or a run resumed from another folder, removes every checkpoint there: a later
    resume would take an old run's epoch for its own. A run resumed in place removes the epochs
    after the resumed one (the abandoned future) and points ``LATEST`` at the resumed one. A
    resumed run with nothing left to train writes nothing, so it removes nothing.
    """
    if resumed is None:
        removed = clear_checkpoints(target)
        if removed:
            log.warning("removed %s of an earlier run from %s", _checkpoints(removed), target)
        return
    if not epochs_left:
        return
    ckpt = resumed.ckpt
    if target.resolve() == ckpt.root.resolve():
        removed = clear_checkpoints(target, after=ckpt.epoch)
        write_text(target / "LATEST", ckpt.folder.name)  # the resumed epoch is now the newest
        if removed:
            log.warning("removed %s of the abandoned epochs (after epoch %d) from %s", _checkpoints(removed),
                        ckpt.epoch, target)
    else:
        removed = clear_checkpoints(target)
        if removed:
            log.warning("removed %s of an earlier run from %s", _checkpoints(removed), target)

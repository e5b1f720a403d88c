"""The ``Trainer``: the only training loop in recstack."""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from recstack.data.batch import Batch
from recstack.data.dataset import BatchIterator, TensorDataset
from recstack.errors import ConfigError
from recstack.models.base import RecModel
from recstack.tasks.base import Task
from recstack.training.checkpoint import apply_checkpoint, epoch_dir, save_checkpoint
from recstack.training.config import TrainConfig
from recstack.training.divergence import check_finite, collapse_message
from recstack.training.history import History
from recstack.training.resume import apply_config_hyperparameters, fingerprint_of, prepare_resume, tidy_run_folder
from recstack.training.seed import seed_everything

__all__ = ["Trainer", "Evaluator", "Callback"]

log = logging.getLogger(__name__)

Evaluator = Callable[[RecModel], dict[str, float]]
"""Computes validation metrics of a model (e.g. full-catalogue hit_rate@100)."""
Callback = Callable[[dict[str, Any]], None]
"""Called with each epoch's history record."""


def keep_best(best: dict[str, torch.Tensor] | None, model: nn.Module) -> dict[str, torch.Tensor]:
    """``model``'s weights, kept as the best so far: written over ``best`` (the previous best's
    own copy) when it has the same names, shapes, dtypes and devices, so a run holds one copy of
    the best weights however often it improves; otherwise a new copy."""
    current = model.state_dict()
    if best is None or best.keys() != current.keys() or any(
            (best[k].shape, best[k].dtype, best[k].device) != (v.shape, v.dtype, v.device) for k, v in current.items()):
        return {k: v.detach().clone() for k, v in current.items()}
    with torch.no_grad():
        for k, v in current.items():
            best[k].copy_(v)
    return best


def make_optimizer(
    name: str,
    params: Sequence[nn.Parameter],
    lr: float,
    weight_decay: float,
    *,
    initial_accumulator: float = 0.0,
) -> torch.optim.Optimizer:
    """The optimizer called ``name`` (``adagrad``, ``adam``, ``adamw``, ``sgd``).

    ``initial_accumulator`` is Adagrad's starting accumulator as torch sees it (for the
    mean loss); see ``TrainConfig.adagrad_initial_accumulator`` for the summed-loss units.
    """
    if name == "adagrad":
        return torch.optim.Adagrad(
            params, lr=lr, weight_decay=weight_decay, initial_accumulator_value=initial_accumulator
        )
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay, momentum=0.9)
    raise ConfigError(f"train.optimizer: unknown {name!r}; one of adagrad, adam, adamw, sgd")


class Trainer:
    """Fits a model on a task: epochs, evaluation cadence, early stopping, checkpoints.

    Args:
        model: the model (``forward(batch) -> outputs``).
        task: the loss (``task.loss(outputs, batch)``).
        config: see :class:`TrainConfig`.
        run_dir: where checkpoints (``checkpoints/``) and ``history.csv/json`` go;
            ``None`` keeps everything in memory.
        callbacks: functions called with each epoch's record (loggers, plots, ...).
        fingerprint: what must not change when a run is resumed, stored in each checkpoint:
            config sections and data sizes by name, e.g. ``{"model": {...}, "task": {...},
            "data": {"training_rows": 2700}}``. A resume with any other value is refused,
            naming the key; the train settings of ``resume.WARN_ONLY`` are added and only warned about.

    Example:
        >>> trainer = Trainer(model, task, TrainConfig(epochs=3), run_dir="runs/x")  # doctest: +SKIP
        >>> history = trainer.fit(train_data, evaluator=evaluator)                    # doctest: +SKIP
    """

    def __init__(
        self,
        model: RecModel,
        task: Task,
        config: TrainConfig | None = None,
        *,
        run_dir: str | Path | None = None,
        callbacks: Sequence[Callback] = (),
        fingerprint: Mapping[str, Any] | None = None,
    ) -> None:
        self.model = model
        self.task = task
        self.config = config or TrainConfig()
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.callbacks = list(callbacks)
        self.fingerprint = dict(fingerprint or {})
        self.history = History()
        self.best_metric: float | None = None
        self.best_epoch: int | None = None
        self.stopped_early = False
        self.optimizer: torch.optim.Optimizer | None = None  # the last fit's

    def fit(
        self,
        train: TensorDataset,
        *,
        evaluator: Evaluator | None = None,
        resume_from: str | Path | None = None,
    ) -> History:
        """Trains for ``config.epochs`` (or until early stopping) and returns the history."""
        cfg = self.config
        es = cfg.early_stopping
        if es is not None and (evaluator is None or cfg.eval_every == 0):
            raise ConfigError("train.early_stopping needs validation data and eval_every >= 1")
        seed_everything(cfg.seed)
        self.history, self.best_metric, self.best_epoch, self.stopped_early = History(), None, None, False
        params = [p for p in self.model.parameters() if p.requires_grad]
        batch = min(cfg.batch_size, len(train))  # the loss is a mean over this many rows
        optimizer = make_optimizer(
            cfg.optimizer, params, cfg.lr, cfg.weight_decay,
            initial_accumulator=cfg.adagrad_initial_accumulator / batch**2,
        )
        self.optimizer = optimizer
        batches = BatchIterator(train, cfg.batch_size, shuffle=True, seed=cfg.seed)
        fingerprint = fingerprint_of(self.fingerprint, cfg)
        start_epoch = 1
        best_state: dict[str, torch.Tensor] | None = None
        bad_evals = 0
        resumed = None
        if resume_from is not None:  # everything is checked before the model is touched
            resumed = prepare_resume(resume_from, cfg, fingerprint, model=self.model, task=self.task,
                                     optimizer=optimizer)
            apply_checkpoint(resumed.ckpt, model=self.model, task=self.task, optimizer=optimizer,
                             checked=True)  # prepare_resume ran check_fits on these
            apply_config_hyperparameters(optimizer, cfg, resumed.ckpt.folder)
            start_epoch = resumed.ckpt.epoch + 1
            self.history = History(resumed.history)
            self.best_metric, self.best_epoch, bad_evals = resumed.best_metric, resumed.best_epoch, resumed.bad_evals
            best_state = resumed.best_state
            batches.set_epoch(resumed.ckpt.epoch)
            if resumed.stopped_early:
                self.stopped_early = True
                start_epoch = cfg.epochs + 1
        if self.run_dir is not None:
            tidy_run_folder(self.run_dir / "checkpoints", resumed, epochs_left=start_epoch <= cfg.epochs)
            if not cfg.checkpoint_every:
                log.warning("train.checkpoint_every is 0: no checkpoints are written to %s, so this run cannot be "
                            "resumed; set it to 1 or more to keep checkpoints", self.run_dir / "checkpoints")
        es_settings = None if es is None else {"metric": es.metric, "mode": es.mode, "min_delta": es.min_delta}
        collapse_warned = False
        for epoch in range(start_epoch, cfg.epochs + 1):
            record, last_batch = self._train_epoch(epoch, batches, optimizer)
            # a diverged model is never evaluated or saved; a collapse is looked for until warned of
            constant = check_finite(self.model, last_batch, epoch, collapse=not collapse_warned)
            if constant and not collapse_warned:  # once: a collapsed MLP stays so
                log.warning(collapse_message(constant, epoch))
                collapse_warned = True
            if evaluator is not None and cfg.eval_every and epoch % cfg.eval_every == 0:
                t0 = time.perf_counter()
                self.model.eval()
                with torch.no_grad():
                    metrics = evaluator(self.model)
                record["val/seconds"] = round(time.perf_counter() - t0, 4)
                record.update({f"val/{k}": v for k, v in metrics.items()})
                if es is not None:
                    value = metrics.get(es.metric)
                    if value is None:
                        raise ConfigError(
                            f"train.early_stopping.metric: {es.metric!r} is not computed; "
                            f"available: {sorted(metrics)}"
                        )
                    if self._improved(value):
                        self.best_metric, self.best_epoch, bad_evals = value, epoch, 0
                        if es.restore_best:
                            best_state = keep_best(best_state, self.model)
                    else:
                        bad_evals += 1
            self.history.append(record)
            if cfg.progress:
                print(_summary(record, cfg.epochs), file=sys.stderr, flush=True)
            for cb in self.callbacks:
                cb(record)
            if self.run_dir is not None:
                self.history.write(self.run_dir)
                if cfg.checkpoint_every and epoch % cfg.checkpoint_every == 0:
                    extra = {"history": self.history.to_list(), "best_metric": self.best_metric,
                             "best_epoch": self.best_epoch, "bad_evals": bad_evals, "optimizer_name": cfg.optimizer,
                             "early_stopping": es_settings, "fingerprint": fingerprint}
                    # the best epoch without a checkpoint of its own: its weights travel along, so a
                    # resumed run restores the same weights as an uninterrupted one
                    unsaved_best = (best_state is not None and self.best_epoch is not None and not (
                        epoch_dir(self.run_dir / "checkpoints", self.best_epoch) / "weights.safetensors").exists()
                        and self.best_epoch != epoch)
                    save_checkpoint(self.run_dir / "checkpoints", epoch=epoch, model=self.model,
                                    task=self.task, optimizer=optimizer, extra=extra,
                                    best_weights=best_state if unsaved_best else None)
            if es is not None and bad_evals >= es.patience:
                self.stopped_early = True
                kept = "its weights restored" if es.restore_best else "the last weights kept"
                if self.best_epoch is None or self.best_metric is None:
                    message = (f"early stopping at epoch {epoch}: no evaluation gave a finite val/{es.metric} "
                               "(the last weights kept)")
                else:
                    message = (f"early stopping at epoch {epoch}: best val/{es.metric} {self.best_metric:.4f} "
                               f"at epoch {self.best_epoch} ({kept})")
                log.info(message)
                if cfg.progress:
                    print(message, file=sys.stderr, flush=True)
                watched = self.history.metric(f"val/{es.metric}")
                if len(watched) > 1 and len(set(watched)) == 1:  # nothing to tell the epochs apart by
                    log.warning("early stopping: val/%s was %s at every evaluation, so it could not tell the epochs "
                                "apart and the run stopped after %d of %d epochs; watch a metric that moves (a "
                                "larger K) or give validation more rows (data.validation_fraction)",
                                es.metric, watched[0], epoch, cfg.epochs)
                break
        if best_state is not None and es is not None and es.restore_best:
            self.model.load_state_dict(best_state)
        self.model.eval()
        return self.history

    def _improved(self, value: float) -> bool:
        es = self.config.early_stopping
        assert es is not None
        if self.best_metric is None or math.isnan(self.best_metric):
            return not math.isnan(value)
        if es.mode == "max":
            return value > self.best_metric + es.min_delta
        return value < self.best_metric - es.min_delta

    def _train_epoch(
        self, epoch: int, batches: BatchIterator, optimizer: torch.optim.Optimizer
    ) -> tuple[dict[str, Any], Batch | None]:
        """One pass over the data: the epoch's record, and its last full-size (prepared) batch."""
        cfg = self.config
        self.model.train()
        total, rows = 0.0, 0
        last: Batch | None = None
        t0 = time.perf_counter()
        live = cfg.progress and sys.stderr.isatty()  # carriage-return updates only garble a log file
        bar = tqdm(batches, desc=f"epoch {epoch}/{cfg.epochs}", disable=not live, leave=False)
        for batch in bar:
            batch = self.task.prepare_batch(batch)
            loss = self.task.loss(self.model(batch), batch)
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"loss became {loss.item()} at epoch {epoch}; lower train.lr, set train.grad_clip or raise "
                    "task.temperature"
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.grad_clip is not None:
                nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
            optimizer.step()
            n = len(batch)
            total += loss.item() * n
            rows += n
            bar.set_postfix(loss=f"{total / rows:.4f}")
            if last is None or n >= len(last):  # a full-size batch: a remainder of 1 row shows no collapse
                last = batch
        seconds = time.perf_counter() - t0
        return {
            "epoch": epoch,
            "train/loss": total / max(rows, 1),
            "train/seconds": round(seconds, 4),
            "train/examples_per_sec": round(rows / seconds, 1) if seconds > 0 else 0.0,
        }, last


def _summary(record: dict[str, Any], epochs: int) -> str:
    """One line per epoch, e.g. ``epoch 3/10  loss 6.1234  val/hit_rate@100 0.4012  2.1s``."""
    parts = [f"epoch {record['epoch']}/{epochs}", f"loss {record['train/loss']:.4f}"]
    parts += [f"{k} {v:.4f}" for k, v in record.items() if k.startswith("val/") and k != "val/seconds"]
    seconds = record["train/seconds"] + record.get("val/seconds", 0.0)
    return "  ".join(parts + [f"{seconds:.1f}s"])

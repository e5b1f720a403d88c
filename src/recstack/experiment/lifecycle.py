"""What an experiment's weights have been through, and the errors and warnings that follow.

A :class:`~recstack.experiment.RetrievalExperiment` is trained once: a second ``fit()`` would
go on from the trained weights with a new optimizer (Adagrad's accumulators reset) and number
its epochs from 1 again, so it is refused; saving or serving a model that was never trained is
refused too, while evaluating one warns (an untrained baseline is a legitimate measurement).
Weights changed outside ``fit()`` (a Trainer of one's own on ``exp.model``, ``load_state_dict``)
count as trained: each parameter's in-place version counter is compared with the one it had
when the model was built.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from torch import nn

from recstack.errors import AlreadyFittedError, NotFittedError, RecstackError

__all__ = ["FitState"]

log = logging.getLogger("recstack.experiment.retrieval")


@dataclass
class FitState:
    """Whether ``fit()`` ran: ``epochs`` trained by a finished fit (``None``: none finished);
    ``touched``: a fit changed the weights (finished, or stopped after training began)."""

    epochs: int | None = None
    touched: bool = False
    warned_untrained: bool = False
    start: tuple[int, ...] | None = None  # the parameters' in-place versions when the model was built
    run_dir: Path | None = None  # the last fit's run folder (its checkpoints), if any

    def watch(self, model: nn.Module) -> None:
        """Notes ``model``'s weights as built, to tell later whether anything changed them."""
        self.start = _versions(model)

    def _trained(self, model: nn.Module | None) -> bool:
        """A finished fit, or weights changed since :meth:`watch` by something else."""
        return self.epochs is not None or (model is not None and self.start is not None
                                           and _versions(model) != self.start)

    def before_fit(self, resume_from: str | Path | None, configured: int, run_dir: Path | None) -> None:
        """Refuses a second ``fit()`` without ``resume_from`` (a resume restores the weights,
        the optimizer and the history from its checkpoint, so it may follow anything)."""
        self.run_dir = run_dir
        if resume_from is not None or not self.touched:
            return
        done = (f"is already trained ({self.epochs} epochs; train.epochs is {configured})" if self.epochs is not None
                else "was changed by an earlier fit() that did not finish")
        where = (f"its checkpoints in {run_dir / 'checkpoints'}" if run_dir is not None else
                 "the checkpoints of a run that keeps them (RetrievalExperiment(config, run_dir=...))")
        raise AlreadyFittedError(
            f"fit: this experiment {done}; a second fit() would go on from these weights with a new optimizer "
            "and count its epochs from 1 again. To train longer, set train.epochs higher and resume from "
            f"{where}: fit(resume_from=...) on a new RetrievalExperiment, or `recstack train --resume`; to train "
            "from scratch, build a new RetrievalExperiment"
        )

    def after_fit(self, epochs: int) -> None:
        """Records a finished fit of ``epochs`` epochs."""
        self.epochs, self.touched = epochs, True

    def failed_fit(self, err: BaseException, epochs_recorded: int) -> None:
        """Records a fit that raised: the weights count as changed unless it was refused by a
        recstack check before any epoch was recorded (a bad path, a config error)."""
        if epochs_recorded > 0 or not isinstance(err, RecstackError):
            self.touched = True

    def require_fitted(self, action: str, model: nn.Module | None = None) -> None:
        """Raises :class:`NotFittedError` for ``action`` (e.g. ``"save"``) before a finished fit,
        unless ``model``'s weights were changed some other way."""
        if self._trained(model) and not (self.epochs is None and self.touched):
            return
        if self.touched:  # stopped part-way: some epochs may have trained, but not the run configured
            where = ("resume it from its checkpoints (fit(resume_from=...) on a new RetrievalExperiment)"
                     if self.run_dir is not None else "its run kept no checkpoints, so build a new "
                     "RetrievalExperiment and fit() it (with run_dir=... to keep checkpoints)")
            raise NotFittedError(f"{action}: this experiment's fit() stopped part-way, so its weights are not the "
                                 f"trained model's; {where}")
        raise NotFittedError(f"{action}: this experiment's model is not trained (call fit() first); its weights "
                             "would be the random initial ones")

    def warn_if_untrained(self, model: nn.Module | None = None) -> None:
        """Warns once that metrics of a never-trained model are an untrained baseline."""
        if not self._trained(model) and not self.warned_untrained:
            self.warned_untrained = True
            log.warning("evaluate: this experiment is not trained (fit() has not finished), so these metrics are "
                        "those of its random initial weights: an untrained baseline")


def _versions(model: nn.Module) -> tuple[int, ...]:
    """Each parameter's in-place version counter (an optimizer step or a ``copy_`` raises it)."""
    return tuple(p._version for p in model.parameters())

"""Batch sizes that would train nothing."""

from __future__ import annotations

import logging

from recstack.errors import ConfigError

__all__ = ["check_batch_size"]

log = logging.getLogger(__name__)


def check_batch_size(batch_size: int, rows: int, *, in_batch_only: bool) -> None:
    """With only in-batch negatives (``task.candidates: in_batch``, no ``task.num_negatives``),
    a batch of one row has no negatives: its loss is 0 and it trains nothing. Such batches
    throughout are a :class:`ConfigError`; a last batch of one row is a warning."""
    if not in_batch_only:
        return  # catalogue or sampled negatives: every row has some
    if min(batch_size, rows) < 2:
        raise ConfigError(f"train.batch_size: {min(batch_size, rows)} row per batch ({rows} training rows, batch_size "
                          f"{batch_size}) leaves the in-batch softmax without negatives, so the loss is 0 and nothing "
                          "trains; use train.batch_size >= 2 (hundreds train well), or sampled negatives "
                          "(task.num_negatives) or task.candidates: catalogue")
    if rows % batch_size == 1:
        other = next(b for b in range(batch_size + 1, rows + 1) if rows % b != 1)
        log.warning("train.batch_size %d leaves the last batch of each epoch with 1 of the %d training rows: it has "
                    "no in-batch negatives, so it adds a loss of 0 to the epoch's mean and trains nothing; a "
                    "batch_size that does not leave a remainder of 1 (e.g. %d) avoids it", batch_size, rows, other)

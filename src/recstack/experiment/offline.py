"""Offline evaluation of a saved model on a raw table (``recstack evaluate``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from recstack.artifacts.recommender import Recommender
from recstack.errors import SchemaError
from recstack.metrics import positive_ranks, topk_metrics
from recstack.preprocessing.keys import key_codes, require_ids, require_items
from recstack.tasks.retrieval_eval import warn_if_tied

__all__ = ["evaluate_recommender"]

logger = logging.getLogger(__name__)
EVAL_CHUNK = 16384  # evaluation rows ranked at once (bounds the exclusion lists)


def evaluate_recommender(
    rec: Recommender,
    table: pd.DataFrame,
    *,
    metrics: Sequence[str],
    exclude_seen: bool = False,
    cold_start: str = "average",
    ties: str = "optimistic",
) -> dict[str, float]:
    """Full-catalogue metrics of ``rec`` on raw interaction rows.

    ``table`` needs the query column (e.g. ``user_id``) and the candidate key column; other
    query feature columns are taken from the table when present, else from the users
    seen in training (users unknown there are answered per ``cold_start``, as
    :meth:`Recommender.recommend` would). Items not in the catalogue count as misses.
    ``ties``: the positive's place among equal scores (``recstack.metrics.TIES``).
    """
    key = rec.preprocessor.schema[rec.model.candidate_key].source_column
    for col in (rec.query_column, key):
        if col not in table.columns:
            raise SchemaError(f"evaluation table lacks column {col!r}; columns: {sorted(table.columns)}")
    require_items(table, key, "evaluation data")  # as training does
    # query columns the table has are used, per cell; the rest come from the stored users
    qcols = [c for c in table.columns if c != key]
    qtable, pos, q = rec._queries(table[qcols], cold_start)
    positives = torch.as_tensor(rec._cand_pos.positions(table[key], column=key), dtype=torch.long)
    unknown = int((positives < 0).sum())
    if unknown:
        logger.warning("evaluation data: %d of %d rows have a %s not in the catalogue; they count as misses "
                       "(check the separator, --names and the ID spelling if that is unexpected)",
                       unknown, len(table), key)
    groups = require_ids(key_codes(table[rec.query_column], column=rec.query_column)[0], rec.query_column)
    plan = rec._exclusion_plan("seen" if exclude_seen else None)
    ranks = torch.full_like(positives, len(rec.candidate_ids))
    rows = np.flatnonzero((positives >= 0).numpy())
    if rows.size:
        warn_if_tied(q[rows], rec.index.embeddings, positives[rows], ties)
    for start in range(0, rows.size, EVAL_CHUNK):  # exclusion lists exist one chunk at a time
        r = rows[start : start + EVAL_CHUNK]
        ex = None if plan is None else rec._exclusion_rows(qtable.iloc[r].reset_index(drop=True), pos[r], *plan)
        ranks[r] = positive_ranks(q[r], rec.index.embeddings, positives[r], exclude=ex, ties=ties)
    return topk_metrics(ranks, metrics=list(metrics), groups=groups, num_candidates=len(rec.candidate_ids))


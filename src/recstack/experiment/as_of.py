"""A saved model's evaluation rows as of their time (``data.history.eval_history: before``):
the history column and the seen items rebuilt from the model's training timeline, so
``recstack evaluate`` reports what training's test reported."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import torch

from recstack.artifacts.recommender import Recommender
from recstack.artifacts.requests import history_exclusion
from recstack.config.data import DataConfig
from recstack.errors import ArtifactError
from recstack.experiment.eval_history import earlier_items, evaluation_histories
from recstack.metrics.exclusion import concat_rows

__all__ = ["as_of_rows", "saved_data_config"]

_WHERE = "the evaluation data"


def saved_data_config(rec: Recommender) -> DataConfig | None:
    """The ``data`` section the model was trained with (``None`` for a model saved without one)."""
    data = (rec.metadata.get("experiment") or {}).get("data")
    if not isinstance(data, Mapping):
        return None
    try:
        return DataConfig.model_validate(data)
    except (ValueError, TypeError) as err:
        raise ArtifactError(f"the model's data section in recstack.json is malformed ({err}); "
                            "re-export the model") from None


def as_of_rows(rec: Recommender, table: pd.DataFrame, *, exclude_seen: bool
               ) -> tuple[pd.DataFrame, tuple[torch.Tensor, torch.Tensor] | None]:
    """``(table, exclude_rows)`` for a model trained with ``eval_history: before``: the table
    with each row's history built from the training items earlier than the row (when the model
    reads it and the table lacks it), and with ``exclude_seen`` the CSR of what each row's user
    had seen by then (for :meth:`Recommender.rank`'s ``exclude_rows``, instead of the whole
    profile ``"seen"`` gives). Any other model: ``(table, None)``."""
    data = saved_data_config(rec)
    hist = data.history if data is not None else None
    if data is None or hist is None or hist.eval_history != "before":
        return table, None
    if rec.timeline is None or rec.known_queries is None:
        raise ArtifactError("the model was trained with data.history.eval_history: before but keeps no training "
                            "timeline (candidates.safetensors); re-export the model")
    assert data.time_column is not None  # eval_history: before needs mode before, hence times
    reference = rec.timeline.reference(rec.known_queries[rec.query_column], rec.candidate_ids,
                                       user=data.user_column, item=data.item_column, time=data.time_column)
    given = hist.column in table.columns
    if not given and rec.history_column in rec.preprocessor.schema.columns_of(rec.query_features):
        table = evaluation_histories(data, table, reference, where=_WHERE, saved=True)
    if not exclude_seen:
        return table, None
    schema, features = rec.preprocessor.schema, rec.query_features
    seen = history_exclusion(earlier_items(data, table, reference, where=_WHERE), schema, features,
                             rec.catalogue_rows)
    if given:  # a given history may hold items training lacks
        seen = concat_rows([seen, history_exclusion(table[hist.column], schema, features, rec.catalogue_rows)])
    return table, seen

"""Which candidates a request excludes: named IDs, each known user's training items, and the
items of a history given in the row (``exclude="seen"``), one chunk of queries at a time."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import torch

from recstack.artifacts.requests import history_exclusion, id_list
from recstack.errors import ConfigError
from recstack.metrics import ExclusionLists
from recstack.preprocessing import Preprocessor
from recstack.preprocessing.keys import KeyIndex

__all__ = ["Exclusions"]

logger = logging.getLogger("recstack.artifacts.recommender")  # the Recommender's messages, as before


class Exclusions:
    """Which candidates a request excludes, for :class:`~recstack.artifacts.recommender.Recommender`.

    Args:
        preprocessor: the fitted feature state (how history cells are split).
        seen: CSR ``(offsets over the known users, candidate rows)`` of each known user's
            training items, or None.
        candidates: the candidates' raw IDs by canonical key.
        query_features: the model's query features.
        history_column: the query column listing a user's past candidates, if any.
    """

    def __init__(self, *, preprocessor: Preprocessor, seen: tuple[torch.Tensor, torch.Tensor] | None,
                 candidates: KeyIndex, query_features: list[str], history_column: str | None) -> None:
        self.preprocessor = preprocessor
        self.seen = seen
        self._cand_pos = candidates
        self.query_features = query_features
        self.history_column = history_column

    def plan(self, exclude: Any) -> tuple[np.ndarray, bool] | None:
        """``exclude`` checked once per request: the catalogue rows it names, and whether it
        asks for each user's seen items. It may be ``"seen"`` (the user's training items plus
        the items of a history given in the row), a raw ID or a list of them (for every query), or both
        (a list holding ``"seen"``, when no candidate is named ``"seen"``); :meth:`rows`
        turns it into the CSR of one chunk of queries."""
        if exclude is None:
            return None
        ids = [exclude] if isinstance(exclude, str) else id_list(exclude, "exclude")
        found = self._cand_pos.positions(ids, column="exclude")
        is_seen = np.array([isinstance(v, str) and v == "seen" for v in ids], dtype=bool) & (found < 0)
        if isinstance(exclude, str) and not is_seen.any() and found[0] < 0:  # a string ID of the catalogue is one ID
            raise ConfigError(f"exclude must be 'seen', an item ID, a list of item IDs or None; got {exclude!r}, "
                              "which is no candidate ID")
        missing = (found < 0) & ~is_seen
        if missing.any():
            logger.warning("exclude: %d of %d IDs are not in the catalogue and exclude nothing (e.g. %s)",
                           int(missing.sum()), len(ids), [ids[i] for i in np.flatnonzero(missing)[:5]])
        return found[found >= 0], bool(is_seen.any())

    def lists(self, table: pd.DataFrame, pos: np.ndarray, listed: np.ndarray, seen: bool) -> ExclusionLists:
        """The exclusion lists of the request's rows (``table``, their known positions ``pos``)
        for a plan of :meth:`plan`: each known user's training items kept once per user, the
        items of each row's given history, and the named IDs; expanded for a block of rows at a
        time (:meth:`ExclusionLists.rows`)."""
        history, col = None, self.history_column
        if seen and col is not None and col in table.columns:
            history = history_exclusion(table[col], self.preprocessor.schema, self.query_features,
                                        lambda flat: self._cand_pos.positions(flat, column=col))
        return ExclusionLists(per_group=self.seen if seen and self.seen is not None else None,
                              row_groups=torch.as_tensor(pos, dtype=torch.long), per_row=history,
                              everywhere=torch.as_tensor(listed, dtype=torch.long))

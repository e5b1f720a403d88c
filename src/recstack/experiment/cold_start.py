"""Query features of evaluation rows, some of which are cold starts answered with the average
known query: those rows are not transformed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from recstack.preprocessing import Preprocessor

__all__ = ["warm_query_features"]


def warm_query_features(preprocessor: Preprocessor, features: list[str], table: pd.DataFrame,
                        cold: torch.Tensor | None, known: dict[str, torch.Tensor] | None) -> dict[str, torch.Tensor]:
    """The query ``features`` of ``table``'s rows. Cold rows (``cold``: a bool mask, answered with
    the average of the ``known`` users' queries) are not transformed, so a feature without a
    fill does not fail on them, as in :meth:`Recommender.rank`; they hold another row's
    features, which are never read."""
    if cold is None or known is None or not bool(cold.any()):
        return preprocessor.transform(table, features=features)
    warm = np.flatnonzero(~cold.numpy())
    if warm.size == 0:  # every row cold: the first known user's features, as placeholders
        return {k: v[:1].expand(len(table), *v.shape[1:]).contiguous() for k, v in known.items()}
    part = preprocessor.transform(table.iloc[warm].reset_index(drop=True), features=features)
    take = torch.as_tensor(np.searchsorted(warm, np.arange(len(table))).clip(max=len(warm) - 1))
    return {k: v.index_select(0, take) for k, v in part.items()}

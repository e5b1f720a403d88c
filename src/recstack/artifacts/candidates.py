"""Raw candidate rows (items described by their features, e.g. a new movie's genres) made into
candidate vectors through a saved model's preprocessor and candidate tower."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from recstack.artifacts.queries import embed_rows, fill_missing, warn_unused_columns
from recstack.artifacts.requests import lacking_rows
from recstack.artifacts.requests import mapping_rows, rows_table
from recstack.errors import ConfigError
from recstack.models.two_tower import TwoTower
from recstack.preprocessing import Preprocessor
from recstack.preprocessing._cells import exact_integers

__all__ = ["CandidateRows"]

logger = logging.getLogger("recstack.artifacts.recommender")  # one logger for what a Recommender tells


class CandidateRows:
    """The candidate half of scoring rows that are not catalogue IDs.

    A row is embedded from the features it gives, never from the catalogue: a row whose key is
    a catalogue ID but whose features differ is scored from the given features. Absent columns
    are missing cells, completed as query rows are (``data.defaults``, else an empty set or
    history, the feature's fill or OOV, else the preprocessor's error naming the column), with a
    warning; unseen values take the OOV rows.
    """

    def __init__(self, *, model: TwoTower, preprocessor: Preprocessor, integer_keys: bool = False) -> None:
        self.model = model
        self.preprocessor = preprocessor
        self.features = list(model.config.candidate)
        self.key_column = preprocessor.schema[model.candidate_key].source_column
        self.integer_keys = integer_keys  # the catalogue's IDs are integers: echo 2.0 (a float column) as 2

    @staticmethod
    def given_as_rows(candidates: Any) -> bool:
        """Whether ``candidates`` are rows (a DataFrame, a row dict, a list of row dicts), not IDs."""
        if isinstance(candidates, (pd.DataFrame, Mapping)):
            return True
        if isinstance(candidates, (str, bytes)) or not isinstance(candidates, Sequence) or not len(candidates):
            return False
        rows = mapping_rows(candidates)
        if rows.any() and not rows.all():
            raise ConfigError("candidates mix raw IDs and row dicts; give all IDs or all rows (e.g. {'item_id': 2})")
        return bool(rows.all())

    def table(self, candidates: Any) -> pd.DataFrame:
        """The rows as a table, each row as given (no catalogue lookup)."""
        if isinstance(candidates, pd.DataFrame):
            table = candidates.reset_index(drop=True)
        else:
            table = rows_table([candidates] if isinstance(candidates, Mapping) else candidates)
        if len(table) == 0:
            raise ConfigError("no candidates given")
        warn_unused_columns(set(map(str, table.columns)), self.preprocessor, self.features, "candidate rows")
        schema = self.preprocessor.schema
        read = sorted({str(c) for c in schema.columns_of(self.features)} - {str(self.key_column)})
        lacking = lacking_rows(table, read)
        if lacking.any():  # a row with only an ID is not the catalogue item: nothing is looked up by ID
            logger.warning("candidate rows: %d of %d rows lack some of the columns %s, which the candidate tower "
                           "reads; those features count as missing (data.defaults, else an empty set or history, "
                           "the feature's fill or its OOV row): give every column, or score catalogue items by ID",
                           int(lacking.sum()), len(table), read)
        return table

    def embed(self, table: pd.DataFrame) -> torch.Tensor:
        """``(n, d)`` candidate vectors of the rows, in chunks (bounded memory)."""
        table = fill_missing(table.copy(), self.preprocessor, self.features)
        return embed_rows(table, self.preprocessor, self.features, self.model.candidate_embedding).float()

    def labels(self, table: pd.DataFrame) -> dict[str, np.ndarray]:
        """Output columns naming each row: its key as given; when a row has none, every row also
        gets its position in the request (``candidate_row``), and the key stays empty."""
        if self.key_column not in table.columns:
            return {self.key_column: np.full(len(table), None, dtype=object), "candidate_row": np.arange(len(table))}
        keys = table[self.key_column]
        labels = {self.key_column: self._echo(keys)}
        if keys.isna().any():
            labels["candidate_row"] = np.arange(len(table))
        return labels

    def _echo(self, keys: pd.Series) -> np.ndarray:
        """The keys as given, but a whole float below 2**53 (pandas makes an integer column float
        when a row has no key) as the integer it is when the catalogue's IDs are integers."""
        out = keys.to_numpy(dtype=object).copy()
        if not self.integer_keys or not pd.api.types.is_float_dtype(keys.dtype):
            return out
        f = keys.to_numpy(dtype=np.float64)
        whole = np.flatnonzero(exact_integers(f))
        out[whole] = [int(v) for v in f[whole]]
        return out

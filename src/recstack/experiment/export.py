"""What a trained experiment stores in its artifact besides the weights: one query row per
known user, the users-table rows of users training never saw, and where the side tables came
from (so ``recstack evaluate`` joins an evaluation file as training did)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from recstack.config.experiment import ExperimentConfig
from recstack.data import add_history
from recstack.artifacts.context import PER_INTERACTION
from recstack.artifacts.timeline import Timeline
from recstack.experiment.catalogue import Catalogue
from recstack.experiment.checks import varying_query_columns
from recstack.experiment.tables import Tables
from recstack.features import Schema
from recstack.metrics import ExclusionLists, build_exclusion
from recstack.preprocessing.keys import KeyIndex, key_codes, one_row_per_key

__all__ = ["StoredUsers", "artifact_metadata", "seen_items", "seen_lists", "stored_query_rows", "users_table_rows"]

log = logging.getLogger("recstack.experiment.retrieval")  # the experiment's messages, as before


def stored_query_rows(table: pd.DataFrame, config: ExperimentConfig, schema: Schema,
                      query_features: Sequence[str], *,
                      varying: dict[str, tuple[str, int, int]] | None = None) -> pd.DataFrame:
    """One raw row per user of ``table`` with the query features' columns: the user's latest
    row by ``data.time_column`` (else the last in the table); histories are built from the
    same table. Its ``attrs["per_interaction"]`` lists the query columns whose values differ
    between a user's rows (saved with the rows), so serving can say when a request lacks them;
    ``varying``: :func:`~recstack.experiment.checks.varying_query_columns` of ``table`` when it was
    computed already (the start-up check's, for the training table), else it is computed here."""
    user = config.data.user_column
    cols = list(dict.fromkeys([user] + schema.columns_of(query_features)))
    hist = config.data.history
    base_cols = [c for c in cols if hist is None or c != hist.column]
    time = config.data.time_column
    if time is not None and time in table.columns:  # the latest row by time (ties: the later in the table)
        try:  # a row without a time counts as the oldest
            order = table[time].reset_index(drop=True).sort_values(kind="stable", na_position="first").index
        except TypeError:
            log.warning("data.time_column %r holds values that cannot be ordered (mixed types); each user's "
                        "stored row is their last in the table", time)
            order = pd.RangeIndex(len(table))
        order = np.asarray(order)
        latest = order[one_row_per_key(table[user].iloc[order], keep="last", column=user)]
        last = table.iloc[np.sort(latest)]
    else:
        last = table[one_row_per_key(table[user], keep="last", column=user)]
    last = last[base_cols].reset_index(drop=True)
    if hist is not None and hist.column in cols:
        last = add_history(last, **config.data.history_args(), reference=table)[cols]
    if varying is None:
        varying = varying_query_columns(table, schema, list(query_features), user,
                                        None if hist is None else hist.column)
    last.attrs[PER_INTERACTION] = sorted({col for col, _, _ in varying.values()})  # serving warns when left out
    return last


@dataclass(frozen=True)
class StoredUsers:
    """What a trained model keeps about its users: built once per experiment and shared by the
    in-memory :class:`~recstack.artifacts.recommender.Recommender` (a :meth:`copy`), the saved
    artifact and evaluation on the training users (``seen``, read only: :func:`seen_lists`).

    Attributes:
        known: one raw query row per training user (:func:`stored_query_rows`).
        seen: CSR ``(offsets (len(known)+1,), catalogue rows)`` of each known user's training items.
        side: users-table rows of users training never saw (:func:`users_table_rows`), or None.
        timeline: each known user's training items with their times (``data.history.eval_history:
            before``, for ``recstack evaluate``), or None.
    """

    known: pd.DataFrame
    seen: tuple[torch.Tensor, torch.Tensor]
    side: pd.DataFrame | None
    timeline: Timeline | None = None

    def copy(self) -> StoredUsers:
        """Copies a caller may change without changing these: each Recommender gets its own, and a
        later save writes the originals. Deep, array cells of object columns (a history that could
        not be an Arrow list) included: nothing relies on copy on write."""
        return StoredUsers(known=deep_copy_rows(self.known), seen=(self.seen[0].clone(), self.seen[1].clone()),
                           side=None if self.side is None else deep_copy_rows(self.side),
                           timeline=None if self.timeline is None else self.timeline.copy())


def deep_copy_rows(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with nothing shared: pandas' deep copy leaves the arrays inside object cells
    shared, so those (only object columns; Arrow list cells are read afresh) are copied too."""
    out = table.copy(deep=True)
    for name in out.columns[out.dtypes == object]:
        cells = out[name].to_numpy()
        mutable = np.fromiter((isinstance(c, (np.ndarray, list)) for c in cells), dtype=bool, count=len(cells))
        if mutable.any():
            cells = cells.copy()
            for j in np.flatnonzero(mutable):  # one by one: numpy would stack equal-length arrays
                cells[j] = cells[j].copy()
            out[name] = pd.Series(cells, index=out.index, dtype=object)
    return out


def seen_items(users: pd.Series, train: pd.DataFrame, user: str, key_col: str,
               catalogue: Catalogue) -> tuple[torch.Tensor, torch.Tensor]:
    """CSR over ``users`` (distinct raw IDs: the stored users' column) of each one's catalogue
    rows in ``train`` (``exclude="seen"``); rows whose user or item is not there are left out."""
    _, train_codes = key_codes(users, train[user], column=user)
    return _seen_csr(train_codes, len(users), train[key_col], catalogue)


def _seen_csr(codes: np.ndarray, users: int, items: pd.Series, catalogue: Catalogue
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """CSR over user codes ``0..users-1`` of the catalogue rows of ``items``, row ``i`` of the
    training table being user ``codes[i]`` (``-1``, or an item outside the catalogue: left out)."""
    rows = torch.as_tensor(catalogue.rows_of(items), dtype=torch.long)
    at = torch.as_tensor(codes)
    ok = (rows >= 0) & (at >= 0)
    return build_exclusion(torch.arange(users), at[ok], rows[ok])


def seen_lists(rows: pd.Series, train: pd.DataFrame, user: str, key_col: str, catalogue: Catalogue, *,
               stored: tuple[pd.Series, tuple[torch.Tensor, torch.Tensor]] | None = None,
               codes: tuple[np.ndarray, np.ndarray] | None = None,
               history: tuple[torch.Tensor, torch.Tensor] | None = None) -> ExclusionLists:
    """Evaluation's exclusion lists for rows whose users are ``rows`` (raw IDs of ``train``'s
    column ``user``): each user's catalogue rows in ``train`` kept once per user, and each row's
    own ``history`` items (CSR, or None). ``stored``: ``(users, seen)`` for ``train``, built
    already (:class:`StoredUsers`: used as it is, not copied, as nothing here changes it);
    else built from ``train``, by ``codes`` when given: ``key_codes(train[user], rows)`` (the
    evaluator's), whose codes ``0..U-1`` are ``train``'s users, so no ID is hashed again.
    Unknown users have no seen items."""
    if stored is None and codes is not None:
        train_codes, row_codes = codes
        users = int(train_codes.max(initial=-1)) + 1  # train's keys come first in the joint codes
        groups = torch.as_tensor(np.where(row_codes < users, row_codes, -1), dtype=torch.long)
        return ExclusionLists(per_group=_seen_csr(train_codes, users, train[key_col], catalogue),
                              row_groups=groups, per_row=history)
    if stored is None:
        users = train[user][one_row_per_key(train[user], column=user)]
        stored = users, seen_items(users, train, user, key_col, catalogue)
    at = KeyIndex(stored[0], column=user).positions(rows, column=user)
    return ExclusionLists(per_group=stored[1], row_groups=torch.as_tensor(at, dtype=torch.long), per_row=history)


def users_table_rows(known: pd.DataFrame, config: ExperimentConfig, schema: Schema,
                     query_features: Sequence[str], tables: Tables) -> pd.DataFrame | None:
    """Rows of the users table (a ``data.join`` table keyed on the user column) of users not in
    ``known``, with the columns the query tower reads from it: serving answers them from those
    features, as evaluation, which joins the table, scores them."""
    user = config.data.user_column
    read = schema.columns_of(query_features)
    parts: list[pd.DataFrame] = []
    for side in tables.joins.values():  # every users table, as evaluation joins every one
        cols = [c for c in read if c != user and c in side.table.columns and not any(c in p for p in parts)]
        if side.key == user and cols:
            parts.append(side.table[[user] + cols])
    if not parts:
        return None
    rows = parts[0]
    for more in parts[1:]:  # users of any table; a column another table lacks stays missing
        known_in, more_codes = key_codes(rows[user], more[user], column=user)
        add = more[~np.isin(more_codes, known_in)]
        rows = pd.concat([rows, add[[user]]], ignore_index=True)
        codes, more_codes = key_codes(rows[user], more[user], column=user)
        at = pd.Index(more_codes).get_indexer(codes)
        hit = at >= 0
        for c in more.columns.drop(user):
            cells = np.full(len(at), None, dtype=object)
            cells[hit] = more[c].to_numpy(dtype=object)[at[hit]]
            rows[c] = pd.Series(cells, dtype=object)
    known_codes, codes = key_codes(known[user], rows[user], column=user)
    unseen = (codes >= 0) & ~np.isin(codes, known_codes)
    return rows[unseen].reset_index(drop=True)


def artifact_metadata(config: ExperimentConfig, tables: Tables) -> dict[str, Any]:
    """The config, plus where the ``data.join`` tables were read from (absolute paths, their
    columns, and the config's folder), so an evaluation file can be joined as training was;
    for a built-in dataset, its side tables' keys and columns (no path), so evaluating a file
    that needs nothing from them does not load the dataset."""
    dataset = config.data.dataset is not None
    joins = {name: {"path": side.path, "key": side.key, "columns": list(map(str, side.table.columns))}
             for name, side in tables.joins.items() if dataset or name in config.data.join}
    return {"experiment": config.to_dict(),  # (the manifest sorts keys: the join order is kept apart)
            "data_files": {"config_dir": config.base_dir, "join": joins, "join_order": list(joins)}}

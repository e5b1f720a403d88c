"""Loads the raw tables an experiment config names: interactions, side tables, catalogue."""

from __future__ import annotations

import logging
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recstack.config.experiment import DataConfig, TableSource
from recstack.data import leave_last_n, load_dataset, random_split, read_table, temporal_split
from recstack.data._dtypes import NOT_WHOLE, TOO_LARGE, float_id_faults
from recstack.errors import ConfigError, DataError, SchemaError
from recstack.experiment.filtering import DATASET_DTYPE_HINT, TEST_DTYPE_HINT, filter_rows, training_core
from recstack.preprocessing._cells import LIST, canonical_keys, cell_kinds, factorize_keys, first_row, plain_value

__all__ = ["SideTable", "Tables", "dataset_joins", "integer_ids", "join_side_table", "join_side_tables", "load_tables",
           "match_keys", "plan_joins", "read_source", "resolve_path", "side_table"]


log = logging.getLogger(__name__)


@dataclass
class SideTable:
    """A side table joined onto interactions on its ``key`` column (``data.join.<name>``).

    ``path``: where it was read from (the absolute file), when known. Build one with
    :func:`side_table`, which cleans the rows once; :func:`join_side_table` cleans a table
    built otherwise when it has to (keyless rows, repeated keys).
    """

    table: pd.DataFrame
    key: str
    path: str | None = None


@dataclass
class Tables:
    """Raw tables: ``train``/``test`` interactions (side tables joined), ``items`` catalogue.

    ``joins``: the side tables by join name, in join order (also the ``items``/``users``
    tables of a built-in dataset), so further tables (e.g. an evaluation file) can be
    joined as the training data was. ``items`` (which defines the catalogue) and ``users``
    default to the tables of the joins of those names. ``filtered``: ``data.filter`` was applied.
    """

    train: pd.DataFrame
    test: pd.DataFrame | None
    items: pd.DataFrame | None = None
    users: pd.DataFrame | None = None
    joins: dict[str, SideTable] = field(default_factory=dict)
    filtered: bool = False  # data.filter applied (load_tables does it); see experiment.filtering

    def __post_init__(self) -> None:
        if self.items is None and "items" in self.joins:
            self.items = self.joins["items"].table
        if self.users is None and "users" in self.joins:
            self.users = self.joins["users"].table


def resolve_path(path: str, base_dir: str | None, *, where: str, hint: str | None = None) -> Path:
    """An existing file: absolute, or relative to cwd, the config's folder, ``$RECSTACK_DATA``.

    ``hint``: what to do when it is not found (default: give an absolute path or set RECSTACK_DATA).
    """
    p = Path(path)
    tried = [p] if p.is_absolute() else [Path.cwd() / p]
    if not p.is_absolute():
        if base_dir:
            tried.append(Path(base_dir) / p)
        if os.environ.get("RECSTACK_DATA"):
            tried.append(Path(os.environ["RECSTACK_DATA"]) / p)
    for t in tried:
        if t.is_file():
            return t
    raise ConfigError(
        f"{where}: file {path!r} not found; looked in: {', '.join(str(t) for t in tried)}. "
        + (hint or "Give an absolute path or set RECSTACK_DATA to the folder that holds it")
    )


def read_source(src: str | TableSource, base_dir: str | None, where: str, *, hint: str | None = None,
                config_key: str | None = None) -> tuple[pd.DataFrame, Path]:
    """A table named by the config, read with its reader options, and the file it came from.

    ``where`` names the file's origin in a missing-file error (a config key, or a flag such as
    ``--join items``); ``config_key`` is the config key the reader options come from
    (``data.train``), so an error about one names it in full (``data.train.dtype.user_id``,
    ``data.join.items.sep``); ``None`` names the bare option (``dtype.user_id``).
    """
    ts = TableSource(path=src) if isinstance(src, str) else src
    path = resolve_path(ts.path, base_dir, where=where, hint=hint)
    table = read_table(path, format=ts.format, sep=ts.sep, names=ts.names, header=ts.header, encoding=ts.encoding,
                       dtype=ts.dtype, config_key=config_key)
    return table, path.resolve()


def integer_ids(values: pd.Series, *, where: str = "the table") -> pd.Series:
    """A float ID column without missing cells whose values are all whole numbers, as int64.

    A text file with an empty ID cell is read as floats (``514.0``); once the keyless rows
    are dropped, the IDs are integers again. Non-float columns, and float ones with missing
    cells, are returned unchanged.

    Raises:
        DataError: a present float that is not a whole number (``1.5``, ``inf``: no ID), or of
            2**53 or more (float64 has rounded such integers, so distinct IDs may have merged),
            naming the column, ``where`` (e.g. ``"the items table"``) and the first such row,
            as ``read_table`` refuses them.
    """
    if values.dtype.kind != "f" or len(values) == 0:
        return values
    v = values.to_numpy()
    fraction, rounded = float_id_faults(v)
    for bad, problem, fix in ((fraction, NOT_WHOLE, "an ID from a float must be one: fix the data, or give the IDs "
                               "as text"), (rounded, *TOO_LARGE)):
        if bad.any():
            pos = int(bad.argmax())
            label = values.index[pos]
            row = f"data row {label + 1}" if isinstance(label, (int, np.integer)) else f"row {label!r}"
            raise DataError(f"column {values.name!r} of {where} {problem} ({row}: {plain_value(v[pos])!r}); {fix}")
    present = ~np.isnan(v)
    if not present.all():
        return values
    return values.astype(np.int64)


def _hashable(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with list/array cells as tuples (sets as frozensets), so rows can be compared."""
    out = {}
    for col in table.columns:
        s = table[col]
        if s.dtype == object and (cell_kinds(s) == LIST).any():
            s = s.map(lambda v: frozenset(v) if isinstance(v, (set, frozenset))
                      else tuple(v) if isinstance(v, (list, tuple, np.ndarray)) else v)
        out[col] = s
    return pd.DataFrame(out, index=table.index)


def _side_rows(right: pd.DataFrame, on: str, name: str) -> tuple[pd.DataFrame, np.ndarray]:
    """The rows of side table ``name`` that can be joined, and their canonical keys.

    Rows without a key are dropped with a warning (integer keys stay integer); exact
    repeats are dropped; rows that repeat a key with other values are an error.
    """
    if on not in right.columns:
        raise SchemaError(f"data.join.{name}.key: {on!r} is not a column of the {name} table; "
                          f"its columns: {list(right.columns)}")
    rk = canonical_keys(right[on], column=on)
    keyless = pd.isna(rk)
    if keyless.any():
        log.warning("data.join.%s: %d of %d rows of the %s table have no %s (first: row %d) and are dropped; "
                    "fill in their key or remove them", name, int(keyless.sum()), len(right), name, on,
                    first_row(keyless))
        right, rk = right[~keyless], rk[~keyless]
        right = right.assign(**{on: integer_ids(right[on], where=f"the {name} table (data.join.{name})")})
    dup = pd.Series(rk, dtype=object).duplicated(keep=False).to_numpy()
    if dup.any():  # exact repeats are harmless; only rows that share a key are compared
        same = _hashable(right[dup].drop(columns=[on])).assign(_k=rk[dup]).duplicated().to_numpy()
        keep = ~dup
        keep[dup] = ~same
        right, rk = right[keep], rk[keep]
        dup = pd.Series(rk, dtype=object).duplicated(keep=False).to_numpy()
        if dup.any():
            sample = list(dict.fromkeys(plain_value(v) for v in right[on].to_numpy()[dup]))[:5]
            raise SchemaError(
                f"data.join.{name}: key {on!r} is not unique in the {name} table ({len(set(rk[dup]))} keys repeat "
                f"with different values, e.g. {sample}); deduplicate the table"
            )
    return right.reset_index(drop=True), rk


def side_table(table: pd.DataFrame, key: str, name: str, path: str | None = None) -> SideTable:
    """Side table ``name`` ready to be joined on ``key``: rows without a key are dropped with a
    warning (integer keys stay integers), exact repeats are dropped.

    Raises:
        SchemaError: ``key`` is not a column; a key repeats with other values.
    """
    return SideTable(_side_rows(table, key, name)[0], key, path)


def match_keys(left: pd.DataFrame, side: SideTable, name: str, *, where: str = "the interactions",
               dtype_hint: str | None = None) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """How ``left``'s rows find their rows of side table ``name``, by canonical key (1, 1.0 and "1" alike).

    Returns:
        the side table's joinable rows (cleaned as :func:`side_table` does when it was built
        otherwise), their canonical keys, and per row of ``left`` its row of the side table
        (``-1``: no key, or a key the table lacks). Only ``left``'s distinct keys are looked up.

    Raises:
        SchemaError: ``left`` lacks the key column; no key of ``left`` is in the table.
    """
    return _match_keys(left, side, name, where=where, dtype_hint=dtype_hint)[:3]


def _match_keys(left: pd.DataFrame, side: SideTable, name: str, *, where: str,
                dtype_hint: str | None) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`match_keys`, plus per row of ``left`` whether it has a key (its key column read once)."""
    on = side.key
    if on not in left.columns:
        raise SchemaError(f"data.join.{name}.key: {where} has no column {on!r} to join the {name} table on; "
                          f"columns: {sorted(map(str, left.columns))}")
    right, rk = side.table, None
    if on in right.columns:
        rk = canonical_keys(right[on], column=on)
    if rk is None or pd.isna(rk).any() or not pd.Index(rk).is_unique:  # not built by side_table
        right, rk = _side_rows(right, on, name)
    codes, keys, _ = factorize_keys(left[on], column=on)
    per_key = np.asarray(pd.Index(rk).get_indexer(pd.Index(keys, dtype=object)), dtype=np.int64)
    rows = np.where(codes >= 0, per_key[np.maximum(codes, 0)], -1) if len(keys) else np.full(len(codes), -1)
    present = codes >= 0
    if present.any() and not (per_key >= 0).any():
        example = (plain_value(left[on].iloc[first_row(present)]),
                   plain_value(right[on].iloc[0]) if len(right) else None)
        raise SchemaError(
            f"data.join.{name}.key: no {on!r} value of {where} is in the {name} table (e.g. {example[0]!r} vs "
            f"{example[1]!r}). IDs match canonically: 1, 1.0 and '1' are one ID, but '0001' is not '1'; "
            + (dtype_hint or f"when IDs are zero-padded, read the column as text on both sides with dtype: "
               f"{{{on}: str}} (on data.train/data.test and on data.join.{name}); else check the key column")
        )
    return right, rk, rows, present


def join_side_table(
    left: pd.DataFrame, side: SideTable, name: str, *, columns: Collection[str] | None = None,
    where: str = "the interactions", dtype_hint: str | None = None,
) -> pd.DataFrame:
    """Left join of side table ``name`` on its key; keys match canonically (see :func:`match_keys`).

    ``columns``: the side columns to bring (default: all but the key). A brought column that
    ``left`` already has is an error (one of the two would be lost silently).
    """
    on = side.key
    bring = [c for c in side.table.columns if c != on] if columns is None else [c for c in columns if c != on]
    clash = [c for c in bring if c in left.columns]
    if clash and on in left.columns:
        raise SchemaError(
            f"data.join.{name}: column {', '.join(map(repr, clash))} is both in {where} and in the {name} table, "
            f"so a feature reading it would silently get one of the two; rename it in one of them (for the "
            f"{name} table: in the file, or with data.join.{name}.names, plus header: 0 when the file has a "
            "header row)"
        )
    right, _, rows, present = _match_keys(left, side, name, where=where, dtype_hint=dtype_hint)
    unmatched = present & (rows < 0)
    if unmatched.any():
        log.warning("data.join.%s: %d of %d rows of %s have %s values not in the %s table; their %s columns are empty",
                    name, int(unmatched.sum()), len(left), where, on, name, name)
    # a gather by position: what a left merge gives (left's rows in order on a fresh RangeIndex; a row
    # without a match gets empty cells, upcast as pandas does: int -> float, bool -> object), without
    # hashing the keys again; reindex on a RangeIndex is that take with missing rows filled
    index = pd.RangeIndex(len(left))
    brought = right[bring].set_axis(pd.RangeIndex(len(right))).reindex(rows).set_axis(index)
    return pd.concat([left.set_axis(index), brought], axis=1)


def plan_joins(
    columns: Collection[str], joins: Mapping[str, tuple[str, Collection[str]]], needed: Collection[str], *,
    where: str, skip_hint: str = "", also: Collection[str] = (),
) -> dict[str, list[str]]:
    """Which side columns to join onto a table that has ``columns`` (e.g. an evaluation file).

    ``joins``: per join name, in order, its key and its columns; ``needed``: the columns a
    model reads. A join brings the needed columns (and later joins' keys) the table lacks;
    one whose columns the table already has is skipped (a table joined beforehand).
    ``also``: further columns (those ``data.filter.rows`` reads) brought when lacking, even
    from a join whose model columns the table has (as training filters on them first).

    Raises:
        SchemaError: the table has some of a join's needed columns but not all, or lacks
            the join's key.
    """
    have = set(columns)
    extra = set(also) - set(needed)
    wanted = set(needed) | extra | {key for key, _ in joins.values()}
    plan: dict[str, list[str]] = {}
    for name, (key, side_columns) in joins.items():
        bring = [c for c in side_columns if c in wanted and c != key]
        lack = [c for c in bring if c not in have]
        model = [c for c in bring if c not in extra]  # the model's columns: all or none of them
        present, absent = [c for c in model if c in have], [c for c in model if c not in have]
        if present and absent:
            raise SchemaError(
                f"{where} has columns {present} of data.join.{name} but not {absent}: give it all of them (joined "
                f"from the {name} table) or none of them{skip_hint}"
            )
        if present:
            log.info("data.join.%s: %s already has its columns %s; not joined again", name, where, present)
        if not lack:
            continue
        if key not in have:
            raise SchemaError(f"{where} lacks column {key!r}, the key of data.join.{name}, which brings {lack}; "
                              f"add the column{skip_hint}")
        plan[name] = lack
        have.update(lack)
    return plan


def join_side_tables(
    table: pd.DataFrame, joins: Mapping[str, SideTable], needed: Collection[str], *, where: str,
    dtype_hint: str | None = None, skip_hint: str = "",
) -> pd.DataFrame:
    """``table`` with the side columns it lacks that a model reads (see :func:`plan_joins`),
    joined as the training data was."""
    plan = plan_joins(table.columns, {n: (s.key, list(s.table.columns)) for n, s in joins.items()}, needed,
                      where=where, skip_hint=skip_hint)
    for name, cols in plan.items():
        table = join_side_table(table, joins[name], name, columns=cols, where=where, dtype_hint=dtype_hint)
    return table


def dataset_joins(users: pd.DataFrame | None, items: pd.DataFrame | None) -> dict[str, SideTable]:
    """A built-in dataset's side tables as joins: ``users`` on ``user_id``, ``items`` on ``item_id``
    (the dataset joined them so onto its interactions)."""
    pairs = (("users", users, "user_id"), ("items", items, "item_id"))
    return {name: side_table(t, key, name) for name, t, key in pairs if t is not None and key in t.columns}


def split_table(table: pd.DataFrame, cfg: DataConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``data.train`` split by ``data.split`` into (training rows, test rows), each in file order."""
    split = cfg.split
    assert split is not None
    needed = [] if split.kind == "random" else [("data.time_column", cfg.time_column)]
    if split.kind == "leave_last_n":
        needed.append(("data.user_column", cfg.user_column))
    for role, col in needed:
        if col not in table.columns:
            raise ConfigError(f"data.split: kind {split.kind} needs {role} {col!r}, which is not a column of "
                              f"data.train; columns: {sorted(map(str, table.columns))}")
    if split.kind == "random":
        train, test = random_split(table, test_fraction=split.test_fraction, seed=split.seed)
    elif split.kind == "temporal":
        assert cfg.time_column is not None
        train, test = temporal_split(table, cfg.time_column, test_fraction=split.test_fraction, cutoff=split.cutoff)
    else:
        assert cfg.time_column is not None
        train, test = leave_last_n(table, cfg.user_column, cfg.time_column, n=split.n)
    if len(test) == 0 or len(train) == 0:
        part = "test" if len(test) == 0 else "training"
        raise DataError(f"data.split ({split.kind}) leaves the {part} part of data.train's {len(table)} rows empty"
                        + ("; every user has n or fewer rows: lower n or use kind: temporal"
                           if split.kind == "leave_last_n" and part == "test" else ""))
    return train.reset_index(drop=True), test.reset_index(drop=True)


def load_tables(cfg: DataConfig, base_dir: str | None = None) -> Tables:
    """Reads/loads every table named by ``data``, filters its interactions (``data.filter``) and
    joins side tables onto them."""
    if cfg.dataset is not None:
        ds = load_dataset(cfg.dataset, **cfg.dataset_options)
        test = ds.test if ds.test is not None and len(ds.test) else None
        hint = DATASET_DTYPE_HINT
        train = filter_rows(ds.train, cfg, f"the training data of {cfg.dataset}", dtype_hint=hint)
        if cfg.split is not None:  # a dataset without test rows (movielens-100k split: all), as data.train
            if test is not None:
                raise ConfigError(f"data.split: {cfg.dataset} brought its own test rows ({len(test)}); remove "
                                  "data.split, or load the dataset without them")
            train, test = split_table(train, cfg)
        train = training_core(train, cfg)
        if cfg.split is None and test is not None:
            test = filter_rows(test, cfg, f"the test data of {cfg.dataset}", dtype_hint=hint)
        items, users = getattr(ds, "items", None), getattr(ds, "users", None)
        return Tables(train, test, items, users, joins=dataset_joins(users, items), filtered=True)
    assert cfg.train is not None
    train = read_source(cfg.train, base_dir, "data.train", config_key="data.train")[0]
    test = read_source(cfg.test, base_dir, "data.test", config_key="data.test")[0] if cfg.test is not None else None
    side: dict[str, SideTable] = {}
    for name, src in cfg.join.items():
        raw, path = read_source(src, base_dir, f"data.join.{name}", config_key=f"data.join.{name}")
        assert src.key is not None
        side[name] = side_table(raw, src.key, name, str(path))  # cleaned once: its warnings are given once
    # data.filter: conditions on each table as read (a data.join column looked up by key), before the
    # split; the k-core on the joined training rows
    train = filter_rows(train, cfg, "data.train", joins=side)
    test = None if test is None else filter_rows(test, cfg, "data.test", dtype_hint=TEST_DTYPE_HINT, joins=side)
    if cfg.split is not None:
        train, test = split_table(train, cfg)
    for name, table in side.items():
        train = join_side_table(train, table, name, where="the training data (data.train)")
        if test is not None:
            test = join_side_table(test, table, name, where="the test data (data.test)")
    train = training_core(train, cfg)  # after the joins: data.item_column may be a join's column (a title)
    return Tables(train, test, joins=side, filtered=True)

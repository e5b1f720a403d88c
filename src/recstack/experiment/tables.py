"""Loads the raw tables an experiment config names: interactions, side tables, catalogue."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from recstack.config.experiment import DataConfig, TableSource
from recstack.data import load_dataset, read_table
from recstack.errors import ConfigError, SchemaError
from recstack.preprocessing._cells import canonical_keys

__all__ = ["Tables", "load_tables", "resolve_path"]


log = logging.getLogger(__name__)

@dataclass
class Tables:
    """Raw tables: ``train``/``test`` interactions (side tables joined), ``items`` catalogue."""

    train: pd.DataFrame
    test: pd.DataFrame | None
    items: pd.DataFrame | None
    users: pd.DataFrame | None


def resolve_path(path: str, base_dir: str | None, *, where: str) -> Path:
    """An existing file: absolute, or relative to cwd, the config's folder, ``$RECSTACK_DATA``."""
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
        "Give an absolute path or set RECSTACK_DATA to the folder that holds it"
    )


def _read(src: str | TableSource, base_dir: str | None, where: str) -> pd.DataFrame:
    ts = TableSource(path=src) if isinstance(src, str) else src
    path = resolve_path(ts.path, base_dir, where=where)
    return read_table(path, format=ts.format, sep=ts.sep, names=ts.names, header=ts.header, encoding=ts.encoding,
                      dtype=ts.dtype)


def _join(left: pd.DataFrame, right: pd.DataFrame, on: str, name: str) -> pd.DataFrame:
    """Left join of a side table on ``on``; keys match canonically (1, 1.0 and "1" alike)."""
    if on not in left.columns or on not in right.columns:
        raise SchemaError(f"data.join.{name}.key: column {on!r} must be in both the interactions and the {name} table")
    right = right.drop_duplicates()  # exact repeats are harmless; conflicting rows are not
    rk = canonical_keys(right[on], column=on)
    dup = pd.Series(rk).duplicated(keep=False).to_numpy() & pd.notna(rk)
    if dup.any():
        sample = list(dict.fromkeys(right[on].to_numpy()[dup].tolist()))[:5]
        raise SchemaError(
            f"data.join.{name}: key {on!r} is not unique in the {name} table ({len(set(rk[dup]))} keys repeat "
            f"with different values, e.g. {sample}); deduplicate the table"
        )
    lk = canonical_keys(left[on], column=on)
    matched = pd.Index(rk).get_indexer(lk) >= 0
    present = pd.notna(lk)
    if present.any() and not matched[present].any():
        raise SchemaError(
            f"data.join.{name}.key: no {on!r} value of the interactions is in the {name} table "
            f"(e.g. {left[on].iloc[int(np.flatnonzero(present)[0])]!r} vs {right[on].iloc[0]!r}); check the key column"
        )
    if (present & ~matched).any():
        log.warning("data.join.%s: %d of %d interaction rows have a %s not in the %s table; their columns are empty",
                    name, int((present & ~matched).sum()), len(left), on, name)
    right, rk = right[pd.notna(rk)], rk[pd.notna(rk)]  # a missing key joins nothing
    overlap = [c for c in right.columns if c in left.columns and c != on]
    merged = left.assign(_k=lk).merge(right.drop(columns=overlap).assign(_k=rk).drop(columns=[on]), on="_k", how="left")
    return merged.drop(columns="_k")


def load_tables(cfg: DataConfig, base_dir: str | None = None) -> Tables:
    """Reads/loads every table named by ``data`` and joins side tables onto interactions."""
    if cfg.dataset is not None:
        ds = load_dataset(cfg.dataset, **cfg.dataset_options)
        test = ds.test if ds.test is not None and len(ds.test) else None
        return Tables(ds.train, test, getattr(ds, "items", None), getattr(ds, "users", None))
    assert cfg.train is not None
    train = _read(cfg.train, base_dir, "data.train")
    test = _read(cfg.test, base_dir, "data.test") if cfg.test is not None else None
    side: dict[str, pd.DataFrame] = {}
    for name, src in cfg.join.items():
        table = _read(src, base_dir, f"data.join.{name}")
        side[name] = table
        assert src.key is not None
        train = _join(train, table, src.key, name)
        if test is not None:
            test = _join(test, table, src.key, name)
    return Tables(train, test, side.get("items"), side.get("users"))

"""Offline evaluation of a saved model on a raw table (``recstack evaluate``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from recstack.artifacts.recommender import Recommender
from recstack.artifacts.requests import undescribed_rows
from recstack.config.experiment import JoinSource, TableSource
from recstack.config.filter import RowCondition
from recstack.data import load_dataset
from recstack.errors import ArtifactError, ConfigError, SchemaError
from recstack.experiment.as_of import as_of_rows
from recstack.experiment.filtering import filter_evaluation_rows
from recstack.experiment.tables import (
    SideTable, dataset_joins, join_side_table, plan_joins, read_source, side_table,
)
from recstack.metrics import topk_metrics
from recstack.tasks.retrieval_eval import warn_outside_catalogue, warn_trivial_cutoffs
from recstack.preprocessing.keys import key_codes, require_ids, require_items

__all__ = ["DEFAULT_METRICS", "evaluate_recommender", "join_saved_tables", "saved_eval_settings", "saved_row_filter"]

logger = logging.getLogger(__name__)
DEFAULT_METRICS = ("hit_rate@10", "hit_rate@100", "recall@10", "ndcg@10", "mrr")
JoinOverrides = Mapping[str, "str | Path | pd.DataFrame"]
_SKIP_HINT = " (recstack evaluate --no-join, or joins=False in Python, evaluates the table as it is)"


def saved_eval_settings(rec: Recommender) -> dict[str, Any]:
    """The ``eval`` section the model was trained with (``{}`` for a model saved without one)."""
    ev = (rec.metadata.get("experiment") or {}).get("eval")
    return dict(ev) if isinstance(ev, Mapping) else {}


def saved_row_filter(rec: Recommender) -> dict[str, RowCondition]:
    """The ``data.filter.rows`` the model was trained with (``{}`` for a model saved without one)."""
    rows = (((rec.metadata.get("experiment") or {}).get("data") or {}).get("filter") or {}).get("rows") or {}
    try:
        return {str(c): RowCondition.model_validate(cond) for c, cond in rows.items()}
    except (ValueError, TypeError, AttributeError) as err:
        raise ArtifactError(f"the model's data.filter.rows in recstack.json is malformed ({err}); "
                            "re-export the model, or evaluate with --no-filter") from None


def saved_id_types(rec: Recommender) -> dict[str, str]:
    """The types the training file gave the query and candidate-key columns (``data.train.dtype``,
    e.g. ``{"user_id": "str"}`` for zero-padded IDs): an evaluation file must be read alike."""
    train = ((rec.metadata.get("experiment") or {}).get("data") or {}).get("train")
    types = train.get("dtype") if isinstance(train, Mapping) else None
    if not isinstance(types, Mapping):
        return {}
    key = rec.preprocessor.schema[rec.model.candidate_key].source_column
    return {str(c): str(t) for c, t in types.items() if c in (rec.query_column, key)}


def evaluate_recommender(
    rec: Recommender,
    table: pd.DataFrame,
    *,
    metrics: Sequence[str] | None = None,
    exclude_seen: bool | None = None,
    cold_start: str | None = None,
    ties: str | None = None,
    joins: bool | JoinOverrides = True,
    filter_rows: bool = True,
) -> dict[str, float]:
    """Full-catalogue metrics of ``rec`` on raw interaction rows.

    ``table`` needs the query column (e.g. ``user_id``) and the candidate key column, or the
    key a ``data.join`` table brings it by; the side columns the model reads are joined from
    the model's ``data.join`` tables as in training (``joins``: ``True``; ``False``: none; a
    mapping: join name -> file or DataFrame used instead of the saved one; see
    :func:`join_saved_tables`). Other query feature columns are taken from the table when
    present, else from the users the model stores (seen in training, or in its users table);
    the others are answered per ``cold_start``, as :meth:`Recommender.recommend` would. Items
    not in the catalogue
    count as misses.

    ``metrics``, ``exclude_seen``, ``cold_start``, ``ties`` (the positive's place among equal
    scores, ``recstack.metrics.TIES``): ``None`` takes the model's saved ``eval`` settings, so
    the numbers match the ones ``recstack train`` reported. ``filter_rows``: first drop the rows
    that fail the model's saved ``data.filter.rows`` (as its test rows were; ``recstack evaluate
    --no-filter`` turns it off); the k-core of ``data.filter`` applies to training rows only.
    """
    saved = saved_eval_settings(rec)
    metrics = list(metrics if metrics is not None else saved.get("metrics") or DEFAULT_METRICS)
    exclude_seen = bool(saved.get("exclude_seen", False)) if exclude_seen is None else exclude_seen
    cold_start = str(saved.get("cold_start", "average")) if cold_start is None else cold_start
    ties = str(saved.get("ties", "optimistic")) if ties is None else ties
    rows = saved_row_filter(rec) if filter_rows else {}
    if joins is not False:  # a condition may read a joined column (a user's age): joined for it (qcols below
        # leaves out what the model does not read)
        table = join_saved_tables(rec, table, {} if joins is True else joins,
                                  also=[c for c in rows if c not in table.columns])
    if rows:
        table = filter_evaluation_rows(table, rows)
    key = rec.preprocessor.schema[rec.model.candidate_key].source_column
    for col in (rec.query_column, key):
        if col not in table.columns:
            raise SchemaError(f"evaluation table lacks column {col!r}; columns: {sorted(map(str, table.columns))}"
                              f"{_join_hint(rec, col, joins is not False)}")
    require_items(table, key, "evaluation data")  # as training does
    table, exclude_rows = as_of_rows(rec, table, exclude_seen=exclude_seen)
    groups = require_ids(key_codes(table[rec.query_column], column=rec.query_column)[0], rec.query_column)
    # query columns the table has are used, per cell; the rest come from the stored users
    read = set(_read_columns(rec))  # an interaction file's other columns (rating, timestamp) are not query data
    qcols = [c for c in table.columns if c != key and c in read]
    chunk = saved.get("chunk_size")
    ranks = rec.rank(table[qcols], table[key], exclude="seen" if exclude_seen and exclude_rows is None else None,
                     cold_start=cold_start, ties=ties, groups=groups, exclude_rows=exclude_rows,
                     chunk_size=chunk if isinstance(chunk, int) and chunk > 0 else 1024)
    in_catalogue = torch.as_tensor(rec.is_candidate(table[key]))
    warn_outside_catalogue(int((~in_catalogue).sum()), len(table), key, "evaluation data",
                           hint=f"check the separator, --names, and --dtype {key}=str for IDs such as 0042, if "
                                "that is unexpected; items new since training cannot be ranked by a saved model")
    warn_trivial_cutoffs(metrics, len(rec.candidate_ids))
    _warn_unknown_queries(rec, table, cold_start)
    unscored = int((in_catalogue & (ranks >= len(rec.candidate_ids))).sum())
    if unscored:  # a NaN score: rank() places the item last
        logger.warning("evaluation data: %d of %d rows score NaN for their %s; they count as misses "
                       "(the model's weights or these rows' query features hold NaN or infinite values)",
                       unscored, len(table), key)
    return topk_metrics(ranks, metrics=metrics, groups=groups, num_candidates=len(rec.candidate_ids))


def _warn_unknown_queries(rec: Recommender, table: pd.DataFrame, cold_start: str) -> None:
    """Says how many rows' users training never saw (they are scored as cold starts), and
    names ``--dtype`` when the model's IDs are text and the table's are numbers."""
    if not rec.stores_known_users:
        return
    unknown_rows = ~rec.is_known(table[rec.query_column])
    unknown = int(unknown_rows.sum())
    if not unknown:
        return
    stored = rec.has_features(table[rec.query_column])  # users-table users: their stored rows describe them
    cold = int((unknown_rows & ~stored & undescribed_rows(table, rec.preprocessor, rec.query_features,
                                                          rec.query_column, rec.history_column)).sum())
    column = table[rec.query_column]
    stored = rec.known_queries[rec.query_column] if rec.known_queries is not None else column
    hint = ""
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_numeric_dtype(stored.dtype):
        hint = (f"; the model's {rec.query_column} values are text and this table's are numbers: read it with "
                f"--dtype {rec.query_column}=str (read_table(..., dtype=...)) to keep IDs such as 0007")
    logger.warning("evaluation data: %d of %d rows have %s values not seen in training; %d of them give no other "
                   "query feature and are scored as cold starts (cold_start=%s), the others through the model "
                   "from the features they give%s", unknown, len(table), rec.query_column, cold, cold_start, hint)


def _saved_joins(rec: Recommender) -> dict[str, JoinSource]:
    """The model's ``data.join`` tables, in the order training joined them."""
    data = (rec.metadata.get("experiment") or {}).get("data") or {}
    order = (rec.metadata.get("data_files") or {}).get("join_order") or []
    try:
        joins = {name: JoinSource.model_validate(src) for name, src in (data.get("join") or {}).items()}
    except (ValueError, TypeError, AttributeError) as err:
        raise ArtifactError(f"the model's data.join in recstack.json is malformed ({err}); "
                            "re-export the model") from None
    return {n: joins[n] for n in [*[n for n in order if n in joins], *[n for n in joins if n not in order]]}


def _join_hint(rec: Recommender, column: str, joined: bool) -> str:
    """Where a column the evaluation table lacks could come from."""
    joins = _saved_joins(rec)
    if not joins:
        return ""
    recorded = (rec.metadata.get("data_files") or {}).get("join") or {}
    bring = [n for n in joins if column in ((recorded.get(n) or {}).get("columns") or [])]
    if bring and not joined:
        return (f". It comes from the model's data.join.{bring[0]} table: evaluate without --no-join "
                "(joins=False), or give the column")
    return (f". The model's data.join tables ({', '.join(joins)}) do not bring {column!r}, so the evaluation "
            "table must have it")


def _read_columns(rec: Recommender) -> list[str]:
    """The columns of an evaluation table the model reads: its query column, the candidate key's
    and its query features' columns."""
    schema = rec.preprocessor.schema
    return [rec.query_column, schema[rec.model.candidate_key].source_column,
            *schema.columns_of(rec.query_features)]


def join_saved_tables(rec: Recommender, table: pd.DataFrame, overrides: JoinOverrides | None = None, *,
                      also: Sequence[str] = ()) -> pd.DataFrame:
    """``table`` with the side columns the model reads joined from its ``data.join`` tables.

    Each table is found as training found it: the file training read (recorded in the
    model), else its configured path relative to the current folder, the config's folder
    or ``$RECSTACK_DATA``; a model trained on a built-in dataset gets the dataset's
    ``users`` and ``items`` tables (loaded only when one brings a column the table lacks;
    the history column is built, never joined). ``overrides`` maps a join name to another file (read
    with the saved reader options when it has the training file's extension, else with
    defaults) or a DataFrame. Columns the table already has are kept; a join the table
    needs nothing from is not read. ``also``: further columns to join when a join brings them
    (those of ``data.filter.rows``); one no join brings is left out, for the caller to name.

    Raises:
        ConfigError: an override names no join of the model; a needed file is not found
            (the message names the join and ``--join NAME=PATH``).
        SchemaError: the table lacks a join's key, or has only part of a join's columns.
    """
    overrides = dict(overrides or {})
    saved = _saved_joins(rec)
    data = (rec.metadata.get("experiment") or {}).get("data") or {}
    dataset = data.get("dataset")
    names = list(saved) if saved else ["users", "items"] if isinstance(dataset, str) else []
    unknown = [n for n in overrides if n not in names]
    if unknown:
        raise ConfigError(f"--join {unknown[0]}: the model's config joins no table named {unknown[0]!r}; "
                          f"it joins: {', '.join(names) if names else 'no table'}")
    needed = _read_columns(rec)
    history = data.get("history")  # built from the stored users, never joined
    if isinstance(history, Mapping):
        needed = [c for c in needed if c != history.get("column")]
    if not names or all(c in table.columns for c in [*needed, *also]):
        return table
    files = rec.metadata.get("data_files") or {}
    recorded = files.get("join") or {}
    loaded: dict[str, SideTable] = {}
    spec: dict[str, tuple[str, list[str]]] = {}
    if not saved:  # a built-in dataset: its users and items tables, as it joined them
        options = data.get("dataset_options") or {}
        spec = {n: _recorded_spec(recorded.get(n)) for n in names if n not in overrides and n in recorded}
        # the dataset is loaded now only for overrides, or for a model that did not record its tables
        unrecorded = not any(n in recorded for n in names)
        now = [n for n in names if n in overrides or unrecorded]
        loaded = _dataset_tables(str(dataset), options, overrides, now) if now else {}
        spec.update({n: (s.key, list(map(str, s.table.columns))) for n, s in loaded.items()})
        spec = {n: spec[n] for n in names if n in spec}  # in the dataset's join order
    for name, src in saved.items():
        assert src.key is not None
        columns = (recorded.get(name) or {}).get("columns")
        if name in overrides or not isinstance(columns, list):  # columns unknown: read the table now
            loaded[name] = _load_join(name, src, overrides.get(name), recorded.get(name), files.get("config_dir"))
            columns = list(loaded[name].table.columns)
        spec[name] = (src.key, [str(c) for c in columns])
    plan = plan_joins(table.columns, spec, needed, where="the evaluation data", skip_hint=_SKIP_HINT, also=also)
    table = table.reset_index(drop=True)
    later = [n for n in plan if n not in loaded and n not in saved]
    if later:  # a built-in dataset's tables whose columns were recorded, needed after all
        loaded.update(_dataset_tables(str(dataset), data.get("dataset_options") or {}, {}, later))
        gone = [n for n in later if n not in loaded]
        if gone:
            raise SchemaError(f"the {dataset} dataset has no {gone[0]} table now, which the model was trained "
                              f"with; pass it with --join {gone[0]}=PATH (joins={{{gone[0]!r}: PATH}} in Python)")
    for name, cols in plan.items():
        side = loaded.get(name) or _load_join(name, saved[name], None, recorded.get(name), files.get("config_dir"))
        lost = [c for c in cols if c not in side.table.columns]
        if lost:  # the recorded columns said the table brings them; the file read now does not
            raise SchemaError(
                f"data.join.{name}: the {name} table read from {side.path} lacks columns {lost}, which training "
                f"joined from it and the model reads; pass the table training used with --join {name}=PATH "
                f"(joins={{{name!r}: PATH}} in Python), or give the evaluation data those columns"
            )
        hint = (f"when IDs are zero-padded, read them as text: --dtype {side.key}=str for the evaluation file "
                f"(the {name} table is read with the model's data.join.{name}.dtype)")
        table = join_side_table(table, side, name, columns=cols, where="the evaluation data", dtype_hint=hint)
    return table


def _recorded_spec(recorded: Any) -> tuple[str, list[str]]:
    """A built-in dataset's side table as the model recorded it: its key and columns."""
    if not (isinstance(recorded, Mapping) and isinstance(recorded.get("key"), str)
            and isinstance(recorded.get("columns"), list)):
        raise ArtifactError(f"data_files.join in recstack.json is malformed ({recorded!r}); re-export the model")
    return recorded["key"], [str(c) for c in recorded["columns"]]


def _dataset_tables(dataset: str, options: Mapping[str, Any], overrides: Mapping[str, Any], names: Sequence[str]
                    ) -> dict[str, SideTable]:
    """A built-in dataset's side tables ``names`` (of ``users``, ``items``); an override (file or
    DataFrame) replaces one, and the dataset is loaded only for the others."""
    tables: dict[str, SideTable] = {}
    rest = [n for n in names if n not in overrides]
    if rest:
        ds = load_dataset(dataset, **options)
        found = dataset_joins(getattr(ds, "users", None), getattr(ds, "items", None))
        tables.update({n: SideTable(s.table, s.key, f"the {dataset} dataset") for n, s in found.items() if n in rest})
    for name in names:
        if name in overrides:
            where, given = f"--join {name}", overrides[name]
            raw, path = (given, "a DataFrame") if isinstance(given, pd.DataFrame) else read_source(
                str(given), None, where, hint=f"Check the path given to {where}")
            tables[name] = side_table(raw, {"users": "user_id", "items": "item_id"}[name], name, str(path))
    return {n: tables[n] for n in names if n in tables}


def _load_join(name: str, src: JoinSource, override: Any, recorded: Any, config_dir: Any) -> SideTable:
    """Side table ``name``: the override (file or DataFrame), else the file training read, both
    read with the saved reader options (an override of another format with its own defaults)."""
    assert src.key is not None
    if isinstance(override, pd.DataFrame):
        return side_table(override, src.key, name, "a DataFrame")
    if override is not None:
        where = f"--join {name}"
        same_format = Path(str(override)).suffix.lower() == Path(src.path).suffix.lower()
        given = (src.model_copy(update={"path": str(override)}) if same_format  # else the format's defaults
                 else TableSource(path=str(override), dtype=src.dtype))
        raw, path = read_source(given, None, where, hint=f"Check the path given to {where} (relative: from the "
                                "current folder)", config_key=f"data.join.{name}")  # its reader options
        return side_table(raw, src.key, name, str(path))
    done = recorded.get("path") if isinstance(recorded, Mapping) else None
    if isinstance(done, str) and Path(done).is_file():
        raw, path = read_source(src.model_copy(update={"path": done}), None, f"data.join.{name}",
                                config_key=f"data.join.{name}")
    else:
        hint = (f"Pass --join {name}=PATH to recstack evaluate (joins={{{name!r}: PATH}} in Python), or --no-join "
                "(joins=False) when the evaluation table already has the side columns")
        where = f"data.join.{name}" + (f" (training read {done})" if isinstance(done, str) else "")
        raw, path = read_source(src, config_dir if isinstance(config_dir, str) else None, where, hint=hint,
                                config_key=f"data.join.{name}")
    return side_table(raw, src.key, name, str(path))

"""A retrieval experiment end to end: tables -> features -> two-tower -> metrics -> artifact.

This is the library call behind ``recstack train``; the CLI only parses and prints.

Example:
    >>> from recstack.config import load_config
    >>> exp = RetrievalExperiment(load_config("examples/movielens_retrieval.yaml"))  # doctest: +SKIP
    >>> exp.fit()                                                                    # doctest: +SKIP
    >>> exp.evaluate()            # full-catalogue metrics on the test split       # doctest: +SKIP
    >>> exp.save("runs/ml100k")                                                      # doctest: +SKIP
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import torch

from recstack.artifacts.io import save as save_artifact
from recstack.artifacts.recommender import Recommender
from recstack.artifacts.timeline import Timeline
from recstack.config.experiment import ExperimentConfig
from recstack.data import TensorDataset, add_history, random_split
from recstack.errors import ConfigError, SchemaError, empty_cells
from recstack.experiment.catalogue import Catalogue, build_catalogue
from recstack.experiment.checks import ExperimentChecks
from recstack.experiment.eval_history import evaluation_histories
from recstack.experiment.evaluation import build_evaluator, prepare_rows
from recstack.experiment.export import (
    StoredUsers, artifact_metadata, deep_copy_rows, seen_items, stored_query_rows, users_table_rows,
)
from recstack.experiment.filtering import filtered_tables
from recstack.experiment.join_errors import side_table_note
from recstack.experiment.lifecycle import FitState
from recstack.experiment.tables import Tables, load_tables
from recstack.models.base import build_model
from recstack.models.two_tower import TwoTower
from recstack.preprocessing import Preprocessor
from recstack.preprocessing._cells import check_labels
from recstack.preprocessing.keys import require_items
from recstack.tasks.retrieval import CANDIDATE_ROW, RetrievalTask
from recstack.tasks.retrieval_eval import RetrievalEvaluator, warn_trivial_cutoffs
from recstack.training import History, Trainer, seed_everything
from recstack.training.batches import check_batch_size

__all__ = ["RetrievalExperiment", "Catalogue"]

log = logging.getLogger(__name__)
T = TypeVar("T")


class RetrievalExperiment:
    """Runs one two-tower retrieval experiment described by an :class:`ExperimentConfig`.

    Args:
        config: the validated config.
        tables: raw tables to use instead of reading ``config.data`` (``data.filter`` applies to them).
        run_dir: where the trainer writes history and checkpoints.
    """

    def __init__(self, config: ExperimentConfig, *, tables: Tables | None = None, run_dir: str | Path | None = None):
        self.config = config
        self.schema = config.schema()
        self.tables = filtered_tables(tables, config.data) if tables else load_tables(config.data, config.base_dir)
        self.run_dir = Path(run_dir) if run_dir is not None else None
        opts = config.model_options()
        self.query_features: list[str] = list(opts.get("query", []))
        self.candidate_features: list[str] = list(opts.get("candidate", []))
        self.candidate_key: str = opts.get("candidate_key") or self.candidate_features[0]
        self.history: History | None = None
        self._fit_state = FitState()  # a second fit() is refused, save() before one too
        self._known: pd.DataFrame | None = None  # built on first use (known_queries, stored_users)
        self._stored: StoredUsers | None = None
        self.checks = ExperimentChecks(config=config, schema=self.schema, tables=self.tables,
                                       query_features=self.query_features, candidate_features=self.candidate_features,
                                       candidate_key=self.candidate_key)
        self._prepare()

    # ------------------------------------------------------------ preparation
    def _prepare(self) -> None:
        cfg, data = self.config, self.config.data
        # positional indexes: splits and history joins align rows by index label
        train = self.tables.train.reset_index(drop=True)
        test = None if self.tables.test is None else self.tables.test.reset_index(drop=True)
        if len(train) == 0:
            raise SchemaError("the training table is empty")
        user = data.user_column
        for col, role in ((user, "data.user_column (the column of user IDs)"),
                          (self.schema[self.candidate_key].source_column,
                           f"features.{self.candidate_key}.column (the candidate key's column)")):
            if col not in train.columns:
                raise SchemaError(f"training data has no column {col!r}; columns: {sorted(map(str, train.columns))}; "
                                  f"set {role} to the column that holds them")
        data.check_column_roles(train.columns)  # item/time columns: checked when set or used
        self.checks.query_columns(train)
        key_col = self.schema[self.candidate_key].source_column
        require_items(train, key_col, "training data")
        no_user = train[user].isna().to_numpy()
        if no_user.any():  # no history, no seen items, no query ID: such a row trains nothing sound
            raise empty_cells("training data", user, no_user, "every interaction needs a user: drop or fill those rows")
        # the model saves its users' raw IDs as JSON, whether or not a feature reads the column
        check_labels(train[user], column=user, where=" in the training data (data.user_column)")
        # so are the stored users' query IDs, from every training row (validation rows too, which
        # the preprocessor never fits on)
        for name in self.query_features:
            spec = self.schema[name]
            if spec.type == "categorical" and spec.source_column in train.columns and spec.source_column != user:
                check_labels(train[spec.source_column], column=spec.source_column,
                             where=f" in the training data (features.{name})")
        if test is not None and key_col in test.columns:
            require_items(test, key_col, "the test table (data.test)")
        if data.validation_fraction > 0:
            fit_part, val_part = random_split(train, test_fraction=data.validation_fraction, seed=data.validation_seed)
            if len(fit_part) == 0 or len(val_part) == 0:
                raise ConfigError(
                    f"data.validation_fraction: {data.validation_fraction} of {len(train)} training rows leaves the "
                    f"{'validation' if len(val_part) == 0 else 'fitted'} part empty; use a value between "
                    f"{2 / len(train):.2g} and 0.5, or 0 for no validation"
                )
        else:
            fit_part, val_part = train, None
        if data.history is not None:
            # histories come from the fitted part only, so validation mirrors the test set
            if data.history.column in train.columns:
                raise ConfigError(f"data.history.column: {data.history.column!r} is already a column of the data; "
                                  "name the new history column something else (e.g. history)")
            self.checks.history_vocabulary()
            if data.history.eval_history == "before":
                self.checks.timeline(train, key_col)
            hist = data.history_args()
            full_train = train
            fit_part = add_history(fit_part, **hist, mode=data.history.mode)
            # "before": a validation row (carved at random from the training data) sees only what
            # its user had before it, like the training rows it stands in for; a test row gets the
            # whole training profile, as a saved model serves it, or with eval_history: before only
            # the earlier items (`recstack evaluate` agrees either way)
            before = data.history.mode == "before"
            if val_part is not None:
                val_part = add_history(val_part, **hist, reference=fit_part, before_each_row=before)
            if test is not None:
                test = evaluation_histories(data, test, full_train, where="the test data")
            # the training table as read keeps no history column: every use of it reads users,
            # items and times (a file-order copy of the histories would cost a copy of every item)
        self.full_train = train
        self.fit_table, self.val_table, self.test_table = fit_part, val_part, test
        self.checks.columns(fit_part, self.query_features + self.candidate_features, "training data")
        if test is not None:  # checked now, not after training
            if user not in test.columns or key_col not in test.columns:
                raise SchemaError(f"data.test: the test table needs columns {user!r} and {key_col!r}; "
                                  f"it has {sorted(test.columns)}")
            self.checks.columns(test, self.query_features, "the test table (data.test)")

        self.preprocessor = self._on_training_rows(lambda t: Preprocessor(self.schema).fit(t), fit_part)
        self.catalogue = build_catalogue(self.schema, self.candidate_features, self.candidate_key,
                                         items_table=self.tables.items, train=self.full_train,
                                         preprocessor=self.preprocessor)
        warn_trivial_cutoffs(self.config.eval.metrics, len(self.catalogue.ids))  # once: config and catalogue
        feats = self._on_training_rows(self.preprocessor.transform, fit_part)
        # each row's item, told apart even where items share an ID index (OOV, hashing)
        feats[CANDIDATE_ROW] = self.catalogue.item_rows(fit_part[key_col])
        if cfg.task.candidates == "catalogue":  # every positive must be a column of the catalogue softmax
            self.checks.positives_in_catalogue(feats[CANDIDATE_ROW], fit_part[key_col], len(self.catalogue.ids))
        self.train_data = TensorDataset(feats)
        seed_everything(cfg.train.seed)  # initial weights depend on the seed only
        model = build_model(cfg.model.kind, cfg.model_options(), self.preprocessor.outputs)
        if not isinstance(model, TwoTower):
            raise ConfigError(f"model.kind: {cfg.model.kind!r} is not a retrieval model; use two_tower")
        self.model: TwoTower = model
        self._fit_state.watch(model)
        self.task = RetrievalTask(cfg.task, num_candidates=self.model.num_candidate_ids)
        key_ids = feats[self.candidate_key]
        counts = torch.bincount(key_ids, minlength=self.model.num_candidate_ids).float()
        self.task.set_candidate_counts(counts)
        # per item too: items sharing an OOV or hashed ID are corrected and sampled by their own counts
        item_counts = torch.bincount(feats[CANDIDATE_ROW], minlength=len(self.catalogue.ids)).float()
        self.task.set_item_counts(item_counts)
        if self.task.needs_catalogue:
            cat_counts = item_counts[: len(self.catalogue.ids)]
            self.task.attach_catalogue(
                self.catalogue.features, cat_counts, seed=cfg.train.seed, key=self.candidate_key
            )

    def _on_training_rows(self, action: Callable[[pd.DataFrame], T], part: pd.DataFrame) -> T:
        """``action(part)``; a data error names the row of the training table as read (the
        fitted part is a random subset of it), with a hint when joins left cells empty."""
        try:
            return action(part)
        except SchemaError as err:
            raised, checked = err, part
            if part is not self.full_train:
                full_table = self._full_train_as_fitted()
                try:  # the same check over the whole table, in file order, finds the row as read
                    action(full_table)
                except SchemaError as full:
                    raised, checked = full, full_table
            message = str(raised)
            if re.search(r"\brows? \d", message):
                message += (" (rows are counted from 0 in the training part of data.train after data.split and "
                            "data.join)" if self.config.data.split is not None else
                            " (rows are counted from 0 in the training data as read, after data.join)")
            message += side_table_note(raised, checked, self.tables.joins)  # a join's cell: its key and file
            raise raised.reworded(message + self.checks.unmatched_join_hint(message, self.full_train)
                                  + self.checks.history_hint(message)) from None

    def _full_train_as_fitted(self) -> pd.DataFrame:
        """The training table in file order with the columns the fitted and validation parts
        gained (the history column), for errors that name a row as read."""
        parts = [p for p in (self.fit_table, self.val_table) if p is not None]
        if len(parts) == 1 or self.config.data.history is None:
            return self.full_train if len(parts) > 1 else parts[0]
        return pd.concat(parts).loc[self.full_train.index]

    def prepare(self, table: pd.DataFrame) -> pd.DataFrame:
        """Raw interaction rows (e.g. a test file) made like the test split: the side columns
        the model reads joined from the ``data.join`` tables, and the history column built
        from the training data (``data.history``); ``data.filter.rows`` first. Columns it has are kept."""
        return prepare_rows(self, table)

    def evaluator(self, table: pd.DataFrame, *, exclude_seen: bool | None = None) -> RetrievalEvaluator:
        """A full-catalogue evaluator over the rows of ``table`` (raw rows go through :meth:`prepare` first)."""
        return build_evaluator(self, table, exclude_seen=exclude_seen)

    # ------------------------------------------------------------ actions
    def fit(self, *, resume_from: str | Path | None = None) -> History:
        """Trains with the config's ``train`` settings; validation drives early stopping.

        ``resume_from``: a checkpoint of a run of the same config and data (see
        :class:`~recstack.training.Trainer`); a changed model, features, task or data is refused.
        Without it, a second call raises :class:`~recstack.errors.AlreadyFittedError`.
        """
        cfg = self.config
        self._fit_state.before_fit(resume_from, cfg.train.epochs, self.run_dir)
        # a one-row batch has no negatives when the batch is all the softmax sees
        check_batch_size(cfg.train.batch_size, len(self.train_data),
                         in_batch_only=cfg.task.candidates == "in_batch" and cfg.task.num_negatives == 0)
        seed_everything(cfg.train.seed)
        val = self.evaluator(self.val_table) if self.val_table is not None else None
        # what a resumed run must share with the checkpoint's (stored in each checkpoint)
        data = cfg.data.resume_fingerprint()
        fingerprint = {"model": cfg.model.model_dump(mode="json"),
                       "features": self.schema.to_dict()["features"],  # every setting, defaults filled in
                       "task": cfg.task.model_dump(mode="json"),
                       "data": {**data, "training_rows": len(self.train_data),
                                "catalogue_items": len(self.catalogue.ids)}}
        trainer = Trainer(self.model, self.task, cfg.train, run_dir=self.run_dir, fingerprint=fingerprint)
        try:
            history = trainer.fit(self.train_data, evaluator=val, resume_from=resume_from)
        except BaseException as err:  # Ctrl-C too: the weights may have changed
            self._fit_state.failed_fit(err, len(getattr(trainer, "history", None) or []))
            raise
        self.history = history
        self._fit_state.after_fit(len(history))
        self.trainer = trainer
        return self.history

    def evaluate(self, table: pd.DataFrame | None = None, *, exclude_seen: bool | None = None) -> dict[str, float]:
        """Full-catalogue metrics on ``table`` (default: the test split); before :meth:`fit`, those
        of the initial weights (an untrained baseline), with a warning."""
        table = self.test_table if table is None else table
        if table is None:
            raise ConfigError("no test data: set data.test (or a dataset with a test split) or pass a table")
        self._fit_state.warn_if_untrained(self.model)
        self.model.eval()
        return self.evaluator(table, exclude_seen=exclude_seen)(self.model)

    def known_queries(self, table: pd.DataFrame | None = None) -> pd.DataFrame:
        """One raw row per user of ``table`` (default: all training data) with the query
        features' columns (see :func:`~recstack.experiment.export.stored_query_rows`); those of
        the training data are built once and reused (evaluation's cold start, the model)."""
        if table is not None and table is not self.full_train:
            return stored_query_rows(table, self.config, self.schema, self.query_features)
        return deep_copy_rows(self._known_rows())  # a caller's edits stay its own

    def _known_rows(self) -> pd.DataFrame:
        """The training data's stored query rows, built once (evaluation's cold start, the model)."""
        if self._known is None:
            self._known = stored_query_rows(self.full_train, self.config, self.schema, self.query_features,
                                            varying=self.checks.varying_columns(self.full_train))  # start-up scan
        return self._known

    def stored_users(self) -> StoredUsers:
        """The users the model keeps (query rows, seen items, users-table rows): built once, as
        the training data does not change after construction, and shared by :meth:`recommender`
        and :meth:`save`."""
        if self._stored is None:
            known = self._known_rows()
            user = self.config.data.user_column
            key_col = self.schema[self.candidate_key].source_column
            hist, time = self.config.data.history, self.config.data.time_column
            timeline = None
            if hist is not None and hist.eval_history == "before" and time is not None:
                timeline = Timeline.build(known[user], self.full_train, user=user, item=key_col, time=time,
                                          item_rows=self.catalogue.rows_of(self.full_train[key_col]),
                                          catalogue_size=len(self.catalogue.ids))
            self._stored = StoredUsers(
                known=known, seen=seen_items(known[user], self.full_train, user, key_col, self.catalogue),
                side=users_table_rows(known, self.config, self.schema, self.query_features, self.tables),
                timeline=timeline)
        return self._stored

    def recommender(self) -> Recommender:
        """The trained model as a :class:`Recommender` on raw inputs. It gets its own copies of
        the stored users (tables copy on write; the seen-items CSR is cloned), so what a caller
        does to one Recommender reaches neither another one nor a later :meth:`save`.
        Before :meth:`fit` it raises :class:`~recstack.errors.NotFittedError`."""
        self._fit_state.require_fitted("recommender", self.model)
        stored = self.stored_users().copy()
        return Recommender(
            model=self.model, preprocessor=self.preprocessor, candidate_ids=self.catalogue.ids,
            candidate_embeddings=self._candidate_embeddings(), query_column=self.config.data.user_column,
            known_queries=stored.known, seen=stored.seen, side_queries=stored.side, timeline=stored.timeline,
            metadata=artifact_metadata(self.config, self.tables), candidate_index=self.catalogue.index,
        )

    def _candidate_embeddings(self) -> torch.Tensor:
        """``(C, d)`` the catalogue's embeddings by the current weights."""
        with torch.no_grad():
            return self.model.candidate_embedding(self.catalogue.features).detach().float().contiguous()

    def save(self, directory: str | Path, *, metrics: dict[str, float] | None = None) -> Path:
        """Writes the artifact directory (see :mod:`recstack.artifacts`), and the training log
        (``history.csv``, ``history.json``; not part of the checksummed artifact) beside it.
        Before :meth:`fit` it raises :class:`~recstack.errors.NotFittedError`."""
        self._fit_state.require_fitted("save", self.model)
        stored = self.stored_users()
        extra: dict[str, Any] = artifact_metadata(self.config, self.tables)
        if metrics is not None:
            extra["metrics"] = metrics
        if self.history is not None:
            extra["history"] = self.history.to_list()
        path = save_artifact(
            directory, model=self.model, preprocessor=self.preprocessor, candidate_ids=self.catalogue.ids,
            candidate_embeddings=self._candidate_embeddings(), query_column=self.config.data.user_column,
            known_queries=stored.known, seen=stored.seen, extra=extra, side_queries=stored.side,
            timeline=stored.timeline,
            # the training log with the model, with or without a run folder, in the same atomic rename
            write_extra=None if self.history is None else self.history.write,
        )
        return path

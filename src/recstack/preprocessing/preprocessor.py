"""The preprocessing pipeline: a schema's features fitted on a table, then columnar tensors."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import torch

from recstack.errors import ArtifactError, ConfigError, SchemaError
from recstack.features import CategoricalFeature, Schema
from recstack.features.defaults import is_ragged_column
from recstack.preprocessing._cells import as_series
from recstack.preprocessing._features import FeatureTransformer, make_feature_transformer
from recstack.preprocessing._fitted import check_is_fitted
from recstack.preprocessing.outputs import OutputSpec
from recstack.preprocessing.vocabulary import Vocabulary

__all__ = ["Preprocessor"]

STATE_FORMAT = "recstack.preprocessor"
STATE_VERSION = 1


class Preprocessor:
    """Fits every feature of a schema on a training table and turns tables into tensors.

    ``transform`` returns ``{key: tensor}`` with keys and layouts given by :attr:`outputs`::

        categorical                 key=name           "id"    (n,)   int64
        numeric (as_value)          key=name           "value" (n,)   float32
        numeric (buckets/boundaries) key=name+".bucket" "id"    (n,)   int64
        multi_hot / sequence / text key=name           "ids"   (n, L) int64, 0 = padding

    ``schema.defaults`` fill missing entries of their raw column before any feature reads
    it. Columns no feature reads are ignored. Fitted state is plain JSON (:meth:`get_state`).

    Args:
        schema: the feature specs (and per-column defaults).

    Example:
        >>> schema = Schema.from_dict({"user_id": {"type": "categorical"}})
        >>> pp = Preprocessor(schema).fit(pd.DataFrame({"user_id": ["a", "b", "a"]}))
        >>> pp.transform(pd.DataFrame({"user_id": ["a", "zzz"]}))["user_id"].tolist()
        [2, 1]
    """

    def __init__(self, schema: Schema) -> None:
        self.schema = schema

    # ------------------------------------------------------------------ fitting
    def fit(self, table: pd.DataFrame) -> Preprocessor:
        """Fits every feature on ``table`` (the training split only); returns ``self``."""
        if not isinstance(self.schema, Schema):
            raise ConfigError(f"Preprocessor: schema must be a recstack Schema, got {type(self.schema).__name__}")
        columns = self._columns(table, self.schema.names)
        fitted: dict[str, FeatureTransformer] = {}
        for spec in self._fit_order():
            transformer = make_feature_transformer(spec, fitted)
            with _feature_errors(spec.name, spec.source_column):
                transformer.fit(_feature_input(spec, columns))
            fitted[spec.name] = transformer
        self.transformers_ = {name: fitted[name] for name in self.schema.names}
        return self

    def _fit_order(self) -> list[Any]:
        """Categoricals first, so sequences with ``source`` find their vocabulary."""
        feats = list(self.schema)
        return [f for f in feats if isinstance(f, CategoricalFeature)] + [
            f for f in feats if not isinstance(f, CategoricalFeature)
        ]

    def fit_transform(self, table: pd.DataFrame) -> dict[str, torch.Tensor]:
        return self.fit(table).transform(table)

    # ------------------------------------------------------------------ transforming
    def transform(self, table: pd.DataFrame, *, features: Sequence[str] | None = None) -> dict[str, torch.Tensor]:
        """``table`` (n rows) -> ``{key: tensor}`` per :attr:`outputs` (see the class docstring).

        Args:
            table: raw rows; only the columns the selected features read are required.
            features: transform only these features (e.g. a query tower's), in this order;
                ``None``: all of them.
        """
        check_is_fitted(self, "transformers_")
        if isinstance(features, str):
            features = [features]
        names = list(self.transformers_) if features is None else list(features)
        for name in names:
            self._transformer(name)
        columns = self._columns(table, names)
        out: dict[str, torch.Tensor] = {}
        for name in names:
            transformer = self.transformers_[name]
            with _feature_errors(name, transformer.spec.source_column):
                arrays = transformer.transform(_feature_input(transformer.spec, columns))
            out.update({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()})
        return out

    def encode(self, feature: str, values: Any) -> dict[str, torch.Tensor]:
        """Encodes raw values ``(n,)`` of one feature, e.g. raw item IDs at serving time.

        Applies the column's default, then returns the same ``{key: tensor}`` entries that
        :meth:`transform` gives for this feature (``pp.encode("item_id", ids)["item_id"]``).
        """
        check_is_fitted(self, "transformers_")
        transformer = self._transformer(feature)
        column = transformer.spec.source_column
        if transformer.spec.flag_columns:
            raise ConfigError(f"feature {feature!r} reads the columns {list(transformer.spec.source_columns)}, not "
                              f"one column of values; give them as a table: transform(table, features=[{feature!r}])")
        with _feature_errors(feature, column):
            arrays = transformer.transform(self._fill_default(as_series(values), column))
        return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()}

    def _columns(self, table: pd.DataFrame, names: list[str]) -> dict[str, pd.Series]:
        """The raw columns that features ``names`` read, validated, with defaults applied."""
        if isinstance(table, Mapping):
            table = _frame(table)
        if not isinstance(table, pd.DataFrame):
            raise SchemaError(f"expected a pandas DataFrame, got {type(table).__name__}")
        if len(table) == 0:
            raise SchemaError("empty table: it has 0 rows; preprocessing needs at least one row (check the split/filter)")
        needed: dict[str, list[str]] = {}
        for name in names:
            for c in self.schema[name].source_columns:
                needed.setdefault(c, []).append(name)
        labels = _column_labels(table, list(needed))
        missing = [c for c in needed if c not in labels]
        if missing:
            raise self._missing_error(missing, needed, table)
        columns = {}
        for c in needed:
            col = table[labels[c]]
            if isinstance(col, pd.DataFrame):
                raise SchemaError(f"column {c!r} appears {col.shape[1]} times in the table; column names must be unique")
            columns[c] = self._fill_default(col, c)
        return columns

    def _missing_error(self, missing: list[str], needed: dict[str, list[str]], table: pd.DataFrame) -> SchemaError:
        """The error for columns the table lacks, each with the features reading it; the fix fits
        how a feature reads it: ``column`` for its one column, ``features.<f>.flags`` for a flag."""
        def is_flag(column: str, feature: str) -> bool:
            return column in self.schema[feature].flag_columns

        def readers(c: str) -> str:
            return ", ".join(f"a flag of feature {f}" if is_flag(c, f) else f"feature {f}" for f in needed[c])

        which = ", ".join(f"{c!r} ({readers(c)})" for c in missing)
        flagged = list(dict.fromkeys(f for c in missing for f in needed[c] if is_flag(c, f)))
        plain = list(dict.fromkeys(f for c in missing for f in needed[c] if not is_flag(c, f)))
        fixes = [f"set column: <name> on feature {', '.join(plain)}" if flagged else
                 "set column: <name> on the feature"] if plain else []
        fixes += [f"correct features.{f}.flags (each name is a 0/1 column of the table)" for f in flagged]
        return SchemaError(
            f"missing column(s) {which}; the table has columns {table.columns.tolist()!r}"
            + ("" if all(isinstance(c, str) for c in table.columns) else
               " (a label that is not a string matches by its string form: column 0 is '0')")
            + f"; rename the column, {', '.join(fixes)}, or remove the feature"
        )

    def _fill_default(self, s: pd.Series, column: str) -> pd.Series:
        """Applies ``schema.defaults[column]`` (checked by the schema) to missing entries.

        In a column read only by ``multi_hot``/``sequence`` features, a list default is one
        row's labels and a number (or a string where a feature has no separator) a one-label
        row; both fill missing cells as a tuple, which mixes with list and string cells.
        """
        if column not in self.schema.defaults or not s.hasnans:
            return s
        value = self.schema.defaults[column]
        if is_ragged_column(column, self.schema.features):
            as_string = isinstance(value, str) and all(
                getattr(f, "separator", None) is not None for f in self.schema if f.source_column == column
            )
            if not as_string:  # a row of labels: a tuple cell, so it mixes with lists and strings
                row = tuple(value) if isinstance(value, list) else (value,)
                out = s.astype(object).to_numpy(copy=True)
                for i in np.flatnonzero(s.isna().to_numpy(dtype=bool)):  # the missing cells only
                    out[i] = row
                return pd.Series(out, index=s.index, dtype=object, name=s.name)
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        if pd.api.types.is_float_dtype(s.dtype) and numeric:
            return s.fillna(float(value))
        if pd.api.types.is_string_dtype(s.dtype) and s.dtype != object and isinstance(value, str):
            return s.fillna(value)
        return s.astype(object).fillna(value)

    # ------------------------------------------------------------------ fitted results
    @property
    def outputs(self) -> list[OutputSpec]:
        """One :class:`OutputSpec` per tensor of :meth:`transform`, in schema order."""
        check_is_fitted(self, "transformers_")
        return [o for t in self.transformers_.values() for o in t.outputs()]

    def vocabulary(self, feature: str) -> Vocabulary:
        """The fitted vocabulary behind an ID feature (to map model indices back to raw IDs).

        A sequence with ``source`` returns the source's vocabulary; a text feature its
        token vocabulary.

        Raises:
            ConfigError: the feature is numeric or hashed (no vocabulary), or unknown.
        """
        check_is_fitted(self, "transformers_")
        t = self._transformer(feature)
        vocab = t.get_vocabulary()
        if vocab is None:
            raise ConfigError(
                f"feature {feature!r} ({t.spec.type}) has no vocabulary"
                + ("; it hashes IDs (num_buckets), so indices cannot be mapped back" if t.spec.type == "categorical" else "")
            )
        return vocab

    def _transformer(self, feature: str) -> FeatureTransformer:
        if feature not in self.transformers_:
            raise ConfigError(f"unknown feature {feature!r}; known: {', '.join(self.transformers_)}")
        return self.transformers_[feature]

    # ------------------------------------------------------------------ state
    def get_state(self) -> dict[str, Any]:
        """Plain JSON-able state: the schema and every feature's fitted state."""
        check_is_fitted(self, "transformers_")
        return {
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "schema": self.schema.to_dict(),
            "features": {name: t.get_state() for name, t in self.transformers_.items()},
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Preprocessor:
        """Rebuilds a fitted preprocessor from :meth:`get_state` output (transforms are identical)."""
        if not isinstance(state, Mapping) or state.get("format") != STATE_FORMAT:
            raise ArtifactError(f"preprocessor state: expected a dict with format {STATE_FORMAT!r}")
        version = state.get("version")
        if type(version) is not int or version != STATE_VERSION:  # True == 1, but is no version
            raise ArtifactError(
                f"preprocessor state: version {version!r} is not supported (this recstack "
                f"reads version {STATE_VERSION}); refit, or load it with the recstack version that wrote it"
            )
        for key in ("schema", "features"):
            if not isinstance(state.get(key), Mapping):
                raise ArtifactError(
                    f"preprocessor state: {key!r} is {'missing' if key not in state else type(state[key]).__name__}, "
                    f"expected a dict; was it written by Preprocessor.get_state()?"
                )
        schema = state["schema"]
        if not isinstance(schema.get("features"), Mapping):
            raise ArtifactError("preprocessor state: 'schema' has no 'features' dict; was it written by Preprocessor.get_state()?")
        try:
            pp = cls(Schema.from_json_dict(schema))
        except (TypeError, ValueError) as err:  # ConfigError is a ValueError
            raise ArtifactError(f"preprocessor state: 'schema' is invalid: {err}") from None
        features = state["features"]
        missing = [n for n in pp.schema.names if n not in features]
        if missing:
            raise ArtifactError(f"preprocessor state: no fitted state for features {missing}")
        fitted: dict[str, FeatureTransformer] = {}
        for spec in pp._fit_order():
            transformer = make_feature_transformer(spec, fitted)
            try:
                transformer.set_state(features[spec.name])
            except ArtifactError as err:
                raise ArtifactError(f"preprocessor state: feature {spec.name!r}: {err}") from None
            except (KeyError, TypeError, ValueError) as err:
                raise ArtifactError(f"preprocessor state: feature {spec.name!r} is malformed ({err!r})") from None
            fitted[spec.name] = transformer
        pp.transformers_ = {name: fitted[name] for name in pp.schema.names}
        return pp

    def __repr__(self) -> str:
        fitted = "fitted" if hasattr(self, "transformers_") else "not fitted"
        return f"Preprocessor({self.schema!r}, {fitted})"


def _feature_input(spec: Any, columns: dict[str, pd.Series]) -> Any:
    """What a feature's transformer reads: its column, or ``{flag: column}`` for flag columns."""
    if spec.flag_columns:
        return {c: columns[c] for c in spec.flag_columns}
    return columns[spec.source_column]


def _frame(columns: Mapping[Any, Any]) -> pd.DataFrame:
    """A mapping of columns as a table, built one way whatever its strings hold: Series align by
    index label, lists and arrays by position (as ``pd.DataFrame(mapping)``), and every list or
    array goes through :func:`as_series` first, so a lone surrogate (``"\\udce9"``: no UTF-8
    form, no ``str`` column) keeps object dtype, and integer IDs with a gap stay exact instead
    of float64. Scalars broadcast, as in pandas."""
    lists = {k: as_series(v) for k, v in columns.items()
             if not isinstance(v, (pd.Series, Mapping, str, bytes)) and isinstance(v, Iterable)}
    # pandas' index and length rules on stand-ins (range: by position), then the columns as built
    try:
        frame = pd.DataFrame({k: range(len(lists[k])) if k in lists else v for k, v in columns.items()})
    except ValueError as err:  # pandas' bare message; ours names the columns' lengths
        lengths = {k: len(v) for k, v in columns.items() if hasattr(v, "__len__") and not isinstance(v, (str, bytes))}
        raise SchemaError(f"the mapping's columns do not make a table ({err}); give every column one value per "
                          "row" + (f" (lengths: {lengths!r})" if lengths else "")) from None
    for k, s in lists.items():
        frame[k] = s.set_axis(frame.index)  # same labels: assigned as it is (object stays object)
    return frame


def _column_labels(table: pd.DataFrame, columns: list[str]) -> dict[str, Any]:
    """The table's label for each schema column: itself, or a non-string label with that string form
    (``read_table(header=None)`` labels columns ``0, 1, ...``; a feature reads ``"0"``)."""
    by_text: dict[str, list[Any]] = {}
    for label in table.columns:
        if not isinstance(label, str):
            by_text.setdefault(str(label), []).append(label)
    out: dict[str, Any] = {}
    for c in columns:
        if c in table.columns:
            out[c] = c
        elif c in by_text:
            if len(by_text[c]) > 1:
                raise SchemaError(
                    f"column {c!r}: the table has several columns labelled {c} ({by_text[c]!r}); "
                    "give the table unique string column names, e.g. table.columns = ['user_id', ...]"
                )
            out[c] = by_text[c][0]
    return out


@contextmanager
def _feature_errors(feature: str, column: str) -> Iterator[None]:
    """Prefixes schema errors with the feature that raised them, and records it (and its
    ``column``, where the error names none) on the error, keeping its class and rows."""
    try:
        yield
    except SchemaError as err:
        raise err.reworded(f"feature {feature!r}: {err}", feature=feature, column=err.column or column) from None

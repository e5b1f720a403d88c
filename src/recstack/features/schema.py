"""A schema: the named feature specs of an experiment plus per-column default values."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Annotated, Any, Union

from pydantic import Field, ValidationError

from recstack._validation import format_validation_error
from recstack.errors import ConfigError
from recstack.features.base import FeatureSpec
from recstack.features.categorical import CategoricalFeature
from recstack.features.defaults import check_defaults
from recstack.features.multi_hot import MultiHotFeature
from recstack.features.numeric import NumericFeature
from recstack.features.sequence import SequenceFeature
from recstack.features.text import TextFeature

__all__ = ["Schema", "AnyFeature", "FEATURE_TYPES", "parse_feature"]

AnyFeature = Annotated[
    Union[CategoricalFeature, NumericFeature, MultiHotFeature, SequenceFeature, TextFeature],
    Field(discriminator="type"),
]
FEATURE_TYPES: dict[str, type[FeatureSpec]] = {
    "categorical": CategoricalFeature,
    "numeric": NumericFeature,
    "multi_hot": MultiHotFeature,
    "sequence": SequenceFeature,
    "text": TextFeature,
}


def parse_feature(name: str, spec: Mapping[str, Any], *, path: str = "features") -> Any:
    """Validates one feature spec given as a dict; errors name ``path.name.key``."""
    if not isinstance(spec, Mapping):
        raise ConfigError(f"{path}.{name}: expected a mapping like {{type: categorical}}, got {spec!r}")
    if "type" not in spec:
        raise ConfigError(f"{path}.{name}.type: missing; one of {', '.join(FEATURE_TYPES)}")
    if not isinstance(spec["type"], str) or spec["type"] not in FEATURE_TYPES:
        raise ConfigError(
            f"{path}.{name}.type: unknown feature type {spec['type']!r}; one of {', '.join(FEATURE_TYPES)}"
        )
    data = dict(spec)
    if "name" in data and data["name"] != name:  # the key is the name; another one would rename it
        raise ConfigError(f"{path}.{name}.name: {data['name']!r} is not the feature's key {name!r}; leave name out "
                          "(the key names the feature; column: names the raw column it reads)")
    data["name"] = name
    cls = FEATURE_TYPES[spec["type"]]
    try:
        return cls.model_validate(data)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, f"{path}.{name}", cls)) from None


class Schema:
    """Ordered feature specs plus default values for missing raw data.

    Args:
        features: the specs; names must be unique.
        defaults: per raw column, the value that replaces missing entries before any
            feature sees it (the ``fillna`` step written by hand today): a string, number or
            boolean; for a column read only by ``multi_hot``/``sequence`` features also a
            list, one row's labels. Checked here (:func:`~recstack.features.defaults.check_defaults`),
            NumPy scalars stored as Python values.

    Example:
        >>> s = Schema.from_dict({"user_id": {"type": "categorical"},
        ...                       "genres": {"type": "multi_hot", "separator": "|"}})
        >>> s.names
        ['user_id', 'genres']
    """

    def __init__(self, features: list[Any], *, defaults: Mapping[str, Any] | None = None) -> None:
        names = [f.name for f in features]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ConfigError(f"features: duplicate feature names {dup}")
        if any(not n for n in names):
            raise ConfigError("features: every feature needs a non-empty name")
        dotted = [n for n in names if "." in n]
        if dotted:  # "age.bucket" is the key of age's bucket IDs: a feature of that name would replace it
            raise ConfigError(f"features.{dotted[0]}: a feature name cannot contain '.' (reserved for derived "
                              f"outputs such as age.bucket); rename it, e.g. {dotted[0].replace('.', '_')}")
        self.features: list[Any] = list(features)
        self._by_name = {f.name: f for f in self.features}
        self._check_sources()
        self.defaults: dict[str, Any] = check_defaults({} if defaults is None else defaults, self.features)

    def _check_sources(self) -> None:
        for f in self.features:
            src = getattr(f, "source", None)
            if src is None:
                continue
            target = self._by_name.get(src)
            if target is None:
                raise ConfigError(
                    f"features.{f.name}.source: {src!r} is not a feature; known: {', '.join(self.names)}"
                )
            if not isinstance(target, CategoricalFeature) or target.num_buckets is not None:
                raise ConfigError(
                    f"features.{f.name}.source: {src!r} must be a categorical feature with a vocabulary"
                )
            if f.embedding_dim is not None and f.embedding_dim != target.embedding_dim:
                theirs = ("sets none, so the model's embedding_dim sizes the table" if target.embedding_dim is None
                          else f"sets {target.embedding_dim}")
                raise ConfigError(
                    f"features.{f.name}.embedding_dim: {f.embedding_dim}, but its source {src!r} {theirs}; "
                    f"{f.name} and {src} share one embedding table of one size: set embedding_dim on "
                    f"features.{src} (e.g. {f.embedding_dim}) and remove it from features.{f.name}"
                )

    @classmethod
    def from_dict(cls, features: Mapping[str, Any], *, defaults: Mapping[str, Any] | None = None) -> Schema:
        """Builds a schema from ``{name: {type: ..., ...}}`` (the config's ``features``)."""
        if not isinstance(features, Mapping) or not features:
            raise ConfigError("features: expected a non-empty mapping of feature name -> spec")
        return cls([parse_feature(str(k), v) for k, v in features.items()], defaults=defaults)

    def to_dict(self) -> dict[str, Any]:
        """``{"features": {name: spec}, "defaults": {...}}``, JSON-able, round-trips."""
        feats = {}
        for f in self.features:
            d = f.to_dict()
            d.pop("name")
            feats[f.name] = d
        return {"features": feats, "defaults": {k: list(v) if isinstance(v, list) else v
                                                for k, v in self.defaults.items()}}

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> Schema:
        """Inverse of :meth:`to_dict`."""
        return cls.from_dict(data["features"], defaults=data.get("defaults"))

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def columns(self) -> list[str]:
        """The raw columns the features read (unique, in order; every flag column of a ``multi_hot``
        with ``flags``)."""
        return self.columns_of(self.names)

    def columns_of(self, names: Iterable[str]) -> list[str]:
        """The raw columns that features ``names`` read (unique, in order): each one's
        :attr:`~recstack.features.FeatureSpec.source_columns`."""
        return list(dict.fromkeys(c for n in names for c in self[n].source_columns))

    def select(self, names: list[str]) -> Schema:
        """A schema with only ``names`` (plus the features they take vocabularies from)."""
        missing = [n for n in names if n not in self._by_name]
        if missing:
            raise ConfigError(f"unknown features {missing}; known: {', '.join(self.names)}")
        keep = set(names)
        for n in names:
            src = getattr(self._by_name[n], "source", None)
            if src:
                keep.add(src)
        return Schema([f for f in self.features if f.name in keep], defaults=self.defaults)

    def __getitem__(self, name: str) -> Any:
        try:
            return self._by_name[name]
        except KeyError:
            raise ConfigError(f"unknown feature {name!r}; known: {', '.join(self.names)}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[Any]:
        return iter(self.features)

    def __len__(self) -> int:
        return len(self.features)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schema) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"Schema({', '.join(f'{f.name}:{f.type}' for f in self.features)})"

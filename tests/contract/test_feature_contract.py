"""House rules for every feature type of the schema (enumerated from ``FEATURE_TYPES``):
defaults that work, spec to_dict/from_dict round trip, unknown keys rejected as
``features.<name>.<key>``, NotFittedError before fit, and fitted outputs that follow their
``OutputSpec`` (dtype, shape, indices inside the embedding table) before and after a JSON
state round trip. A new feature type needs an entry in ``EXAMPLES``."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest
import torch

from recstack.config import ExperimentConfig
from recstack.errors import ConfigError, NotFittedError
from recstack.features import FEATURE_TYPES, FeatureSpec, Schema, parse_feature
from recstack.preprocessing import Preprocessor

TYPES = sorted(FEATURE_TYPES)

# type -> (a spec with non-default settings, training values, probe values incl. unseen/missing)
EXAMPLES: dict[str, tuple[dict[str, Any], list[Any], list[Any]]] = {
    "categorical": ({"type": "categorical", "column": "raw", "min_count": 2, "max_size": 5, "num_oov": 2,
                     "embedding_dim": 3}, ["a", "b", "a", 7, "c", 7, "a"], ["a", "zz", 7, None, "c"]),
    "numeric": ({"type": "numeric", "fill": "median", "log": True, "normalize": True, "buckets": 3},
                [1.0, 2.0, None, 10.0, 3.0, 0.0], [None, 5.0, 0.0, 1e6]),
    "multi_hot": ({"type": "multi_hot", "separator": ";", "max_length": 2, "pooling": "sum", "num_oov": 2},
                  ["a;b", "b", "c;a;b", "a"], ["a;zz", "b;c;a", "", None]),
    "sequence": ({"type": "sequence", "separator": ",", "max_length": 3, "keep": "first", "encoder": "max",
                  "num_oov": 3}, ["x,y,z,w", "y", "z,x"], ["y,x", "q,x,y,z", None, []]),
    "text": ({"type": "text", "split": ":", "lowercase": False, "max_tokens": 5, "max_length": 2,
              "pooling": "max"}, ["A:b", "b:c:d", "a:A"], ["A:zz", "b:c:d:a", None]),
}


def example(ftype: str) -> tuple[dict[str, Any], list[Any], list[Any]]:
    if ftype not in EXAMPLES:
        pytest.fail(f"feature type {ftype!r} has no example: add one to EXAMPLES in {__file__}")
    spec, train, probe = EXAMPLES[ftype]
    return dict(spec), list(train), list(probe)


def fitted(ftype: str) -> tuple[Preprocessor, pd.DataFrame, pd.DataFrame]:
    spec, train, probe = example(ftype)
    column = spec.get("column") or "f"
    pp = Preprocessor(Schema.from_dict({"f": spec}))
    return pp.fit(pd.DataFrame({column: train})), pd.DataFrame({column: train}), pd.DataFrame({column: probe})


@pytest.mark.parametrize("ftype", TYPES)
def test_type_name_and_working_defaults(ftype):
    cls = FEATURE_TYPES[ftype]
    assert issubclass(cls, FeatureSpec)
    spec = parse_feature("f", {"type": ftype})
    assert type(spec) is cls and spec.type == ftype and spec.name == "f" and spec.source_column == "f"
    assert cls.model_fields["type"].default == ftype


@pytest.mark.parametrize("ftype", TYPES)
def test_spec_round_trips_through_json(ftype):
    raw, _, _ = example(ftype)
    spec = parse_feature("f", raw)
    d = spec.to_dict()
    # context: false is left out, so specs and resume fingerprints written before it existed still match
    assert set(d) | {"context"} == set(type(spec).model_fields), "to_dict must export every setting"
    assert {k: d[k] for k in raw} == raw, "to_dict changed a given setting"
    assert d != parse_feature("f", {"type": ftype}).to_dict(), "the example must set non-default values"
    again = json.loads(json.dumps(d))
    assert parse_feature(again.pop("name"), again) == spec
    # a numeric feature's column takes a number as its default (data.defaults.f: 'x' is a ConfigError)
    schema = Schema.from_dict({"f": raw}, defaults={"f": 0.5 if ftype == "numeric" else "x"})
    assert Schema.from_json_dict(json.loads(json.dumps(schema.to_dict()))) == schema
    assert schema.to_dict()["features"]["f"] == {k: v for k, v in d.items() if k != "name"}


@pytest.mark.parametrize("ftype", TYPES)
def test_unknown_key_is_rejected_naming_the_path(ftype):
    raw, _, _ = example(ftype)
    with pytest.raises(ConfigError, match=r"^features\.genre_ids\.max_lenght: unknown key"):
        parse_feature("genre_ids", {**raw, "max_lenght": 3})
    with pytest.raises(ConfigError, match=r"features\.genre_ids\.max_lenght: unknown key"):
        Schema.from_dict({"genre_ids": {**raw, "max_lenght": 3}})
    config = {"data": {"dataset": "synthetic"}, "features": {"user_id": {"type": "categorical"},
              "genre_ids": {**raw, "max_lenght": 3}}, "model": {"kind": "two_tower", "query": ["user_id"],
              "candidate": ["user_id"]}}
    with pytest.raises(ConfigError, match=r"features\.genre_ids\.max_lenght: unknown key"):
        ExperimentConfig.from_dict(config)


@pytest.mark.parametrize("ftype", TYPES)
def test_wrong_type_name_lists_every_type(ftype):
    with pytest.raises(ConfigError, match=r"features\.f\.type: unknown feature type") as err:
        parse_feature("f", {"type": ftype + "s"})
    assert all(t in str(err.value) for t in TYPES)


@pytest.mark.parametrize("ftype", TYPES)
def test_use_before_fit_raises_not_fitted_error(ftype):
    raw, train, _ = example(ftype)
    pp = Preprocessor(Schema.from_dict({"f": raw}))
    table = pd.DataFrame({raw.get("column") or "f": train})
    for call in (lambda: pp.transform(table), lambda: pp.encode("f", train), lambda: pp.outputs, pp.get_state):
        with pytest.raises(NotFittedError, match=r"Preprocessor is not fitted yet: call Preprocessor\.fit"):
            call()
    assert not hasattr(pp, "transformers_")


@pytest.mark.parametrize("ftype", TYPES)
def test_fitted_outputs_follow_their_specs(ftype):
    pp, train, probe = fitted(ftype)
    for table in (train, probe):
        out = pp.transform(table)
        assert list(out) == [o.key for o in pp.outputs]
        for o in pp.outputs:
            x = out[o.key]
            assert o.feature == "f" and x.shape[0] == len(table)
            if o.kind == "value":
                assert x.dtype == torch.float32 and x.ndim == 1 and torch.isfinite(x).all()
                continue
            assert x.dtype == torch.int64 and x.ndim == (1 if o.kind == "id" else 2), o
            assert 0 <= int(x.min()) and int(x.max()) < o.cardinality, f"{o.key}: index outside its table"
    if any(o.kind != "value" for o in pp.outputs):
        ids = pp.transform(probe)[pp.outputs[-1].key]
        assert (ids != 0).any(), "present values never map to padding"


@pytest.mark.parametrize("ftype", TYPES)
def test_state_round_trip_gives_identical_tensors(ftype):
    pp, train, probe = fitted(ftype)
    again = Preprocessor.from_state(json.loads(json.dumps(pp.get_state())))
    assert again.outputs == pp.outputs
    for table in (train, probe):
        a, b = pp.transform(table), again.transform(table)
        assert list(a) == list(b)
        for k in a:
            assert torch.equal(a[k], b[k]), k

"""Bad input found by the third walkthrough: each case gets a clear error (or a sensible result)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from recstack.errors import ArtifactError, ConfigError
from recstack.features import Schema
from recstack.preprocessing import NumericTransformer, Preprocessor


def _state() -> dict:
    pp = Preprocessor(Schema.from_dict({"user_id": {"type": "categorical"}})).fit(pd.DataFrame({"user_id": ["a", "b"]}))
    return json.loads(json.dumps(pp.get_state()))


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda s: s.pop("schema"), "'schema' is missing"),
        (lambda s: s.pop("features"), "'features' is missing"),
        (lambda s: s.update(schema=[1]), "'schema' is list"),
        (lambda s: s.update(version=True), "version True"),
        (lambda s: s.update(version=1.0), "version 1.0"),
        (lambda s: s["schema"].pop("features"), "no 'features'"),
        (lambda s: s["schema"].update(features={"u": {"type": "nope"}}), "'schema' is invalid"),
    ],
)
def test_malformed_preprocessor_state_is_an_artifact_error(edit, match):
    state = _state()
    edit(state)
    with pytest.raises(ArtifactError, match=match):
        Preprocessor.from_state(state)


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        ({"fill": float("nan")}, "features.age.fill"),
        ({"fill": float("inf"), "buckets": 2, "as_value": False}, "features.age.fill"),
        ({"fill": float("-inf")}, "features.age.fill"),
        ({"boundaries": [float("-inf"), 0.0]}, "features.age.boundaries"),
        ({"boundaries": [0.0, float("nan")]}, "features.age.boundaries"),
    ],
)
def test_non_finite_numeric_settings_name_the_config_path(spec, path):
    with pytest.raises(ConfigError, match=rf"^{path}: .*finite"):
        Schema.from_dict({"age": {"type": "numeric", **spec}})


def test_numeric_transformer_rejects_a_non_finite_fill():
    with pytest.raises(ConfigError, match="finite"):
        NumericTransformer(fill=float("nan")).fit([1.0, None])

"""House rules over every transformer: fit returns self, NotFittedError, JSON state round trip,
and the pinned public surface of ``recstack.preprocessing``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import recstack.preprocessing as pp
from recstack.errors import NotFittedError
from recstack.preprocessing import Discretizer, Hasher, NumericTransformer, Tokenizer, Vocabulary

# (factory, training data, probe data)
CASES: dict[str, tuple[Callable[[], Any], list[Any], list[Any]]] = {
    "Vocabulary": (lambda: Vocabulary(num_oov=3), ["a", "b", "a", 1], ["a", "zz", 1, None]),
    "Tokenizer": (lambda: Tokenizer(split=":"), ["a:b", "b:c:d"], ["a:zz", None]),
    "NumericTransformer": (lambda: NumericTransformer(fill="mean", log=True, normalize=True, buckets=3),
                           [1.0, 2.0, None, 30.0], [None, 5.0, 0.0]),
    "Discretizer": (lambda: Discretizer(num_bins=3), [1.0, 2.0, 3.0, 4.0], [0.0, 2.5, 9.0]),
    "Hasher": (lambda: Hasher(16), ["a"], ["a", "b", None]),
}


def as_arrays(out: Any) -> list[np.ndarray]:
    if isinstance(out, tuple):
        return [np.asarray(o) for o in out if o is not None]
    return [np.asarray(out)]


@pytest.mark.parametrize("name", sorted(CASES))
def test_fit_returns_self_and_state_round_trips_through_json(name):
    factory, train, probe = CASES[name]
    obj = factory()
    assert obj.fit(train) is obj
    state = obj.get_state()
    assert state["class"] == name
    again = type(obj).from_state(json.loads(json.dumps(state)))
    for a, b in zip(as_arrays(obj.transform(probe)), as_arrays(again.transform(probe))):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", sorted(set(CASES) - {"Hasher"}))  # Hasher is stateless
def test_unfitted_use_raises_not_fitted_error_naming_the_class(name):
    factory, _, probe = CASES[name]
    with pytest.raises(NotFittedError, match=rf"{name} is not fitted.*call {name}\.fit"):
        factory().transform(probe)


@pytest.mark.parametrize("name", sorted(CASES))
def test_init_stores_settings_only(name):
    obj = CASES[name][0]()
    assert not [k for k in vars(obj) if k.endswith("_")]


def test_public_surface_is_pinned():
    assert sorted(pp.__all__) == [
        "Discretizer",
        "Hasher",
        "NumericOutput",
        "NumericTransformer",
        "OutputKind",
        "OutputSpec",
        "Preprocessor",
        "Tokenizer",
        "Vocabulary",
        "pad",
        "split_ragged",
        "stable_hash",
        "to_float",
    ]
    for name in pp.__all__:
        assert hasattr(pp, name)

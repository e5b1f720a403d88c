"""Discretizer: Keras-style searchsorted(right) buckets, explicit and quantile boundaries."""

from __future__ import annotations

import json

import numpy as np
import pytest

from recstack.errors import ConfigError, NotFittedError, SchemaError
from recstack.preprocessing import Discretizer


def test_explicit_boundaries_right_side():
    d = Discretizer(boundaries=[0.0, 1.0, 2.5]).fit()
    assert d.transform([-5.0, 0.0, 0.99, 1.0, 2.5, 100.0]).tolist() == [0, 1, 1, 2, 3, 3]
    assert d.num_bins_ == 4


def test_quantile_boundaries_match_numpy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=1000)
    d = Discretizer(num_bins=4).fit(x)
    expected = np.quantile(x, [0.25, 0.5, 0.75])
    np.testing.assert_allclose(d.boundaries_, expected)
    np.testing.assert_array_equal(d.transform(x), np.searchsorted(expected, x, side="right"))
    assert np.bincount(d.transform(x)).tolist() == [250, 250, 250, 250]


def test_tied_quantiles_are_deduplicated_and_a_tied_minimum_gets_its_own_bucket():
    d = Discretizer(num_bins=4).fit([1.0, 1.0, 1.0, 1.0, 2.0])
    assert d.num_bins_ == 2
    assert d.transform([1.0, 1.0, 2.0, 0.5, 3.0]).tolist() == [0, 0, 1, 0, 1]  # a boundary at 1.0 would merge them
    zeros = np.r_[np.zeros(90), np.arange(1, 11)]
    assert np.bincount(Discretizer(num_bins=4).fit(zeros).transform(zeros)).tolist() == [90, 10]


def test_settings_are_validated():
    with pytest.raises(ConfigError, match="exactly one"):
        Discretizer().fit([1.0])
    with pytest.raises(ConfigError, match="strictly increasing"):
        Discretizer(boundaries=[1.0, 1.0]).fit()
    with pytest.raises(SchemaError, match="'x'"):
        Discretizer(num_bins=3).fit([np.nan], column="x")


def test_not_fitted_and_state():
    with pytest.raises(NotFittedError, match="Discretizer"):
        Discretizer(num_bins=3).transform([1.0])
    d = Discretizer(num_bins=3).fit(np.arange(10.0))
    e = Discretizer.from_state(json.loads(json.dumps(d.get_state())))
    assert e.transform(np.arange(10.0)).tolist() == d.transform(np.arange(10.0)).tolist()

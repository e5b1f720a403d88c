"""NumericTransformer: fill, log1p, standardize, buckets on the logged value; errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from recstack.errors import NotFittedError, SchemaError
from recstack.preprocessing import NumericTransformer, to_float


def test_plain_value_passes_through_as_float32():
    t = NumericTransformer().fit([1, 2, 3])
    out = t.transform([4, 5])
    assert out.value.dtype == np.float32 and out.value.tolist() == [4.0, 5.0]
    assert out.bucket is None


@pytest.mark.parametrize(
    ("fill", "expected"), [(10.0, 10.0), ("mean", 3.0), ("median", 2.0)]
)
def test_fill_is_fitted_on_training_values(fill, expected):
    t = NumericTransformer(fill=fill).fit([1.0, 2.0, 6.0, None])
    assert t.fill_value_ == expected
    assert t.transform([None, 7.0]).value.tolist() == [expected, 7.0]


def test_missing_without_fill_names_column_row_and_fix():
    with pytest.raises(SchemaError, match=r"column 'age': row 2 is missing.*set fill.*data.defaults"):
        NumericTransformer().fit([1.0, 2.0, np.nan, None], column="age")
    t = NumericTransformer().fit([1.0])
    with pytest.raises(SchemaError, match="row 1 is missing"):
        t.transform(pd.Series([1.0, None], index=[10, 20]), column="age")


def test_log1p_and_its_domain():
    t = NumericTransformer(log=True).fit([0.0, 9.0])
    np.testing.assert_allclose(t.transform([0.0, 9.0, 99.0]).value, np.log1p([0.0, 9.0, 99.0]).astype(np.float32))
    with pytest.raises(SchemaError, match=r"column 'price': row 1 holds -1.0; log1p needs values > -1"):
        NumericTransformer(log=True).fit([0.0, -1.0], column="price")


def test_standardize_matches_numpy_population_std():
    x = np.array([1.0, 2.0, 3.0, 10.0])
    t = NumericTransformer(normalize=True).fit(x)
    np.testing.assert_allclose(t.transform(x).value, ((x - x.mean()) / x.std()).astype(np.float32), rtol=1e-6)
    assert t.mean_ == pytest.approx(4.0)


def test_constant_column_std_becomes_one():
    t = NumericTransformer(normalize=True).fit([5.0, 5.0])
    assert t.std_ == 1.0
    assert t.transform([5.0, 7.0]).value.tolist() == [0.0, 2.0]


def test_fill_then_log_then_standardize_and_bucket_logged_value():
    x = np.array([0.0, 1.0, 3.0, np.nan, 7.0, 15.0])
    t = NumericTransformer(fill=0.0, log=True, normalize=True, buckets=3).fit(x)
    logged = np.log1p(np.nan_to_num(x, nan=0.0))
    bounds = np.unique(np.quantile(logged, [1 / 3, 2 / 3]))
    np.testing.assert_allclose(t.discretizer_.boundaries_, bounds)
    out = t.transform(x)
    np.testing.assert_array_equal(out.bucket, np.searchsorted(bounds, logged, side="right") + 1)
    np.testing.assert_allclose(out.value, ((logged - logged.mean()) / logged.std()).astype(np.float32), rtol=1e-6)
    assert t.num_buckets_ == 3


def test_explicit_boundaries_give_ids_from_one():
    t = NumericTransformer(boundaries=[18, 30, 50]).fit([20])
    assert t.transform([10, 18, 29, 30, 80]).bucket.tolist() == [1, 2, 2, 3, 4]
    assert t.num_buckets_ == 4


def test_non_numeric_strings_name_column_and_value():
    with pytest.raises(SchemaError, match=r"column 'age': row 1 holds 'thirty', which is not a number"):
        NumericTransformer().fit(["20", "thirty", "40"], column="age")
    with pytest.raises(SchemaError, match=r"row 0 holds \[1, 2\]"):
        to_float(pd.Series([[1, 2], 3], dtype=object), column="age")


def test_numeric_strings_and_bools_are_numbers():
    assert to_float(["1.5", "2", None]).tolist()[:2] == [1.5, 2.0]
    assert to_float(pd.Series([True, False])).tolist() == [1.0, 0.0]


def test_not_fitted_and_state_round_trip():
    with pytest.raises(NotFittedError, match="NumericTransformer"):
        NumericTransformer().transform([1.0])
    x = [1.0, None, 4.0, 100.0]
    t = NumericTransformer(fill="median", log=True, normalize=True, buckets=2).fit(x)
    u = NumericTransformer.from_state(json.loads(json.dumps(t.get_state())))
    a, b = t.transform(x), u.transform(x)
    np.testing.assert_array_equal(a.value, b.value)
    np.testing.assert_array_equal(a.bucket, b.bucket)


@pytest.mark.parametrize("kw", [{"normalize": True}, {"fill": "mean"}, {"fill": "median"}])
def test_infinite_training_values_are_an_error_when_a_mean_or_std_is_learned(kw):
    with pytest.raises(SchemaError, match=r"column 'x': row 2 is inf"):
        NumericTransformer(**kw).fit([1.0, np.nan, np.inf], column="x")


@pytest.mark.parametrize("values, where", [
    (np.array([1 + 2j, 3]), r"holds complex numbers \(complex128\)"),
    (pd.Series([1.5, 2 + 1j], dtype=object), r"row 1 holds \(2\+1j\), a complex number"),
])
def test_complex_numbers_are_refused_not_cut_to_their_real_part(values, where):
    with pytest.raises(SchemaError, match=rf"column 'z'.*{where}.*np\.real"):
        NumericTransformer().fit(values, column="z")

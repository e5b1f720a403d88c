"""Columns as pandas reads them from files: Arrow dictionary (category) columns, Arrow floats with NaN."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from recstack.features import Schema
from recstack.preprocessing import Preprocessor, Tokenizer, Vocabulary, split_ragged


def arrow_dictionary(values: list) -> pd.Series:
    return pd.Series(pd.arrays.ArrowExtensionArray(pa.array(values).dictionary_encode()))


def test_a_parquet_category_column_read_with_the_pyarrow_backend_fits_like_a_pandas_category(tmp_path):
    path = tmp_path / "x.parquet"
    pd.DataFrame({"c": pd.Series(["a", "b", "a", None]).astype("category")}).to_parquet(path)
    arrow = pd.read_parquet(path, dtype_backend="pyarrow")
    assert pa.types.is_dictionary(arrow["c"].dtype.pyarrow_dtype)
    schema = Schema.from_dict({"c": {"type": "categorical"}})
    pp = Preprocessor(schema).fit(arrow)
    expected = Preprocessor(schema).fit(pd.read_parquet(path))  # a pandas category column
    assert pp.vocabulary("c").keys_.tolist() == expected.vocabulary("c").keys_.tolist() == ["a", "b"]
    assert pp.transform(arrow)["c"].tolist() == [2, 3, 2, 0]


@pytest.mark.parametrize("values", [["x y", "y", None, "y"], [10, 20, 10, None]])
def test_arrow_dictionary_columns_of_strings_and_integers_fit_like_plain_ones(values):
    col, plain = arrow_dictionary(values), pd.Series(values, dtype=object)
    assert Vocabulary().fit(col).keys_.tolist() == Vocabulary().fit(plain).keys_.tolist()
    assert Vocabulary().fit(col).transform(col).tolist() == Vocabulary().fit(plain).transform(plain).tolist()
    if isinstance(values[0], str):
        assert Tokenizer().fit(col).vocabulary_.keys_.tolist() == ["y", "x"]
        flat, lengths = split_ragged(col, separator=" ", strict=True)
        assert flat.tolist() == ["x", "y", "y", "y"] and lengths.tolist() == [2, 1, 0, 1]


def arrow_floats_with_nan() -> pd.Series:
    return pd.Series(pd.arrays.ArrowExtensionArray(pa.array([float("nan"), float("nan"), 2.0, None], from_pandas=False)))


def test_nan_in_an_arrow_float_column_is_missing_in_fit_and_transform():
    col = arrow_floats_with_nan()
    assert col.isna().tolist() == [False, False, False, True]  # Arrow: NaN is a value, not a null
    vocab = Vocabulary().fit(col)
    assert vocab.keys_.tolist() == ["2"] and vocab.counts_.tolist() == [0, 0, 1]
    assert vocab.transform(col).tolist() == [0, 0, 2, 0]  # padding, as a NumPy NaN, not an OOV bucket
    schema = Schema.from_dict({"c": {"type": "categorical", "num_buckets": 5}, "t": {"type": "text", "column": "c"}})
    out = Preprocessor(schema).fit_transform(pd.DataFrame({"c": col}))
    assert out["c"].tolist()[:2] == [0, 0] and out["t"].tolist()[:2] == [[0], [0]]

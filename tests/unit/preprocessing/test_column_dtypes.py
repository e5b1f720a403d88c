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

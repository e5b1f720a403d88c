"""Errors of a column's cells carry the column, every offending row and the feature, through the
Preprocessor's wrapping, so callers (an experiment, a Recommender) can reword them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recstack.errors import MissingValueError, SchemaError
from recstack.features import Schema
from recstack.preprocessing import Preprocessor
from recstack.preprocessing.numeric import NumericTransformer


def _fit(values: list, **spec) -> None:
    schema = Schema.from_dict({"years": {"type": "numeric", "column": "age", **spec}})
    Preprocessor(schema).fit(pd.DataFrame({"age": values}))


def test_a_missing_value_without_fill_is_a_missing_value_error_with_its_rows_column_and_feature():
    with pytest.raises(MissingValueError, match=r"^feature 'years': column 'age': row 1 is missing") as info:
        _fit([1.0, None, 3.0, None])
    err = info.value
    assert isinstance(err, SchemaError)
    assert (err.column, err.feature, err.rows.tolist()) == ("age", "years", [1, 3])


@pytest.mark.parametrize(("values", "spec", "rows"), [
    (["1", "x", "3", "y"], {}, [1, 3]),  # not a number
    ([1.0, -2.0, -5.0], {"log": True}, [1, 2]),  # log1p
    ([1.0, np.inf], {"normalize": True}, [1]),  # mean/std
])
def test_other_cell_errors_carry_their_rows(values, spec, rows):
    with pytest.raises(SchemaError) as info:
        _fit(values, **spec)
    assert not isinstance(info.value, MissingValueError)
    assert (info.value.column, info.value.feature, info.value.rows.tolist()) == ("age", "years", rows)


def test_an_error_without_rows_still_names_the_feature_and_its_column():
    schema = Schema.from_dict({"city": {"type": "categorical"}})
    with pytest.raises(SchemaError) as info:
        Preprocessor(schema).fit(pd.DataFrame({"city": [{"a": 1}, "b"]}))
    assert (info.value.column, info.value.feature) == ("city", "city")


def test_reworded_keeps_class_and_fields():
    err = NumericTransformer()
    with pytest.raises(MissingValueError) as info:
        err.fit([1.0, None], column="age")
    again = info.value.reworded("other", feature="f")
    assert type(again) is MissingValueError and str(again) == "other"
    assert (again.column, again.feature, again.rows.tolist()) == ("age", "f", [1])

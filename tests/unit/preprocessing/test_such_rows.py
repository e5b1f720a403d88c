"""Error counts of bad rows read as English: one row is "1 such row"."""

from __future__ import annotations

import pandas as pd
import pytest

from recstack.errors import SchemaError
from recstack.preprocessing import NumericTransformer


def test_one_bad_row_is_one_such_row_and_more_are_rows():
    with pytest.raises(SchemaError, match=r"row 1 holds 'x', which is not a number \(1 such row\);"):
        NumericTransformer().fit(pd.Series([1.0, "x", 3.0], dtype=object))
    with pytest.raises(SchemaError, match=r"row 1 is missing \(NaN/None; 2 such rows\) and the feature has no fill"):
        NumericTransformer().fit(pd.Series([1.0, None, None]))

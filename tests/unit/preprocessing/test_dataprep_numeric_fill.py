"""One rule for the value that fills a numeric column: a feature's ``fill``, ``data.defaults``
of a column a numeric feature reads, and ``NumericTransformer(fill=)`` accept the same values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recstack.errors import ConfigError
from recstack.features import Schema
from recstack.preprocessing import NumericTransformer, Preprocessor

VALUES = [0, 30, 0.5, -0.5, -1, -2.5, np.int64(3), np.float32(2.5), float("inf"), float("-inf"), True, False,
          "abc", "30", "", None]


def _accepts(build) -> bool:
    try:
        build()
    except (ConfigError, ValueError, TypeError):
        return False
    return True


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_fill_default_and_transformer_accept_the_same_values(value, log):
    feature = {"type": "numeric", "log": log}
    spec = _accepts(lambda: Schema.from_dict({"x": {**feature, "fill": value}}))
    default = _accepts(lambda: Schema.from_dict({"x": feature}, defaults={"x": value}))
    fitted = _accepts(lambda: NumericTransformer(fill=value, log=log).fit([1.0, 2.0]))
    expected = (value is not None and not isinstance(value, (bool, str)) and np.isfinite(value)
                and (not log or value > -1))
    assert (spec, fitted) == (expected or value is None, expected or value is None)  # no fill: allowed
    assert default == expected


@pytest.mark.parametrize("value", ["abc", "30", True])
def test_a_default_that_is_no_number_names_the_config_key_not_the_data(value):
    with pytest.raises(ConfigError, match=rf"^data\.defaults\.age: {value!r} is not a number, but column 'age' is "
                                          r"read by the numeric feature age, which needs numbers; give a number"):
        Schema.from_dict({"age": {"type": "numeric"}, "age_id": {"type": "categorical", "column": "age"}},
                         defaults={"age": value})


def test_a_default_at_or_below_minus_one_with_log_names_the_config_key():
    with pytest.raises(ConfigError, match=r"^data\.defaults\.price: -1 with log: true \(feature price\): log1p "
                                          r"needs values > -1; give a default above -1"):
        Schema.from_dict({"price": {"type": "numeric", "log": True}}, defaults={"price": -1})


def test_text_defaults_still_fill_columns_no_numeric_feature_reads():
    schema = Schema.from_dict({"age": {"type": "numeric"}, "lang": {"type": "categorical"}},
                              defaults={"age": 30, "lang": "unknown"})
    table = pd.DataFrame({"age": [20.0, None], "lang": ["en", None]})
    out = Preprocessor(schema).fit(table).transform(table)
    assert out["age"].tolist() == [20.0, 30.0] and out["lang"][1] == out["lang"][1] > 0

"""Split errors name the config keys a user sets (data.split.*, data.time_column), not functions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recstack.data import leave_last_n, temporal_split
from recstack.errors import ConfigError, DataError, SchemaError

DF = pd.DataFrame({"u": [1, 1, 2, 2], "t": [1, 2, 3, 4]})


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: temporal_split(DF.assign(t=[1, np.nan, 3, 4]), "t"), SchemaError,
     r"^data\.split \(kind: temporal\): column 't' is empty in 1 of 4 rows \(first: row 1\); ordering by "
     r"data\.time_column needs"),
    (lambda: temporal_split(DF, "ts"), SchemaError,
     r"^data\.split \(kind: temporal\) needs data\.time_column 'ts', which is not a column; columns: \['u', 't'\]"),
    (lambda: temporal_split(DF, "t", test_fraction=None), ConfigError,
     r"^data\.split\.test_fraction: None is not in \(0, 1\); give it, or data\.split\.cutoff"),
    (lambda: temporal_split(DF, "t", test_fraction=1.5), ConfigError, r"^data\.split\.test_fraction: 1\.5 is not in"),
    (lambda: temporal_split(DF, "t", cutoff="x"), ConfigError,
     r"^data\.split\.cutoff: 'x' cannot be compared with data\.time_column 't' \(int64\); give a cutoff of"),
    (lambda: temporal_split(DF, "t", cutoff=10), DataError,
     r"^data\.split \(kind: temporal\): data\.split\.cutoff 10 on data\.time_column 't' leaves test empty.*"
     r"set another data\.split\.cutoff or data\.split\.test_fraction"),
    (lambda: temporal_split(DF.assign(t=5), "t"), DataError,
     r"^data\.split \(kind: temporal\): data\.split\.cutoff 5 \(the test_fraction 0\.2 quantile\) on "
     r"data\.time_column 't' leaves train empty"),
    (lambda: leave_last_n(DF, "u", "t", n=0), ConfigError, r"^data\.split\.n: 0 is not an integer >= 1"),
    (lambda: leave_last_n(DF.assign(t=[1, np.nan, 3, 4]), "u", "t"), SchemaError,
     r"^data\.split \(kind: leave_last_n\): column 't' is empty"),
    (lambda: leave_last_n(DF, "user", "t"), SchemaError,
     r"^data\.split \(kind: leave_last_n\) needs data\.user_column 'user', which is not a column"),
])
def test_split_errors_name_config_keys(call, error, message):
    with pytest.raises(error, match=message):
        call()

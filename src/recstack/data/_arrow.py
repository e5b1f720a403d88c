"""Arrow tables to pandas without rounding 64-bit integer IDs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["arrow_to_pandas"]


def arrow_to_pandas(table: Any) -> pd.DataFrame:
    """``table.to_pandas()``, except that a 64-bit integer column with nulls and values of 2**53
    or more becomes nullable ``Int64``/``UInt64``: the default, float64, would round those IDs and
    merge distinct ones. Other columns convert as pandas converts them."""
    df = table.to_pandas()
    schema = getattr(table, "schema", None)
    if schema is None:  # not a table (e.g. a single array)
        return df
    import pyarrow as pa
    import pyarrow.compute as pc

    exact = {pa.int64(): pd.Int64Dtype(), pa.uint64(): pd.UInt64Dtype()}
    fix = []
    for i, field in enumerate(schema):
        col = table.column(i)
        if field.type not in exact or not col.null_count or list(df.columns).count(field.name) != 1:
            continue
        if df[field.name].dtype == np.float64:
            lo, hi = (v.as_py() for v in pc.min_max(col).values())
            if lo is not None and max(abs(lo), abs(hi)) >= 2**53:
                fix.append(i)
    if fix:
        part = table.select(fix).replace_schema_metadata(None).to_pandas(types_mapper=exact.get)
        for name in part.columns:
            df[name] = part[name].array  # by position: df may carry a restored pandas index
    return df

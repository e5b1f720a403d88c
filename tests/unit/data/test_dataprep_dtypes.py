"""read_table's column types: one integer-text parser, one key rule for ``str``, float IDs
that cannot be exact, and errors that name the config key the type came from."""

from __future__ import annotations

import random
import re

import numpy as np
import pandas as pd
import pytest

from recstack.data import read_table
from recstack.errors import ConfigError, DataError, SchemaError
from recstack.preprocessing._cells import canonical_keys


def _text_cells(seed: int, n: int) -> list[str]:
    """Integers as text around the int64 and float64 limits, signed, padded, spaced."""
    rng = random.Random(seed)
    edges = [2**53, 2**53 + 1, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64, 10**22, 0]
    values = edges + [rng.randint(-(2**64), 2**64) >> rng.randint(0, 64) for _ in range(n)]
    return [rng.choice(["", "+", " "]) * (v >= 0) + ("-" if v < 0 else "") + "0" * rng.randint(0, 2)
            + str(abs(v)) + rng.choice(["", " "]) for v in values]


def test_dtype_int_reads_integer_text_exactly_or_names_the_first_value_beyond_int64():
    cells = _text_cells(1, 2000)
    ints = [int(c) for c in cells]
    inside = [c for c, v in zip(cells, ints) if -(2**63) <= v < 2**63]
    df = pd.DataFrame({"u": pd.Series(inside, dtype=object)})
    assert read_table(df, dtype={"u": "int"})["u"].tolist() == [int(c) for c in inside]
    first = next(i for i, v in enumerate(ints) if not -(2**63) <= v < 2**63)
    with pytest.raises(DataError, match=rf"column 'u' .* beyond int64 \(data row {first + 1}: "):
        read_table(pd.DataFrame({"u": pd.Series(cells, dtype=object)}), dtype={"u": "int"})


def test_dtype_int_and_the_rounding_check_read_integer_text_alike():
    from recstack.data._dtypes import inexact_integers

    cells = _text_cells(2, 2000) + ["٣", "１２", "1_000"]  # not ASCII digits: not integer text
    rounded = inexact_integers(pd.Series(cells, dtype=object))
    assert rounded.tolist() == [bool(re.fullmatch(r"\s*[+-]?[0-9]+\s*", c)) and int(float(int(c))) != int(c)
                                for c in cells]
    with pytest.raises(DataError, match=r"column 'u' .* is not all int values \(data row 1: '٣'\)"):
        read_table(pd.DataFrame({"u": pd.Series(["٣", "1"], dtype=object)}), dtype={"u": "int"})


@pytest.mark.parametrize("values", [
    pd.Series([1.0, "x", 2, None, True, 2**70], dtype=object),  # mixed with ints: 1.0 is the ID 1
    pd.Series([1.0, "x", None], dtype=object),
    pd.Series([3, 2.0, np.nan], dtype=object),
    pd.Series([1.0, 2.0, np.nan, -5.0]),
    pd.Series(np.array([1, 2**40], dtype=np.uint64)),
    pd.Series([True, False]),
])
def test_dtype_str_gives_each_cell_the_key_a_vocabulary_gives_it(values):
    out = read_table(pd.DataFrame({"id": values}), dtype={"id": "str"})["id"]
    keys = canonical_keys(values)
    assert out.tolist() == [np.nan if k is None else k for k in keys] or (
        [None if pd.isna(v) else v for v in out] == keys.tolist())


@pytest.mark.parametrize("kind", ["str", "int"])
@pytest.mark.parametrize(("cells", "problem"), [
    ([1.0, 1e17, 2.0], r"float of 2\*\*53 or more \(data row 2: 1e\+17\)"),
    ([1.0, -2.0**60], r"float of 2\*\*53 or more \(data row 2: -1\.15\d*e\+18\)"),
    ([1.0, 1.5], r"float that is not a whole number .*\(data row 2: 1\.5\)"),
    ([1.0, float("inf")], r"float that is not a whole number .*\(data row 2: inf\)"),
])
def test_float_ids_that_cannot_be_exact_integers_are_an_error_naming_the_column(kind, cells, problem):
    for column in (pd.Series(cells), pd.Series(cells + ["x"], dtype=object)):
        if kind == "int" and column.dtype == object:
            continue  # "x" is no int at all
        with pytest.raises(DataError, match=rf"dtype\.id: column 'id' of the DataFrame holds a {problem}"):
            read_table(pd.DataFrame({"id": column}), dtype={"id": kind})
    ok = pd.Series([1.0, 2.0**53 - 1, np.nan, -3.0])
    assert read_table(pd.DataFrame({"id": ok}), dtype={"id": "str"})["id"].tolist()[:2] == ["1", str(2**53 - 1)]


def test_dtype_str_refuses_list_cells_naming_the_column():
    df = pd.DataFrame({"g": pd.Series(["a", ["b", "c"]], dtype=object)})
    with pytest.raises(DataError, match=r"dtype\.g: column 'g' of the DataFrame holds lists \(data row 2: "
                                        r"\['b', 'c'\]\).*leave it out of dtype"):
        read_table(df, dtype={"g": "str"})


def test_dtype_errors_name_the_full_config_key(tmp_path):
    df = pd.DataFrame({"u": [1.5, 2.0]})
    with pytest.raises(DataError, match=r"^data\.train\.dtype\.u: column 'u'"):
        read_table(df, dtype={"u": "int"}, config_key="data.train")
    with pytest.raises(SchemaError, match=r"^data\.test\.dtype\.v: 'v' is not a column"):
        read_table(df, dtype={"v": "int"}, config_key="data.test")
    with pytest.raises(ConfigError, match=r"^data\.train\.dtype\.u: 'bogus' is not a column type"):
        read_table(df, dtype={"u": "bogus"}, config_key="data.train")  # type: ignore[dict-item]
    with pytest.raises(ConfigError, match=r"^data\.train\.encoding: unknown text encoding"):
        read_table(df, encoding="nope", config_key="data.train")
    f = tmp_path / "t.csv"
    f.write_text("a,b\n1,2\n")
    with pytest.raises(ConfigError, match=r"^data\.join\.items\.sep: empty separator"):
        read_table(f, sep="", config_key="data.join.items")
    with pytest.raises(ConfigError, match=r"^data\.train\.header: -1"):
        read_table(f, header=-1, config_key="data.train")
    with pytest.raises(DataError, match=r"^dtype\.u: column 'u'"):  # no config key: the argument's name
        read_table(df, dtype={"u": "int"})


def test_the_rounding_error_gives_the_fix_under_the_config_key(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("id,x\n9007199254740993,1\n,2\n")
    with pytest.raises(DataError, match=r"read it as text: data\.train\.dtype: \{id: str\}"):
        read_table(f, config_key="data.train")

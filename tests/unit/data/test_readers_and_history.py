import numpy as np
import pandas as pd
import pytest

from recstack.data import add_history, read_table
from recstack.errors import DataError, SchemaError


def test_read_formats(tmp_path):
    df = pd.DataFrame({"user_id": [1, 2], "item": ["a", "b"]})
    df.to_csv(tmp_path / "t.csv", index=False)
    df.to_parquet(tmp_path / "t.parquet")
    (tmp_path / "u.data").write_text("1\t10\t5\t100\n2\t11\t3\t200\n")
    assert read_table(tmp_path / "t.csv").equals(df)
    assert read_table(tmp_path / "t.parquet").equals(df)
    t = read_table(tmp_path / "u.data", sep="\t", names=["u", "i", "r", "ts"])
    assert t["i"].tolist() == [10, 11]
    with pytest.raises(SchemaError, match="available"):
        read_table(df, columns=["nope"])


def test_read_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_table(tmp_path / "missing.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="empty"):
        read_table(tmp_path / "empty.csv")
    (tmp_path / "fake.parquet").write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="not a valid Parquet"):
        read_table(tmp_path / "fake.parquet")
    (tmp_path / "bin.csv").write_bytes(bytes(range(256)) * 4)
    with pytest.raises(DataError):
        read_table(tmp_path / "bin.csv")
    (tmp_path / "ragged.csv").write_text("a,b\n1,2\n1,2,3,4\n")
    with pytest.raises(DataError, match="malformed"):
        read_table(tmp_path / "ragged.csv")


def test_history_has_no_leakage():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"u": rng.integers(0, 5, 200), "i": rng.integers(0, 50, 200), "t": rng.integers(0, 30, 200)})
    out = add_history(df, user_col="u", item_col="i", time_col="t", max_length=4)
    for r in range(len(df)):
        prior = df[(df.u == df.u[r]) & ((df.t < df.t[r]) | ((df.t == df.t[r]) & (df.index < r)))]
        expect = prior.sort_values(["t"], kind="stable").i.tolist()[-4:]
        assert out.history[r].tolist() == expect
    loo = add_history(df, user_col="u", item_col="i", time_col="t", max_length=1000, mode="others")
    assert all(len(h) == (df.u == df.u[r]).sum() - 1 for r, h in enumerate(loo.history))
    test = pd.DataFrame({"u": [0, 99]})
    ref = add_history(test, user_col="u", item_col="i", time_col="t", max_length=1000, reference=df)
    assert sorted(ref.history[0]) == sorted(df[df.u == 0].i.tolist()) and ref.history[1].tolist() == []
    # one int array per row (views of one buffer), read by the ragged parser without Python objects
    assert all(isinstance(h, np.ndarray) and h.dtype.kind == "i" for h in loo.history)
    from recstack.preprocessing.ragged import split_ragged

    flat, lengths = split_ragged(loo.history, column="history")
    assert flat.dtype.kind == "i" and lengths.tolist() == [len(h) for h in loo.history]
    assert flat.tolist() == [x for h in loo.history for x in h.tolist()]
    same_length = pd.Series([np.array([1, 2]), np.array([3, 4])], dtype=object)  # no 2-D coercion
    assert split_ragged(same_length)[1].tolist() == [2, 2]

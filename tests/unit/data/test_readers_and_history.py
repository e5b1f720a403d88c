import numpy as np
import pandas as pd
import pytest

from recstack.data import add_history, read_table
from recstack.errors import ConfigError, DataError, SchemaError


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
    # a binary file is said to be one (before: "malformed ... check the separator")
    with pytest.raises(DataError, match=r"bin\.csv is not a text table \(it holds NUL bytes: a binary file\); "
                                         r"check that the file is what its name says"):
        read_table(tmp_path / "bin.csv")
    # a text file the parser stops in: the file, the line it stopped at, and what to check
    (tmp_path / "odd.csv").write_text("a\n1\n2,3\n")
    with pytest.raises(DataError, match=r"odd\.csv: line 3 has 2 fields but the header has 1 column; fix that "
                                         r"line \(quote a field that holds the separator\), or "):
        read_table(tmp_path / "odd.csv")
    (tmp_path / "quote.csv").write_text('a,b\n"1,2\n')
    with pytest.raises(DataError, match=r"quote\.csv is malformed: .*EOF inside string starting at row 1\s*; "
                                         r"check the separator \(sep=\) and quoting"):
        read_table(tmp_path / "quote.csv")
    import gzip

    (tmp_path / "bin.csv.gz").write_bytes(gzip.compress(bytes(range(256)) * 4))  # NULs after decompression
    with pytest.raises(DataError, match=r"bin\.csv\.gz is not a text table"):
        read_table(tmp_path / "bin.csv.gz")
    (tmp_path / "ragged.csv").write_text("a,b\n1,2\n1,2,3,4\n")
    with pytest.raises(DataError, match="ragged.csv: line 3 has 4 fields but the header has 2 columns"):
        read_table(tmp_path / "ragged.csv")


def test_history_has_no_leakage():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"u": rng.integers(0, 5, 200), "i": rng.integers(0, 50, 200), "t": rng.integers(0, 30, 200)})
    out = add_history(df, user_col="u", item_col="i", time_col="t", max_length=4)
    assert "history" not in df.columns and list(out.columns[:3]) == ["u", "i", "t"]  # the input is left as it was
    for r in range(len(df)):
        prior = df[(df.u == df.u[r]) & (df.t < df.t[r])]  # strictly earlier: same-time items have no order
        expect = prior.sort_values(["t"], kind="stable").i.tolist()[-4:]
        assert list(out.history[r]) == expect
    loo = add_history(df, user_col="u", item_col="i", time_col="t", max_length=1000, mode="others")
    assert all(len(h) == (df.u == df.u[r]).sum() - 1 for r, h in enumerate(loo.history))
    test = pd.DataFrame({"u": [0, 99]})
    ref = add_history(test, user_col="u", item_col="i", time_col="t", max_length=1000, reference=df)
    assert sorted(ref.history[0]) == sorted(df[df.u == 0].i.tolist()) and list(ref.history[1]) == []
    # an Arrow list column (one buffer of items, one of offsets), read by the ragged parser
    # straight from its buffers, without a Python object per row
    assert str(loo.history.dtype) == "large_list<item: int64>[pyarrow]"
    from recstack.preprocessing.ragged import split_ragged

    flat, lengths = split_ragged(loo.history, column="history")
    assert flat.dtype.kind == "i" and lengths.tolist() == [len(h) for h in loo.history]
    assert flat.tolist() == [x for h in loo.history for x in list(h)]
    same_length = pd.Series([np.array([1, 2]), np.array([3, 4])], dtype=object)  # no 2-D coercion
    assert split_ragged(same_length)[1].tolist() == [2, 2]


def test_history_matches_users_by_canonical_key_and_rows_without_a_user_get_none():
    # 1 and "1" are one user (as vocabularies match them); sorting the raw column split them apart
    df = pd.DataFrame({"u": [1, "1", 2, 1.0, np.nan, np.nan], "i": [10, 11, 20, 12, 30, 40],
                       "t": [1, 2, 1, 3, 1, 2]}).astype({"u": object})
    before = add_history(df, user_col="u", item_col="i", time_col="t", max_length=10)
    assert [list(h) for h in before.history] == [[], [10], [], [10, 11], [], []]
    others = add_history(df, user_col="u", item_col="i", time_col="t", max_length=10, mode="others")
    assert [list(h) for h in others.history] == [[11, 12], [10, 12], [], [10, 11], [], []]
    ref = add_history(pd.DataFrame({"u": ["1", 2.0]}), user_col="u", item_col="i", time_col="t", max_length=10,
                      reference=df)
    assert [list(h) for h in ref.history] == [[10, 11, 12], [20]]
    nobody = pd.DataFrame({"u": pd.Series([None, None], dtype=object), "i": [1, 2], "t": [0, 1]})
    for mode in ("before", "others"):  # no user at all: empty histories, not an IndexError
        out = add_history(nobody, user_col="u", item_col="i", time_col="t", mode=mode)
        assert [list(h) for h in out.history] == [[], []]
    with pytest.raises(ConfigError, match=r"^before_each_row: needs a time column \(time_col\)"):
        add_history(df, user_col="u", item_col="i", time_col=None, reference=df, before_each_row=True)
    with pytest.raises(SchemaError, match=r"^time_col: the table has no column 't'"):
        add_history(pd.DataFrame({"u": [1]}), user_col="u", item_col="i", time_col="t", reference=df,
                    before_each_row=True)


def test_rows_with_more_fields_than_names_are_an_error_not_a_lost_column(tmp_path):
    a = tmp_path / "a.csv"
    a.write_text("1,2,3\n4,5,6\n")
    with pytest.raises(DataError, match=r"line 1 has 3 fields but 2 names given; add the missing names"):
        read_table(a, names=["a", "b"])
    b = tmp_path / "b.csv"
    b.write_text("a,b\n1,2,3\n4,5,6\n")
    with pytest.raises(DataError, match="line 2 has 3 fields but the header has 2 columns"):
        read_table(b)
    assert read_table(a, names=["a", "b", "c"]).to_dict("list") == {"a": [1, 4], "b": [2, 5], "c": [3, 6]}
    with pytest.raises(DataError, match="line 1 has 3 fields but 4 names given"):
        read_table(a, names=["a", "b", "c", "d"])


def test_history_reference_matches_users_across_int_and_float_ids():
    ref = pd.DataFrame({"u": [1, 2, 1], "i": [10, 20, 11], "ts": [1, 1, 2]})
    test = pd.DataFrame({"u": [1.0, np.nan, 2.0], "i": [9, 9, 9], "ts": [5, 5, 5]})  # one NaN makes it float
    out = add_history(test, user_col="u", item_col="i", time_col="ts", reference=ref)["history"]
    assert [list(map(int, h)) for h in out] == [[10, 11], [], [20]]


def test_a_stalled_download_times_out_with_a_clear_error(tmp_path):
    import socket
    import time

    from recstack.data.datasets.movielens import download_movielens_100k
    from recstack.errors import DatasetUnavailableError

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)  # accepts the connection, never answers
    try:
        t0 = time.perf_counter()
        with pytest.raises(DatasetUnavailableError, match="could not download"):
            download_movielens_100k(tmp_path, url=f"http://127.0.0.1:{server.getsockname()[1]}/x.zip", timeout=0.2)
        assert time.perf_counter() - t0 < 5
    finally:
        server.close()


def test_split_edge_cases_are_clear(tmp_path):
    from recstack.data import leave_last_n, temporal_split

    df = pd.DataFrame({"u": [1, 1, 1, 2, 2], "t": [1, 2, 3, 1, 2], "i": [5, 6, 7, 8, 9]})
    repeated = pd.concat([df.iloc[:3], df.iloc[3:]]).set_axis([0, 0, 1, 1, 2])  # index labels repeat
    train, test = leave_last_n(repeated, "u", "t", n=1)
    assert sorted(test.i) == [7, 9] and len(train) + len(test) == 5
    with pytest.raises(DataError, match="leaves train empty"):
        temporal_split(pd.DataFrame({"t": [5] * 10}), "t", test_fraction=0.2)
    with pytest.raises(ValueError, match="^max_length: must be an integer >= 1"):
        add_history(df, user_col="u", item_col="i", time_col="t", max_length=0, mode="others")
    gz = tmp_path / "x.tsv.gz"
    import gzip

    gz.write_bytes(gzip.compress(b"a\tb\n1\t2\n"))
    assert read_table(gz).columns.tolist() == ["a", "b"]


def test_an_explicit_missing_data_dir_is_an_error_not_a_fallback(tmp_path):
    from recstack.data.datasets.movielens import load_movielens_100k
    from recstack.errors import DatasetUnavailableError

    with pytest.raises(DatasetUnavailableError, match="is not a folder"):
        load_movielens_100k(data_dir=tmp_path / "nope")


def test_a_file_as_the_download_folder_is_a_clear_error(tmp_path):
    from recstack.data.datasets.movielens import download_movielens_100k
    from recstack.errors import DatasetUnavailableError

    (tmp_path / "f").write_text("x")
    with pytest.raises(DatasetUnavailableError, match="as the download folder"):
        download_movielens_100k(tmp_path / "f", opener=lambda url: None)


def test_before_each_row_gives_evaluation_rows_only_earlier_reference_items():
    rng = np.random.default_rng(1)
    ref = pd.DataFrame({"u": rng.integers(0, 6, 300), "i": rng.integers(0, 80, 300), "t": rng.integers(0, 40, 300)})
    rows = pd.DataFrame({"u": rng.integers(0, 8, 60), "t": rng.integers(0, 45, 60)})  # users 6, 7: unknown
    out = add_history(rows, user_col="u", item_col="i", time_col="t", max_length=5, reference=ref,
                      before_each_row=True)
    for r in range(len(rows)):
        prior = ref[(ref.u == rows.u[r]) & (ref.t < rows.t[r])].sort_values("t", kind="stable")
        assert list(out.history[r]) == prior.i.tolist()[-5:]
    profile = add_history(rows, user_col="u", item_col="i", time_col="t", max_length=5, reference=ref)
    assert any(list(a) != list(b) for a, b in zip(out.history, profile.history))


def test_orders_by_time_refuse_missing_times_instead_of_sorting_them_last():
    from recstack.data import leave_last_n, temporal_split

    df = pd.DataFrame({"u": [1, 1, 1, 2, 2], "i": [10, 11, 12, 21, 22], "t": [1.0, np.nan, 3.0, 5.0, np.nan]})
    for call in (lambda: leave_last_n(df, "u", "t"), lambda: temporal_split(df, "t"),
                 lambda: add_history(df, user_col="u", item_col="i", time_col="t"),
                 lambda: add_history(df[["u"]], user_col="u", item_col="i", time_col="t", reference=df)):
        with pytest.raises(SchemaError, match=r"column 't' is empty in 2 of \d+ rows \(first: row 1\)"):
            call()


def test_a_short_row_anywhere_is_an_error_naming_its_line_also_in_gzip_files(tmp_path):
    import gzip

    (tmp_path / "a.csv").write_text("u,i,r\n1,2,3\n4,5\n6,7,8\n")
    with pytest.raises(DataError, match=r"a\.csv: line 3 has 2 fields but the header has 3 columns"):
        read_table(tmp_path / "a.csv")
    (tmp_path / "b.tsv").write_text("1\t2\t3\r\n\r\n4\t5\t6\r\n7\t8\r\n")  # CRLF, a blank line (skipped)
    with pytest.raises(DataError, match=r"line 4 has 2 fields but 3 names given"):
        read_table(tmp_path / "b.tsv", names=["u", "i", "r"])
    with gzip.open(tmp_path / "c.tsv.gz", "wt") as fh:
        fh.write("1\t2\n3\t4\n")
    with pytest.raises(DataError, match=r"line 1 has 2 fields but 3 names given"):
        read_table(tmp_path / "c.tsv.gz", names=["u", "i", "r"])
    assert read_table(tmp_path / "c.tsv.gz", names=["u", "i"]).shape == (2, 2)
    (tmp_path / "d.csv").write_text('u,t\n1,"a,b"\n2,c\n')  # quoted separators: counted by pandas, fine
    assert read_table(tmp_path / "d.csv").t.tolist() == ["a,b", "c"]
    (tmp_path / "e.csv.gz").write_bytes(b"user,item\n1,2\n")  # not gzip
    with pytest.raises(DataError, match=r"could not be read as \.gz \(BadGzipFile"):
        read_table(tmp_path / "e.csv.gz")
    pd.DataFrame({"a": [1]}).to_parquet(tmp_path / "f.parquet")
    with pytest.raises(ConfigError, match="names= and sep= apply to text files"):
        read_table(tmp_path / "f.parquet", names=["x"])


def test_lines_of_only_spaces_or_tabs_are_skipped_like_pandas_and_empty_tables_get_empty_histories(tmp_path):
    (tmp_path / "ws.csv").write_text("a,b\n1,2\n   \n\t\r\n3,4\n  ")
    assert read_table(tmp_path / "ws.csv").values.tolist() == [[1, 2], [3, 4]]
    empty = pd.DataFrame({"u": pd.Series([], dtype=int), "i": pd.Series([], dtype=int), "t": pd.Series([], dtype=int)})
    out = add_history(empty[["u", "t"]], user_col="u", item_col="i", time_col="t", reference=empty,
                      before_each_row=True)
    assert len(out) == 0


def test_a_tsv_line_of_only_tabs_is_a_short_row_not_a_blank_line(tmp_path):
    (tmp_path / "t.tsv").write_text("a\tb\tc\n1\t2\t3\n\t\n4\t5\t6\n")
    with pytest.raises(DataError, match="line 3 has 2 fields but the header has 3 columns"):
        read_table(tmp_path / "t.tsv")

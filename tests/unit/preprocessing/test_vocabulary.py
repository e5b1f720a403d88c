"""Vocabulary: index layout, ordering, min_count/max_size, stable OOV hashing, inverse, state."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from recstack.errors import ArtifactError, ConfigError, DataError, NotFittedError, SchemaError
from recstack.preprocessing import Vocabulary, stable_hash


def test_layout_orders_by_frequency_then_value_string():
    v = Vocabulary().fit(["c", "b", "a", "b", "c", "d", "c"])
    # c:3, b:2, then a:1 and d:1 tied -> by string; 0 = pad, 1 = OOV
    assert v.keys_.tolist() == ["c", "b", "a", "d"]
    assert v.transform(["c", "b", "a", "d"]).tolist() == [2, 3, 4, 5]
    assert v.size == 6
    assert len(v) == 4


def test_missing_values_map_to_padding_and_are_not_counted():
    v = Vocabulary().fit(["a", None, np.nan, "a"])
    assert v.keys_.tolist() == ["a"]
    assert v.transform(["a", None, np.nan]).tolist() == [2, 0, 0]


def test_min_count_and_max_size_send_rare_values_to_oov():
    data = ["a"] * 5 + ["b"] * 4 + ["c"] * 2 + ["d"]
    assert Vocabulary(min_count=2).fit(data).keys_.tolist() == ["a", "b", "c"]
    v = Vocabulary(max_size=2).fit(data)
    assert v.keys_.tolist() == ["a", "b"]
    assert v.transform(["c", "d"]).tolist() == [1, 1]


def test_counts_are_aligned_with_index_and_oov_buckets_count_dropped_values():
    v = Vocabulary(max_size=2).fit(["a"] * 3 + ["b"] * 2 + ["c"])
    assert v.counts_.tolist() == [0, 1, 3, 2]  # pad, OOV (the dropped "c"), a, b
    assert v.counts_.shape == (v.size,)


def test_int_str_and_integral_float_are_the_same_value():
    v = Vocabulary().fit([42, 7, 42])
    assert v.dtype_ == "int"
    assert v.transform(["42", 42.0, np.int64(42), 7.0, "7"]).tolist() == [2, 2, 2, 3, 3]


def test_float_column_with_nan_is_integer_typed():
    v = Vocabulary().fit(pd.Series([3.0, np.nan, 5.0, 3.0]))
    assert v.dtype_ == "int"
    assert v.keys_.tolist() == ["3", "5"]
    assert v.inverse([2, 3]).tolist() == [3, 5]
    assert isinstance(v.inverse([2])[0], int)


def test_strings_are_kept_verbatim_and_non_integral_floats_use_str():
    v = Vocabulary().fit(["007", 2.5, "x"])
    assert v.dtype_ == "str"
    assert sorted(v.keys_.tolist()) == ["007", "2.5", "x"]
    assert v.transform([7]).tolist() == [1]  # 7 is not "007"


def test_inverse_returns_training_type_and_none_for_pad_and_oov():
    v = Vocabulary(num_oov=2).fit(["x", "y", "x"])
    assert v.inverse([0, 1, 2, 3, 4]).tolist() == [None, None, None, "x", "y"]
    ids = np.array([[3, 0], [4, 3]])
    assert v.inverse(ids).tolist() == [["x", None], ["y", "x"]]
    v_int = Vocabulary().fit(np.array([5, 6, 5]))
    assert v_int.inverse(v_int.transform([6, 5])).tolist() == [6, 5]


def test_inverse_rejects_out_of_range_and_float_indices():
    v = Vocabulary().fit(["a"])
    with pytest.raises(DataError, match=r"\[0, 3\)"):
        v.inverse([3])
    with pytest.raises(DataError, match="integer"):
        v.inverse([1.0])


def test_stable_hash_pinned_values():
    # Pinned: a change here remaps every saved model's OOV buckets and hashed IDs.
    h = stable_hash(np.array(["a", "42"], dtype=object))
    assert h.tolist() == [13950350942979735504, 12441728511894777052]


def test_oov_buckets_use_stable_hash():
    v = Vocabulary(num_oov=10).fit(["known"])
    # 1 + hash % 10 with the pinned hashes above: "a" -> 1 + 4, "42" (and 42) -> 1 + 2
    assert v.transform(["a", "42", 42]).tolist() == [5, 3, 3]
    assert v.transform(["known"]).tolist() == [11]


def test_oov_bucket_is_the_same_in_another_process():
    code = (
        "from recstack.preprocessing import Vocabulary;"
        "v = Vocabulary(num_oov=1000).fit(['k']);"
        "print(v.transform(['unseen-1', 'unseen-2', 123456]).tolist())"
    )
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    here = Vocabulary(num_oov=1000).fit(["k"]).transform(["unseen-1", "unseen-2", 123456]).tolist()
    assert here == [460, 332, 65]  # pinned
    assert out.stdout.strip() == str(here)


def test_list_values_are_a_schema_error_naming_column_and_row():
    with pytest.raises(SchemaError, match=r"column 'item_id': row 1 .*multi_hot"):
        Vocabulary().fit(["a", ["b", "c"]], column="item_id")


def test_not_fitted_error_names_class_and_fix():
    with pytest.raises(NotFittedError, match=r"Vocabulary is not fitted.*call Vocabulary.fit"):
        Vocabulary().transform(["a"])
    with pytest.raises(NotFittedError):
        Vocabulary().get_state()


def test_bad_settings_are_config_errors():
    with pytest.raises(ConfigError, match="num_oov"):
        Vocabulary(num_oov=0).fit(["a"])
    with pytest.raises(ConfigError, match="max_size"):
        Vocabulary(max_size=0).fit(["a"])


def test_state_round_trips_through_json():
    v = Vocabulary(min_count=1, max_size=3, num_oov=2).fit([1, 2, 2, 3, 3, 3, 4])
    state = json.loads(json.dumps(v.get_state()))
    w = Vocabulary.from_state(state)
    probe = [1, 2, 3, 4, 5, "x", None]
    assert w.transform(probe).tolist() == v.transform(probe).tolist()
    assert w.counts_.tolist() == v.counts_.tolist()
    assert w.dtype_ == "int" and w.inverse([4]).tolist() == v.inverse([4]).tolist() == [2]


def test_from_state_rejects_inconsistent_state():
    state = Vocabulary().fit(["a", "b"]).get_state()
    state["counts"] = [0, 0]
    with pytest.raises(ArtifactError, match="counts"):
        Vocabulary.from_state(state)
    with pytest.raises(ArtifactError, match="class"):
        Vocabulary.from_state({**state, "class": "Hasher"})


def test_empty_training_column_gives_only_pad_and_oov():
    v = Vocabulary().fit([None, None])
    assert v.size == 2
    assert v.transform(["a", None]).tolist() == [1, 0]
    assert v.transform([None]).tolist() == [0]
    assert v.transform([]).tolist() == []


def test_mixed_object_column_and_pandas_dtypes():
    v = Vocabulary().fit(pd.Series([42, "42", 42.0, "x", np.int64(7)], dtype=object))
    assert v.keys_.tolist() == ["42", "7", "x"]
    assert v.counts_.tolist() == [0, 0, 3, 1, 1]
    assert v.dtype_ == "str"
    nullable = Vocabulary().fit(pd.Series([1, None, 1], dtype="Int64"))
    assert nullable.dtype_ == "int" and nullable.transform([1, None]).tolist() == [2, 0]
    cat = Vocabulary().fit(pd.Series(["b", "a", "b"], dtype="category"))
    assert cat.keys_.tolist() == ["b", "a"]
    strings = Vocabulary().fit(pd.Series(["b", None], dtype="string"))
    assert strings.transform(np.array(["b", "c"])).tolist() == [2, 1]


def test_serving_columns_with_missing_values_keep_known_keys():
    bools = Vocabulary().fit(pd.Series([True, False, True]))  # bool dtype: keys "True" / "False"
    assert bools.transform(pd.Series([True, np.nan, False], dtype=object)).tolist() == [2, 0, 3]
    big = 1000009418151094273  # above 2**53: float64 would round it
    ids = Vocabulary().fit(pd.Series([big, 7]))
    assert ids.transform(pd.Series([big, "unknown"], dtype=object)).tolist() == [2, 1]
    assert ids.transform([big, None]).tolist() == [2, 0]
    mixed = Vocabulary().fit(pd.Series([42, "a", 3.0]))
    assert mixed.transform([42, "42", 42.0, 3, "a", 3.5]).tolist() == [3, 3, 3, 2, 4, 1]


def test_values_of_uint64_ids_above_int64():
    big = np.array([2**63 + 5, 2**64 - 1, 7], dtype=np.uint64)
    v = Vocabulary().fit(big)
    assert sorted(v.values.tolist()) == [7, 2**63 + 5, 2**64 - 1]
    assert v.inverse(v.transform(big)).tolist() == big.tolist()


def test_strings_with_a_trailing_nul_stay_distinct_in_a_mixed_column():
    v = Vocabulary().fit(pd.Series(["a\x00", "a", 7], dtype=object))
    assert sorted(v.keys_.tolist()) == ["7", "a", "a\x00"]
    assert len(set(v.transform(pd.Series(["a\x00", "a"], dtype=object)).tolist())) == 2

"""Tokenizer: regex split, lowercase, vocabulary limits, padding, state."""

from __future__ import annotations

import json

import pytest

from recstack.errors import NotFittedError, SchemaError
from recstack.preprocessing import Tokenizer


def test_colon_split_for_keyed_ids():
    t = Tokenizer(split=":").fit(["viewer:123", "viewer:7"])
    assert t.vocabulary_.keys_.tolist() == ["viewer", "123", "7"]
    assert t.max_length_ == 2
    assert t.transform(["viewer:7", None, "x:123:viewer"]).tolist() == [[2, 4], [0, 0], [1, 3]]


def test_words_lowercased_empty_tokens_dropped_numbers_as_strings():
    t = Tokenizer().fit(["The cat  sat", " the DOG ", 42])
    assert t.vocabulary_.keys_.tolist() == ["the", "42", "cat", "dog", "sat"]
    assert t.max_length_ == 3
    assert t.transform(["the dog sat on", ""]).tolist() == [[2, 5, 6], [0, 0, 0]]


def test_case_kept_and_max_tokens_min_count_max_length():
    t = Tokenizer(lowercase=False, max_tokens=1, max_length=4).fit(["A a A b"])
    assert t.vocabulary_.keys_.tolist() == ["A"]
    assert t.transform(["A a b A x"]).tolist() == [[2, 1, 1, 2]]
    t2 = Tokenizer(min_count=2).fit(["x y x"])
    assert t2.vocabulary_.keys_.tolist() == ["x"]


def test_list_cells_are_schema_errors():
    with pytest.raises(SchemaError, match=r"column 'title': row 1 holds a list"):
        Tokenizer().fit(["a b", ["c"]], column="title")


def test_all_empty_training_gives_length_one():
    t = Tokenizer().fit([None, ""])
    assert t.max_length_ == 1 and t.size == 2


def test_not_fitted_and_state_round_trip():
    with pytest.raises(NotFittedError, match="Tokenizer"):
        Tokenizer().transform(["a"])
    t = Tokenizer(split=r"[\s,]+").fit(["a,b c", "c d"])
    u = Tokenizer.from_state(json.loads(json.dumps(t.get_state())))
    assert u.transform(["c,a zz", "d"]).tolist() == t.transform(["c,a zz", "d"]).tolist()


def test_regex_that_re2_cannot_run_falls_back_to_python_re():
    t = Tokenizer(split=r"(?<=a)b", lowercase=False).fit(["xabyab"])
    assert t.vocabulary_.keys_.tolist() == ["xa", "ya"]


def test_unicode_lowercase_and_pandas_string_dtype():
    import pandas as pd

    t = Tokenizer().fit(pd.Series(["ÉCOLE Straße", None], dtype="string"))
    assert sorted(t.vocabulary_.keys_.tolist()) == ["straße", "école"]


def test_word_and_space_classes_follow_python_re_on_non_ascii_text():
    import pandas as pd

    from recstack.preprocessing._split import split_strings

    tokens, cells = split_strings(pd.Series(["Café crème brûlée", "naïve\xa0résumé", "plain text"]), r"\W+",
                                  regex=True)
    assert tokens.tolist() == ["Café", "crème", "brûlée", "naïve", "résumé", "plain", "text"]
    assert cells.tolist() == [0, 0, 0, 1, 1, 2, 2]
    assert split_strings(pd.Series(["naïve\xa0résumé"]), r"\s+", regex=True)[0].tolist() == ["naïve", "résumé"]
    ascii_only = split_strings(pd.Series(["a b", "c"]), r"\s+", regex=True)  # the Arrow path, same answer
    assert ascii_only[0].tolist() == ["a", "b", "c"]


def test_a_split_pattern_with_a_capturing_group_is_refused():
    from recstack.errors import ConfigError
    from recstack.features import Schema

    with pytest.raises(ConfigError, match=r"capturing group.*\(\?:\.\.\.\)"):
        Schema.from_dict({"title": {"type": "text", "split": "(,)"}})
    Schema.from_dict({"title": {"type": "text", "split": "(?:,|;)"}})
    import pandas as pd

    with pytest.raises(ConfigError, match="capturing group"):  # the public Tokenizer too, not only the spec
        Tokenizer(split="(,)").fit(pd.Series(["a,b"]))


def test_space_class_covers_the_ascii_separators_python_re_knows():
    import pandas as pd

    from recstack.preprocessing._split import split_strings

    tokens, _ = split_strings(pd.Series(["a\x0bb c", "x\x1cy z"]), r"\s+", regex=True)
    assert tokens.tolist() == ["a", "b", "c", "x", "y", "z"]


def test_numbers_are_tokenized_by_their_canonical_key_so_int_and_float_columns_match():
    import numpy as np
    import pandas as pd

    t = Tokenizer().fit(pd.Series([94105, None, 10001]))  # an int column with a gap: read as float64
    assert t.vocabulary_.keys_.tolist() == ["10001", "94105"]
    assert t.transform(pd.Series([94105, 10001])).tolist() == [[3], [2]]  # an int column at serving
    assert t.transform(pd.Series(["94105", np.int64(10001), 10001.0], dtype=object)).tolist() == [[3], [2], [2]]
    mixed = Tokenizer().fit(pd.Series(["a b", 4.5, 7.0, True], dtype=object))
    assert mixed.vocabulary_.keys_.tolist() == ["4.5", "7", "a", "b", "true"]

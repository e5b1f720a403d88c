"""Text splits: which engine runs a pattern, patterns that match nothing, the Python-re path."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from recstack.features import Schema
from recstack.preprocessing import Preprocessor, Tokenizer
from recstack.preprocessing._split import _RE2_SAME


def _python_tokens(pattern: str, texts: list[str]) -> list[list[str]]:
    return [[tok.strip() for tok in re.split(pattern, t) if tok.strip()] for t in texts]


@pytest.mark.parametrize(
    ("pattern", "texts"),
    [
        ("^a", ["aaa", "a,b", "ba"]),  # Arrow re-anchors "^" after each match: "aaa" gave no token
        (r"^#|\s+", ["#news #sport", "#a b #c"]),  # Arrow dropped every "#", not only a leading one
        (r"^\s*-|,", ["-a,-b", " - c,d"]),
    ],
)
def test_a_start_anchor_splits_as_python_re(pattern, texts):
    expected = _python_tokens(pattern, texts)
    flat, lengths = Tokenizer(split=pattern, lowercase=False).tokenize(pd.Series(texts))
    assert [x.tolist() for x in np.split(flat, np.cumsum(lengths)[:-1])] == expected
    pp = Preprocessor(Schema.from_dict({"t": {"type": "text", "split": pattern, "lowercase": False}}))
    keys = pp.fit(pd.DataFrame({"t": texts})).vocabulary("t").keys_.tolist()
    assert sorted(keys) == sorted({t for e in expected for t in e})


@pytest.mark.parametrize("pattern", ["^a", "a|^b", "(?:^a)", "a$", r"\Aa", r"a\Z", r"\ba", r"a\B",
                                     "(?=a)b", "(?!a)b", "(?<=a)b", "(?<!a)b"])
def test_anchors_and_lookarounds_never_take_the_re2_path(pattern):
    assert _RE2_SAME.fullmatch(pattern) is None


@pytest.mark.parametrize("pattern", [r"\s+", "[^,]+x", r"\^", "[$^]", r"[,;]\s*|\|"])
def test_literal_carets_and_sets_keep_the_re2_path(pattern):
    assert _RE2_SAME.fullmatch(pattern) is not None


@pytest.mark.parametrize("pattern", [r"[\s,;]*", "^", "$", "a|", "(?:x)?", "(?!a)", r"\A"])
def test_a_split_that_matches_the_empty_string_is_a_config_error(pattern):
    # RE2 (Arrow) never ended on "[\s,;]*": an ArrowMemoryError after 2 GB; Python re split every character
    from recstack.errors import ArtifactError, ConfigError
    from recstack.preprocessing._split import split_strings

    message = rf"split: {re.escape(repr(pattern))} matches the empty string.*at least one character"
    with pytest.raises(ConfigError, match=message):
        Tokenizer(split=pattern).fit(["Toy Story, Jumanji", "Heat"])
    with pytest.raises(ConfigError, match=message):
        Tokenizer(split=pattern).tokenize(["Toy Story, Jumanji"])
    with pytest.raises(ValueError, match=message):  # ConfigError is a ValueError
        split_strings(pd.Series(["a b", "c"]), pattern, regex=True)
    state = Tokenizer().fit(["a b"]).get_state()
    with pytest.raises(ArtifactError, match=rf"Tokenizer state: {message}"):
        Tokenizer.from_state({**state, "split": pattern})


def test_an_empty_literal_separator_is_a_config_error():
    from recstack.errors import ConfigError
    from recstack.preprocessing.ragged import split_ragged

    with pytest.raises(ConfigError, match="separator: expected a non-empty string, got ''"):
        split_ragged(["a|b", "c"], separator="")  # was split into characters: 'a', '|', 'b', 'c'


def test_a_split_that_needs_a_character_still_works():
    # \b matches an empty string only next to a word character (never in ""): Python re splits on it
    assert Tokenizer(split=r"\b", lowercase=False).tokenize(["ab, cd"])[0].tolist() == ["ab", ",", "cd"]
    tok = Tokenizer(split=r"[\s,;]+").fit(["Toy Story, Jumanji", "Heat"])
    assert tok.transform(["heat; toy"]).tolist() == [[tok.vocabulary_.transform(["heat"])[0],
                                                      tok.vocabulary_.transform(["toy"])[0], 0]]


def test_the_python_re_split_explodes_in_arrow_unless_a_cell_has_a_lone_surrogate(monkeypatch):
    # explode_objects (one Python pass per token) made ML-100K title transforms ~25% slower
    import json

    from recstack.preprocessing import _cells, _split

    calls = []
    explode_objects = _cells.explode_objects

    def spy(cells):
        calls.append(len(cells))
        return explode_objects(cells)

    monkeypatch.setattr(_cells, "explode_objects", spy)
    texts = pd.Series(["Café  crème ", "naïve résumé", "   "])  # non-ASCII with \s: the Python re path
    tokens, cells = _split.split_strings(texts, r"\s+", regex=True)
    assert tokens.tolist() == ["Café", "crème", "naïve", "résumé"] and cells.tolist() == [0, 0, 1, 1]
    assert tokens.dtype == object and calls == []
    surrogate = json.loads('"\\udce9"')
    tokens, cells = _split.split_strings(pd.Series(["x é", f"a {surrogate}b ", "c"], dtype=object), r"\s+",
                                         regex=True)
    assert tokens.tolist() == ["x", "é", "a", f"{surrogate}b", "c"] and cells.tolist() == [0, 0, 1, 1, 2]
    assert calls == [3]


def test_a_lone_surrogate_leaves_the_other_texts_as_they_are():
    # the fallback went through NumPy's fixed-width str: a trailing "\x00" was cut from every text of
    # the column (and one long text made every row that wide)
    import json

    surrogate = json.loads('"\\udce9"')
    texts = pd.Series([f"{surrogate} a\x00", "b\x00 c", 7], dtype=object)
    flat, lengths = Tokenizer(lowercase=False).tokenize(texts)
    assert flat.tolist() == [surrogate, "a\x00", "b\x00", "c", "7"] and lengths.tolist() == [2, 2, 1]

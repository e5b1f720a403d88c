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

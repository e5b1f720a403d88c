"""max_length unset: a warning when one training row is far longer than typical; multi-hot keeps known labels."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from recstack.features import Schema
from recstack.preprocessing import Preprocessor, Tokenizer

LONG_TEXT = " ".join(f"w{i}" for i in range(300))


@pytest.mark.parametrize("ftype, cells, unit", [
    ("text", ["short title"] * 199 + [LONG_TEXT], "300 tokens"),
    ("multi_hot", ["a|b"] * 199 + [LONG_TEXT.replace(" ", "|")], "300 labels"),
])
def test_an_outlier_row_with_max_length_unset_logs_a_warning_naming_the_feature(ftype, cells, unit, caplog):
    schema = Schema.from_dict({"desc": {"type": ftype, "column": "d"}})
    with caplog.at_level(logging.WARNING, logger="recstack"):
        pp = Preprocessor(schema).fit(pd.DataFrame({"d": cells}))
    assert pp.transform(pd.DataFrame({"d": cells[:1]}))["desc"].shape == (1, 300)  # as before: the longest row
    [record] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "feature 'desc': max_length is unset" in record.getMessage()
    assert unit in record.getMessage() and "99% of rows have at most 2" in record.getMessage()
    assert "max_length: 2" in record.getMessage()


@pytest.mark.parametrize("cells, max_length", [
    (["short title"] * 199 + [LONG_TEXT], 300),      # max_length set: the user chose it
    ([" ".join(["w"] * 60)] * 10 + ["x y"], None),    # long, but not over 64 tokens
    ([" ".join(["w"] * 70)] * 10 + [LONG_TEXT], None),  # 300 is not more than 4x the 99th percentile (70)
])
def test_no_warning_when_the_width_is_set_or_the_longest_row_is_typical(cells, max_length, caplog):
    with caplog.at_level(logging.WARNING, logger="recstack"):
        Tokenizer(max_length=max_length).fit(pd.Series(cells))
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]


def test_a_truncated_multi_hot_row_keeps_known_labels_before_unseen_ones():
    pp = Preprocessor(Schema.from_dict({"g": {"type": "multi_hot"}})).fit(pd.DataFrame({"g": ["Comedy|Drama", "Horror"]}))
    vocab = pp.vocabulary("g")
    known = vocab.transform(["Comedy", "Drama", "Horror"]).tolist()
    out = pp.transform(pd.DataFrame({"g": ["Noir|Comedy|Drama|Horror", "Noir|Comedy", "Noir|Horror|Zz"]}))["g"]
    assert out.tolist() == [known[:2], [1, known[0]], [known[2], 1]]  # rows that fit keep their order

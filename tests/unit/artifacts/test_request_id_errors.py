"""A request ID of the wrong type is named as the caller passed it: the argument (``ids``,
``queries``, ``items``, ``candidates``) and the column its values are of, with the entry and a
fix for the value; a column of rows the caller gave (a DataFrame, row dicts) is named as the
column."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pytest

from recstack.artifacts.recommender import Recommender
from recstack.errors import SchemaError
from recstack.experiment import RetrievalExperiment
from tests.conftest import small_config


@pytest.fixture(scope="module")
def rec() -> Recommender:
    exp = RetrievalExperiment(small_config(**{"train.epochs": 1}))
    exp.fit()
    return exp.recommender()


def _message(call) -> str:
    with pytest.raises(SchemaError) as err:
        call()
    return str(err.value)


@pytest.mark.parametrize("verb", ["is_known", "has_features", "stored_ids"])
def test_the_ids_argument_is_named_with_its_column_not_as_a_column(rec, verb):
    message = _message(lambda: getattr(rec, verb)([1, b"2"]))
    assert message.startswith("ids (the user_id values): entry 1 is b'2' (type bytes), not an ID; "), message
    assert "b'2'.decode('utf-8')" in message
    assert "column 'user_id'" not in message and "df[" not in message  # no table was given


def test_one_id_is_named_without_an_entry_and_each_kind_gets_its_fix(rec):
    assert _message(lambda: rec.is_known(b"2")).startswith("ids (the user_id values): b'2' (type bytes) is not an ID")
    dated = _message(lambda: rec.has_features([datetime.date(2020, 1, 1)]))
    assert "(type date) is not an ID" in dated and "convert it first" in dated
    assert "pass the ID the dict holds" in _message(lambda: rec.is_known([1, {"user_id": 1}]))
    assert "pass one ID per entry, e.g. ids=[1, 2]" in _message(lambda: rec.is_known([[1, 2]]))
    # a NumPy array's entries: their own type named, the value as Python writes it
    assert "entry 0 is b'1' (type bytes_)" in _message(lambda: rec.is_known(np.array([b"1", b"2"])))


def test_bare_query_ids_name_the_queries_argument_and_rows_name_their_column(rec):
    bare = _message(lambda: rec.recommend([1, b"2"], k=2))
    assert bare.startswith("queries (the user_id values): entry 1 is b'2' (type bytes), not an ID"), bare
    for rows in ([{"user_id": b"2"}], pd.DataFrame({"user_id": [b"2"]})):
        column = _message(lambda: rec.recommend(rows, k=2))
        assert column.startswith("column 'user_id': row 0 holds b'2' (type bytes) in the request"), column
        assert "df['user_id']" in column  # a column was given: the fix is to the column


def test_catalogue_ids_name_their_argument_and_the_candidate_column(rec):
    item = rec.candidate_ids[0]
    assert _message(lambda: rec.is_candidate([item, b"9"])).startswith(
        "ids (the item_id values): entry 1 is b'9' (type bytes), not an ID")
    assert _message(lambda: rec.score([1], [b"9"])).startswith("candidates (the item_id values): b'9' (type bytes)")
    assert _message(lambda: rec.rank([1], [b"9"])).startswith("items (the item_id values): b'9' (type bytes)")


def test_valid_ids_still_pass_every_check(rec):
    assert rec.is_known([1, "2", 2.0, np.int64(3), 987654]).tolist() == [True, True, True, True, False]
    assert rec.has_features(np.array([1, 987654])).tolist() == [True, False]
    assert rec.stored_ids(["1", 2]) == [1, 2]


@pytest.mark.parametrize("item, fix", [(b"1", "decode it first"), ([1], "pass one ID, e.g. item=1")])
def test_similar_refuses_an_item_that_is_not_one_id(rec, item, fix):
    """``similar(b"1")`` answered for item 1, and ``similar([1])`` blamed the feature configuration."""
    message = _message(lambda: rec.similar(item))
    assert message.startswith(f"item (the {rec.candidate_column} values): "), message
    assert fix in message


def test_similar_still_answers_for_a_catalogue_item(rec):
    first = rec.candidate_ids[0]
    out = rec.similar(first, k=3)
    assert len(out) == 3 and first not in set(out[rec.candidate_column])

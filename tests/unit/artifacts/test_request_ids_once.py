"""A request's IDs are checked (label types) once and canonicalised once on the serving path,
also when they arrive as an array, and when the model stores users-table rows too."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
import pytest

import recstack.artifacts.query_ids as query_ids
import recstack.artifacts.requests as requests
import recstack.preprocessing.keys as keys
from recstack.artifacts.recommender import Recommender
from recstack.experiment import RetrievalExperiment
from tests.conftest import small_config


@pytest.fixture(scope="module")
def rec() -> Recommender:
    exp = RetrievalExperiment(small_config(**{"train.epochs": 1}))
    exp.fit()
    return exp.recommender()


@pytest.fixture(scope="module")
def rec_side(rec: Recommender) -> Recommender:
    """The same model with users-table rows of two users training never saw."""
    return Recommender(model=rec.model, preprocessor=rec.preprocessor, candidate_ids=rec.candidate_ids,
                       candidate_embeddings=rec.index.embeddings, query_column=rec.query_column,
                       known_queries=rec.known_queries, seen=rec.seen, metadata=rec.metadata,
                       side_queries=pd.DataFrame({"user_id": [5000, 5001]}))


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts ID type checks (``check_labels`` of a column of rows, ``check_ids`` of an argument's
    IDs: ``checks``) and canonicalisations (``canonical_keys`` in lookups)."""
    counter: Counter[str] = Counter()
    for module, name in ((query_ids, "check_labels"), (query_ids, "check_ids"), (requests, "check_ids"),
                         (keys, "canonical_keys")):
        real = getattr(module, name)

        def counted(*args: Any, _name: str = "checks" if "check" in name else name, _f: Any = real,
                    **kwargs: Any) -> Any:
            counter[_name] += 1
            return _f(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)
    return counter


def test_an_array_of_ids_is_checked_once(rec, calls):
    ids = rec.known_queries["user_id"].to_numpy()[:20]
    got = rec.recommend(ids, k=3)
    assert got["user_id"].nunique() == 20
    assert calls == Counter(checks=1, canonical_keys=1)


def test_known_and_users_table_ids_are_canonicalised_once(rec_side, calls):
    got = rec_side.recommend([1, "2", 5000, 99999], k=3)
    assert got["user_id"].drop_duplicates().tolist() == [1, "2", 5000, 99999]
    assert calls["canonical_keys"] == 1 and calls["checks"] == 1
    calls.clear()
    assert rec_side.queries.has_features([1, 5001, 99999]).tolist() == [True, True, False]
    assert calls["canonical_keys"] == 1


def test_stored_ids_checks_the_ids_once(rec, calls):
    assert rec.stored_ids(["1", "2", "77777"]) == [1, 2, 77777]
    assert calls == Counter(checks=1, canonical_keys=1)


def test_ids_found_in_one_lookup_agree_with_each_table(rec_side):
    """Known users come first: a users-table row never stands in for a known user's."""
    pos = rec_side.queries.known_positions([2, 5000, 1, 99999])
    known = rec_side.known_queries["user_id"].tolist()
    assert pos.tolist() == [known.index(2), -1, known.index(1), -1]
    assert rec_side.is_known(np.array([5001, 1])).tolist() == [False, True]


def test_float_ids_are_looked_up_once_for_the_answer_and_the_cold_warning(rec_side, calls, caplog):
    """A float ID column (an integer column with a gap) is echoed as the stored IDs and named in
    the cold-start warning from the request's one lookup, not looked up again for each."""
    request = pd.DataFrame({"user_id": [1.0, 5000.0, np.nan, 99999.0, 2.0]})
    with caplog.at_level("WARNING", logger="recstack.artifacts.recommender"):
        got = rec_side.recommend(request, k=2)
    assert calls == Counter(checks=1, canonical_keys=1)
    echoed = got.drop_duplicates("query_row")["user_id"].tolist()
    assert echoed[:2] == [1, 5000] and pd.isna(echoed[2]) and echoed[3:] == [99999, 2]
    assert [type(v) for v in echoed[:2] + echoed[3:]] == [int] * 4
    assert "(user_id 5000, nan, 99999: not seen in training nor in the users table" in caplog.text


def test_stored_ids_spells_each_kind_of_id_as_before(rec, rec_side):
    """Known IDs as the training table spells them (plain Python), unknown ones as given but
    NumPy scalars as Python values and integer text as an int of any size; users-table rows count
    as unknown; a bool is no integer ID. Pinned across the vectorised rewrite."""
    given = [np.int64(77777), "99999999999999999999", np.float64(2.0), True, np.str_("5"), "+5", 1.5, "1", 5000]
    want = [77777, 99999999999999999999, 2, True, 5, "+5", 1.5, 1, 5000]
    for r in (rec, rec_side):
        got = r.stored_ids(given)
        assert got == want and [type(v) for v in got] == [type(v) for v in want]
    assert rec.stored_ids([]) == [] and rec.stored_ids(np.array(["3", "4"])) == [3, 4]
    assert type(rec.stored_ids(np.array([3]))[0]) is int

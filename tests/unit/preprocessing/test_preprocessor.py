"""Preprocessor: all five feature types on a small frame, outputs, state, errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from recstack.errors import ArtifactError, ConfigError, NotFittedError, SchemaError
from recstack.features import Schema
from recstack.preprocessing import OutputSpec, Preprocessor, Vocabulary


def make_schema() -> Schema:
    return Schema.from_dict(
        {
            "user_id": {"type": "categorical"},
            "item_id": {"type": "categorical", "num_oov": 2, "embedding_dim": 8},
            "country": {"type": "categorical", "num_buckets": 7},
            "age": {"type": "numeric", "fill": "mean", "normalize": True, "boundaries": [25, 35]},
            "income": {"type": "numeric", "log": True, "buckets": 2, "as_value": False},
            "genres": {"type": "multi_hot", "pooling": "sum"},
            "history": {"type": "sequence", "source": "item_id", "separator": ",", "max_length": 3},
            "tags": {"type": "sequence", "max_length": 2, "keep": "first", "encoder": "max"},
            "title": {"type": "text"},
        },
        defaults={"country": "zz", "genres": "", "income": 0},
    )


def make_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": ["u1", "u2", "u1", None],
            "item_id": [10, 20, 10, 30],
            "country": ["fr", None, "de", "fr"],
            "age": [20, None, 40, 30],
            "income": [0.0, 9.0, None, 99.0],
            "genres": ["A|B", "B", None, "C|A|B"],
            "history": [[10, 20], "20,30,40,10", None, []],
            "tags": [["x", "y", "z"], ["y"], None, ["y", "x"]],
            "title": ["Hello World", "hello", None, "x y z w"],
            "unused": [object(), 1, "a", None],
        }
    )


@pytest.fixture(scope="module")
def fitted() -> Preprocessor:
    return Preprocessor(make_schema()).fit(make_table())


def test_transform_exact_values(fitted):
    out = fitted.transform(make_table())
    assert list(out) == [
        "user_id", "item_id", "country", "age", "age.bucket", "income.bucket", "genres", "history", "tags", "title"
    ]
    assert out["user_id"].tolist() == [2, 3, 2, 0]  # u1 most frequent; missing -> padding
    assert out["item_id"].tolist() == [3, 4, 3, 5]  # 2 OOV buckets, then 10, 20, 30
    # hashed into 1 + stable_hash % 7, pinned like a saved model's buckets: fr, de and the default zz
    # (the missing row) all land in bucket 3, so other values pin that the buckets differ
    assert out["country"].tolist() == [3, 3, 3, 3]
    assert fitted.encode("country", ["us", "jp", "br", "it", "es"])["country"].tolist() == [6, 4, 7, 1, 5]
    assert out["age"].tolist() == pytest.approx([-np.sqrt(2), 0.0, np.sqrt(2), 0.0], rel=1e-6)  # NaN -> mean 30
    assert out["age.bucket"].tolist() == [1, 2, 3, 2]  # boundaries [25, 35] on the filled value
    # income: default 0 fills, log1p -> [0, log 10, 0, log 100]; median boundary log 5
    assert out["income.bucket"].tolist() == [1, 2, 1, 2]
    assert out["genres"].tolist() == [[3, 2, 0], [2, 0, 0], [0, 0, 0], [4, 3, 2]]  # B:3, A:2, C:1
    # keep last; unseen 40 -> OOV bucket 1 + stable_hash("40") % 2 = 2 of item_id's vocabulary
    assert out["history"].tolist() == [[3, 4, 0], [5, 2, 3], [0, 0, 0], [0, 0, 0]]
    assert out["tags"].tolist() == [[3, 2], [2, 0], [0, 0], [2, 3]]  # y:3, x:2, z:1; keep first
    assert out["title"].tolist() == [[2, 4, 0, 0], [2, 0, 0, 0], [0, 0, 0, 0], [5, 6, 7, 3]]


def test_dtypes_and_shapes_follow_output_specs(fitted):
    out = fitted.transform(make_table())
    for spec in fitted.outputs:
        t = out[spec.key]
        if spec.kind == "value":
            assert t.dtype == torch.float32 and t.shape == (4,)
        elif spec.kind == "id":
            assert t.dtype == torch.int64 and t.shape == (4,)
            assert 0 <= int(t.min()) and int(t.max()) < spec.cardinality
        else:
            assert t.dtype == torch.int64 and t.ndim == 2 and t.shape[0] == 4
            assert int(t.max()) < spec.cardinality
    assert {s.key for s in fitted.outputs} == set(out)


def test_outputs_list(fitted):
    assert fitted.outputs == [
        OutputSpec("user_id", "user_id", "id", 4, "user_id", "", None, num_oov=1),
        OutputSpec("item_id", "item_id", "id", 6, "item_id", "", 8, num_oov=2),
        OutputSpec("country", "country", "id", 8, "country", "", None),  # hashed: no OOV rows
        OutputSpec("age", "age", "value", 0, "", "", None),
        OutputSpec("age.bucket", "age", "id", 4, "age", "", None),
        OutputSpec("income.bucket", "income", "id", 3, "income", "", None),
        OutputSpec("genres", "genres", "ids", 5, "genres", "sum", None, num_oov=1),
        OutputSpec("history", "history", "ids", 6, "item_id", "mean", 8, num_oov=2),  # item_id's vocabulary
        OutputSpec("tags", "tags", "ids", 5, "tags", "max", None, num_oov=1),
        OutputSpec("title", "title", "ids", 8, "title", "mean", None, num_oov=1),
    ]


def test_state_json_round_trip_gives_equal_tensors(fitted):
    state = json.loads(json.dumps(fitted.get_state()))
    again = Preprocessor.from_state(state)
    new = make_table().assign(item_id=[30, 99, 10, 20], history=["10,99", [30], None, "x"])
    a, b = fitted.transform(new), again.transform(new)
    assert list(a) == list(b)
    for k in a:
        assert torch.equal(a[k], b[k]), k
    assert again.outputs == fitted.outputs
    assert again.vocabulary("history") is again.vocabulary("item_id")


def test_from_state_rejects_bad_state(fitted):
    state = json.loads(json.dumps(fitted.get_state()))
    with pytest.raises(ArtifactError, match="version"):
        Preprocessor.from_state({**state, "version": 99})
    del state["features"]["title"]
    with pytest.raises(ArtifactError, match="title"):
        Preprocessor.from_state(state)


def test_unseen_ids_go_to_oov(fitted):
    out = fitted.transform(make_table().assign(user_id=["zz", "u2", "u1", "new"]))
    assert out["user_id"].tolist() == [1, 3, 2, 1]


def test_encode_one_feature_and_vocabulary_inverse(fitted):
    enc = fitted.encode("item_id", [30, 99, "10", None])
    assert list(enc) == ["item_id"]
    assert enc["item_id"].tolist()[0] == 5 and enc["item_id"].tolist()[2:] == [3, 0]
    assert enc["item_id"].tolist()[1] in (1, 2)
    vocab = fitted.vocabulary("history")
    assert isinstance(vocab, Vocabulary)
    assert vocab.inverse([3, 4, 5]).tolist() == [10, 20, 30]
    assert fitted.encode("country", [None])["country"].tolist() == fitted.encode("country", ["zz"])["country"].tolist()
    assert set(fitted.encode("income", [None, 5.0])) == {"income.bucket"}


def test_vocabulary_accessor_errors(fitted):
    with pytest.raises(ConfigError, match="hashes IDs"):
        fitted.vocabulary("country")
    with pytest.raises(ConfigError, match="no vocabulary"):
        fitted.vocabulary("age")
    with pytest.raises(ConfigError, match="unknown feature 'nope'"):
        fitted.vocabulary("nope")
    assert fitted.vocabulary("title").keys_.tolist()[0] == "hello"


def test_not_fitted():
    pp = Preprocessor(make_schema())
    for call in (lambda: pp.transform(make_table()), lambda: pp.outputs, pp.get_state, lambda: pp.vocabulary("user_id")):
        with pytest.raises(NotFittedError, match=r"Preprocessor is not fitted.*call Preprocessor.fit"):
            call()


def test_fit_uses_only_the_given_table():
    schema = Schema.from_dict({"item_id": {"type": "categorical"}})
    pp = Preprocessor(schema).fit(pd.DataFrame({"item_id": ["a", "b", "b"]}))
    assert pp.vocabulary("item_id").keys_.tolist() == ["b", "a"]
    assert pp.transform(pd.DataFrame({"item_id": ["c"]}))["item_id"].tolist() == [1]


def test_sequence_own_vocabulary_fits_on_flattened_labels():
    schema = Schema.from_dict({"h": {"type": "sequence", "separator": "|", "max_length": 2}})
    pp = Preprocessor(schema).fit(pd.DataFrame({"h": ["a|b|c", "c", None]}))
    assert pp.vocabulary("h").keys_.tolist() == ["c", "a", "b"]
    assert pp.transform(pd.DataFrame({"h": ["a|b|c"]}))["h"].tolist() == [[4, 2]]  # last two


def test_empty_table():
    with pytest.raises(SchemaError, match="empty table"):
        Preprocessor(make_schema()).fit(make_table().iloc[:0])


def test_missing_column_lists_missing_available_and_fix():
    with pytest.raises(SchemaError) as info:
        Preprocessor(make_schema()).fit(make_table().drop(columns=["age", "title"]))
    msg = str(info.value)
    assert "'age' (feature age)" in msg and "'title' (feature title)" in msg
    assert "'user_id'" in msg and "set column:" in msg


def test_feature_reading_another_column_names_both():
    schema = Schema.from_dict({"uid": {"type": "categorical", "column": "user"}})
    with pytest.raises(SchemaError, match=r"'user' \(feature uid\)"):
        Preprocessor(schema).fit(pd.DataFrame({"user_id": [1]}))


def test_list_values_in_categorical_column():
    table = make_table().assign(user_id=["u1", ["u2"], "u1", "u3"])
    with pytest.raises(SchemaError, match=r"feature 'user_id': column 'user_id': row 1"):
        Preprocessor(make_schema()).fit(table)


def test_strings_in_numeric_column():
    table = make_table().assign(age=["20", "old", 40, 30])
    with pytest.raises(SchemaError, match=r"feature 'age': column 'age': row 1 holds 'old'"):
        Preprocessor(make_schema()).fit(table)


def test_missing_numeric_without_fill_names_row_and_defaults_fix():
    schema = Schema.from_dict({"x": {"type": "numeric"}})
    with pytest.raises(SchemaError, match=r"column 'x': row 1 is missing.*data.defaults"):
        Preprocessor(schema).fit(pd.DataFrame({"x": [1.0, None]}))
    pp = Preprocessor(Schema.from_dict({"x": {"type": "numeric"}}, defaults={"x": -1})).fit(
        pd.DataFrame({"x": [1.0, None]})
    )
    assert pp.transform(pd.DataFrame({"x": [None]}))["x"].tolist() == [-1.0]


def test_ragged_bad_rows_in_sequence_column():
    table = make_table().assign(tags=[["x"], 5, None, ["y"]])
    with pytest.raises(SchemaError, match=r"feature 'tags': column 'tags': row 1"):
        Preprocessor(make_schema()).fit(table)


def test_transform_checks_columns_too(fitted):
    with pytest.raises(SchemaError, match="missing column"):
        fitted.transform(make_table().drop(columns=["genres"]))
    with pytest.raises(SchemaError, match="empty table"):
        fitted.transform(make_table().iloc[:0])


def test_list_default_of_a_scalar_column_is_a_config_error_when_the_schema_is_built():
    with pytest.raises(ConfigError, match=r"data\.defaults\.g: a list .* read by g \(categorical\)"):
        Schema.from_dict({"g": {"type": "categorical"}}, defaults={"g": ["a"]})


def test_row_positions_ignore_the_frame_index():
    schema = Schema.from_dict({"x": {"type": "numeric"}})
    table = pd.DataFrame({"x": [1.0, 2.0, "bad"]}, index=[100, 50, 7])
    with pytest.raises(SchemaError, match="row 2"):
        Preprocessor(schema).fit(table)


def test_sequence_embedding_dim_must_match_its_source_when_the_schema_is_built():
    with pytest.raises(ConfigError, match=r"features.h.embedding_dim: 4, but its source 'item_id' sets 8;.*"
                                          r"set embedding_dim on features.item_id \(e.g. 4\) and remove it from features.h"):
        Schema.from_dict({"item_id": {"type": "categorical", "embedding_dim": 8},
                          "h": {"type": "sequence", "source": "item_id", "embedding_dim": 4}})
    with pytest.raises(ConfigError, match=r"features.h.embedding_dim: 4, but its source 'item_id' sets none, so the "
                                          r"model's embedding_dim sizes the table"):
        Schema.from_dict({"item_id": {"type": "categorical"},
                          "h": {"type": "sequence", "source": "item_id", "embedding_dim": 4}})
    schema = Schema.from_dict({"item_id": {"type": "categorical", "embedding_dim": 4},
                               "h": {"type": "sequence", "source": "item_id", "embedding_dim": 4}})
    pp = Preprocessor(schema).fit(pd.DataFrame({"item_id": [1], "h": [[1]]}))
    assert {o.key: o.embedding_dim for o in pp.outputs} == {"item_id": 4, "h": 4}


def test_transform_a_subset_of_features_needs_only_their_columns(fitted):
    table = make_table()[["history", "user_id"]]
    out = fitted.transform(table, features=["history", "user_id"])
    assert list(out) == ["history", "user_id"]
    full = fitted.transform(make_table())
    assert torch.equal(out["history"], full["history"]) and torch.equal(out["user_id"], full["user_id"])
    with pytest.raises(ConfigError, match="unknown feature 'nope'"):
        fitted.transform(table, features=["nope"])
    with pytest.raises(SchemaError, match=r"'age' \(feature age\)"):
        fitted.transform(table, features=["age"])


def test_a_value_that_is_not_finite_after_preprocessing_is_an_error_unless_only_bucketed(fitted):
    table = make_table()
    for bad in (np.inf, 1e308):  # inf, and a value that overflows float32 once standardized
        with pytest.raises(SchemaError, match=r"column 'age': row 2 holds .* not a finite float32"):
            fitted.transform(table.assign(age=[20, None, bad, 30]))
    out = fitted.transform(table.assign(income=[0.0, 9.0, np.inf, 99.0]))  # as_value: false, buckets only
    assert out["income.bucket"][2] == out["income.bucket"].max()


def test_a_feature_name_with_a_dot_is_refused_since_it_could_replace_a_derived_output():
    with pytest.raises(ConfigError, match=r"features\.age\.bucket: a feature name cannot contain '\.'.*age_bucket"):
        Schema.from_dict({"age": {"type": "numeric", "buckets": 3}, "age.bucket": {"type": "categorical"}})


def test_multi_hot_is_a_set_repeats_are_dropped_before_truncation():
    schema = Schema.from_dict({"genres": {"type": "multi_hot", "separator": "|", "max_length": 2}})
    table = pd.DataFrame({"genres": ["Drama|Drama|Comedy", "Comedy", "", ["Drama", "Drama"]]})
    pp = Preprocessor(schema).fit(table)
    ids = pp.transform(table)["genres"]
    drama, comedy = pp.transform(pd.DataFrame({"genres": ["Drama", "Comedy"]}))["genres"][:, 0].tolist()
    assert ids.tolist() == [[drama, comedy], [comedy, 0], [0, 0], [drama, 0]]


def test_multi_hot_repeats_are_found_by_canonical_key():
    schema = Schema.from_dict({"tags": {"type": "multi_hot", "max_length": 2}})
    table = pd.DataFrame({"tags": [[1, "1", 3], ["1", 1.0, 2], [True, 1]]})
    pp = Preprocessor(schema).fit(table)
    one, two, three, true = pp.transform(pd.DataFrame({"tags": [[1], [2], [3], [True]]}))["tags"][:, 0].tolist()
    assert pp.transform(table)["tags"].tolist() == [[one, three], [one, two], [true, one]]

"""``multi_hot`` with ``flags``: one 0/1 indicator column per label (MovieLens genres, census
attributes) read as one set, with the vocabulary, padding and state of a delimited multi_hot."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from recstack.errors import ConfigError, SchemaError
from recstack.features import MultiHotFeature, Schema, parse_feature
from recstack.preprocessing import Preprocessor
from recstack.preprocessing.flags import flag_labels, flag_values

FLAGS = ["Action", "Comedy", "Drama"]


def schema(**extra: object) -> Schema:
    return Schema.from_dict({"item_id": {"type": "categorical"},
                             "genres": {"type": "multi_hot", "flags": FLAGS, **extra}})


def items() -> pd.DataFrame:
    return pd.DataFrame({"item_id": [1, 2, 3, 4, 5], "Action": [1, 0, 1, 0, 1], "Comedy": [0, 0, 0, 1, 1],
                         "Drama": [1, 0, 0, 1, 1]})


# ---------------------------------------------------------------- the spec
def test_spec_reads_its_flag_columns_and_round_trips():
    s = schema()
    spec = s["genres"]
    assert isinstance(spec, MultiHotFeature) and spec.source_columns == tuple(FLAGS)
    assert parse_feature("g", {"type": "multi_hot"}).source_columns == ("g",)
    assert s.columns == ["item_id", *FLAGS] and s.columns_of(["genres"]) == FLAGS
    again = Schema.from_json_dict(json.loads(json.dumps(s.to_dict())))
    assert again == s and again["genres"].flags == FLAGS
    assert parse_feature("g", {"type": "multi_hot", "flags": ("A", "B")}).flags == ["A", "B"]


@pytest.mark.parametrize("extra, message", [
    ({"flags": []}, r"flags: List should have at least 1 item"),
    ({"flags": ["A", "B", "A"]}, r"flags: 'A' listed more than once"),
    ({"flags": ["A", " "]}, r"flags: entry 1 is an empty column name"),
    ({"flags": ["A", True]}, r"flags: entry 1 is True \(bool\), not a column name.*quote it"),
    ({"flags": ["A", 3]}, r"flags: entry 1 is 3 \(int\)"),
    ({"flags": "Action"}, r"flags: expected a list of the 0/1 columns.*column: Action"),
    ({"flags": ["A"], "column": "genre"}, r"column: names one column of delimited labels, but flags.*remove column"),
    ({"flags": ["A"], "separator": ","}, r"separator: has no effect with flags"),
])
def test_bad_flags_are_config_errors_naming_the_key(extra, message):
    with pytest.raises(ConfigError, match=r"^features\.genres\." + message):
        Schema.from_dict({"genres": {"type": "multi_hot", **extra}})


# ---------------------------------------------------------------- reading one flag column
@pytest.mark.parametrize("values", [
    [1, 0, 1, 0],
    [1.0, np.nan, 1.0, 0.0],
    [True, False, True, False],
    pd.array([True, None, True, False], dtype="boolean"),
    pd.array([1, None, 1, 0], dtype="Int64"),
    pd.array([1.0, None, 1.0, 0.0], dtype="Float64"),
    ["1", "0", " 1 ", ""],
    pd.array(["1", None, "1", "0"], dtype="string"),
    [1, None, "true", "0"],
    ["1.0", "0.0", True, 0],
    pd.Categorical(["1", "0", "1", "0"]),
    pd.array([True, None, True, False], dtype=pd.ArrowDtype(pa.bool_())),
    pd.array([1, None, 1, 0], dtype=pd.ArrowDtype(pa.int8())),
])
def test_set_unset_and_missing_cells_of_every_dtype(values):
    got = flag_values(pd.Series(values), column="Action")
    assert got.dtype == bool and got.tolist() == [True, False, True, False]


@pytest.mark.parametrize("values, row, shown", [
    ([0, 1, 2, 2], 2, "2"),
    ([0, -1], 1, "-1"),
    ([0.5, 1.0], 0, "0.5"),
    ([1, np.inf], 1, "inf"),
    (["1", "yes"], 1, "'yes'"),
    (["0", "1", "2"], 2, "'2'"),
    ([1, "no", None], 1, "'no'"),
])
def test_other_values_name_the_column_and_row(values, row, shown):
    with pytest.raises(SchemaError, match=rf"^column 'Comedy': row {row} holds {shown}, which is not a flag value "
                                          r"\(\d such rows?\).*features\.genres\.flags") as err:
        flag_values(pd.Series(values), column="Comedy", feature="genres")
    assert err.value.column == "Comedy" and int(err.value.rows[0]) == row


def test_labels_are_the_set_flags_in_order():
    cols = {"Action": pd.Series([1, 0, 1]), "Comedy": pd.Series([0, 0, 1]), "Drama": pd.Series([1, 0, 1])}
    flat, lengths = flag_labels(cols, FLAGS)
    assert flat.tolist() == ["Action", "Drama", "Action", "Comedy", "Drama"] and lengths.tolist() == [2, 0, 3]
    with pytest.raises(SchemaError, match="flag column 'Comedy' has 2 rows, 'Action' has 3"):
        flag_labels({**cols, "Comedy": pd.Series([0, 1])}, FLAGS)


# ---------------------------------------------------------------- the preprocessor
def test_same_ids_state_and_outputs_as_a_delimited_multi_hot():
    df = items()
    pp = Preprocessor(schema(max_length=2, pooling="sum")).fit(df)
    text = df.assign(genres=["Action|Drama", "", "Action", "Comedy|Drama", "Action|Comedy|Drama"])
    ref = Preprocessor(Schema.from_dict({"item_id": {"type": "categorical"},
                                         "genres": {"type": "multi_hot", "max_length": 2, "pooling": "sum"}})).fit(text)
    assert pp.transform(df)["genres"].tolist() == ref.transform(text)["genres"].tolist()
    assert pp.outputs == ref.outputs and pp.outputs[1].kind == "ids" and pp.outputs[1].pooling == "sum"
    assert pp.vocabulary("genres").inverse([2, 3, 4]).tolist() == ref.vocabulary("genres").inverse([2, 3, 4]).tolist()
    loaded = Preprocessor.from_state(json.loads(json.dumps(pp.get_state())))
    assert loaded.transform(df)["genres"].tolist() == pp.transform(df)["genres"].tolist()
    assert loaded.schema["genres"].flags == FLAGS


def test_vocabulary_settings_apply_to_the_labels():
    df = items()  # Action 3, Drama 3, Comedy 2
    pp = Preprocessor(schema(min_count=3)).fit(df)
    vocab = pp.vocabulary("genres")
    assert sorted(vocab.inverse([2, 3]).tolist()) == ["Action", "Drama"] and vocab.size == 4
    assert pp.transform(df.iloc[[3]])["genres"].tolist() == [[1, int(vocab.transform(["Drama"])[0]), 0]]  # Comedy: OOV
    assert Preprocessor(schema(max_size=1)).fit(df).vocabulary("genres").size == 3


def test_longer_rows_keep_known_labels_first():
    df = pd.DataFrame({"item_id": [1, 2], "Action": [1, 0], "Comedy": [1, 0], "Drama": [0, 1]})
    pp = Preprocessor(schema(max_length=1, min_count=1)).fit(df)
    assert pp.transform(df)["genres"].shape == (2, 1)
    rare = Preprocessor(schema(max_length=1, min_count=2)).fit(pd.concat([df, df.iloc[[0]]]))  # Drama: OOV
    assert rare.transform(pd.DataFrame({"item_id": [3], "Action": [0], "Comedy": [1], "Drama": [1]}))[
        "genres"].tolist() == [[rare.vocabulary("genres").transform(["Comedy"])[0]]]


def test_a_missing_flag_column_is_named_and_an_empty_one_sets_nothing():
    pp = Preprocessor(schema()).fit(items())
    with pytest.raises(SchemaError, match=r"missing column\(s\) 'Drama' \(a flag of feature genres\)"):
        pp.transform(items().drop(columns="Drama"))
    served = items().assign(Drama=pd.Series([None] * 5, dtype=object))  # how serving fills an absent column
    ids = pp.transform(served)["genres"]
    assert ids.tolist()[1] == [0, 0, 0] and (ids == pp.transform(items().assign(Drama=0))["genres"]).all()


def test_a_missing_flag_column_is_answered_with_the_flags_key_not_column():
    pp = Preprocessor(schema()).fit(items())
    with pytest.raises(SchemaError) as err:
        pp.transform(items().drop(columns=["Drama", "Comedy"]))
    message = str(err.value)
    assert message.startswith("missing column(s) 'Comedy' (a flag of feature genres), 'Drama' (a flag of feature "
                              "genres); the table has columns ['item_id', 'Action']")
    assert message.endswith("; rename the column, correct features.genres.flags (each name is a 0/1 column of the "
                            "table), or remove the feature")
    assert "set column" not in message
    with pytest.raises(SchemaError) as err:  # a plain column and a flag column: both fixes
        pp.transform(items().drop(columns=["Drama", "item_id"]))
    assert str(err.value).endswith("; rename the column, set column: <name> on feature item_id, correct "
                                   "features.genres.flags (each name is a 0/1 column of the table), or remove "
                                   "the feature")


def test_a_bad_cell_names_the_feature_column_and_row():
    pp = Preprocessor(schema()).fit(items())
    with pytest.raises(SchemaError, match=r"^feature 'genres': column 'Comedy': row 3 holds 'yes'") as err:
        pp.transform(items().astype({"Comedy": object}).assign(Comedy=[0, 0, 1, "yes", None]))
    assert err.value.feature == "genres" and err.value.column == "Comedy" and err.value.rows.tolist() == [3]
    with pytest.raises(SchemaError, match=r"column 'Action': row 0 holds 2"):
        Preprocessor(schema()).fit(items().assign(Action=[2, 0, 0, 0, 0]))


def test_no_flag_set_in_training_is_an_error():
    with pytest.raises(SchemaError, match=r"feature 'genres': no training row has any of its 3 flag columns "
                                          r"\('Action', 'Comedy', 'Drama'\) set.*features\.genres\.flags"):
        Preprocessor(schema()).fit(items().assign(Action=0, Comedy=0, Drama=0))


def test_defaults_fill_flag_columns_and_take_flag_values_only():
    s = Schema.from_dict({"item_id": {"type": "categorical"}, "genres": {"type": "multi_hot", "flags": FLAGS}},
                         defaults={"Comedy": 1})
    pp = Preprocessor(s).fit(items())
    ids = pp.transform(items().assign(Comedy=[np.nan, 0, 0, 1, 1]))["genres"]
    assert pp.vocabulary("genres").transform(["Comedy"])[0] in ids[0].tolist()
    for bad in (2, "yes", [1]):
        with pytest.raises(ConfigError, match=r"data\.defaults\.Comedy: .* is not a flag value.*features\.genres"
                                              r"\.flags.*Comedy: 0 or Comedy: 1"):
            Schema.from_dict({"genres": {"type": "multi_hot", "flags": FLAGS}}, defaults={"Comedy": bad})


def test_encode_asks_for_a_table():
    pp = Preprocessor(schema()).fit(items())
    with pytest.raises(ConfigError, match=r"feature 'genres' reads the columns \['Action', 'Comedy', 'Drama'\].*"
                                          r"transform\(table, features=\['genres'\]\)"):
        pp.encode("genres", [1, 0])
    assert pp.transform(items(), features=["genres"])["genres"].shape == (5, 3)


@pytest.mark.parametrize("values", [pd.Categorical([True, None, True]), pd.Categorical([True, None, False]),
                                    pd.array([True, None, True], dtype="boolean")])
def test_a_categorical_or_nullable_bool_flag_with_empty_cells_reads_them_as_not_set(values):
    """A categorical of booleans is a bool dtype to pandas: ``fillna(False)`` raised when False was
    no category of it."""
    from recstack.preprocessing.flags import flag_values

    assert flag_values(pd.Series(values), column="Drama").tolist() == [True, False, bool(values[2])]

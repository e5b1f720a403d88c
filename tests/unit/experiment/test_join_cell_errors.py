"""A bad cell of a column a data.join table brings: the fitting error names the join, its file,
the key(s) of the side rows at fault and how many there are, and keeps its fix."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from recstack.config import ExperimentConfig
from recstack.errors import MissingValueError, SchemaError
from recstack.experiment import RetrievalExperiment
from recstack.experiment.join_errors import side_table_note
from recstack.experiment.tables import side_table
from tests.unit.experiment.side_data import side_config, write_side_data


def _experiment(tmp_path, **overrides) -> RetrievalExperiment:
    return RetrievalExperiment(ExperimentConfig.from_dict(side_config(**overrides), base_dir=str(tmp_path)))


def _users_with(tmp_path, ages: dict[int, object]) -> pd.DataFrame:
    """The side data, with the users table's age of some users replaced (None: blank)."""
    tables = write_side_data(tmp_path)
    users = tables["users"].astype({"age": object})
    for user, age in ages.items():
        users.loc[users.user_id == user, "age"] = age
    users.to_csv(tmp_path / "users.csv", index=False)
    return tables["train"]


def test_a_blank_side_cell_names_the_join_file_key_and_side_rows_and_keeps_the_fill_fix(tmp_path):
    train = _users_with(tmp_path, {13: None})
    with pytest.raises(MissingValueError) as info:
        _experiment(tmp_path)
    msg = str(info.value)
    n = int((train.user_id == 13).sum())
    first = int(np.flatnonzero(train.user_id == 13)[0])
    assert f"column 'age': row {first} is missing (NaN/None; {n} such rows)" in msg  # the training row, as before
    assert "set fill: <number>|mean|median on the feature, or data.defaults: {age: <value>}" in msg
    path = str((tmp_path / "users.csv").resolve())
    assert (f"column 'age' comes from data.join.users ({path}): those {n} training rows take it from 1 row of the "
            "users table (user_id 13): fix it in that file") in msg
    err = info.value
    assert err.column == "age" and err.feature == "age" and len(err.rows) == n


def test_non_numbers_in_several_side_rows_are_counted_and_the_first_keys_named_in_file_order(tmp_path):
    train = _users_with(tmp_path, {40: "old", 7: "ten", 22: "?", 31: "x"})
    with pytest.raises(SchemaError, match="which is not a number") as info:
        _experiment(tmp_path)
    n = int(train.user_id.isin([40, 7, 22, 31]).sum())
    assert re.search(rf"those {n} training rows take it from 4 rows of the users table \(user_id 7, 22, 31 and 1 "
                     r"more\)", str(info.value))


def test_validation_rows_are_mapped_from_the_whole_training_table(tmp_path):
    train = _users_with(tmp_path, {13: None})
    with pytest.raises(MissingValueError, match=r"row \d+ is missing .*\(user_id 13\)") as info:
        _experiment(tmp_path, **{"data.validation_fraction": 0.2})
    assert info.value.rows.tolist() == np.flatnonzero(train.user_id == 13).tolist()  # rows of the table as read


def test_no_note_for_a_column_of_the_interactions_or_a_key_the_side_table_lacks():
    users = side_table(pd.DataFrame({"user_id": [1, 2], "age": [30.0, None]}), "user_id", "users")
    table = pd.DataFrame({"user_id": [2, 3], "age": [None, None], "rating": [1.0, None]})
    err = SchemaError("column 'rating': row 1 is missing", column="rating", rows=[1])
    assert side_table_note(err, table, {"users": users}) == ""
    assert side_table_note(SchemaError("x", column="age", rows=[1]), table, {"users": users}) == ""  # user 3: none
    note = side_table_note(SchemaError("x", column="age", rows=[0, 1]), table, {"users": users})
    assert note.endswith("1 of those 2 training rows take it from 1 row of the users table (user_id 2): fix it in "
                         "that table, or as suggested above")
    # an error that names one row but carries none: that row's key
    named = side_table_note(SchemaError("column 'age': row 0 holds b'x'", column="age"), table, {"users": users})
    assert "row 0 takes it from the users table's row of user_id 2" in named

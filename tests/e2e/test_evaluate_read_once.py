"""``recstack evaluate --data FILE`` reads the file once, also when the model recorded the
training file's ID types (it was read untyped, then again typed), and also when a recorded type
names a column the file lacks (it was read again without that type, found by the error's text)."""

from __future__ import annotations

import json
from typing import Any

import pytest

import recstack.data
from recstack.cli.main import main
from tests.e2e.test_cli import _zero_padded_model


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The types of each ``read_table`` call the CLI makes: ``(dtype, dtype_if_present)``."""
    calls: list[Any] = []
    real = recstack.data.read_table

    def counted(source: Any, **kwargs: Any) -> Any:
        calls.append((kwargs.get("dtype"), kwargs.get("dtype_if_present")))
        return real(source, **kwargs)

    monkeypatch.setattr(recstack.data, "read_table", counted)
    return calls


def test_a_file_is_read_once_typed_as_training_read_it(tmp_path, capsys, reads):
    model, data = _zero_padded_model(tmp_path, {"user_id": "str", "item_id": "str"})
    capsys.readouterr()
    assert main(["evaluate", model, "--data", data, "--metrics", "hit_rate@10"]) == 0
    assert json.loads(capsys.readouterr().out)["hit_rate@10"] == 1  # 0042 stays 0042, as in training
    assert reads == [(None, {"user_id": "str", "item_id": "str"})]


def test_dtype_given_overrides_the_saved_type_in_the_one_read(tmp_path, capsys, reads):
    model, data = _zero_padded_model(tmp_path, {"user_id": "str", "item_id": "str"})
    capsys.readouterr()
    assert main(["evaluate", model, "--data", data, "--metrics", "hit_rate@10", "--dtype", "item_id=int"]) == 0
    assert json.loads(capsys.readouterr().out)["hit_rate@10"] == 0  # 42 is not the catalogue's '0042'
    assert reads == [({"item_id": "int"}, {"user_id": "str", "item_id": "str"})]  # dtype wins in read_table


def test_a_saved_type_of_a_column_the_file_lacks_is_not_an_error_about_dtype(tmp_path, capsys, reads):
    """The candidate key may come by a data.join key: the saved type of a column the file does
    not have is dropped (the error, if any, is evaluation's own), never a ``dtype`` error."""
    model, _ = _zero_padded_model(tmp_path, {"user_id": "str", "item_id": "str"})
    (tmp_path / "users_only.csv").write_text("user_id\n0007\n")
    capsys.readouterr()
    assert main(["evaluate", model, "--data", str(tmp_path / "users_only.csv")]) == 2
    err = capsys.readouterr().err
    assert "evaluation table lacks column 'item_id'" in err and "dtype" not in err
    assert reads == [(None, {"user_id": "str", "item_id": "str"})]  # one read: the absent column's type is skipped


def test_a_dtype_given_for_a_column_the_file_lacks_is_still_an_error(tmp_path, capsys, reads):
    model, data = _zero_padded_model(tmp_path, {"user_id": "str", "item_id": "str"})
    capsys.readouterr()
    assert main(["evaluate", model, "--data", data, "--dtype", "userid=str"]) == 2
    assert "dtype.userid: 'userid' is not a column of" in capsys.readouterr().err
    assert len(reads) == 1

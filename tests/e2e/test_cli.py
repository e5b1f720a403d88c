import json

import pytest
import yaml

from recstack.cli import main
from tests.conftest import ml100k_dir, needs_ml100k, small_config


def test_quickstart_train_recommend_evaluate(tmp_path, capsys, monkeypatch, caplog):
    assert main(["quickstart", "--dataset", "synthetic", "-o", str(tmp_path / "q"), "--epochs", "2", "-q"]) == 0
    out = json.loads(capsys.readouterr().out)
    # 500 items; the 10 most popular training items hold 0.28 of the test rows, an untrained model
    # gets 0.28 too; 2 epochs on CPU with the quickstart's seed give 0.68
    assert out["test_metrics"]["hit_rate@10"] > 0.5 and len(out["top5_for_example_user"]) == 5
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(small_config().to_dict()))
    assert main(["train", str(cfg), "-o", str(tmp_path / "m"), "-q"]) == 0
    first = capsys.readouterr()
    assert "hit_rate@10" in json.loads(first.out)["test"] and "will be replaced" not in first.err
    # the training log is written beside the model without --keep-checkpoints, one row per epoch
    log = (tmp_path / "m" / "history.csv").read_text().splitlines()
    assert log[0].startswith("epoch,train/loss") and len(log) == 1 + small_config().train.epochs
    assert json.loads((tmp_path / "m" / "history.json").read_text())[-1]["epoch"] == small_config().train.epochs
    trained = json.loads(first.out)["test"]["hit_rate@10"]
    import recstack.quickstart

    calls = []  # a second quickstart into the same folder: the message, then the run (not repeated here)
    monkeypatch.setattr(recstack.quickstart, "run_quickstart", lambda *a, **kw: calls.append((a, kw)) or {})
    assert main(["quickstart", "--dataset", "synthetic", "-o", str(tmp_path / "q"), "--epochs", "1", "-q"]) == 0
    assert f"-o {tmp_path / 'q'} holds a saved model; it will be replaced" in capsys.readouterr().err
    assert calls == [(("synthetic",), {"output": str(tmp_path / "q"), "epochs": 1, "data_dir": None, "progress": False})]
    assert main(["recommend", str(tmp_path / "m"), "--user", "1", "-k", "5", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 5 and {r["user_id"] for r in rows} == {1}  # the integer ID, not the argv string "1"
    caplog.clear()
    assert main(["recommend", str(tmp_path / "m"), "--user", "1", "--user", "no-such-user", "-k", "2", "--json"]) == 0
    captured = capsys.readouterr()
    assert len(json.loads(captured.out)) == 4
    cold = [r.getMessage() for r in caplog.records if "cold start" in r.getMessage()]
    assert len(cold) == 1 and "1 of 2 queries are cold starts (user_id no-such-user: not seen in training" in cold[0]
    from recstack.data import load_dataset

    ds = load_dataset("synthetic", num_users=150, num_items=80, num_interactions=3000, seed=1)
    ds.test[["user_id", "item_id"]].to_csv(tmp_path / "t.csv", index=False)
    assert main(["evaluate", str(tmp_path / "m"), "--data", str(tmp_path / "t.csv"), "--metrics", "hit_rate@10"]) == 0
    evaluated = json.loads(capsys.readouterr().out)["hit_rate@10"]
    assert evaluated == pytest.approx(trained, abs=1e-6) and evaluated > 0.4  # the training report's; 80 items
    assert main(["datasets", "list"]) == 0
    assert capsys.readouterr().out.split() == ["movielens-100k", "synthetic"]


def test_bad_config_exit_code(tmp_path, capsys):
    d = small_config().to_dict()
    d["train"]["lrr"] = 1
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(d))
    assert main(["train", str(cfg), "-o", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("recstack: error:") and "train.lrr" in err
    cfg.write_text(yaml.safe_dump(small_config().to_dict()))
    assert main(["train", str(cfg), "-o", str(tmp_path / "m"), "--epochs", "0"]) == 2
    assert "--epochs must be >= 1" in capsys.readouterr().err


@needs_ml100k
def test_movielens_example(tmp_path, capsys):
    assert ml100k_dir().exists()
    assert main(["train", "examples/movielens_retrieval.yaml", "-o", str(tmp_path / "ml"), "--epochs", "1", "-q"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["test"]["hit_rate@100"] > 0.1
    assert main(["recommend", str(tmp_path / "ml"), "--user", "42", "-k", "3"]) == 0
    header, *lines = capsys.readouterr().out.splitlines()
    assert header.split() == ["user_id", "rank", "title", "score"]
    rows = [(ln.split()[0], ln.split()[1], " ".join(ln.split()[2:-1]), float(ln.split()[-1])) for ln in lines]
    assert [(u, r) for u, r, _, _ in rows] == [("42", "1"), ("42", "2"), ("42", "3")]
    assert main(["recommend", str(tmp_path / "ml"), "--user", "42", "-k", "3", "--json"]) == 0
    want = json.loads(capsys.readouterr().out)
    assert [t for _, _, t, _ in rows] == [w["title"] for w in want] and all(t for _, _, t, _ in rows)
    assert [s for *_, s in rows] == pytest.approx([w["score"] for w in want], abs=1e-5)
    # train + evaluate as the README does; a shell passes --sep '\t' as backslash + t (the
    # decoding of both spellings: test_hex_separators_and_the_current_folder_as_output)
    trained = out["test"]["hit_rate@100"]
    assert main(["evaluate", str(tmp_path / "ml"), "--data", str(ml100k_dir() / "u1.test"), "--sep", "\\t",
                 "--names", "user_id,item_id,rating,timestamp", "--metrics", "hit_rate@100"]) == 0
    assert json.loads(capsys.readouterr().out)["hit_rate@100"] == pytest.approx(trained, abs=1e-6)


def _config_that_must_not_train(tmp_path, monkeypatch):
    """A config file, with training patched to fail: a check must stop the command first."""
    from recstack.experiment import RetrievalExperiment

    def no_training(self, **kwargs):
        raise AssertionError("training started although the output cannot be used")

    monkeypatch.setattr(RetrievalExperiment, "fit", no_training)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(small_config().to_dict()))
    return cfg


def test_a_non_empty_foreign_output_folder_is_refused_before_training(tmp_path, capsys, monkeypatch):
    cfg = _config_that_must_not_train(tmp_path, monkeypatch)
    out = tmp_path / "mydir"
    out.mkdir()
    (out / "notes.txt").write_text("notes")
    assert main(["train", str(cfg), "-o", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert f"-o {out}: the folder is not empty and is not a recstack model directory (no recstack.json)" in err
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def _zero_padded_model(tmp_path, train_dtype=None):
    """A model trained on string IDs 0007.. (as ``dtype: {user_id: str}`` reads them)."""
    import pandas as pd

    from tests.conftest import id_only_experiment

    train = pd.DataFrame({"user_id": ["0007", "0007", "0008", "0009"], "item_id": ["0042", "0043", "0042", "0044"]})
    exp = id_only_experiment(train, train_dtype=train_dtype)
    exp.save(tmp_path / "zp")
    (tmp_path / "t.csv").write_text("user_id,item_id\n0007,0042\n0008,0043\n")
    return str(tmp_path / "zp"), str(tmp_path / "t.csv")


def test_evaluate_dtype_keeps_zero_padded_ids(tmp_path, capsys):
    model, data = _zero_padded_model(tmp_path)
    capsys.readouterr()
    args = ["evaluate", model, "--data", data, "--metrics", "hit_rate@10"]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["hit_rate@10"] == 0  # 0042 read as 42: not in the catalogue
    assert main(args + ["--dtype", "user_id=str, item_id=str"]) == 0
    assert json.loads(capsys.readouterr().out)["hit_rate@10"] == 1  # 3 candidates: every positive in the top 10
    assert main(args + ["--dtype", "userid=str"]) == 2
    assert "dtype.userid: 'userid' is not a column of" in capsys.readouterr().err
    assert main(args + ["--dtype", "user_id:str"]) == 2
    assert "--dtype: 'user_id:str' must be COLUMN=TYPE with TYPE one of str, int, float" in capsys.readouterr().err


def test_evaluate_reads_ids_as_the_training_file_did_and_names_dtype_otherwise(tmp_path, capsys, caplog):
    model, data = _zero_padded_model(tmp_path, {"user_id": "str", "item_id": "str"})
    capsys.readouterr()
    assert main(["evaluate", model, "--data", data, "--metrics", "hit_rate@10"]) == 0
    assert json.loads(capsys.readouterr().out)["hit_rate@10"] == 1  # 0042 stays 0042, as in training
    untyped, data = _zero_padded_model(tmp_path / "b")
    capsys.readouterr()
    with caplog.at_level("WARNING"):
        assert main(["evaluate", untyped, "--data", data, "--metrics", "hit_rate@10"]) == 0
    assert "2 of 2 rows have user_id values not seen in training; 2 of them give no other query feature" in caplog.text
    assert "--dtype user_id=str" in caplog.text


def test_evaluate_data_that_is_a_folder_says_so(tmp_path, capsys):
    model, _ = _zero_padded_model(tmp_path)
    assert main(["evaluate", model, "--data", str(tmp_path)]) == 2
    assert "is a folder; give a table file" in capsys.readouterr().err


def test_outputs_that_cannot_be_written_are_refused_before_any_training(tmp_path, capsys, monkeypatch):
    cfg = _config_that_must_not_train(tmp_path, monkeypatch)
    (tmp_path / "afile").write_text("x")
    assert main(["train", str(cfg), "-o", str(tmp_path / "afile" / "sub"), "-q"]) == 2
    assert "cannot write there" in capsys.readouterr().err
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("notes")
    assert main(["quickstart", "-o", str(busy), "--epochs", "1", "-q"]) == 2
    assert "not a recstack model directory" in capsys.readouterr().err
    assert main(["quickstart", "--data-dir", str(tmp_path), "-o", str(tmp_path / "q"), "-q"]) == 2
    assert "applies to movielens-100k" in capsys.readouterr().err
    assert main(["train", str(tmp_path), "-o", str(tmp_path / "m")]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert main(["datasets", "list", "no-such-dataset"]) == 2
    assert "datasets list takes no name" in capsys.readouterr().err


def test_evaluate_separators_as_given_cold_start_empty_items_and_unknown_items(tmp_path, capsys, caplog):
    model, _ = _zero_padded_model(tmp_path)
    (tmp_path / "s.txt").write_text("user_id§item_id\n0007§0042\n0008§0043\n")
    base = ["evaluate", model, "--dtype", "user_id=str,item_id=str", "--metrics", "hit_rate@10,mrr"]
    assert main(base + ["--data", str(tmp_path / "s.txt"), "--sep", "§"]) == 0
    by_section = json.loads(capsys.readouterr().out)
    (tmp_path / "t.tsv").write_text("user_id\titem_id\n0007\t0042\n0008\t0043\n")
    assert main(base + ["--data", str(tmp_path / "t.tsv"), "--sep", "\\t"]) == 0
    assert json.loads(capsys.readouterr().out) == by_section
    assert main(base + ["--data", str(tmp_path / "t.tsv"), "--sep", "\\"]) == 2  # no decode traceback
    capsys.readouterr()
    (tmp_path / "cold.csv").write_text("user_id,item_id\nnobody,0042\n")
    scores = {}
    for mode in ("average", "oov"):
        assert main(base + ["--data", str(tmp_path / "cold.csv"), "--cold-start", mode, "--ties", "mid"]) == 0
        scores[mode] = json.loads(capsys.readouterr().out)["mrr"]
    assert scores["average"] != scores["oov"]
    (tmp_path / "empty.csv").write_text("user_id,item_id\n0007,\n0008,0043\n")
    assert main(base + ["--data", str(tmp_path / "empty.csv")]) == 2
    assert "column 'item_id' is empty in 1 of 2 rows" in capsys.readouterr().err
    (tmp_path / "unk.csv").write_text("user_id,item_id\n0007,9999\n0008,0043\n")
    with caplog.at_level("WARNING", logger="recstack.experiment.offline"):
        assert main(base + ["--data", str(tmp_path / "unk.csv")]) == 0
    assert "1 of 2 rows have item_id values not in the catalogue" in caplog.text
    assert main(base + ["--data", str(tmp_path / "t.tsv"), "--sep", "\\t", "--encoding", "latin_one"]) == 2
    assert "unknown text encoding 'latin_one'" in capsys.readouterr().err


def test_hex_separators_and_the_current_folder_as_output(tmp_path, capsys, monkeypatch):
    from recstack.cli.main import _separator

    assert _separator("\\x1f") == "\x1f" and _separator("\\u00a7") == "§" and _separator("::") == "::"
    assert _separator("\\t") == _separator("\t") == "\t"  # --sep '\t' from a shell (backslash, t) or a real tab
    cfg = _config_that_must_not_train(tmp_path, monkeypatch)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for target in (".", str(tmp_path)):
        assert main(["train", str(cfg), "-o", target, "-q"]) == 2
        assert "that is the current folder (or one above it)" in capsys.readouterr().err


def test_output_piped_into_a_reader_that_stops_is_not_an_error(monkeypatch):
    import importlib
    import sys

    cli = importlib.import_module("recstack.cli.main")  # the module (recstack.cli.main is also the function)

    def closed_pipe(args):
        raise BrokenPipeError(32, "Broken pipe")  # `recstack datasets list | head -0`

    real_stdout = sys.stdout
    monkeypatch.setattr(cli, "_cmd_datasets", closed_pipe)
    try:
        assert cli.main(["datasets", "list"]) == 0
    finally:
        sys.stdout = real_stdout

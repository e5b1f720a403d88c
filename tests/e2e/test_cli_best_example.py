"""The README's ML-100K command on the best configuration: queries of the items each row's user
had before it (`mode: before`, `eval_history: before`, with the saved timeline), the catalogue
softmax, a built-in split; trained one epoch, then evaluated and asked from the CLI."""

from __future__ import annotations

import json

import pytest

from recstack.cli import main
from tests.conftest import ml100k_dir, needs_ml100k


@needs_ml100k
def test_the_best_example_trains_evaluates_and_recommends(tmp_path, capsys):
    out = tmp_path / "ml"
    assert main(["train", "examples/movielens_retrieval_best.yaml", "-o", str(out), "--epochs", "1", "-q"]) == 0
    report = json.loads(capsys.readouterr().out)
    trained = report["test"]["hit_rate@100"]
    assert trained > 0.3  # one epoch of the history model; popularity is 0.298, TFRS's best 0.22
    assert main(["evaluate", str(out), "--data", str(ml100k_dir() / "u1.test"), "--sep", "\\t",
                 "--names", "user_id,item_id,rating,timestamp", "--metrics", "hit_rate@100"]) == 0
    assert json.loads(capsys.readouterr().out)["hit_rate@100"] == pytest.approx(trained, abs=1e-6)
    assert main(["recommend", str(out), "--user", "42", "-k", "5", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["rank"] for r in rows] == [1, 2, 3, 4, 5] and {r["user_id"] for r in rows} == {42}

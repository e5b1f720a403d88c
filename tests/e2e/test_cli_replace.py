"""Training into a folder that holds a saved model replaces it, says so, and exits 0."""

from __future__ import annotations

import json

import yaml

import recstack
from recstack.cli.main import main
from tests.conftest import small_config


def test_training_again_into_a_saved_model_replaces_it(tmp_path, capsys):
    out = tmp_path / "m"
    for seed, epochs in ((7, 1), (8, 2)):
        cfg = tmp_path / f"c{seed}.yaml"
        cfg.write_text(yaml.safe_dump(small_config(**{"train.seed": seed, "train.epochs": epochs}).to_dict()))
        assert main(["train", str(cfg), "-o", str(out), "-q"]) == 0
    err = capsys.readouterr().err
    assert err.count(f"-o {out} holds a saved model; it will be replaced") == 1  # the second run only
    model = recstack.load(out)  # the second run's model, whole (no file of the first left over)
    assert model.metadata["experiment"]["train"]["seed"] == 8
    assert len(json.loads((out / "history.json").read_text())) == 2


def test_a_refused_resume_does_not_say_it_will_replace_the_model(tmp_path, capsys):
    out = tmp_path / "m"
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(small_config(**{"train.epochs": 1}).to_dict()))
    assert main(["train", str(cfg), "-o", str(out), "-q", "--keep-checkpoints"]) == 0
    capsys.readouterr()
    changed = tmp_path / "c16.yaml"  # another model: its checkpoint is refused once the data is loaded
    changed.write_text(yaml.safe_dump(small_config(**{"train.epochs": 2, "model.embedding_dim": 16}).to_dict()))
    assert main(["train", str(changed), "-o", str(out), "-q", "--resume", str(tmp_path / "m.run" / "checkpoints")]) == 2
    err = capsys.readouterr().err
    assert "recstack: error:" in err and "holds a saved model" not in err
    # the same config resumed goes ahead: then it says so, once
    cfg.write_text(yaml.safe_dump(small_config(**{"train.epochs": 2}).to_dict()))
    assert main(["train", str(cfg), "-o", str(out), "-q", "--resume", str(tmp_path / "m.run" / "checkpoints")]) == 0
    assert capsys.readouterr().err.count(f"-o {out} holds a saved model; it will be replaced") == 1

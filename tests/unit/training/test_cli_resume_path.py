"""`recstack train --resume` checks the path before it loads any data."""

import pytest
import yaml

from recstack.errors import ArtifactError
from tests.conftest import small_config


def test_cli_checks_the_resume_path_before_loading_data(tmp_path, monkeypatch, capsys):
    import recstack.experiment

    from recstack.cli import main

    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(small_config().to_dict()))

    def no_data(*args, **kwargs):
        raise AssertionError("the data was loaded before the --resume path was checked")

    monkeypatch.setattr(recstack.experiment, "RetrievalExperiment", no_data)
    (tmp_path / "out.run" / "checkpoints").mkdir(parents=True)
    assert main(["train", str(cfg), "-o", str(tmp_path / "out"), "--resume", str(tmp_path / "out.run")]) == 2
    assert "is a run folder; pass its checkpoints" in capsys.readouterr().err
    assert main(["train", str(cfg), "-o", str(tmp_path / "out"), "--resume", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(ArtifactError):  # the library says the same
        from recstack.training.resume import check_resume_path

        check_resume_path(tmp_path / "out.run", small_config().train)

"""Resume: what may change, what is refused, and that a refused resume changes nothing."""

import json
import shutil

import pytest
import torch

from recstack.errors import ArtifactError, ConfigError
from recstack.experiment import RetrievalExperiment
from tests.conftest import small_config


def weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def same(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


def edit_state(folder, change):
    f = folder / "state.json"
    state = json.loads(f.read_text())
    f.write_text(json.dumps(change(state)))


ES = {"train.epochs": 30, "train.lr": 0.5, "train.early_stopping": {"metric": "hit_rate@10", "patience": 2}}


def test_in_place_resume_after_a_crash_before_latest_keeps_the_best_weights(tmp_path, caplog):
    """Killed after epoch-S was renamed into place but before LATEST named it: resuming in place
    removed LATEST, then looked for the best epoch's weights beside the wrong folder."""
    full = RetrievalExperiment(small_config(**ES), run_dir=tmp_path / "a")
    stop = len(full.fit())
    best = full.trainer.best_epoch
    assert full.trainer.stopped_early and best < stop - 1
    crash = tmp_path / "crash" / "checkpoints"
    shutil.copytree(tmp_path / "a" / "checkpoints", crash)
    (crash / "LATEST").write_text(f"epoch-{stop - 1:04d}")  # epoch-<stop> is there, LATEST not updated
    res = RetrievalExperiment(small_config(**ES), run_dir=tmp_path / "crash")
    with caplog.at_level("WARNING"):
        res.fit(resume_from=crash)
    assert "restore_best: no weights" not in caplog.text
    assert res.trainer.best_epoch == best and same(weights(full.model), weights(res.model))
    assert (crash / "LATEST").read_text() == f"epoch-{stop:04d}"


def test_a_changed_early_stopping_metric_or_mode_starts_early_stopping_afresh(tmp_path, caplog):
    es = {"metric": "hit_rate@10", "patience": 10}
    RetrievalExperiment(small_config(**{"train.epochs": 2, "train.early_stopping": es}), run_dir=tmp_path).fit()
    ckpt = tmp_path / "checkpoints"
    mrr = {"train.epochs": 4, "train.early_stopping": {"metric": "mrr", "patience": 10}}
    res = RetrievalExperiment(small_config(**mrr))
    with caplog.at_level("WARNING"):
        h = res.fit(resume_from=ckpt)
    assert "train.early_stopping watches mrr (max) now, the checkpoint's run watched hit_rate@10 (max)" in caplog.text
    later = {r["epoch"]: r["val/mrr"] for r in h.records if r["epoch"] > 2}
    assert res.trainer.best_metric == max(later.values()) and res.trainer.best_epoch == max(later, key=later.get)
    # min_delta only: the best epoch stays, patience counts afresh
    caplog.clear()
    delta = RetrievalExperiment(small_config(**{"train.epochs": 2,
                                                "train.early_stopping": {**es, "min_delta": 0.5}}))
    with caplog.at_level("WARNING"):
        delta.fit(resume_from=ckpt)
    assert "min_delta is 0.5 now, the checkpoint's run used 0" in caplog.text
    # a checkpoint written before these fields existed resumes as before
    edit_state(ckpt / "epoch-0002", lambda s: {k: v for k, v in s.items() if k not in ("early_stopping", "fingerprint")})
    old = RetrievalExperiment(small_config(**{"train.epochs": 3, "train.early_stopping": es}))
    assert len(old.fit(resume_from=ckpt)) == 3


def test_a_checkpoint_past_train_epochs_is_refused_naming_both(tmp_path):
    RetrievalExperiment(small_config(**{"train.epochs": 3}), run_dir=tmp_path).fit()
    with pytest.raises(ConfigError, match=r"is at epoch 3, past train.epochs \(2\)"):
        RetrievalExperiment(small_config(**{"train.epochs": 2})).fit(resume_from=tmp_path / "checkpoints")


def test_a_changed_model_or_task_is_refused_naming_the_key_and_seed_or_batch_size_warn(tmp_path, caplog):
    RetrievalExperiment(small_config(**{"train.epochs": 1}), run_dir=tmp_path).fit()
    ckpt = tmp_path / "checkpoints"
    wide = small_config(**{"train.epochs": 2})
    wide.model = type(wide.model).model_validate({**wide.model.model_dump(), "embedding_dim": 16})
    with pytest.raises(ArtifactError, match="model.embedding_dim is 16 now, 8 in the checkpoint") as err:
        RetrievalExperiment(wide).fit(resume_from=ckpt)
    assert "size mismatch" not in str(err.value) and "\n" not in str(err.value)
    hot = small_config(**{"train.epochs": 2, "task": {"kind": "retrieval", "logq_correction": True,
                                                       "temperature": 0.5}})
    with pytest.raises(ArtifactError, match="task.temperature is 0.5 now, 1.0 in the checkpoint"):
        RetrievalExperiment(hot).fit(resume_from=ckpt)  # same shapes: nothing else caught it
    # a setting left to its default is a change too (the fingerprint compares every setting)
    default_length = small_config(**{"train.epochs": 2})
    feats = dict(default_length.features)
    feats["history"] = {k: v for k, v in feats["history"].items() if k != "max_length"}
    with pytest.raises(ArtifactError, match=r"features.history.max_length is 50 now, 20 in the checkpoint"):
        RetrievalExperiment(small_config(**{"train.epochs": 2, "features": feats})).fit(resume_from=ckpt)
    with pytest.raises(ArtifactError, match=r"data.history.max_length is 10 now, 20 in the checkpoint"):
        RetrievalExperiment(small_config(**{"train.epochs": 2, "data.history.max_length": 10})).fit(resume_from=ckpt)
    with caplog.at_level("WARNING"):
        RetrievalExperiment(small_config(**{"train.epochs": 2, "train.seed": 8,
                                            "train.batch_size": 256})).fit(resume_from=ckpt)
    assert "train.seed is 8, the checkpoint's run used 7" in caplog.text
    assert "train.batch_size is 256, the checkpoint's run used 512" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING"):
        RetrievalExperiment(small_config(**{"train.epochs": 2, "train.grad_clip": 1.0})).fit(resume_from=ckpt)
    assert "train.grad_clip is 1.0, the checkpoint's run used None" in caplog.text  # was silent
    # without a fingerprint (an older checkpoint), a shape change is still one clear sentence
    edit_state(ckpt / "epoch-0001", lambda s: {k: v for k, v in s.items() if k != "fingerprint"})
    with pytest.raises(ArtifactError, match="does not fit this model: model.*is \\[.*\\] in the checkpoint") as err:
        RetrievalExperiment(wide).fit(resume_from=ckpt)
    assert "size mismatch" not in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(("change", "field"), [
    (lambda s: {k: v for k, v in s.items() if k != "epoch"}, "'epoch'"),
    (lambda s: {**s, "epoch": "1"}, "'epoch'"),
    (lambda s: {**s, "epoch": -5}, "'epoch'"),
    (lambda s: [s], "the content"),
    (lambda s: {**s, "bad_evals": None}, "'bad_evals'"),
    (lambda s: {**s, "history": {"epoch": 1}}, "'history'"),
    (lambda s: {**s, "best_epoch": 9}, "'best_epoch'"),
    (lambda s: {**s, "optimizer": {**s["optimizer"], "param_groups": [
        {**s["optimizer"]["param_groups"][0], "lr": "x"}]}}, r"'optimizer.param_groups\[0\].lr'"),
])
def test_a_damaged_state_json_names_the_file_and_field(tmp_path, change, field):
    RetrievalExperiment(small_config(**{"train.epochs": 1}), run_dir=tmp_path).fit()
    edit_state(tmp_path / "checkpoints" / "epoch-0001", change)
    with pytest.raises(ArtifactError, match=f"epoch-0001/state.json: {field} must be"):
        RetrievalExperiment(small_config()).fit(resume_from=tmp_path / "checkpoints")


def test_a_refused_resume_leaves_the_model_untouched(tmp_path):
    RetrievalExperiment(small_config(**{"train.epochs": 1, "train.optimizer": "adam"}), run_dir=tmp_path).fit()
    ckpt = tmp_path / "checkpoints"
    for overrides in ({"train.optimizer": "adagrad"}, {"task": {"kind": "retrieval", "temperature": 0.5}}):
        exp = RetrievalExperiment(small_config(**{"train.epochs": 2, **overrides}))
        before = weights(exp.model)
        with pytest.raises(ArtifactError):
            exp.fit(resume_from=ckpt)
        assert same(before, weights(exp.model)), overrides


def test_resume_path_errors_say_what_to_pass(tmp_path):
    run = tmp_path / "out.run"
    RetrievalExperiment(small_config(**{"train.epochs": 2}), run_dir=run).fit()
    ckpt = run / "checkpoints"
    exp = RetrievalExperiment(small_config(**{"train.epochs": 3}))
    with pytest.raises(ArtifactError, match="is a run folder; pass its checkpoints"):
        exp.fit(resume_from=run)
    (ckpt / "LATEST").write_text("epoch-0009")
    with pytest.raises(ArtifactError, match=r"names 'epoch-0009', which is not a checkpoint.*found: epoch-0001, epoch-0002"):
        exp.fit(resume_from=ckpt)
    (ckpt / "LATEST").unlink()
    with pytest.raises(ArtifactError, match="has no LATEST.*found: epoch-0001, epoch-0002"):
        exp.fit(resume_from=ckpt)
    early = tmp_path / "early" / "checkpoints"
    (early / ".tmp-epoch-0001").mkdir(parents=True)  # killed before the first checkpoint was complete
    with pytest.raises(ArtifactError, match="has no LATEST.*found: none"):
        exp.fit(resume_from=early)


def test_an_in_place_resume_with_nothing_left_to_train_keeps_the_folder(tmp_path):
    RetrievalExperiment(small_config(**{"train.epochs": 3}), run_dir=tmp_path).fit()
    ckpt = tmp_path / "checkpoints"
    res = RetrievalExperiment(small_config(**{"train.epochs": 2}), run_dir=tmp_path)
    assert len(res.fit(resume_from=ckpt / "epoch-0002")) == 2
    assert (ckpt / "LATEST").read_text() == "epoch-0003" and (ckpt / "epoch-0003").is_dir()

import pytest
import torch
from safetensors.torch import load_file

from recstack.errors import ArtifactError, ConfigError
from recstack.experiment import RetrievalExperiment
from tests.conftest import small_config


def weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def scripted_validation(monkeypatch, exp, values):
    """Makes ``exp``'s validation report ``hit_rate@10`` = ``values[i]`` at its i-th evaluation
    (the first epoch it trains, a resumed run's included), so the best epoch follows from the
    early stopping logic, not from a training trajectory. Returns a check that every value was used."""
    left = list(values)

    def evaluator(table, **kwargs):
        assert table is exp.val_table
        return lambda model: {"hit_rate@10": left.pop(0)}

    monkeypatch.setattr(exp, "evaluator", evaluator)

    def all_used():
        assert left == [], f"{len(left)} scripted evaluations left"

    return all_used


def test_same_seed_same_run_and_learning(tmp_path):
    runs = []
    for _ in range(2):
        exp = RetrievalExperiment(small_config())
        before = exp.evaluate()["hit_rate@10"]
        h = exp.fit()
        runs.append((h.to_list(), weights(exp.model), before, exp.evaluate()["hit_rate@10"]))
    (h1, w1, b1, a1), (h2, w2, _, _) = runs
    assert [r["train/loss"] for r in h1] == [r["train/loss"] for r in h2]
    assert all(torch.equal(w1[k], w2[k]) for k in w1)
    assert h1[-1]["train/loss"] < h1[0]["train/loss"]
    assert a1 > b1
    other = RetrievalExperiment(small_config(**{"train.seed": 8}))
    other.fit()
    assert not all(torch.equal(w1[k], other.model.state_dict()[k]) for k in w1)


def test_checkpoint_resume_equals_uninterrupted(tmp_path):
    full = RetrievalExperiment(small_config(**{"train.epochs": 4}), run_dir=tmp_path / "a")
    full.fit()
    part = RetrievalExperiment(small_config(**{"train.epochs": 2}), run_dir=tmp_path / "b")
    part.fit()
    assert (tmp_path / "b" / "checkpoints" / "LATEST").read_text() == "epoch-0002"
    assert not list((tmp_path / "b" / "checkpoints").glob(".tmp*"))
    resumed = RetrievalExperiment(small_config(**{"train.epochs": 4}), run_dir=tmp_path / "c")
    h = resumed.fit(resume_from=tmp_path / "b" / "checkpoints")
    assert [r["epoch"] for r in h.records] == [1, 2, 3, 4]
    for k, v in full.model.state_dict().items():
        assert torch.allclose(v, resumed.model.state_dict()[k], atol=1e-6), k
    assert (tmp_path / "a" / "history.csv").read_text().splitlines()[0].startswith("epoch,train/loss")


def test_early_stopping_restores_best(tmp_path):
    cfg = small_config(**{"train.epochs": 30, "train.lr": 0.5,
                          "train.early_stopping": {"metric": "hit_rate@10", "patience": 1}})
    exp = RetrievalExperiment(cfg, run_dir=tmp_path)
    h = exp.fit()
    best = exp.trainer.best_epoch
    assert exp.trainer.stopped_early and len(h) < 30
    saved = load_file(str(tmp_path / "checkpoints" / f"epoch-{best:04d}" / "weights.safetensors"))
    for k, v in exp.model.state_dict().items():
        assert torch.equal(v, saved["model." + k]), k


def test_bad_early_stopping_metric_and_corrupt_checkpoint(tmp_path):
    with pytest.raises(ConfigError, match=r"train\.early_stopping\.metric: 'auc' is not in eval\.metrics"):
        small_config(**{"train.early_stopping": {"metric": "auc"}})  # caught before any training
    exp = RetrievalExperiment(small_config(**{"train.epochs": 1}), run_dir=tmp_path)
    exp.fit()
    f = tmp_path / "checkpoints" / "epoch-0001" / "weights.safetensors"
    f.write_bytes(f.read_bytes()[:100])
    with pytest.raises(ArtifactError, match="checkpoint"):
        RetrievalExperiment(small_config()).fit(resume_from=tmp_path / "checkpoints")


def test_full_catalogue_softmax_trains_end_to_end():
    cfg = small_config(task={"kind": "retrieval", "candidates": "catalogue"})
    exp = RetrievalExperiment(cfg)
    before = exp.evaluate()["hit_rate@10"]
    h = exp.fit().to_list()
    assert h[-1]["train/loss"] < h[0]["train/loss"]
    assert exp.evaluate()["hit_rate@10"] > before + 0.05
    with pytest.raises(ConfigError, match="task"):
        small_config(task={"kind": "retrieval", "candidates": "catalogue", "logq_correction": True})


def test_adagrad_accumulator_keeps_zero_gradient_parameters_still():
    """The candidate tower's last bias shifts every candidate's score by the same q.b, so the
    softmax gradient on it is zero up to rounding. With a zero accumulator Adagrad turns that
    noise into full lr-sized steps; the Keras-style start (0.1 on the summed loss) does not."""
    moved = {}
    for acc in (0.0, 0.1):
        exp = RetrievalExperiment(small_config(**{"train.adagrad_initial_accumulator": acc, "train.epochs": 2,
                                                  "task": {"kind": "retrieval"}}))
        bias = exp.model.candidate_tower.net[-1].bias
        before = bias.detach().clone()
        exp.fit()
        moved[acc] = float((bias.detach() - before).abs().max())
    assert moved[0.0] > 0.05  # about lr per step
    assert moved[0.1] < 1e-3


def test_adagrad_accumulator_is_scaled_to_the_mean_loss():
    import torch

    from recstack.training.trainer import make_optimizer

    p = torch.nn.Parameter(torch.zeros(3))
    opt = make_optimizer("adagrad", [p], 0.1, 0.0, initial_accumulator=0.1 / 512**2)
    assert torch.allclose(opt.state[p]["sum"], torch.full((3,), 0.1 / 512**2))


@pytest.mark.parametrize("task", [{"kind": "retrieval", "num_negatives": 16},
                                  {"kind": "retrieval", "num_negatives": 16, "negative_sampling": "popularity"}])
def test_resume_repeats_the_sampled_negatives(tmp_path, task):
    full = RetrievalExperiment(small_config(task=task, **{"train.epochs": 3}), run_dir=tmp_path / "a")
    hf = full.fit()
    resumed = RetrievalExperiment(small_config(task=task, **{"train.epochs": 3}), run_dir=tmp_path / "c")
    hr = resumed.fit(resume_from=tmp_path / "a" / "checkpoints" / "epoch-0001")
    assert [r["train/loss"] for r in hr.records] == [r["train/loss"] for r in hf.records]
    for k, v in full.model.state_dict().items():
        assert torch.equal(v, resumed.model.state_dict()[k]), k


def test_resume_after_the_best_epoch_restores_it_and_a_stopped_run_stays_stopped(tmp_path):
    es = {"train.epochs": 30, "train.lr": 0.5, "train.early_stopping": {"metric": "hit_rate@10", "patience": 2}}
    full = RetrievalExperiment(small_config(**es), run_dir=tmp_path / "a")
    stop = len(full.fit())
    best = full.trainer.best_epoch
    assert full.trainer.stopped_early and best < stop - 1
    ckpts = tmp_path / "a" / "checkpoints"
    for start in (ckpts / f"epoch-{stop - 1:04d}", ckpts):  # after the best epoch; the run's last checkpoint
        res = RetrievalExperiment(small_config(**es), run_dir=tmp_path / "r")
        h = res.fit(resume_from=start)
        assert len(h) == stop and res.trainer.best_epoch == best and res.trainer.stopped_early
        for k, v in full.model.state_dict().items():
            assert torch.equal(v, res.model.state_dict()[k]), (start.name, k)


def test_resume_with_another_optimizer_is_a_clear_error(tmp_path):
    RetrievalExperiment(small_config(**{"train.epochs": 1}), run_dir=tmp_path).fit()
    other = RetrievalExperiment(small_config(**{"train.epochs": 2, "train.optimizer": "adam"}))
    with pytest.raises(ArtifactError, match="written with train.optimizer 'adagrad'"):
        other.fit(resume_from=tmp_path / "checkpoints")


def test_any_table_but_validation_excludes_all_training_items_and_indexes_may_repeat():
    exp = RetrievalExperiment(small_config(**{"eval.exclude_seen": True, "train.epochs": 1}))
    exp.fit()
    assert exp.evaluate(exp.test_table.copy()) == exp.evaluate()
    import pandas as pd

    from recstack.experiment.tables import Tables

    t = exp.tables
    doubled = Tables(pd.concat([t.train.iloc[:1500], t.train.iloc[1500:]]).set_axis([0] * len(t.train)),
                     t.test, t.items, t.users)
    again = RetrievalExperiment(small_config(**{"eval.exclude_seen": True, "train.epochs": 1}), tables=doubled)
    assert len(again.full_train) == len(t.train)
    again.fit()
    assert again.evaluate() == exp.evaluate()


def test_a_second_fit_starts_a_fresh_history():
    from recstack.training import Trainer

    exp = RetrievalExperiment(small_config(**{"train.epochs": 2}))
    trainer = Trainer(exp.model, exp.task, exp.config.train)
    trainer.fit(exp.train_data)
    h = trainer.fit(exp.train_data)
    assert [r["epoch"] for r in h.records] == [1, 2]


def test_progress_writes_one_plain_line_per_epoch_when_stderr_is_not_a_terminal(capfd):
    exp = RetrievalExperiment(small_config(**{"train.progress": True, "train.epochs": 2}))
    exp.fit()
    err = capfd.readouterr().err
    assert "\r" not in err  # no live bar in a log file
    lines = [ln for ln in err.splitlines() if ln.startswith("epoch ")]
    assert [ln.split()[1] for ln in lines] == ["1/2", "2/2"]
    assert "loss " in lines[0] and "val/hit_rate@10 " in lines[0] and lines[0].endswith("s")
    quiet = RetrievalExperiment(small_config(**{"train.progress": False, "train.epochs": 1}))
    quiet.fit()
    assert "epoch " not in capfd.readouterr().err


def test_early_stopping_says_so_and_a_fresh_run_clears_an_older_runs_checkpoints(tmp_path, capfd):
    stop = {"metric": "hit_rate@10", "patience": 1, "min_delta": 1.0}  # nothing improves by 1.0
    cfg = small_config(**{"train.epochs": 6, "train.progress": True, "train.early_stopping": stop})
    exp = RetrievalExperiment(cfg, run_dir=tmp_path)
    exp.fit()
    err = capfd.readouterr().err
    assert "early stopping at epoch 2: best val/hit_rate@10" in err and "at epoch 1 (its weights restored)" in err
    assert sorted(p.name for p in (tmp_path / "checkpoints").glob("epoch-*")) == ["epoch-0001", "epoch-0002"]
    again = RetrievalExperiment(small_config(**{"train.epochs": 1}), run_dir=tmp_path)
    again.fit()
    assert sorted(p.name for p in (tmp_path / "checkpoints").glob("epoch-*")) == ["epoch-0001"]
    assert (tmp_path / "checkpoints" / "LATEST").read_text() == "epoch-0001"


def test_resume_restores_a_best_epoch_that_had_no_checkpoint_of_its_own(tmp_path, monkeypatch):
    # checkpoints every 2 epochs; the scripted best epoch (5) is odd, so only the carried copy has it
    es = {"train.epochs": 8, "train.lr": 0.5, "train.checkpoint_every": 2,
          "train.early_stopping": {"metric": "hit_rate@10", "patience": 8}}
    full = RetrievalExperiment(small_config(**es), run_dir=tmp_path / "a")
    script = [0.1, 0.2, 0.3, 0.4, 0.6, 0.5, 0.55, 0.2]  # epoch 8 dips: the last weights are not the best
    done = scripted_validation(monkeypatch, full, script)
    full.fit()
    done()
    assert full.trainer.best_epoch == 5 and full.trainer.best_metric == 0.6
    ckpts = tmp_path / "a" / "checkpoints"
    assert (ckpts / "epoch-0006" / "best.safetensors").exists()
    assert not (ckpts / "epoch-0004" / "best.safetensors").exists()  # its best was checkpointed
    saved = load_file(str(ckpts / "epoch-0008" / "weights.safetensors"))
    assert not all(torch.equal(v, saved["model." + k]) for k, v in full.model.state_dict().items())  # restored
    res = RetrievalExperiment(small_config(**es), run_dir=tmp_path / "r")
    done = scripted_validation(monkeypatch, res, script[6:])  # epochs 7 and 8 again
    res.fit(resume_from=ckpts / "epoch-0006")
    done()
    assert res.trainer.best_epoch == 5
    for k, v in full.model.state_dict().items():
        assert torch.equal(v, res.model.state_dict()[k]), k


def test_resume_uses_the_configured_learning_rate_and_says_so(tmp_path, caplog):
    RetrievalExperiment(small_config(**{"train.epochs": 1}), run_dir=tmp_path).fit()
    res = RetrievalExperiment(small_config(**{"train.epochs": 2, "train.lr": 0.02, "train.weight_decay": 0.001}))
    with caplog.at_level("WARNING"):
        res.fit(resume_from=tmp_path / "checkpoints")
    assert "train.lr is 0.02, the checkpoint used 0.1" in caplog.text
    assert "train.weight_decay is 0.001, the checkpoint used 0" in caplog.text
    assert res.trainer.optimizer is not None
    assert {(g["lr"], g["weight_decay"]) for g in res.trainer.optimizer.param_groups} == {(0.02, 0.001)}


def test_the_best_weights_survive_resumes_that_change_checkpoint_every(tmp_path):
    # only epoch 1 improves (min_delta 1); its weights must reach the end through every resume
    es = {"metric": "hit_rate@10", "min_delta": 1.0, "patience": 10}

    def cfg(epochs, every):
        return small_config(**{"train.epochs": epochs, "train.checkpoint_every": every, "train.early_stopping": es})

    ref = RetrievalExperiment(cfg(5, 2))
    ref.fit()
    run = tmp_path / "run"
    RetrievalExperiment(cfg(2, 2), run_dir=run).fit()  # epoch 2 carries epoch 1's weights
    RetrievalExperiment(cfg(3, 1), run_dir=run).fit(resume_from=run / "checkpoints")  # epoch 3 must carry them too
    assert (run / "checkpoints" / "epoch-0003" / "best.safetensors").exists()
    last = RetrievalExperiment(cfg(5, 2), run_dir=run)
    last.fit(resume_from=run / "checkpoints")
    assert last.trainer.best_epoch == 1
    for k, v in ref.model.state_dict().items():
        assert torch.equal(v, last.model.state_dict()[k]), k


def test_a_run_resumed_in_place_replaces_the_epochs_it_abandoned(tmp_path, caplog, monkeypatch):
    def cfg(epochs, every, lr, min_delta=0.0):
        return small_config(**{"train.epochs": epochs, "train.checkpoint_every": every, "train.lr": lr,
                               "train.early_stopping": {"metric": "hit_rate@10", "patience": 10,
                                                        "min_delta": min_delta}})

    run = tmp_path / "run"
    a = RetrievalExperiment(cfg(4, 1, 0.05), run_dir=run)  # epochs 1-4 of a run then abandoned
    done = scripted_validation(monkeypatch, a, [0.1, 0.9, 0.2, 0.3])  # A's epoch 2 was A's best too
    a.fit()
    done()
    b = RetrievalExperiment(cfg(3, 3, 0.1), run_dir=run)
    done = scripted_validation(monkeypatch, b, [0.5, 0.3])  # epochs 2 and 3; epoch 1 (A's) scored 0.1
    with caplog.at_level("WARNING"):
        b.fit(resume_from=run / "checkpoints" / "epoch-0001")
    done()
    assert "removed 3 checkpoints of the abandoned epochs (after epoch 1)" in caplog.text
    assert sorted(p.name for p in (run / "checkpoints").glob("epoch-*")) == ["epoch-0001", "epoch-0003"]
    assert b.trainer.best_epoch == 2 and b.trainer.best_metric == 0.5  # not A's 0.9
    # not checkpointed by b; run A's stale epoch-0002 must not stand in for it
    want = {k: v.clone() for k, v in b.model.state_dict().items()}  # restore_best: b's own best epoch
    last = load_file(str(run / "checkpoints" / "epoch-0003" / "weights.safetensors"))
    assert not all(torch.equal(v, last["model." + k]) for k, v in want.items())  # epoch 2's, not epoch 3's
    c = RetrievalExperiment(cfg(4, 3, 0.1, min_delta=1.0), run_dir=run)  # epoch 4 cannot improve
    done = scripted_validation(monkeypatch, c, [0.95])
    c.fit(resume_from=run / "checkpoints" / "epoch-0003")
    done()
    assert c.trainer.best_epoch == 2
    for k, v in want.items():
        assert torch.equal(v, c.model.state_dict()[k]), k


def test_early_stopping_on_a_metric_that_never_moves_says_so(caplog):
    """A metric stuck at one value stopped the run after patience + 1 epochs, without a word."""
    cfg = small_config(**{"train.epochs": 10, "eval.metrics": ["hit_rate@10", "hit_rate@80"],
                          "train.early_stopping": {"metric": "hit_rate@80", "patience": 1}})  # 80 items: always 1.0
    exp = RetrievalExperiment(cfg)
    with caplog.at_level("WARNING"):
        exp.fit()
    assert exp.trainer.stopped_early and exp.trainer.best_epoch == 1
    assert "val/hit_rate@80 was 1.0 at every evaluation, so it could not tell the epochs apart" in caplog.text
    assert "K is at least the catalogue size (80 candidates)" in caplog.text

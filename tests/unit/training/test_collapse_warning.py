"""A tower that gives (nearly) every distinct input the same vector is named after the epoch:
training goes on, but the user learns why every query gets the same ranking (an MLP whose ReLU
units all went inactive does not recover)."""

from __future__ import annotations

import logging

import torch

from recstack.data.batch import Batch
import recstack.training.trainer as trainer_mod
from recstack.experiment import RetrievalExperiment
from recstack.training.divergence import check_finite
from tests.conftest import small_config

COLLAPSE = "one and the same vector"


def _trained(monkeypatch) -> tuple[RetrievalExperiment, Batch]:
    """One epoch at the test settings, and the epoch's last (prepared) batch the trainer checked."""
    seen: list[Batch] = []

    def spy(model, batch, epoch, **kwargs):
        seen.append(batch)
        return check_finite(model, batch, epoch, **kwargs)

    monkeypatch.setattr(trainer_mod, "check_finite", spy)
    exp = RetrievalExperiment(small_config(**{"train.epochs": 1}))
    exp.fit()
    return exp, seen[-1]


def test_a_healthy_model_names_no_part_and_a_dead_query_mlp_is_named(monkeypatch):
    exp, batch = _trained(monkeypatch)
    assert check_finite(exp.model, batch, 1) == []
    first = exp.model.query_tower.net[0]
    with torch.no_grad():
        first.bias.fill_(-1e3)  # every ReLU unit of the query MLP inactive on every row
    parts = check_finite(exp.model, batch, 1)
    assert len(parts) == 1 and parts[0].startswith("the query tower (model.query) gives "), parts
    shared, distinct = map(int, parts[0].split(" gives ")[1].split(" distinct")[0].split(" of the "))
    assert shared == distinct >= 2


def test_a_candidate_mlp_gone_dead_is_named_too(monkeypatch):
    exp, batch = _trained(monkeypatch)
    with torch.no_grad():
        exp.model.candidate_tower.net[0].bias.fill_(-1e3)
    parts = check_finite(exp.model, batch, 1)
    assert [p.split(" gives ")[0] for p in parts] == ["the candidate tower (model.candidate)"]


def test_training_warns_once_when_the_query_mlp_collapses(caplog):
    with caplog.at_level(logging.WARNING, logger="recstack.training.trainer"):
        RetrievalExperiment(small_config(**{"train.epochs": 4, "train.lr": 0.5})).fit()
    warned = [r.getMessage() for r in caplog.records if COLLAPSE in r.getMessage()]
    assert len(warned) == 1, warned
    assert "the query tower (model.query)" in warned[0] and "train.lr" in warned[0] and "adam" in warned[0]


def test_training_at_a_sound_rate_does_not_warn(caplog):
    with caplog.at_level(logging.WARNING, logger="recstack.training.trainer"):
        RetrievalExperiment(small_config(**{"train.epochs": 4, "train.lr": 0.05})).fit()
    assert not [r for r in caplog.records if COLLAPSE in r.getMessage()]


def test_a_last_batch_of_one_row_does_not_hide_a_collapse(caplog):
    """2541 training rows at batch 508 leave a last batch of 1 row, where every input is its own:
    the check reads the epoch's last full-size batch instead."""
    with caplog.at_level(logging.WARNING, logger="recstack.training.trainer"):
        RetrievalExperiment(small_config(**{"train.epochs": 4, "train.lr": 0.5, "train.batch_size": 508})).fit()
    assert [r for r in caplog.records if COLLAPSE in r.getMessage()]


def test_the_check_compares_a_bounded_sample_of_rows(monkeypatch):
    """Its cost stays bounded on long histories: only the first COLLAPSE_ROWS rows are compared."""
    from recstack.models import two_tower

    monkeypatch.setattr(two_tower, "COLLAPSE_ROWS", 3)
    vecs = torch.zeros(10, 2)
    feats = {"h": torch.arange(10)[:, None].expand(10, 5)}
    assert two_tower._collapsed(vecs, feats, ["h"]) == (3, 3)

"""House rules for every registered model kind (enumerated from ``MODELS`` at test time):
strict config validation naming ``model.<key>``, config round trip, safetensors
save -> load gives identical outputs, finite outputs and gradients on a tiny batch."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file, save_file

from recstack.config import ExperimentConfig
from recstack.errors import ConfigError
from recstack.models import MODELS, RecModel, build_model
from tests.contract._tiny import SCHEMA, batch, model_example, preprocessor

KINDS = MODELS.names()


def make(kind: str, seed: int, config: dict | None = None) -> RecModel:
    torch.manual_seed(seed)
    model = build_model(kind, model_example(kind) if config is None else config, preprocessor().outputs)
    return model.eval()


def float_outputs(model: RecModel) -> dict[str, torch.Tensor]:
    with torch.no_grad():
        out = model(batch())
    assert isinstance(out, dict) and out, "forward(batch) must return a non-empty {name: tensor} dict"
    return out


def test_the_registry_is_not_empty():
    assert "two_tower" in KINDS


@pytest.mark.parametrize("kind", KINDS)
def test_registered_name_is_the_class_kind(kind):
    cls = MODELS.get(kind)
    assert issubclass(cls, RecModel)
    assert cls.kind == kind, "artifacts save model.kind and rebuild from it, so it must be the registry name"
    assert make(kind, 0).kind == kind


@pytest.mark.parametrize("kind", KINDS)
def test_unknown_config_key_is_a_config_error_naming_the_path(kind):
    cfg = {**model_example(kind), "embeding_dim": 4}
    with pytest.raises(ConfigError, match=r"model\.embeding_dim: unknown key"):
        build_model(kind, cfg, preprocessor().outputs)
    experiment = {"data": {"dataset": "synthetic"}, "features": SCHEMA, "model": {"kind": kind, **cfg}}
    with pytest.raises(ConfigError, match=r"model\.embeding_dim: unknown key"):
        ExperimentConfig.from_dict(experiment)
    del experiment["model"]["embeding_dim"]
    assert ExperimentConfig.from_dict(experiment).model.kind == kind


@pytest.mark.parametrize("kind", KINDS)
def test_wrong_value_type_is_a_config_error_naming_the_path(kind):
    fields = MODELS.get(kind).config_cls.model_fields
    if "embedding_dim" not in fields:
        pytest.skip(f"{kind} has no embedding_dim")
    with pytest.raises(ConfigError, match=r"model\.embedding_dim: .*\(got 'four'\)"):
        build_model(kind, {**model_example(kind), "embedding_dim": "four"}, preprocessor().outputs)


@pytest.mark.parametrize("kind", KINDS)
def test_config_round_trips_through_json(kind):
    model = make(kind, 0)
    cfg = model.get_config()
    again = json.loads(json.dumps(cfg))
    assert again == cfg
    assert cfg.get("kind", kind) == kind
    for key, value in model_example(kind).items():
        assert cfg[key] == value, f"get_config() changed {key!r}"
    assert type(model).config_cls.model_validate(again) == model.config
    rebuilt = build_model(kind, again, preprocessor().outputs)
    assert rebuilt.get_config() == cfg
    shapes = [(k, v.shape) for k, v in model.state_dict().items()]
    assert [(k, v.shape) for k, v in rebuilt.state_dict().items()] == shapes


@pytest.mark.parametrize("kind", KINDS)
def test_safetensors_save_load_gives_identical_outputs(kind, tmp_path):
    model = make(kind, seed=0)
    weights = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    save_file(weights, str(tmp_path / "model.safetensors"))
    fresh = make(kind, seed=1, config=json.loads(json.dumps(model.get_config())))
    want, before = float_outputs(model), float_outputs(fresh)
    assert any(not torch.equal(want[k], before[k]) for k in want if want[k].is_floating_point()), (
        "a differently seeded model gives the same outputs, so this test could not see a bad load"
    )
    fresh.load_state_dict(load_file(str(tmp_path / "model.safetensors")), strict=True)
    got = float_outputs(fresh)
    assert list(got) == list(want)
    for k in want:
        assert got[k].dtype == want[k].dtype and torch.equal(got[k], want[k]), k


@pytest.mark.parametrize("kind", KINDS)
def test_forward_on_a_tiny_batch_is_finite_and_differentiable(kind):
    model = make(kind, seed=0).train()
    out = model(batch())
    floats = {k: v for k, v in out.items() if v.is_floating_point()}
    assert floats, "a model must output at least one float tensor"
    for k, v in out.items():
        assert isinstance(v, torch.Tensor), k
        assert v.shape[0] > 0, k
        assert torch.isfinite(v.float()).all(), k
    sum(v.sum() for v in floats.values()).backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads, "no parameter receives a gradient from the outputs"
    assert all(torch.isfinite(g).all() for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)


def test_two_tower_output_layout():
    """The retrieval outputs the task reads (see recstack.tasks.retrieval), on the tiny batch."""
    out = float_outputs(make("two_tower", 0))
    b = len(batch())
    items = batch().features["item_id"]
    queries = out["query"][out["query_index"]] if "query_index" in out else out["query"]
    assert queries.shape == (b, 4)
    assert torch.equal(out["candidate_ids"], torch.unique(items))
    assert out["candidate"].shape == (len(out["candidate_ids"]), 4)
    assert torch.equal(out["candidate_ids"][out["positive"]], items)
    assert int(out["candidate_counts"].sum()) == b

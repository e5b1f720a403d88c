"""House rules for every registered task (enumerated from ``TASKS`` at test time): a typed
config that rejects unknown keys by path and round-trips, and a finite, differentiable
loss on a paired model's outputs. A new task needs an entry in ``TASK_MODELS``."""

from __future__ import annotations

import inspect
import json
import types
import typing
from typing import Any

import pytest
import torch

from recstack._validation import StrictModel, validate_model
from recstack.errors import ConfigError
from recstack.models import build_model
from recstack.tasks import TASKS, Task
from tests.contract._tiny import batch, model_example, preprocessor

NAMES = TASKS.names()

# task kind -> (model kind it trains, non-default task settings for the round trip)
TASK_MODELS: dict[str, tuple[str, dict[str, Any]]] = {
    "retrieval": ("two_tower", {"temperature": 0.2, "logq_correction": True, "remove_accidental_hits": False}),
}


def pairing(name: str) -> tuple[str, dict[str, Any]]:
    if name not in TASK_MODELS:
        pytest.fail(f"task {name!r}: say which model it trains in TASK_MODELS in {__file__}")
    return TASK_MODELS[name]


def config_cls(cls: type[Task]) -> type[StrictModel]:
    """The task's config class: ``config_cls`` or the type of its ``config`` argument."""
    found = getattr(cls, "config_cls", None)
    if found is None:
        hint = typing.get_type_hints(cls.__init__).get("config")
        args = typing.get_args(hint) if isinstance(hint, types.UnionType) or typing.get_origin(hint) else (hint,)
        found = next((a for a in args if isinstance(a, type) and issubclass(a, StrictModel)), None)
    assert found is not None, f"task {cls.__name__} has no typed StrictModel config"
    return found


def make(name: str, settings: dict[str, Any] | None = None) -> Task:
    cls = TASKS.get(name)
    cfg = config_cls(cls).model_validate(settings or {})
    model_kind, _ = pairing(name)
    model = build_model(model_kind, model_example(model_kind), preprocessor().outputs)
    wants = inspect.signature(cls.__init__).parameters
    kwargs = {"num_candidates": model.num_candidate_ids} if "num_candidates" in wants else {}
    return cls(cfg, **kwargs)


@pytest.mark.parametrize("name", NAMES)
def test_registered_name_is_the_class_kind(name):
    cls = TASKS.get(name)
    assert issubclass(cls, Task) and cls.kind == name
    assert config_cls(cls).model_fields["kind"].default == name


@pytest.mark.parametrize("name", NAMES)
def test_unknown_config_key_is_a_config_error_naming_the_path(name):
    with pytest.raises(ConfigError, match=r"^task\.temprature: unknown key"):
        validate_model(config_cls(TASKS.get(name)), {"temprature": 0.1}, "task")


@pytest.mark.parametrize("name", NAMES)
def test_config_round_trips_through_json(name):
    _, settings = pairing(name)
    task = make(name, settings)
    cfg = json.loads(json.dumps(task.get_config()))
    assert {k: cfg[k] for k in settings} == settings
    assert cfg["kind"] == name
    assert make(name, cfg).get_config() == cfg
    assert cfg != make(name).get_config(), "the example settings must differ from the defaults"


@pytest.mark.parametrize("name", NAMES)
def test_loss_is_a_finite_differentiable_scalar(name):
    model_kind, settings = pairing(name)
    torch.manual_seed(0)
    model = build_model(model_kind, model_example(model_kind), preprocessor().outputs)
    task = make(name, settings)
    b = task.prepare_batch(batch())
    loss = task.loss(model(b), b)
    assert loss.ndim == 0 and torch.isfinite(loss) and loss.requires_grad
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads) and any(g.abs().sum() > 0 for g in grads)

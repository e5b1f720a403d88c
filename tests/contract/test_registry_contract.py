"""Every name registry in recstack (found by walking the package at test time): names
resolve, unknown names are a ConfigError that lists the known ones, duplicates are refused."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import recstack
from recstack.errors import ConfigError
from recstack.registry import Registry

OPTIONAL = {"faiss", "fastapi", "hnswlib", "matplotlib", "mlflow", "optuna", "tensorboard", "uvicorn"}


def find_registries() -> dict[str, Registry]:
    found: dict[str, Registry] = {}
    for info in pkgutil.walk_packages(recstack.__path__, "recstack."):
        try:
            module = importlib.import_module(info.name)
        except ImportError as err:  # a module behind an optional extra
            if (err.name or "").split(".")[0] in OPTIONAL:
                continue
            raise
        for obj in vars(module).values():
            if isinstance(obj, Registry):
                found.setdefault(obj.what, obj)
    return found


REGISTRIES = find_registries()


def test_the_known_registries_are_found():
    assert {"model kind", "task", "dataset"} <= set(REGISTRIES)


@pytest.mark.parametrize("what", sorted(REGISTRIES))
def test_names_resolve_and_unknown_names_list_the_known_ones(what):
    reg = REGISTRIES[what]
    names = reg.names()
    assert names, f"registry {what!r} is empty"
    assert names == sorted(names) == list(reg)
    for name in names:
        assert name in reg and reg.get(name) is not None
    with pytest.raises(ConfigError, match=rf"unknown {what} 'no-such-name' at x\.kind; known: ") as err:
        reg.get("no-such-name", path="x.kind")
    assert str(err.value).endswith(", ".join(names))


@pytest.mark.parametrize("what", sorted(REGISTRIES))
def test_a_name_cannot_be_registered_twice(what):
    reg = REGISTRIES[what]
    name = reg.names()[0]
    before = reg.get(name)
    with pytest.raises(ValueError, match=f"{what} '{name}' is already registered"):
        reg.register(name)(object())
    assert reg.get(name) is before

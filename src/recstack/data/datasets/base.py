"""The shape every built-in dataset returns, and the dataset registry."""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from pydantic import TypeAdapter, ValidationError

from recstack.errors import ConfigError
from recstack.registry import Registry

__all__ = ["InteractionData", "DATASETS", "load_dataset", "list_datasets", "validate_dataset_options"]


@dataclass
class InteractionData:
    """Interactions split into ``train``/``test`` (side features joined), plus entity tables.

    Columns shared by all built-in datasets: ``user_id``, ``item_id``, ``rating``,
    ``timestamp``, ``title``, ``genres``.
    """

    name: str
    train: pd.DataFrame
    test: pd.DataFrame
    items: pd.DataFrame
    users: pd.DataFrame


DATASETS: Registry[Callable[..., InteractionData]] = Registry("dataset")


def load_dataset(name: str, **kwargs: Any) -> InteractionData:
    """Loads a built-in dataset by name (``movielens-100k``, ``synthetic``).

    The options are checked against the loader's signature first (see
    :func:`validate_dataset_options`), so a typo fails before any data is read.
    """
    return DATASETS.get(name, path="data.dataset")(**validate_dataset_options(name, kwargs))


def _type_name(annotation: Any) -> str:
    return annotation.__name__ if isinstance(annotation, type) else str(annotation).replace("typing.", "")


def _members(hint: Any) -> tuple[Any, ...]:
    """The types a hint admits: the members of a union (``int | None``), else the hint itself."""
    return typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)


def validate_dataset_options(
    name: str, options: Mapping[str, Any], *, path: str = "data.dataset_options"
) -> dict[str, Any]:
    """The options of dataset ``name`` checked and coerced by its loader's signature.

    The loader's parameters and type hints are the single source of truth, so a new
    option needs no second list here. Every problem is reported at once, by config path.

    Raises:
        ConfigError: an unknown option (listing the allowed ones) or a value of the wrong
            type (naming the expected type), e.g. ``data.dataset_options.num_users: expected
            int, got 'many'``.
    """
    loader = DATASETS.get(name, path="data.dataset")
    if not options:
        return {}
    params = inspect.signature(loader).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    allowed = [n for n, p in params.items() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    try:
        hints = typing.get_type_hints(loader)
    except (NameError, TypeError):  # a plug-in's annotations that cannot be resolved: check names only
        hints = {}
    problems: list[str] = []
    out: dict[str, Any] = {}
    for key, value in options.items():
        if key not in allowed:
            if not takes_any:
                problems.append(f"{path}.{key}: unknown option of dataset {name!r}; allowed: {', '.join(allowed)}")
            out[key] = value
            continue
        if key not in hints:
            out[key] = value
            continue
        if isinstance(value, bool) and bool not in _members(hints[key]):  # True is not the number 1
            problems.append(f"{path}.{key}: expected {_type_name(hints[key])}, got {value!r}")
            continue
        try:
            out[key] = TypeAdapter(hints[key]).validate_python(value)
        except ValidationError as err:
            problems.append(f"{path}.{key}: expected {_type_name(hints[key])}, got {value!r} "
                            f"({err.errors()[0]['msg']})")
    if problems:
        raise ConfigError("; ".join(problems))
    return out


def list_datasets() -> list[str]:
    return DATASETS.names()

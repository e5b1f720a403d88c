"""The scikit-learn "is it fitted?" check and state-dict validation shared by transformers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from recstack.errors import ArtifactError, NotFittedError

__all__ = ["check_is_fitted", "check_state"]


def check_is_fitted(obj: object, attribute: str) -> None:
    """Raises :class:`NotFittedError` unless ``obj`` has the fitted ``attribute``."""
    if not hasattr(obj, attribute):
        name = type(obj).__name__
        raise NotFittedError(
            f"This {name} is not fitted yet: call {name}.fit(...) on training data first, "
            f"or load a fitted one with {name}.from_state(...)"
        )


def check_state(state: Mapping[str, Any], cls: type, keys: list[str]) -> None:
    """Checks a state dict made by ``cls.get_state()``: right class, required keys present."""
    if not isinstance(state, Mapping):
        raise ArtifactError(f"{cls.__name__} state: expected a dict, got {type(state).__name__}")
    got = state.get("class")
    if got != cls.__name__:
        raise ArtifactError(f"{cls.__name__} state: 'class' is {got!r}, expected {cls.__name__!r}")
    missing = [k for k in keys if k not in state]
    if missing:
        raise ArtifactError(
            f"{cls.__name__} state: missing keys {missing}; was it written by {cls.__name__}.get_state()?"
        )

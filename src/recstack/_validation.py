"""Turns pydantic validation errors into recstack errors that name the config path."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from recstack.errors import ConfigError

M = TypeVar("M", bound=BaseModel)

__all__ = ["StrictModel", "format_validation_error", "validate_model"]


class StrictModel(BaseModel):
    """Base of every config model: unknown keys are rejected by name, values are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


def format_validation_error(err: ValidationError, prefix: str = "") -> str:
    """One line per problem: ``features.age.buckets: Input should be ... (got 'ten')``."""
    lines = []
    for e in err.errors():
        loc = [str(p) for p in e["loc"]]
        path = ".".join(([prefix] if prefix else []) + loc) or "(root)"
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see the documented keys)"
        got = e.get("input")
        got_txt = "" if e["type"] in ("extra_forbidden", "missing") else f" (got {got!r})"
        lines.append(f"{path}: {msg}{got_txt}")
    return "; ".join(lines)


def validate_model(cls: type[M], data: Any, prefix: str = "", error: Callable[[str], Exception] = ConfigError) -> M:
    """``cls.model_validate(data)`` with errors re-raised as ``error`` naming the path."""
    try:
        return cls.model_validate(data)
    except ValidationError as err:
        raise error(format_validation_error(err, prefix)) from None

"""Turns pydantic validation errors into recstack errors that name the config path."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from recstack.errors import ConfigError

M = TypeVar("M", bound=BaseModel)

__all__ = ["StrictModel", "format_validation_error", "key_error", "key_errors", "validate_model"]


class StrictModel(BaseModel):
    """Base of every config model: unknown keys are rejected by name, values are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False, strict=True)


def key_error(key: str, message: str, value: Any, *, missing: bool = False) -> ValidationError:
    """An error of a model validator that checks keys together, located at the key to change
    (``data.split.cutoff``, not ``data.split``; ``features.age.boundaries``, not ``features.age``),
    for a model validator to raise: pydantic prefixes the location of the model, so the message
    names the full path. ``value`` is shown as ``(got ...)`` where it is not a mapping;
    ``missing`` is for a key that was not given.

    It lives here, below both ``config`` and ``features``, so every layer's specs can use it."""
    return key_errors([(key, message, value)], missing=missing)


def key_errors(problems: Sequence[tuple[str, str, Any]], *, missing: bool = False) -> ValidationError:
    """:func:`key_error` for several keys at once, one ``(key, message, value)`` each: every key
    to change gets its own line (``features.hist.min_count: ...; features.hist.num_oov: ...``)."""
    lines: list[InitErrorDetails] = [
        {"type": PydanticCustomError("missing" if missing else "value_error", message), "loc": (key,), "input": value}
        for key, message, value in problems
    ]
    return ValidationError.from_exception_data("config", lines)


_SCALAR_TAGS = {"str", "int", "float", "bool"}


def _is_tag(segment: str) -> bool:
    """A union member's tag in an error location (``str``, ``TableSource``, ``list[str]``);
    a user's key such as a feature named ``Age`` is not one."""
    return segment in _SCALAR_TAGS or segment in _model_names() or segment.startswith(("list[", "dict[", "literal["))


def _model_names() -> set[str]:
    names, todo = set(), [BaseModel]
    while todo:
        for sub in todo.pop().__subclasses__():
            names.add(sub.__name__)
            todo.append(sub)
    return names


def _union_errors(errors: list[Any]) -> list[tuple[list[str], Any]]:
    """Errors with union member tags removed from their paths, and the errors of a scalar
    member dropped when the value is a mapping or list (``data.train: {path: ..., typo: 1}``
    should name the typo, not also say that a table source "should be a valid string")."""
    locs = [[str(p) for p in e["loc"]] for e in errors]
    tags: set[tuple[int, int]] = set()  # (error, position) of union tags
    for i, loc in enumerate(locs):
        for j, seg in enumerate(loc):
            siblings = [k for k, other in enumerate(locs) if other[:j] == loc[:j] and len(other) > j]
            if _is_tag(seg) and any(locs[k][j] != seg and _is_tag(locs[k][j]) for k in siblings):
                tags.add((i, j))
    out = []
    for i, (e, loc) in enumerate(zip(errors, locs)):
        tagged = [j for j in range(len(loc)) if (i, j) in tags]
        if tagged and loc[tagged[-1]] in _SCALAR_TAGS and isinstance(e.get("input"), (dict, list)):
            continue
        out.append(([seg for j, seg in enumerate(loc) if (i, j) not in tags], e))
    return out


def format_validation_error(err: ValidationError, prefix: str = "") -> str:
    """One line per problem: ``features.age.buckets: Input should be ... (got 'ten')``."""
    lines = []
    for loc, e in _union_errors(err.errors()):
        path = ".".join(([prefix] if prefix else []) + loc) or "(root)"
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see the documented keys)"
        elif e["type"] == "value_error" and msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]  # a check of ours: its own words name the keys
        got = e.get("input")
        # a whole section as the "input" (a model-level check) says nothing the message does not
        quiet = e["type"] in ("extra_forbidden", "missing") or (e["type"] == "value_error" and isinstance(got, dict))
        got_txt = "" if quiet else f" (got {got!r})"
        lines.append((path, msg, got_txt))
    return "; ".join(f"{path}: {msg}{got}" for path, msg, got in _merge_members(lines))


def _merge_members(lines: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """The errors of a union's members at one key as one line: ``min: Input should be a valid
    integer or a valid number (got '4')``, not the key and the value twice."""
    lead = "Input should be "  # pydantic's words for a type a member wanted; our own checks say more
    merged: dict[tuple[str, str, str | int], list[str]] = {}
    for i, (path, msg, got) in enumerate(lines):
        msgs = merged.setdefault((path, got, "member" if msg.startswith(lead) else i), [])
        if msg not in msgs:
            msgs.append(msg)
    return [(path, " or ".join([msgs[0], *(m[len(lead):] for m in msgs[1:])]), got)
            for (path, got, _), msgs in merged.items()]


def validate_model(cls: type[M], data: Any, prefix: str = "", error: Callable[[str], Exception] = ConfigError) -> M:
    """``cls.model_validate(data)`` with errors re-raised as ``error`` naming the path."""
    try:
        return cls.model_validate(data)
    except ValidationError as err:
        raise error(format_validation_error(err, prefix)) from None

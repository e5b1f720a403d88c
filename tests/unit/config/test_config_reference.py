"""docs/config.md lists every config key, with its default and allowed values, and nothing else.

The config classes are the truth: the test walks them (the experiment config's fields,
recursively into nested models, the feature spec classes, the model kinds' config classes and
the built-in datasets' loader signatures), and each section of the reference must hold
exactly their keys. A key added, renamed or removed in code without the doc fails here.

Format the test reads: a heading names the sections it documents in backticks
(``### `data.train`, `data.test` ...``; "Top level" for the root); the table rows under it,
up to the next heading, are ``| `key` | type | default | allowed | meaning |``. The default
cell holds the default in backticks (YAML spelling: ``null``, ``true``, ``[a, b]``, ``{}``
for a nested section's defaults) or ``required``.
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from recstack.config import ExperimentConfig
from recstack.data.datasets import DATASETS
from recstack.errors import ConfigError
from recstack.features import FEATURE_TYPES, FeatureSpec
from recstack.models.base import MODELS

DOC = Path(__file__).resolve().parents[3] / "docs" / "config.md"
ROOT = "Top level"
_BACKTICKED = re.compile(r"`([^`]+)`")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")


class Key(typing.NamedTuple):
    """One documented key: where it belongs and what the doc must say about it."""

    section: str
    name: str
    required: bool
    default: Any
    literals: tuple[str, ...]  # allowed values a Literal type lists


# ---------------------------------------------------------------------- the code side


def _literals(annotation: Any) -> tuple[str, ...]:
    """Every value of every ``Literal`` inside ``annotation`` (unions, lists, dicts)."""
    if typing.get_origin(annotation) is Literal:
        return tuple(str(v) for v in typing.get_args(annotation))
    out: list[str] = []
    for arg in typing.get_args(annotation):
        out.extend(_literals(arg))
    return tuple(dict.fromkeys(out))


def _models_in(annotation: Any) -> list[tuple[str, type[BaseModel]]]:
    """The pydantic models an annotation holds, with the path suffix of each: ``""`` for
    ``Model | None`` / ``str | Model``, ``".<name>"`` for ``dict[str, Model]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [("", annotation)]
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return [m for a in args for m in _models_in(a)]
    if origin is dict and len(args) == 2:
        return [(".<name>" + suffix, m) for suffix, m in _models_in(args[1])]
    if origin is list and args:
        return [("[]" + suffix, m) for suffix, m in _models_in(args[0])]
    return []


def _field_key(section: str, name: str, info: FieldInfo) -> Key:
    required = info.is_required()
    default = None if required else info.get_default(call_default_factory=True)
    return Key(section, name, required, default, _literals(info.annotation))


def _model_keys(section: str, model: type[BaseModel]) -> Iterator[Key]:
    """``model``'s fields in ``section``, then those of every model nested in them."""
    for name, info in model.model_fields.items():  # a key is spelled as YAML spells it (``in``, not ``in_``)
        yield _field_key(section, info.alias or name, info)
    for name, info in model.model_fields.items():
        for suffix, nested in _models_in(info.annotation):
            path = f"{name}{suffix}" if section == ROOT else f"{section}.{name}{suffix}"
            yield from _model_keys(path, nested)


def code_keys() -> list[Key]:
    keys = list(_model_keys(ROOT, ExperimentConfig))
    common = FeatureSpec.model_fields
    keys += [_field_key("features.<name>", n, info) for n, info in common.items()]
    for type_name, cls in FEATURE_TYPES.items():
        keys += [_field_key(f"type: {type_name}", n, info)
                 for n, info in cls.model_fields.items() if n not in common or n == "type"]
    for kind in MODELS.names():
        keys += list(_model_keys(f"kind: {kind}", MODELS.get(kind).config_cls))
    for dataset in DATASETS.names():
        loader = DATASETS.get(dataset)
        hints = typing.get_type_hints(loader)
        for name, p in inspect.signature(loader).parameters.items():
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            required = p.default is inspect.Parameter.empty
            keys.append(Key(f"dataset: {dataset}", name, required, None if required else p.default,
                            _literals(hints.get(name))))
    return keys


# ----------------------------------------------------------------------- the doc side


def _cells(line: str) -> list[str]:
    return [c.strip().replace("\\|", "|") for c in _CELL_SPLIT.split(line.strip().strip("|"))]


def doc_rows(text: str) -> dict[str, dict[str, list[str]]]:
    """``{section: {key: cells}}`` from the headings and tables of the reference."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip()
            current = [ROOT] if title == ROOT else _BACKTICKED.findall(title)
            for s in current:
                sections.setdefault(s, {})
            continue
        if not line.startswith("|") or not current:
            continue
        cells = _cells(line)
        names = _BACKTICKED.findall(cells[0])
        if len(names) != 1 or cells[0] != f"`{names[0]}`":  # the header and the |---| line
            continue
        for s in current:
            sections[s][names[0]] = cells
    return sections


def render(value: Any) -> str:
    """A default as the reference spells it (YAML flow style)."""
    if isinstance(value, BaseModel):
        return "{}"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return value if value else '""'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(render(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {render(v)}" for k, v in value.items()) + "}"
    return str(value)


def problems(text: str, keys: list[Key]) -> list[str]:
    """What the reference ``text`` gets wrong about ``keys``; empty when it is complete."""
    rows = doc_rows(text)
    out: list[str] = []
    for k in keys:
        where = f"{k.section}: {k.name}"
        if k.section not in rows:
            out.append(f"{where}: no heading names section `{k.section}`")
            continue
        cells = rows[k.section].get(k.name)
        if cells is None:
            out.append(f"{where}: no row | `{k.name}` | ... |")
            continue
        if len(cells) != 5:
            out.append(f"{where}: expected 5 cells (key, type, default, allowed, meaning), got {len(cells)}")
            continue
        default_cell = cells[2]
        if k.required:
            if default_cell != "required":
                out.append(f"{where}: required in code, the doc's default is {default_cell!r}")
        else:
            written = _BACKTICKED.findall(default_cell)
            if not written or written[0] != render(k.default):
                out.append(f"{where}: default is `{render(k.default)}`, the doc says {default_cell!r}")
        row_values = set(_BACKTICKED.findall(" | ".join(cells[2:4])))
        missing = [v for v in k.literals if v not in row_values]
        if missing:
            out.append(f"{where}: allowed values {missing} are not listed (in backticks)")
    known: dict[str, set[str]] = {}
    for k in keys:
        known.setdefault(k.section, set()).add(k.name)
    for section, documented in rows.items():
        if section in known:
            out += [f"{section}: {name}: documented, but not a key in code" for name in documented
                    if name not in known[section]]
    return out


# ---------------------------------------------------------------------------- tests


def test_every_config_key_is_documented_with_its_default_and_allowed_values() -> None:
    found = problems(DOC.read_text(encoding="utf-8"), code_keys())
    assert not found, "docs/config.md is out of date:\n" + "\n".join(found)


def test_the_walk_reaches_every_section() -> None:
    sections = {k.section for k in code_keys()}
    assert {ROOT, "data", "data.train", "data.test", "data.join.<name>", "data.history", "task", "train",
            "train.early_stopping", "eval", "model", "features.<name>", "kind: two_tower",
            "dataset: movielens-100k", "dataset: synthetic"} <= sections
    assert {f"type: {t}" for t in FEATURE_TYPES} <= sections
    assert len(code_keys()) > 100


def test_the_type_row_lists_every_feature_type() -> None:
    rows = doc_rows(DOC.read_text(encoding="utf-8"))
    listed = set(_BACKTICKED.findall(rows["features.<name>"]["type"][3]))
    assert set(FEATURE_TYPES) <= listed


@pytest.mark.parametrize("section, bad", [
    ("train", {"lrr": 0.1}),
    ("features", {"user_id": {"type": "categorical"}, "item_id": {"type": "categorical"},
                  "age": {"type": "numeric", "buckets": "ten"}}),
])
def test_the_error_messages_the_docs_quote_are_the_real_ones(section: str, bad: dict[str, Any]) -> None:
    cfg: dict[str, Any] = {"data": {"dataset": "synthetic"}, "features": {"user_id": {"type": "categorical"},
                           "item_id": {"type": "categorical"}}, "model": {"query": ["user_id"], "candidate": ["item_id"]}}
    with pytest.raises(ConfigError) as err:
        ExperimentConfig.from_dict({**cfg, section: bad})
    for doc in (DOC, DOC.parents[1] / "README.md"):
        assert f"`{err.value}`" in doc.read_text(encoding="utf-8"), f"{doc.name} does not quote {str(err.value)!r}"


@pytest.mark.parametrize("section, key", [
    ("train", "lr"), ("train.early_stopping", "restore_best"), ("data.history", "mode"),
    ("data.train", "dtype"), ("type: text", "max_tokens"), ("kind: two_tower", "init_std"),
    ("dataset: synthetic", "focus"), (ROOT, "eval"),
])
def test_a_key_deleted_from_the_doc_is_reported(section: str, key: str) -> None:
    lines = DOC.read_text(encoding="utf-8").splitlines()
    heading = next(i for i, line in enumerate(lines) if line.startswith("#") and (
        line.lstrip("#").strip() == section if section == ROOT else f"`{section}`" in line))
    row = next(i for i in range(heading + 1, len(lines)) if lines[i].startswith(f"| `{key}` |"))
    assert not any(line.startswith("#") for line in lines[heading + 1:row])  # the row of that section
    broken = "\n".join(lines[:row] + lines[row + 1:])
    assert problems("\n".join(lines), code_keys()) == []
    assert any(p.startswith(f"{section}: {key}: no row") for p in problems(broken, code_keys()))


def test_a_changed_default_an_unlisted_value_and_a_stale_key_are_reported() -> None:
    text = DOC.read_text(encoding="utf-8")
    found = problems(text.replace("| `lr` | float | `0.1` |", "| `lr` | float | `0.2` |")
                     .replace("`relu`, `gelu`, `tanh`, `silu`", "`relu`, `gelu`, `tanh`")
                     .replace("| `seed` | int | `42` |", "| `seeds` | int | `42` |"), code_keys())
    assert "train: lr: default is `0.1`, the doc says '`0.2`'" in found
    assert any(p.startswith("kind: two_tower: activation: allowed values ['silu']") for p in found)
    assert "train: seeds: documented, but not a key in code" in found
    assert any(p.startswith("train: seed: no row") for p in found)

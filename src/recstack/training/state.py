"""Validation of a checkpoint's ``state.json``: a hand-edited or damaged file is an
:class:`ArtifactError` naming the file and the field, not a traceback deep in the trainer."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from recstack.errors import ArtifactError

__all__ = ["validate_state"]


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def validate_state(state: Any, file: Path, fmt: int) -> dict[str, Any]:
    """``state`` (``state.json``'s content) when every field the trainer reads has the right
    type and range; otherwise an :class:`ArtifactError` naming ``file`` and the field."""

    def bad(field: str, want: str, value: Any) -> ArtifactError:
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        return ArtifactError(f"{file}: {field} must be {want}, got {shown}; the file was edited or damaged: "
                             "resume from another checkpoint (an earlier epoch-NNNN folder) or train afresh")

    if not isinstance(state, dict):
        raise bad("the content", "a JSON object", type(state).__name__)
    if state.get("format") != fmt:
        raise ArtifactError(f"checkpoint {file.parent} has format {state.get('format')!r}, this version reads {fmt}")
    epoch: Any = state.get("epoch")
    if not _is_int(epoch) or epoch < 1:
        raise bad("'epoch'", "an integer >= 1", epoch)
    history = state.get("history", [])
    if not isinstance(history, list) or not all(isinstance(r, dict) for r in history):
        raise bad("'history'", "a list of objects (one per epoch)", history)
    best_metric = state.get("best_metric")
    if best_metric is not None and not _is_number(best_metric):
        raise bad("'best_metric'", "a number or null", best_metric)
    best_epoch = state.get("best_epoch")
    if best_epoch is not None and (not _is_int(best_epoch) or not 1 <= best_epoch <= epoch):
        raise bad("'best_epoch'", f"null or an integer from 1 to the epoch ({epoch})", best_epoch)
    bad_evals = state.get("bad_evals", 0)
    if not _is_int(bad_evals) or bad_evals < 0:
        raise bad("'bad_evals'", "an integer >= 0", bad_evals)
    name = state.get("optimizer_name")
    if name is not None and not isinstance(name, str):
        raise bad("'optimizer_name'", "a string (e.g. \"adagrad\")", name)
    opt = state.get("optimizer")
    if not isinstance(opt, dict) or not isinstance(opt.get("scalars"), dict):
        raise bad("'optimizer'", "an object with param_groups and scalars", opt)
    groups = opt.get("param_groups")
    if not isinstance(groups, list) or not groups or not all(isinstance(g, dict) for g in groups):
        raise bad("'optimizer.param_groups'", "a non-empty list of objects", groups)
    for i, g in enumerate(groups):
        params = g.get("params")
        if not isinstance(params, list) or not all(_is_int(x) for x in params):
            raise bad(f"'optimizer.param_groups[{i}].params'", "a list of integers", params)
        for key, low in (("lr", "> 0"), ("weight_decay", ">= 0")):
            v = g.get(key)
            if not _is_number(v) or not math.isfinite(v) or (v <= 0 if key == "lr" else v < 0):
                raise bad(f"'optimizer.param_groups[{i}].{key}'", f"a finite number {low}", v)
    for pid, scalars in opt["scalars"].items():
        if not str(pid).isdigit() or not isinstance(scalars, dict):
            raise bad(f"'optimizer.scalars.{pid}'", "an object under a parameter number", scalars)
    es = state.get("early_stopping")
    if es is not None and not (isinstance(es, dict) and isinstance(es.get("metric"), str)
                               and es.get("mode") in ("max", "min") and _is_number(es.get("min_delta"))):
        raise bad("'early_stopping'", "null or an object with metric, mode (max/min) and min_delta", es)
    fingerprint = state.get("fingerprint")
    if fingerprint is not None and not isinstance(fingerprint, dict):
        raise bad("'fingerprint'", "an object", fingerprint)
    return state

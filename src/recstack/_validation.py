"""Turns pydantic validation errors into recstack errors that name the config path."""

from __future__ import annotations

import difflib
import types
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

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


# Keys of other libraries (Keras, TFRS, PyTorch Lightning, scikit-learn, ...) and common
# spellings, with the recstack key they mean; suggested only where that key is allowed.
KEY_ALIASES: dict[str, tuple[str, ...]] = {
    "learning_rate": ("lr",), "learningrate": ("lr",), "learning_rate_init": ("lr",), "eta": ("lr",),
    "optimiser": ("optimizer",), "optim": ("optimizer",), "opt": ("optimizer",),
    "num_epochs": ("epochs",), "n_epochs": ("epochs",), "max_epochs": ("epochs",), "epoch": ("epochs",),
    "nb_epoch": ("epochs",),
    "batch": ("batch_size",), "batchsize": ("batch_size",), "train_batch_size": ("batch_size",),
    "embedding_size": ("embedding_dim",), "embedding_dimension": ("embedding_dim",),
    "embedding_dims": ("embedding_dim",), "embed_dim": ("embedding_dim",), "emb_dim": ("embedding_dim",),
    "output_dim": ("embedding_dim",), "dim": ("embedding_dim",), "embedding_dimensions": ("embedding_dim",),
    "layer_sizes": ("layers",), "hidden_layers": ("layers",), "hidden_units": ("layers",),
    "hidden_dims": ("layers",), "hidden_sizes": ("layers",), "dnn_hidden_units": ("layers",),
    "dropout_rate": ("dropout",), "dropout_prob": ("dropout",),
    "initial_accumulator_value": ("adagrad_initial_accumulator",),
    "initial_accumulator": ("adagrad_initial_accumulator",),
    "l2": ("weight_decay",), "l2_reg": ("weight_decay",), "l2_regularization": ("weight_decay",),
    "clipnorm": ("grad_clip",), "max_grad_norm": ("grad_clip",), "gradient_clip_val": ("grad_clip",),
    "grad_clip_norm": ("grad_clip",), "clip_grad_norm": ("grad_clip",),
    "random_seed": ("seed",), "random_state": ("seed",),
    "validation_freq": ("eval_every",), "eval_frequency": ("eval_every",), "eval_steps": ("eval_every",),
    "test_size": ("test_fraction",), "test_split": ("test_fraction",), "test_ratio": ("test_fraction",),
    "validation_split": ("validation_fraction",), "val_fraction": ("validation_fraction",),
    "valid_fraction": ("validation_fraction",), "val_split": ("validation_fraction",),
    "vocab_size": ("max_size", "max_tokens"), "max_vocab_size": ("max_size", "max_tokens"),
    "num_oov_indices": ("num_oov",), "num_bins": ("buckets",), "bins": ("buckets", "boundaries"),
    "n_bins": ("buckets",), "bin_boundaries": ("boundaries",), "output_sequence_length": ("max_length",),
    "standardize": ("normalize", "lowercase"), "delimiter": ("separator", "sep"), "sep": ("separator",),
    "user_col": ("user_column",), "item_col": ("item_column",), "time_col": ("time_column",),
    "timestamp_column": ("time_column",), "activation_fn": ("activation",),
}
_HIDDEN_KEYS = {"base_dir", "name"}  # fields the loader fills in, never a user's fix


def _unwrap(tp: Any) -> list[Any]:
    """The types a value annotated ``tp`` may take: unions and ``Annotated`` opened."""
    origin = get_origin(tp)
    if origin is Annotated:
        return _unwrap(get_args(tp)[0])
    if origin is Union or origin is types.UnionType:
        return [t for a in get_args(tp) for t in _unwrap(a)]
    return [tp]


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def allowed_keys(model: type[BaseModel] | None, loc: Sequence[str | int]) -> list[str]:
    """The keys the section at ``loc`` (a location inside ``model``, union tags included)
    accepts; empty where it cannot be told."""
    found: list[Any] = [model] if model is not None else []
    for seg in loc:
        nxt: list[Any] = []
        options = [t for tp in found for t in _unwrap(tp)]
        tagged = [t for t in options if _is_model(t) and t.__name__ == seg]
        if tagged:  # a union member's tag names the branch
            nxt = tagged
        elif isinstance(seg, str) and _is_tag(seg):
            nxt = options
        else:
            for t in options:
                if _is_model(t):
                    for name, field in t.model_fields.items():
                        if seg in (name, field.alias):
                            nxt.append(field.annotation)
                elif get_origin(t) in (dict, Mapping) and len(get_args(t)) == 2:
                    nxt.append(get_args(t)[1])
                elif get_origin(t) in (list, Sequence) and isinstance(seg, int) and get_args(t):
                    nxt.append(get_args(t)[0])
        found = nxt
    keys: list[str] = []
    for t in (t for tp in found for t in _unwrap(tp)):
        if _is_model(t):
            keys += [f.alias or n for n, f in t.model_fields.items() if n not in _HIDDEN_KEYS]
    return list(dict.fromkeys(k for k in keys if k not in _HIDDEN_KEYS))


def _subsections_with(model: type[BaseModel] | None, loc: Sequence[str | int], key: str) -> list[str]:
    """The keys of the section at ``loc`` that are sections holding ``key`` (``history`` for
    ``eval_history`` in ``data``): where a key written one level too high belongs."""
    return [k for k in allowed_keys(model, loc) if key in allowed_keys(model, [*loc, k])]


def suggest_keys(key: str, allowed: Sequence[str]) -> list[str]:
    """The allowed keys ``key`` was probably meant to be: a known name of another library
    (``learning_rate`` -> ``lr``) first, then close spellings (``dtyp`` -> ``dtype``)."""
    low = key.lower()
    out = [k for k in KEY_ALIASES.get(low, ()) if k in allowed]
    out += difflib.get_close_matches(low, allowed, n=3, cutoff=0.75)
    return list(dict.fromkeys(out))[:3]


def unknown_key_message(key: str, allowed: Sequence[str]) -> str:
    """``unknown key; did you mean 'lr'?`` where a close key exists, else a hint to check the spelling."""
    hits = suggest_keys(key, allowed)
    if not hits:
        return "unknown key (check the spelling; see the documented keys)"
    return f"unknown key; did you mean {' or '.join(repr(h) for h in hits)}?"


def format_validation_error(err: ValidationError, prefix: str = "", model: type[BaseModel] | None = None) -> str:
    """One line per problem: ``features.age.buckets: Input should be ... (got 'ten')``.

    ``model`` (the class that was validated) lets an unknown key get a suggestion from the keys
    of its section: ``train.learning_rate: unknown key; did you mean 'lr'?``."""
    lines = []
    for loc, e in _union_errors(err.errors()):
        path = ".".join(([prefix] if prefix else []) + loc) or "(root)"
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            raw = e["loc"]
            msg = unknown_key_message(str(raw[-1]), allowed_keys(model, raw[:-1]) if raw else [])
            homes = _subsections_with(model, raw[:-1], str(raw[-1])) if raw and "did you mean" not in msg else []
            if homes:  # data.eval_history: a key of data.history
                section = path.rsplit(".", 1)[0] if "." in path else ""
                where = " or ".join(".".join(p for p in (section, h, str(raw[-1])) if p) for h in homes)
                msg = f"unknown key here; did you mean {where}?"
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
        raise error(format_validation_error(err, prefix, cls)) from None

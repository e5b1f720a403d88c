"""Saving a trained two-tower model as a directory, and loading it strictly."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from recstack.artifacts.manifest import DIGEST, Stamp, changed_since, read_manifest, write_manifest
from recstack.artifacts.query_rows import decode_rows, encode_rows, jsonable
from recstack.artifacts.recommender import Recommender
from recstack.artifacts.timeline import Timeline
from recstack._atomic import replace_dir
from recstack._storable import storable
from recstack.errors import ArtifactError, RecstackError
from recstack.models.base import build_model
from recstack.models.two_tower import TwoTower
from recstack.preprocessing import OutputSpec, Preprocessor
from recstack.preprocessing._cells import first_row
from recstack.preprocessing.keys import KeyIndex

__all__ = ["save", "load"]

logger = logging.getLogger(__name__)

FILES = ["preprocessor.json", "model.safetensors", "candidates.safetensors", "candidates.json"]


def save(
    directory: str | Path,
    *,
    model: TwoTower,
    preprocessor: Preprocessor,
    candidate_ids: Sequence[Any],
    candidate_embeddings: torch.Tensor,
    query_column: str,
    known_queries: pd.DataFrame | None = None,
    seen: tuple[torch.Tensor, torch.Tensor] | None = None,
    extra: Mapping[str, Any] | None = None,
    side_queries: pd.DataFrame | None = None,
    write_extra: Callable[[Path], None] | None = None,
    timeline: Timeline | None = None,
) -> Path:
    """Writes the artifact directory (atomically: a temporary folder, flushed to disk, renamed into place).

    ``extra`` goes into the manifest (e.g. the experiment config and test metrics).
    ``timeline``: the known users' training items with times (rows of ``known_queries``).
    ``write_extra(folder)`` writes files that are not part of the checksummed artifact (the
    training log) into the folder before it is renamed into place, so they arrive with it.
    """
    final = Path(directory).resolve()  # "." or "runs/": a named folder
    problem = output_problem(final)
    if problem:
        raise ArtifactError(f"{final}: {problem}")
    tmp = final.with_name(f".{final.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        _write_files(tmp, model, preprocessor, candidate_ids, candidate_embeddings, query_column,
                     known_queries, seen, extra, side_queries, timeline)
        if write_extra is not None:
            write_extra(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # no half-written folder left behind
        raise
    problem = output_problem(final)  # again: the folder may have filled up while the files were written
    if problem:
        shutil.rmtree(tmp)
        raise ArtifactError(f"{final}: {problem}")
    replace_dir(tmp, final)  # the old model stays under a known name until the new one is in place
    return final


def output_problem(directory: str | Path) -> str | None:
    """Why a model cannot be saved as ``directory`` (``None`` when it can): the rules of
    :func:`save`, also checked by the CLI before training. A file, the root folder, or a
    non-empty folder that is not a model directory (no ``recstack.json``) is never replaced."""
    final = Path(directory).resolve()
    if final.parent == final:
        return "that is the root folder; choose an output folder"
    if final.exists() and not final.is_dir():
        return "it is a file; choose an output folder"
    if final.is_dir() and not (final / "recstack.json").exists() and any(final.iterdir()):
        return ("the folder is not empty and is not a recstack model directory (no recstack.json); "
                "choose a new or empty folder")
    return None


def _write_files(
    tmp: Path,
    model: TwoTower,
    preprocessor: Preprocessor,
    candidate_ids: Sequence[Any],
    candidate_embeddings: torch.Tensor,
    query_column: str,
    known_queries: pd.DataFrame | None,
    seen: tuple[torch.Tensor, torch.Tensor] | None,
    extra: Mapping[str, Any] | None,
    side_queries: pd.DataFrame | None = None,
    timeline: Timeline | None = None,
) -> None:
    state = {"state": preprocessor.get_state(), "outputs": [o.to_dict() for o in preprocessor.outputs]}
    (tmp / "preprocessor.json").write_text(json.dumps(state))
    save_file(storable(model.state_dict()), str(tmp / "model.safetensors"))
    tensors = {"embeddings": candidate_embeddings.detach().float().contiguous()}
    if seen is not None:
        tensors["seen_offsets"], tensors["seen_items"] = seen[0].long().contiguous(), seen[1].long().contiguous()
    body: dict[str, Any] = {"ids": [jsonable(i) for i in candidate_ids], "known_queries": None}
    if timeline is not None:
        if known_queries is None or timeline.offsets.numel() != len(known_queries) + 1:
            raise ArtifactError("timeline: one CSR row per known_queries row is needed")
        tensors.update(timeline.tensors())
        body["timeline"] = timeline.spec()
    if side_queries is not None and query_column not in side_queries.columns:
        raise ArtifactError(f"side_queries lack the query column {query_column!r}: they could not be loaded")
    for name, table in (("known_queries", known_queries), ("side_queries", side_queries)):
        if table is not None and (name == "known_queries" or len(table)):  # side: users-table rows of unseen users
            body[name], columns = encode_rows(table, name)
            tensors.update(columns)
    save_file(tensors, str(tmp / "candidates.safetensors"))
    (tmp / "candidates.json").write_text(json.dumps(body))
    body = {
        "model": {"kind": model.kind, "config": model.get_config()},
        "query_column": query_column,
        **dict(extra or {}),
    }
    write_manifest(tmp, body, FILES)


def _check_weight_shapes(d: Path, kind: str, config: Any, outputs: list[OutputSpec]) -> None:
    """Builds the model on the meta device (no memory) and compares its shapes with the weights
    file's header, so an edited config (e.g. a huge ``embedding_dim``) fails before allocating."""
    def build() -> dict[str, torch.Tensor]:
        with torch.device("meta"):
            return build_model(kind, config, outputs).state_dict()

    def header(path: Path) -> tuple[dict[str, tuple[int, ...]], dict[str, str]]:
        with safe_open(str(path), framework="pt") as f:
            return ({k: tuple(f.get_slice(k).get_shape()) for k in f.keys()},
                    {k: f.get_slice(k).get_dtype() for k in f.keys()})

    state = _step(d, MODEL_IN_MANIFEST, build)
    stored, kinds = _step(d, "model.safetensors", lambda: header(d / "model.safetensors"))
    shapes = {k: tuple(v.shape) for k, v in state.items()}
    wrong = sorted(k for k, v in state.items() if k in kinds and _dtype_kind(kinds[k]) != _dtype_kind(v.dtype))
    if wrong:  # loading would cast, e.g. I32 bit patterns read as integers: scores around 1e10
        raise ArtifactError(
            f"{d}: model.safetensors stores {wrong[0]!r} as {kinds[wrong[0]]}, the model needs {state[wrong[0]].dtype}; "
            "the file was edited; re-export the model"
        )
    if shapes != stored:
        diff = sorted(k for k in set(shapes) | set(stored) if shapes.get(k) != stored.get(k))[:3]
        raise ArtifactError(
            f"{d}: the model config in recstack.json does not match model.safetensors (e.g. {diff}: "
            f"{[shapes.get(k) for k in diff]} vs {[stored.get(k) for k in diff]}); one of them was edited; "
            "re-export the model"
        )


MODEL_IN_MANIFEST = "the model in recstack.json"
CANDIDATE_ID = "candidate ID"  # the catalogue's IDs, as errors name them
# what a parser may raise on a checksum-consistent file of the wrong content (truncated, edited)
_PARSE_ERRORS = (RuntimeError, KeyError, TypeError, ValueError, IndexError, RecursionError, SafetensorError,
                 RecstackError)
_T = TypeVar("_T")


def _step(d: Path, what: str, parse: Callable[[], _T]) -> _T:
    """Runs one step of :func:`load`; a parser's error becomes an ArtifactError naming ``what``
    (a file, or the model in the manifest)."""
    fix = "re-export the model" if what == MODEL_IN_MANIFEST else "re-copy or re-export the model"
    verb = "is invalid" if what == MODEL_IN_MANIFEST else "is malformed or truncated"
    try:
        return parse()
    except ArtifactError as err:  # it is a ValueError too: wrapped once, only when it names no file
        if what in str(err) or str(d) in str(err):
            raise
        raise ArtifactError(f"cannot load the model in {d}: {what} {verb} ({err}); {fix}") from None
    except _PARSE_ERRORS as err:
        raise ArtifactError(
            f"cannot load the model in {d}: {what} {verb} ({type(err).__name__}: {err}); {fix}") from None


def _dtype_kind(dtype: str | torch.dtype) -> str:
    """``float``, ``int`` or ``bool``, for a torch dtype or a safetensors dtype name (``F32``)."""
    if isinstance(dtype, torch.dtype):
        return "bool" if dtype == torch.bool else "float" if dtype.is_floating_point else "int"
    return "bool" if dtype == "BOOL" else "float" if dtype.startswith(("F", "BF")) else "int"


def load(directory: str | Path) -> Recommender:
    """Loads an artifact directory into a :class:`Recommender` (strict: checksums, shapes).

    A folder replaced while it is read (``save`` renames a new model into place) is read again,
    once: the files' identities recorded when their checksums were verified are compared with the
    files' after everything is parsed, so the answer is one model, never a mix of two.

    Raises:
        ArtifactError: missing/corrupted files, unknown format version, weights that do
            not fit the saved config, a folder that kept changing while it was read.
    """
    d = Path(directory)
    for _ in range(2):
        stamps: dict[str, Stamp | None] = {}
        try:
            rec = _load_once(d, stamps)
        except (ArtifactError, OSError):
            if not changed_since(d, stamps):
                raise  # the folder is as it was read: the error is about its content
            continue  # e.g. the old manifest with a new file's checksum: read the new model
        if not changed_since(d, stamps):
            return rec
    raise ArtifactError(
        f"{d}: the model folder changed while loading (replaced by a save, twice in a row); retry the load "
        "once the save has finished"
    )


def _load_once(d: Path, stamps: dict[str, Stamp | None]) -> Recommender:
    """One pass of :func:`load`; ``stamps`` receives the files' identities as they were hashed."""
    manifest = read_manifest(d, required=FILES, stamps=stamps)
    query_column = manifest.get("query_column")
    pstate = _step(d, "preprocessor.json", lambda: json.loads((d / "preprocessor.json").read_bytes()))
    preprocessor, outputs = _step(d, "preprocessor.json", lambda: (
        Preprocessor.from_state(pstate["state"]), [OutputSpec.from_dict(o) for o in pstate["outputs"]]))
    kind, config = _step(d, MODEL_IN_MANIFEST, lambda: (manifest["model"]["kind"], manifest["model"]["config"]))
    _check_weight_shapes(d, kind, config, outputs)
    model = _step(d, MODEL_IN_MANIFEST, lambda: build_model(kind, config, outputs))
    _step(d, "model.safetensors",
          lambda: model.load_state_dict(load_file(str(d / "model.safetensors")), strict=True))
    cands = _step(d, "candidates.safetensors", lambda: load_file(str(d / "candidates.safetensors")))
    meta = _step(d, "candidates.json", lambda: json.loads((d / "candidates.json").read_bytes()))
    if not isinstance(model, TwoTower):
        raise ArtifactError(f"{d}: model kind {model.kind!r} has no Recommender yet")
    try:  # the files passed their checksums; a malformed structure is still an ArtifactError
        return _recommender(d, manifest, model, preprocessor, cands, meta, query_column)
    except ArtifactError:
        raise  # already names what is wrong (it is a ValueError too: not to be wrapped again)
    except (KeyError, TypeError, ValueError, IndexError, RuntimeError, pd.errors.InvalidIndexError) as err:
        raise ArtifactError(f"{d}: candidates.json / candidates.safetensors are malformed "
                            f"({type(err).__name__}: {err}); re-export the model") from None


def _candidate_index(d: Path, ids: list[Any], *, strict: bool) -> KeyIndex:
    """The catalogue's :class:`KeyIndex`, built once at load for the Recommender's lookups; its
    own check is the check of the file: every candidate has an ID, and no two share a canonical
    key (``1``, ``1.0``, ``"1"``: the lookup would keep the first row, and the other could never
    be recommended or excluded). Its refusal is re-worded here to name the file, the rows and
    the IDs as stored.

    ``strict`` (a manifest with a digest: written since IDs are checked at fit) refuses either;
    older artifacts may hold such rows, so they load with a warning (a lenient index)."""
    try:
        return KeyIndex(ids, column=CANDIDATE_ID)  # a sound catalogue: its one canonicalisation
    except _PARSE_ERRORS:  # a missing or repeated ID, or one that is no ID at all (a list: named by _step)
        index = _step(d, "candidates.json", lambda: KeyIndex(ids, column=CANDIDATE_ID, lenient=True))
    first = index.positions(ids, column=CANDIDATE_ID)  # each row's first row of its key; -1: no ID
    missing, repeated = first < 0, (first >= 0) & (first != np.arange(len(ids)))
    if missing.any():
        row = first_row(missing)
        problem = f"candidate row {row} has no ID ({ids[row]!r})"
    elif repeated.any():
        row = first_row(repeated)
        twin = int(first[row])
        problem = (f"lists candidate ID {ids[row]!r} twice (rows {twin} and {row}: {ids[twin]!r} and {ids[row]!r}; "
                   "IDs compare canonically: 1, 1.0 and '1' are one ID)")
    else:  # refused for a reason the lenient index does not check: named as the file's fault
        return _step(d, "candidates.json", lambda: KeyIndex(ids, column=CANDIDATE_ID))
    if strict or len({str(i) for i in ids}) != len(ids):  # exact repeats were always refused
        raise ArtifactError(f"{d / 'candidates.json'}: {problem}; the file was edited; re-export the model")
    logger.warning("%s: %s; loaded anyway (an artifact written before IDs were checked): that row is never "
                   "recommended; re-export the model", d / "candidates.json", problem)
    return index


def _recommender(
    d: Path, manifest: dict[str, Any], model: TwoTower, preprocessor: Preprocessor,
    cands: dict[str, torch.Tensor], meta: Any, query_column: Any,
) -> Recommender:
    """Checks the candidate files' structure and builds the :class:`Recommender`."""
    if not isinstance(meta, dict) or not isinstance(meta.get("ids"), list):
        raise ArtifactError(f"{d}: candidates.json needs an object with an 'ids' list; re-export the model")
    ids = meta["ids"]
    stored = meta.get("known_queries")
    format_2 = "side_queries" in meta or (isinstance(stored, dict) and "rows" not in stored)
    if format_2 and manifest.get("format_version") == 1:  # a format-2 layout under a format-1 label
        raise ArtifactError(f"{d}: recstack.json says format 1, but candidates.json is laid out as format 2 "
                            "writes it: the manifest was edited (its digest removed); re-export the model")
    candidate_index = _candidate_index(d, ids, strict=DIGEST in manifest)
    if "embeddings" not in cands:
        raise ArtifactError(f"{d}: candidates.safetensors has no 'embeddings' tensor; re-export the model")
    emb = cands["embeddings"]
    if not emb.is_floating_point():
        raise ArtifactError(f"{d}: candidate embeddings are stored as {emb.dtype}, not floats; re-export the model")
    if emb.ndim != 2 or emb.shape[0] != len(ids) or emb.shape[1] != model.output_dim:
        raise ArtifactError(
            f"{d}: candidate embeddings {tuple(emb.shape)} do not match {len(ids)} IDs x {model.output_dim} dims"
        )
    known = None
    if meta.get("known_queries"):
        kq = meta["known_queries"]
        known = _step(d, "candidates.json", lambda: decode_rows(kq, cands, "known_queries"))
    side = None
    if meta.get("side_queries"):
        sq = meta["side_queries"]
        side = _step(d, "candidates.json", lambda: decode_rows(sq, cands, "side_queries"))
        if query_column not in side.columns:
            raise ArtifactError(f"{d}: candidates.json: the users-table rows lack the query column "
                                f"{query_column!r}; re-export the model")
    if not isinstance(query_column, str) or known is not None and query_column not in known.columns or (
        known is None and query_column not in set(model.config.query)
    ):
        raise ArtifactError(
            f"{d}: query_column {query_column!r} in {d / 'recstack.json'} is not a column of the stored "
            "queries; the manifest was edited; re-export the model"
        )
    seen = None
    if "seen_offsets" in cands:
        offsets, items = cands["seen_offsets"], cands["seen_items"]
        n_known = 0 if known is None else len(known)
        ok = (offsets.ndim == 1 and offsets.numel() == n_known + 1 and not offsets.is_floating_point()
              and int(offsets[0]) == 0 and bool((offsets.diff() >= 0).all()) and int(offsets[-1]) == items.numel()
              and (items.numel() == 0 or (int(items.min()) >= 0 and int(items.max()) < len(ids))))
        if not ok:
            raise ArtifactError(f"{d}: the seen-items index in candidates.safetensors is malformed; re-export the model")
        seen = (offsets, items)
    timeline = None
    if "timeline" in meta:
        timeline = Timeline.read(cands, meta["timeline"], n_users=0 if known is None else len(known),
                                 n_items=len(ids), where=str(d / "candidates.safetensors"))
    return Recommender(
        model=model,
        preprocessor=preprocessor,
        candidate_ids=ids,
        candidate_index=candidate_index,
        candidate_embeddings=emb,
        query_column=query_column,
        known_queries=known,
        seen=seen,
        metadata=manifest,
        side_queries=side,
        timeline=timeline,
    )

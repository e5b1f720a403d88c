"""The ``recstack.json`` manifest: format version, library version, configs, checksums.

An artifact directory::

    recstack.json           this manifest (format, versions, model/task config, file checksums)
    preprocessor.json       fitted feature state (vocabularies, normalizers, buckets)
    model.safetensors       model weights
    candidates.safetensors  candidate embeddings (C, d) [+ seen-item CSR]
    candidates.json         the candidates' raw IDs, and the stored query rows by column (their
                            integer history lists as tensors in candidates.safetensors)
    history.csv, .json      the training log, when the model was trained by an experiment
                            (for people and plots; not read by ``load``, not checksummed)

Everything is JSON or safetensors: no pickle, nothing executable.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from collections.abc import Sequence
from typing import Any

from recstack._version import __version__
from recstack.errors import ArtifactError

__all__ = ["DIGEST", "FORMAT_NAME", "FORMAT_VERSION", "MANIFEST", "Stamp", "changed_since", "file_stamp",
           "manifest_digest", "write_manifest", "read_manifest", "sha256_file"]

FORMAT_NAME = "recstack.artifact"
# 1: the first format; 2: stored query rows by column (candidates.json "data"/"lists", history
# tensors in candidates.safetensors), which a reader of format 1 cannot parse. Both are read.
FORMAT_VERSION = 2
MANIFEST = "recstack.json"
# The sha256 of the manifest itself (every field but this one, as canonical JSON): the model
# config, query column and experiment settings are checked like the other files. Manifests of
# format 1 written before the digest existed have none; they still load.
DIGEST = "manifest_sha256"


def sha256_file(path: Path) -> str:
    return _sha256_stamped(path)[0]


# A file's identity and version: (st_dev, st_ino, st_size, st_mtime_ns, st_ctime_ns). A folder
# renamed into place holds new inodes; ctime (which no tool can set back, unlike the mtime that
# `cp -p` keeps) tells a reused inode number from the file that had it.
Stamp = tuple[int, int, int, int, int]


def _stamp(st: os.stat_result) -> Stamp:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def file_stamp(path: Path) -> Stamp | None:
    """The identity of the file now at ``path``; ``None`` where there is none."""
    try:
        return _stamp(os.stat(path))
    except (FileNotFoundError, NotADirectoryError):
        return None


def changed_since(directory: Path, stamps: dict[str, Stamp | None]) -> bool:
    """Whether any file recorded by :func:`read_manifest` is no longer the one it hashed."""
    return any(file_stamp(directory / name) != stamp for name, stamp in stamps.items())


def _sha256_stamped(path: Path) -> tuple[str, Stamp]:
    """The file's sha256 and the stamp of the very file hashed (``fstat`` of the open file)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
        return h.hexdigest(), _stamp(os.fstat(fh.fileno()))


def manifest_digest(manifest: dict[str, Any]) -> str:
    """The sha256 of ``manifest`` without its :data:`DIGEST` field, as canonical JSON (sorted keys,
    fixed separators): what :func:`write_manifest` stores and :func:`read_manifest` checks."""
    body = {k: v for k, v in manifest.items() if k != DIGEST}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def write_manifest(directory: Path, body: dict[str, Any], files: list[str]) -> None:
    """Writes ``recstack.json`` with the checksums of ``files`` (already in ``directory``) and the
    digest of the manifest itself."""
    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "library_version": __version__,
        **body,
        "files": {f: sha256_file(directory / f) for f in files},
    }
    # the digest is taken of what a reader will parse (a JSON round trip turns tuples into lists
    # and non-string keys into strings), so it matches whatever ``body`` held
    stored = json.loads(json.dumps(manifest))
    stored[DIGEST] = manifest_digest(stored)
    (directory / MANIFEST).write_text(json.dumps(stored, indent=1, sort_keys=True))


def read_manifest(
    directory: str | Path, *, verify: bool = True, required: Sequence[str] = (),
    stamps: dict[str, Stamp | None] | None = None,
) -> dict[str, Any]:
    """Reads and checks the manifest: format, version, every file present and intact.

    ``required`` names files that must carry a checksum in the manifest: without it a
    manifest with an entry removed would let a corrupted file load unverified.

    ``stamps``, when given, receives the :func:`file_stamp` of ``recstack.json`` and of every file
    as it was hashed (``None`` for one found missing), so a caller that reads the files again can
    tell whether the folder was replaced in between (see :func:`changed_since`).
    """
    d = Path(directory)
    stamps = {} if stamps is None else stamps
    path = d / MANIFEST
    if not d.is_dir():
        stamps[MANIFEST] = None  # a folder being replaced is absent between two renames
        raise ArtifactError(f"{str(d)!r} is not a directory; pass the folder written by save()/`recstack train -o`")
    if not path.is_file():
        stamps[MANIFEST] = None
        raise ArtifactError(f"{d} has no {MANIFEST}: not a recstack model directory (or an incomplete copy)")
    with open(path, "rb") as fh:
        text = fh.read()
        stamps[MANIFEST] = _stamp(os.fstat(fh.fileno()))
    try:
        manifest = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ArtifactError(f"{path} is corrupted (not valid JSON: {err}); re-export the model") from None
    if not isinstance(manifest, dict):
        raise ArtifactError(f"{path} is not a recstack manifest (a JSON {type(manifest).__name__}, not an object)")
    if manifest.get("format") != FORMAT_NAME:
        raise ArtifactError(f"{path} is not a recstack manifest (format {manifest.get('format')!r})")
    _check_version(path, manifest.get("format_version"))  # first: a newer format may digest otherwise
    _check_digest(path, manifest)
    files = manifest.get("files")
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        raise ArtifactError(f"{path}: 'files' must map file names to sha256 checksums; re-export the model")
    outside = [name for name in files if not _plain_name(name)]
    if outside:  # never read a path the manifest names outside the folder ("/etc/passwd", "../x")
        raise ArtifactError(
            f"{path}: 'files' lists {outside[0]!r}, which is not a file name in the model folder (plain "
            "names only, no folders, '..' or absolute paths); the manifest was edited; re-export the model"
        )
    unlisted = [name for name in required if name not in files]
    if unlisted:
        raise ArtifactError(
            f"{path} has no checksum for {', '.join(unlisted)}: the manifest was edited or truncated; "
            "re-export the model"
        )
    if verify:
        for name, digest in files.items():
            f = d / name
            if not f.is_file():
                stamps[name] = None
                raise ArtifactError(f"{d} is missing {name}; copy the whole model directory")
            actual, stamps[name] = _sha256_stamped(f)
            if actual != digest:
                raise ArtifactError(f"{f} is corrupted (checksum mismatch); re-copy or re-export the model")
    return manifest


def _plain_name(name: str) -> bool:
    """A file directly in the model folder: no separator of any platform, no drive (``C:``), not
    ``.`` or ``..``, no NUL."""
    return name not in ("", ".", "..") and not any(c in name for c in "/\\\0") and ":" not in name[1:2]


def _check_digest(path: Path, manifest: dict[str, Any]) -> None:
    """The manifest's own checksum, when it has one (every manifest written since it was added)."""
    if DIGEST not in manifest:
        if manifest.get("format_version") == 1:
            return  # written before the digest existed: nothing to check
        raise ArtifactError(f"{path} has no {DIGEST}, which every format-2 manifest is saved with: it was "
                            "edited after the model was saved; re-export the model")
    if manifest[DIGEST] != manifest_digest(manifest):
        raise ArtifactError(
            f"{path} was edited after the model was saved ({DIGEST} does not match its content): its "
            "model config, query column and experiment settings may no longer fit the weights; "
            "re-export the model (edits to recstack.json are not supported)"
        )


def _check_version(path: Path, version: Any) -> None:
    # bool is an int subclass: `true` must not pass as version 1.
    if type(version) is not int:
        raise ArtifactError(
            f"{path}: format_version must be an integer, got {version!r}; the manifest was edited or "
            "written by another tool; re-export the model"
        )
    if version < 1:
        raise ArtifactError(f"{path}: artifact format {version} never existed (valid: 1..{FORMAT_VERSION})")
    if version > FORMAT_VERSION:
        raise ArtifactError(
            f"{path.parent} uses artifact format {version}, newer than this recstack {__version__} reads "
            f"({FORMAT_VERSION}); upgrade recstack"
        )

"""The ``recstack.json`` manifest: format version, library version, configs, checksums.

An artifact directory::

    recstack.json           this manifest (format, versions, model/task config, file checksums)
    preprocessor.json       fitted feature state (vocabularies, normalizers, buckets)
    model.safetensors       model weights
    candidates.safetensors  candidate embeddings (C, d) [+ seen-item CSR]
    candidates.json         the candidates' raw IDs, and known query rows
    history.csv, .json      the training log, when the model was trained by an experiment
                            (for people and plots; not read by ``load``, not checksummed)

Everything is JSON or safetensors: no pickle, nothing executable.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from collections.abc import Sequence
from typing import Any

from recstack._version import __version__
from recstack.errors import ArtifactError

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "MANIFEST", "write_manifest", "read_manifest", "sha256_file"]

FORMAT_NAME = "recstack.artifact"
FORMAT_VERSION = 1
MANIFEST = "recstack.json"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_manifest(directory: Path, body: dict[str, Any], files: list[str]) -> None:
    """Writes ``recstack.json`` with the checksums of ``files`` (already in ``directory``)."""
    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "library_version": __version__,
        **body,
        "files": {f: sha256_file(directory / f) for f in files},
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))


def read_manifest(
    directory: str | Path, *, verify: bool = True, required: Sequence[str] = ()
) -> dict[str, Any]:
    """Reads and checks the manifest: format, version, every file present and intact.

    ``required`` names files that must carry a checksum in the manifest: without it a
    manifest with an entry removed would let a corrupted file load unverified.
    """
    d = Path(directory)
    if not d.is_dir():
        raise ArtifactError(f"{str(d)!r} is not a directory; pass the folder written by save()/`recstack train -o`")
    path = d / MANIFEST
    if not path.is_file():
        raise ArtifactError(f"{d} has no {MANIFEST}: not a recstack model directory (or an incomplete copy)")
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ArtifactError(f"{path} is corrupted (not valid JSON: {err}); re-export the model") from None
    if not isinstance(manifest, dict):
        raise ArtifactError(f"{path} is not a recstack manifest (a JSON {type(manifest).__name__}, not an object)")
    if manifest.get("format") != FORMAT_NAME:
        raise ArtifactError(f"{path} is not a recstack manifest (format {manifest.get('format')!r})")
    _check_version(path, manifest.get("format_version"))
    files = manifest.get("files")
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        raise ArtifactError(f"{path}: 'files' must map file names to sha256 checksums; re-export the model")
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
                raise ArtifactError(f"{d} is missing {name}; copy the whole model directory")
            if sha256_file(f) != digest:
                raise ArtifactError(f"{f} is corrupted (checksum mismatch); re-copy or re-export the model")
    return manifest


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

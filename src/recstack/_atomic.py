"""Durable, all-or-nothing writes of folders and small files (checkpoints, saved models).

A folder is written under a temporary name, flushed to disk (``fsync`` of every file and of
the folder), and renamed into place; the parent folder is flushed so the rename itself
survives a power cut. A folder being replaced is moved aside first and deleted only after
the new one is in place: ``final`` is absent only between two renames, never while files
are being written.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

__all__ = ["replace_dir", "write_text"]


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:  # some filesystems refuse fsync on folders; the data is flushed anyway
        pass
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    """Flushes every file and folder under ``root``, giving files the usual mode
    (``0o666`` minus the umask): safetensors writes its files ``0o600``, which would keep
    other accounts (a serving user) from loading a model whose JSON files they can read."""
    mode = _usual_file_mode(root)
    for folder, _, files in os.walk(root):
        for name in files:
            os.chmod(Path(folder) / name, mode)
            _fsync(Path(folder) / name)
        _fsync(Path(folder))


def _usual_file_mode(folder: Path) -> int:
    """The mode a new file gets here (``0o666`` minus the umask), read from a probe file:
    ``os.umask`` can only be read by setting it, which races with other threads."""
    probe = folder / ".mode-probe"
    fd = os.open(probe, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o666)
    try:
        return os.fstat(fd).st_mode & 0o777
    finally:
        os.close(fd)
        probe.unlink()


def replace_dir(tmp: Path, final: Path) -> None:
    """Renames the finished folder ``tmp`` to ``final``, replacing any folder there."""
    _fsync_tree(tmp)
    old = final.with_name(f".{final.name}.old")
    if final.exists():
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
    os.replace(tmp, final)
    _fsync(final.parent)
    shutil.rmtree(old, ignore_errors=True)


def write_text(path: Path, text: str) -> None:
    """Writes a small text file so that readers see the old or the new content, never a part."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as f:  # the text verbatim (CSV has \r\n)
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync(path.parent)

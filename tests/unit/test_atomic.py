"""Checkpoints and saved models are flushed to disk before they are renamed into place."""

from __future__ import annotations

import os

import torch
from safetensors.torch import save_file

from recstack._atomic import replace_dir, write_text


def test_replace_dir_flushes_every_file_and_folder_and_replaces_the_old_one(tmp_path, monkeypatch):
    final = tmp_path / "model"
    final.mkdir()
    (final / "old.txt").write_text("old")
    tmp = tmp_path / ".model.tmp"
    (tmp / "sub").mkdir(parents=True)
    (tmp / "a.bin").write_bytes(b"a")
    (tmp / "sub" / "b.bin").write_bytes(b"b")
    synced: list[str] = []
    real = os.fsync

    def spy(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    replace_dir(tmp, final)
    assert sorted(p.name for p in final.rglob("*")) == ["a.bin", "b.bin", "sub"]
    assert sorted(os.listdir(tmp_path)) == ["model"]  # no temporary or moved-aside folder left
    names = {os.path.basename(p) for p in synced}
    assert {"a.bin", "b.bin", "sub", ".model.tmp"} <= names  # files and folders, before the rename
    assert str(tmp_path) in synced  # the parent, after it: the rename itself is durable


def test_write_text_replaces_the_content_verbatim_and_leaves_no_temporary_file(tmp_path):
    p = tmp_path / "history.csv"
    write_text(p, "a,b\r\n1,2\r\n")
    write_text(p, "a,b\r\n3,4\r\n")
    assert p.read_bytes() == b"a,b\r\n3,4\r\n"
    assert os.listdir(tmp_path) == ["history.csv"]


def test_replaced_folders_get_the_usual_file_mode(tmp_path):
    tmp = tmp_path / ".m.tmp"
    tmp.mkdir()
    save_file({"w": torch.zeros(2)}, str(tmp / "model.safetensors"))  # safetensors writes 0o600
    (tmp / "recstack.json").write_text("{}")
    old = os.umask(0o022)
    try:
        replace_dir(tmp, tmp_path / "m")
    finally:
        os.umask(old)
    modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "m").iterdir()}
    assert modes == {"model.safetensors": 0o644, "recstack.json": 0o644}

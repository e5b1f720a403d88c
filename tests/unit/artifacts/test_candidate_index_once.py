"""Loading a model checks and canonicalises its catalogue's IDs once: the index load builds (its
own check, re-worded to name candidates.json) is the one the Recommender looks candidates up in."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import recstack
import recstack.preprocessing.keys as keys
from recstack.artifacts.manifest import DIGEST, manifest_digest
from recstack.artifacts.recommender import Recommender
from recstack.errors import ArtifactError


def test_the_catalogue_ids_are_canonicalised_once_at_load(trained, monkeypatch):
    _, d = trained
    ids = json.loads((d / "candidates.json").read_text())["ids"]
    seen: list[int] = []
    real = keys.canonical_keys

    def counted(values: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(values, str) and len(values) == len(ids) and list(values) == ids:
            seen.append(1)
        return real(values, *args, **kwargs)

    monkeypatch.setattr(keys, "canonical_keys", counted)
    for module in ("recstack.artifacts.io", "recstack.preprocessing._cells"):  # any other spelling of it
        monkeypatch.setattr(f"{module}.canonical_keys", counted, raising=False)
    rec = recstack.load(d)
    assert len(seen) == 1
    assert rec.is_candidate([ids[0], str(ids[1]), float(ids[2]), "no such item"]).tolist() == [True] * 3 + [False]


def test_a_recommender_built_without_an_index_builds_its_own(trained):
    exp, _ = trained
    rec = exp.recommender()
    bare = Recommender(model=rec.model, preprocessor=rec.preprocessor, candidate_ids=rec.candidate_ids,
                       candidate_embeddings=rec.index.embeddings, query_column=rec.query_column)
    assert bare.is_candidate(rec.candidate_ids[:3]).tolist() == [True] * 3


def _with_ids(d: Path, tmp_path: Path, change: Any) -> Path:
    """A copy of the model whose candidates.json ``ids`` list is edited by ``change``, with its
    checksum (and the manifest's digest) updated: damage left to the parsers."""
    bad = tmp_path / "bad"
    shutil.copytree(d, bad)
    meta = json.loads((bad / "candidates.json").read_text())
    change(meta["ids"])
    (bad / "candidates.json").write_text(json.dumps(meta))
    manifest = json.loads((bad / "recstack.json").read_text())
    manifest["files"]["candidates.json"] = hashlib.sha256((bad / "candidates.json").read_bytes()).hexdigest()
    manifest[DIGEST] = manifest_digest(manifest)
    (bad / "recstack.json").write_text(json.dumps(manifest))
    return bad


@pytest.mark.parametrize("first", [[1], {"a": 1}], ids=["list", "dict"])
def test_an_id_that_is_no_id_is_named_as_the_file_malformed(trained, tmp_path, first):
    bad = _with_ids(trained[1], tmp_path, lambda ids: ids.__setitem__(0, first))
    with pytest.raises(ArtifactError, match=r"candidates\.json is malformed or truncated .*re-copy or re-export"):
        recstack.load(bad)


def test_a_missing_and_a_repeated_id_name_the_missing_one_first(trained, tmp_path):
    """As before the index was the check: a catalogue with both is refused for the missing ID."""
    def change(ids: list[Any]) -> None:
        ids[1], ids[4] = float(ids[0]), None

    with pytest.raises(ArtifactError, match=r"candidates\.json: candidate row 4 has no ID \(None\); the file was edited"):
        recstack.load(_with_ids(trained[1], tmp_path, change))


def test_an_experiments_recommender_uses_the_catalogues_index(trained):
    """``exp.recommender()`` looks candidates up in the index the catalogue already built."""
    exp, _ = trained
    rec = exp.recommender()
    assert rec._cand_pos is exp.catalogue.index
    ids = exp.catalogue.ids
    assert rec.is_candidate([ids[0], str(ids[1]), "no such item"]).tolist() == [True, True, False]

"""Saving and loading a model folder: round trips, paths, corrupt, tampered and old files."""

import json

import numpy as np
import pytest
import torch

import recstack
from recstack.errors import ArtifactError
from recstack.experiment import RetrievalExperiment
from tests.conftest import small_config


def test_save_load_identical(trained):
    exp, d = trained
    rec = recstack.load(d)
    mem = exp.recommender()
    users = [1, "2", 3]
    assert rec.recommend(users, k=5).equals(mem.recommend(users, k=5))
    assert torch.equal(rec.index.embeddings, mem.index.embeddings)
    cols = ["rank", "item_id", "score"]
    assert rec.recommend([1], k=5)[cols].equals(rec.recommend(["1"], k=5)[cols])
    assert sorted(p.name for p in d.iterdir()) == [  # JSON and safetensors, and the training log
        "candidates.json", "candidates.safetensors", "history.csv", "history.json", "model.safetensors",
        "preprocessor.json", "recstack.json"]


def test_corruption_and_version_errors(trained, tmp_path):
    import shutil

    _, d = trained
    bad = tmp_path / "bad"
    shutil.copytree(d, bad)
    w = bad / "model.safetensors"
    data = bytearray(w.read_bytes())
    data[-3] ^= 0xFF
    w.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="checksum"):
        recstack.load(bad)
    w.unlink()
    with pytest.raises(ArtifactError, match="missing model.safetensors"):
        recstack.load(bad)
    shutil.rmtree(bad)
    shutil.copytree(d, bad)
    m = json.loads((bad / "recstack.json").read_text())
    m["format_version"] = 99
    (bad / "recstack.json").write_text(json.dumps(m))
    with pytest.raises(ArtifactError, match="upgrade"):
        recstack.load(bad)
    with pytest.raises(ArtifactError, match="not a directory"):
        recstack.load(tmp_path / "nothing")


def test_candidate_bias_round_trips_and_stays_out_of_item_similarity(tmp_path):
    exp = RetrievalExperiment(small_config(**{"train.epochs": 2, "model.candidate_bias": True}))
    exp.fit()
    rec = recstack.load(exp.save(tmp_path / "m"))
    users = [1, 2, 3]
    assert rec.recommend(users, k=5).equals(exp.recommender().recommend(users, k=5))
    assert rec.index.embeddings.shape[1] == 8 + 1
    # scores are [q, 1] . [c, b]: the bias column is the learned per-item bias
    items = rec.candidate_ids
    bias = exp.model.bias.weight[exp.catalogue.features["item_id"], 0].detach()
    assert torch.allclose(rec.index.embeddings[:, -1], bias)
    top = rec.similar(items[0], k=3)
    emb = rec.index.embeddings[:, :-1]
    expected = emb[1:] @ emb[0]
    assert top.score.tolist() == pytest.approx(expected.topk(3).values.tolist(), rel=1e-5)


def test_save_paths_nullable_values_and_malformed_but_checksummed_files(trained, tmp_path, monkeypatch):
    import shutil

    import pandas as pd

    exp, d = trained
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ArtifactError, match="is a file"):
        exp.save(tmp_path / "afile")
    assert not list(tmp_path.glob(".afile*"))
    monkeypatch.chdir(tmp_path / "..")
    out = exp.save(tmp_path.name + "/dot/.")  # "." resolves to a named folder
    assert out.name == "dot" and (out / "recstack.json").exists()
    from recstack.artifacts.query_rows import jsonable

    assert jsonable(pd.NA) is None and jsonable(np.bool_(True)) is True

    def tamper(name, meta):
        bad = tmp_path / name
        shutil.copytree(d, bad)
        (bad / "candidates.json").write_text(json.dumps(meta))
        rechecksum(bad, "candidates.json")
        return bad

    meta = json.loads((d / "candidates.json").read_text())
    assert len(recstack.load(tamper("same", meta)).candidate_ids) == len(meta["ids"])  # the re-checksum works
    cases = {"no_ids": {k: v for k, v in meta.items() if k != "ids"}, "a_list": [1, 2],
             "dup_ids": {**meta, "ids": [meta["ids"][0]] * len(meta["ids"])},
             "bad_rows": {**meta, "known_queries": {"columns": meta["known_queries"]["columns"], "rows": [[1]]}},
             "no_rows": {**meta, "known_queries": {"columns": ["user_id"]}},
             "short_column": {**meta, "known_queries": {**meta["known_queries"], "data": {
                 c: v[:1] for c, v in meta["known_queries"]["data"].items()}}},
             "no_tensor": {**meta, "known_queries": {**meta["known_queries"], "lists": ["user_id", "history"],
                                                     "columns": ["user_id", "history"]}}}
    for name, m in cases.items():
        with pytest.raises(ArtifactError, match="malformed|twice|needs an object|query_column") as err:
            recstack.load(tamper(name, m))
        assert "checksum" not in str(err.value), name
        assert str(err.value).count("re-export the model") == 1, name  # one message, not wrapped twice


def test_a_model_saved_with_a_missing_known_user_still_loads_and_serves(trained):
    """Artifacts written before IDs were checked could hold a user row without an ID."""
    import pandas as pd

    from recstack.artifacts.recommender import Recommender

    exp, _ = trained
    rec = exp.recommender()
    known = pd.concat([rec.known_queries, rec.known_queries.iloc[:1].assign(user_id=None)], ignore_index=True)
    offsets, items = rec.seen
    seen = (torch.cat([offsets, offsets[-1:]]), items)
    old = Recommender(model=rec.model, preprocessor=rec.preprocessor, candidate_ids=rec.candidate_ids,
                      candidate_embeddings=rec.index.embeddings, query_column="user_id", known_queries=known,
                      seen=seen)
    assert old.recommend([3], k=5, exclude="seen").equals(rec.recommend([3], k=5, exclude="seen"))
    assert old.is_known([3, None]).tolist() == [True, False]


def rechecksum(bad, name):
    import hashlib

    from recstack.artifacts.manifest import DIGEST, manifest_digest

    manifest = json.loads((bad / "recstack.json").read_text())
    manifest["files"][name] = hashlib.sha256((bad / name).read_bytes()).hexdigest()
    manifest[DIGEST] = manifest_digest(manifest)  # the manifest's own checksum, updated too
    (bad / "recstack.json").write_text(json.dumps(manifest))


def test_re_checksummed_edits_name_the_problem_once(trained, tmp_path):
    import shutil

    from safetensors.torch import load_file, save_file

    _, d = trained
    # integer weights would be cast on load (bit patterns as numbers): refused by dtype
    bad = tmp_path / "int_weights"
    shutil.copytree(d, bad)
    w = load_file(str(bad / "model.safetensors"))
    save_file({k: v.view(torch.int32) if v.dtype == torch.float32 else v for k, v in w.items()},
              str(bad / "model.safetensors"))
    rechecksum(bad, "model.safetensors")
    with pytest.raises(ArtifactError, match=r"stores .* as I32, the model needs torch.float32"):
        recstack.load(bad)
    # an ArtifactError from the candidate checks is not wrapped in a second "malformed" message
    # (the candidate checks' own errors are not wrapped in a second "malformed" message: see
    # test_save_paths_nullable_values_and_malformed_but_checksummed_files)

"""A saved model loads whole or not at all: the manifest is checksummed too, the files it names
stay inside the folder, a damaged file is named, and a folder replaced while loading is never
read half old, half new."""

import hashlib
import json
import re
import shutil

import pytest
import torch

import recstack
from recstack.artifacts.manifest import DIGEST, manifest_digest, read_manifest, write_manifest
from recstack.errors import ArtifactError
from recstack.experiment import RetrievalExperiment
from tests.conftest import small_config


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    exp = RetrievalExperiment(small_config(**{"train.epochs": 1}))
    exp.fit()
    return exp.save(tmp_path_factory.mktemp("integrity") / "model", metrics=exp.evaluate())


@pytest.fixture
def copy(saved, tmp_path):
    d = tmp_path / "copy"
    shutil.copytree(saved, d)
    return d


def edit_manifest(d, change, *, reseal=False):
    """Edits ``recstack.json`` in place; ``reseal`` recomputes its digest, as a tool that knows the
    format would (the checks after the digest must hold on their own)."""
    m = json.loads((d / "recstack.json").read_text())
    change(m)
    if reseal:
        m[DIGEST] = manifest_digest(m)
    (d / "recstack.json").write_text(json.dumps(m))


def rewrite(d, name, data):
    """Replaces a data file and updates its checksum (and the manifest's digest): damage that the
    checksums cannot see, left to the parsers."""
    (d / name).write_bytes(data)
    edit_manifest(d, lambda m: m["files"].update({name: hashlib.sha256(data).hexdigest()}), reseal=True)


# --------------------------------------------------------------------------- the manifest's digest
def _reverse_query(m):
    m["model"]["config"]["query"].reverse()


@pytest.mark.parametrize("change", [
    _reverse_query,  # same shapes, the query tower's inputs in another order
    lambda m: m["model"]["config"].update(normalize=True),
    lambda m: m["model"]["config"].update(dropout=0.5),
    lambda m: m.update(query_column="history"),  # a stored column, but not the users' IDs
    lambda m: m["experiment"]["eval"].update(metrics=["mrr"]),
    lambda m: m.update(library_version="9.9.9"),
], ids=["query-order", "normalize", "dropout", "query-column", "experiment", "library-version"])
def test_an_edited_manifest_is_refused_naming_it(copy, change):
    edit_manifest(copy, change)
    with pytest.raises(ArtifactError, match=r"recstack\.json was edited after the model was saved .*re-export"):
        recstack.load(copy)


def test_the_digest_covers_everything_but_itself(copy):
    m = json.loads((copy / "recstack.json").read_text())
    assert m[DIGEST] == manifest_digest(m) == manifest_digest({**m, DIGEST: "anything"})
    body = json.dumps({k: v for k, v in m.items() if k != DIGEST}, sort_keys=True, separators=(",", ":"))
    assert m[DIGEST] == hashlib.sha256(body.encode()).hexdigest()
    edit_manifest(copy, lambda m: m.update({DIGEST: "0" * 64}))  # the digest alone edited
    with pytest.raises(ArtifactError, match=r"recstack\.json was edited"):
        recstack.load(copy)


def as_format_1(m):
    """A manifest as written before the digest existed (format 1)."""
    m.pop(DIGEST)
    m["format_version"] = 1


def format_1_rows(d):
    """candidates.json with its stored query rows row by row, as format 1 wrote them."""
    from safetensors.torch import load_file

    from recstack.artifacts.query_rows import decode_rows, jsonable

    meta = json.loads((d / "candidates.json").read_text())
    rows = decode_rows(meta["known_queries"], load_file(str(d / "candidates.safetensors")), "known_queries")
    meta["known_queries"] = {"columns": list(rows.columns),
                             "rows": [[jsonable(list(v) if hasattr(v, "__len__") and not isinstance(v, str) else v)
                                       for v in row] for row in rows.itertuples(index=False)]}
    meta.pop("side_queries", None)
    return json.dumps(meta).encode()


def test_a_format_1_manifest_without_a_digest_still_loads_and_a_format_2_one_does_not(saved, copy):
    """Format-1 artifacts written before the digest existed have none (see tests/golden);
    every format-2 manifest is written with one, so one without it was edited."""
    edit_manifest(copy, lambda m: m.pop(DIGEST))
    with pytest.raises(ArtifactError, match="has no manifest_sha256, which every format-2 manifest is saved with"):
        recstack.load(copy)
    edit_manifest(copy, lambda m: m.update(format_version=1))
    with pytest.raises(ArtifactError, match="says format 1, but candidates.json is laid out as format 2"):
        recstack.load(copy)  # relabelled, not written by format 1
    rewrite(copy, "candidates.json", format_1_rows(copy))
    edit_manifest(copy, as_format_1)
    old, new = recstack.load(copy), recstack.load(saved)
    assert old.recommend([1, 2], k=5).equals(new.recommend([1, 2], k=5))
    # the digest is not a lock: a format-1 manifest may still be edited, with the old checks only
    edit_manifest(copy, lambda m: m["model"]["config"].update(embedding_dim=4))
    with pytest.raises(ArtifactError, match=r"does not match model\.safetensors"):
        recstack.load(copy)


def test_the_digest_is_of_what_a_reader_parses(tmp_path):
    """Tuples and non-string keys come back from JSON as lists and strings: the digest matches."""
    write_manifest(tmp_path, {"extra": {"pair": (1, 2), "by_k": {10: 0.5, 9: float("nan")}}}, [])
    m = read_manifest(tmp_path)
    assert m["extra"]["pair"] == [1, 2] and sorted(m["extra"]["by_k"]) == ["10", "9"]


# --------------------------------------------------------------------------- file names in the manifest
@pytest.mark.parametrize("name", ["/etc/passwd", "../outside.txt", "sub/model.safetensors", "..", ".",
                                  "..\\outside.txt", "C:outside.txt", ""])
def test_files_outside_the_folder_are_never_read(copy, name):
    outside = copy.parent / "outside.txt"
    outside.write_text("a local file the model's author should learn nothing about")
    digest = hashlib.sha256(outside.read_bytes()).hexdigest()
    # with the right checksum, an entry pointing at a local file would load: an existence/hash oracle
    edit_manifest(copy, lambda m: m["files"].update({name: digest}), reseal=True)
    with pytest.raises(ArtifactError, match=rf"recstack\.json: 'files' lists {re.escape(repr(name))}, "
                                            "which is not a file name in the model folder"):
        recstack.load(copy)


def test_a_plain_extra_entry_is_still_checked_inside_the_folder(copy):
    (copy / "notes.txt").write_text("x")
    edit_manifest(copy, lambda m: m["files"].update({"notes.txt": "0" * 64}), reseal=True)
    with pytest.raises(ArtifactError, match=r"notes\.txt is corrupted \(checksum mismatch\)"):
        recstack.load(copy)


# --------------------------------------------------------------------------- damaged files are named
@pytest.mark.parametrize("name", ["preprocessor.json", "model.safetensors", "candidates.safetensors",
                                  "candidates.json"])
def test_a_truncated_file_with_a_matching_checksum_is_named(copy, name):
    data = (copy / name).read_bytes()
    rewrite(copy, name, data[: len(data) // 2])
    with pytest.raises(ArtifactError, match=rf"{re.escape(name)} is malformed or truncated \(.*re-copy or re-export"):
        recstack.load(copy)


@pytest.mark.parametrize(("name", "content", "message"), [
    ("preprocessor.json", b'{"state": {}}', r"preprocessor\.json is malformed .*expected a dict with format"),
    ("preprocessor.json", b"\xff\xfe{", r"preprocessor\.json is malformed"),
    ("candidates.json", b"[1, 2", r"candidates\.json is malformed"),
    ("candidates.json", lambda m: {**m, "known_queries": {"rows": [[1]], "columns": 5}},
     r"candidates\.json is malformed"),
    ("model.safetensors", b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ",
     r"recstack\.json does not match model\.safetensors .*one of them was edited"),
    ("candidates.safetensors", b"\x02\x00\x00\x00\x00\x00\x00\x00{}", r"candidates\.safetensors has no 'embeddings'"),
], ids=["pre-no-outputs", "pre-not-utf8", "cand-json-cut", "cand-json-columns", "model-empty", "cand-empty"])
def test_a_garbled_file_with_a_matching_checksum_is_named(copy, name, content, message):
    if callable(content):  # an edit of the JSON file as saved
        content = json.dumps(content(json.loads((copy / name).read_text()))).encode()
    rewrite(copy, name, content)
    with pytest.raises(ArtifactError, match=message):
        recstack.load(copy)


# --------------------------------------------------------------------------- candidate IDs
def _ids_edited(d, change):
    meta = json.loads((d / "candidates.json").read_text())
    change(meta["ids"])
    return json.dumps(meta).encode()


@pytest.mark.parametrize(("change", "message"), [
    (lambda ids: ids.__setitem__(1, float(ids[0])), r"lists candidate ID 1\.0 twice \(rows 0 and 1: 1 and 1\.0"),
    (lambda ids: ids.__setitem__(2, str(ids[0])), r"lists candidate ID '1' twice \(rows 0 and 2"),
    (lambda ids: ids.__setitem__(3, None), r"candidate row 3 has no ID \(None\)"),
], ids=["int-and-float", "int-and-str", "missing"])
def test_candidate_ids_are_checked_by_canonical_key(copy, change, message):
    assert json.loads((copy / "candidates.json").read_text())["ids"][0] == 1
    rewrite(copy, "candidates.json", _ids_edited(copy, change))
    with pytest.raises(ArtifactError, match=rf"candidates\.json: {message}.*re-export the model"):
        recstack.load(copy)


def test_an_old_artifact_with_a_repeated_candidate_still_loads_with_a_warning(copy, caplog):
    rewrite(copy, "candidates.json", format_1_rows(copy))
    rewrite(copy, "candidates.json", _ids_edited(copy, lambda ids: ids.__setitem__(1, 1.0)))
    edit_manifest(copy, as_format_1)  # written before the digest (and the ID checks)
    with caplog.at_level("WARNING", logger="recstack.artifacts.io"):
        rec = recstack.load(copy)
    assert "candidates.json: lists candidate ID 1.0 twice" in caplog.text and "loaded anyway" in caplog.text
    assert rec.is_candidate([1, 2]).tolist() == [True, False]  # row 1 (was 2) is now unreachable
    rewrite(copy, "candidates.json", _ids_edited(copy, lambda ids: ids.__setitem__(1, ids[0])))
    edit_manifest(copy, as_format_1)
    with pytest.raises(ArtifactError, match="twice"):  # an exact repeat was always refused
        recstack.load(copy)


# --------------------------------------------------------------------------- a folder replaced while loading
@pytest.fixture(scope="module")
def other(tmp_path_factory):
    """Another model of the same shapes (a mix of the two loads without error): other weights."""
    cfg = small_config(**{"train.epochs": 1, "train.seed": 8})
    exp = RetrievalExperiment(cfg)
    exp.fit()
    return exp.save(tmp_path_factory.mktemp("integrity") / "other")


def replace_with(live, src):
    """What `recstack train -o live` does when it finishes: a new folder renamed into place."""
    from recstack._atomic import replace_dir

    tmp = live.with_name(f".{live.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(src, tmp)
    replace_dir(tmp, live)


def assert_is(rec, d):
    """Every part of ``rec`` comes from the model in ``d``."""
    want = recstack.load(d)
    assert rec.metadata == want.metadata and rec.candidate_ids == want.candidate_ids
    assert rec.preprocessor.get_state() == want.preprocessor.get_state()
    assert torch.equal(rec.index.embeddings, want.index.embeddings)
    assert all(torch.equal(v, want.model.state_dict()[k]) for k, v in rec.model.state_dict().items())
    assert rec.known_queries.equals(want.known_queries)


def test_a_folder_replaced_after_the_checksums_is_read_again_whole(saved, other, copy, monkeypatch):
    import recstack.artifacts.io as io

    a, b = recstack.load(saved), recstack.load(other)
    assert a.metadata != b.metadata and not torch.equal(a.index.embeddings, b.index.embeddings)  # a mix shows
    real, calls = io.load_file, []

    def racing_load_file(path, *args, **kwargs):  # the save lands between the checks and the reads
        if not calls:
            replace_with(copy, other)
        calls.append(path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(io, "load_file", racing_load_file)
    rec = recstack.load(copy)
    assert_is(rec, other)
    assert len(calls) > 2  # the first pass was thrown away: the weights are read again


def test_a_folder_replaced_while_the_checksums_are_verified_is_read_again(other, copy, monkeypatch):
    import recstack.artifacts.manifest as manifest

    real, calls = manifest._check_version, []

    def racing_check(*args):  # the old manifest is read, the new files are hashed
        if not calls:
            replace_with(copy, other)
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(manifest, "_check_version", racing_check)
    assert_is(recstack.load(copy), other)  # not "model.safetensors is corrupted (checksum mismatch)"


def test_a_folder_absent_between_the_two_renames_is_read_again(saved, copy, monkeypatch):
    import recstack.artifacts.io as io

    real, calls = io.read_manifest, []

    def between_renames(d, **kwargs):
        if calls:
            return real(d, **kwargs)
        calls.append(1)
        aside = copy.with_name(".copy.old")
        copy.rename(aside)
        try:
            return real(d, **kwargs)  # "is not a directory"
        finally:
            aside.rename(copy)

    monkeypatch.setattr(io, "read_manifest", between_renames)
    assert_is(recstack.load(copy), saved)


def test_a_folder_that_keeps_changing_is_an_error_not_a_mix(saved, other, copy, monkeypatch):
    import recstack.artifacts.io as io

    real, calls = io.load_file, []

    def always_racing(path, *args, **kwargs):
        calls.append(path)
        replace_with(copy, other if len(calls) % 2 else saved)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(io, "load_file", always_racing)
    with pytest.raises(ArtifactError, match=r"copy: the model folder changed while loading .*retry the load"):
        recstack.load(copy)
    assert 2 <= len(calls) <= 4  # one retry, then the error


def test_an_unchanged_folder_is_read_once_and_errors_are_not_retried(copy, monkeypatch):
    import recstack.artifacts.manifest as manifest

    real, calls = manifest._sha256_stamped, []
    monkeypatch.setattr(manifest, "_sha256_stamped", lambda p: calls.append(p.name) or real(p))
    recstack.load(copy)
    assert sorted(calls) == ["candidates.json", "candidates.safetensors", "model.safetensors", "preprocessor.json"]
    calls.clear()
    (copy / "model.safetensors").write_bytes(b"x")
    with pytest.raises(ArtifactError, match="checksum mismatch"):
        recstack.load(copy)
    assert len(calls) <= 4  # a damaged file is not a changing folder: no second pass

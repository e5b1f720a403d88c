"""The golden artifact: a directory written by recstack 0.1.0 (format 1) must keep loading and
answering exactly as it did. ``make_golden.py`` wrote it once; never regenerate it to make
this test pass: a failure here means old models in the wild would break or change answers.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import torch
from safetensors.torch import load_file

import recstack
from recstack.artifacts import FORMAT_VERSION, read_manifest
from recstack.errors import ArtifactError

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "two_tower_v1"
EXPECTED = json.loads((HERE / "two_tower_v1_expected.json").read_text())
TOL = 1e-5
DATA_FILES = ["candidates.json", "candidates.safetensors", "model.safetensors", "preprocessor.json"]


@pytest.fixture(scope="module")
def rec() -> recstack.Recommender:
    return recstack.load(GOLDEN)


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    d = tmp_path / "model"
    shutil.copytree(GOLDEN, d)
    return d


def edit_manifest(d: Path, change: Any) -> None:
    m = json.loads((d / "recstack.json").read_text())
    (d / "recstack.json").write_text(json.dumps(change(m)))


def flip_byte(path: Path, pos: int) -> None:
    data = bytearray(path.read_bytes())
    data[pos] ^= 0x01
    path.write_bytes(bytes(data))


def contains(exported: Any, stored: Any) -> bool:
    """``stored`` (from disk) is reproduced by ``exported``; new keys in ``exported`` are fine."""
    if isinstance(stored, dict):
        return isinstance(exported, dict) and all(k in exported and contains(exported[k], v) for k, v in stored.items())
    if isinstance(stored, list):
        return isinstance(exported, list) and len(exported) == len(stored) and all(map(contains, exported, stored))
    if isinstance(stored, float) and isinstance(exported, float):
        return exported == stored or (math.isnan(exported) and math.isnan(stored))
    return exported == stored and type(exported) is type(stored)


# --------------------------------------------------------------------------- format
def test_directory_and_manifest_format_are_pinned():
    assert sorted(p.name for p in GOLDEN.iterdir()) == sorted(DATA_FILES + ["recstack.json"])
    m = read_manifest(GOLDEN)  # verifies every checksum
    assert m["format"] == "recstack.artifact"
    assert m["format_version"] == 1 == EXPECTED["written_by"]["format_version"]
    assert m["library_version"] == "0.1.0" == EXPECTED["written_by"]["library_version"]
    assert sorted(m["files"]) == DATA_FILES
    assert all(len(h) == 64 and int(h, 16) >= 0 for h in m["files"].values())
    assert m["query_column"] == "user_id"
    assert m["model"]["kind"] == "two_tower"
    assert FORMAT_VERSION >= 1, "this recstack must still read format 1"


def test_loaded_state_reproduces_what_is_on_disk(rec):
    manifest = json.loads((GOLDEN / "recstack.json").read_text())
    assert rec.metadata["format_version"] == 1
    assert contains(rec.model.get_config(), manifest["model"]["config"])
    stored = json.loads((GOLDEN / "preprocessor.json").read_text())
    assert contains(rec.preprocessor.get_state(), stored["state"])
    # fields added since v1 have defaults (num_oov: 0 when absent); every stored field is kept
    now = [o.to_dict() for o in rec.preprocessor.outputs]
    assert [{k: o[k] for k in s} for o, s in zip(now, stored["outputs"])] == stored["outputs"]
    assert len(now) == len(stored["outputs"]) and {k for o in now for k in o} - {k for s in stored["outputs"] for k in s} <= {"num_oov"}
    weights = load_file(str(GOLDEN / "model.safetensors"))
    state = rec.model.state_dict()
    assert sorted(state) == sorted(weights)
    for k, v in weights.items():
        assert torch.equal(state[k], v), k
    assert rec.candidate_ids == EXPECTED["candidate_ids"]
    assert list(rec.index.embeddings.shape) == EXPECTED["embedding_shape"] == [20, 4]
    assert float(rec.index.embeddings.double().sum()) == pytest.approx(EXPECTED["embedding_sum"], abs=TOL)


# --------------------------------------------------------------------------- answers
@pytest.mark.parametrize("exclude", [None, "seen"])
@pytest.mark.parametrize("user", ["1", "2", "7", "987654"])
def test_recommendations_match_the_stored_answers(rec, user, exclude):
    want = EXPECTED["recommend" if exclude is None else "recommend_exclude_seen"][user]
    query = int(user) if user != "2" else "2"  # IDs given as int and as str
    # the stored answers were made with the OOV embedding for the unknown user
    top = rec.recommend([query], k=EXPECTED["k"], exclude=exclude, cold_start="oov")
    assert top.columns.tolist() == ["user_id", "rank", "item_id", "score"]
    assert top["rank"].tolist() == [1, 2, 3, 4, 5]
    assert [int(i) for i in top.item_id] == want["item_id"]
    assert top.score.tolist() == pytest.approx(want["score"], abs=TOL)


def test_unknown_user_gets_the_average_known_query_by_default(rec):
    known = rec.known_queries
    users = known[rec.query_column].tolist()
    average = rec.queries.embed(rec.queries.fill_missing(known.reset_index(drop=True))).double().mean(0)
    scores = (rec.index.embeddings.double() @ average).float()
    want = torch.topk(scores, EXPECTED["k"]).indices.tolist()
    top = rec.recommend([987654], k=EXPECTED["k"])
    assert [rec.candidate_ids.index(i) for i in top.item_id] == want
    assert top.score.tolist() == pytest.approx(scores[want].tolist(), abs=TOL)
    pair = rec.score([987654], [top.item_id[0]])
    assert pair.score.tolist() == pytest.approx([top.score[0]], abs=TOL)
    as_row = rec.recommend(pd.DataFrame({"user_id": [987654]}), k=EXPECTED["k"])  # only the ID: cold too
    assert as_row.item_id.tolist() == top.item_id.tolist()
    with_age = pd.DataFrame({"user_id": [987654], "age": [30.0]})  # a feature given: through the model
    pd.testing.assert_frame_equal(rec.recommend(with_age, k=5), rec.recommend(with_age, k=5, cold_start="oov"))
    assert not rec.recommend(with_age, k=5).score.tolist() == pytest.approx(top.score.tolist(), abs=TOL)
    assert rec.recommend([987654], k=3, cold_start="oov").item_id.tolist() == EXPECTED["recommend"]["987654"]["item_id"][:3]
    assert rec.is_known(users).all() and not rec.is_known([987654]).any()
    with pytest.raises(recstack.errors.ConfigError, match="cold_start must be one of"):
        rec.recommend([1], cold_start="popular")


def test_cold_start_is_decided_per_row_and_without_known_users_falls_back_to_oov(rec, caplog):
    items = rec.candidate_ids[:4]
    alone = rec.score([{"user_id": 987654}], items).score.tolist()
    mixed = rec.score([{"user_id": 987654}, {"user_id": 987655, "age": 30.0}], items)
    assert mixed.score.tolist()[:4] == pytest.approx(alone, abs=TOL)  # a neighbour's age changes nothing
    no_history = pd.DataFrame({"user_id": [987654], "history": [None]})
    assert rec.score(no_history, items).score.tolist() == pytest.approx(alone, abs=TOL)
    # an empty history says nothing about an unknown user either: cold, as in experiment evaluation
    empty_history = pd.DataFrame({"user_id": [987654], "history": [[]]})
    assert rec.score(empty_history, items).score.tolist() == pytest.approx(alone, abs=TOL)
    some_history = pd.DataFrame({"user_id": [987654], "history": [[rec.candidate_ids[0]]]})
    assert rec.score(some_history, items).score.tolist() == pytest.approx(
        rec.score(some_history, items, cold_start="oov").score.tolist(), abs=TOL)  # given: through the model
    bare = recstack.Recommender(model=rec.model, preprocessor=rec.preprocessor, candidate_ids=rec.candidate_ids,
                                candidate_embeddings=rec.index.embeddings, query_column=rec.query_column)
    assert not bare.stores_known_users
    with caplog.at_level("WARNING", logger="recstack.artifacts.recommender"):
        top = bare.recommend([987654], k=3)
    assert "answered through the OOV embedding" in caplog.text
    assert top.item_id.tolist() == bare.recommend([987654], k=3, cold_start="oov").item_id.tolist()


def test_seen_exclusion_is_part_of_the_answer(rec):
    # the stored answer sets differ (user 1 saw a top item), so the stored answers can tell exclusion apart
    plain, excluded = EXPECTED["recommend"]["1"]["item_id"], EXPECTED["recommend_exclude_seen"]["1"]["item_id"]
    assert plain != excluded
    # and the loaded artifact drops exactly each known user's stored training items from its full
    # ranking, keeping the order: users 8 and 16 among them, whose training items go beyond their
    # stored histories (for users 1, 2 and 7 of the stored answers the history alone would do)
    assert rec.seen is not None
    offsets, rows = rec.seen
    users = rec.known_queries.user_id.tolist()
    n = len(rec.candidate_ids)
    ranking = rec.recommend(users, k=n, cold_start="oov")
    kept = rec.recommend(users, k=n, exclude="seen", cold_start="oov")
    for i, user in enumerate(users):
        seen = {rec.candidate_ids[r] for r in rows[offsets[i]:offsets[i + 1]].tolist()}
        full = [int(x) for x in ranking.item_id[ranking.user_id == user]]
        assert [int(x) for x in kept.item_id[kept.user_id == user]] == [x for x in full if x not in seen], user
        if user == 1:
            assert seen & set(plain) and [x for x in full if x not in seen][:EXPECTED["k"]] == excluded
    assert {8, 16} <= set(users)
    # the stored lists themselves, against the generator's training rows (not the loaded CSR):
    # a seen list cut down to the history would pass the loop above
    from recstack.data import load_dataset
    from tests.golden.make_golden import CONFIG

    train = load_dataset("synthetic", **CONFIG["data"]["dataset_options"]).train
    for user in (8, 16):
        i = users.index(user)
        stored = sorted(rec.candidate_ids[r] for r in rows[offsets[i]:offsets[i + 1]].tolist())
        assert stored == sorted(set(train.item_id[train.user_id == user])), user
        assert set(stored) - set(rec.known_queries.history.iloc[i]), user  # beyond the history


def test_raw_row_queries_match(rec):
    want = EXPECTED["recommend_rows"]
    top = rec.recommend(want["rows"], k=EXPECTED["k"])
    assert [int(i) for i in top.item_id] == want["item_id"]
    assert top.score.tolist() == pytest.approx(want["score"], abs=TOL)


def test_pair_scores_match_and_unknown_items_are_nan(rec):
    want = EXPECTED["score"]
    got = rec.score(want["users"], want["items"])
    assert [int(i) for i in got.item_id] == want["items"] * len(want["users"])
    for g, w in zip(got.score.tolist(), want["score"]):
        if w is None:
            assert math.isnan(g)
        else:
            assert g == pytest.approx(w, abs=TOL)


def test_similar_items_match(rec):
    want = EXPECTED["similar"]
    got = rec.similar(want["item"], k=EXPECTED["k"])
    assert [int(i) for i in got.item_id] == want["item_id"]
    assert got.score.tolist() == pytest.approx(want["score"], abs=TOL)


def test_raw_ids_encode_to_the_same_indices(rec):
    want = EXPECTED["encode_item_id"]
    assert rec.preprocessor.encode("item_id", want["raw"])["item_id"].tolist() == want["index"]


# --------------------------------------------------------------------------- strict loading
@pytest.mark.parametrize("pos", [0, 9, 2000, -1], ids=["length", "header", "data", "last"])
def test_one_flipped_byte_in_the_weights_is_an_artifact_error(copy, pos):
    flip_byte(copy / "model.safetensors", pos)
    with pytest.raises(ArtifactError, match=r"model\.safetensors is corrupted \(checksum mismatch\); re-copy"):
        recstack.load(copy)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: {**m, "format_version": FORMAT_VERSION + 1},
         r"uses artifact format \d+, newer than .*upgrade recstack"),
        (lambda m: {**m, "format": "something.else"}, r"not a recstack manifest \(format 'something\.else'\)"),
        (lambda m: {**m, "files": {**m["files"], "preprocessor.json": "0" * 64}},
         r"preprocessor\.json is corrupted \(checksum mismatch\)"),
        (lambda m: {**m, "files": {**m["files"], "extra.bin": "0" * 64}}, r"is missing extra\.bin; copy the whole"),
        (lambda m: {**m, "model": {**m["model"], "kind": "two_towers"}},
         r"cannot load the model .*unknown model kind 'two_towers' at model\.kind; known: .*two_tower"),
        (lambda m: {**m, "model": {**m["model"], "config": {**m["model"]["config"], "embedding_dim": 8}}},
         r"the model config in recstack\.json does not match model\.safetensors .*re-export"),
        (lambda m: {**m, "model": {**m["model"], "config": {**m["model"]["config"], "layerz": [4]}}},
         r"cannot load the model .*model\.layerz: unknown key"),
        (lambda m: {k: v for k, v in m.items() if k != "model"}, r"cannot load the model .*KeyError: 'model'"),
        # 10**9 x 10**6 floats would be petabytes: checked on the meta device, never allocated
        (lambda m: {**m, "model": {**m["model"], "config": {**m["model"]["config"], "embedding_dim": 10**6}}},
         r"does not match model\.safetensors"),
    ],
    ids=["newer-version", "format-name", "checksum", "missing-file", "model-kind", "config-shape",
         "unknown-config-key", "no-model", "huge-config"],
)
def test_an_altered_manifest_is_an_artifact_error(copy, change, message):
    edit_manifest(copy, change)
    with pytest.raises(ArtifactError, match=message):
        recstack.load(copy)


def test_unreadable_or_missing_manifest(copy):
    (copy / "recstack.json").write_text('{"format": "recstack.artifact", ')
    with pytest.raises(ArtifactError, match=r"recstack\.json is corrupted \(not valid JSON"):
        recstack.load(copy)
    (copy / "recstack.json").unlink()
    with pytest.raises(ArtifactError, match=r"has no recstack\.json: not a recstack model directory"):
        recstack.load(copy)


def test_the_golden_copy_itself_is_untouched_by_the_corruption_tests():
    read_manifest(GOLDEN)  # checksums still match after the tests above edited copies


# --------------------------------------------------------------------------- hand-edited manifests
def test_a_dropped_checksum_entry_does_not_hide_corruption(copy):
    edit_manifest(copy, lambda m: {**m, "files": {k: v for k, v in m["files"].items() if k != "model.safetensors"}})
    flip_byte(copy / "model.safetensors", -1)
    with pytest.raises(ArtifactError, match="no checksum for model.safetensors"):
        recstack.load(copy)


def test_a_format_version_that_never_existed_is_rejected(copy):
    edit_manifest(copy, lambda m: {**m, "format_version": 0})
    with pytest.raises(ArtifactError, match="format 0 never existed"):
        recstack.load(copy)


@pytest.mark.parametrize("version", [True, "1", 1.0, None])
def test_a_format_version_that_is_not_an_integer_is_rejected_without_an_upgrade_hint(copy, version):
    edit_manifest(copy, lambda m: {**m, "format_version": version})
    with pytest.raises(ArtifactError, match="format_version must be an integer") as err:
        recstack.load(copy)
    assert "upgrade" not in str(err.value)


def test_a_files_entry_that_is_not_a_checksum_map_is_rejected(copy):
    edit_manifest(copy, lambda m: {**m, "files": ["model.safetensors"]})
    with pytest.raises(ArtifactError, match="'files' must map file names"):
        recstack.load(copy)


def test_a_manifest_that_is_not_an_object_is_an_artifact_error(copy):
    edit_manifest(copy, lambda m: [m])
    with pytest.raises(ArtifactError, match="not a recstack manifest"):
        recstack.load(copy)


def test_an_unknown_query_column_is_an_artifact_error(copy):
    edit_manifest(copy, lambda m: {**m, "query_column": "viewer"})
    with pytest.raises(ArtifactError, match="viewer"):
        recstack.load(copy)

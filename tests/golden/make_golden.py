"""Writes the golden artifact ``two_tower_v1/`` and the answers it must keep giving.

Run once, from the repository root, and commit the output::

    .venv/bin/python tests/golden/make_golden.py

Do NOT re-run it to make ``test_golden.py`` pass again: the point of the golden artifact is
that a directory written by an old recstack keeps loading and answering the same way. A
change to the artifact format adds a NEW folder (``two_tower_v2/``) next to this one and
keeps the old test.

The model is tiny on purpose (30 users, 20 items, 4-dim embeddings, 2 epochs on CPU) but
uses every feature type the preprocessor saves: categorical IDs, numeric values with
buckets, a multi-hot set, a text field and a history sequence sharing the item vocabulary.
Training is seeded; only the timing fields of the manifest's ``history`` vary between runs.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
from pathlib import Path

import recstack

HERE = Path(__file__).resolve().parent
ARTIFACT = HERE / "two_tower_v1"
EXPECTED = HERE / "two_tower_v1_expected.json"

CONFIG = {
    "data": {
        "dataset": "synthetic",
        "dataset_options": {"num_users": 30, "num_items": 20, "num_interactions": 240, "num_topics": 4, "seed": 3},
        "history": {"max_length": 5},
        "defaults": {"age": 30, "country": "unknown"},  # what a user never seen in training gets
    },
    "features": {
        "user_id": {"type": "categorical"},
        "age": {"type": "numeric", "normalize": True, "buckets": 3},
        "country": {"type": "categorical", "num_oov": 2},
        "history": {"type": "sequence", "source": "item_id", "max_length": 5},
        "item_id": {"type": "categorical"},
        "genres": {"type": "multi_hot", "separator": "|"},
        "title": {"type": "text", "split": "\\s+", "max_length": 3},
        "price": {"type": "numeric", "log": True, "normalize": True},
    },
    "model": {
        "kind": "two_tower",
        "query": ["user_id", "age", "country", "history"],
        "candidate": ["item_id", "genres", "title", "price"],
        "embedding_dim": 4,
        "layers": [8, 4],
    },
    "task": {"kind": "retrieval", "temperature": 0.5, "logq_correction": True},
    "train": {"optimizer": "adagrad", "lr": 0.1, "batch_size": 64, "epochs": 2, "seed": 12,
              "progress": False, "checkpoint_every": 0},
    "eval": {"metrics": ["hit_rate@5", "recall@5", "ndcg@5", "mrr"], "exclude_seen": False},
}

USERS = [1, "2", 7, 987654]  # int and str IDs of known users, and a user never seen in training
# raw query rows: every query feature given by value (numbers, strings, a history list)
ROWS = [
    {"user_id": 5, "age": 52.5, "country": "JP", "history": [3, 3, 12]},
    {"user_id": "new", "age": 61, "country": "nowhere", "history": []},
]
K = 5
MIN_GAP = 1e-3  # neighbouring top-K scores this far apart, so a 1e-5 tolerance cannot reorder them


def _check_gaps(scores: list[float], what: str) -> None:
    gaps = [a - b for a, b in zip(scores, scores[1:])]
    if gaps and min(gaps) < MIN_GAP:
        sys.exit(f"{what}: two top-{K} scores are {min(gaps):.2e} apart; pick another seed")


def expected_answers(rec: recstack.Recommender) -> dict:
    """Everything test_golden.py compares, from the artifact loaded back from disk."""
    out: dict = {"k": K, "recommend": {}, "recommend_exclude_seen": {}}
    for user in USERS:
        for key, exclude in (("recommend", None), ("recommend_exclude_seen", "seen")):
            top = rec.recommend([user], k=K, exclude=exclude, cold_start="oov")
            _check_gaps(top.score.tolist(), f"user {user!r} ({key})")
            out[key][str(user)] = {"item_id": [int(i) for i in top.item_id], "score": top.score.tolist()}
    rows = rec.recommend(ROWS, k=K)
    out["recommend_rows"] = {"rows": ROWS, "item_id": [int(i) for i in rows.item_id], "score": rows.score.tolist()}
    for r in ROWS:
        _check_gaps(rows[rows.user_id == r["user_id"]].score.tolist(), f"row {r}")
    items = [int(i) for i in out["recommend"]["1"]["item_id"][:2]] + [int(rec.candidate_ids[-1]), 10**9]
    pairs = rec.score([1, 7], items)
    out["score"] = {
        "users": [1, 7],
        "items": items,
        "score": [None if math.isnan(s) else s for s in pairs.score.tolist()],
    }
    anchor = int(rec.candidate_ids[0])
    sim = rec.similar(anchor, k=K)
    _check_gaps(sim.score.tolist(), f"similar({anchor})")
    out["similar"] = {"item": anchor, "item_id": [int(i) for i in sim.item_id], "score": sim.score.tolist()}
    raw = ["1", 2, "no-such-item"]
    out["encode_item_id"] = {"raw": raw, "index": rec.preprocessor.encode("item_id", raw)["item_id"].tolist()}
    out["candidate_ids"] = [int(i) for i in rec.candidate_ids]
    out["embedding_shape"] = list(rec.index.embeddings.shape)
    out["embedding_sum"] = float(rec.index.embeddings.double().sum())
    return out


def main() -> None:
    cfg = recstack.ExperimentConfig.from_dict(CONFIG)
    exp = recstack.RetrievalExperiment(cfg)
    exp.fit()
    if ARTIFACT.exists():
        shutil.rmtree(ARTIFACT)
    exp.save(ARTIFACT, metrics=exp.evaluate())
    rec = recstack.load(ARTIFACT)  # the answers come from what is on disk
    answers = expected_answers(rec)
    answers["written_by"] = {"library_version": recstack.__version__,
                             "format_version": rec.metadata["format_version"]}
    EXPECTED.write_text(json.dumps(answers, indent=1, sort_keys=True) + "\n")
    size = sum(p.stat().st_size for p in ARTIFACT.iterdir())
    print(f"wrote {ARTIFACT} ({size} bytes) and {EXPECTED.name}")


if __name__ == "__main__":
    main()

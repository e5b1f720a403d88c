"""The ML-100K benchmark script runs and prints the JSON line the issue asks for (popularity only: ~2 s)."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import needs_ml100k

ROOT = Path(__file__).resolve().parents[2]


@needs_ml100k
def test_popularity_line_keys_and_tie_rules():
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "retrieval_movielens.py"), "--only", "popularity"],
        capture_output=True, text=True, check=True, env=dict(os.environ), timeout=300,
    )
    (line,) = out.stdout.strip().splitlines()
    row = json.loads(line)
    keys = {"model", "layers", "epochs", "batch_size", "seconds_per_epoch", "examples_per_sec", "eval_seconds",
            "peak_rss_mb", "metrics"}
    assert keys <= set(row) and row["model"] == "popularity"
    for k in ("hit_rate@1", "hit_rate@5", "hit_rate@10", "hit_rate@50", "hit_rate@100", "recall@10", "ndcg@10"):
        assert k in row["metrics"]
    opt, mid, excl = row["metrics"], row["metrics_ties_mid"], row["metrics_exclude_seen"]
    # counts repeat: the middle of a tie is never better than its front; exclusion frees slots
    assert all(mid[k] <= opt[k] for k in opt)
    assert opt["hit_rate@100"] == 0.2982 and mid["hit_rate@100"] == 0.2893
    assert excl["hit_rate@100"] > opt["hit_rate@100"]

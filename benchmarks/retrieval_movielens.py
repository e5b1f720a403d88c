"""ML-100K u1 retrieval benchmark: prints one JSON object per run (JSON lines).

Runs: popularity; the TFRS tutorial settings (embedding 32, Adagrad 0.1, batch 8192) with
the shallow tower and with layers [64, 32], each evaluated after 3 and after 10 epochs
(training continues, optimizer state kept, exactly like the TFRS peer script); and the
best configuration (examples/movielens_retrieval_best.yaml, early-stopped on a validation
split carved from u1.base: queries of the items each row's user had before it); and the best
one without the time of the request ("best_profile": examples/movielens_retrieval_profile.yaml,
each row sees its user's whole training profile). Data: $RECSTACK_DATA/ml-100k.

    RECSTACK_DATA=../shared/data python benchmarks/retrieval_movielens.py [--only NAME ...]
        [--best-config examples/movielens_retrieval_best.yaml]

``peak_rss_mb`` is the peak of the whole process so far: run one ``--only`` name per
process to compare one run's memory with a peer's.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import sys
import time
from pathlib import Path

import torch

from recstack.config import ExperimentConfig, load_config
from recstack.experiment import RetrievalExperiment

ROOT = Path(__file__).resolve().parents[1]
METRICS = ["hit_rate@1", "hit_rate@5", "hit_rate@10", "hit_rate@50", "hit_rate@100", "recall@10", "ndcg@10", "mrr"]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def tfrs_config(layers: list[int]) -> ExperimentConfig:
    cfg = load_config(ROOT / "examples" / "movielens_retrieval.yaml")
    d = cfg.to_dict()
    d["model"]["layers"] = layers
    d["eval"]["metrics"] = METRICS
    d["train"]["progress"] = False
    return ExperimentConfig.from_dict(d, base_dir=str(ROOT / "examples"))


def timed_eval(exp: RetrievalExperiment) -> tuple[dict[str, float], float]:
    t0 = time.perf_counter()
    metrics = exp.evaluate()
    return metrics, time.perf_counter() - t0


def run_tfrs(name: str, layers: list[int], eval_at: list[int]) -> None:
    cfg = tfrs_config(layers)
    cfg.train.epochs = max(eval_at)
    exp = RetrievalExperiment(cfg)
    seconds: list[float] = []
    examples = len(exp.train_data)

    def on_epoch(record: dict) -> None:
        seconds.append(record["train/seconds"])
        if record["epoch"] in eval_at:
            metrics, eval_s = timed_eval(exp)
            exp.model.train()
            emit(name, layers, record["epoch"], cfg, seconds, examples, metrics, eval_s)

    from recstack.training import Trainer

    trainer = Trainer(exp.model, exp.task, cfg.train, callbacks=[on_epoch])
    trainer.fit(exp.train_data)


def emit(name, layers, epochs, cfg, seconds, examples, metrics, eval_s, extra=None) -> None:
    row = {
        "model": name,
        "layers": layers,
        "epochs": epochs,
        "batch_size": cfg.train.batch_size,
        "seconds_per_epoch": round(sum(seconds) / len(seconds), 3),
        "examples_per_sec": round(examples * len(seconds) / sum(seconds), 1),
        "eval_seconds": round(eval_s, 3),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "metrics": {k: round(v, 4) for k, v in metrics.items()},
        "threads": torch.get_num_threads(),
        **(extra or {}),
    }
    print(json.dumps(row), flush=True)


class Popularity(torch.nn.Module):
    """Scores every candidate by its training count, whatever the query (1-d towers)."""

    def __init__(self, counts: torch.Tensor, key: str) -> None:
        super().__init__()
        self.counts, self.key = counts, key

    def query_embedding(self, features: dict) -> torch.Tensor:
        return torch.ones(next(iter(features.values())).shape[0], 1)

    def candidate_embedding(self, features: dict) -> torch.Tensor:
        return self.counts[features[self.key]].unsqueeze(1)


def run_popularity() -> None:
    cfg = tfrs_config([])
    exp = RetrievalExperiment(cfg)
    t0 = time.perf_counter()
    key = exp.candidate_key
    counts = torch.bincount(exp.train_data.column(key), minlength=exp.model.num_candidate_ids).float()
    model = Popularity(counts, key)
    logging.getLogger("recstack.tasks.retrieval_eval").setLevel(logging.ERROR)  # ties are expected: counts repeat
    results: dict[str, dict[str, float]] = {}
    # counts repeat, so the tie rule matters here (docs/metrics.md); seen-item exclusion for
    # comparison with the best run's metrics_exclude_seen
    for name, ties, exclude_seen in (("metrics", "optimistic", False), ("metrics_ties_mid", "mid", False),
                                     ("metrics_exclude_seen", "optimistic", True)):
        ev = exp.evaluator(exp.test_table, exclude_seen=exclude_seen)
        ev.ties = ties
        results[name] = {k: round(v, 4) for k, v in ev(model).items()}
        if name == "metrics":
            eval_s = time.perf_counter() - t0
    row: dict[str, object] = {"model": "popularity", "layers": [], "epochs": 0, "batch_size": None, "seconds_per_epoch": 0.0,
           "examples_per_sec": None, "eval_seconds": round(eval_s, 3), "peak_rss_mb": round(peak_rss_mb(), 1),
           **results}
    print(json.dumps(row), flush=True)


def run_best(path: Path, name: str = "best") -> None:
    cfg = load_config(path)
    cfg.train.progress = False
    cfg.eval.metrics = METRICS
    exp = RetrievalExperiment(cfg)
    history = exp.fit()
    metrics, eval_s = timed_eval(exp)
    seconds = [r["train/seconds"] for r in history.records]
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    extra = {"config": str(shown), "task": cfg.task.model_dump(mode="json"), "best_epoch": exp.trainer.best_epoch,
             "val_hit_rate@100": exp.trainer.best_metric,
             "metrics_exclude_seen": {k: round(v, 4) for k, v in exp.evaluate(exclude_seen=True).items()}}
    mid = exp.evaluator(exp.test_table)
    mid.ties = "mid"  # a positive tied with other candidates counted in the middle of its tie
    extra["metrics_ties_mid"] = {k: round(v, 4) for k, v in mid(exp.model).items()}
    emit(name, list(cfg.model_options().get("layers", [])), len(history), cfg, seconds, len(exp.train_data), metrics, eval_s, extra)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--only", nargs="*", choices=["popularity", "shallow", "deep", "best", "best_profile"])
    p.add_argument("--best-config", type=Path, default=ROOT / "examples" / "movielens_retrieval_best.yaml")
    a = p.parse_args()
    if not os.environ.get("RECSTACK_DATA"):
        sys.exit("set RECSTACK_DATA to the folder that holds ml-100k/")
    todo = a.only or ["popularity", "shallow", "deep", "best", "best_profile"]
    if "popularity" in todo:
        run_popularity()
    if "shallow" in todo:
        run_tfrs("two_tower", [], [3, 10])
    if "deep" in todo:
        run_tfrs("two_tower", [64, 32], [3, 10])
    if "best" in todo:
        run_best(a.best_config.resolve())
    if "best_profile" in todo:
        run_best(ROOT / "examples" / "movielens_retrieval_profile.yaml", "best_profile")


if __name__ == "__main__":
    main()

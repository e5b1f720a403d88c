"""``recstack quickstart``: train, evaluate and recommend on a built-in dataset in one call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from recstack.config.experiment import ExperimentConfig
from recstack.errors import ConfigError

__all__ = ["quickstart_config", "run_quickstart"]


def quickstart_config(dataset: str = "synthetic", *, data_dir: str | None = None) -> ExperimentConfig:
    """A good default two-tower config for a built-in dataset."""
    if data_dir is not None and dataset != "movielens-100k":
        raise ConfigError(f"data_dir (--data-dir) applies to movielens-100k, not to {dataset!r}")
    options: dict[str, Any] = {} if data_dir is None else {"data_dir": data_dir}
    # u1 holds out random ratings: each test row's history is the user's other ratings ("others");
    # the synthetic split is by time, so a row sees what came before it
    mode = "before"
    if dataset == "movielens-100k":
        options.setdefault("split", "u1")
        mode = "others"
    return ExperimentConfig.from_dict(
        {
            "data": {"dataset": dataset, "dataset_options": options, "validation_fraction": 0.1,
                     "history": {"column": "history", "max_length": 100, "mode": mode}},
            "features": {
                "item_id": {"type": "categorical"},
                "history": {"type": "sequence", "source": "item_id", "max_length": 100},
            },
            "model": {"kind": "two_tower", "query": ["history"], "candidate": ["item_id"], "embedding_dim": 32},
            "task": {"kind": "retrieval", "logq_correction": True},
            "train": {"optimizer": "adagrad", "lr": 0.05, "batch_size": 8192, "epochs": 12, "seed": 42,
                      "early_stopping": {"metric": "hit_rate@100", "patience": 2}},
            "eval": {"metrics": ["hit_rate@10", "hit_rate@50", "hit_rate@100", "recall@10", "ndcg@10", "mrr"]},
        }
    )


def run_quickstart(
    dataset: str = "synthetic",
    *,
    output: str | Path = "runs/quickstart",
    epochs: int | None = None,
    data_dir: str | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Trains the default config, evaluates on the test split, saves, reloads and recommends."""
    from recstack.artifacts import load
    from recstack.experiment import RetrievalExperiment

    cfg = quickstart_config(dataset, data_dir=data_dir)
    if epochs is not None:
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ConfigError(f"epochs must be an integer >= 1, got {epochs!r}")
        cfg.train.epochs = epochs
    cfg.train.progress = progress
    exp = RetrievalExperiment(cfg)
    history = exp.fit()
    metrics = exp.evaluate()
    exp.save(output, metrics=metrics)
    rec = load(output)
    user: Any = rec.known_queries[rec.query_column].iloc[0] if rec.known_queries is not None else None
    recs = rec.recommend([user], k=5, exclude="seen")
    return {
        "dataset": dataset,
        "epochs_run": len(history),
        "train_examples_per_sec": history.last().get("train/examples_per_sec"),
        "test_metrics": {k: round(v, 4) for k, v in metrics.items()},
        "artifact": str(output),
        "example_user": user if not hasattr(user, "item") else user.item(),
        "top5_for_example_user": recs[rec.candidate_column].tolist(),
    }

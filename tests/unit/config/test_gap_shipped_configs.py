"""The configs recstack ships: examples/movielens_retrieval.yaml (the TFRS basic retrieval
tutorial's settings) and ``recstack quickstart --dataset movielens-100k``'s config.

``recstack quickstart --dataset movielens-100k`` itself takes about 17 s on CPU even with
``--epochs 1`` (12 epochs by default), too slow for the suite: its config is checked here and
the CLI's wiring in tests/e2e/test_gap_cli_quickstart.py."""

from __future__ import annotations

from pathlib import Path

from recstack.config import load_config
from recstack.experiment.tables import load_tables
from recstack.quickstart import quickstart_config
from tests.conftest import ml100k_dir, needs_ml100k

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "movielens_retrieval.yaml"
RATING_NAMES = ["user_id", "item_id", "rating", "timestamp"]


def test_the_example_has_the_tfrs_basic_retrieval_settings():
    cfg = load_config(EXAMPLE)
    data = cfg.data
    assert (data.train.path, data.train.sep, data.train.names) == ("ml-100k/u1.base", "\t", RATING_NAMES)
    assert (data.test.path, data.test.sep, data.test.names) == ("ml-100k/u1.test", "\t", RATING_NAMES)
    items = data.join["items"]
    assert (items.path, items.sep, items.encoding, items.key) == ("ml-100k/u.item", "|", "latin-1", "item_id")
    assert items.names[:2] == ["item_id", "title"] and len(items.names) == 5 + 19  # 19 genre flags
    assert (data.user_column, data.item_column) == ("user_id", "title")
    # query = user_id, candidate = movie title, both plain vocabularies
    assert {k: v["type"] for k, v in cfg.schema().to_dict()["features"].items()} == {
        "user_id": "categorical", "title": "categorical"}
    m = cfg.model
    assert (m.kind, m.query, m.candidate, m.embedding_dim, m.layers) == ("two_tower", ["user_id"], ["title"], 32, [])
    t = cfg.task
    assert (t.kind, t.candidates, t.temperature, t.remove_accidental_hits, t.logq_correction, t.num_negatives) == (
        "retrieval", "in_batch", 1.0, False, False, 0)
    tr = cfg.train
    assert (tr.optimizer, tr.lr, tr.batch_size, tr.adagrad_initial_accumulator) == ("adagrad", 0.1, 8192, 0.1)
    assert (tr.epochs, tr.eval_every, tr.seed) == (3, 0, 42)
    assert cfg.eval.metrics[:5] == ["hit_rate@1", "hit_rate@5", "hit_rate@10", "hit_rate@50", "hit_rate@100"]
    assert cfg.eval.exclude_seen is False  # TFRS' FactorizedTopK counts seen movies too


def test_the_movielens_quickstart_config():
    cfg = quickstart_config("movielens-100k", data_dir="/some/where")
    assert cfg.data.dataset == "movielens-100k"
    assert cfg.data.dataset_options == {"data_dir": "/some/where", "split": "u1"}
    assert cfg.data.validation_fraction == 0.1
    h = cfg.data.history
    assert (h.column, h.max_length, h.mode) == ("history", 100, "others")
    assert cfg.schema()["history"].source == "item_id"
    m = cfg.model
    assert (m.query, m.candidate, m.embedding_dim) == (["history"], ["item_id"], 32)
    assert cfg.task.logq_correction is True
    tr = cfg.train
    assert (tr.optimizer, tr.lr, tr.batch_size, tr.epochs, tr.seed) == ("adagrad", 0.05, 8192, 12, 42)
    assert (tr.early_stopping.metric, tr.early_stopping.patience) == ("hit_rate@100", 2)
    assert "hit_rate@100" in cfg.eval.metrics
    assert quickstart_config("movielens-100k").data.dataset_options == {"split": "u1"}


@needs_ml100k
def test_the_example_and_the_quickstart_read_u1_base_and_u1_test(monkeypatch):
    monkeypatch.setenv("RECSTACK_DATA", str(ml100k_dir().parent))
    example = load_config(EXAMPLE)
    tables = load_tables(example.data, example.base_dir)
    assert (len(tables.train), len(tables.test)) == (80_000, 20_000)
    first = tables.train.iloc[0]
    assert (first.user_id, first.item_id, first.title) == (1, 1, "Toy Story (1995)")
    assert tables.test.iloc[0][RATING_NAMES].tolist() == [1, 6, 5, 887431973]
    quick = quickstart_config("movielens-100k", data_dir=str(ml100k_dir()))
    tables = load_tables(quick.data, quick.base_dir)
    assert (len(tables.train), len(tables.test)) == (80_000, 20_000)
    assert tables.test.iloc[0][RATING_NAMES].tolist() == [1, 6, 5, 887431973]

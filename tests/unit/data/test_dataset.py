"""TensorDataset (columns, compact ID storage, errors) and BatchIterator (seeded shuffles)."""

from __future__ import annotations

import pytest
import torch

from recstack.data import BatchIterator, TensorDataset
from recstack.errors import DataError


def make(n: int = 10) -> TensorDataset:
    return TensorDataset(
        {"user_id": torch.arange(n), "history": torch.arange(n * 3).view(n, 3), "x": torch.rand(n)},
        labels={"y": torch.arange(n)},
        weights=torch.ones(n),
    )


def rows_of(batches) -> list[int]:
    return [int(v) for b in batches for v in b.features["user_id"]]


def test_ids_are_stored_as_int32_and_batched_as_int64():
    ds = make()
    assert ds.features["history"].dtype == torch.int32 and ds.features["user_id"].dtype == torch.int32
    assert ds.features["x"].dtype == torch.float32
    b = ds.batch(2, 5)
    assert b.features["history"].dtype == torch.int64
    assert b.features["history"].tolist() == torch.arange(6, 15).view(3, 3).tolist()
    assert ds.column("history").dtype == torch.int64
    assert b.labels["y"].dtype == torch.float32 and len(b) == 3


def test_ids_beyond_int32_stay_int64():
    big = torch.tensor([0, 2**40])
    ds = TensorDataset({"h": big})
    assert ds.features["h"].dtype == torch.int64
    assert ds.batch(0, 2).features["h"].tolist() == [0, 2**40]


def test_a_subset_that_fits_int32_is_still_widened():
    ds = TensorDataset({"h": torch.tensor([0, 2**40, 5])}).take(torch.tensor([0, 2]))
    assert ds.batch(0, 2).features["h"].dtype == torch.int64 and ds.column("h").tolist() == [0, 5]


def test_take_keeps_compact_storage_and_widens_batches():
    ds = make().take(torch.tensor([3, 1]))
    assert ds.features["history"].dtype == torch.int32
    assert ds.batch(0, 2).features["history"].dtype == torch.int64
    assert ds.batch(0, 2).features["user_id"].tolist() == [3, 1]


def test_iterator_covers_every_row_once_in_order_without_shuffle():
    it = BatchIterator(make(10), 4)
    assert len(it) == 3
    assert rows_of(it) == list(range(10))
    assert [len(b) for b in BatchIterator(make(10), 4, drop_last=True)] == [4, 4]


def test_seeded_shuffle_repeats_per_epoch_and_differs_between_epochs():
    a, b = BatchIterator(make(50), 8, shuffle=True, seed=3), BatchIterator(make(50), 8, shuffle=True, seed=3)
    first_a, first_b = rows_of(a), rows_of(b)
    assert first_a == first_b and sorted(first_a) == list(range(50)) and first_a != list(range(50))
    second = rows_of(a)
    assert second != first_a and sorted(second) == list(range(50))
    a.set_epoch(0)  # resume replays the permutation of that epoch
    assert rows_of(a) == first_a


def test_neighbouring_seeds_do_not_share_shifted_epochs():
    # seed + epoch would make seed 43's first epoch seed 42's second: runs over seeds not independent
    s42, s43 = BatchIterator(make(50), 50, shuffle=True, seed=42), BatchIterator(make(50), 50, shuffle=True, seed=43)
    e42 = [rows_of(s42) for _ in range(3)]
    e43 = [rows_of(s43) for _ in range(3)]
    assert not any(a == b for a in e42 for b in e43)


def test_rows_keep_their_columns_together_when_shuffled():
    for b in BatchIterator(make(20), 6, shuffle=True, seed=1):
        u = b.features["user_id"]
        assert b.features["history"][:, 0].tolist() == (u * 3).tolist()
        assert b.labels["y"].tolist() == u.float().tolist()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"features": {}}, "at least one"),
        ({"features": {"a": torch.zeros(3), "b": torch.zeros(2)}}, "different numbers of rows"),
        ({"features": {"a": torch.zeros(0, dtype=torch.long)}}, "empty"),
        ({"features": {"a": torch.zeros(3)}, "weights": torch.ones(2)}, "different numbers of rows"),
    ],
)
def test_bad_datasets_are_clear_errors(kwargs, match):
    with pytest.raises(DataError, match=match):
        TensorDataset(**kwargs)


def test_batch_size_must_be_positive():
    with pytest.raises(ValueError, match="batch_size"):
        BatchIterator(make(), 0)

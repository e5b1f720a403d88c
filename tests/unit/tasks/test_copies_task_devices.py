"""RetrievalTask's tables (logQ, ID -> catalogue row, shared OOV IDs, the catalogue) reach the
batches' device one way, once: 'meta' stands in for a GPU (there is none in CI)."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch.overrides import TorchFunctionMode

from recstack.data.batch import Batch
from recstack.models import TwoTower, TwoTowerConfig
from recstack.preprocessing.outputs import OutputSpec
from recstack.tasks import RetrievalTask, RetrievalTaskConfig
from recstack.tasks.retrieval import CANDIDATE_ROW, NEG_PREFIX

OUTPUTS = [
    OutputSpec("user_id", "user_id", "id", cardinality=30, table="user_id"),
    OutputSpec("item_id", "item_id", "id", cardinality=12, table="item_id"),
]
META = torch.device("meta")
CATALOGUE = {"item_id": torch.tensor([0, 1, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])}  # two rows share OOV 0


class DeviceMoves(TorchFunctionMode):
    """Counts ``Tensor.to`` calls that name a device: each is a host-to-device copy on a GPU
    (a no-op on the CPU, which is why they went unseen)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        if func is torch.Tensor.to and ("device" in kwargs or any(isinstance(a, (torch.device, str))
                                                                  for a in args[1:])):
            self.calls += 1
        return func(*args, **kwargs)


def batch(seed: int, device: torch.device | str = "cpu") -> Batch:
    g = torch.Generator().manual_seed(seed)
    users, items = torch.randint(1, 30, (16,), generator=g), torch.randint(0, 12, (16,), generator=g)
    return Batch({"user_id": users.to(device), "item_id": items.to(device)})


def catalogue_task() -> RetrievalTask:
    task = RetrievalTask(RetrievalTaskConfig(candidates="catalogue"), num_candidates=12)
    task.attach_catalogue(dict(CATALOGUE), key="item_id")
    return task


def test_the_catalogue_loss_asks_for_no_device_copy_per_step():
    # before: the ID -> row table and the shared OOV IDs were moved to the batch's device every step
    torch.manual_seed(0)
    model = TwoTower(TwoTowerConfig(query=["user_id"], candidate=["item_id"], embedding_dim=4), OUTPUTS)
    task = catalogue_task()
    for step in range(3):
        prepared = task.prepare_batch(batch(step))
        out = model(prepared)
        with DeviceMoves() as moves:
            task.loss(out, prepared).backward()
            task.logits(out)
        assert moves.calls == 0, step


def test_catalogue_tables_are_copied_to_the_batches_device_once_and_kept():
    task = catalogue_task()
    first = task.prepare_batch(batch(0, META))
    state = task._catalogue_state(META)
    assert first.extras[NEG_PREFIX + "item_id"].device == META
    assert state["row_of"].device == META and state["shared_values"].device == META
    for step in range(1, 3):  # later steps reuse the copies
        again = task.prepare_batch(batch(step, META))
        assert again.extras[NEG_PREFIX + "item_id"] is first.extras[NEG_PREFIX + "item_id"]
        later = task._catalogue_state(META)
        assert later["row_of"] is state["row_of"] and later["shared_values"] is state["shared_values"]
    # the originals stay; on their own device they are used as they are
    assert task._catalogue_state(torch.device("cpu"))["row_of"] is task._row_of
    assert task._catalogue is not None and task._catalogue["item_id"].device.type == "cpu"
    task.attach_catalogue({"item_id": torch.arange(12)}, key="item_id")  # a new catalogue: copied afresh
    assert task._catalogue_state(META)["row_of"] is not state["row_of"]


def test_sampled_negatives_land_on_the_batches_device_drawn_by_the_cpu_sampler():
    states = {}
    for device in ("cpu", META):
        task = RetrievalTask(RetrievalTaskConfig(num_negatives=5), num_candidates=12)
        task.attach_catalogue({"item_id": torch.arange(1, 12)}, seed=3)
        for step in range(2):  # before: the negatives stayed on the CPU beside a GPU batch
            p = task.prepare_batch(batch(step, device))
            assert p.extras[NEG_PREFIX + "item_id"].device == torch.device(device)
            assert p.extras[NEG_PREFIX + CANDIDATE_ROW].device == torch.device(device)
        assert task._neg_probs is not None and task._neg_probs.device.type == "cpu"  # the sampler's
        states[str(device)] = task.get_rng_state()
    assert torch.equal(states["cpu"], states["meta"])  # the same draws wherever the batch is


@pytest.mark.parametrize("moved", [True, False])
def test_tables_follow_the_batch_whether_or_not_the_task_was_moved_and_are_never_saved(moved):
    task = catalogue_task()
    task.set_candidate_counts(torch.arange(12).float())
    task.set_item_counts(torch.ones(13))
    if moved:
        task.to(META)  # log_q is a buffer: it moves, and is then used as it is
        assert task._on(META, "log_q") is task.log_q
    copy = task._on(META, "log_q")
    assert copy is not None and copy.device == META and task._on(META, "log_q") is copy
    task.prepare_batch(batch(0, META))
    assert set(task.state_dict()) == {"log_q"}  # device copies are not weights


def on_meta(task: RetrievalTask, name: str) -> torch.Tensor:
    copy = task._on(META, name)
    assert copy is not None
    return copy


def test_a_reassigned_table_is_copied_afresh_even_when_python_reuses_its_id():
    # before: the copy was keyed by id(table) and _version; a table freed and replaced could get
    # the old id back and start at version 0, and the old copy was returned
    task = catalogue_task()
    for size in range(2, 12):
        task.log_q = torch.zeros(size - 1)
        assert on_meta(task, "log_q").shape == (size - 1,)
        task.log_q = None  # type: ignore[assignment]  # direct assignment: no setter clears the copies
        task.log_q = torch.full((size,), 1.0)
        assert on_meta(task, "log_q").shape == (size,), size
    features = {"item_id": torch.arange(12)}
    task.attach_catalogue(features, key="item_id")  # kept by reference: the caller can swap a column
    for size in range(5, 9):
        assert task._catalogue_on(META)["item_id"].shape == (features["item_id"].shape[0],)
        features["item_id"] = torch.arange(size)
        assert task._catalogue_on(META)["item_id"].shape == (size,), size


def test_an_in_place_edit_of_a_table_rebuilds_its_copy():
    task = catalogue_task()
    task.set_candidate_counts(torch.ones(12))
    first = on_meta(task, "log_q")
    assert on_meta(task, "log_q") is first  # unchanged: kept
    task.log_q.add_(1.0)
    again = on_meta(task, "log_q")
    assert again is not first and on_meta(task, "log_q") is again
    col = task._catalogue_on(META)["item_id"]
    assert task._catalogue is not None
    task._catalogue["item_id"][0] = 5  # the caller's dict, edited in place
    assert task._catalogue_on(META)["item_id"] is not col

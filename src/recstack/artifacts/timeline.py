"""Each stored user's training items with their times, kept by a model whose evaluation rows
get the history their user had at the row's time (``data.history.eval_history: before``), so
that ``recstack evaluate`` on the saved model builds the histories training's test did."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from recstack.errors import ArtifactError, ConfigError
from recstack.preprocessing.keys import key_codes

__all__ = ["Timeline", "check_time_column"]

_KINDS = ("int", "float", "datetime")


def check_time_column(times: pd.Series, column: str) -> None:
    """Times a timeline can store (numbers, or NumPy datetimes with or without a zone), checked
    before training so a model does not fail to save after it.

    Raises:
        ConfigError: naming ``data.time_column`` and what to convert it to.
    """
    if _kind(times) is None:
        raise ConfigError(f"data.history.eval_history: before stores each user's training times with the model, "
                          f"but data.time_column {column!r} holds {times.dtype}; give numbers (e.g. Unix seconds) "
                          "or datetimes (a datetime64 column of a DataFrame), or set eval_history: profile")


def _kind(times: pd.Series) -> str | None:
    dtype = times.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return None
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if isinstance(dtype, pd.DatetimeTZDtype) or (isinstance(dtype, np.dtype) and dtype.kind == "M"):
        return "datetime"
    return None


@dataclass(frozen=True)
class Timeline:
    """CSR over the stored users (``known_queries`` rows) of their training items, in training
    row order (the order :func:`recstack.data.add_history` breaks equal times by).

    Attributes:
        offsets: ``(n_users + 1,)`` int64.
        items: catalogue rows.
        times: int64 (``int``; ``datetime``: nanoseconds since 1970 UTC) or float64 (``float``).
        kind: ``int``, ``float`` or ``datetime``.
        tz: a datetime column's zone (``None``: naive datetimes, or numbers).
    """

    offsets: torch.Tensor
    items: torch.Tensor
    times: torch.Tensor
    kind: str
    tz: str | None = None

    @classmethod
    def build(cls, users: pd.Series, train: pd.DataFrame, *, user: str, time: str,
              item_rows: np.ndarray) -> Timeline:
        """From ``train`` (its ``time`` column and ``item_rows``, each row's catalogue row, ``-1``
        outside it, left out) for ``users`` (distinct raw IDs)."""
        times = train[time]
        kind = _kind(times)
        if kind is None:
            check_time_column(times, time)
        _, codes = key_codes(users, train[user], column=user)
        keep = np.flatnonzero((codes >= 0) & (item_rows >= 0))
        order = keep[np.argsort(codes[keep], kind="stable")]  # by user, training order within
        tz = None
        if kind == "datetime":
            stamps = pd.DatetimeIndex(times)
            tz = None if stamps.tz is None else str(stamps.tz)
            values = (stamps.tz_convert("UTC").tz_localize(None) if tz else stamps).as_unit("ns").asi8
        else:
            values = times.to_numpy(dtype=np.int64 if kind == "int" else np.float64)
        counts = np.bincount(codes[order], minlength=len(users))
        offsets = np.concatenate([[0], np.cumsum(counts)])
        return cls(torch.as_tensor(offsets, dtype=torch.long), torch.as_tensor(item_rows[order], dtype=torch.long),
                   torch.as_tensor(values[order]), str(kind), tz)

    def copy(self) -> Timeline:
        return Timeline(self.offsets.clone(), self.items.clone(), self.times.clone(), self.kind, self.tz)

    def tensors(self) -> dict[str, torch.Tensor]:
        """The tensors ``candidates.safetensors`` keeps (:meth:`spec` goes into ``candidates.json``)."""
        return {"timeline_offsets": self.offsets.contiguous(), "timeline_items": self.items.contiguous(),
                "timeline_times": self.times.contiguous()}

    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "tz": self.tz}

    @classmethod
    def read(cls, tensors: Mapping[str, torch.Tensor], spec: Any, *, n_users: int, n_items: int,
             where: str) -> Timeline:
        """Checks and rebuilds a saved timeline; an :class:`~recstack.errors.ArtifactError` names
        ``where`` (the file) when it does not fit the stored users and catalogue."""
        bad = ArtifactError(f"{where}: the training timeline is malformed; re-export the model")
        names = ("timeline_offsets", "timeline_items", "timeline_times")
        if not isinstance(spec, Mapping) or spec.get("kind") not in _KINDS or not all(n in tensors for n in names):
            raise bad
        offsets, items, times = (tensors[n] for n in names)
        tz = spec.get("tz")
        ok = (offsets.ndim == 1 and offsets.numel() == n_users + 1 and not offsets.is_floating_point()
              and not items.is_floating_point() and items.ndim == times.ndim == 1
              and int(offsets[0]) == 0 and bool((offsets.diff() >= 0).all())
              and int(offsets[-1]) == items.numel() == times.numel() and (tz is None or isinstance(tz, str))
              and times.is_floating_point() == (spec["kind"] == "float")
              and (items.numel() == 0 or (int(items.min()) >= 0 and int(items.max()) < n_items)))
        if not ok:
            raise bad
        return cls(offsets.long(), items.long(), times, str(spec["kind"]), tz)

    def reference(self, users: pd.Series, candidate_ids: Sequence[Any], *, user: str, item: str,
                  time: str) -> pd.DataFrame:
        """The training rows it stands for, ``[user, item, time]``, as
        :func:`recstack.data.add_history` takes a ``reference``: ``users`` are the stored users'
        raw IDs (one per CSR row), ``candidate_ids`` the catalogue's."""
        counts = self.offsets.diff().numpy()
        ids = np.empty(len(candidate_ids), dtype=object)
        ids[:] = list(candidate_ids)
        values = self.times.numpy()
        when: Any = values
        if self.kind == "datetime":
            stamps = pd.to_datetime(values, unit="ns")
            when = stamps.tz_localize("UTC").tz_convert(self.tz) if self.tz else stamps
        return pd.DataFrame({user: np.repeat(users.to_numpy(), counts),
                             item: pd.Series(ids[self.items.numpy()]).infer_objects().to_numpy(),
                             time: when})

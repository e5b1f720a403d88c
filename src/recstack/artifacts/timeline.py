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
from recstack.artifacts.query_rows import jsonable
from recstack.preprocessing.keys import key_codes

__all__ = ["Timeline", "check_time_column", "time_kind"]

_KINDS = ("int", "float", "datetime")
_NAT = np.iinfo(np.int64).min  # NaT's int64


def check_time_column(times: pd.Series, column: str) -> None:
    """Times a timeline can store (numbers up to 2**63, or NumPy datetimes with or without a
    zone, within the nanosecond range), checked before training so a model does not fail to
    save after it.

    Raises:
        ConfigError: naming ``data.time_column`` and what to convert it to.
    """
    kind = time_kind(times)
    fix = "or set data.history.eval_history: profile"
    where = f"data.history.eval_history: before stores each user's training times with the model, but " \
            f"data.time_column {column!r}"
    if kind is None:
        raise ConfigError(f"{where} holds {times.dtype}; give numbers (e.g. Unix seconds) or datetimes (a "
                          f"datetime64 column of a DataFrame), {fix}")
    if kind == "int" and pd.api.types.is_unsigned_integer_dtype(times.dtype) and len(times) and (
            int(times.max()) >= 2**63):
        raise ConfigError(f"{where} holds {times.dtype} values of 2**63 or more, which int64 cannot hold; "
                          f"subtract an offset, {fix}")
    if kind == "datetime":
        try:
            pd.DatetimeIndex(times).as_unit("ns")
        except (OverflowError, pd.errors.OutOfBoundsDatetime):
            raise ConfigError(f"{where} holds datetimes outside 1677-09-21..2262-04-11, which nanoseconds "
                              f"cannot hold; give numbers (e.g. Unix seconds), {fix}") from None


def time_kind(times: pd.Series) -> str | None:
    """``int``, ``float`` or ``datetime`` (NumPy datetimes, with or without a zone): the times a
    timeline stores; ``None`` for any other column (text, booleans, Arrow timestamps)."""
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
        items: int64 catalogue rows; ``len(catalogue) + j`` is ``extra_ids[j]``, a training
            item outside the catalogue (e.g. an items table that lacks it), kept so the
            histories are the ones training built.
        times: int64 (``int``; ``datetime``: nanoseconds since 1970 UTC) or float64 (``float``).
        kind: ``int``, ``float`` or ``datetime``.
        utc: datetimes had a zone (rebuilt in UTC: the same instants; the zone does not order).
        extra_ids: raw IDs of the training items outside the catalogue.
    """

    offsets: torch.Tensor
    items: torch.Tensor
    times: torch.Tensor
    kind: str
    utc: bool = False
    extra_ids: tuple[Any, ...] = ()

    @classmethod
    def build(cls, users: pd.Series, train: pd.DataFrame, *, user: str, item: str, time: str,
              item_rows: np.ndarray, catalogue_size: int) -> Timeline:
        """From ``train`` (columns ``user``, ``item``, ``time``; ``item_rows``: each row's
        catalogue row, ``-1`` outside it) for ``users`` (distinct raw IDs)."""
        times = train[time]
        check_time_column(times, time)
        kind = time_kind(times)
        _, codes = key_codes(users, train[user], column=user)
        keep = np.flatnonzero(codes >= 0)
        order = keep[np.argsort(codes[keep], kind="stable")]  # by user, training order within
        rows = np.asarray(item_rows, dtype=np.int64)[order]
        outside = rows < 0
        extra: tuple[Any, ...] = ()
        if outside.any():  # numbered by canonical key after the catalogue, first seen first
            others = train[item].iloc[order[outside]].reset_index(drop=True)
            extra_codes = key_codes(others, column=item)[0]
            first = np.unique(extra_codes, return_index=True)[1]
            extra = tuple(jsonable(v) for v in others.iloc[first])
            rows[outside] = catalogue_size + extra_codes
        utc = False
        if kind == "datetime":
            stamps = pd.DatetimeIndex(times)
            utc = stamps.tz is not None
            values = (stamps.tz_convert("UTC").tz_localize(None) if utc else stamps).as_unit("ns").asi8
        else:
            values = times.to_numpy(dtype=np.int64 if kind == "int" else np.float64)
        counts = np.bincount(codes[order], minlength=len(users))
        offsets = np.concatenate([[0], np.cumsum(counts)])
        return cls(torch.as_tensor(offsets, dtype=torch.long), torch.as_tensor(rows, dtype=torch.long),
                   torch.as_tensor(values[order]), str(kind), utc, extra)

    def copy(self) -> Timeline:
        return Timeline(self.offsets.clone(), self.items.clone(), self.times.clone(), self.kind, self.utc,
                        self.extra_ids)

    def tensors(self) -> dict[str, torch.Tensor]:
        """The tensors ``candidates.safetensors`` keeps (:meth:`spec` goes into ``candidates.json``)."""
        return {"timeline_offsets": self.offsets.contiguous(), "timeline_items": self.items.contiguous(),
                "timeline_times": self.times.contiguous()}

    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "utc": self.utc, "extra_ids": list(self.extra_ids)}

    @classmethod
    def read(cls, tensors: Mapping[str, torch.Tensor], spec: Any, *, n_users: int, n_items: int,
             where: str) -> Timeline:
        """Checks and rebuilds a saved timeline; an :class:`~recstack.errors.ArtifactError` names
        ``where`` (the file) when it does not fit the stored users and catalogue."""
        bad = ArtifactError(f"{where}: the training timeline is malformed; re-export the model")
        names = ("timeline_offsets", "timeline_items", "timeline_times")
        if not (isinstance(spec, Mapping) and spec.get("kind") in _KINDS and isinstance(spec.get("utc"), bool)
                and isinstance(spec.get("extra_ids"), list) and all(n in tensors for n in names)):
            raise bad
        offsets, items, times = (tensors[n] for n in names)
        kind, extra = str(spec["kind"]), spec["extra_ids"]
        ok = (offsets.dtype == items.dtype == torch.int64 and offsets.ndim == items.ndim == times.ndim == 1
              and times.dtype == (torch.float64 if kind == "float" else torch.int64)
              and offsets.numel() == n_users + 1 and int(offsets[0]) == 0 and bool((offsets.diff() >= 0).all())
              and int(offsets[-1]) == items.numel() == times.numel()
              and (kind == "datetime" or not spec["utc"])
              and all(v is not None and not isinstance(v, (list, dict, bool)) for v in extra)
              and (items.numel() == 0 or (int(items.min()) >= 0 and int(items.max()) < n_items + len(extra))))
        if ok and times.numel():  # every time an ordering can use: finite, not NaT
            ok = bool(torch.isfinite(times).all()) if kind == "float" else not bool((times == _NAT).any())
        if not ok:
            raise bad
        return cls(offsets, items, times, kind, bool(spec["utc"]), tuple(extra))

    def reference(self, users: pd.Series, candidate_ids: Sequence[Any], *, user: str, item: str,
                  time: str) -> pd.DataFrame:
        """The training rows it stands for, ``[user, item, time]``, as
        :func:`recstack.data.add_history` takes a ``reference``: ``users`` are the stored users'
        raw IDs (one per CSR row), ``candidate_ids`` the catalogue's."""
        counts = self.offsets.diff().numpy()
        ids = np.empty(len(candidate_ids) + len(self.extra_ids), dtype=object)
        ids[:] = [*candidate_ids, *self.extra_ids]
        values = self.times.numpy()
        when: Any = values
        if self.kind == "datetime":
            stamps = pd.to_datetime(values, unit="ns")
            when = stamps.tz_localize("UTC") if self.utc else stamps
        return pd.DataFrame({user: np.repeat(users.to_numpy(), counts),
                             item: pd.Series(ids[self.items.numpy()]).infer_objects().to_numpy(),
                             time: when})

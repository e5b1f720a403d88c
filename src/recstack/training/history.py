"""Per-epoch training history with stable metric names, written as CSV and JSON."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from recstack._atomic import write_text

__all__ = ["History"]


class History:
    """One record per epoch: ``epoch``, ``train/loss``, ``train/seconds``,
    ``train/examples_per_sec``, and ``val/<metric>`` (e.g. ``val/hit_rate@100``) when
    evaluated. Names are stable across versions and documented in docs/metrics.md.
    """

    def __init__(self, records: list[dict[str, Any]] | None = None) -> None:
        self.records: list[dict[str, Any]] = list(records or [])

    def append(self, record: dict[str, Any]) -> None:
        self.records.append(dict(record))

    def metric(self, name: str) -> list[float]:
        """Values of ``name`` over the epochs where it was recorded."""
        return [r[name] for r in self.records if name in r]

    def last(self) -> dict[str, Any]:
        return dict(self.records[-1]) if self.records else {}

    def to_list(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.records]

    def write(self, directory: str | Path) -> None:
        """Writes ``history.json`` and ``history.csv`` (atomically) into ``directory``."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        write_text(d / "history.json", json.dumps(self.records, indent=1))
        cols: list[str] = []
        for r in self.records:
            cols.extend(k for k in r if k not in cols)
        buf = io.StringIO(newline="")
        w = csv.DictWriter(buf, fieldnames=cols)
        w.writeheader()
        w.writerows(self.records)
        write_text(d / "history.csv", buf.getvalue())

    def __len__(self) -> int:
        return len(self.records)


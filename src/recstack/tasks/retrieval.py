"""Retrieval: in-batch softmax over candidates, computed exactly on unique candidates.

Given query embeddings ``q (B, d)`` and candidate embeddings, the TFRS-style loss for row
``i`` is a softmax cross-entropy over the batch's ``B`` candidate columns (the positive is
column ``i``). When a candidate occurs ``c_u`` times in the batch, its ``c_u`` columns
carry identical scores, so

    logsumexp_j s_ij  ==  logsumexp_u (s_iu + log c_u)          (u over UNIQUE candidates)

which this task computes on a ``(B, U)`` matrix instead of ``(B, B)``: exact, not an
approximation (on MovieLens a batch of 8,192 rows has ~1,400 unique items). Removing
accidental hits (other copies of the positive counted as negatives) means the positive's
column counts once: its ``log c`` term is dropped. ``logQ`` correction subtracts the log
of each candidate's sampling probability (its frequency in training data) from its
logits, which undoes the over-penalization of popular items (Yi et al., RecSys 2019).
Extra sampled negatives (Yang et al., "Mixed negative sampling", WWW 2020) add columns.

``candidates: catalogue`` replaces the in-batch columns by the whole candidate catalogue:
an exact (unsampled) softmax over every item, so there is no sampling bias to correct and
no accidental hit to remove. Its cost is ``B x C`` logits plus a candidate-tower pass over
the catalogue per step: the right choice for catalogues up to ~10^5 items (on ML-100K it
is faster than in-batch softmax because the catalogue, 1,682 items, is smaller than a
batch); for larger ones use in-batch softmax with logQ and/or sampled negatives.

Model outputs read here::

    "query"            (B, d)
    "candidate"        (U, d)   unique candidates of the batch (or one per row)
    "candidate_ids"    (U,)     their ID index (vocabulary of the candidate key)
    "candidate_rows"   (U,)     optional: their item identity (catalogue row), when the batch
                                carries ``CANDIDATE_ROW``; see below
    "candidate_counts" (U,)     how often each occurs in the batch
    "positive"         (B,)     column of each row's positive in "candidate"
    "query_index"      (B,)     optional: row -> its unique query when "query" is (Q, d)
    "negative"         (K, d)   optional sampled negatives (or the whole catalogue), "negative_ids" (K,)
                                and, with "candidate_rows", "negative_rows" (K,)

**Item identity.** Several items can share one candidate-key index: items below
``min_count`` share the OOV index, hashed IDs collide. Each is still its own item, with its
own side features. A batch column ``CANDIDATE_ROW`` (each row's item as a catalogue row,
added by ``RetrievalExperiment``) makes the model deduplicate candidates by item and this
task find each positive's catalogue column, and tell accidental hits, by item. Without it
the candidate-key index stands for the item.

**Devices.** The task's tables (logQ, ID -> catalogue row, the catalogue's features) follow the
batches: each is copied to a batch's device once and kept there (:meth:`RetrievalTask._on`)
until it changes, so nothing is copied per step and ``task.to(device)`` is not needed. The
originals stay where they are (the negative sampler draws with a CPU generator).
"""

from __future__ import annotations

from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from recstack.data.batch import Batch
from recstack.errors import ConfigError
from recstack.tasks._retrieval_outputs import (
    CANDIDATE_ROW, NEG_PREFIX, identities, query_index, remove_from_normalizer, row_queries,
)
from recstack.tasks.base import TASKS, Task
from recstack.tasks.catalogue_softmax import catalogue_logits, catalogue_row_loss
from recstack.tasks.retrieval_config import RetrievalTaskConfig

__all__ = ["CANDIDATE_ROW", "NEG_PREFIX", "RetrievalTask", "RetrievalTaskConfig"]



@TASKS.register("retrieval")
class RetrievalTask(Task):
    """In-batch softmax retrieval loss (see the module docstring).

    Args:
        config: temperature, accidental-hit removal, logQ, sampled negatives.
        num_candidates: size of the candidate key's vocabulary (for the logQ table).
    """

    kind = "retrieval"

    def __init__(self, config: RetrievalTaskConfig | None = None, *, num_candidates: int = 0) -> None:
        super().__init__()
        self.config = config or RetrievalTaskConfig()
        self.register_buffer("log_q", torch.zeros(max(num_candidates, 1)), persistent=True)
        self._catalogue: dict[str, Tensor] | None = None
        self._neg_probs: Tensor | None = None
        self._generator: torch.Generator | None = None
        self._row_of: Tensor | None = None  # candidate ID index -> catalogue row (-1: absent)
        self._shared_ids = False
        self._shared_values = torch.zeros(0, dtype=torch.long)
        self._neg_p_by_id: Tensor | None = None
        self._log_q_items: Tensor | None = None  # per item row (CANDIDATE_ROW), see set_item_counts
        self._moved: dict[str, tuple[Tensor, int, str, Tensor]] = {}  # name -> (source, version, device, copy)

    def get_config(self) -> dict[str, Any]:
        return self.config.model_dump(mode="json")

    def set_candidate_counts(self, counts: Tensor) -> None:
        """Sets the logQ table from training frequencies ``(V,)`` of the candidate key."""
        p = counts.double().clamp_min(0)
        p = (p + 1e-6) / (p.sum() + 1e-6 * p.numel())  # unseen IDs get a tiny probability
        self.log_q = p.log().float()
        self._moved.clear()

    def set_item_counts(self, counts: Tensor) -> None:
        """Training frequencies ``(N,)`` per item row (``CANDIDATE_ROW``): the logQ of batches
        that carry item rows, so an item below ``min_count`` (or in a shared hash bucket) is
        corrected by its own frequency, not by its whole OOV bucket's."""
        p = counts.double().clamp_min(0)
        self._log_q_items = ((p + 1e-6) / (p.sum() + 1e-6 * p.numel())).log().float()
        self._moved.clear()

    @property
    def needs_catalogue(self) -> bool:
        """Whether :meth:`attach_catalogue` must run before training."""
        return self.config.candidates == "catalogue" or self.config.num_negatives > 0

    def _log_q(self, which: Literal["candidate", "negative"], outputs: dict[str, Tensor], dtype: torch.dtype) -> Tensor:
        """logQ of the batch's ``"candidate"`` or ``"negative"`` columns: the log of how often
        each is expected among a batch's columns.

        In-batch columns come with frequency ``q`` (B rows), sampled negatives with
        probability ``p`` (K draws): ``log(B q + K p)`` for every column, so an item rarely
        seen in training but drawn as a negative is not boosted by ``-log q``. Without
        sampled negatives this is ``log q`` up to the constant ``log B``, which cancels.
        Per item when the batch carries item rows and :meth:`set_item_counts` ran, else per
        candidate-key ID.
        """
        item, neg_item, by_item = identities(outputs)
        if by_item and self._log_q_items is not None:
            keys = item if which == "candidate" else neg_item
            log_q, p_table = self._on(keys.device, "_log_q_items"), self._on(keys.device, "_neg_probs")
        else:
            keys = outputs["candidate_ids" if which == "candidate" else "negative_ids"]
            log_q, p_table = self._on(keys.device, "log_q"), self._on(keys.device, "_neg_p_by_id")
        assert log_q is not None
        keys_q = keys.clamp_max(log_q.numel() - 1)
        k = int(outputs["negative"].shape[0]) if "negative" in outputs else 0
        if k == 0 or p_table is None:
            return log_q[keys_q].to(dtype)
        b = int(outputs["positive"].shape[0])
        p = torch.where(keys < p_table.numel(), p_table[keys.clamp_max(p_table.numel() - 1)], 0.0).double()
        return torch.log(b * log_q[keys_q].double().exp() + k * p).to(dtype)

    def _on(self, device: torch.device, name: str, table: Tensor | None = None) -> Tensor | None:
        """The table ``name`` (an attribute: ``log_q``, ``_row_of``, ...; or ``table``, cached
        under ``name``) on ``device``: the one way tables reach the batches' device. A copy made
        once and kept (the original stays where it is, e.g. ``_neg_probs`` with the sampler's CPU
        generator) until the table changes, in place or by assignment; the table itself when it
        is already there."""
        if table is None:
            table = getattr(self, name)
        if table is None or table.device == device:
            return table
        # The entry holds the source itself: compared by ``is``, and while held its id cannot be
        # reused by a table assigned later (a bare id could, with a fresh ``_version`` of 0).
        # ``_version`` (private, but torch has no public counter) catches in-place edits:
        # ``load_state_dict``, edits of the caller's catalogue dict, kept by reference.
        cached = self._moved.get(name)
        if cached is None or cached[0] is not table or cached[1:3] != (table._version, str(device)):
            cached = self._moved[name] = (table, table._version, str(device), table.to(device))
        return cached[3]

    def get_rng_state(self) -> Tensor | None:
        """The negative sampler's generator state (None before a catalogue is attached)."""
        return None if self._generator is None else self._generator.get_state()

    def set_rng_state(self, state: Tensor) -> None:
        if self._generator is not None:
            self._generator.set_state(state)

    def attach_catalogue(
        self,
        features: dict[str, Tensor],
        weights: Tensor | None = None,
        *,
        seed: int = 0,
        key: str | None = None,
    ) -> None:
        """Catalogue rows ``{key: (C, ...)}``: the softmax columns or the pool of extra negatives.

        ``weights (C,)``: sampling weights for ``negative_sampling="popularity"``.
        ``key``: the candidate-key feature (required for ``candidates="catalogue"``, whose
        loss finds each positive's catalogue row through it).
        """
        n = next(iter(features.values())).shape[0]
        if self.config.candidates == "catalogue":
            if key is None or key not in features:
                raise ConfigError("task.candidates=catalogue needs the catalogue's candidate-key column")
            ids = features[key].long()
            if ids.ndim != 1:
                raise ConfigError(f"task.candidates=catalogue: catalogue column {key!r} must be one ID per row")
            # Items unseen when fitting share the OOV index: several rows may carry one ID.
            uniq, counts = torch.unique(ids, return_counts=True)
            self._shared_values = uniq[counts > 1]
            self._shared_ids = bool(self._shared_values.numel())
            self._row_of = torch.full((max(int(ids.max()) + 1, self.log_q.numel()),), -1, dtype=torch.long)
            self._row_of[ids] = torch.arange(n)
        if self.config.negative_sampling == "popularity":
            if weights is None:
                raise ConfigError("task.negative_sampling=popularity needs catalogue popularity weights")
            probs = weights.double().clamp_min(0).pow(0.75)
        else:
            probs = torch.ones(n, dtype=torch.float64)
        self._catalogue = features
        self._neg_probs = (probs / probs.sum()).float()
        self._moved.clear()
        # each ID's probability of being drawn as a sampled negative (logQ for mixed negatives)
        if key is None and len(features) == 1:
            key = next(iter(features))
        self._neg_p_by_id = None
        if key is not None and key in features and features[key].ndim == 1:
            ids = features[key].long()
            size = max(int(ids.max()) + 1, self.log_q.numel()) if n else self.log_q.numel()
            self._neg_p_by_id = torch.zeros(size, dtype=torch.float64).index_add_(0, ids, probs / probs.sum())
        if self._neg_p_by_id is None and self.config.logq_correction and self.config.num_negatives:
            raise ConfigError(
                "task.logq_correction with task.num_negatives needs each catalogue ID's sampling probability: "
                f"pass key= (the candidate-key column among {sorted(features)}) to attach_catalogue"
            )
        self._generator = torch.Generator().manual_seed(seed)

    def prepare_batch(self, batch: Batch) -> Batch:
        k = self.config.num_negatives
        if not self.needs_catalogue:
            return batch
        if self._catalogue is None or self._neg_probs is None:
            raise ConfigError(
                f"task.candidates={self.config.candidates}, task.num_negatives={k}: call "
                "attach_catalogue(...) before training"
            )
        extras = dict(batch.extras)
        device = next(iter(batch.features.values())).device
        catalogue = self._catalogue_on(device)
        if self.config.candidates == "catalogue":
            for key, col in catalogue.items():
                extras[NEG_PREFIX + key] = col
        else:  # drawn on the CPU (the generator's device); only the K row numbers travel
            rows = torch.multinomial(self._neg_probs, k, replacement=True, generator=self._generator).to(device)
            for key, col in catalogue.items():
                extras[NEG_PREFIX + key] = col.index_select(0, rows)
            extras[NEG_PREFIX + CANDIDATE_ROW] = rows  # the items drawn, for accidental hits by item
        return Batch(batch.features, batch.labels, batch.weights, extras)

    def _catalogue_on(self, device: torch.device) -> dict[str, Tensor]:
        """The attached catalogue's columns on ``device`` (see :meth:`_on`)."""
        moved = {key: self._on(device, "catalogue:" + key, col) for key, col in (self._catalogue or {}).items()}
        return {key: col for key, col in moved.items() if col is not None}

    def logits(self, outputs: dict[str, Tensor]) -> tuple[Tensor, Tensor, Tensor]:
        """Corrected ``(B, U[+K])`` logits, the positive column per row, the per-row loss offset.

        The reference form, one row per example (deduplicated queries are expanded);
        :meth:`loss` computes the same values on unique queries. The offset makes the
        reported loss equal to the ``(B, B)`` formulation's when accidental hits are kept
        (the gradient is the same either way).
        """
        cfg = self.config
        if cfg.candidates == "catalogue":
            return catalogue_logits(outputs, **self._catalogue_state(outputs["candidate_ids"].device))
        q, c = row_queries(outputs), outputs["candidate"]
        counts, pos = outputs["candidate_counts"], outputs["positive"]
        scores = q @ c.T / cfg.temperature  # (B, U)
        rows = torch.arange(q.shape[0], device=q.device)
        log_c = counts.to(scores.dtype).log()
        pos_log_c = log_c[pos]
        logits = scores + log_c
        if cfg.logq_correction:
            logits = logits - self._log_q("candidate", outputs, scores.dtype)
        offset = torch.zeros_like(pos_log_c)
        item, neg_item, _ = identities(outputs)
        if cfg.remove_accidental_hits:
            # The positive's column counts once: drop its log c.
            logits[rows, pos] = logits[rows, pos] - pos_log_c
            # Without deduplication, other columns with the positive's item are masked.
            same = item.unsqueeze(0) == item[pos].unsqueeze(1)
            same[rows, pos] = False
            logits = logits.masked_fill(same, torch.finfo(logits.dtype).min / 2)
        else:
            offset = pos_log_c
        if "negative" in outputs:
            neg = outputs["negative"]
            nlog = q @ neg.T / cfg.temperature
            if cfg.logq_correction:
                nlog = nlog - self._log_q("negative", outputs, nlog.dtype)
            if cfg.remove_accidental_hits:
                hit = neg_item.unsqueeze(0) == item[pos].unsqueeze(1)
                nlog = nlog.masked_fill(hit, torch.finfo(nlog.dtype).min / 2)
            logits = torch.cat([logits, nlog], dim=1)
        return logits, pos, offset

    def per_row_loss(self, outputs: dict[str, Tensor]) -> Tensor:
        """``(B,)`` loss of each example, equal to cross-entropy over :meth:`logits`.

        Computed on ``(Q, U[+K])`` logits for the batch's ``Q`` unique queries: the
        softmax normalizer of a query is shared by all its rows, and what differs per row
        (the positive's extra copies, sampled negatives that hit the positive) is
        subtracted from it in closed form. Exact, not an approximation; the shared
        normalizer is a float32 sum, so when one candidate fills a large part of a batch
        (``c`` copies) and dominates the softmax, rounding grows to ~1e-7 * c relative.
        """
        cfg = self.config
        if cfg.candidates == "catalogue":
            return catalogue_row_loss(outputs, **self._catalogue_state(outputs["candidate_ids"].device))
        counts, pos = outputs["candidate_counts"], outputs["positive"]
        item, neg_item, _ = identities(outputs)
        if cfg.remove_accidental_hits and torch.unique(item).numel() != item.numel():
            # candidates not deduplicated: per-row masks; use the reference form
            logits, pos, offset = self.logits(outputs)
            return F.cross_entropy(logits, pos, reduction="none") + offset
        q = outputs["query"] / cfg.temperature  # (Q, d): scaling d columns, not U
        qi = query_index(outputs)
        log_c = counts.to(q.dtype).log()
        bias = log_c - self._log_q("candidate", outputs, q.dtype) if cfg.logq_correction else log_c
        scores = torch.addmm(bias.unsqueeze(0), q, outputs["candidate"].T)  # (Q, U)
        pos_logit = scores[qi, pos]  # includes the positive's log c (and -logQ)
        blocks = [scores]
        nlog = None
        if "negative" in outputs:
            neg_ids = outputs["negative_ids"]
            nbias = (-self._log_q("negative", outputs, q.dtype) if cfg.logq_correction
                     else torch.zeros_like(neg_ids, dtype=q.dtype))
            nlog = torch.addmm(nbias.unsqueeze(0), q, outputs["negative"].T)  # (Q, K)
            blocks.append(nlog)
        lse = torch.logsumexp(torch.cat(blocks, dim=1) if nlog is not None else scores, dim=1)[qi]
        target = pos_logit - log_c[pos]  # the positive counted once
        if not cfg.remove_accidental_hits:
            return lse - target
        # share of the normalizer to remove: the positive's other c - 1 copies ...
        # (in float64: 1 - 1/c in float32 loses digits that matter when the positive dominates)
        removed = torch.exp(pos_logit - lse).double() * (1.0 - 1.0 / counts[pos].double())
        if nlog is not None:  # ... and sampled negatives that are the positive
            hit_rows, hit_cols = (neg_item.unsqueeze(0) == item[pos].unsqueeze(1)).nonzero(as_tuple=True)
            extra = torch.exp(nlog[qi[hit_rows], hit_cols] - lse[hit_rows]).double()
            removed = removed.index_add(0, hit_rows, extra)
        return remove_from_normalizer(lse, removed) - target

    def _catalogue_state(self, device: torch.device) -> dict[str, Any]:
        """What the catalogue softmax needs of this task: temperature, ID -> catalogue row, and
        the IDs several catalogue rows share (when accidental hits are removed), on ``device``."""
        shared = (self._on(device, "_shared_values") if self._shared_ids and self.config.remove_accidental_hits
                  else None)
        return {"temperature": self.config.temperature, "row_of": self._on(device, "_row_of"), "shared_values": shared}

    def loss(self, outputs: dict[str, Tensor], batch: Batch) -> Tensor:
        per_row = self.per_row_loss(outputs)
        if batch.weights is not None:
            return (per_row * batch.weights).sum() / batch.weights.sum().clamp_min(1e-12)
        return per_row.mean()



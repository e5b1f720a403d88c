"""Two-tower retrieval: a query tower and a candidate tower meeting in a dot product.

Each tower embeds its features (:class:`~recstack.layers.FeatureEmbedding`), concatenates
them and applies an MLP; ``layers: []`` gives the shallow model of the TFRS basic
retrieval tutorial, ``layers: [64, 32]`` its deep variant (Covington et al., "Deep
Neural Networks for YouTube Recommendations", RecSys 2016; Yi et al., RecSys 2019).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

import torch
import torch.nn.functional as F
from pydantic import Field, model_validator
from torch import Tensor

from recstack._validation import StrictModel, key_error
from recstack.data.batch import Batch
from recstack.errors import ConfigError
from recstack.layers.embedding import FeatureEmbedding
from recstack.layers.mlp import MLP
from recstack.models.base import MODELS, RecModel
from recstack.preprocessing.outputs import OutputSpec
from recstack.tasks.retrieval import CANDIDATE_ROW, NEG_PREFIX

__all__ = ["TwoTower", "TwoTowerConfig"]

MAX_QUERY_KEY_WIDTH = 16  # wider query keys (histories) rarely repeat; sorting them costs more than it saves


class TwoTowerConfig(StrictModel):
    """Config section ``model`` for ``kind: two_tower``.

    Attributes:
        query / candidate: feature names of each tower (numeric features contribute their
            value and/or bucket tensors).
        candidate_key: the feature that identifies a candidate (default: the first
            candidate feature); the catalogue holds one embedding per key, so other
            candidate features must be attributes of it.
        embedding_dim: embedding size (default 32, as in the TFRS tutorials).
        layers: MLP widths on top of each tower's concatenated embeddings.
        normalize: L2-normalize both towers' outputs (cosine similarity; pair with a
            temperature around 0.05-0.1).
        dedupe_candidates: compute the candidate tower once per unique candidate of a
            batch (exact; see ``RetrievalTask``): per item when the batch carries
            ``CANDIDATE_ROW`` (items sharing an OOV or hashed ID keep their own side
            features), else per candidate-key ID.
        dedupe_queries: compute the query tower, and the softmax normalizer, once per
            unique query row of a batch (exact). It applies when every query feature is
            integer-coded and the query key is at most ``MAX_QUERY_KEY_WIDTH`` columns wide
            (e.g. ``query: [user_id]``, where a batch of 8,192 ratings has ~900 users);
            history queries differ per row and are left as they are. With ``dropout``,
            copies of a query (or candidate) share one mask: each row's expected loss is
            unchanged, only the gradient noise is correlated.
        candidate_bias: a learned scalar per candidate key added to every score (an item
            popularity/quality prior, as in matrix factorization with biases). It is
            folded into the vectors, ``[q, 1] . [c, b_c]``, so indexes, metrics and saved
            artifacts need nothing new: the output dimension grows by one.
    """

    kind: Literal["two_tower"] = "two_tower"
    query: list[str] = Field(min_length=1)
    candidate: list[str] = Field(min_length=1)
    candidate_key: str | None = None
    embedding_dim: int = Field(default=32, ge=1)
    # widths checked here, not only in MLP, so the error names model.layers.<i>
    layers: list[Annotated[int, Field(ge=1)]] = Field(default_factory=list)
    activation: Literal["relu", "gelu", "tanh", "silu"] = "relu"
    dropout: float = Field(default=0.0, ge=0, lt=1)
    normalize: bool = False
    init_std: float = Field(default=0.05, gt=0)
    dedupe_candidates: bool = True
    dedupe_queries: bool = True
    candidate_bias: bool = False

    @model_validator(mode="after")
    def _key_in_candidate(self) -> TwoTowerConfig:
        if self.candidate_key is not None and self.candidate_key not in self.candidate:
            raise key_error("candidate_key", f"not one of model.candidate {self.candidate}; "
                            "set it to one of them, or add it to model.candidate", self.candidate_key)
        return self

    @property
    def key(self) -> str:
        return self.candidate_key or self.candidate[0]


def _keys_for(features: Sequence[str], outputs: Sequence[OutputSpec], path: str) -> list[str]:
    by_feature: dict[str, list[str]] = {}
    for o in outputs:
        by_feature.setdefault(o.feature, []).append(o.key)
    missing = [f for f in features if f not in by_feature]
    if missing:
        raise ConfigError(f"{path}: unknown features {missing}; the schema has {sorted(by_feature)}")
    return [k for f in features for k in by_feature[f]]


@MODELS.register("two_tower")
class TwoTower(RecModel):
    """Query tower and candidate tower; outputs follow :mod:`recstack.tasks.retrieval`."""

    kind = "two_tower"
    config_cls = TwoTowerConfig
    config: TwoTowerConfig

    def __init__(self, config: TwoTowerConfig, outputs: Sequence[OutputSpec]) -> None:
        super().__init__(config, outputs)
        self.query_keys = _keys_for(config.query, outputs, "model.query")
        self.candidate_keys = _keys_for(config.candidate, outputs, "model.candidate")
        key_spec = next((o for o in outputs if o.key == config.key), None)
        if key_spec is None or key_spec.kind != "id":
            raise ConfigError(f"model.candidate_key: {config.key!r} must be a categorical feature")
        self.candidate_key = config.key
        self.num_candidate_ids = key_spec.cardinality
        used = set(self.query_keys) | set(self.candidate_keys)
        self.embedding = FeatureEmbedding(
            [o for o in outputs if o.key in used], embedding_dim=config.embedding_dim, init_std=config.init_std
        )
        q_in = sum(self.embedding.dim_of(k) for k in self.query_keys)
        c_in = sum(self.embedding.dim_of(k) for k in self.candidate_keys)
        kw: dict[str, Any] = {"activation": config.activation, "dropout": config.dropout}
        self.query_tower = MLP(q_in, config.layers, **kw)
        self.candidate_tower = MLP(c_in, config.layers, **kw)
        if self.query_tower.out_dim != self.candidate_tower.out_dim:
            raise ConfigError(
                f"model: the query tower gives {self.query_tower.out_dim} dims and the candidate tower "
                f"{self.candidate_tower.out_dim}; with layers: [] both towers' embeddings must add up to "
                "the same size, so add layers (e.g. [64, 32]) or align embedding_dim"
            )
        self.bias = None
        if config.candidate_bias:
            self.bias = torch.nn.Embedding(self.num_candidate_ids, 1)
            torch.nn.init.zeros_(self.bias.weight)
        self.output_dim = self.query_tower.out_dim + int(config.candidate_bias)

    def query_embedding(self, features: Mapping[str, Tensor]) -> Tensor:
        """``(B, d)`` query vectors."""
        out = self.query_tower(self.embedding.concat(features, self.query_keys))
        out = F.normalize(out, dim=-1) if self.config.normalize else out
        if self.bias is not None:
            out = torch.cat([out, out.new_ones(out.shape[0], 1)], dim=1)
        return out

    def candidate_embedding(self, features: Mapping[str, Tensor]) -> Tensor:
        """``(C, d)`` candidate vectors."""
        out = self.candidate_tower(self.embedding.concat(features, self.candidate_keys))
        out = F.normalize(out, dim=-1) if self.config.normalize else out
        if self.bias is not None:
            out = torch.cat([out, self.bias(features[self.candidate_key])], dim=1)
        return out

    def _query_key(self, feats: Mapping[str, Tensor]) -> Tensor | None:
        """``(B, w)`` integer key of each row's query features, or None when not worth deduping."""
        if not self.config.dedupe_queries:
            return None
        cols = [feats[k].reshape(feats[k].shape[0], -1) for k in self.query_keys]
        if any(c.is_floating_point() or c.is_complex() for c in cols):
            return None
        if sum(c.shape[1] for c in cols) > MAX_QUERY_KEY_WIDTH:
            return None  # checked before building the key: a (B, 300) history would be copied for nothing
        return torch.cat([c.long() for c in cols], dim=1)

    def constant_outputs(self, batch: Batch, outputs: Mapping[str, Tensor]) -> list[str]:
        """The towers that give most of ``batch``'s distinct inputs one and the same vector
        (without the bias coordinate): such a tower ranks the same for nearly every query (or
        cannot tell candidates apart), as when all ReLU units of its MLP went inactive."""
        if not self.config.layers:  # embeddings alone: no units to go inactive (and no cost per epoch)
            return []
        width = self.query_tower.out_dim
        found = []
        for name, keys, path, rows in (("query", self.query_keys, "model.query", "query_index"),
                                       ("candidate", self.candidate_keys, "model.candidate", "positive")):
            out = outputs.get(name)
            if out is None or not keys:
                continue
            vecs = out[:, :width] if rows not in outputs else out[outputs[rows], :width]  # one per batch row
            shared, distinct = _collapsed(vecs, batch.features, keys)
            if shared >= 2 and 2 * shared >= distinct:
                found.append(f"the {name} tower ({path}) gives {shared} of the {distinct} distinct {name} inputs")
        return found

    def forward(self, batch: Batch) -> dict[str, Tensor]:
        feats = batch.features
        ids = feats[self.candidate_key]
        out: dict[str, Tensor] = {}
        qkey = self._query_key(feats)
        if qkey is None:
            out["query"] = self.query_embedding(feats)
        else:
            # rows with the same query features share one query vector (exact)
            if qkey.shape[1] == 1:
                uq, qinv = torch.unique(qkey[:, 0], return_inverse=True)
            else:
                uq, qinv = torch.unique(qkey, dim=0, return_inverse=True)
            qfirst = _first_rows(qinv, uq.shape[0])
            out["query"] = self.query_embedding({k: feats[k].index_select(0, qfirst) for k in self.query_keys})
            out["query_index"] = qinv
        item = feats.get(CANDIDATE_ROW)  # the item itself, when several items share one ID (OOV, hashing)
        if self.config.dedupe_candidates:
            uniq, inverse, counts = torch.unique(ids if item is None else item, return_inverse=True,
                                                 return_counts=True)
            # first row of each unique candidate: its features stand for all copies
            first = _first_rows(inverse, uniq.shape[0])
            cand = {k: feats[k].index_select(0, first) for k in self.candidate_keys}
            out.update(
                candidate=self.candidate_embedding(cand), candidate_ids=ids.index_select(0, first),
                candidate_counts=counts, positive=inverse,
            )
            if item is not None:
                out["candidate_rows"] = uniq
        else:
            out.update(
                candidate=self.candidate_embedding(feats), candidate_ids=ids,
                candidate_counts=torch.ones_like(ids), positive=torch.arange(ids.shape[0], device=ids.device),
            )
            if item is not None:
                out["candidate_rows"] = item
        if batch.extras:
            neg = {k[len(NEG_PREFIX):]: v for k, v in batch.extras.items() if k.startswith(NEG_PREFIX)}
            if neg:
                out["negative"] = self.candidate_embedding(neg)
                out["negative_ids"] = neg[self.candidate_key]
                if CANDIDATE_ROW in neg:
                    out["negative_rows"] = neg[CANDIDATE_ROW]
        return out


COLLAPSE_ROWS = 4096  # rows of a batch the collapse check compares (bounds its cost on long histories)


def _collapsed(vecs: Tensor, feats: Mapping[str, Tensor], keys: Sequence[str]) -> tuple[int, int]:
    """How many distinct inputs (rows of the features ``keys``) the commonest vector of ``vecs
    (B, d)`` stands for, and how many there are: a healthy tower gives distinct inputs distinct
    vectors (1 of n)."""
    n = min(vecs.shape[0], COLLAPSE_ROWS)  # a sample of the (shuffled) batch shows a collapse as well
    vecs = vecs[:n]
    inputs = torch.cat([feats[k][:n].reshape(n, -1).to(torch.float64) for k in keys], dim=1)
    distinct, input_of = torch.unique(inputs, dim=0, return_inverse=True)
    _, vec_of, counts = torch.unique(vecs, dim=0, return_inverse=True, return_counts=True)
    return torch.unique(input_of[vec_of == counts.argmax()]).numel(), distinct.shape[0]


def _first_rows(inverse: Tensor, n: int) -> Tensor:
    """``(n,)`` the first batch row of each of ``n`` unique values, given ``inverse (B,)``."""
    rows = torch.arange(inverse.shape[0], device=inverse.device)
    return torch.full((n,), inverse.shape[0], dtype=torch.long, device=inverse.device).scatter_reduce(
        0, inverse, rows, reduce="amin"
    )

"""MLP shape rules, the default embedding init scale, and TwoTower's ``normalize``."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
from torch import nn

from recstack.features import Schema
from recstack.layers.embedding import FeatureEmbedding
from recstack.layers.mlp import MLP
from recstack.models import TwoTower, TwoTowerConfig
from recstack.preprocessing import Preprocessor
from recstack.preprocessing.outputs import OutputSpec
from tests.contract._tiny import batch, preprocessor

# ------------------------------------------------------------------ MLP


def _linears(mlp: MLP) -> list[nn.Linear]:
    return [m for m in mlp.net if isinstance(m, nn.Linear)]


def test_mlp_has_the_configured_linear_sizes_and_out_dim():
    mlp = MLP(7, [16, 8, 3])
    assert [(lin.in_features, lin.out_features) for lin in _linears(mlp)] == [(7, 16), (16, 8), (8, 3)]
    assert mlp.out_dim == 3
    assert mlp(torch.zeros(5, 7)).shape == (5, 3)
    identity = MLP(7, [])
    assert identity.out_dim == 7 and len(identity.net) == 0
    x = torch.randn(2, 7)
    assert torch.equal(identity(x), x)


def test_mlp_puts_the_activation_between_layers_and_none_after_the_last():
    mlp = MLP(4, [5, 6, 2], dropout=0.5)
    kinds = [type(m) for m in mlp.net]
    assert kinds == [nn.Linear, nn.ReLU, nn.Dropout, nn.Linear, nn.ReLU, nn.Dropout, nn.Linear]
    gelu = MLP(4, [5, 2], activation="gelu", final_activation=True)
    assert [type(m) for m in gelu.net] == [nn.Linear, nn.GELU, nn.Linear, nn.GELU]


def test_mlp_relu_clips_hidden_values_and_the_output_can_be_negative():
    mlp = MLP(2, [2, 1])
    first, last = _linears(mlp)
    with torch.no_grad():
        first.weight.copy_(torch.eye(2))
        first.bias.zero_()
        last.weight.copy_(torch.tensor([[1.0, 1.0]]))
        last.bias.fill_(-5.0)
    # hidden (-3, 2) -> ReLU (0, 2); output 0 + 2 - 5 = -3 (no activation after the last layer)
    assert mlp(torch.tensor([[-3.0, 2.0]])).tolist() == [[-3.0]]
    # both hidden values negative: ReLU gives zeros, the output is the bias
    assert mlp(torch.tensor([[-1.0, -4.0]])).tolist() == [[-5.0]]


# ------------------------------------------------------------------ embedding init


def test_a_fresh_embedding_table_is_normal_with_std_0_05_not_pytorchs_n01():
    torch.manual_seed(0)
    spec = OutputSpec("item_id", "item_id", "id", cardinality=20_002, table="item_id", num_oov=1)
    weight = FeatureEmbedding([spec], embedding_dim=32).table_of("item_id").weight.detach()
    known = weight[2:]
    # 640,000 draws: the sample std of N(0, 0.05) is within 0.05 * 0.3% (4 sigma) of 0.05
    assert known.std().item() == pytest.approx(0.05, rel=3e-3)
    assert known.mean().item() == pytest.approx(0.0, abs=5e-4)
    wide = FeatureEmbedding([spec], embedding_dim=32, init_std=0.2).table_of("item_id").weight.detach()
    assert wide[2:].std().item() == pytest.approx(0.2, rel=3e-3)


def test_two_tower_builds_its_tables_with_the_configured_init_std_and_zero_pad_and_oov_rows():
    """A categorical feature with ``num_oov: 3``: index 0 (padding) and 1..3 (OOV) start at
    zero (OutputSpec.num_oov); known values start random with ``model.init_std``."""
    users = [f"u{i}" for i in range(3000)]
    table = pd.DataFrame({"user_id": users, "item_id": [i % 7 for i in range(3000)]})
    schema = Schema.from_dict({"user_id": {"type": "categorical", "num_oov": 3},
                               "item_id": {"type": "categorical"}})
    pp = Preprocessor(schema).fit(table)
    torch.manual_seed(0)
    for std in (0.05, 0.3):
        model = TwoTower(TwoTowerConfig(query=["user_id"], candidate=["item_id"], embedding_dim=64, init_std=std),
                         pp.outputs)
        weight = model.embedding.table_of("user_id").weight.detach()
        assert weight.shape == (1 + 3 + 3000, 64)
        assert weight[:4].abs().sum().item() == 0.0
        assert bool((weight[4:].abs().sum(dim=1) > 0).all())
        assert weight[4:].std().item() == pytest.approx(std, rel=1e-2)  # 192,000 draws
        # an unseen user maps to an OOV row, whose vector is zero
        unseen = pp.transform(pd.DataFrame({"user_id": ["nobody"], "item_id": [0]}))["user_id"]
        assert 1 <= int(unseen[0]) <= 3
        assert model.embedding.field({"user_id": unseen}, "user_id").abs().sum().item() == 0.0


# ------------------------------------------------------------------ TwoTower normalize


def _tower(normalize: bool, **kw) -> TwoTower:
    torch.manual_seed(3)
    cfg = TwoTowerConfig(query=["user_id", "age"], candidate=["item_id", "genres"], embedding_dim=4,
                         layers=[8, 4], normalize=normalize, **kw)
    return TwoTower(cfg, preprocessor().outputs).eval()


def _raw_towers(model: TwoTower, feats):
    q = model.query_tower(model.embedding.concat(feats, model.query_keys))
    c = model.candidate_tower(model.embedding.concat(feats, model.candidate_keys))
    return q, c


def test_normalize_gives_unit_vectors_and_cosine_scores():
    feats = batch().features
    model = _tower(True)
    q, c = model.query_embedding(feats), model.candidate_embedding(feats)
    ones = torch.ones(len(batch()))
    assert torch.allclose(q.norm(dim=1), ones, atol=1e-6)
    assert torch.allclose(c.norm(dim=1), ones, atol=1e-6)
    raw_q, raw_c = _raw_towers(model, feats)
    cosine = nn.functional.cosine_similarity(raw_q.unsqueeze(1), raw_c.unsqueeze(0), dim=-1)
    assert torch.allclose(q @ c.T, cosine, atol=1e-6)
    # the forward pass (what the task trains on) gives the same unit vectors
    out = model(batch())
    assert torch.allclose(out["query"].norm(dim=1), torch.ones(out["query"].shape[0]), atol=1e-6)
    assert torch.allclose(out["candidate"].norm(dim=1), torch.ones(out["candidate"].shape[0]), atol=1e-6)


def test_without_normalize_the_tower_outputs_are_returned_as_they_are():
    feats = batch().features
    model = _tower(False)
    raw_q, raw_c = _raw_towers(model, feats)
    q, c = model.query_embedding(feats), model.candidate_embedding(feats)
    assert torch.equal(q, raw_q) and torch.equal(c, raw_c)
    assert not torch.allclose(q.norm(dim=1), torch.ones(len(batch())), atol=1e-2)


def test_normalize_with_candidate_bias_normalizes_before_the_bias_column():
    feats = batch().features
    model = _tower(True, candidate_bias=True)
    with torch.no_grad():
        model.bias.weight.fill_(0.5)
    q, c = model.query_embedding(feats), model.candidate_embedding(feats)
    assert torch.allclose(q[:, :4].norm(dim=1), torch.ones(len(batch())), atol=1e-6)
    assert torch.equal(q[:, 4], torch.ones(len(batch())))
    assert torch.allclose(c[:, :4].norm(dim=1), torch.ones(len(batch())), atol=1e-6)
    assert torch.equal(c[:, 4], torch.full((len(batch()),), 0.5))

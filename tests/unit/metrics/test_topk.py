import numpy as np
import pytest
import torch

from recstack.errors import ConfigError
from recstack.metrics import build_exclusion, parse_metric_name, positive_ranks, topk_metrics


def brute_ranks(q, c, pos, excl):
    s = q.numpy() @ c.numpy().T
    out = []
    for i in range(len(pos)):
        row = s[i].copy()
        for j in excl.get(i, []):
            if j != pos[i]:
                row[j] = -np.inf
        out.append(int((row > row[pos[i]]).sum()))
    return np.array(out)


@pytest.mark.parametrize("chunk", [1, 7, 50])
def test_ranks_match_brute_force_with_ties_and_exclusion(chunk):
    g = torch.Generator().manual_seed(0)
    q = torch.randint(-2, 3, (50, 4), generator=g).float()  # integer scores: many ties
    c = torch.randint(-2, 3, (30, 4), generator=g).float()
    pos = torch.randint(0, 30, (50,), generator=g)
    users = torch.arange(50) % 10
    seen_u = torch.randint(0, 10, (80,), generator=g)
    seen_i = torch.randint(0, 30, (80,), generator=g)
    excl = build_exclusion(users, seen_u, seen_i)
    ref = {i: sorted({int(x) for u, x in zip(seen_u, seen_i) if int(u) == int(users[i])}) for i in range(50)}
    off, idx = excl
    for i in range(50):
        assert idx[off[i]:off[i + 1]].tolist() == ref[i]
    got = positive_ranks(q, c, pos, exclude=excl, chunk_size=chunk)
    assert got.tolist() == brute_ranks(q, c, pos.numpy(), ref).tolist()


def test_topk_metrics_by_hand():
    ranks = torch.tensor([0, 5, 12, 3])
    groups = torch.tensor([0, 0, 1, 1])
    m = topk_metrics(ranks, metrics=["hit_rate@10", "recall@10", "ndcg@10", "mrr", "mrr@2"], groups=groups)
    assert m["hit_rate@10"] == pytest.approx(3 / 4)
    assert m["recall@10"] == pytest.approx((1.0 + 0.5) / 2)
    ndcg0 = (1 / np.log2(2) + 1 / np.log2(7)) / (1 / np.log2(2) + 1 / np.log2(3))
    ndcg1 = (1 / np.log2(5)) / (1 / np.log2(2) + 1 / np.log2(3))
    assert m["ndcg@10"] == pytest.approx((ndcg0 + ndcg1) / 2)
    assert m["mrr"] == pytest.approx((1.0 + 1 / 4) / 2)
    assert m["mrr@2"] == pytest.approx(0.5)


def test_metric_names():
    assert parse_metric_name("hit_rate@100") == ("hit_rate", 100)
    assert parse_metric_name("mrr") == ("mrr", None)
    with pytest.raises(ConfigError, match="known"):
        parse_metric_name("precision@10")
    with pytest.raises(ConfigError, match="recall@10"):
        parse_metric_name("recall")

"""The evaluator embeds each user's identical query rows once (a user's test rows share one
history): each row still gets exactly its own features' vector, and rows of a user whose
features differ (a per-row context) are embedded for themselves."""

from __future__ import annotations

import torch

from recstack.tasks.retrieval_eval import RetrievalEvaluator, distinct_rows


def _features(n: int = 400, users: int = 37, seed: int = 0) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    groups = torch.randint(0, users, (n,), generator=g)
    per_user_hist = torch.randint(0, 50, (users, 6), generator=g)
    hist = per_user_hist[groups].clone()
    ctx = torch.zeros(n)
    differ = torch.rand(n, generator=g) < 0.2  # a fifth of the rows carry their own context value
    ctx[differ] = torch.rand(int(differ.sum()), generator=g)
    hist[differ & (torch.rand(n, generator=g) < 0.5), 0] = 7  # and some their own history
    return {"user_id": groups.clone(), "history": hist, "ctx": ctx}, groups


def test_each_row_gets_its_own_features_back_and_fewer_rows_are_embedded():
    feats, groups = _features()
    distinct, row_of = distinct_rows(feats, groups, len(groups))
    assert row_of is not None
    for k, v in feats.items():
        assert torch.equal(distinct[k].index_select(0, row_of), v), k
    n = len(next(iter(distinct.values())))
    assert len(torch.unique(groups)) <= n < len(groups)
    want = len(torch.unique(torch.cat([feats["user_id"][:, None].float(), feats["history"].float(),
                                       feats["ctx"][:, None]], 1), dim=0))
    assert n >= want  # never merges rows that differ


def test_nothing_to_share_keeps_every_row():
    feats = {"user_id": torch.arange(5)}
    distinct, row_of = distinct_rows(feats, torch.arange(5), 5)
    assert row_of is None and torch.equal(distinct["user_id"], feats["user_id"])
    assert distinct_rows(feats, None, 5)[1] is None


class _Towers(torch.nn.Module):
    """Query vectors from all features, so a wrongly shared row changes its rank."""

    def __init__(self) -> None:
        super().__init__()
        self.table = torch.nn.Embedding(50, 4)
        self.user = torch.nn.Embedding(40, 4)
        self.calls: list[int] = []

    def query_embedding(self, f):
        self.calls.append(len(f["user_id"]))
        return self.user(f["user_id"]) + self.table(f["history"]).mean(1) + f["ctx"][:, None]

    def candidate_embedding(self, f):
        return self.table(f["item_id"])


def test_the_evaluator_ranks_as_if_every_row_were_embedded():
    torch.manual_seed(0)
    feats, groups = _features()
    towers = _Towers()
    positives = torch.randint(0, 50, (len(groups),))
    cat = {"item_id": torch.arange(50)}
    shared = RetrievalEvaluator(feats, positives, cat, metrics=["hit_rate@10"], groups=groups)
    each = RetrievalEvaluator(feats, positives, cat, metrics=["hit_rate@10"], groups=None)
    assert torch.equal(shared.ranks(towers), each.ranks(towers))
    assert towers.calls[0] < towers.calls[1] == len(groups)

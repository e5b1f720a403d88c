import math
import numpy as np
import pytest
import torch

from recstack.errors import ConfigError
from recstack.metrics import build_exclusion, parse_metric_name, positive_ranks, tied_share, topk_metrics


def brute_ranks(q, c, pos, excl, ties="optimistic"):
    s = q.numpy() @ c.numpy().T
    out = []
    for i in range(len(pos)):
        row = s[i].copy()
        for j in excl.get(i, []):
            if j != pos[i]:
                row[j] = -np.inf
        above, tied = int((row > row[pos[i]]).sum()), int((row == row[pos[i]]).sum()) - 1
        out.append(above + {"optimistic": 0, "mid": tied // 2, "pessimistic": tied}[ties])
    return np.array(out)


@pytest.mark.parametrize("ties", ["optimistic", "mid", "pessimistic"])
@pytest.mark.parametrize("chunk", [1, 7, 50])
def test_ranks_match_brute_force_with_ties_and_exclusion(chunk, ties):
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
    got = positive_ranks(q, c, pos, exclude=excl, chunk_size=chunk, ties=ties)
    assert got.tolist() == brute_ranks(q, c, pos.numpy(), ref, ties).tolist()


def test_constant_scores_are_a_perfect_hit_only_when_ties_are_optimistic():
    q, c, pos = torch.zeros(4, 2), torch.randn(9, 2), torch.tensor([0, 3, 5, 8])
    assert positive_ranks(q, c, pos).tolist() == [0, 0, 0, 0]
    assert positive_ranks(q, c, pos, ties="mid").tolist() == [4, 4, 4, 4]
    assert positive_ranks(q, c, pos, ties="pessimistic").tolist() == [8, 8, 8, 8]
    assert tied_share(q, c, pos) == 1.0 and tied_share(torch.tensor([[1.0, 0.5]]), torch.eye(2), torch.tensor([0])) == 0.0
    with pytest.raises(ConfigError, match="ties must be one of"):
        positive_ranks(q, c, pos, ties="random")


def test_excluded_candidates_never_tie_even_with_a_minus_inf_positive():
    q = torch.tensor([[-1.0, 1.0]])
    c = torch.tensor([[0.0, 0.0], [float("inf"), 0.0]])  # the positive (row 1) scores -inf
    exclude = (torch.tensor([0, 1]), torch.tensor([0]))  # row 0 is excluded
    assert float(q @ c[1]) == float("-inf")
    assert positive_ranks(q, c, torch.tensor([1]), exclude=exclude, ties="pessimistic").tolist() == [0]


def test_a_nan_positive_score_is_a_miss():
    c = torch.tensor([[1.0], [float("nan")], [2.0]])
    ranks = positive_ranks(torch.ones(2, 1), c, torch.tensor([1, 2]))
    assert ranks.tolist() == [3, 0]


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


def test_positives_tied_with_each_other_share_one_ranked_list():
    # one user, positives 0 and 1 tied at the top: any real list gives recall@1 0.5, mrr 1, ndcg@2 1
    q, c = torch.ones(2, 1), torch.tensor([[2.0], [2.0], [1.0], [0.0]])
    for ties in ("optimistic", "mid"):
        ranks = positive_ranks(q, c, torch.tensor([0, 1]), ties=ties)
        m = topk_metrics(ranks, metrics=["recall@1", "mrr", "ndcg@2"], groups=torch.tensor([7, 7]), num_candidates=4)
        assert m == pytest.approx({"recall@1": 0.5, "mrr": 1.0, "ndcg@2": 1.0}), ties
    # per-row hit_rate keeps TFRS semantics: the other positive is just a tied candidate
    ranks = positive_ranks(q, c, torch.tensor([0, 1]))
    assert topk_metrics(ranks, metrics=["hit_rate@1"], groups=torch.tensor([7, 7]))["hit_rate@1"] == 1.0


def test_metric_names():
    assert parse_metric_name("hit_rate@100") == ("hit_rate", 100)
    assert parse_metric_name("mrr") == ("mrr", None)
    with pytest.raises(ConfigError, match="known"):
        parse_metric_name("precision@10")
    with pytest.raises(ConfigError, match="recall@10"):
        parse_metric_name("recall")


def test_select_rows_takes_rows_in_order_with_minus_one_as_empty():
    from recstack.metrics import select_rows

    csr = (torch.tensor([0, 2, 2, 5]), torch.tensor([7, 8, 1, 2, 3]))
    off, vals = select_rows(csr, torch.tensor([2, -1, 0, 1]))
    assert off.tolist() == [0, 3, 3, 5, 5] and vals.tolist() == [1, 2, 3, 7, 8]
    off, vals = select_rows((torch.zeros(1, dtype=torch.long), torch.zeros(0, dtype=torch.long)), torch.tensor([-1, -1]))
    assert off.tolist() == [0, 0, 0] and vals.numel() == 0


def test_a_users_held_out_items_are_one_list_when_one_is_also_a_training_item():
    # scores B .9, X .85, A .8, Y .1; the user's test rows A and B; training items B (bought again) and Y
    from recstack.metrics import drop_group_items

    c = torch.tensor([[0.9], [0.85], [0.8], [0.1]])
    q, groups, pos = torch.ones(2, 1), torch.tensor([0, 0]), torch.tensor([2, 0])
    ex = build_exclusion(groups, torch.tensor([0, 0]), torch.tensor([0, 3]))
    assert positive_ranks(q, c, pos, exclude=ex).tolist() == [1, 0]  # two lists: A ranked without B
    kept = drop_group_items(ex, groups, (groups, pos))
    assert kept[0].tolist() == [0, 1, 2] and kept[1].tolist() == [3, 3]  # only Y excluded
    ranks = positive_ranks(q, c, pos, exclude=kept)
    assert ranks.tolist() == [2, 0]  # one list: B, X, A
    m = topk_metrics(ranks, metrics=["recall@2", "ndcg@2"], groups=groups, num_candidates=4)
    assert m["recall@2"] == 0.5 and m["ndcg@2"] == pytest.approx(1 / (1 + 1 / math.log2(3)))


def test_the_tie_check_counts_only_candidates_that_count_and_is_chunked():
    c = torch.tensor([[1.0], [1.0], [0.5]])
    q, pos = torch.ones(3, 1), torch.tensor([0, 0, 2])
    assert tied_share(q, c, pos) == pytest.approx(2 / 3)
    ex = build_exclusion(torch.arange(3), torch.tensor([0, 1]), torch.tensor([1, 1]))  # rows 0 and 1 exclude item 1
    assert tied_share(q, c, pos, exclude=ex) == 0.0 and tied_share(q, c, pos, chunk_size=1) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match=r"exclude offsets must be \(Q\+1,\) = \(4,\)"):
        positive_ranks(q, c, pos, exclude=(ex[0][:3], ex[1]))


def test_groups_must_match_the_ranks_and_ndcg_depth_does_not_depend_on_k():
    with pytest.raises(ValueError, match=r"groups must be one per rank, \(Q,\) = \(3,\)"):
        topk_metrics(torch.tensor([0, 1, 2]), metrics=["mrr"], groups=torch.tensor([0, 1]))
    big = topk_metrics(torch.tensor([0, 3]), metrics=["ndcg@1000000000"], groups=torch.tensor([0, 0]))
    assert big["ndcg@1000000000"] == pytest.approx((1 + 1 / math.log2(5)) / (1 + 1 / math.log2(3)))


def test_exclusion_lists_expand_per_block_to_the_per_row_lists():
    from recstack.metrics import ExclusionLists, drop_group_items, select_rows

    g = torch.Generator().manual_seed(0)
    groups = torch.randint(0, 6, (40,), generator=g)
    seen_users, seen_items = torch.randint(0, 8, (90,), generator=g), torch.randint(0, 30, (90,), generator=g)
    positives = torch.randint(0, 30, (40,), generator=g)
    own = build_exclusion(torch.arange(40), torch.randint(0, 40, (25,), generator=g), torch.randint(0, 30, (25,), generator=g))
    # the per-row lists in full: the group's items and the row's own, minus the group's positives
    per_row = build_exclusion(groups, seen_users, seen_items)
    r_own = torch.repeat_interleave(torch.arange(40), own[0].diff())
    r_seen = torch.repeat_interleave(torch.arange(40), per_row[0].diff())
    full = build_exclusion(torch.arange(40), torch.cat([r_seen, r_own]), torch.cat([per_row[1], own[1]]))
    full = drop_group_items(full, groups, (groups, positives))
    lists = ExclusionLists(per_group=build_exclusion(torch.arange(6), seen_users, seen_items), row_groups=groups,
                           per_row=own, keep=(groups, positives))
    idx = torch.tensor([3, 17, 17, 0, 39])
    got, want = lists.rows(idx), select_rows(full, idx)
    assert got[0].tolist() == want[0].tolist()  # each row's items once, in no set order
    assert [sorted(got[1][got[0][i]:got[0][i + 1]].tolist()) for i in range(len(idx))] == [
        want[1][want[0][i]:want[0][i + 1]].tolist() for i in range(len(idx))]
    q, c = torch.randn(40, 4, generator=g), torch.randn(30, 4, generator=g)
    assert torch.equal(positive_ranks(q, c, positives, exclude=full),
                       torch.cat([positive_ranks(q[i:i + 7], c, positives[i:i + 7], exclude=lists.rows(torch.arange(i, min(i + 7, 40))))
                                  for i in range(0, 40, 7)]))


def test_blocks_bound_the_expanded_entries_of_a_heavy_user():
    from recstack.metrics import ExclusionLists

    heavy = build_exclusion(torch.arange(2), torch.zeros(1000, dtype=torch.long), torch.arange(1000))  # user 0
    groups = torch.tensor([0] * 50 + [1] * 50)  # 50 test rows of the heavy user: 50,000 pairs in full
    lists = ExclusionLists(per_group=heavy, row_groups=groups)
    blocks = lists.blocks(torch.arange(100), max_rows=64, max_entries=4000)
    assert torch.equal(torch.cat(blocks), torch.arange(100))
    assert max(len(lists.rows(b)[1]) for b in blocks) <= 4000 and max(len(b) for b in blocks) <= 64
    assert len(lists.blocks(torch.arange(3), max_rows=64, max_entries=10)) == 3  # a row over the budget: alone

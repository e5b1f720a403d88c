"""Every metric name family that ``parse_metric_name`` accepts (enumerated from
``TOPK_METRICS`` at test time) has a hand-computed example with its exact value, and
obeys the properties every top-K metric shares. A new family needs an entry in ``EXAMPLES``.

(tests/unit/metrics/test_topk.py checks one mixed example and rank computation; these
cases pin each family's own edge: the K boundary, per-row vs per-user averaging, IDCG
clipped at K, the best rank of a user.)
"""

from __future__ import annotations

import math

import pytest
import torch

from recstack.config import EvalConfig
from recstack.errors import ConfigError
from recstack.metrics import TOPK_METRICS, parse_metric_name, positive_ranks, topk_metrics

L2 = math.log2


def accepted_forms() -> list[str]:
    """``base`` and/or ``base@K`` for every family, as parse_metric_name accepts them."""
    forms = []
    for base in TOPK_METRICS:
        for name, form in ((base, base), (f"{base}@3", f"{base}@K")):
            try:
                parse_metric_name(name)
            except ConfigError:
                continue
            forms.append(form)
    return forms


FORMS = accepted_forms()

# form -> [(metric name, ranks, groups, exact expected value)]
EXAMPLES: dict[str, list[tuple[str, list[int], list[int] | None, float]]] = {
    "hit_rate@K": [
        ("hit_rate@3", [0, 2, 3, 9], None, 2 / 4),  # rank K-1 is a hit, rank K is not
        ("hit_rate@3", [0, 2, 3, 9], [0, 0, 0, 1], 2 / 4),  # per row: groups do not matter
        ("hit_rate@1", [0, 1], None, 1 / 2),
    ],
    "recall@K": [
        ("recall@3", [0, 2, 3, 9], [0, 0, 0, 1], (2 / 3 + 0) / 2),  # per user, then mean over users
        ("recall@3", [0, 2, 3, 9], None, 2 / 4),
        ("recall@10", [4, 11], [7, 7], 1 / 2),
    ],
    "ndcg@K": [
        ("ndcg@3", [2], None, (1 / L2(4)) / 1.0),
        # three positives, K=2: IDCG counts only min(3, K) = 2 ideal hits, so this user scores 1
        ("ndcg@2", [1, 0, 5, 3], [0, 0, 0, 1], ((1 / L2(3) + 1) / (1 + 1 / L2(3)) + 0) / 2),
        ("ndcg@3", [2, 0, 1], [0, 1, 1], (1 / L2(4) + (1 + 1 / L2(3)) / (1 + 1 / L2(3))) / 2),
        ("ndcg@5", [1, 3], [0, 0], (1 / L2(3) + 1 / L2(5)) / (1 + 1 / L2(3))),
    ],
    "mrr": [
        ("mrr", [3, 1, 0, 4], [0, 0, 1, 2], (1 / 2 + 1 + 1 / 5) / 3),  # best rank of each user
        ("mrr", [99], None, 1 / 100),
    ],
    "mrr@K": [
        ("mrr@2", [3, 1, 0, 4], [0, 0, 1, 2], (1 / 2 + 1 + 0) / 3),
        ("mrr@5", [4], None, 1 / 5),
        ("mrr@4", [4], None, 0.0),
    ],
}


def value(name: str, ranks: list[int], groups: list[int] | None = None) -> float:
    g = None if groups is None else torch.tensor(groups)
    return topk_metrics(torch.tensor(ranks), metrics=[name], groups=g)[name]


def name_for(form: str, k: int = 3) -> str:
    return form.replace("@K", f"@{k}")


def test_every_documented_family_is_accepted():
    assert {"hit_rate@K", "recall@K", "ndcg@K", "mrr", "mrr@K"} <= set(FORMS)


@pytest.mark.parametrize("form", FORMS)
def test_hand_computed_examples(form):
    if form not in EXAMPLES:
        pytest.fail(f"metric {form!r} has no hand-computed example: add one to EXAMPLES in {__file__}")
    for name, ranks, groups, expected in EXAMPLES[form]:
        assert parse_metric_name(name)[0] == parse_metric_name(name_for(form))[0]
        assert value(name, ranks, groups) == pytest.approx(expected, rel=1e-12, abs=1e-15), (name, ranks, groups)


@pytest.mark.parametrize("form", FORMS)
def test_name_parses_and_is_a_valid_eval_metric(form):
    name = name_for(form, 7)
    base, k = parse_metric_name(name)
    assert base in TOPK_METRICS and k == (7 if "@" in form else None)
    assert EvalConfig(metrics=[name]).metrics == [name]
    with pytest.raises(ConfigError, match="positive integer"):
        parse_metric_name(f"{base}@0")


@pytest.mark.parametrize("form", FORMS)
def test_perfect_and_hopeless_rankings(form):
    name = name_for(form)
    groups = [0, 1, 1, 2]
    assert value(name, [0, 0, 1, 0], groups) == 1.0
    far = value(name, [10**6] * 4, groups)
    if "@" in form:
        assert far == 0.0
        assert value(name, [3] * 4, groups) == 0.0  # rank K is outside the top K
    else:
        assert 0.0 < far < 1e-5
    assert math.isnan(topk_metrics(torch.zeros(0, dtype=torch.long), metrics=[name])[name])


@pytest.mark.parametrize("form", FORMS)
def test_never_above_one_when_a_user_has_several_positives_at_the_top(form):
    """Several rows of one user can share rank 0 (tied scores, or per-row query vectors)."""
    assert value(name_for(form), [0, 0, 0, 0], [0, 0, 1, 2]) <= 1.0


def test_ndcg_places_a_users_tied_positives_at_consecutive_positions():
    """Ranks [0, 0] of one user are positions 0 and 1 of its list (ndcg 1); [2, 2] are 2 and 3."""
    assert topk_metrics(torch.tensor([0, 0]), metrics=["ndcg@10"], groups=torch.tensor([5, 5]))["ndcg@10"] == 1.0
    got = topk_metrics(torch.tensor([2, 2, 0]), metrics=["ndcg@10"], groups=torch.tensor([1, 1, 2]))["ndcg@10"]
    user1 = (1 / L2(4) + 1 / L2(5)) / (1 + 1 / L2(3))
    assert got == pytest.approx((user1 + 1.0) / 2, rel=1e-12)
    # distinct ranks from one list are left as they are
    got = topk_metrics(torch.tensor([3, 0, 7]), metrics=["ndcg@10"], groups=torch.tensor([0, 0, 0]))["ndcg@10"]
    assert got == pytest.approx((1 + 1 / L2(5) + 1 / L2(9)) / (1 + 1 / L2(3) + 1 / L2(4)), rel=1e-12)


@pytest.mark.parametrize("form", FORMS)
def test_better_ranks_never_lower_the_metric(form):
    name = name_for(form, 5)
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        ranks = torch.randint(0, 12, (30,), generator=g)
        groups = torch.randint(0, 6, (30,), generator=g)
        better = ranks - torch.randint(0, 3, (30,), generator=g) * (ranks > 0)
        better = better.clamp_min(0)
        a = topk_metrics(ranks, metrics=[name], groups=groups)[name]
        b = topk_metrics(better, metrics=[name], groups=groups)[name]
        assert 0.0 <= a <= b + 1e-12 <= 1.0 + 1e-12


@pytest.mark.parametrize("form", FORMS)
def test_ties_count_in_the_positives_favour(form):
    """Ranks come from ``positive_ranks``: a candidate scoring exactly like the positive is not above it."""
    q = torch.tensor([[1.0], [1.0]])
    c = torch.tensor([[3.0], [2.0], [2.0], [1.0]])
    ranks = positive_ranks(q, c, torch.tensor([2, 3]))  # tie with row 1 -> rank 1; row 3 -> rank 3
    assert ranks.tolist() == [1, 3]
    expected = {"hit_rate@K": 1 / 2, "recall@K": 1 / 2, "ndcg@K": (1 / L2(3) + 0) / 2,
                "mrr": (1 / 2 + 1 / 4) / 2, "mrr@K": (1 / 2 + 0) / 2}
    if form not in expected:
        pytest.fail(f"metric {form!r}: add its value for ranks [1, 3] at K=2 to this test")
    name = name_for(form, 2)
    assert topk_metrics(ranks, metrics=[name])[name] == pytest.approx(expected[form], rel=1e-12)


def test_unknown_names_list_every_family():
    with pytest.raises(ConfigError) as err:
        parse_metric_name("precision@10")
    msg = str(err.value)
    assert "unknown metric 'precision@10'" in msg
    missing = [f for f in FORMS if f not in msg]
    assert not missing, f"the error message does not list {missing}"

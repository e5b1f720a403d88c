"""A deterministic synthetic dataset with planted, learnable preference structure.

Items belong to latent topics; each user prefers one topic and picks most items from it,
with a popularity skew inside each topic. Side features correlate with the topics (item
genres and title words, user age and country), so both IDs and features carry signal.
The test split is each user's last interaction (leave-last-1 by time).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recstack.data.datasets.base import DATASETS, InteractionData
from recstack.data.splits import leave_last_n
from recstack.errors import ConfigError

__all__ = ["make_synthetic"]

_GENRES = ["Action", "Comedy", "Drama", "Horror", "Romance", "SciFi", "Documentary", "Thriller",
           "Animation", "Crime", "Fantasy", "Western"]
_COUNTRIES = ["US", "DE", "FR", "BR", "IN", "JP", "NG", "MX"]
_WORDS = ["star", "night", "love", "war", "dark", "city", "dream", "blood", "space", "heart", "ghost",
          "river", "king", "storm", "road", "fire", "moon", "secret", "last", "wild", "gold", "iron"]


@DATASETS.register("synthetic")
def make_synthetic(
    num_users: int = 1000,
    num_items: int = 500,
    num_interactions: int = 20000,
    *,
    num_topics: int = 8,
    focus: float = 0.8,
    seed: int = 0,
) -> InteractionData:
    """Generates users, items and interactions (vectorized; 20k rows in milliseconds).

    Args:
        num_users / num_items / num_interactions: sizes.
        num_topics: latent item topics.
        focus: probability that an interaction comes from the user's preferred topic.
        seed: the same seed gives the same data.
    """
    if min(num_users, num_items, num_topics) < 1 or num_interactions < 2 * num_users:
        raise ConfigError("synthetic: sizes must be >= 1 and num_interactions >= 2 * num_users")
    if not 0 <= focus <= 1:
        raise ConfigError(f"synthetic: focus must be in [0, 1], got {focus}")
    rng = np.random.default_rng(seed)
    item_topic = rng.integers(0, num_topics, num_items)
    popularity = rng.zipf(1.6, num_items).clip(max=200).astype(float)
    user_topic = rng.integers(0, num_users and num_topics, num_users)

    # interactions: every user gets at least 2, the rest spread by a skewed activity level
    activity = rng.gamma(1.0, 1.0, num_users) + 0.1
    extra = rng.multinomial(num_interactions - 2 * num_users, activity / activity.sum())
    users = np.repeat(np.arange(num_users), extra + 2)
    in_focus = rng.random(len(users)) < focus
    topics = np.where(in_focus, user_topic[users], rng.integers(0, num_topics, len(users)))
    # pick an item of the chosen topic with probability proportional to popularity
    order = np.argsort(item_topic, kind="stable")
    sorted_topic = item_topic[order]
    starts = np.searchsorted(sorted_topic, np.arange(num_topics))
    ends = np.searchsorted(sorted_topic, np.arange(num_topics), side="right")
    cum = np.cumsum(popularity[order])
    base = np.where(starts > 0, cum[np.maximum(starts - 1, 0)], 0.0)
    lo, hi = base[topics], cum[np.maximum(ends - 1, 0)][topics]
    empty = ends[topics] == starts[topics]
    draw = lo + rng.random(len(users)) * (hi - lo)
    pos = np.searchsorted(cum, draw, side="right").clip(max=num_items - 1)
    items = np.where(empty, rng.integers(0, num_items, len(users)), order[pos])
    timestamps = 1_600_000_000 + np.sort(rng.integers(0, 10_000_000, len(users)))
    rng.shuffle(timestamps)
    affinity = (item_topic[items] == user_topic[users]).astype(float)
    ratings = np.clip(np.round(2.5 + 1.5 * affinity + rng.normal(0, 0.8, len(users))), 1, 5).astype(int)

    genre_pool = np.array(_GENRES, dtype=object)
    g1, g2 = item_topic % len(_GENRES), (item_topic * 5 + 3) % len(_GENRES)
    second = rng.random(num_items) < 0.5
    genres = np.where(second, genre_pool[g1] + "|" + genre_pool[g2], genre_pool[g1])
    words = np.array(_WORDS, dtype=object)
    w1 = words[(item_topic * 3) % len(_WORDS)]
    w2 = words[rng.integers(0, len(_WORDS), num_items)]
    titles = w1 + " " + w2 + " " + pd.Series(np.arange(num_items)).astype(str).radd("no").to_numpy()
    item_table = pd.DataFrame({
        "item_id": np.arange(num_items) + 1, "title": titles.astype(str), "genres": genres.astype(str),
        "price": np.round(rng.gamma(2.0, 5.0, num_items) + item_topic, 2),
    })
    user_table = pd.DataFrame({
        "user_id": np.arange(num_users) + 1,
        "age": (18 + 5 * user_topic + rng.integers(0, 15, num_users)).astype(int),
        "country": np.array(_COUNTRIES, dtype=object)[(user_topic + rng.integers(0, 2, num_users)) % len(_COUNTRIES)],
    })
    inter = pd.DataFrame({"user_id": users + 1, "item_id": items + 1, "rating": ratings, "timestamp": timestamps})
    inter = inter.merge(item_table, on="item_id", how="left").merge(user_table, on="user_id", how="left")
    train, test = leave_last_n(inter, "user_id", "timestamp", n=1)
    return InteractionData("synthetic", train, test, item_table, user_table)

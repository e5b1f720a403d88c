"""Tiny inputs shared by the contract tests: a raw table using every feature type, its fitted
preprocessor, a batch, and example configs for the registered model kinds.

A newly registered model kind is first tried with a config guessed from its config class's
required fields (``FIELD_GUESSES``); when that is not enough, add an entry to
``MODEL_EXAMPLES`` (the contract tests fail with a message saying so).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pandas as pd
import pytest
import torch

from recstack.data import Batch
from recstack.features import Schema
from recstack.models import MODELS
from recstack.preprocessing import Preprocessor

SCHEMA = {
    "user_id": {"type": "categorical"},
    "country": {"type": "categorical", "num_buckets": 5},
    "age": {"type": "numeric", "normalize": True, "buckets": 3},
    "history": {"type": "sequence", "source": "item_id", "max_length": 3},
    "item_id": {"type": "categorical"},
    "genres": {"type": "multi_hot", "separator": "|"},
    "title": {"type": "text", "max_length": 3},
    "price": {"type": "numeric", "log": True, "normalize": True},
}
USER_FEATURES = ["user_id", "country", "age", "history"]
ITEM_FEATURES = ["item_id", "genres", "title", "price"]


def tiny_table() -> pd.DataFrame:
    """12 interactions; items 10..50, users u1..u5; repeated items (dedup paths) on purpose."""
    return pd.DataFrame(
        {
            "user_id": ["u1", "u2", "u3", "u1", "u2", "u4", "u5", "u3", "u1", "u4", "u5", "u2"],
            "country": ["fr", "de", "fr", "fr", "de", "us", "br", "fr", "fr", "us", "br", "de"],
            "age": [20.0, 31.0, 45.0, 20.0, 31.0, 52.0, 28.0, 45.0, 20.0, 52.0, 28.0, 31.0],
            "history": [[], [10], [20, 30], [10, 30], [10, 20, 40], [], [50], [20], [10, 30, 20], [40], [50, 10], [30]],
            "item_id": [10, 20, 30, 40, 10, 20, 50, 40, 30, 10, 20, 50],
            "genres": ["A|B", "B", "C", "A|C", "A|B", "B", "D", "A|C", "C", "A|B", "B", "D"],
            "title": ["red car", "blue sky", "green tree", "red sky", "red car", "blue sky", "dark night",
                      "red sky", "green tree", "red car", "blue sky", "dark night"],
            "price": [9.5, 3.0, 12.0, 7.25, 9.5, 3.0, 1.0, 7.25, 12.0, 9.5, 3.0, 1.0],
            "rating": [5.0, 3.0, 4.0, 1.0, 2.0, 5.0, 4.0, 3.0, 5.0, 1.0, 2.0, 4.0],
        }
    )


@cache
def preprocessor() -> Preprocessor:
    return Preprocessor(Schema.from_dict(SCHEMA)).fit(tiny_table())


def batch() -> Batch:
    table = tiny_table()
    rating = torch.tensor(table["rating"].to_numpy(), dtype=torch.float32)
    labels = {"rating": rating, "label": (rating >= 4).float(), "click": (rating >= 4).float()}
    return Batch(preprocessor().transform(table), labels=labels)


# Explicit tiny configs (without ``kind``); kinds not listed here get a guessed config.
MODEL_EXAMPLES: dict[str, dict[str, Any]] = {
    "two_tower": {"query": USER_FEATURES, "candidate": ITEM_FEATURES, "embedding_dim": 4, "layers": [8, 4]},
}
FIELD_GUESSES: dict[str, Any] = {
    "query": USER_FEATURES,
    "user": USER_FEATURES,
    "user_features": USER_FEATURES,
    "candidate": ITEM_FEATURES,
    "item": ITEM_FEATURES,
    "item_features": ITEM_FEATURES,
    "features": USER_FEATURES + ITEM_FEATURES,
    "sequence": "history",
    "history": "history",
    "target": "item_id",
    "item_key": "item_id",
    "candidate_key": "item_id",
    "label": "label",
}


def model_example(kind: str) -> dict[str, Any]:
    """A tiny config for ``kind`` (explicit, or guessed from its required fields)."""
    if kind in MODEL_EXAMPLES:
        return dict(MODEL_EXAMPLES[kind])
    fields = MODELS.get(kind).config_cls.model_fields
    guess: dict[str, Any] = {}
    for name, field in fields.items():
        if name == "kind" or not field.is_required():
            continue
        if name not in FIELD_GUESSES:
            pytest.fail(
                f"model kind {kind!r}: cannot guess required config field {name!r}; add a tiny config "
                f"for it to MODEL_EXAMPLES in tests/contract/_tiny.py"
            )
        guess[name] = FIELD_GUESSES[name]
    if "embedding_dim" in fields:
        guess["embedding_dim"] = 4
    return guess

"""Cold evaluation rows are answered with the average known query: their features are never
transformed (a feature without a fill would fail on them), and warm rows keep their own."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from recstack.experiment.cold_start import warm_query_features


class Doubling:
    """A stand-in preprocessor: ``age`` doubled, refusing a missing age as a feature without a fill does."""

    def __init__(self) -> None:
        self.seen: list[list[float]] = []

    def transform(self, table: pd.DataFrame, *, features: list[str]) -> dict[str, torch.Tensor]:
        if table["age"].isna().any():
            raise ValueError("age: missing value and no fill")
        self.seen.append(table["age"].tolist())
        return {"age": torch.as_tensor(table["age"].to_numpy() * 2.0)}


TABLE = pd.DataFrame({"age": [10.0, None, 30.0, None]})
KNOWN = {"age": torch.tensor([7.0, 8.0])}


def test_cold_rows_are_not_transformed_and_warm_rows_keep_their_features():
    pre = Doubling()
    out = warm_query_features(pre, ["age"], TABLE, torch.tensor([False, True, False, True]), KNOWN)
    assert pre.seen == [[10.0, 30.0]]
    assert out["age"][[0, 2]].tolist() == [20.0, 60.0] and out["age"].shape == (4,)


def test_every_row_cold_gives_placeholders_of_the_right_shape():
    pre = Doubling()
    out = warm_query_features(pre, ["age"], TABLE, torch.ones(4, dtype=torch.bool), KNOWN)
    assert pre.seen == [] and out["age"].tolist() == [7.0] * 4


def test_without_cold_rows_every_row_is_transformed():
    with pytest.raises(ValueError, match="no fill"):
        warm_query_features(Doubling(), ["age"], TABLE, None, KNOWN)
    full = TABLE.fillna(1.0)
    assert warm_query_features(Doubling(), ["age"], full, torch.zeros(4, dtype=torch.bool), KNOWN)["age"].tolist() \
        == [20.0, 2.0, 60.0, 2.0]

import math

import pytest
import torch

from recstack.layers.embedding import FeatureEmbedding
from recstack.preprocessing.outputs import OutputSpec

# two rows of padded IDs (0 = padding) and one row of only padding
IDS = torch.tensor([[1, 2, 3, 0], [4, 0, 0, 0], [0, 0, 0, 0]])


def pooled(mode):
    spec = OutputSpec("h", "h", "ids", cardinality=6, table="h", pooling=mode)
    emb = FeatureEmbedding([spec], embedding_dim=2)
    with torch.no_grad():
        emb.table_of("h").weight.copy_(torch.tensor([[0, 0], [1, -1], [2, 5], [3, 0], [4, 4], [9, 9]],
                                                    dtype=torch.float))
    return emb.field({"h": IDS}, "h")


@pytest.mark.parametrize("mode, first", [("mean", [2.0, 4 / 3]), ("sum", [6.0, 4.0]),
                                         ("sqrtn", [6 / math.sqrt(3), 4 / math.sqrt(3)]), ("max", [3.0, 5.0])])
def test_pooling_skips_padding_and_empty_rows_pool_to_zero(mode, first):
    out = pooled(mode)
    assert out[0].tolist() == pytest.approx(first)
    assert out[1].tolist() == pytest.approx([4.0, 4.0])  # one item: every mode gives it back
    assert out[2].tolist() == [0.0, 0.0]


def test_padding_and_oov_rows_start_at_zero_and_known_rows_do_not():
    outputs = [OutputSpec("user_id", "user_id", "id", 10, "user_id", "", None, num_oov=3),
               OutputSpec("country", "country", "id", 6, "country", "", None)]  # hashed: num_oov 0
    emb = FeatureEmbedding(outputs, embedding_dim=4)
    users = emb.table_of("user_id").weight
    assert users[:4].abs().sum() == 0 and bool((users[4:].abs().sum(1) > 0).all())
    countries = emb.table_of("country").weight
    assert countries[0].abs().sum() == 0 and bool((countries[1:].abs().sum(1) > 0).all())

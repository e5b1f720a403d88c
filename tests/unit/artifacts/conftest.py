"""The trained model, saved once per test module, that the artifact tests load."""

import pytest

from recstack.experiment import RetrievalExperiment
from tests.conftest import small_config


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    exp = RetrievalExperiment(small_config(**{"train.epochs": 2}))
    exp.fit()
    d = tmp_path_factory.mktemp("art") / "model"
    exp.save(d, metrics=exp.evaluate())
    return exp, d

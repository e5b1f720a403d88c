"""Feature specs: what each raw column is (typed, validated, round-trips to JSON)."""

from recstack.features.base import FeatureSpec
from recstack.features.categorical import CategoricalFeature
from recstack.features.multi_hot import MultiHotFeature
from recstack.features.numeric import NumericFeature
from recstack.features.schema import FEATURE_TYPES, AnyFeature, Schema, parse_feature
from recstack.features.sequence import SequenceFeature
from recstack.features.text import TextFeature

__all__ = [
    "AnyFeature",
    "CategoricalFeature",
    "FEATURE_TYPES",
    "FeatureSpec",
    "MultiHotFeature",
    "NumericFeature",
    "Schema",
    "SequenceFeature",
    "TextFeature",
    "parse_feature",
]

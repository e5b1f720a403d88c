"""FeatureSpec.flag_columns: the one place that says whether a feature reads 0/1 flag columns
(a multi_hot with flags) instead of one column of values."""

from __future__ import annotations

from recstack.features import CategoricalFeature, MultiHotFeature, NumericFeature, SequenceFeature


def test_flag_columns_are_empty_except_for_a_multi_hot_with_flags():
    plain = [CategoricalFeature(name="u"), NumericFeature(name="x"), MultiHotFeature(name="g"),
             SequenceFeature(name="h")]
    assert all(f.flag_columns == () for f in plain)
    flagged = MultiHotFeature(name="genre", flags=["Action", "Comedy"])
    assert flagged.flag_columns == ("Action", "Comedy") == flagged.source_columns
    assert "flag_columns" not in flagged.to_dict()  # a property, not a setting: saved specs are unchanged

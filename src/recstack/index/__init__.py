"""Candidate indexes: exact top-K (ANN back-ends plug in via ``CandidateIndex``)."""

from recstack.index.exact import CandidateIndex, ExactIndex

__all__ = ["CandidateIndex", "ExactIndex"]

"""Fitted transformers (scikit-learn contract) and the :class:`Preprocessor` pipeline.

Every transformer stores settings in ``__init__``, learns ``attr_`` state in ``fit`` (which
returns ``self``), raises :class:`~recstack.errors.NotFittedError` when used unfitted, and
exports its state as a plain JSON-able dict (``get_state`` / ``from_state``).
"""

from recstack.preprocessing.discretizer import Discretizer
from recstack.preprocessing.hashing import Hasher, stable_hash
from recstack.preprocessing.numeric import NumericOutput, NumericTransformer, to_float
from recstack.preprocessing.outputs import OutputKind, OutputSpec
from recstack.preprocessing.preprocessor import Preprocessor
from recstack.preprocessing.ragged import pad, split_ragged
from recstack.preprocessing.tokenizer import Tokenizer
from recstack.preprocessing.vocabulary import Vocabulary

__all__ = [
    "Discretizer",
    "Hasher",
    "NumericOutput",
    "NumericTransformer",
    "OutputKind",
    "OutputSpec",
    "Preprocessor",
    "Tokenizer",
    "Vocabulary",
    "pad",
    "split_ragged",
    "stable_hash",
    "to_float",
]

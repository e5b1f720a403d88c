"""Splitting string cells into tokens with Arrow compute kernels (one pass, no Python loop),
or Python ``re`` where RE2 would split differently (see :func:`split_strings`)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recstack.errors import ConfigError
from recstack.features.text import split_problem
from recstack.preprocessing._cells import arrow_strings, explode_lists

__all__ = ["check_split", "split_strings"]


_UNICODE_CLASSES = re.compile(r"\\[wWsSdDbB]")  # classes RE2 reads as ASCII, Python re as Unicode
_SPACE_CLASSES = re.compile(r"\\[sS]")
_PUNCT = r"!-/:-@\[-`{-~"  # ASCII punctuation: escaped, a literal in both engines
# The constructs RE2 and Python ``re`` read alike (on ASCII text for the classes, checked apart).
# Anything else runs with Python re: anchors and look-arounds ("^": Arrow's splitter re-anchors
# it after every match, so "^a" splits "aaa" into nothing; "$": Python's also matches before a
# final newline; \A, \Z, \b, \B, (?=...), (?<=...)), POSIX classes "[[:space:]]" (a set in
# Python), "x{,3}" (a literal in RE2), flags such as "(?i)", octal and Unicode escapes, nested sets.
_RE2_SAME = re.compile(
    rf"""(?:
        \\[{_PUNCT}] | \\[tnrfv] | \\[dDwWsS]             # escaped literal, control escape, class
      | [^\\.^$*+?()\[\]{{}}|]                                # a literal character
      | [.|]                                                # any character, alternation
      | (?:[*+?]|\{{\d+(?:,\d*)?\}})\??                        # a quantifier, greedy or lazy
      | \(\?: | \)                                           # a non-capturing group
      | \[\^?\]?(?:[^\\\[\]]|\\[{_PUNCT}]|\\[tnrfvdDwWsS])*\]    # a set, nothing nested in it
    )*""",
    re.VERBOSE,
)


def check_split(pattern: str, *, regex: bool = True) -> None:
    """Raises :class:`ConfigError` (a ``ValueError``) unless ``pattern`` is a delimiter that
    needs at least one character: a Python regular expression (``regex``) or a literal.

    A pattern that matches the empty string (``"[\\s,;]*"``, ``"^"``, ``""``) would split
    between every character in Python and never end in RE2 (memory runs out).
    """
    if not regex:
        if not isinstance(pattern, str) or pattern == "":
            raise ConfigError(f"separator: expected a non-empty string, got {pattern!r}; e.g. separator: '|'")
        return
    problem = split_problem(pattern)
    if problem is not None:
        raise ConfigError(problem)


def split_strings(
    strings: pd.Series, pattern: str, *, regex: bool = False, lowercase: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Splits ``(m,)`` string cells into stripped, non-empty tokens.

    Args:
        strings: the cells (no missing values).
        pattern: the delimiter, literal unless ``regex``.
        regex: treat ``pattern`` as a regular expression, with Python ``re`` semantics. It
            runs as RE2 via Arrow only when it is built from constructs both engines read
            alike (literals, escapes, ``.``, sets, quantifiers, ``(?:...)``, ``|``, and
            ``\\w \\s \\d`` on ASCII text); everything else runs with Python ``re``
            (through pandas): anchors (``^ $ \\A \\b``), look-arounds, flags, POSIX classes such as
            ``[[:space:]]`` (a set of characters in Python), classes on non-ASCII text.
        lowercase: lowercase before splitting.

    Returns:
        ``tokens``: ``(t,)`` object array of ``str``; ``cells``: ``(t,)`` int64, the position
        in ``strings`` of each token (non-decreasing, order kept within a cell).

    Raises:
        ConfigError: ``pattern`` matches the empty string or is not a Python regex (:func:`check_split`).
    """
    check_split(pattern, regex=regex)
    arr = arrow_strings(strings)
    if arr is None:  # a lone surrogate ("\udce9", valid JSON) has no UTF-8 form: Python str and re
        cells = pd.Series(strings.to_numpy(dtype=object), dtype=object)
        return _split_with_pandas(cells.str.lower() if lowercase else cells, pattern if regex else re.escape(pattern))
    if lowercase:
        arr = pc.utf8_lower(arr)
    python_re = regex and (
        _RE2_SAME.fullmatch(pattern) is None  # a construct RE2 reads differently (or cannot run)
        or _UNICODE_CLASSES.search(pattern) is not None and (
            not pc.all(pc.string_is_ascii(arr)).as_py()  # RE2's classes are ASCII-only
            or (_SPACE_CLASSES.search(pattern) is not None  # and its \s lacks \v and \x1c-\x1f
                and bool(pc.any(pc.match_substring_regex(arr, pattern="[\\x0b\\x1c-\\x1f]")).as_py()))
        )
    )
    try:
        if python_re:  # e.g. RE2's \w is ASCII-only: "Café" would split as "Caf" + ""
            raise pa.ArrowNotImplementedError("Python re semantics")
        lists = pc.split_pattern_regex(arr, pattern=pattern) if regex else pc.split_pattern(arr, pattern=pattern)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return _split_with_pandas(pd.Series(arr.to_numpy(zero_copy_only=False), dtype=object), pattern)
    cells = pc.list_parent_indices(lists).to_numpy()
    tokens = pc.utf8_trim_whitespace(pc.list_flatten(lists))
    keep = pc.greater(pc.binary_length(tokens), 0).to_numpy(zero_copy_only=False)
    return tokens.to_numpy(zero_copy_only=False)[keep].astype(object), cells[keep].astype(np.int64)


def _split_with_pandas(strings: pd.Series, pattern: str) -> tuple[np.ndarray, np.ndarray]:
    """Python ``re`` split of object-dtype cells (Python-bound per cell, like any ``re`` call)."""
    # a pandas str column (strip and length run in Arrow), objects where a cell has a lone surrogate
    tokens = explode_lists(strings.reset_index(drop=True).str.split(pattern, regex=True)).str.strip()
    tokens = tokens[(tokens.str.len() > 0).to_numpy(dtype=bool, na_value=False)]
    return tokens.to_numpy(dtype=object), tokens.index.to_numpy(dtype=np.int64)

"""Rows with too few fields in a delimited text file, found on its raw bytes.

pandas fills a short row with NaN without a word. The fields of every row are counted as
pandas splits them, in blocks with NumPy (bounded memory, no Python loop per row): quoted
separators and newlines do not count, blank rows are skipped, and a separator of two or
more characters is cut at non-overlapping occurrences on stripped lines (pandas' python
engine). Where counting cannot follow pandas (a regular-expression separator, an encoding
that is not ASCII-compatible, a quote inside an unquoted field), :class:`Unchecked` says why.
"""

from __future__ import annotations

import codecs
from functools import partial
from pathlib import Path

import numpy as np

from recstack.data._files import open_binary

__all__ = ["Unchecked", "first_short_row"]

_BLOCK = 1 << 24  # bytes scanned at once by the field-count check
_MAX_RECORD = 4 * _BLOCK  # a longer record (an unclosed quote?) stops the check
_BLANK_BYTES = np.array([9, 10, 13, 32], dtype=np.uint8)  # tab, newline, carriage return, space
_STRIPPED = np.zeros(256, dtype=bool)  # bytes str.strip() removes (ASCII): pandas' regex-separator lines
_STRIPPED[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True
_BYTE_ENCODINGS = ("utf-8", "ascii", "iso8859", "latin", "cp125", "koi8")  # ASCII bytes mean ASCII
_NONE = np.empty(0, dtype=np.int64)
_Scan = tuple[int, np.ndarray, np.ndarray, np.ndarray, int, int]


class Unchecked(Exception):
    """The field count of a file could not be checked: ``why``, at ``line`` of the block if known."""

    def __init__(self, why: str, line: int | None = None) -> None:
        super().__init__(why)
        self.why, self.line = why, line


def _matches(arr: np.ndarray, sep: bytes) -> np.ndarray:
    """Start positions of every occurrence of ``sep`` in ``arr`` (overlapping ones included)."""
    k = len(sep)
    if len(arr) < k:
        return np.empty(0, dtype=np.int64)
    hit = arr[: len(arr) - k + 1] == sep[0]
    for j in range(1, k):
        hit &= arr[j : len(arr) - k + 1 + j] == sep[j]
    return np.flatnonzero(hit)


def _non_overlapping(pos: np.ndarray, k: int) -> np.ndarray:
    """The matches a left-to-right split takes among sorted match starts ``pos`` of a ``k``-byte
    separator (``":::"`` holds one ``"::"``): the first of each run of overlapping matches, then
    the next match at least ``k`` further, and so on; found by pointer doubling, no Python loop
    per match."""
    if k == 1 or pos.size < 2 or bool((np.diff(pos) >= k).all()):
        return pos
    n = pos.size
    jump = np.append(np.searchsorted(pos, pos + k), n)  # the next match a split can take; n: none
    keep = np.zeros(n + 1, dtype=bool)
    keep[0] = True
    keep[1:n] = np.diff(pos) >= k  # a match clear of the one before is always taken
    while True:  # keep: chains of length < 2**t from those; jump: 2**t steps
        grown = keep.copy()
        grown[jump[keep]] = True
        if bool((grown == keep).all()):
            return pos[keep[:n]]
        keep, jump = grown, jump[jump]


def _line_ends(data: bytes, arr: np.ndarray) -> np.ndarray:
    """Positions of the bytes that end a line as pandas reads it: ``\\n``, and a ``\\r`` not
    followed by ``\\n`` (old Mac files); a ``\\r`` last in ``arr`` waits for the next block."""
    is_end = arr == 10
    if b"\r" in data:  # a byte search: files without CR pay nothing more
        is_end[:-1] |= (arr[:-1] == 13) & (arr[1:] != 10)
    return np.flatnonzero(is_end)


def _scan_quoted(arr: np.ndarray, newlines: np.ndarray, sep: bytes, python: bool = False) -> _Scan:
    """Records of a delimited block as pandas reads them (double quotes may hold separators and
    newlines): its C parser, or with ``python`` its python engine (``csv.reader``), which also
    skips a row of one quoted blank field. ``newlines``: the :func:`_line_ends` of ``arr``.
    Returns ``(cut, first_lines, fields, has_text, lines, dropped)`` for the whole records
    before byte ``cut``: the line (in the block) each starts on, its field count, whether it is
    a row, the lines before ``cut``, and the first record whose leading separator pandas' C
    parser drops (a row after a blank line ending in a lone ``\\r``; may be the one at ``cut``)
    or -1."""
    is_quote = arr == 34
    seps = _matches(arr, sep)
    quotes = np.flatnonzero(is_quote)
    if quotes.size:  # inside quotes after an odd number of them
        inside = np.bitwise_xor.accumulate(is_quote.view(np.uint8))
        seps = seps[inside[seps] == 0]
        end_at = np.flatnonzero(inside[newlines] == 0)  # which newlines end a record
    else:
        end_at = np.arange(newlines.size)
    if not end_at.size:
        return 0, _NONE, _NONE, _NONE, 0, -1
    ends = newlines[end_at]
    cut = int(ends[-1]) + 1
    seps = _non_overlapping(seps[seps < cut], len(sep))
    starts = np.concatenate([[0], ends[:-1] + 1])
    opening = quotes[0::2]
    opening = opening[opening < cut]
    if opening.size:  # the parity model holds only if every opening quote starts a field
        before = opening - 1
        closing = np.concatenate([[-2], quotes[1::2]])[: opening.size]  # the quote before each opening one
        field_end = np.zeros(cut, dtype=bool)  # a newline or a separator's last byte
        field_end[newlines[newlines < cut]] = True
        field_end[seps + len(sep) - 1] = True
        ok = (opening == 0) | (before == closing) | field_end[before]
        if not ok.all():
            first = int(np.searchsorted(newlines, opening[~ok][0]))
            raise Unchecked("a quote character inside an unquoted field", first)
    fields = np.diff(np.searchsorted(seps, ends), prepend=0) + 1  # no separator lies on a newline
    has_text = fields > 1
    dropped = -1
    if not has_text.all():  # a row of one field may be blank: look at its bytes
        blank = _STRIPPED.copy() if python else np.isin(np.arange(256), _BLANK_BYTES)
        blank[34] = python  # python: '" "' is a blank row (a quoted "" that is one '"' is taken as blank too)
        blank[np.frombuffer(sep, dtype=np.uint8)] = False  # a line of separators is a row of empty fields
        has_text |= np.logical_or.reduceat(~blank[arr[:cut]], starts)
        if not python:  # a lone CR is never last in arr (_line_ends), so the byte after it is there
            after = np.flatnonzero(~has_text)
            after = after[arr[ends[after]] == 13]
            after = after[arr[ends[after] + 1] == sep[0]]
            dropped = int(after[0]) + 1 if after.size else -1
    return cut, np.concatenate([[0], end_at[:-1] + 1]), fields, has_text, int(end_at[-1]) + 1, dropped


def _scan_split(arr: np.ndarray, ends: np.ndarray, sep: bytes) -> _Scan:
    """Lines of a block as pandas' python engine splits them at a separator of two or more
    characters: each line stripped of surrounding whitespace, cut at non-overlapping
    occurrences, quotes not special. Same arguments and returns as :func:`_scan_quoted`."""
    if not ends.size:
        return 0, _NONE, _NONE, _NONE, 0, -1
    cut = int(ends[-1]) + 1
    starts = np.concatenate([[0], ends[:-1] + 1])
    solid = ~_STRIPPED[arr[:cut]]
    has_text = np.logical_or.reduceat(solid, starts)
    k = len(sep)
    seps = _matches(arr[:cut], sep)
    if _STRIPPED[np.frombuffer(sep, dtype=np.uint8)].any():  # only then can stripping cut an occurrence
        at = np.flatnonzero(solid)
        lo_i, hi_i = np.searchsorted(at, starts), np.searchsorted(at, ends)
        at = at if at.size else np.zeros(1, dtype=np.int64)
        lo = at[np.minimum(lo_i, at.size - 1)]  # the stripped line is [lo, hi)
        hi = at[np.maximum(hi_i - 1, 0)] + 1
        line = np.searchsorted(ends, seps)
        seps = seps[has_text[line] & (seps >= lo[line]) & (seps + k <= hi[line])]
    seps = _non_overlapping(seps, k)
    fields = np.bincount(np.searchsorted(ends, seps), minlength=ends.size) + 1
    return cut, np.arange(ends.size), fields, has_text, ends.size, -1


def _short_row(path: Path, sep: bytes, *, split: bool, expected: int, skip: int,
               more: bool = False) -> tuple[int, int] | None:
    """``(line, fields)`` of the first data row with fewer than ``expected`` fields (with
    ``more``: more than ``expected``), else None.

    pandas fills a short row with NaN without a word. Fields are counted on the raw bytes in
    blocks with NumPy (bounded memory), as pandas splits them: with ``split`` (a separator of
    two or more characters, pandas' python engine) each line stripped and cut at
    non-overlapping occurrences; otherwise quoted separators and newlines do not count. A line
    ends at ``\\n``, ``\\r\\n`` or a lone ``\\r``. Blank rows are skipped as pandas skips them,
    and so are the first ``skip`` other rows (up to the header).

    Raises:
        Unchecked: a quote inside an unquoted field, a row pandas' C parser shifts (see
            :func:`_scan_quoted`), or a record longer than ``_MAX_RECORD``.
    """
    scan = _scan_split if split else partial(_scan_quoted, python=len(sep) > 1)
    line = records = 0
    carry = b""
    pending = False  # the next block's first record follows a blank line ending in a lone CR
    shifted = 0  # the first line whose leading separator pandas drops, if any
    with open_binary(path) as fh:
        while True:
            block = fh.read(_BLOCK)
            data = carry + block
            if not block and data and not data.endswith(b"\n"):
                data += b"\n"
            try:
                arr = np.frombuffer(data, dtype=np.uint8)
                cut, first_lines, fields, has_text, lines, dropped = scan(arr, _line_ends(data, arr), sep)
            except Unchecked as err:
                raise Unchecked(f"{err.why}, line {line + (err.line or 0) + 1}") from None
            if pending and fields.size:
                dropped, pending = 0, False
            ordinal = records + np.cumsum(has_text) - 1
            wrong = fields > expected if more else fields < expected
            short = np.flatnonzero(has_text & (ordinal >= skip) & wrong)
            if short.size:
                return line + int(first_lines[short[0]]) + 1, int(fields[short[0]])
            if 0 <= dropped < fields.size and not shifted:
                shifted = line + int(first_lines[dropped]) + 1
            pending = pending or dropped == fields.size
            records += int(has_text.sum())
            line += lines
            carry = data[cut:]
            if not block:
                if carry:
                    raise Unchecked("the file ends inside a quoted field")
                if shifted:
                    raise Unchecked(f"line {shifted} starts with the separator after a blank line that ends in "
                                    "a lone carriage return: pandas drops that separator, shifting the row left")
                return None
            if len(carry) > _MAX_RECORD:
                raise Unchecked(f"a row longer than {_MAX_RECORD >> 20} MiB (an unclosed quote?)")


def _byte_countable(encoding: str, sep: str) -> bytes | None:
    """``sep`` encoded, if ``encoding`` writes newlines, quotes and ``sep`` as bytes that mean
    nothing else (ASCII-compatible), else None."""
    if not codecs.lookup(encoding).name.startswith(_BYTE_ENCODINGS):
        return None
    try:
        sep_bytes = sep.encode(encoding)
    except UnicodeEncodeError:
        return None
    return None if (b"\n" in sep_bytes or b"\r" in sep_bytes) else sep_bytes


def first_short_row(path: Path, *, sep: str | None, encoding: str, expected: int, skip: int,
                    more: bool = False) -> tuple[int, int] | None:
    """``(line, fields)`` of the first data row of ``path`` with fewer than ``expected`` fields
    (with ``more``: more than ``expected``; 1-based line as an editor counts it), else None; the
    first ``skip`` non-blank rows (up to the header) are not data. ``sep`` is the literal
    separator, None for a regular expression.

    Raises:
        Unchecked: the fields cannot be counted as pandas splits them (why, and the line if known).
    """
    if sep is None:
        raise Unchecked("sep is a regular expression")
    sep_bytes = _byte_countable(encoding, sep)
    if sep_bytes is None:
        raise Unchecked(f"the {encoding} encoding")
    return _short_row(path, sep_bytes, split=len(sep) > 1, expected=expected, skip=skip, more=more)


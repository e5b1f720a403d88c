"""Text times that order as time: ISO 8601 text of one shape, or an error.

Ordering by a time column (``data.split``'s ``temporal`` and ``leave_last_n``, ``data.history``)
sorts its values as they are. Text sorts character by character, which is time order only
for ISO 8601 text written one way (``1998-03-23 02:08:00``: largest unit first, fixed widths,
one separator, one zone): ``23/03/1998 02:08`` sorts by day of month, and ``1998-03-23 2:08``
after ``1998-03-23 10:00``. Such text must not order rows silently.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from recstack.data._times import iso_time
from recstack.errors import SchemaError

__all__ = ["is_text", "check_text_times", "text_cutoff_error", "TEXT_TIME_FIX"]

_ISO_BODY = r"0000-00-00(?:[T ]00:00(?::00(?:[.,]0+)?)?(?:Z|[+-]00(?::?00)?)?)?"
"""The ISO 8601 shapes accepted, each digit written 0: a date, then optionally a time to the
minute, second or fraction of a second, and a zone (``Z``, ``+02:00``)."""
_ISO_SHAPE = f"^{_ISO_BODY}$"
_DIGIT = r"[0-9]"

TEXT_TIME_FIX = ("give the times as numbers (e.g. Unix seconds) or as ISO 8601 text of one shape, "
                 "YYYY-MM-DD HH:MM:SS (e.g. 1998-03-23 02:08:00)")
"""What a time column of other text should be instead."""


def is_text(values: pd.Series) -> bool:
    """Whether ``values`` is a column of text (object cells all ``str``, or a string dtype)."""
    if values.dtype == object:
        return pd.api.types.infer_dtype(values, skipna=True) == "string"
    return pd.api.types.is_string_dtype(values.dtype)


def check_text_times(times: pd.Series, column: str, where: str, role: str) -> None:
    """Refuses a text column (``times``, without missing cells) that does not sort as time.

    Accepted: every cell ISO 8601 text of one and the same shape (digit positions, separators,
    fraction width), with one zone offset if any, and a real date and time (no month 13). Checked
    over the column's bytes and with Arrow kernels (no Python per row). ``where`` / ``role``:
    where the ordering happens and its setting (``data.time_column``), for the message.

    Raises:
        SchemaError: naming ``role``, the column, how many rows are off, the first with its value
            (``rows``: all of them), and the fix.
    """
    if not len(times) or not is_text(times):
        return
    text = pa.array(times, type=pa.large_string(), from_pandas=True)
    if isinstance(text, pa.ChunkedArray):  # an Arrow column read in chunks
        text = text.combine_chunks()
    shape, bad = _shape(text)
    problem = "are not ISO 8601 text of one shape"
    if shape is not None and not bad.any():
        offset = re.search(r"[+-]00(?::?00)?$", shape[10:])  # after the date: a zone, not the day
        if offset:  # one offset: text orders +02:00 and -05:00 times by their local clocks
            zones = pc.utf8_slice_codeunits(text, 10 + offset.start())
            bad, problem = ~pc.equal(zones, zones[0]).to_numpy(zero_copy_only=False), "have another zone offset"
        if not bad.any():  # the right shape, but no such date or time (month 13)
            bad = pd.to_datetime(times, format="ISO8601", errors="coerce").isna().to_numpy()
            problem = "are no real date or time"
    if not bad.any():
        return
    rows = np.flatnonzero(bad)
    first = int(rows[0])
    like = f" (the others are like {text[int(np.argmin(bad))].as_py()!r})" if not bad.all() else ""
    raise SchemaError(
        f"{where}: column {column!r} holds text that does not sort as time: {rows.size} of {len(bad)} rows {problem}"
        f"{like}, first row {first}: {text[first].as_py()!r}; ordering by {role} sorts text character by character "
        f"(23/03/1998 before 24/01/1997), which would order rows wrongly; {TEXT_TIME_FIX}",
        column=column, rows=rows)


def _shape(text: pa.LargeStringArray) -> tuple[str | None, np.ndarray]:
    """The most common ISO shape of ``text`` (digits as 0; ``None``: no cell has one) and the
    ``(n,)`` rows not of it. Cells of one byte length are compared as an ``(n, L)`` byte grid
    (about 20x faster than Arrow's regex replace); others take the regex path."""
    lengths = pc.binary_length(text).to_numpy(zero_copy_only=False)
    if not (lengths == lengths[0]).all() or not lengths[0]:
        return _shape_by_regex(text)
    offsets, data = text.buffers()[1:3]
    start = int(np.frombuffer(offsets, dtype=np.int64)[text.offset])  # one width: cells lie back to back
    data = np.frombuffer(data, dtype=np.uint8)
    grid = data[start : start + len(text) * int(lengths[0])].reshape(len(text), int(lengths[0]))
    digit = (grid >= ord("0")) & (grid <= ord("9"))
    first = np.where(digit[0], ord("0"), grid[0])
    if not ((np.where(digit, ord("0"), grid) == first).all()
            and re.fullmatch(_ISO_BODY, shape := first.tobytes().decode("latin-1"))):
        return _shape_by_regex(text)
    return shape, np.zeros(len(text), dtype=bool)


def _shape_by_regex(text: pa.LargeStringArray) -> tuple[str | None, np.ndarray]:
    """:func:`_shape` by Arrow's regex kernels, for cells of several lengths."""
    shapes = pc.replace_substring_regex(text, _DIGIT, "0")
    iso = pc.match_substring_regex(shapes, _ISO_SHAPE).to_numpy(zero_copy_only=False)
    counts = pc.value_counts(shapes.filter(pa.array(iso)))
    if not len(counts):
        return None, ~iso
    shape = counts.field("values")[int(np.argmax(counts.field("counts").to_numpy()))].as_py()
    return shape, ~pc.equal(shapes, shape).to_numpy(zero_copy_only=False)


def text_cutoff_error(cutoff: str, sample: str) -> str | None:
    """Why a text ``cutoff`` does not compare as time with a column of ISO text like ``sample``
    (checked by :func:`check_text_times`), or ``None``. Text compares character by character, so
    the cutoff must be a real ISO date or time written as the column's values begin: their date,
    or date and time the same way (``T`` or space; a zone offset, where it goes as far, theirs)."""
    shape, full = re.sub(_DIGIT, "0", cutoff), re.sub(_DIGIT, "0", sample)
    offset = re.search(r"[+-]00(?::?00)?$", full[10:])
    zone = 10 + offset.start() if offset else len(full)
    if (re.fullmatch(_ISO_BODY, shape) and full.startswith(shape) and iso_time(cutoff) is not None
            and cutoff[zone:] == sample[zone:len(cutoff)]):
        return None
    return (f"{cutoff!r} does not compare as time with the column's ISO text (like {sample!r}): text compares "
            f"character by character, so write the cutoff as the column writes its times, e.g. {sample[:10]!r} "
            f"(a date) or {sample!r}")

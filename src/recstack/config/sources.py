"""Table sources of the experiment config: a file on disk and how to read it (``data.train``,
``data.test``, ``data.join.<name>``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from recstack._validation import StrictModel
from recstack.data.readers import ColumnType, encoding_problem

__all__ = ["JoinSource", "TableSource"]


class TableSource(StrictModel):
    """A table on disk and how to read it.

    Attributes:
        path: CSV/TSV/Parquet file; a relative path is looked up in the current folder,
            the config file's folder, then ``$RECSTACK_DATA``.
        sep / names / header / encoding / format: reader options (see ``read_table``).
        key: join column when the table is joined onto the interactions (``data.join``).
        dtype: column types, e.g. ``{user_id: str, item_id: str}`` keeps zero-padded IDs
            (``0007``) as written; ``str``, ``int`` or ``float``; a name that is not a
            column of the file is an error.
    """

    path: str
    sep: str | None = None
    names: list[str] | None = None
    header: int | Literal["infer"] | None = "infer"
    encoding: str = "utf-8"
    format: Literal["csv", "tsv", "parquet"] | None = None
    key: str | None = None
    dtype: dict[str, ColumnType] | None = None

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, v: str) -> str:
        problem = encoding_problem(v)
        if problem:
            raise ValueError(problem)
        return v

    @field_validator("header")
    @classmethod
    def _header_row(cls, v: int | str | None) -> int | str | None:
        if isinstance(v, int) and v < 0:
            raise ValueError(f"{v} is not a row number; use the header's row (0 = first non-blank line), "
                             "or null for a file without a header row")
        return v

    @field_validator("names")
    @classmethod
    def _unique_names(cls, v: list[str] | None) -> list[str] | None:
        dups = sorted({n for n in v if v.count(n) > 1}) if v else []
        if dups:
            raise ValueError(f"{dups[0]!r} appears more than once; give every column its own name")
        return v


class JoinSource(TableSource):
    """A side table of ``data.join``: a :class:`TableSource` whose ``key`` is required."""

    key: str | None = Field(default=None, validate_default=True)

    @field_validator("key")
    @classmethod
    def _key_given(cls, v: str | None) -> str:
        if v is None:  # "missing": the error names data.join.<name>.key and shows no input
            raise PydanticCustomError("missing", "the join column is required (e.g. key: item_id)")
        return v


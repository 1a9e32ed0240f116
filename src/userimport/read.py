"""
Stage 1: read a CSV or XLSX source into a :class:`RawTable` of text cells.

No header is applied here and no value is coerced: every cell is the text a person sees.
"""

from __future__ import annotations

import csv
import io
import os
from typing import IO, TYPE_CHECKING, Literal

import attrs

from .errors import EncodingError, FileFormatError, RowLimitError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["RawTable", "Source", "column_letter", "read_table"]

#: What :func:`read_table` accepts: a path, the file's bytes, or a binary file object.
Source = str | os.PathLike[str] | bytes | IO[bytes]

DEFAULT_MAX_ROWS = 5000


def column_letter(index: int) -> str:
    """
    Return the spreadsheet letter of a 0-based column index.

    >>> column_letter(0), column_letter(25), column_letter(26)
    ('A', 'Z', 'AA')
    """
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@attrs.frozen(kw_only=True, eq=False)
class RawTable:
    """
    The cells of one table, as text, with no header applied.

    Args:
        rows: A DataFrame of ``str`` (empty cell = ``""``), positional index ``0..n-1`` and
            positional columns ``0..m-1``. Never mutated.
        format: ``"csv"`` or ``"xlsx"``.
        encoding: The text encoding used (CSV), else ``None``.
        delimiter: The field delimiter used (CSV), else ``None``.
        sheet: The worksheet read (XLSX), else ``None``.
        sheets: Every worksheet of the workbook (XLSX), else ``()``.
        path: The source's name for messages, or ``None`` for bytes without a name.
        first_row: The spreadsheet row number (1-based) of ``rows.iloc[0]``.
        notes: What was guessed while reading, and why (encoding, delimiter, sheet).
    """

    rows: pd.DataFrame
    format: Literal["csv", "xlsx"]
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    sheets: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    path: str | None = None
    first_row: int = 1
    notes: tuple[str, ...] = attrs.field(default=(), converter=tuple)

    @property
    def name(self) -> str:
        """The source's name for messages (``"<bytes>"`` when it has none)."""
        return self.path or "<bytes>"

    def row_number(self, index: int) -> int:
        """Return the spreadsheet row number (1-based) of the 0-based row ``index``."""
        return self.first_row + index

    def locate(self, index: int, column: int) -> str:
        """
        Name a cell the way a person finds it: ``Users!C17`` or ``line 17, column 3``.

        Args:
            index: 0-based row index into :attr:`rows`.
            column: 0-based column index.
        """
        row = self.row_number(index)
        if self.format == "xlsx":
            return f"{self.sheet}!{column_letter(column)}{row}"
        return f"line {row}, column {column + 1}"


def _load(source: Source) -> tuple[bytes, str | None]:
    if isinstance(source, bytes | bytearray):
        return bytes(source), None
    if isinstance(source, str | os.PathLike):
        path = os.fspath(source)
        try:
            with open(path, "rb") as f:
                return f.read(), path
        except OSError as e:
            raise FileFormatError(f"{path}: cannot open the file: {e.strerror}", path=path) from e
    data = source.read()
    return data, getattr(source, "name", None)


def _decode(data: bytes, encoding: str | None, path: str | None) -> tuple[str, str]:
    candidates = [encoding] if encoding else ["utf-8-sig", "cp1252"]
    for enc in candidates:
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
        except LookupError as e:
            raise EncodingError(f"unknown encoding {enc!r}", path=path) from e
    raise EncodingError(f"{path or '<bytes>'}: cannot decode the file as {encoding}", path=path)


def _sniff_delimiter(text: str) -> str:
    sample = text[:65536].splitlines()[:50]
    best, best_score = ",", -1
    for d in (",", ";", "\t", "|"):
        counts = [line.count(d) for line in sample if line.strip()]
        score = min(counts) if counts else 0
        if score > best_score:
            best, best_score = d, score
    return best


def read_table(
    source: Source,
    *,
    sheet: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    max_rows: int | None = DEFAULT_MAX_ROWS,
) -> RawTable:
    """
    Read a CSV or XLSX source into a :class:`RawTable`.

    Args:
        source: A path, the file's bytes, or a binary file object.
        sheet: The worksheet to read (XLSX); by default the one holding the user table.
        encoding: The text encoding (CSV); guessed when ``None``.
        delimiter: The field delimiter (CSV); guessed among ``,`` ``;`` tab ``|`` when ``None``.
        max_rows: Refuse a source with more data rows than this (``None``: no limit).

    Returns:
        The table's cells as text.

    Raises:
        FileFormatError: The source is not a readable CSV or XLSX file.
        EncodingError: The bytes cannot be decoded.
        RowLimitError: More than ``max_rows`` data rows.
    """
    import pandas as pd

    data, path = _load(source)
    name = path or "<bytes>"
    if not data.strip():
        raise FileFormatError(f"{name}: the file is empty", path=path)
    text, used_encoding = _decode(data, encoding, path)
    sep = delimiter or _sniff_delimiter(text)
    records = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=sep)]
    width = max((len(r) for r in records), default=0)
    records = [r + [""] * (width - len(r)) for r in records]
    nonblank = sum(1 for r in records if any(c.strip() for c in r))
    if max_rows is not None and nonblank - 1 > max_rows:
        raise RowLimitError(
            f"{name}: more than {max_rows} data rows; raise max_rows to read it", limit=max_rows,
            path=path,
        )
    frame = pd.DataFrame(records, dtype=object).fillna("")
    return RawTable(rows=frame, format="csv", encoding=used_encoding, delimiter=sep, path=path)

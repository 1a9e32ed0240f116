"""
The table a reader returns (:class:`RawTable`), and how the CSV and XLSX readers gather its rows:
blank rows held back, too many columns, rows or blank rows refused as the file is read.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from typing import IO, TYPE_CHECKING, Any, Literal

import attrs

from .errors import FileFormatError, RowLimitError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DEFAULT_MAX_ROWS",
    "HEADER_SLACK",
    "MAX_BLANK_ROWS",
    "MAX_COLUMNS",
    "RawTable",
    "Source",
    "collect",
    "column_letter",
    "filled",
    "frame_of",
    "gap_error",
    "kept_rows",
    "limit_error",
    "new_table",
]

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


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(str(v) for v in value)


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
        lines: For a CSV, the physical line on which each row starts (a quoted value with
            line breaks makes lines and rows differ); else ``None``.
        engine: The XLSX engine used (``openpyxl`` or ``calamine``), else ``None``.
        uncalculated: 0-based ``(row, column)`` of the cells (XLSX) holding a formula whose
            value was never saved (a file written by a script): they read as ``""``, and
            validation reports them as ``formula_not_calculated``, not as empty.
        encoding_runner_up: For a CSV whose single-byte encoding was guessed with doubt, the
            encoding that read its letters almost as well (validation warns, cell by cell,
            where the two read differently); else ``None``.
    """

    rows: pd.DataFrame
    format: Literal["csv", "xlsx"]
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    sheets: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    path: str | None = None
    first_row: int = 1
    notes: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    lines: tuple[int, ...] | None = None
    engine: str | None = None
    uncalculated: frozenset[tuple[int, int]] = attrs.field(factory=frozenset, converter=frozenset)
    encoding_runner_up: str | None = None

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
        if self.format == "xlsx":
            return f"{self.sheet}!{column_letter(column)}{self.row_number(index)}"
        line = self.lines[index] if self.lines is not None else self.row_number(index)
        return f"line {line}, column {column + 1}"


HEADER_SLACK = 30


#: More columns than this is not a user list (a hostile or broken file): refused.
MAX_COLUMNS = 1000


#: Blank rows kept inside a table (between filled rows, so that row numbers match the file), at
#: most, in all; blank rows after the last filled row are skipped however many there are.
MAX_BLANK_ROWS = 10_000


def limit_error(name: str, limit: int, path: str | None) -> RowLimitError:
    return RowLimitError(
        f"{name}: the file has more than {limit:,} data rows, the limit; split the file, or "
        f"raise the limit (max_rows=None for none)",
        limit=limit,
        path=path,
    )


def filled(cells: Iterable[str]) -> bool:
    """Whether any cell holds more than white space (one join beats a strip per cell)."""
    text = "".join(cells)
    return bool(text) and not text.isspace()


def kept_rows(columns: Sequence[Any], count: int) -> int:
    """
    How many of the ``count`` rows of Arrow ``columns`` are left once the trailing blank ones
    (see :func:`filled`) are dropped. The rows are taken from the end in growing slices, each
    made into Python values at once (an Arrow scalar per cell costs more than the cell).
    """
    kept, step = count, 64
    while kept:
        start = max(0, kept - step)
        tails = [column.slice(start, kept - start).to_pylist() for column in columns]
        for i in range(kept - start - 1, -1, -1):
            if filled(tail[i] for tail in tails):
                return start + i + 1
        kept, step = start, step * 2
    return 0


def frame_of(records: list[list[str]]) -> pd.DataFrame:
    import pandas as pd

    while records and not filled(records[-1]):
        records.pop()
    width = max((len(r) for r in records), default=0)
    padded = [r + [""] * (width - len(r)) if len(r) < width else r for r in records]
    frame = pd.DataFrame(padded, dtype=object) if padded else pd.DataFrame(dtype=object)
    frame.columns = pd.RangeIndex(width)
    return frame


def gap_error(name: str, path: str | None, place: str, row: int, blank: int) -> FileFormatError:
    return FileFormatError(
        f"{name}: {place} holds values after {blank:,} blank rows in the table, more than "
        f"{MAX_BLANK_ROWS:,}; a user list has no such gaps: delete the blank rows, or what lies "
        "below the list, and save the file again",
        path=path,
        row=row,
    )


def collect(
    items: Iterable[tuple[int, list[str] | int]],
    name: str,
    path: str | None,
    max_rows: int | None,
    place: Callable[[int], tuple[str, int]],
) -> tuple[list[list[str]], list[int], tuple[int, list[str]] | None]:
    """
    Gather rows (and their keys), refusing as soon as there are surely too many.

    An item is a row, or the number ``n`` of blank rows from its key on (keys go up by one
    per row). Blank rows are held back until a filled row follows, so that any number of them
    at the end costs no memory; at most MAX_BLANK_ROWS of them inside the table are kept.
    ``place(key)`` names a row for messages, with its number. Returns the rows (trailing blank
    ones left out), their keys, and the last row read, blank or not, with its key.
    """
    records: list[list[str]] = []
    keys: list[int] = []
    nonblank = kept = waiting = 0  # filled rows, blank rows kept, blank rows held back
    held: list[list[str]] = []
    held_keys: list[int] = []
    last: tuple[int, list[str]] | None = None
    ceiling = None if max_rows is None else max_rows + 1 + HEADER_SLACK
    for key, record in items:
        if isinstance(record, int):
            room = max(0, MAX_BLANK_ROWS + 1 - kept - waiting)
            held.extend([] for _ in range(min(record, room)))
            held_keys.extend(range(key, key + min(record, room)))
            waiting += record
            last = (key, [])
            continue
        last = (key, record)
        if len(record) > MAX_COLUMNS:
            where, row = place(key)
            raise FileFormatError(
                f"{name}: {where} has {len(record):,} cells, more than "
                f"{MAX_COLUMNS:,} columns; this is not a user list",
                path=path,
                row=row,
            )
        if not filled(record):
            if kept + waiting <= MAX_BLANK_ROWS:
                held.append(record)
                held_keys.append(key)
            waiting += 1
            continue
        if waiting:
            kept += waiting
            if kept > MAX_BLANK_ROWS:
                where, row = place(key)
                raise gap_error(name, path, where, row, kept)
            records.extend(held)
            keys.extend(held_keys)
            held.clear()
            held_keys.clear()
            waiting = 0
        records.append(record)
        keys.append(key)
        if ceiling is not None:
            nonblank += 1
            if nonblank > ceiling:
                raise limit_error(name, max_rows or 0, path)
    return records, keys, last


def new_table(frame: pd.DataFrame, empty: str, **fields: Any) -> RawTable:
    """The RawTable of the rows read, refusing an empty one (the row limit is read_table's)."""
    if frame.empty:  # every row blank: all were trimmed
        raise FileFormatError(empty, path=fields.get("path"))
    # Arrow-backed text: a third of the memory of Python strings, and what validation uses.
    return RawTable(rows=frame.astype("str"), **fields)

"""
Stage 1: read a CSV or XLSX source into a :class:`RawTable` of text cells.

No header is applied here and no value is coerced: every cell is the text a person sees.
The CSV reader is :mod:`userimport._csv`, the XLSX one :mod:`userimport._xlsx`; both gather
their rows with :mod:`userimport._table`. The row limit counts the data rows below the header,
so :func:`read_table` asks :func:`~userimport.headers.detect_header` for it when the file is
near the limit (see ``docs/architecture.md``).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Iterator
from typing import IO, Literal

import attrs

from ._csv import DELIMITERS, guess_single_byte, read_csv
from ._table import (
    DEFAULT_MAX_ROWS,
    HEADER_SLACK,
    MAX_BLANK_ROWS,
    MAX_COLUMNS,
    RawTable,
    Source,
    collect,
    column_letter,
    frame_of,
    limit_error,
    new_table,
)
from .errors import EncodingError, FileFormatError, RowLimitError
from .headers import detect_header

__all__ = ["DELIMITERS", "RawTable", "Source", "column_letter", "read_table"]


_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


#: How much of a file is looked at to tell its format, encoding and delimiter.
HEAD = 1 << 20


def _open(source: Source) -> tuple[IO[bytes], str | None, bool]:
    """A binary stream over the source, its path, and whether we opened it (and must close)."""
    if isinstance(source, bytes | bytearray | memoryview):
        return io.BytesIO(bytes(source)), None, True
    if isinstance(source, str | os.PathLike):
        path = os.fspath(source)
        try:
            return open(path, "rb"), path, True
        except OSError as e:
            raise FileFormatError(f"{path}: cannot open the file: {e.strerror}", path=path) from e
    name = getattr(source, "name", None)
    return source, name if isinstance(name, str) else None, False


def _kind(data: bytes, name: str) -> Literal["csv", "xlsx"]:
    """Tell a workbook from text by the bytes, not by the name."""
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "xlsx"
    if data.startswith(_OLE2):
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise FileFormatError(
                f"{name}: the workbook is protected with a password; remove the password in "
                "Excel (File > Info > Protect Workbook) and save it again",
                path=name,
            )
        raise FileFormatError(
            f"{name}: this is a legacy Excel 97-2003 file (.xls); open it in Excel and save it "
            "as .xlsx or .csv",
            path=name,
        )
    if data.startswith((b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b")):
        raise FileFormatError(
            f"{name}: this is not a spreadsheet (it looks like a PDF, image or archive); "
            "upload a .csv or .xlsx file",
            path=name,
        )
    return "csv"


def _check_limit(table: RawTable, max_rows: int | None) -> None:
    """Exactly: data rows below the header (title lines above it do not count)."""
    if max_rows is None or len(table.rows) - 1 <= max_rows:
        return
    # Column-wise: a loop over the rows cost more than reading a 5,000-row file.
    nonblank = table.rows.apply(lambda c: c.str.strip() != "").any(axis=1).to_numpy()
    if int(nonblank.sum()) - 1 <= max_rows:
        return
    header = detect_header(table).row  # remembered: the caller's own detect_header is free
    data_rows = int(nonblank[0 if header is None else header + 1 :].sum())
    if data_rows > max_rows:
        raise limit_error(table.name, max_rows, table.path)


def _read_xlsx(
    data: bytes,
    path: str | None,
    sheet: str | None,
    max_rows: int | None,
    engine: str,
) -> RawTable:
    from . import _xlsx

    name = path or "<bytes>"
    _xlsx.check_archive(data, name)
    # The last row a sheet may reach for calamine: the rows the limit allows, with the
    # header's slack and the blank rows a table may hold.
    reach = None if max_rows is None else max_rows + 1 + HEADER_SLACK + MAX_BLANK_ROWS
    facts = _xlsx.sheet_facts(data)
    hidden = frozenset(s for s, f in facts.items() if f.hidden)
    book, used, engine_note = _xlsx.open_workbook(data, name, engine, reach, facts)
    try:
        sheets = _xlsx.workbook_sheets(book, used)
        if not sheets:
            raise FileFormatError(f"{name}: the workbook has no worksheets", path=path)
        if sheet is None:
            sheet, why = _xlsx.choose_sheet(book, used, sheets, hidden)
        elif sheet not in sheets:
            raise FileFormatError(
                f"{name}: there is no sheet {sheet!r}; the sheets are "
                + ", ".join(repr(s) for s in sheets),
                path=path,
            )
        else:
            why = f"sheet {sheet!r} as given" + (", a hidden sheet" if sheet in hidden else "")
        chosen = sheet

        def place(index: int) -> tuple[str, int]:
            return f"sheet {chosen!r} row {index + 1:,}", index + 1

        records = collect(
            _numbered(_xlsx.sheet_runs(book, used, sheet)), name, path, max_rows, place
        )[0]
    except FileFormatError as e:
        if e.path is None and not str(e).startswith(name):
            raise FileFormatError(f"{name}: {e}", path=path) from e
        raise
    except RowLimitError:
        raise
    except Exception as e:  # a broken sheet inside a valid zip
        raise FileFormatError(f"{name}: cannot read the workbook: {e}", path=path) from e
    except BaseException as e:
        if not _xlsx.is_panic(e):
            raise
        raise FileFormatError(f"{name}: cannot read the workbook: {e}", path=path) from e
    finally:
        close = getattr(book, "close", None)
        if callable(close):
            close()
    fact = facts.get(sheet, _xlsx.SheetFacts())
    _fill_merges(records, fact.merges, name)
    return new_table(
        frame_of(records),
        f"{name}: sheet {sheet!r} is empty",
        format="xlsx",
        sheet=sheet,
        sheets=sheets,
        path=path,
        notes=[why] if engine_note is None else [why, engine_note],
        engine=used,
        uncalculated=frozenset((r - 1, c - 1) for r, c in fact.uncalculated),
    )


def _fill_merges(
    records: list[list[str]], merges: Iterable[tuple[int, int, int, int]], name: str
) -> None:
    """
    Give every cell of each merged range the value of its first cell, as the sheet shows it
    (a department merged down over three people belongs to all three). Ranges reach no
    further than the rows read and MAX_COLUMNS, and fill at most the cells read and 64 more
    per row: merged ranges do not overlap, so more is a hostile file, refused.
    """
    budget = sum(map(len, records)) + 64 * len(records)
    for top, left, bottom, right in merges:
        if top > len(records) or left > MAX_COLUMNS:
            continue
        first = records[top - 1]
        value = first[left - 1] if left <= len(first) else ""
        if not value:
            continue
        right = min(right, MAX_COLUMNS)
        bottom = min(bottom, len(records))
        budget -= (bottom - top + 1) * (right - left + 1)
        if budget < 0:
            raise FileFormatError(
                f"{name}: its merged cells overlap or reach far beyond the list; unmerge them "
                "and save the file again"
            )
        for row in records[top - 1 : bottom]:
            if len(row) < right:
                row.extend([""] * (right - len(row)))
            row[left - 1 : right] = [value] * (right - left + 1)


def _numbered(rows: Iterable[list[str] | int]) -> Iterator[tuple[int, list[str] | int]]:
    """Each row (or run of ``n`` blank rows) with the 0-based index of its first row."""
    index = 0
    for row in rows:
        yield index, row
        index += row if isinstance(row, int) else 1


def read_table(
    source: Source,
    *,
    sheet: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    max_rows: int | None = DEFAULT_MAX_ROWS,
    engine: Literal["auto", "openpyxl", "calamine"] = "auto",
) -> RawTable:
    """
    Read a CSV or XLSX source into a :class:`RawTable` of text cells.

    The format is told by the bytes, not the name. Nothing is coerced: ``00123``, ``NA`` and
    ``Null`` stay as typed. Every guess (encoding, delimiter, sheet) is in ``RawTable.notes``.

    Args:
        source: A path, the file's bytes, or a binary file object.
        sheet: The worksheet to read (XLSX); by default the one holding the user table.
        encoding: The text encoding (CSV); detected when ``None``.
        delimiter: The field delimiter (CSV); detected among ``,`` ``;`` tab ``|`` when
            ``None`` (an Excel ``sep=`` line is obeyed).
        max_rows: Refuse a source with more data rows than this (``None``: no limit). Rows
            above the header row do not count. The file is refused while it is read.
        engine: The XLSX reader: ``calamine`` (``auto``, when installed), but openpyxl for a
            workbook calamine would read otherwise (number formats, merged or error cells) or
            cannot be trusted with (see ``docs/reading.md``); the cells are the same.

    Returns:
        The table's cells as text.

    Raises:
        FileFormatError: The source is not a readable CSV or XLSX file.
        EncodingError: The bytes cannot be decoded.
        RowLimitError: More than ``max_rows`` data rows.
    """
    table = _read(source, sheet, encoding, delimiter, max_rows, engine)
    _check_limit(table, max_rows)
    return table


def _read(
    source: Source,
    sheet: str | None,
    encoding: str | None,
    delimiter: str | None,
    max_rows: int | None,
    engine: str,
) -> RawTable:
    """The table, its row count checked only roughly (while reading, see ``collect``)."""
    stream, path, opened = _open(source)
    name = path or "<bytes>"
    try:
        try:
            head = stream.read(HEAD)
        except (OSError, ValueError) as e:
            raise FileFormatError(f"{name}: cannot read the file: {e}", path=path) from e
        if not isinstance(head, bytes | bytearray):
            raise FileFormatError(
                "the file object gave text, not bytes: open it in binary mode ('rb')"
            )
        head = bytes(head)
        complete = len(head) < HEAD
        if complete and not head.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
            raise FileFormatError(f"{name}: the file is empty", path=path)
        if _kind(head, name) == "xlsx":
            data = head if complete else head + stream.read()
            return _read_xlsx(data, path, sheet, max_rows, engine)
        try:
            return read_csv(head, None if complete else stream, path, encoding, delimiter, max_rows)
        except EncodingError:
            # UTF-8 was guessed from the first MiB and a later byte is not UTF-8: read it all
            # again as the single-byte encoding the whole file fits.
            if encoding is not None or complete or not stream.seekable():
                raise
            stream.seek(0)
            data = stream.read()
            guess, runner, doubt = guess_single_byte(data)
            table = read_csv(data, None, path, guess, delimiter, max_rows)
            why = (
                f"encoding {guess}: not UTF-8 after the first MiB; its letters read best as {guess}"
            )
            return attrs.evolve(
                table,
                notes=(why, *([] if doubt is None else [doubt]), *table.notes[1:]),
                encoding_runner_up=runner,
            )
    finally:
        if opened:
            stream.close()

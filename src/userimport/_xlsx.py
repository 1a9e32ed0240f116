"""
Reading one worksheet of an ``.xlsx`` workbook as text cells, with openpyxl or calamine.

Cells come out as a person sees them: ``12`` not ``12.0``, dates as ISO dates, booleans as
``TRUE``/``FALSE``. Formulas are never evaluated: openpyxl reads the values Excel cached.
Columns keep their places (an empty or hidden column is kept, so letters match the sheet);
trailing empty rows and columns are dropped. A merged cell's value is in its top-left cell.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import zipfile
from collections.abc import Iterable, Iterator
from typing import Any

from .errors import FileFormatError

__all__ = ["cell_text", "choose_sheet", "sheet_rows", "workbook_sheets"]

#: Refuse a workbook that unpacks to more than this (a zip bomb posing as a workbook).
MAX_UNPACKED = 1 << 30
#: ... or that packs more than this tightly (ratio of unpacked to packed size).
MAX_RATIO = 200
#: Excel's own limit on the length of a cell.
MAX_CELL = 32_767
#: More cells than this in a row is not a user list.
MAX_CELLS_PER_ROW = 1000

_EMAILISH = "@"
_HEADER_WORDS = (
    "email", "e-mail", "e-post", "epost", "mail", "first", "last", "name", "navn", "fornavn",
    "etternavn", "department", "avdeling", "group", "gruppe", "vorname", "nachname",
)  # fmt: skip


def cell_text(value: Any) -> str:
    """
    The text a person sees in a cell.

    >>> cell_text(12.0), cell_text(0.1), cell_text(True), cell_text(None)
    ('12', '0.1', 'TRUE', '')
    >>> cell_text(dt.datetime(2020, 1, 1)), cell_text(dt.datetime(2020, 1, 1, 13, 45))
    ('2020-01-01', '2020-01-01 13:45:00')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value)


def check_archive(data: bytes, name: str) -> None:
    """Refuse a zip that is not a workbook, is truncated, or unpacks to far too much."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            infos = archive.infolist()
            mimetype = archive.read("mimetype")[:100] if "mimetype" in names else b""
    except Exception as e:  # zipfile raises many kinds on a damaged archive; all mean the same
        raise FileFormatError(
            f"{name}: the file looks like a workbook but is damaged or truncated ({e}); "
            "open it in Excel and save it again as .xlsx, or save it as .csv",
            path=name,
        ) from e
    if b"opendocument" in mimetype:
        raise FileFormatError(
            f"{name}: this is an OpenDocument spreadsheet (.ods), which is not supported; "
            "save it as .xlsx or .csv",
            path=name,
        )
    if "xl/workbook.bin" in names:
        raise FileFormatError(
            f"{name}: this is a binary Excel workbook (.xlsb), which is not supported; "
            "save it as .xlsx or .csv",
            path=name,
        )
    if "xl/workbook.xml" not in names:
        raise FileFormatError(
            f"{name}: this is a zip archive, not an Excel workbook; upload the .xlsx or .csv "
            "file itself",
            path=name,
        )
    unpacked = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos) or 1
    if unpacked > MAX_UNPACKED or (unpacked > 50 << 20 and unpacked / packed > MAX_RATIO):
        raise FileFormatError(
            f"{name}: the workbook unpacks to {unpacked >> 20} MiB, far more than a user "
            "list; refused as a possible zip bomb",
            path=name,
        )


@functools.cache
def _openpyxl_reader() -> Any:
    """
    openpyxl's read-only workbook reader, but looking for each sheet's ``<dimension>`` only
    before its cells: openpyxl parses a whole sheet to learn it has none (as files that
    openpyxl itself writes in write-only mode have not), doubling the time a read takes.
    """
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet
    from openpyxl.worksheet.dimensions import SheetDimension
    from openpyxl.xml.constants import SHEET_MAIN_NS
    from openpyxl.xml.functions import iterparse  # defusedxml's, when installed

    dimension, data = f"{{{SHEET_MAIN_NS}}}dimension", f"{{{SHEET_MAIN_NS}}}sheetData"

    class Sheet(ReadOnlyWorksheet):  # type: ignore[misc]
        def _get_size(self) -> None:
            with self._get_source() as source:
                for event, element in iterparse(source, events=("start", "end")):
                    if event == "start" and element.tag == data:
                        return
                    if event == "end" and element.tag == dimension:
                        size = SheetDimension.from_tree(element).boundaries
                        self._min_column, self._min_row, self._max_column, self._max_row = size
                        return

    class Reader(ExcelReader):  # type: ignore[misc]
        def read_worksheets(self) -> None:  # the read-only branch of openpyxl's own
            for sheet, rel in self.parser.find_sheets():
                if rel.target not in self.valid_files:
                    continue
                if "chartsheet" in rel.Type:
                    self.read_chartsheet(sheet, rel)
                    continue
                ws = Sheet(self.wb, sheet.name, rel.target, self.shared_strings)
                ws.sheet_state = sheet.state
                self.wb._sheets.append(ws)

    return Reader


def _openpyxl(data: bytes) -> Any:
    """``load_workbook(read_only=True, data_only=True)``, less the wasted pass over each sheet."""
    try:
        reader = _openpyxl_reader()(io.BytesIO(data), read_only=True, data_only=True)
    except (ImportError, AttributeError):  # openpyxl's insides moved: its own loader, slower
        import openpyxl

        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    reader.read()
    return reader.wb


def _calamine(data: bytes) -> Any:
    import python_calamine

    return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))


def open_workbook(data: bytes, name: str, engine: str) -> tuple[Any, str]:
    """Open the workbook with the engine asked for (``auto``: calamine when installed)."""
    if engine == "auto":
        try:
            import python_calamine  # noqa: F401

            engine = "calamine"
        except ImportError:
            engine = "openpyxl"
    try:
        book = _calamine(data) if engine == "calamine" else _openpyxl(data)
    except FileFormatError:
        raise
    except ImportError as e:
        raise FileFormatError(f"the {engine} engine is not installed: {e}", path=name) from e
    except Exception as e:  # any parser failure on a user's file is a format problem
        raise FileFormatError(
            f"{name}: cannot read the workbook ({type(e).__name__}: {e}); open it in Excel and "
            "save it again as .xlsx, or save it as .csv",
            path=name,
        ) from e
    return book, engine


def workbook_sheets(book: Any, engine: str) -> list[str]:
    """The names of the workbook's worksheets, in order."""
    return list(book.sheet_names if engine == "calamine" else book.sheetnames)


def sheet_rows(book: Any, engine: str, sheet: str) -> Iterator[list[str]]:
    """Every row of ``sheet`` from row 1, as text cells (trailing empty cells trimmed)."""
    if engine == "calamine":
        values: Iterable[Iterable[Any]] = book.get_sheet_by_name(sheet).to_python(
            skip_empty_area=False
        )
    else:
        values = book[sheet].iter_rows(min_row=1, values_only=True)
    for number, row in enumerate(values, start=1):
        cells = [v if type(v) is str else cell_text(v) for v in row]
        if len(cells) > MAX_CELLS_PER_ROW or max(map(len, cells), default=0) > MAX_CELL:
            raise FileFormatError(
                f"sheet {sheet!r} row {number} holds more than {MAX_CELLS_PER_ROW:,} cells or a "
                f"cell longer than {MAX_CELL:,} characters (Excel's own limit); "
                "this is not a user list"
            )
        while cells and not cells[-1].strip():
            cells.pop()
        yield cells


def choose_sheet(book: Any, engine: str, sheets: list[str]) -> tuple[str, str]:
    """
    The sheet that holds the user table, and why: the most email-like cells and header words
    in its first rows, so that a first sheet of instructions does not win.
    """
    scores = []
    for sheet in sheets:
        emails = words = filled = 0
        for i, row in enumerate(sheet_rows(book, engine, sheet)):
            if i >= 60:
                break
            for cell in row:
                text = cell.strip().casefold()
                if not text:
                    continue
                filled += 1
                if _EMAILISH in text and " " not in text and "." in text.rpartition("@")[2]:
                    emails += 1
                elif len(text) < 40 and any(w in text for w in _HEADER_WORDS):
                    words += 1
        scores.append((emails * 3 + words, filled, sheet, emails))
    best = max(scores, key=lambda s: (s[0], s[1]))
    if len(sheets) == 1:
        return best[2], f"sheet {best[2]!r} is the only sheet"
    others = ", ".join(f"{s[2]!r} {s[3]}" for s in scores if s[2] != best[2])
    return best[2], (
        f"sheet {best[2]!r} chosen: it holds {best[3]} email addresses in its first rows "
        f"(other sheets: {others})"
    )

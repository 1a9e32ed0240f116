"""
Reading one worksheet of an ``.xlsx`` workbook as text cells, with openpyxl or calamine.

Cells come out as a person sees them: ``12`` not ``12.0``, dates as ISO dates, booleans as
``TRUE``/``FALSE``. Formulas are never evaluated: openpyxl reads the values Excel cached.
Columns keep their places (an empty or hidden column is kept, so letters match the sheet);
trailing empty rows and columns are dropped. A merged cell's value is in its top-left cell.
With openpyxl, a sheet's cells and the shared strings are read by small expat readers that
mirror openpyxl's own, several times faster, and leave to openpyxl whatever they do not mirror
with certainty.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import itertools
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from ._numfmt import cell_text, shown
from ._xlsxfast import MAIN, fast_values, shared_strings
from .errors import FileFormatError

__all__ = [
    "SheetFacts",
    "calamine_differs",
    "calamine_refusal",
    "cell_text",
    "choose_sheet",
    "sheet_facts",
    "sheet_rows",
    "sheet_runs",
    "shown",
    "workbook_sheets",
]

#: Refuse a workbook that unpacks to more than this (a zip bomb posing as a workbook).
MAX_UNPACKED = 1 << 30
#: ... or that packs more than this tightly (ratio of unpacked to packed size).
MAX_RATIO = 200
#: Excel's own limit on the length of a cell.
MAX_CELL = 32_767
#: More cells than this in a row is not a user list.
MAX_CELLS_PER_ROW = 1000
#: calamine holds a sheet as one grid of every cell from its first value to its last, so one
#: value at XFD1048576 asks for 17 billion cells and aborts the process. It is given no workbook
#: in which a sheet may reach further than this many cells (rows x columns, counted from A1).
MAX_GRID = 1 << 21

_EMAILISH = "@"
_HEADER_WORDS = (
    "email", "e-mail", "e-post", "epost", "mail", "first", "last", "name", "navn", "fornavn",
    "etternavn", "department", "avdeling", "group", "gruppe", "vorname", "nachname",
)  # fmt: skip


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
    openpyxl's read-only workbook reader, but ignoring each sheet's ``<dimension>``: it may be
    stale (``A1`` or ``A1:D2`` above a longer list, as some programs write it), and openpyxl
    would read no further; and it costs a whole pass over a sheet that has none. And reading
    the shared string table by expat (:func:`shared_strings`).
    """
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet
    from openpyxl.xml.constants import SHARED_STRINGS

    class Sheet(ReadOnlyWorksheet):  # type: ignore[misc]
        def _get_size(self) -> None:
            """The sheet is read whole: a ``<dimension>`` may be stale (``A1``, ``A1:D2``)."""

    class Reader(ExcelReader):  # type: ignore[misc]
        def read_strings(self) -> None:  # openpyxl's own, the plain table read by expat
            if self.rich_text:
                super().read_strings()
                return
            ct = self.package.find(SHARED_STRINGS)
            if ct is not None:
                self.shared_strings = shared_strings(self.archive, ct.PartName[1:])

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

        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        for sheet in book.worksheets:
            sheet.reset_dimensions()  # read whole, as above
        return book
    reader.read()
    return reader.wb


def _sheet_values(ws: Any, runs: bool = False) -> Iterator[Sequence[Any] | int]:
    """
    The rows of read-only worksheet ``ws`` exactly as ``ws.iter_rows(min_row=1,
    values_only=True)`` gives them, several times faster: by the fast reader, else by openpyxl.

    The fast reader gives a row only once it has read it, and all before it, as openpyxl
    would; on anything else (a cell type or layout it does not know, a DTD, broken XML, a bad
    value, openpyxl failing or warning on another part of the sheet) it raises, at once or
    after many rows. Then openpyxl reads the sheet from the start and its rows are given from
    the first one not given yet. So the rows are always openpyxl's, never a mix, and the sheet
    fails where and as openpyxl fails on it; a late give-up only costs openpyxl's re-reading.
    With ``runs``, the fast reader's runs of empty rows come as numbers (see :func:`fast_values`).
    """
    given = 0
    fast = fast_values(ws, runs)
    with contextlib.closing(fast):
        while True:
            try:
                row = next(fast)
            except StopIteration:
                return
            except Exception:  # whatever the reason: openpyxl knows best
                break
            yield row
            given += row if isinstance(row, int) else 1
    for row in itertools.islice(ws.iter_rows(min_row=1), given, None):
        yield tuple(_cell_shown(cell) for cell in row)


def _cell_shown(cell: Any) -> Any:
    """An openpyxl cell's value, as its number format shows it when it is a number or date."""
    value = cell.value
    try:
        code = getattr(cell, "number_format", None)
    except (IndexError, TypeError):  # a style the workbook does not define: none
        code = None
    if value is None or isinstance(value, str | bool) or code in (None, "General", "@"):
        return value
    return shown(value, code)


def _calamine(data: bytes) -> Any:
    import python_calamine

    return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))


#: How a part's bytes are read for the scan, and how much of one window is read again in the
#: next (more than the longest tag the patterns look at, ``<c r="XFD1048576"``).
_SCAN_CHUNK, _SCAN_OVERLAP = 1 << 20, 32
#: The column bounds the scan tries in turn (a sheet's rows may reach MAX_GRID // columns).
_COLUMN_TIERS = (8, 16, 26, 52, 104, 208, 416, MAX_CELLS_PER_ROW)
#: An element named ``c`` or ``row`` with a namespace prefix (calamine ignores prefixes).
_PREFIXED = re.compile(rb":(?:c|row)[\s/>]")


def _greater(limit: str, alphabet: str, longest: int) -> str:
    """
    A regular expression for the strings over ``alphabet`` (in its order) of at most
    ``longest`` characters that are greater than ``limit`` as spreadsheet numbers: longer, or
    as long and greater letter by letter.

    >>> _greater("15", "0123456789", 3)
    '[0-9]{3,3}|[2-9][0-9]{1}|1[6-9][0-9]{0}'
    """
    first, last = alphabet[0], alphabet[-1]
    branches = [f"[{first}-{last}]{{{len(limit) + 1},{longest}}}"] if len(limit) < longest else []
    for i, char in enumerate(limit):
        above = alphabet[alphabet.index(char) + 1 :]
        if above:
            rest = f"[{first}-{last}]{{{len(limit) - i - 1}}}"
            branches.append(f"{limit[:i]}[{above[0]}-{above[-1]}]{rest}")
    return "|".join(branches) or "(?!)"


@functools.cache
def _beyond(rows: int, columns: int) -> re.Pattern[bytes]:
    """
    One pattern for the cell tags calamine must not be given: one not written ``<c r="A1"``
    (no group), one below row ``rows`` (group ``below``), and one right of column ``columns``
    (group ``right``: its letters).
    """
    from ._table import column_letter

    below = _greater(str(rows), "0123456789", 7)
    right = _greater(column_letter(columns - 1), "ABCDEFGHIJKLMNOPQRSTUVWXYZ", 3)
    return re.compile(
        f'<c(?:[\\t\\r\\n/>]| (?!r="[A-Z]{{1,3}}[0-9]{{1,7}}")'
        f'| r="(?:(?P<below>[A-Z]{{1,3}}(?:{below}))"|(?P<right>{right})[0-9]))'.encode()
    )


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _part_refusal(archive: zipfile.ZipFile, info: zipfile.ZipInfo, rows: int | None) -> str | None:
    """
    Why calamine must not read this part of the workbook, if it may be a sheet reaching too
    far: more than ``rows`` rows (``None``: any), more than MAX_CELLS_PER_ROW columns, more
    than MAX_GRID cells, or cells calamine would place by counting. The bytes are scanned as
    calamine reads them (a part in UTF-16 reads as empty to it), and the scan stops at the first
    cell too far, so a sheet of a million rows costs what its first rows cost.
    """
    tier = 0
    while True:  # again from the start whenever a wider column lowers the row bound
        columns = _COLUMN_TIERS[tier]
        bound = MAX_GRID // columns if rows is None else min(rows, MAX_GRID // columns)
        beyond = _beyond(bound, columns)
        tail, wider, sheet = b"", False, False
        with archive.open(info) as part:
            while not wider:
                chunk = part.read(_SCAN_CHUNK)
                window, final = tail + chunk, not chunk
                tail = window[-_SCAN_OVERLAP:]
                # calamine reads cells only after a sheetData tag (drawings have <xdr:row>)
                sheet = sheet or b"sheetData" in window
                if not sheet:
                    if final:
                        return None
                    continue
                if _PREFIXED.search(window) is not None:
                    return "it holds cells with a namespace prefix"
                found = beyond.search(window)
                if found is not None and found["right"] is not None:
                    widest = max(
                        _column_number(m["right"])
                        for m in beyond.finditer(window)
                        if m["right"] is not None
                    )
                    if widest > _COLUMN_TIERS[-1]:
                        return f"a cell lies in column {widest:,}"
                    tier = next(i for i, c in enumerate(_COLUMN_TIERS) if c >= widest)
                    wider = True
                elif found is not None and found["below"] is not None:
                    return f"a cell lies below row {bound:,} ({columns} columns wide)"
                elif found is not None and (final or found.start() < len(window) - _SCAN_OVERLAP):
                    return 'it holds a cell not written as <c r="A1">'
                elif final:
                    return None


def calamine_refusal(data: bytes, rows: int | None) -> str | None:
    """
    Why the calamine engine must not read this workbook, or ``None`` when it may.

    calamine reads a whole sheet into one grid spanning its first and last values, before any
    row is given; a cell far away (``XFD1048576``) makes that grid too large to allocate and
    aborts the interpreter (python-calamine 0.9). So every part of the archive is scanned
    first, as bytes, for cells beyond ``rows`` rows (the row limit with its slack, ``None``:
    no limit), beyond MAX_CELLS_PER_ROW columns or MAX_GRID cells, and for cells written in a
    way calamine places by counting; openpyxl, which streams, reads such a workbook.

    Args:
        data: The workbook's bytes (a zip archive checked by :func:`check_archive`).
        rows: The last row a sheet may reach, or ``None``.

    Returns:
        The reason, naming the part, or ``None``.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            try:
                reason = _part_refusal(archive, info, rows)
            except Exception as e:  # a damaged part: calamine is not trusted with it either
                reason = f"it cannot be read ({type(e).__name__}: {e})"
            if reason is not None:
                return f"{info.filename}: {reason}"
    return None


def calamine_differs(data: bytes, facts: dict[str, SheetFacts]) -> str | None:
    """
    Why calamine would read this workbook's cells otherwise than openpyxl, or ``None``: it
    gives an error cell as ``""``, a merged range's value only to its first cell, a number
    without its format (``417`` for ``00417``), and refuses a ``<dimension>`` of rows only.
    """
    for sheet, fact in facts.items():
        for found, why in (
            (fact.odd_dimension, "its <dimension> gives rows only"),
            (fact.merges, "it has merged cells"),
            (fact.errors, "it holds error cells (#N/A...)"),
        ):
            if found:
                return f"sheet {sheet!r}: {why}"
    if styles_format_numbers(data):
        return "its cell styles format numbers or dates"
    return None


def open_workbook(
    data: bytes,
    name: str,
    engine: str,
    rows: int | None = None,
    facts: dict[str, SheetFacts] | None = None,
) -> tuple[Any, str, str | None]:
    """
    Open the workbook with the engine asked for (``auto``: calamine when installed).

    calamine is used only when :func:`calamine_refusal` finds nothing and (given the sheets'
    ``facts``) :func:`calamine_differs` neither; else openpyxl, and the third value says why
    (for ``RawTable.notes``). ``rows`` is the last row a sheet may reach.
    """
    if engine == "auto":
        try:
            import python_calamine  # noqa: F401

            engine = "calamine"
        except ImportError:
            engine = "openpyxl"
    note = None
    if engine == "calamine":
        reason = calamine_refusal(data, rows)
        if reason is None and facts is not None:
            reason = calamine_differs(data, facts)
        if reason is not None:
            engine, note = "openpyxl", f"engine openpyxl, not calamine: {reason}"
    try:
        book = _calamine(data) if engine == "calamine" else _openpyxl(data)
    except FileFormatError:
        raise
    except ImportError as e:
        raise FileFormatError(f"the {engine} engine is not installed: {e}", path=name) from e
    except BaseException as e:  # any parser failure on a user's file is a format problem
        if not isinstance(e, Exception) and not is_panic(e):
            raise
        raise FileFormatError(
            f"{name}: cannot read the workbook ({type(e).__name__}: {e}); open it in Excel and "
            "save it again as .xlsx, or save it as .csv",
            path=name,
        ) from e
    return book, engine, note


def is_panic(error: BaseException) -> bool:
    """
    Whether ``error`` is a Rust panic in python-calamine: pyo3 raises ``PanicException``,
    which derives from ``BaseException`` so that ``except Exception`` does not catch it.
    """
    return type(error).__name__ == "PanicException"


def workbook_sheets(book: Any, engine: str) -> list[str]:
    """The names of the workbook's worksheets, in order."""
    return list(book.sheet_names if engine == "calamine" else book.sheetnames)


def sheet_runs(book: Any, engine: str, sheet: str) -> Iterator[list[str] | int]:
    """
    Every row of ``sheet`` from row 1, as text cells (trailing empty cells trimmed), but for
    runs of empty rows the sheet does not write, which may come as their number.

    Raises:
        FileFormatError: A row wider than MAX_CELLS_PER_ROW, or a cell over MAX_CELL.
    """
    if engine == "calamine":
        values: Iterable[Sequence[Any] | int] = book.get_sheet_by_name(sheet).to_python(
            skip_empty_area=False
        )
    else:
        values = _sheet_values(book[sheet], runs=True)
    number = blank = 0  # rows given, and empty rows not given yet
    for row in values:
        if isinstance(row, int) or row.count("") + row.count(None) == len(row):
            blank += row if isinstance(row, int) else 1
            continue
        if blank:
            yield blank
            number, blank = number + blank, 0
        number += 1
        if len(row) > MAX_CELLS_PER_ROW:  # padded to a <dimension> far right, perhaps
            beyond = row[MAX_CELLS_PER_ROW:]
            if beyond.count(None) + beyond.count("") == len(beyond):
                row = row[:MAX_CELLS_PER_ROW]
        cells = [v if type(v) is str else cell_text(v) for v in row]
        if any(map(str.isspace, cells)):  # calamine reads a cell of blanks as "": so do all
            cells = ["" if c.isspace() else c for c in cells]
        if len(cells) > MAX_CELLS_PER_ROW or max(map(len, cells), default=0) > MAX_CELL:
            raise FileFormatError(
                f"sheet {sheet!r} row {number:,} holds more than {MAX_CELLS_PER_ROW:,} cells "
                f"(it reaches column {len(cells):,}) or a cell longer than {MAX_CELL:,} "
                "characters (Excel's own limit); this is not a user list"
            )
        while cells and not cells[-1].strip():
            cells.pop()
        yield cells
    if blank:
        yield blank


def sheet_rows(book: Any, engine: str, sheet: str) -> Iterator[list[str]]:
    """Every row of ``sheet`` from row 1, as text cells (trailing empty cells trimmed)."""
    for row in sheet_runs(book, engine, sheet):
        if isinstance(row, int):
            yield from ([] for _ in range(row))
        else:
            yield row


def choose_sheet(
    book: Any, engine: str, sheets: list[str], hidden: frozenset[str] = frozenset()
) -> tuple[str, str]:
    """
    The sheet that holds the user table, and why: the most email-like cells and header words
    in its first rows, so that a first sheet of instructions does not win. A visible sheet
    with any beats a ``hidden`` one with more (an old list kept out of sight); a hidden sheet
    is chosen only when no visible one has any, and the reason says it is hidden.
    """
    if len(sheets) == 1:  # nothing to choose: its rows are read once, by the caller
        state = " (a hidden sheet)" if sheets[0] in hidden else ""
        return sheets[0], f"sheet {sheets[0]!r}{state} is the only sheet"
    scores = []
    for sheet in sheets:
        emails = words = filled = number = 0
        for row in sheet_runs(book, engine, sheet):
            number += row if isinstance(row, int) else 1
            if number > 60:
                break
            if isinstance(row, int):
                continue
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
    best = max(scores, key=lambda s: (s[2] not in hidden and s[0] > 0, s[0], s[1]))

    def named(sheet: str) -> str:
        return f"{sheet!r} (hidden)" if sheet in hidden else repr(sheet)

    others = ", ".join(f"{named(s[2])} {s[3]}" for s in scores if s[2] != best[2])
    state = " (a hidden sheet: no visible sheet holds a list)" if best[2] in hidden else ""
    return best[2], (
        f"sheet {best[2]!r}{state} chosen: it holds {best[3]} email addresses in its first "
        f"rows (other sheets: {others})"
    )


_PREFIX = rb"(?:[A-Za-z_][\w.-]*:)?"  # a namespace prefix (x:), which Excel never writes
_MERGE = re.compile(
    rb"<"
    + _PREFIX
    + rb'mergeCell\s[^>]*?ref="([A-Z]{1,3})([0-9]{1,7})(?::([A-Z]{1,3})([0-9]{1,7}))?"'
)
#: A formula cell with no saved value: ``<c r="C3"><f>...</f></c>`` or with an empty ``<v/>``,
#: unless it is a text formula (``t="str"``), whose saved value may be "".
_UNCALCULATED = re.compile(
    rb"<" + _PREFIX + rb"c\s([^>]*)>\s*<" + _PREFIX + rb"f\b[^>]*?(?:/>|>[^<]*</" + _PREFIX
    + rb"f>)\s*(?:<" + _PREFIX + rb"v\s*/>|<" + _PREFIX + rb"v>\s*</" + _PREFIX + rb"v>)?\s*</"
    + _PREFIX + rb"c>"
)  # fmt: skip
_REFERENCE = re.compile(rb'\br="([A-Z]{1,3})([0-9]{1,7})"')


@dataclasses.dataclass(frozen=True)
class SheetFacts:
    """
    What a sheet's XML says beside its cells, read the same whatever the engine.

    Attributes:
        hidden: The sheet is hidden (``state="hidden"`` or ``"veryHidden"``).
        merges: Merged ranges as 1-based ``(first row, first column, last row, last column)``.
        uncalculated: 1-based ``(row, column)`` of formula cells whose value was never saved.
        errors: The sheet holds error cells (``t="e"``: ``#N/A``, ``#REF!``...).
        odd_dimension: Its ``<dimension>`` is not written ``A1`` or ``A1:D9`` (``1:39``).
    """

    hidden: bool = False
    merges: tuple[tuple[int, int, int, int], ...] = ()
    uncalculated: frozenset[tuple[int, int]] = frozenset()
    errors: bool = False
    odd_dimension: bool = False


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, tuple[str, bool]]:
    """Each worksheet's name: the part holding it, and whether it is hidden."""
    from openpyxl.xml.functions import fromstring  # defusedxml's, when installed

    rel_ns = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    targets = {
        r.get("Id"): r.get("Target", "")
        for r in fromstring(archive.read("xl/_rels/workbook.xml.rels"))
        if r.get("Id")
    }
    parts: dict[str, tuple[str, bool]] = {}
    for sheet in fromstring(archive.read("xl/workbook.xml")).iter(f"{{{MAIN}sheet"):
        target = targets.get(sheet.get(rel_ns), "")
        path = target.lstrip("/") if target.startswith("/") else "xl/" + target
        parts[sheet.get("name", "")] = (path, sheet.get("state", "visible") != "visible")
    return parts


def _number(letters: bytes, digits: bytes) -> tuple[int, int]:
    return int(digits), _column_number(letters)


#: What one window of a part scanned for facts overlaps the next (more than any cell's XML
#: that the patterns look at: a formula is at most 8,192 characters).
_FACTS_OVERLAP = 1 << 15


def _part_facts(archive: zipfile.ZipFile, path: str, hidden: bool) -> SheetFacts:
    """The facts of one sheet part, scanned in windows: memory stays bounded however long."""
    merges: set[tuple[int, int, int, int]] = set()
    uncalculated: set[tuple[int, int]] = set()
    errors = odd_dimension = False
    tail, first = b"", True
    with archive.open(path) as part:
        while chunk := part.read(_SCAN_CHUNK):
            window = tail + chunk
            tail = window[-_FACTS_OVERLAP:]
            if first:  # the dimension comes before the cells
                head = window[: window.find(b"sheetData")]
                odd_dimension = re.search(rb'<(?:\w+:)?dimension\s+ref="[0-9$]', head) is not None
                first = False
            errors = errors or b't="e"' in window
            if b"mergeCell" in window:
                for a, b, c, d in _MERGE.findall(window):
                    (r1, c1), (r2, c2) = _number(a, b), _number(c or a, d or b)
                    merges.add((min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)))
            if b"<f" in window or b":f" in window:
                for found in _UNCALCULATED.finditer(window):
                    ref = _REFERENCE.search(found[1])
                    if ref is not None and re.search(rb'\bt="str"', found[1]) is None:
                        uncalculated.add(_number(ref[1], ref[2]))
    return SheetFacts(
        hidden=hidden,
        merges=tuple(sorted(merges)),
        uncalculated=frozenset(uncalculated),
        errors=errors,
        odd_dimension=odd_dimension,
    )


def sheet_facts(data: bytes) -> dict[str, SheetFacts]:
    """
    The :class:`SheetFacts` of every worksheet, by name, from a scan of its XML as bytes.

    Missing or unreadable parts give default facts (the engine then says what is wrong).
    """
    facts: dict[str, SheetFacts] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        try:
            parts = _sheet_parts(archive)
        except Exception:  # a workbook part openpyxl or calamine will refuse in its own words
            return facts
        for name, (path, hidden) in parts.items():
            try:
                facts[name] = _part_facts(archive, path, hidden)
            except Exception:  # the engines report a missing or damaged part
                facts[name] = SheetFacts(hidden=hidden)
    return facts


def styles_format_numbers(data: bytes) -> bool:
    """Whether the workbook's cell styles use a number format other than General or text."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        try:
            styles = archive.read("xl/styles.xml")
        except KeyError:
            return False
    xfs = re.search(rb"<(?:\w+:)?cellXfs\b.*?</(?:\w+:)?cellXfs>", styles, re.DOTALL)
    ids = re.findall(rb'numFmtId="([0-9]+)"', xfs[0]) if xfs else []
    return any(int(i) not in (0, 49) for i in ids)

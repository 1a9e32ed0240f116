"""
The fast readers of a worksheet's cells and of the shared strings: small expat parsers that
mirror openpyxl's own (for the openpyxl versions in :data:`MIRRORED`), several times faster.
Whatever they do not mirror with certainty raises :class:`Unsupported`, and openpyxl reads it.
"""

from __future__ import annotations

import io
import itertools
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Generator, Iterable
from typing import IO, Any
from xml.parsers import expat

from ._numfmt import shown

__all__ = [
    "MAIN",
    "MIRRORED",
    "Unsupported",
    "fast_strings",
    "fast_values",
    "shared_strings",
]


class Unsupported(Exception):
    """The fast sheet reader met something it does not mirror openpyxl on with certainty."""


class _Stop(Exception):
    """openpyxl stops reading here: a row past the sheet's declared last row."""


#: Bytes of sheet XML fed to expat at a time.
_CHUNK = 1 << 16


#: The openpyxl versions whose reading of sheets _SheetParser mirrors (tests compare the two).
MIRRORED = ("3.1.",)


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main}"  # expat's "uri}name"
_ROOT, _DATA, _ROW, _CELL = (MAIN + n for n in ("worksheet", "sheetData", "row", "c"))
_V, _F, _IS, _T = (MAIN + n for n in ("v", "f", "is", "t"))
_SST, _SI = MAIN + "sst", MAIN + "si"


#: The cell types openpyxl reads; it keeps the raw text of any other, which we leave to it.
_TYPES = frozenset({"n", "s", "str", "b", "e", "d", "inlineStr"})


#: What an inline string may hold: text, rich text runs and their fonts, phonetic runs.
_INLINE = frozenset(
    MAIN + n
    for n in (
        "t", "r", "rPr", "rPh", "phoneticPr", "rFont", "charset", "family", "b", "i", "strike",
        "outline", "shadow", "condense", "extend", "color", "sz", "u", "vertAlign", "scheme",
    )
)  # fmt: skip


_UNSET: Any = object()  # a cell's value before its first <v> (or <is>) is read


def _et_name(name: str) -> str:
    """expat's ``uri}name`` as ElementTree spells it, ``{uri}name``."""
    return "{" + name if "}" in name else name


def _refuse(*args: Any) -> None:
    """Refuse a DTD: a workbook part has no use for one; openpyxl (defusedxml) refuses entities."""
    raise Unsupported("a DTD")


def _expat(handlers: Any, names: Iterable[str]) -> expat.XMLParserType:
    """
    A namespace-aware expat parser calling ``handlers.start`` and ``.end`` and appending the
    character data to ``handlers.text``, refusing any DTD; ``names`` are interned.
    """
    parser = expat.ParserCreate(namespace_separator="}", intern={n: n for n in names})
    parser.buffer_text = True
    parser.StartElementHandler = handlers.start
    parser.EndElementHandler = handlers.end
    parser.CharacterDataHandler = handlers.text.append
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    return parser


class _SheetParser:
    """
    expat handlers that read a read-only worksheet as openpyxl's ``iter_rows(min_row=1,
    values_only=True)`` does: ``WorkSheetParser.parse_row`` and ``parse_cell`` (data_only),
    then ``ReadOnlyWorksheet._cells_by_row`` and ``_get_row``. Finished rows go to ``rows``.

    Cells must be laid out as Excel lays them out (worksheet, sheetData, row, c, then v, f or
    is); anything else raises :class:`Unsupported`. Each other part of the sheet (views,
    columns, merged cells, print settings, extensions...) is handed to openpyxl's own sheet
    parser as it ends, so that the fast reader warns and fails on it just as openpyxl does.
    """

    def __init__(self, ws: Any) -> None:
        import openpyxl
        from openpyxl.cell.text import Text
        from openpyxl.utils.datetime import from_excel, from_ISO8601
        from openpyxl.worksheet._reader import WorkSheetParser, _cast_number

        if not openpyxl.__version__.startswith(MIRRORED):
            raise Unsupported(f"openpyxl {openpyxl.__version__} reads sheets its own way")
        if not ws.parent.data_only:
            raise Unsupported("formulas wanted")
        self.sheet_parser, self.rich_text = WorkSheetParser, Text.from_tree
        self.cast_number, self.from_excel, self.from_iso = _cast_number, from_excel, from_ISO8601
        self.shared: list[Any] = ws._shared_strings
        self.epoch = ws.parent.epoch
        self.dates, self.timedeltas = ws.parent._date_formats, ws.parent._timedelta_formats
        self.max_col: int | None = ws.max_column
        self.max_row: int | None = ws.max_row
        self.empty = () if self.max_col is None else (None,) * self.max_col
        self.rows: list[tuple[Any, ...] | int] = []  # finished rows; n: n empty rows
        self.text: list[str] = []  # the character data since the last row or part ended
        self.depth = 0  # the elements open, but for those of a part being captured
        self.part: list[Any] | None = None  # its (tag or None at its end, attrs, text mark)
        self.part_depth = 0
        self.part_is_inline = False  # a cell's <is>, not a part for openpyxl
        self.row = self.column = 0  # openpyxl's row_counter and col_counter
        self.counter = 1  # the number of the next row to give (_cells_by_row's counter)
        self.cells: list[tuple[int, Any]] = []
        self.type, self.value, self.mark = "n", _UNSET, -1
        self.style: int | str = 0  # as openpyxl has it: s="" stays ""
        self.columns: dict[str, int] = {}
        self.formats = _format_codes(ws.parent)  # style -> number format, but General

    def parser(self) -> expat.XMLParserType:
        """A namespace-aware expat parser calling these handlers, refusing any DTD."""
        return _expat(self, (_ROOT, _DATA, _ROW, _CELL, _V, _F, _IS, _T))

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if self.part is not None:
            if self.part_is_inline and tag not in _INLINE:
                raise Unsupported(f"{tag} in an inline string")
            self.part.append((tag, attrs, len(self.text)))
            self.part_depth += 1
            return
        depth = self.depth = self.depth + 1
        if depth == 5:  # in a cell
            if tag == _V:
                if self.value is _UNSET and self.type != "inlineStr":  # findtext: the first
                    self.mark = len(self.text)
            elif tag == _IS:
                self.capture(tag, attrs, inline=True)
            elif tag != _F:  # a formula: data_only, its cached value is all that counts
                raise Unsupported(f"{tag} in a cell")
        elif depth == 4:
            if tag != _CELL:
                raise Unsupported(f"{tag} in a row")
            self.start_cell(attrs)
        elif depth == 3:
            if tag != _ROW:
                raise Unsupported(f"{tag} in sheetData")
            self.row = int(attrs["r"]) if "r" in attrs else self.row + 1
            self.column = 0
            self.cells = []
        elif depth == 2:
            if tag != _DATA:
                self.capture(tag, attrs, inline=False)
        elif depth != 1 or tag != _ROOT:
            raise Unsupported(f"{tag} at depth {depth}")

    def start_cell(self, attrs: dict[str, str]) -> None:
        kind = attrs.get("t", "n")
        if kind not in _TYPES:
            raise Unsupported(f"cell type {kind!r}")
        style: int | str = attrs.get("s", 0)
        self.type, self.style, self.value = kind, int(style) if style else style, _UNSET
        reference = attrs.get("r")
        if not reference:
            self.column += 1
            return
        letters = reference.rstrip("0123456789")
        column = self.columns.get(letters)
        if column is None:  # openpyxl reads lower case and stray characters otherwise, or fails
            if letters == reference or not letters.isascii() or not letters.isupper():
                raise Unsupported(f"cell reference {reference!r}")
            from openpyxl.utils import column_index_from_string

            column = self.columns[letters] = column_index_from_string(letters)
        self.column = column

    def capture(self, tag: str, attrs: dict[str, str], *, inline: bool) -> None:
        self.part, self.part_depth = [(tag, attrs, len(self.text))], 1
        self.part_is_inline = inline
        self.depth -= 1

    def end(self, tag: str) -> None:
        if self.part is not None:
            self.part.append((None, None, len(self.text)))
            self.part_depth -= 1
            if not self.part_depth:
                part, self.part = self.part, None
                if not self.part_is_inline:
                    self.replay(_element(part, self.text))
                    self.text.clear()
                elif self.type == "inlineStr" and self.value is _UNSET:  # find: the first
                    self.value = self.inline_text(part)
            return
        self.depth -= 1
        if tag == _CELL:
            self.end_cell()
        elif tag == _V:
            if self.mark >= 0:
                self.value = "".join(self.text[self.mark :]) or None  # as findtext() or None
                self.mark = -1
        elif tag == _ROW:
            self.end_row()

    def inline_text(self, part: list[Any]) -> str:
        """``Text.from_tree(<is>).content``, at once for the usual ``<is><t>text</t></is>``."""
        if len(part) == 4 and part[1][0] == _T and part[2][0] is None and not part[0][1]:
            return "".join(self.text[part[1][2] : part[2][2]])
        content: str = self.rich_text(_element(part, self.text)).content
        return content

    def end_cell(self) -> None:
        kind, value = self.type, self.value
        if value is _UNSET:
            value = None
        elif value is None or kind in ("str", "e", "inlineStr"):
            pass
        elif kind == "s":
            value = self.shared[int(value)]
        elif kind == "n":
            value = self.cast_number(value)
            if self.style in self.dates:
                timedelta = self.style in self.timedeltas
                try:
                    value = self.from_excel(value, self.epoch, timedelta=timedelta)
                except (OverflowError, ValueError):
                    raise Unsupported("a date out of range") from None  # openpyxl warns
        elif kind == "b":
            value = bool(int(value))
        else:
            value = self.from_iso(value)  # "d"
        if kind in ("n", "d") and value is not None:
            code = self.formats.get(self.style) if type(self.style) is int else None
            if code is not None:
                value = shown(value, code)
        self.cells.append((self.column, value))

    def end_row(self) -> None:
        number, max_row = self.row, self.max_row
        if max_row is not None and number > max_row:  # openpyxl reads no further
            self.rows.append(max_row + 1 - self.counter)
            raise _Stop
        if self.counter < number:
            self.rows.append(number - self.counter)
            self.counter = number
        if self.counter == number:  # a row numbered as or below one given is dropped
            self.rows.append(self.values())
            self.counter += 1
        self.text.clear()

    def values(self) -> tuple[Any, ...]:
        """The row's values, as ``_get_row``: as wide as the sheet, else to its last cell."""
        cells = self.cells
        if not cells and not self.max_col:
            return ()
        width = self.max_col or cells[-1][0]
        row: list[Any] = [None] * width
        for column, value in cells:
            if column <= width:
                row[column - 1] = value
        return tuple(row)

    def replay(self, element: ET.Element) -> None:
        """Have openpyxl parse a part of the sheet other than its cells (and ignore it)."""
        root = ET.Element(_et_name(_ROOT))
        root.append(element)
        for _ in self.sheet_parser(io.BytesIO(ET.tostring(root)), []).parse():
            raise Unsupported("a row outside sheetData")


def _element(part: list[Any], text: list[str]) -> ET.Element:
    """
    The element tree of a captured part: ``(tag, attrs, mark)`` opens an element and
    ``(None, None, mark)`` closes one, after the character data in ``text`` up to ``mark``.
    """
    builder = ET.TreeBuilder()
    open_: list[str] = []
    done = part[0][2]
    for tag, attrs, mark in part:
        if mark > done:
            builder.data("".join(text[done:mark]))
            done = mark
        if tag is None:
            builder.end(open_.pop())
        else:
            open_.append(_et_name(tag))
            builder.start(open_[-1], {_et_name(k): v for k, v in attrs.items()})
    return builder.close()


class _StringsParser:
    """
    expat handlers that read a shared string table as openpyxl's ``read_string_table``
    does: ``Text.from_tree(si).content``, less ``x005F_``, per ``<si>``; into ``strings``.

    The usual ``<si><t>text</t></si>`` is read at once; any other item is built as an
    element for openpyxl's ``Text`` to read. Items must be the table's children: anything
    else (an item in an item, another element, another root, a DTD) raises.
    """

    def __init__(self) -> None:
        import openpyxl
        from openpyxl.cell.text import Text

        if not openpyxl.__version__.startswith(MIRRORED):
            raise Unsupported(f"openpyxl {openpyxl.__version__} reads strings its own way")
        self.rich_text = Text.from_tree
        self.strings: list[str] = []
        self.text: list[str] = []  # the character data since the last item ended
        self.item: list[Any] = []  # as a captured part of a sheet (see _element)
        self.depth = 0  # the elements open in the current item
        self.started = False  # the table's root is open

    def parser(self) -> expat.XMLParserType:
        """A namespace-aware expat parser calling these handlers, refusing any DTD."""
        return _expat(self, (_SST, _SI, _T))

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if self.depth:
            if tag == _SI:  # openpyxl reads it as an item too
                raise Unsupported("an item in an item")
            self.item.append((tag, attrs, len(self.text)))
            self.depth += 1
        elif tag == _SI and self.started:
            self.item = [(tag, attrs, len(self.text))]
            self.depth = 1
        elif tag == _SST and not self.started:
            self.started = True
        else:
            raise Unsupported(f"{tag} in the shared strings")

    def end(self, tag: str) -> None:
        if not self.depth:  # the table's end
            return
        item = self.item
        item.append((None, None, len(self.text)))
        self.depth -= 1
        if self.depth:
            return
        if len(item) == 4 and item[1][0] == _T and not item[0][1]:  # <si><t>text</t></si>
            content = "".join(self.text[item[1][2] : item[2][2]])
        else:
            content = self.rich_text(_element(item, self.text)).content
        self.strings.append(content.replace("x005F_", ""))
        self.text.clear()


def fast_strings(source: IO[bytes]) -> list[str]:
    """openpyxl's ``read_string_table(source)``, by expat; raises on what it does not mirror."""
    table = _StringsParser()
    parser = table.parser()
    while chunk := source.read(_CHUNK):
        parser.Parse(chunk, False)
    parser.Parse(b"", True)
    return table.strings


def shared_strings(archive: zipfile.ZipFile, path: str) -> list[str]:
    """
    The shared string table at ``path`` exactly as openpyxl's ``read_string_table`` reads
    it, several times faster: by :func:`fast_strings`, else (on any error) by openpyxl.
    """
    from openpyxl.reader.strings import read_string_table

    try:
        with archive.open(path) as source:
            return fast_strings(source)
    except Exception:  # whatever the reason: openpyxl knows best, and fails as it fails
        with archive.open(path) as source:
            strings: list[str] = read_string_table(source)
            return strings


def fast_values(ws: Any, runs: bool = False) -> Generator[tuple[Any, ...] | int, None, None]:
    """
    The rows of read-only worksheet ``ws`` as its ``iter_rows(min_row=1, values_only=True)``
    gives them, streamed through expat; raises (at once or midway) on what it cannot mirror.
    With ``runs``, ``n`` empty rows in a row (rows the sheet does not write) come as the number
    ``n``, so a sheet that jumps to row 1,048,576 costs no more than one that does not.
    """
    sheet = _SheetParser(ws)
    parser = sheet.parser()
    with ws._get_source() as source:
        while True:
            chunk = source.read(_CHUNK)
            try:
                parser.Parse(chunk, not chunk)
            except _Stop:
                chunk = b""
            rows, sheet.rows = sheet.rows, []
            for row in rows:
                if not isinstance(row, int):
                    yield row
                elif not runs:
                    yield from itertools.repeat(sheet.empty, row)
                elif row > 0:
                    yield row
            if not chunk:
                return


def _format_codes(workbook: Any) -> dict[int, str]:
    """The number format of each cell style of an openpyxl workbook, but General and text."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS
    from openpyxl.styles.numbers import BUILTIN_FORMATS_MAX_SIZE as OFFSET

    codes: dict[int, str] = {}
    custom = workbook._number_formats
    for index, style in enumerate(workbook._cell_styles):
        number = style.numFmtId
        if number < OFFSET:
            code = BUILTIN_FORMATS.get(number, "General")
        elif number - OFFSET < len(custom):
            code = custom[number - OFFSET]
        else:
            code = "General"
        if code not in ("General", "@"):
            codes[index] = code
    return codes

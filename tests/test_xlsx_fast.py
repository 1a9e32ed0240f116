"""The fast (expat) sheet reader gives exactly openpyxl's cell values, or leaves it to openpyxl."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError
from xml.parsers.expat import ExpatError
from xml.sax.saxutils import escape

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl.reader.strings import read_string_table
from openpyxl.utils import get_column_letter

from userimport import FileFormatError, RowLimitError, _xlsx, _xlsxfast, read_table

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SHARED_STRINGS = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
SHEET1 = "xl/worksheets/sheet1.xml"


# -- building workbooks ---------------------------------------------------------------------


def save(book: openpyxl.Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def replace_members(data: bytes, members: dict[str, bytes]) -> bytes:
    """The workbook with some of its parts replaced (or added)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename not in members:
                dst.writestr(info, src.read(info.filename))
        for name, content in members.items():
            dst.writestr(name, content, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def with_shared_strings(data: bytes, extra: Sequence[str] = ()) -> bytes:
    """
    The workbook with the plain inline strings of its sheets moved to a shared string table,
    as Excel saves them, after the ready-made ``<si>`` items ``extra``.
    """
    items = list(extra)
    index: dict[str, int] = {}

    def shared(match: re.Match[str]) -> str:
        text = match.group(2)
        if text not in index:
            index[text] = len(items)
            items.append(f'<si><t xml:space="preserve">{text}</t></si>')
        return f'{match.group(1)} t="s"><v>{index[text]}</v></c>'

    members = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/sheet"):
                xml = archive.read(name).decode()
                xml = re.sub(
                    r'(<c r="\w+"(?: s="\d+")?) t="inlineStr"><is><t>([^<]*)</t></is></c>',
                    shared,
                    xml,
                )
                members[name] = xml.encode()
        override = f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SHARED_STRINGS}"/>'
        types = archive.read("[Content_Types].xml").replace(
            b"</Types>", f"{override}</Types>".encode()
        )
    sst = f'<sst xmlns="{MAIN}" count="{len(items)}">{"".join(items)}</sst>'
    members |= {"[Content_Types].xml": types, "xl/sharedStrings.xml": sst.encode()}
    return replace_members(data, members)


# -- comparing ------------------------------------------------------------------------------


def typed(rows: Any) -> list[list[tuple[type, str]]]:
    """Rows as (type, repr) per value, so 1, 1.0 and True differ."""
    return [[(type(v), repr(v)) for v in row] for row in rows]


def outcome(rows: Any) -> tuple[list[list[tuple[type, str]]], type | None]:
    """The rows given, and the kind of exception that stopped them (None: none)."""
    given: list[Any] = []
    try:
        for row in rows:
            given.append(row)
    except Exception as e:
        return typed(given), type(e)
    return typed(given), None


def as_text(rows: Any) -> list[list[str]]:
    """openpyxl's values as the reader turned them to text before the fast reader came."""
    out = []
    for row in rows:
        cells = [_xlsx.cell_text(v) for v in row]
        cells = ["" if c.isspace() else c for c in cells]  # a cell of blanks reads as ""
        while cells and not cells[-1].strip():
            cells.pop()
        out.append(cells)
    return out


def shown_rows(ws: Any) -> Iterator[tuple[Any, ...]]:
    """openpyxl's own rows, each number or date as its number format shows it."""
    for row in ws.iter_rows(min_row=1):
        yield tuple(_xlsx._cell_shown(cell) for cell in row)


def assert_reads_as_openpyxl(data: bytes, *, fast: bool = True) -> None:
    """
    Every sheet of the workbook reads as openpyxl reads it, value for value and as text,
    including where and how openpyxl fails; with ``fast``, by the fast reader alone wherever
    openpyxl reads without fault.
    """
    book = _xlsx._openpyxl(data)
    for name in book.sheetnames:
        ws = book[name]
        theirs = outcome(shown_rows(ws))
        assert theirs == outcome(_xlsx._sheet_values(ws))
        if fast and theirs[1] is None:
            assert theirs == outcome(_xlsxfast.fast_values(ws))
            rows = list(shown_rows(ws))
            assert as_text(rows) == list(_xlsx.sheet_rows(book, "openpyxl", name))


# -- workbooks written by openpyxl ----------------------------------------------------------

ILLEGAL = "".join(map(chr, [*range(9), 11, 12, *range(14, 32)])) + "\ufffe\uffff"
texts = st.text(st.characters(codec="utf-8", exclude_characters=ILLEGAL), max_size=12)
FORMATS = ["General", "0.00", "@", "#,##0", "0%", "yyyy-mm-dd", "d/m/yy h:mm", "mm:ss",
           "[h]:mm:ss", "h:mm AM/PM", '"kr" #,##0.00', "dd.mm.yyyy"]  # fmt: skip
values = st.one_of(
    st.none(),
    texts,
    texts.map(lambda t: "=" + t),  # text (data_type "s"); in write-only mode a formula
    st.integers(-(10**15), 10**15),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.1, 1e20, -2.5, 1e-7, 12.0, -0.0]),
    st.booleans(),
    st.datetimes(dt.datetime(1900, 3, 1), dt.datetime(9999, 1, 1)),
    st.dates(dt.date(1900, 3, 1)),
    st.times(),
    st.timedeltas(dt.timedelta(0), dt.timedelta(days=999)),
    st.tuples(st.sampled_from(FORMATS), st.integers(0, 99_999) | st.floats(0, 99_999)),
    st.tuples(st.just("="), st.sampled_from(["SUM(1,2)", 'CONCAT("a","b")', "NA()", "1>2"])),
)
#: Cached results written for formulas: (cell type, <v> text), or None for no <v>.
CACHED = [None, ("n", "3"), ("str", "ab &amp; c"), ("str", ""), ("e", "#N/A"), ("b", "0")]


@st.composite
def openpyxl_workbooks(draw: Any) -> bytes:
    """A workbook openpyxl writes, normal or write-only, of cells of every kind, with gaps."""
    write_only = draw(st.booleans())
    grid = st.dictionaries(
        st.integers(1, 25), st.dictionaries(st.integers(1, 8), values, max_size=6), max_size=10
    )
    merge = st.none() | st.tuples(st.integers(1, 20), st.integers(1, 6))
    sheets = draw(st.lists(st.tuples(grid, merge), min_size=1, max_size=3))
    # drawn first: a write-only book left unsaved when hypothesis stops a draw complains
    book = openpyxl.Workbook(write_only=write_only)
    if not write_only:
        book.remove(book.active)
    for number, (cells, merged) in enumerate(sheets):
        ws = book.create_sheet(f"S{number}")
        rows = [[None] * 8 for _ in range(max(cells, default=0))]
        for r, line in cells.items():
            for c, value in line.items():
                rows[r - 1][c - 1] = value
        for r, line in enumerate(rows, start=1):
            if write_only:
                ws.append([v if not isinstance(v, tuple) else "".join(map(str, v)) for v in line])
                continue
            for c, value in enumerate(line, start=1):
                if value is None:
                    continue
                cell = ws.cell(r, c)
                if isinstance(value, tuple) and value[0] == "=":
                    cell.value = "=" + value[1]
                elif isinstance(value, tuple):
                    cell.number_format, cell.value = value
                else:
                    cell.value = value
                    if isinstance(value, str):
                        cell.data_type = "s"
        if merged and not write_only:
            top, left = merged
            ws.merge_cells(start_row=top, start_column=left, end_row=top + 2, end_column=left + 1)
    data = save(book)
    if draw(st.booleans()):  # give formulas cached values, as Excel saves them
        members = {}
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                if name.startswith("xl/worksheets/sheet"):
                    xml = archive.read(name).decode()

                    def cache(match: re.Match[str]) -> str:
                        result = draw(st.sampled_from(CACHED))
                        if result is None:
                            return match.group(0)
                        kind, text = result
                        return (
                            f'{match.group(1)} t="{kind}"><f>{match.group(2)}</f><v>{text}</v></c>'
                        )

                    members[name] = re.sub(
                        r"(<c r=\"\w+\"(?: s=\"\d+\")?)><f>(.*?)</f><v ?/></c>", cache, xml
                    ).encode()
        data = replace_members(data, members)
    if draw(st.booleans()):
        data = with_shared_strings(data)
    return data


@given(openpyxl_workbooks())
def test_workbooks_written_by_openpyxl_read_as_openpyxl(data: bytes) -> None:
    """Cells of every kind, in normal and write-only workbooks, read exactly as openpyxl."""
    assert_reads_as_openpyxl(data)


# -- sheets written by hand -----------------------------------------------------------------

#: Shared strings: rich text, phonetic runs, escapes, empty, spaced.
RICH_SHARED = [
    "<si><t>plain</t></si>",
    '<si><r><rPr><b/><sz val="11"/></rPr><t>Bold</t></r><r><t xml:space="preserve"> and  '
    "plain</t></r></si>",
    '<si><t>漢字</t><rPh sb="0" eb="2"><t>かんじ</t></rPh><phoneticPr fontId="1"/></si>',
    "<si><t>a_x005F_x000D_b &amp; &#233;</t></si>",
    "<si><t/></si>",
    '<si><t xml:space="preserve">  spaced\n</t></si>',
]


def base_workbook(epoch_1904: bool) -> bytes:
    """
    The workbook for hand-written sheets: cell styles 1-6 are date, time, timedelta and number
    formats (in the 1904 one, the default style 0 is a date too), and strings are shared.
    """
    book = openpyxl.Workbook()
    if epoch_1904:
        book.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    for row, fmt in enumerate(["yyyy-mm-dd", "h:mm:ss", "[h]:mm:ss", "0.00", "@", "d/m/yy h:mm"]):
        book.active.cell(row + 1, 1, 1).number_format = fmt
    data = with_shared_strings(save(book), RICH_SHARED)
    if not epoch_1904:
        return data
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        styles = archive.read("xl/styles.xml").decode()
    first = styles.index('<xf numFmtId="0"', styles.index("<cellXfs"))
    styles = styles[:first] + '<xf numFmtId="14"' + styles[first + len('<xf numFmtId="0"') :]
    return replace_members(data, {"xl/styles.xml": styles.encode()})


BASES = {False: base_workbook(False), True: base_workbook(True)}

numbers = st.one_of(
    st.integers(-1000, 100_000).map(str),
    st.floats(-1000, 100_000).map(repr),
    st.sampled_from(["1E3", "2.5e-3", " 7 ", "+4", "0", "-0", "1e20", "007"]),
)
ISO = ["2020-01-02", "2020-01-02T03:04:05", "2020-01-02T03:04:05.25", "12:30:00", "1999-12-31"]


def text_xml(draw: Any, text: str | None = None) -> str:
    """Cell text as XML: escaped, sometimes character references, CDATA or a comment."""
    text = draw(texts) if text is None else text
    how = draw(st.sampled_from(["escape", "refs", "cdata", "comment"]))
    if how == "refs":
        return "".join(f"&#{ord(c)};" if draw(st.booleans()) else escape(c) for c in text)
    if how == "cdata" and "]]>" not in text:
        return f"<![CDATA[{text}]]>"
    if how == "comment" and text:
        return f"{escape(text[:1])}<!-- note -->{escape(text[1:])}"
    return escape(text)


@st.composite
def cells_xml(draw: Any, p: str, row: int) -> str:
    kind = draw(st.sampled_from([None, "n", "s", "str", "b", "e", "d", "inlineStr"]))
    attrs = ""
    if draw(st.integers(0, 4)):
        attrs += f' r="{get_column_letter(draw(st.integers(1, 12)))}{row}"'
    if draw(st.booleans()):
        attrs += f' s="{draw(st.sampled_from(["0", "1", "2", "3", "4", "5", "6", "9", ""]))}"'
    if kind:
        attrs += f' t="{kind}"'
    formula = f"<{p}f>SUM(A1:B2)</{p}f>" if draw(st.integers(0, 3)) == 0 else ""
    if kind == "inlineStr":
        body = draw(
            st.sampled_from(
                [
                    f"<{p}is><{p}t>{text_xml(draw)}</{p}t></{p}is>",
                    f'<{p}is><{p}t xml:space="preserve"> {text_xml(draw)} </{p}t></{p}is>',
                    f'<{p}is><{p}r><{p}rPr><{p}b/><{p}color rgb="FFFF0000"/></{p}rPr>'
                    f"<{p}t>{text_xml(draw)}</{p}t></{p}r><{p}r><{p}t>tail</{p}t></{p}r></{p}is>",
                    f"<{p}is>\n  <{p}t>{text_xml(draw)}</{p}t>\n</{p}is>",
                    f"<{p}is/>",
                    f"<{p}is><{p}t>a</{p}t><{p}t>{text_xml(draw)}</{p}t></{p}is>",
                    f"<{p}is><{p}t>a</{p}t><{p}r><{p}t>{text_xml(draw)}</{p}t></{p}r></{p}is>",
                    f"<{p}is><{p}t>{text_xml(draw)}</{p}t></{p}is><{p}is><{p}t>b</{p}t></{p}is>",
                    "",
                    f"<{p}v>ignored</{p}v><{p}is><{p}t>x</{p}t></{p}is>",
                ]
            )
        )
    else:
        text = {
            None: lambda: draw(numbers),
            "n": lambda: draw(numbers),
            "s": lambda: str(draw(st.integers(0, len(RICH_SHARED) - 1))),
            "str": lambda: text_xml(draw),
            "b": lambda: draw(st.sampled_from(["0", "1"])),
            "e": lambda: draw(st.sampled_from(["#N/A", "#DIV/0!", "#REF!"])),
            "d": lambda: draw(st.sampled_from(ISO)),
        }[kind]()
        body = draw(
            st.sampled_from(
                [
                    f"<{p}v>{text}</{p}v>",
                    f"<{p}v/>",
                    "",
                    f"<{p}v></{p}v>",
                    f"<{p}v>{text}</{p}v><{p}v>1</{p}v>",
                ]
            )
        )
        body = formula + body
    return f"<{p}c{attrs}>{body}</{p}c>" if body or draw(st.booleans()) else f"<{p}c{attrs}/>"


@st.composite
def sheets_xml(draw: Any) -> bytes:
    """A sheet as any writer might lay it out, within what the fast reader takes on."""
    p = draw(st.sampled_from(["", "x:"]))  # the default namespace, or a prefix for it
    ns = f'xmlns{":x" if p else ""}="{MAIN}"'
    gap = draw(st.sampled_from(["", "\n", "\n  "]))
    rows, number = [], 0
    for _ in range(draw(st.integers(0, 12))):
        number = max(1, number + draw(st.sampled_from([1, 1, 2, 5, 0, -1, -2])))
        attrs = f' r="{number}"' if draw(st.integers(0, 2)) else ""
        if draw(st.booleans()):
            attrs += ' spans="1:5" ht="15" customHeight="1"'
        cells = gap.join(draw(st.lists(cells_xml(p, number), max_size=6)))
        rows.append(f"<{p}row{attrs}>{cells}</{p}row>")
    dimension = ""
    if draw(st.booleans()):
        first = f"{get_column_letter(draw(st.integers(1, 3)))}{draw(st.integers(1, 3))}"
        last = f"{get_column_letter(draw(st.integers(3, 14)))}{draw(st.integers(3, 16))}"
        dimension = f'<{p}dimension ref="{first}:{last}"/>'
    tail = draw(
        st.sampled_from(
            [
                "",
                f'<{p}mergeCells count="1"><{p}mergeCell ref="A1:B2"/></{p}mergeCells>',
                f'<{p}pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
                'footer="0.3"/>',
            ]
        )
    )
    declaration = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    return (
        f"{declaration}<{p}worksheet {ns}>{dimension}<{p}sheetViews><{p}sheetView "
        f'workbookViewId="0"/></{p}sheetViews>{gap}<{p}sheetData>{gap}'
        f"{gap.join(rows)}{gap}</{p}sheetData>{tail}</{p}worksheet>"
    ).encode()


@given(sheets_xml(), st.booleans())
def test_sheets_written_by_hand_read_as_openpyxl(sheet: bytes, epoch_1904: bool) -> None:
    """Gaps, rows and cells without numbers, out of order, every cell type, escapes, rich
    text, shared strings, date styles in both epochs, dimensions that cut or pad: as openpyxl."""
    assert_reads_as_openpyxl(replace_members(BASES[epoch_1904], {SHEET1: sheet}))


def rows_of(rows: str) -> str:
    """The sheetData of these rows."""
    return f"<sheetData>{rows}</sheetData>"


EDGES = {
    "empty-style": rows_of('<row><c s=""><v>3</v></c><c><v>3</v></c><c s="0"><v>3</v></c></row>'),
    "spaced-inline": rows_of('<row><c t="inlineStr"><is>\n  <t>x</t>\n</is></c></row>'),
    "rows-back": rows_of(
        '<row r="5"/><row r="3"><c><v>1</v></c></row><row><c><v>2</v></c></row>'
        '<row><c><v>3</v></c></row><row/><row r="9"><c><v>4</v></c></row>'
    ),
    "rows-late": rows_of('<row r="3"><c r="B3"><v>1</v></c></row><row r="7"/>'),
    "cut": '<dimension ref="A1:B2"/>'
    + rows_of(
        "<row><c><v>1</v></c><c><v>2</v></c><c><v>3</v></c></row><row/><row><c><v>4</v></c></row>"
    ),
    "padded": '<dimension ref="B2:F9"/>' + rows_of('<row r="2"><c r="B2"><v>1</v></c></row>'),
    "cells-back": rows_of('<row><c r="C1"><v>1</v></c><c r="A1"><v>2</v></c></row>'),
    "cells-after": rows_of(
        '<row><c r="C1"><v>1</v></c><c><v>2</v></c><c r="B1"/><c><v>3</v></c></row>'
    ),
    "first-wins": rows_of(
        '<row><c><v>1</v><v>2</v></c><c t="inlineStr"><is><t>a</t></is><is><t>b</t></is></c>'
        '<c t="inlineStr"><v>9</v></c><c t="s"><is><t>x</t></is><v>0</v></c></row>'
    ),
    "formulas": rows_of(
        '<row><c t="e"><f>1/0</f><v>#DIV/0!</v></c><c t="str"><f>A1</f><v> x </v></c>'
        '<c><f>A1</f></c><c t="b"><f>TRUE()</f><v>1</v></c><c><f t="shared" si="0"/><v>2</v>'
        "</c></row>"
    ),
    "text": rows_of(
        '<row><c t="str"><v>a&amp;b&#x41;&#233;<![CDATA[<c>]]><!-- x -->z\r\n</v></c>'
        '<c t="inlineStr"><is><t xml:space="preserve">  =1+1 </t></is></c></row>'
    ),
    "iso": rows_of(
        '<row><c t="d"><v>2020-01-02</v></c><c t="d"><v>2020-01-02T03:04:05</v></c>'
        '<c t="d"><v>12:30:00</v></c></row>'
    ),
    "numbers": rows_of(
        '<row><c><v> 7 </v></c><c><v>1E3</v></c><c><v>-0</v></c><c s="1"><v>0.5</v></c>'
        '<c s="3"><v>1.5</v></c><c s="2"><v>0.25</v></c><c s="6"><v>44000.75</v></c></row>'
    ),
}


@pytest.mark.parametrize("epoch_1904", [False, True])
@pytest.mark.parametrize("content", EDGES.values(), ids=EDGES.keys())
def test_edges_read_as_openpyxl(content: str, epoch_1904: bool) -> None:
    """Style "" (not 0), rows and cells out of order or unnumbered, dimensions that cut or
    pad, the first <v>/<is> winning, cached formula results, escapes, ISO dates, numbers."""
    xml = f'<worksheet xmlns="{MAIN}">{content}</worksheet>'
    assert_reads_as_openpyxl(replace_members(BASES[epoch_1904], {SHEET1: xml.encode()}))


def test_shared_and_inline_rich_text() -> None:
    """Shared strings (rich, phonetic, escaped, empty, spaced) and inline rich text."""
    cells = "".join(f'<c r="{get_column_letter(i + 1)}1" t="s"><v>{i}</v></c>' for i in range(6))
    inline = (
        '<c r="A2" t="inlineStr"><is><r><rPr><i/></rPr><t>It</t></r><r><t xml:space="preserve">'
        ' alic</t></r><rPh sb="0" eb="1"><t>x</t></rPh></is></c>'
    )
    sheet = f'<worksheet xmlns="{MAIN}"><sheetData><row>{cells}</row><row>{inline}</row>'
    data = replace_members(BASES[False], {SHEET1: f"{sheet}</sheetData></worksheet>".encode()})
    assert_reads_as_openpyxl(data)
    book = _xlsx._openpyxl(data)
    assert [
        ["plain", "Bold and  plain", "漢字", "a_x000D_b & é", "", "  spaced\n"],
        ["It alic"],
    ] == list(_xlsx.sheet_rows(book, "openpyxl", book.sheetnames[0]))


def test_corpus_workbooks_read_as_openpyxl(corpus: Path) -> None:
    """Every workbook of the shared corpus reads exactly as openpyxl reads it."""
    found = sorted(corpus.glob("*.xlsx"))
    assert found
    for path in found:
        assert_reads_as_openpyxl(path.read_bytes())


def test_benchmark_like_workbooks_read_as_openpyxl() -> None:
    """A user list as openpyxl's write-only mode saves it, and as Excel does (shared strings)."""
    book = openpyxl.Workbook(write_only=True)
    ws = book.create_sheet("Users")
    ws.append(["first_name", "last_name", "email", "department", "groups"])
    for i in range(3000):
        ws.append([f"Å{i}", "Berg", f"a.{i}@firma.no", "Sales", "g1,g2" if i % 2 else None])
    data = save(book)
    assert_reads_as_openpyxl(data)
    assert_reads_as_openpyxl(with_shared_strings(data))


# -- leaving it to openpyxl -----------------------------------------------------------------

ROWS = "".join(
    f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>user{r}@firma.no</t></is></c></row>'
    for r in range(1, 4000)
)


def sheet(middle: str = "", *, before: str = "", rows: str = ROWS) -> bytes:
    """A worksheet of 3999 rows, then ``middle`` (more sheetData), after a prologue."""
    return (
        f'<?xml version="1.0"?>{before}<worksheet xmlns="{MAIN}"><sheetData>{rows}{middle}'
        "</sheetData></worksheet>"
    ).encode()


def book_with(xml: bytes) -> Any:
    """The base workbook, opened, with this first sheet."""
    return _xlsx._openpyxl(replace_members(BASES[False], {SHEET1: xml}))


def test_a_sheet_with_entities_is_refused_as_before() -> None:
    """A DTD with entities: openpyxl (defusedxml) refuses it, and so would the fast reader."""
    xml = sheet(before='<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>')
    xml = xml.replace(b"user1@", b"&b;@")
    with pytest.raises(FileFormatError, match="cannot read the workbook"):
        read_table(replace_members(BASES[False], {SHEET1: xml}), engine="openpyxl")
    ws = book_with(sheet()).worksheets[0]  # openpyxl refuses it on opening: swap it in after
    ws._get_source = lambda: io.BytesIO(xml)
    with pytest.raises(_xlsxfast.Unsupported):
        next(_xlsxfast.fast_values(ws))


def test_a_plain_doctype_is_left_to_openpyxl() -> None:
    """A DTD without entities: the fast reader refuses it; openpyxl reads the sheet."""
    xml = sheet(before="<!DOCTYPE worksheet>")
    with pytest.raises(_xlsxfast.Unsupported):
        next(_xlsxfast.fast_values(book_with(xml).worksheets[0]))
    assert_reads_as_openpyxl(replace_members(BASES[False], {SHEET1: xml}), fast=False)


EXT = '<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}"/></extLst>'
BEYOND = {
    "type": '<row r="4000"><c r="A4000" t="x"><v>2020-01-02</v></c></row>',
    "float-row": '<row r="4000.0"><c r="A4000"><v>1</v></c></row>',
    "lower-case": '<row r="4000"><c r="a4000"><v>1</v></c></row>',
    "date": '<row r="4000"><c r="A4000" s="1"><v>1e9</v></c></row>',  # too late: a warning
    "in-row": '<row r="4000"><foo/><c><v>1</v></c></row>',  # openpyxl takes it for a cell
    "in-cell": '<row r="4000"><c r="A4000"><extLst/></c></row>',
    "in-string": f'<row r="4000"><c t="inlineStr"><is><t>a</t>{EXT}</is></c></row>',  # warns
    "shared": '<row r="4000"><c r="A4000" t="s"><v>99</v></c></row>',  # no such string
    "broken": '<row r="4000"><c r="A4000"><v>1</v></c>',
}


@pytest.mark.parametrize("first", [True, False], ids=["first", "late"])
@pytest.mark.parametrize("middle", BEYOND.values(), ids=BEYOND.keys())
def test_what_the_fast_reader_leaves_reads_as_openpyxl(middle: str, first: bool) -> None:
    """A row the fast reader does not take on, first or after 3999: it gives up (with no row
    given, or some), and the sheet reads as openpyxl reads it, rows and failure alike."""
    xml = sheet(middle, rows="" if first else ROWS)
    ws = book_with(xml).worksheets[0]
    given, failure = outcome(_xlsxfast.fast_values(ws))
    assert failure is not None
    assert not given if first else len(given) > 0
    late = pytest.warns(UserWarning, match="outside the limits for dates")
    with late if "1e9" in middle else contextlib.nullcontext():
        assert_reads_as_openpyxl(replace_members(BASES[False], {SHEET1: xml}), fast=False)


def test_parts_of_the_sheet_warn_as_in_openpyxl() -> None:
    """openpyxl's warning about a sheet extension comes from the fast reader too."""
    xml = sheet().replace(b"</worksheet>", f"{EXT}</worksheet>".encode())
    ws = book_with(xml).worksheets[0]
    with pytest.warns(UserWarning, match="extension is not supported"):
        assert len(list(_xlsxfast.fast_values(ws))) == 3999


def test_rows_stream() -> None:
    """The first row comes before the rest of a large sheet is read (here: found broken)."""
    ws = book_with(sheet("<row><c><v>1</c></row>")).worksheets[0]
    rows = _xlsx._sheet_values(ws)
    assert next(rows) == ("user1@firma.no",)
    with pytest.raises(ParseError):
        list(rows)


def test_openpyxl_versions_not_mirrored_read_with_openpyxl(monkeypatch: pytest.MonkeyPatch) -> None:
    """With an openpyxl the fast readers were not checked against, openpyxl reads every sheet
    and the shared strings."""
    monkeypatch.setattr(_xlsxfast, "MIRRORED", ("0.",))
    data = replace_members(BASES[False], {SHEET1: sheet()})
    with pytest.raises(_xlsxfast.Unsupported):
        next(_xlsxfast.fast_values(_xlsx._openpyxl(data).worksheets[0]))
    assert_reads_as_openpyxl(data, fast=False)
    with pytest.raises(_xlsxfast.Unsupported):
        _xlsxfast.fast_strings(io.BytesIO(SST.format(items="<si><t>a</t></si>").encode()))
    assert strings_outcome(with_table(SST.format(items="".join(RICH_SHARED)))) == (
        ["plain", "Bold and  plain", "漢字", "a_x000D_b & é", "", "  spaced\n"],
        None,
    )


def test_a_row_limit_stops_reading_early() -> None:
    """read_table's row limit stops reading before the end of the sheet (broken here)."""
    data = replace_members(BASES[False], {SHEET1: sheet("<row><c><v>1</c></row>")})
    with pytest.raises(FileFormatError):
        read_table(data, engine="openpyxl", max_rows=None)
    with pytest.raises(RowLimitError):
        read_table(data, engine="openpyxl", max_rows=100)


# -- the shared string table ----------------------------------------------------------------

SST = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="{MAIN}">{{items}}</sst>'
)
#: Pieces of text that openpyxl's ``replace('x005F_', '')`` and Excel's escapes play on.
ESCAPES = ["_x005F_", "x005F_", "_x000D_", "_x005F_x000D_", "x005F_x005F_", "_x0041_", "x005F"]
SPACES = ["", " ", "  ", "\n", "\r\n", "\t", " \n ", "&#10;", "&#13;"]


@st.composite
def shared_items(draw: Any, p: str) -> str:
    """One ``<si>`` as Excel or any other writer might write it (``p``: the namespace prefix)."""
    pieces = st.lists(texts | st.sampled_from(ESCAPES), max_size=4).map("".join)
    text = text_xml(draw, draw(pieces))
    spaced = draw(st.sampled_from(SPACES)) + text + draw(st.sampled_from(SPACES))
    gap = draw(st.sampled_from(["", "\n", "\n  "]))
    return draw(
        st.sampled_from(
            [
                f"<{p}si><{p}t>{text}</{p}t></{p}si>",
                f'<{p}si><{p}t xml:space="preserve">{spaced}</{p}t></{p}si>',
                f"<{p}si>{gap}<{p}t>{spaced}</{p}t>{gap}</{p}si>",
                f"<{p}si><{p}t/></{p}si>",
                f"<{p}si><{p}t></{p}t></{p}si>",
                f"<{p}si/>",
                f"<{p}si>{gap}</{p}si>",
                f'<{p}si><{p}r><{p}rPr><{p}b/><{p}sz val="11"/><{p}rFont val="Calibri"/></{p}rPr>'
                f'<{p}t>{text}</{p}t></{p}r>{gap}<{p}r><{p}t xml:space="preserve">{spaced}</{p}t>'
                f"</{p}r></{p}si>",
                f"<{p}si><{p}t>{text}</{p}t><{p}r><{p}t>{spaced}</{p}t></{p}r></{p}si>",
                f"<{p}si><{p}r><{p}t/></{p}r><{p}r/></{p}si>",
                f'<{p}si><{p}t>{text}</{p}t><{p}rPh sb="0" eb="2"><{p}t>かんじ{spaced}</{p}t>'
                f'</{p}rPh><{p}phoneticPr fontId="1" type="noConversion"/></{p}si>',
                f"<{p}si><{p}t>a</{p}t><{p}t>{text}</{p}t></{p}si>",  # the last one wins
                f'<{p}si><o:t xmlns:o="urn:other">{text}</o:t></{p}si>',  # a t all the same
                f"<{p}si><{p}t>{text}</{p}t><{p}extLst/></{p}si>",
            ]
        )
    )


@st.composite
def shared_tables(draw: Any) -> bytes:
    """A sharedStrings.xml part, its items in the default namespace or a prefixed one."""
    p = draw(st.sampled_from(["", "x:"]))
    ns = f'xmlns{":x" if p else ""}="{MAIN}"'
    gap = draw(st.sampled_from(["", "\n", "\r\n  "]))
    items = gap.join(draw(st.lists(shared_items(p), max_size=8)))
    count = f' count="{draw(st.integers(0, 9))}" uniqueCount="3"' if draw(st.booleans()) else ""
    declaration = draw(st.sampled_from(['<?xml version="1.0" encoding="UTF-8"?>\n', ""]))
    return f"{declaration}<{p}sst {ns}{count}>{gap}{items}{gap}</{p}sst>".encode()


@given(shared_tables())
def test_shared_string_tables_read_as_openpyxl(xml: bytes) -> None:
    """Plain, spaced, escaped, empty, rich and phonetic items, Unicode, ``x005F_``: the fast
    reader reads every table (without giving up) as openpyxl's ``read_string_table``."""
    assert _xlsxfast.fast_strings(io.BytesIO(xml)) == read_string_table(io.BytesIO(xml))


def with_table(xml: str) -> bytes:
    """The base workbook with this shared string table (and no string cells)."""
    return replace_members(BASES[False], {"xl/sharedStrings.xml": xml.encode()})


def strings_outcome(data: bytes) -> tuple[Any, Any]:
    """The shared strings the workbook is opened with, or the failure (kind and message)."""
    try:
        return _xlsx._openpyxl(data).worksheets[0]._shared_strings, None
    except Exception as e:
        return None, (type(e), str(e), type(e.__cause__))


def openpyxl_strings_outcome(data: bytes) -> tuple[Any, Any]:
    """The same, when openpyxl opens the workbook itself."""
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        return book.worksheets[0]._shared_strings, None
    except Exception as e:
        return None, (type(e), str(e), type(e.__cause__))


ITEMS = "<si><t>a &amp; b</t></si><si><t>x005F_c</t></si>"
ENTITY = '<!DOCTYPE sst [<!ENTITY e "eee">]>'
DTDS = {
    "doctype": ("<!DOCTYPE sst>", ITEMS),
    "entities": (ENTITY, ITEMS + "<si><t>&e;</t></si>"),
    "unused-entity": (ENTITY, ITEMS),
}


@pytest.mark.parametrize(("dtd", "items"), DTDS.values(), ids=DTDS.keys())
def test_a_dtd_in_the_shared_strings_reads_as_openpyxl(dtd: str, items: str) -> None:
    """A DTD, with or without entities: the fast reader refuses it, and the workbook opens
    with openpyxl's strings, or fails just as openpyxl fails on it (defusedxml: entities)."""
    xml = f'<?xml version="1.0"?>{dtd}<sst xmlns="{MAIN}">{items}</sst>'
    with pytest.raises(_xlsxfast.Unsupported):
        _xlsxfast.fast_strings(io.BytesIO(xml.encode()))
    data = with_table(xml)
    assert strings_outcome(data) == openpyxl_strings_outcome(data)
    assert strings_outcome(data)[0] == (None if "ENTITY" in dtd else ["a & b", "c"])


LEFT = {
    "nested": "<si><t>a</t><si><t>b</t></si></si>",
    "attribute": '<si foo="1"><t>a</t></si>',  # openpyxl fails on it
    "other-element": "<si><t>a</t></si><extLst><ext/></extLst><si><t>b</t></si>",
    "broken": "<si><t>a</t></si><si><t>b</si>",
    "bad-reference": "<si><t>a&#0;</t></si>",
}


@pytest.mark.parametrize("items", LEFT.values(), ids=LEFT.keys())
def test_shared_strings_the_fast_reader_leaves_read_as_openpyxl(items: str) -> None:
    """A table the fast reader does not take on: openpyxl's strings, or openpyxl's failure."""
    xml = SST.format(items=items)
    with pytest.raises((_xlsxfast.Unsupported, TypeError, ExpatError)):
        _xlsxfast.fast_strings(io.BytesIO(xml.encode()))
    data = with_table(xml)
    assert strings_outcome(data) == openpyxl_strings_outcome(data)


def test_shared_strings_of_another_root_read_as_openpyxl() -> None:
    """A table whose root is not ``sst`` in the main namespace: as openpyxl reads it."""
    for xml in [SST.replace(MAIN, "urn:other"), f'<root xmlns="{MAIN}">{{items}}</root>']:
        data = with_table(xml.format(items=ITEMS))
        assert strings_outcome(data) == openpyxl_strings_outcome(data)

"""Hostile and broken files: each gives a UserImportError with a clear message, quickly."""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from userimport import EncodingError, FileFormatError, UserImportError, read_table


def workbook(rows: list[list[Any]]) -> bytes:
    book = openpyxl.Workbook()
    book.active.title = "Users"
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


BASE = workbook([["Email", "Name"], ["a@firma.no", "Anna"]])


def replace_member(data: bytes, member: str, content: bytes) -> bytes:
    """The workbook with one of its parts replaced (or added), compressed."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename != member:
                dst.writestr(info, src.read(info.filename))
        dst.writestr(member, content, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def bounded(fn: Callable[[], Any], *, seconds: float = 10, mib: int = 200) -> None:
    """Run fn, expecting a UserImportError, within a time and a memory bound."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(UserImportError) as info:
            fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < seconds
    assert peak < mib * 2**20
    assert str(info.value)


LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>&lol3;</t></is></c></row></sheetData></worksheet>"""

EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row></sheetData></worksheet>"""


@pytest.mark.parametrize("engine", ["openpyxl", "calamine"])
@pytest.mark.parametrize("xml", [LAUGHS, EXTERNAL], ids=["entity-expansion", "external-entity"])
def test_xml_entities_are_never_expanded(engine: str, xml: bytes) -> None:
    """Entity expansion and external entities in a sheet are refused or left unexpanded."""
    if engine == "calamine":
        pytest.importorskip("python_calamine")
    data = replace_member(BASE, "xl/worksheets/sheet1.xml", xml)
    try:
        table = read_table(data, engine=engine)  # type: ignore[arg-type]
    except FileFormatError:
        return
    text = " ".join(table.rows.to_numpy().ravel().tolist())
    assert "lollol" not in text
    assert "root:" not in text


def test_zip_bomb_is_refused_before_reading() -> None:
    """A workbook that unpacks to far more than its size is refused as a possible zip bomb."""
    bomb = replace_member(BASE, "xl/sharedStrings.xml", b"\0" * (80 << 20))
    bounded(lambda: read_table(bomb), mib=400)
    with pytest.raises(FileFormatError, match="zip bomb"):
        read_table(bomb)


def test_huge_cell_in_a_csv() -> None:
    """A 100 MB cell is refused, not held."""
    data = b"Email,Name\na@b.no," + b"x" * (100 << 20) + b"\n"
    bounded(lambda: read_table(data), mib=600)


@pytest.mark.parametrize("engine", ["openpyxl", "calamine"])
def test_huge_cell_in_a_workbook(engine: str) -> None:
    """A cell over Excel's own length limit is refused (naming the file) or cut by the parser."""
    if engine == "calamine":
        pytest.importorskip("python_calamine")
    sheet = (
        b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'
        + b"x" * 100_000
        + b"</t></is></c></row></sheetData></worksheet>"
    )
    data = replace_member(BASE, "xl/worksheets/sheet1.xml", sheet)
    outcome = ""
    try:
        table = read_table(data, engine=engine)  # type: ignore[arg-type]
    except FileFormatError as e:
        outcome = str(e)
    if outcome:
        assert outcome.startswith("<bytes>: ")
        assert "32,767" in outcome
    else:
        assert len(table.rows.iloc[0, 0]) <= 32_767


def test_ten_thousand_columns() -> None:
    """10,000 columns is not a user list: refused quickly."""
    data = (",".join(f"c{i}" for i in range(10_000)) + "\n").encode() * 3
    bounded(lambda: read_table(data))
    with pytest.raises(FileFormatError, match="columns"):
        read_table(data)


def test_unbalanced_quote() -> None:
    """A quote that never closes is reported with its line, not read as one giant value."""
    with pytest.raises(FileFormatError, match="line 3 is never closed"):
        read_table(b'Email,Name\na@b.no,Anna\nb@b.no,"Bo\nc@b.no,Cy\n')


def test_mixed_encodings() -> None:
    """UTF-8 letters and Windows-1252 bytes in one file: refused, naming the line."""
    data = "Name\nJørgen\n".encode() + "Søren\n".encode("cp1252")
    with pytest.raises(EncodingError, match=r"mixes encodings.*line 3"):
        read_table(data)


def test_formulas_and_external_links_are_never_evaluated() -> None:
    """Formulas are read as their saved values (none here), never run, links never followed."""
    data = workbook(
        [["Email", "Name"], ["a@b.no", '=HYPERLINK("http://evil.example/","x")'],
         ["b@b.no", "='[other.xlsx]Sheet1'!A1"]]
    )  # fmt: skip
    table = read_table(data, engine="openpyxl")
    assert [["Email", "Name"], ["a@b.no", ""], ["b@b.no", ""]] == table.rows.values.tolist()


def test_nul_bytes() -> None:
    """NUL bytes in a text file are refused."""
    with pytest.raises(FileFormatError, match="NUL"):
        read_table(b"Email,Name\na@b.no,An\x00na\n")


@given(
    st.one_of(
        st.binary(max_size=300),
        st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.tuples(st.integers(0, len(BASE) - 1), st.binary(min_size=1, max_size=16)).map(
            lambda p: BASE[: p[0]] + p[1] + BASE[p[0] + len(p[1]) :]
        ),
        st.integers(10, len(BASE)).map(lambda n: BASE[:n]),
    )
)
def test_fuzz_read_table(data: bytes) -> None:
    """Random bytes, text, and damaged or cut workbooks: a table or a UserImportError only."""
    message = "read"
    try:
        read_table(data)
    except UserImportError as e:
        message = str(e)
    assert message


def test_a_closed_quote_ending_in_a_line_break_is_fine() -> None:
    """A last value that really ends with a line break inside its quotes is read as it is."""
    table = read_table(b'Email,Note\na@b.no,"two\nlines\n"\n')
    assert "two\nlines\n" == table.rows.iloc[1, 1]


# -- cells far away, and sheets too long ------------------------------------------------------

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def sheet_xml(rows: str, dimension: str | None = None) -> bytes:
    """A worksheet part holding ``rows`` (row elements), with a ``<dimension>`` if given."""
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        f'<?xml version="1.0"?><worksheet xmlns="{MAIN}">{dim}<sheetData>{rows}</sheetData>'
        "</worksheet>"
    ).encode()


def text_cell(reference: str, text: str) -> str:
    return f'<c r="{reference}" t="inlineStr"><is><t>{text}</t></is></c>'


def far_workbook(reference: str, *, dimension: bool = True, styled: bool = False) -> bytes:
    """Two users, then one cell at ``reference`` (a value, or only a style)."""
    row = reference.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    far = f'<c r="{reference}" s="0"/>' if styled else text_cell(reference, "x")
    rows = (
        f'<row r="1">{text_cell("A1", "Email")}</row><row r="2">{text_cell("A2", "a@b.no")}</row>'
        f'<row r="3">{text_cell("A3", "c@d.no")}</row>'
    )
    rows = (
        rows.replace('</row><row r="2">', far + '</row><row r="2">')
        if row == "1"
        else (rows + f'<row r="{row}">{far}</row>')
    )
    last = reference if row != "1" else reference.replace("1", "3")
    xml = sheet_xml(rows, f"A1:{last}" if dimension else None)
    return replace_member(BASE, "xl/worksheets/sheet1.xml", xml)


FAR = r"""
import json, sys
from userimport import UserImportError, read_table

for engine in ENGINES:
    try:
        table = read_table(DATA, engine=engine)
        print(json.dumps([engine, table.rows.values.tolist()[:4], len(table.rows)]))
    except UserImportError as e:
        print(json.dumps([engine, type(e).__name__, str(e)]))
    sys.stdout.flush()
"""


def in_a_subprocess(data: bytes, engines: list[str]) -> list[list[Any]]:
    """read_table(data) on each engine in a fresh interpreter, which must survive."""
    import json
    import subprocess
    import sys

    script = f"DATA = {data!r}\nENGINES = {engines!r}\n" + FAR
    done = subprocess.run(
        [sys.executable, "-"], input=script.encode(), capture_output=True, timeout=120
    )
    assert 0 == done.returncode, done.stderr[-3000:]
    return [json.loads(line) for line in done.stdout.decode().splitlines()]


def engines() -> list[str]:
    try:
        import python_calamine  # noqa: F401
    except ImportError:
        return ["auto", "openpyxl"]
    return ["auto", "calamine", "openpyxl"]


WIDE = (
    "FileFormatError",
    "<bytes>: sheet 'Users' row {row} holds more than 1,000 cells (it reaches column 16,384) "
    "or a cell longer than 32,767 characters (Excel's own limit); this is not a user list",
)
GAP = (
    "FileFormatError",
    "<bytes>: sheet 'Users' row 1,048,576 holds values after 1,048,572 blank rows in the "
    "table, more than 10,000; a user list has no such gaps: delete the blank rows, or what "
    "lies below the list, and save the file again",
)


@pytest.mark.parametrize(
    ("reference", "dimension", "expected"),
    [
        ("XFD1048576", True, WIDE[1].format(row="1,048,576")),
        ("XFD1048576", False, WIDE[1].format(row="1,048,576")),
        ("A1048576", True, GAP[1]),
        ("A1048576", False, GAP[1]),
        ("XFD1", True, WIDE[1].format(row=1)),
        ("XFD1", False, WIDE[1].format(row=1)),
    ],
)
def test_a_cell_far_away_never_aborts_the_interpreter(
    reference: str, dimension: bool, expected: str
) -> None:
    """One cell at XFD1048576, A1048576 or XFD1: a clear FileFormatError on every engine."""
    data = far_workbook(reference, dimension=dimension)
    assert len(data) < 5000
    for engine, *result in in_a_subprocess(data, engines()):
        assert ["FileFormatError", expected] == result, engine


def test_far_cells_are_read_in_bounded_time_and_memory() -> None:
    """A value or a styled empty cell at row 1,048,576: < 3 s and < 300 MB on every engine."""
    import subprocess
    import sys

    cases = [(f"{r}-{s}", e, far_workbook(r, styled=s)) for r in ("A1048576", "XFD1048576")
             for s in (False, True) for e in engines()]  # fmt: skip
    script = (
        "import json, resource, sys, time\nimport pandas, openpyxl\n"
        "from userimport import UserImportError, read_table\n"
        f"CASES = {cases!r}\n"
        "for name, engine, data in CASES:\n"
        "    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024\n"
        "    start = time.perf_counter()\n"
        "    try:\n"
        "        result = len(read_table(data, engine=engine).rows)\n"
        "    except UserImportError as e:\n"
        "        result = type(e).__name__\n"
        "    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss\n"
        "    print(json.dumps([name, engine, time.perf_counter() - start, peak, result]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-"], input=script.encode(), capture_output=True, timeout=120
    )
    assert 0 == done.returncode, done.stderr[-3000:]
    import json

    for name, engine, seconds, peak, result in map(json.loads, done.stdout.splitlines()):
        assert seconds < 3, (name, engine)
        assert peak < 300 << 20, (name, engine)
        expected = 3 if name.endswith("True") else "FileFormatError"
        assert expected == result, (name, engine)


@pytest.mark.parametrize("reference", ["A1048576", "XFD1048576", "XFD1"])
@pytest.mark.parametrize("dimension", [True, False])
def test_a_styled_cell_far_away_adds_nothing(reference: str, dimension: bool) -> None:
    """Formatting far away (a cell with a style only, in the sheet's dimension) adds nothing."""
    data = far_workbook(reference, styled=True, dimension=dimension)
    for engine in engines():
        table = read_table(data, engine=engine)  # type: ignore[arg-type]
        assert [["Email"], ["a@b.no"], ["c@d.no"]] == table.rows.values.tolist()


def long_sheet(rows: int) -> bytes:
    """A workbook of one sheet with a header and ``rows`` users, its XML written directly."""
    cells = "".join(
        f'<row r="{i}">{text_cell(f"A{i}", f"u{i}@b.no")}</row>' for i in range(2, rows + 2)
    )
    return replace_member(
        BASE,
        "xl/worksheets/sheet1.xml",
        sheet_xml(f'<row r="1">{text_cell("A1", "Email")}</row>' + cells),
    )


@pytest.mark.parametrize("engine", ["auto", "calamine", "openpyxl"])
def test_the_row_limit_stops_every_engine_early(
    engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """60,000 rows over a limit of 5,000: refused having read barely more than 5,000 rows."""
    from userimport import RowLimitError, _xlsx

    if engine == "calamine":
        pytest.importorskip("python_calamine")
    data = long_sheet(60_000)
    real, given = _xlsx.sheet_runs, [0]

    def counted(*args: Any) -> Any:
        for row in real(*args):
            given[0] += row if isinstance(row, int) else 1
            yield row

    monkeypatch.setattr(_xlsx, "sheet_runs", counted)
    with pytest.raises(RowLimitError, match="more than 5,000 data rows"):
        read_table(data, engine=engine, max_rows=5_000)  # type: ignore[arg-type]
    assert given[0] <= 5_100  # the limit, the header's slack, the sheet choice's first rows
    assert 60_001 == len(read_table(data, engine=engine, max_rows=None).rows)  # type: ignore[arg-type]


def test_calamine_never_loads_a_sheet_longer_than_the_limit_allows() -> None:
    """The calamine engine hands a sheet over the limit to openpyxl, which streams, and says so."""
    pytest.importorskip("python_calamine")
    from userimport import _xlsx

    long = long_sheet(20_000)
    assert _xlsx.calamine_refusal(long, 15_031) is not None
    assert _xlsx.calamine_refusal(long, None) is None
    assert _xlsx.calamine_refusal(long_sheet(10_000), 15_031) is None
    table = read_table(long, max_rows=None)
    assert "calamine" == table.engine
    assert 20_001 == len(table.rows)


def letters(column: int) -> str:
    from userimport.read import column_letter

    return column_letter(column - 1)


FORMS = {
    "plain": '<c r="{ref}"{rest}',
    "lower case": '<c r="{low}"{rest}',
    "no reference": "<c{rest}",
    "prefixed": '<x:c xmlns:x="' + MAIN + '" r="{ref}"{rest}',
    "reference last": '<c s="0" r="{ref}"{rest}',
    "absolute": '<c r="${col}${row}"{rest}',
    "newline": '<c\nr="{ref}"{rest}',
}


@st.composite
def far_cells(draw: st.DrawFn) -> tuple[bytes, list[tuple[int, int]], str]:
    """A workbook of a few cells near and far, every one written in one way (see FORMS)."""
    form = draw(st.sampled_from(sorted(FORMS)))
    column = st.one_of(st.integers(1, 30), st.integers(1, 16_384))
    row = st.one_of(st.integers(1, 20_000), st.integers(1, 1_048_576))
    cells = draw(st.lists(st.tuples(column, row, st.booleans()), min_size=1, max_size=4))
    xml = ""
    for col, number, value in cells:
        ref = f"{letters(col)}{number}"
        rest = ' t="inlineStr"><is><t>x</t></is></c>' if value else ' s="0"/>'
        cell = FORMS[form].format(ref=ref, low=ref.lower(), col=letters(col), row=number, rest=rest)
        if form == "prefixed":
            cell = cell.replace("</c>", "</x:c>")
        xml += f'<row r="{number}">{cell}</row>'
    data = replace_member(BASE, "xl/worksheets/sheet1.xml", sheet_xml(xml))
    return data, [(c, r) for c, r, _ in cells], form


@given(far_cells(), st.sampled_from([15_031, None]))
def test_calamine_is_given_no_sheet_it_cannot_hold(
    case: tuple[bytes, list[tuple[int, int]], str], rows: int | None
) -> None:
    """Whatever its cells, a workbook calamine may read has no sheet over the grid or the rows."""
    from userimport import _xlsx

    data, cells, form = case
    refusal = _xlsx.calamine_refusal(data, rows)
    width, height = max(c for c, _ in cells), max(r for _, r in cells)
    fits = width <= 1000 and height * width <= _xlsx.MAX_GRID and height <= (rows or height)
    if form != "plain":
        assert refusal is not None
    elif width <= 8 and height <= min(rows or height, _xlsx.MAX_GRID // 8):
        assert refusal is None
    if refusal is None:
        assert fits
        message = "read"
        try:
            read_table(data, engine="calamine")
        except UserImportError as e:
            message = str(e)
        assert message


@given(far_cells())
def test_fuzz_far_cells(case: tuple[bytes, list[tuple[int, int]], str]) -> None:
    """A few cells near and far, written in any way, on the default engine: a table or an error."""
    message = "read"
    try:
        read_table(case[0])
    except UserImportError as e:
        message = str(e)
    assert message


@given(
    st.lists(
        st.one_of(
            st.sampled_from(["a@b.no,A\n", '"x\n y",z\r\n', "\x00\n", "é\n"]),
            st.tuples(
                st.sampled_from(["\n", "\r\n", "\r", " ,\t\n", '""\n']), st.integers(0, 300)
            ).map(lambda p: p[0] * p[1]),
        ),
        max_size=6,
    ),
    st.sampled_from(["utf-8", "utf-16", "cp1252"]),
)
def test_fuzz_blank_runs(parts: list[str], encoding: str) -> None:
    """Values, quotes and odd bytes among runs of blank lines: a table or a UserImportError only."""
    message = "read"
    try:
        read_table(("Email,Name\n" + "".join(parts)).encode(encoding, errors="ignore"))
    except UserImportError as e:
        message = str(e)
    assert message


def test_a_workbook_with_a_drawing_is_still_read_by_calamine() -> None:
    """Drawings (whose anchors are <xdr:row> elements) do not keep calamine from a workbook."""
    pytest.importorskip("python_calamine")
    ns = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
    drawing = (
        f'<xdr:wsDr xmlns:xdr="{ns}"><xdr:twoCellAnchor><xdr:from><xdr:col>3</xdr:col>'
        "<xdr:colOff>0</xdr:colOff><xdr:row>1</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from>"
        "</xdr:twoCellAnchor></xdr:wsDr>"
    )
    data = replace_member(BASE, "xl/drawings/drawing1.xml", drawing.encode())
    table = read_table(data)
    assert ("calamine", ["a@firma.no", "Anna"]) == (table.engine, table.rows.values.tolist()[-1])


def test_a_panic_in_calamine_is_a_file_format_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Rust panic in python-calamine (a BaseException) is a FileFormatError, not a traceback."""
    from userimport import _xlsx

    class PanicException(BaseException):  # as pyo3 names it
        pass

    def panics(*args: Any) -> Any:
        raise PanicException("index out of bounds")

    monkeypatch.setattr(_xlsx, "_calamine", panics)
    with pytest.raises(FileFormatError, match="PanicException: index out of bounds"):
        read_table(BASE, engine="calamine")
    monkeypatch.setattr(_xlsx, "sheet_runs", panics)
    with pytest.raises(FileFormatError, match="cannot read the workbook: index out of bounds"):
        read_table(BASE, engine="openpyxl")
    monkeypatch.setattr(_xlsx, "sheet_runs", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        read_table(BASE, engine="openpyxl")

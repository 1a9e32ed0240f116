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

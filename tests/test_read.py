"""Reading CSV and XLSX files as people export them, into text cells."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import time
import zipfile
from pathlib import Path
from typing import Any
from unittest import mock

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import corpus_dir
from userimport import (
    EncodingError,
    FileFormatError,
    RowLimitError,
    UserImportError,
    _csv,
    _table,
    read_table,
)
from userimport import read as read
from userimport.read import DELIMITERS

CASES = json.loads((corpus_dir() / "expected.json").read_text(encoding="utf-8"))


def header_index(rows: list[list[str]], header: list[str]) -> int:
    for i, row in enumerate(rows):
        trimmed = list(row)
        while trimmed and not trimmed[-1]:
            trimmed.pop()
        if trimmed == header:
            return i
    raise AssertionError(f"header {header} not found")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["file"])
def test_corpus_files_read_as_expected(case: dict[str, Any], corpus: Path) -> None:
    """Every corpus file reads with the expected encoding, delimiter, sheet and cells."""
    table = read_table(corpus / case["file"])
    for key in ("encoding", "delimiter", "sheet"):
        if key in case:
            assert case[key] == getattr(table, key)
    rows = table.rows.values.tolist()
    if case["header"] is not None:
        at = header_index(rows, case["header"])
        for column, value in case.get("cells", {}).items():
            assert value == rows[at + 1][case["header"].index(column)]


@pytest.mark.parametrize("name", [c["file"] for c in CASES if c["file"].endswith(".xlsx")])
def test_openpyxl_and_calamine_agree(name: str, corpus: Path) -> None:
    """Both XLSX engines give the same cells on the corpus."""
    pytest.importorskip("python_calamine")
    a = read_table(corpus / name, engine="openpyxl")
    b = read_table(corpus / name, engine="calamine")
    assert a.rows.values.tolist() == b.rows.values.tolist()
    assert (a.sheet, a.sheets) == (b.sheet, b.sheets)


def test_values_are_never_coerced() -> None:
    """Null, NA, 00123 and +47 912 34 567 stay as typed."""
    table = read_table(b"a,b,c,d\nNull,NA,00123,+47 912 34 567\n")
    assert ["Null", "NA", "00123", "+47 912 34 567"] == table.rows.iloc[1].tolist()


def test_quoted_fields_blank_lines_and_ragged_rows() -> None:
    """Quoted delimiters and line breaks, blank lines kept as rows, short rows padded, long kept."""
    data = b'a,b,c\n"x, y","line\nbreak",z\n\nshort\n1,2,3,4\n'
    table = read_table(data)
    assert [
        ["a", "b", "c", ""],
        ["x, y", "line\nbreak", "z", ""],
        ["", "", "", ""],
        ["short", "", "", ""],
        ["1", "2", "3", "4"],
    ] == table.rows.values.tolist()
    assert (1, 2, 4, 5, 6) == table.lines
    assert "line 4, column 1" == table.locate(2, 0)


def test_sep_hint_line() -> None:
    """Excel's sep= line sets the delimiter and is not a row."""
    table = read_table(b"sep=;\r\na;b\r\n1,5;2\r\n")
    assert (";", [["a", "b"], ["1,5", "2"]]) == (table.delimiter, table.rows.values.tolist())
    assert "line 3, column 2" == table.locate(1, 1)


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16"), ("cp1252", "cp1252")],
)
def test_encodings_are_detected(encoding: str, expected: str) -> None:
    """UTF-8 with or without BOM, UTF-16 with BOM and Windows-1252 are told apart."""
    text = "Fornavn;Etternavn\nJørgen;Æsøy\nÅse;Müller\n"
    table = read_table(text.encode(encoding))
    assert expected == table.encoding
    assert ["Jørgen", "Æsøy"] == table.rows.iloc[1].tolist()


def test_overrides_and_notes() -> None:
    """Every guess can be overridden, and the table says what was guessed."""
    table = read_table(b"a|b;c\n1|2;3\n", delimiter=";", encoding="latin-1")
    assert [["a|b", "c"], ["1|2", "3"]] == table.rows.values.tolist()
    assert any("as given" in n for n in table.notes)
    guessed = read_table(b"a|b\n1|2\n")
    assert any(n.startswith("delimiter '|'") for n in guessed.notes)


def test_bad_explicit_encoding() -> None:
    """Bytes that are not valid in the encoding given: an EncodingError naming the line."""
    with pytest.raises(EncodingError, match="line 2"):
        read_table("a\nø\n".encode("latin-1"), encoding="utf-8")
    with pytest.raises(EncodingError, match="unknown encoding"):
        read_table(b"a\n", encoding="klingon")


def xlsx(rows: list[list[Any]], sheets: dict[str, list[list[Any]]] | None = None) -> bytes:
    """A workbook; text is stored as text (openpyxl would store '=0' as a formula)."""
    book = openpyxl.Workbook()
    book.active.title = "Users"
    for row in rows:
        book.active.append(row)
    for line in book.active.iter_rows():
        for c in line:
            if isinstance(c.value, str):
                c.data_type = "s"
    for name, content in (sheets or {}).items():
        sheet = book.create_sheet(name, 0)
        for row in content:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_cells_as_a_person_sees_them() -> None:
    """12 not 12.0, ISO dates, TRUE/FALSE, text with leading zeros kept, formulas not run."""
    data = xlsx(
        [
            ["n", "f", "d", "t", "b", "z"],
            [12, 0.5, dt.datetime(2020, 1, 1), dt.datetime(2020, 1, 1, 13, 45), True, "00123"],
        ]
    )
    table = read_table(data)
    assert ["12", "0.5", "2020-01-01", "2020-01-01 13:45:00", "TRUE", "00123"] == (
        table.rows.iloc[1].tolist()
    )
    assert ("xlsx", "Users", "Users!B2") == (table.format, table.sheet, table.locate(1, 1))


def test_the_sheet_with_users_is_chosen() -> None:
    """A first sheet of instructions does not win; the choice and its reason are noted."""
    data = xlsx(
        [["Email", "Name"], ["a@firma.no", "A"], ["b@firma.no", "B"]],
        sheets={"Instructions": [["Fill in one user per row"], ["Email is required"]]},
    )
    table = read_table(data)
    assert ("Users", ("Instructions", "Users")) == (table.sheet, table.sheets)
    assert "Users" in table.notes[0]
    assert "Instructions" == read_table(data, sheet="Instructions").sheet


def test_unknown_sheet() -> None:
    """A sheet name that does not exist lists the sheets there are."""
    with pytest.raises(FileFormatError, match="'Users'"):
        read_table(xlsx([["a"]]), sheet="Nope")


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "legacy Excel"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptedPackage".encode("utf-16-le"), "password"),
        (b"%PDF-1.4 whatever", "not a spreadsheet"),
        (b"\x00\x01\x02\x03" * 200, "binary|NUL"),
    ],
)
def test_files_that_are_not_tables(data: bytes, match: str) -> None:
    """Empty, legacy, encrypted and binary files get a FileFormatError saying what to do."""
    with pytest.raises(FileFormatError, match=match):
        read_table(data)


def zipped(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, content in files.items():
            z.writestr(name, content)
    return out.getvalue()


def test_zips_that_are_not_workbooks() -> None:
    """An .ods, a plain zip and a truncated workbook are refused clearly."""
    ods = zipped({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet"})
    with pytest.raises(FileFormatError, match="OpenDocument"):
        read_table(ods)
    with pytest.raises(FileFormatError, match="not an Excel workbook"):
        read_table(zipped({"a.txt": b"x"}))
    with pytest.raises(FileFormatError, match="damaged or truncated"):
        read_table(xlsx([["a"]])[:300])


def test_empty_workbook_sheet() -> None:
    """A workbook whose sheet is empty is a FileFormatError."""
    with pytest.raises(FileFormatError, match="empty"):
        read_table(xlsx([]))


def test_file_object_and_path(tmp_path: Path) -> None:
    """A path, bytes and a binary file object read the same, and the path names messages."""
    path = tmp_path / "x.csv"
    path.write_bytes(b"a,b\n1,2\n")
    by_path = read_table(path)
    with path.open("rb") as f:
        by_file = read_table(f)
    assert by_path.rows.values.tolist() == by_file.rows.values.tolist()
    assert str(path) == by_path.path
    with pytest.raises(FileFormatError, match="cannot open"):
        read_table(tmp_path / "missing.csv")


def rows_csv(n: int, title: bool = False) -> bytes:
    lines = (["Staff list"] if title else []) + ["Email,Name"]
    lines += [f"u{i}@firma.no,U" for i in range(n)]
    return ("\n".join(lines) + "\n").encode()


def test_row_limit_exact() -> None:
    """A file of exactly the limit passes, one more row fails, and title lines do not count."""
    assert 11 == len(read_table(rows_csv(10), max_rows=10).rows)
    assert 12 == len(read_table(rows_csv(10, title=True), max_rows=10).rows)
    with pytest.raises(RowLimitError, match="more than 10 data rows") as info:
        read_table(rows_csv(11), max_rows=10)
    assert 10 == info.value.limit
    assert 12 == len(read_table(rows_csv(11), max_rows=None).rows)


def test_row_limit_counts_blank_and_title_rows_out_and_guesses_the_header_once() -> None:
    """At its limit, a file with a title and blank rows passes; its header is guessed once."""
    import userimport.headers as headers

    data = rows_csv(10, title=True).replace(b"u3@", b"\n \t,\nu3@")
    with mock.patch.object(headers, "_detect", wraps=headers._detect) as detect:
        table = read_table(data, max_rows=10)
        assert 1 == headers.detect_header(table).row
    assert 1 == detect.call_count
    with pytest.raises(RowLimitError):
        read_table(data.replace(b"\n \t,\n", b"\nu99@firma.no,U\n"), max_rows=10)


def test_row_limit_refuses_a_huge_file_quickly() -> None:
    """A million-row file is refused fast, without reading it all."""
    data = rows_csv(1_000_000)
    start = time.perf_counter()
    with pytest.raises(RowLimitError):
        read_table(data)
    assert time.perf_counter() - start < 5


def test_row_limit_in_a_workbook() -> None:
    """The limit holds for XLSX too."""
    data = xlsx([["Email"]] + [[f"u{i}@firma.no"] for i in range(50)])
    with pytest.raises(RowLimitError):
        read_table(data, max_rows=10)


cell = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00"),
    max_size=8,
).map(str.strip)


plain = st.text(alphabet="abcæøå XYZ0123.@-_'", max_size=8).map(str.strip)
# Words cased as names are (lower, Capitalised, UPPER): a single-byte encoding is guessed from
# how its letters sit in words, and "XåX" is as likely Mac Roman's "XÂX" (no evidence either way).
word = st.builds(
    lambda text, case: case(text),
    st.text(alphabet="abcæøåxyz", min_size=1, max_size=6),
    st.sampled_from([str.lower, str.capitalize, str.upper]),
)
name_like = st.lists(word, max_size=2).map(" ".join)


@given(
    st.data(),
    st.sampled_from([",", ";", "\t", "|"]),
    st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
    st.integers(0, 2),
)
def test_csv_round_trip(data: st.DataObject, sep: str, encoding: str, titles: int) -> None:
    """Random tables as CSV with any delimiter, encoding and title lines: read and header found."""
    from userimport import detect_header

    cells = plain if encoding.startswith("utf") else name_like
    rows = data.draw(st.lists(st.lists(cells, min_size=3, max_size=3), min_size=1, max_size=6))
    header = ["Email", "First name", "Last name"]
    body = [header, *rows]
    out = io.StringIO()
    for i in range(titles):
        out.write(f"Title {i}\n")
    csv.writer(out, delimiter=sep, lineterminator="\r\n").writerows(body)
    table = read_table(out.getvalue().encode(encoding))
    assert sep == table.delimiter
    got = table.rows.values.tolist()[titles:]
    width = table.rows.shape[1]
    expected = [r + [""] * (width - len(r)) for r in body]
    while expected and not any(c.strip() for c in expected[-1]):
        expected.pop()
    assert expected == got
    assert titles == detect_header(table).row


@given(
    st.lists(st.lists(cell, min_size=3, max_size=3), min_size=1, max_size=6),
    st.sampled_from([",", ";", "\t", "|"]),
)
def test_csv_round_trip_any_text(rows: list[list[str]], sep: str) -> None:
    """Any text, quotes and delimiters in cells included, reads back with the delimiter given."""
    body = [["Email", "First name", "Last name"], *rows]
    out = io.StringIO()
    csv.writer(out, delimiter=sep, lineterminator="\n").writerows(body)
    table = read_table(out.getvalue().encode("utf-8"), delimiter=sep)
    width = table.rows.shape[1]
    expected = [r + [""] * (width - len(r)) for r in body]
    while expected and not any(c.strip() for c in expected[-1]):
        expected.pop()
    assert expected == table.rows.values.tolist()


@given(st.lists(st.lists(cell, min_size=2, max_size=2), min_size=1, max_size=5), st.integers(0, 2))
def test_xlsx_round_trip(rows: list[list[str]], titles: int) -> None:
    """Random text tables written as XLSX read back, title rows and all."""
    body = [["Title"]] * titles + [["Email", "Name"], *rows]
    table = read_table(xlsx([[c or None for c in r] for r in body]), engine="openpyxl")
    got = table.rows.values.tolist()
    width = table.rows.shape[1]
    expected = [r + [""] * (width - len(r)) for r in body]
    while expected and not any(c.strip() for c in expected[-1]):
        expected.pop()
    assert expected == got


def test_huge_file_refused_in_bounded_memory(tmp_path: Path) -> None:
    """A 1,000,000-row file on disk is refused having read only its start."""
    import tracemalloc

    path = tmp_path / "big.csv"
    with path.open("wb") as f:
        f.write(b"Email,Name\n")
        line = b"someone@firma.no,Someone Withalongname\n"
        for _ in range(100):
            f.write(line * 10_000)
    tracemalloc.start()
    try:
        with pytest.raises(RowLimitError):
            read_table(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert path.stat().st_size > 30_000_000
    assert peak < 20_000_000


def test_late_non_utf8_byte_falls_back_to_a_single_byte_encoding() -> None:
    """A file that is ASCII for its first MiB and Windows-1252 later is read right."""
    rows = (
        b"Email,Name\n"
        + b"a@firma.no,Ola Nordmann\n" * 50_000
        + "b@firma.no,Bjørn\n".encode("cp1252")
    )
    table = read_table(rows, max_rows=None)
    assert ("cp1252", "Bjørn") == (table.encoding, table.rows.iloc[-1, 1])
    with pytest.raises(EncodingError, match=r"near line .* not valid utf-8"):
        read_table(rows, max_rows=None, encoding="utf-8")
    for encoding in (None, "utf-8"):
        assert careful(rows, max_rows=None, encoding=encoding) == outcome(
            rows, max_rows=None, encoding=encoding
        )


def careful(source: Any, **options: Any) -> Any:
    """read_table on the csv module path only, or the error it raises (type and message)."""
    with mock.patch.object(_csv, "_fast_csv", return_value=None):
        return outcome(source, **options)


def outcome(source: Any, **options: Any) -> Any:
    """Everything a RawTable tells, to compare two ways of reading; or the error raised."""
    try:
        table = read_table(source, **options)
    except UserImportError as e:
        return type(e).__name__, str(e)
    rows = table.rows
    return (
        rows.values.tolist(),
        [str(t) for t in rows.dtypes],
        type(rows.index).__name__,
        list(rows.index),
        type(rows.columns).__name__,
        list(rows.columns),
        table.lines,
        table.encoding,
        table.delimiter,
        table.notes,
    )


def fast_used(source: Any, **options: Any) -> bool:
    """Whether read_table read ``source`` on the pandas path."""
    real, results = _csv._fast_csv, []

    def spy(*args: Any) -> Any:
        results.append(real(*args))
        return results[-1]

    with mock.patch.object(_csv, "_fast_csv", spy), contextlib.suppress(UserImportError):
        read_table(source, **options)
    return any(r is not None for r in results)


tricky = 'ab æ€😀 ,;\t|"\\\u2028\x85\x0b\x0c\x1c\x1e\xa0'


@st.composite
def csv_texts(draw: st.DrawFn) -> str:
    """CSV text as people's programs write it, and broken: quotes, blank and ragged lines."""
    if draw(st.integers(0, 5)) == 0:
        return draw(st.text(alphabet=st.sampled_from(list('ab,;"\r\n \t\\')), max_size=40))
    sep = draw(st.sampled_from(DELIMITERS))
    ends = draw(st.sampled_from(["\n", "\r\n", "\r", "mixed"]))
    breaks = draw(st.booleans())  # line breaks inside values (else one record per line)
    field = st.text(alphabet=st.sampled_from(list(tricky + "\r\n" * breaks)), max_size=6)
    width = draw(st.integers(1, 5))
    tidy = draw(st.booleans())  # quoted where needed, the first row the widest
    rows = draw(st.lists(st.lists(st.tuples(field, st.booleans()), max_size=width)))
    if tidy and rows:
        rows[0] += [("h", False)] * (width - len(rows[0]))
    out = []
    for cells in rows:
        quoted = [
            '"' + c.replace('"', '""') + '"'
            if q or (tidy and any(x in c for x in (sep, '"', "\r", "\n")))
            else c
            for c, q in cells
        ]
        end = draw(st.sampled_from(["\n", "\r\n", "\r"])) if ends == "mixed" else ends
        out.append(sep.join(quoted) + end)
    text = "".join(out)
    return text if draw(st.booleans()) else text.rstrip("\r\n")


@given(
    csv_texts(),
    st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]),
    st.sampled_from([None, *DELIMITERS]),
    st.sampled_from([None, 0, 1, 3]),
    st.sampled_from([read.HEAD, 8, 32]),
)
def test_fast_and_careful_paths_agree(
    text: str, encoding: str, delimiter: str | None, max_rows: int | None, head: int
) -> None:
    """pandas' parser and the csv module give the same table, line numbers and errors."""
    data = text.encode(encoding, errors="ignore")
    options = {"delimiter": delimiter, "max_rows": max_rows}
    with mock.patch.object(read, "HEAD", head):  # a small head: the rest is streamed
        assert careful(data, **options) == outcome(data, **options)


def one_parser(parser: str) -> Any:
    """A patch leaving the fast path only ``parser`` (``arrow`` or ``pandas``) to read with."""
    if parser == "arrow":
        return mock.patch.object(_csv, "_pandas_csv", return_value=None)
    return mock.patch.object(_csv, "_arrow_csv", side_effect=ValueError("not Arrow"))


@given(csv_texts(), st.sampled_from(["utf-8", "utf-8-sig"]), st.sampled_from([None, *DELIMITERS]))
@pytest.mark.parametrize("parser", ["arrow", "pandas"])
def test_each_fast_parser_reads_as_the_csv_module(
    parser: str, text: str, encoding: str, delimiter: str | None
) -> None:
    """Arrow's reader alone, and pandas' parser alone, give the csv module's table or step aside."""
    data = text.encode(encoding, errors="ignore")
    expected = careful(data, delimiter=delimiter)
    with one_parser(parser):
        assert expected == outcome(data, delimiter=delimiter)


@pytest.mark.parametrize(
    ("data", "parser"),
    [
        (b"a,b\n1,2\n", "arrow"),
        (b"a;b\r\n1;2\r\n\r\n\r\n", "arrow"),
        (b'"a,1","b""2"\n"",x\n', "arrow"),
        ("\ufeffa,b\n1,2".encode(), "arrow"),
        ("Fornavn;Etternavn\nJørgen;Æsøy\n".encode(), "arrow"),
        (b"a,b,c\r\nx\r\n \r\n,,\r\n", "pandas"),  # rows shorter than the first
        ("Fornavn;Etternavn\nJørgen;Æsøy\n".encode("cp1252"), "pandas"),
    ],
)
def test_utf8_files_are_read_by_arrow_and_others_by_pandas(data: bytes, parser: str) -> None:
    """A UTF-8 file with rows of one width is read by Arrow; pandas reads what Arrow refuses."""
    read_by: list[str] = []
    real = _csv._arrow_csv

    def spy(*args: Any) -> Any:
        read_by.append("pandas")  # unless Arrow returns
        found = real(*args)
        read_by[-1] = "arrow"
        return found

    with mock.patch.object(_csv, "_arrow_csv", spy):
        assert fast_used(data)
    assert [parser] == (read_by or ["pandas"])
    assert careful(data) == outcome(data)


def test_fast_and_careful_paths_agree_on_a_streamed_file() -> None:
    """A file bigger than the head, on the fast path, reads as the csv module reads it."""
    data = (
        b"Email;Note\r\n"
        + (b'a@b.no;"x; y"\r\n' * 40 + b"\r\n   \r\n") * 1_500
        + b"c@d.no;\xc3\xa6\r\n\r\n"
    )
    assert fast_used(data, max_rows=None)
    with io.BytesIO(data) as f:
        fast = outcome(f, max_rows=None)
        assert f.tell() == len(data)
    assert careful(io.BytesIO(data), max_rows=None) == fast
    assert 63_002 == len(fast[0])


@pytest.mark.parametrize(
    "data",
    [
        b"a,b\n1,2\n",
        b"a;b\r\n1;2\r\n\r\n\r\n",
        b"a,b,c\r\nx\r\n \r\n,,\r\n",
        b'"a,1","b""2"\n"",x\n',
        "Fornavn;Etternavn\nJørgen;Æsøy\n".encode("cp1252"),
        "\ufeffa,b\n1,2".encode(),
    ],
)
def test_well_formed_files_take_the_fast_path(data: bytes) -> None:
    """Files with one record per line are read by pandas, with the same result."""
    assert fast_used(data)
    assert careful(data) == outcome(data)


@pytest.mark.parametrize(
    "data",
    [
        b'a,b\n"x\ny",2\n',  # a line break in a value: lines and rows differ
        b'a,b\n"x\ry",2\n',
        b"a,b\n1,2,3\n",  # ragged: wider than the first row
        b"\n\na,b\n",  # pandas refuses leading blank lines
        b'a,b\n"open,2\n',
        b"sep=;\na;b\n",
        "a,b\nJørgen,x\n".encode("utf-16"),
        ("a\n" + "x" * 200_000 + "\n").encode(),  # over the csv module's field size limit
    ],
)
def test_other_files_take_the_careful_path(data: bytes) -> None:
    """What the fast path cannot promise to read as the csv module does goes the careful way."""
    assert not fast_used(data)
    assert careful(data) == outcome(data)


def test_field_size_limit_is_the_csv_modules() -> None:
    """A value of exactly the csv module's field size limit reads; one more refuses, both ways."""
    limit = csv.field_size_limit()
    fits = b"a,b\n1," + b"x" * limit + b"\n"
    over = b"a,b\n1," + b"x" * (limit + 1) + b"\n"
    assert careful(fits) == outcome(fits)
    assert careful(over) == outcome(over)
    assert "FileFormatError" == outcome(over)[0]


@pytest.mark.parametrize("n", [4999, 5000, 5001, 5031, 5032, 5033])
def test_row_limit_at_the_default_both_ways(n: int) -> None:
    """Around the default limit (and its header slack) both paths agree, to the row."""
    data = rows_csv(n)
    expected = careful(data)
    assert expected == outcome(data)
    assert (n > 5000) == (expected[0] == "RowLimitError")


def test_unreadable_stream_takes_the_careful_path() -> None:
    """A stream that cannot seek back is read once, carefully."""

    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            return self._data.readinto(buffer)

    data = rows_csv(60_000)
    assert not fast_used(Pipe(data), max_rows=None)
    assert careful(io.BytesIO(data), max_rows=None) == outcome(Pipe(data), max_rows=None)


@given(
    st.binary(max_size=60).map(lambda b: b.translate(bytes.maketrans(b"\x00\x01\x02", b"\r\n\r"))),
    st.lists(st.integers(1, 9), min_size=1, max_size=10),
    st.integers(1, 8),
)
def test_scan_counts_lines_as_text_mode_does(data: bytes, sizes: list[int], longest: int) -> None:
    """Read in any pieces, the scanner counts the lines newline='' splits, and sees long ones."""
    head, rest = data[: sizes[0]], io.BytesIO(data[sizes[0] :])
    scan = _csv._Scan(head, rest, longest)
    too_long = max(len(part) for part in data.split(b"\n")) > longest
    try:
        pieces = [scan.read(size) for size in sizes * 60]
    except _csv._Unsafe:
        assert too_long
        return
    assert not too_long
    assert data == b"".join(pieces)
    text = data.decode("latin-1")
    assert len(io.StringIO(text, newline="").readlines()) == scan.lines


def write_only_xlsx(rows: list[list[Any]]) -> bytes:
    """A workbook as openpyxl's write-only mode saves it: no <dimension> in the sheet."""
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Users")
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_sources() -> list[bytes]:
    """Workbooks with and without sheet dimensions, several sheets, and the corpus's."""
    users = [["Email", "Name", None, "n"], ["a@b.no", "A", None, 1.5], [None, None, None, None]]
    made = [write_only_xlsx(users), xlsx(users, sheets={"Notes": [["x"], [], [None, "y"]]})]
    return made + [
        (corpus_dir() / c["file"]).read_bytes() for c in CASES if c["file"].endswith(".xlsx")
    ]


@pytest.mark.parametrize("data", xlsx_sources())
def test_openpyxl_reader_is_load_workbook(data: bytes) -> None:
    """The openpyxl reader that ignores <dimension> reads as load_workbook without it does."""
    from userimport import _xlsx

    ours = _xlsx.open_workbook(data, "x.xlsx", "openpyxl")[0]
    theirs = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    assert ours.sheetnames == theirs.sheetnames
    for a, b in zip(ours.worksheets, theirs.worksheets, strict=True):
        b.reset_dimensions()  # a stale <dimension> would cut the sheet short
        size = ("min_row", "min_column", "max_row", "max_column", "sheet_state")
        assert [getattr(a, k) for k in size] == [getattr(b, k) for k in size]
        assert list(a.iter_rows(values_only=True)) == list(b.iter_rows(values_only=True))


# -- blank rows --------------------------------------------------------------------------------

BLANK_LINES = ["\n", "\r\n", "\r", "  \n", ",\n", " ,\t,\r\n", ";|\n"]


def reference_table(text: str, sep: str, cap: int) -> Any:
    """What the blank-row rule makes of ``text``: the csv module's rows and lines, trailing
    blank rows dropped, or the line named when more than ``cap`` blank rows precede values."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=False)
    rows, lines, line = [], [], 1
    for record in reader:
        rows.append(record)
        lines.append(line)
        line = 1 + reader.line_num
    filled = [bool("".join(r)) and not "".join(r).isspace() for r in rows]
    end = max((i + 1 for i, f in enumerate(filled) if f), default=0)
    blank = 0
    for i in range(end):
        blank += not filled[i]
        if filled[i] and blank > cap:
            return f"line {lines[i]:,} holds values after {blank:,} blank rows"
    width = max((len(r) for r in rows[:end]), default=0)
    return [r + [""] * (width - len(r)) for r in rows[:end]], tuple(lines[:end])


@st.composite
def blank_runs(draw: st.DrawFn) -> str:
    """Lines of values with runs of blank lines (of every kind) before, between and after."""
    parts = []
    for i in range(draw(st.integers(1, 4))):
        run = draw(st.integers(0, 40))
        parts.append("".join(draw(st.sampled_from(BLANK_LINES)) for _ in range(run)))
        parts.append(draw(st.sampled_from([f"a{i},b\n", f"a{i},b\r\n", f'"a{i}\n{i}",b\n'])))
    parts.append(
        "".join(draw(st.sampled_from(BLANK_LINES)) for _ in range(draw(st.integers(0, 40))))
    )
    return "".join(parts)


@given(blank_runs(), st.integers(1, 30), st.sampled_from([3, 64]), st.sampled_from([5, 1 << 16]))
def test_blank_rows_read_as_the_csv_module_reads_them(
    text: str, cap: int, one_by_one: int, block: int
) -> None:
    """Runs of blank lines, skipped in bulk, read as the csv module reads them, or are refused."""
    expected = reference_table(text, ",", cap)
    with (
        mock.patch.object(_table, "MAX_BLANK_ROWS", cap),
        mock.patch.object(_csv, "MAX_BLANK_ROWS", cap),
        mock.patch.object(_csv, "_BLANK_LINES", one_by_one),
        mock.patch.object(_csv, "_BLANK_BLOCK", block),
    ):
        for got in (outcome(text.encode(), delimiter=","), careful(text.encode(), delimiter=",")):
            if isinstance(expected, str):
                assert "FileFormatError" == got[0]
                assert expected in got[1]
            else:
                assert expected == (got[0], got[6])


def test_blank_rows_inside_a_table_are_kept_up_to_the_limit() -> None:
    """10,000 blank rows inside a table are kept (row numbers match); 10,001 are refused."""
    for path in (outcome, careful):
        ok = path(b"Email\na@b.no\n" + b"\n" * 10_000 + b"c@d.no\n\n\n", max_rows=None)
        assert 10_003 == len(ok[0])
        assert ["c@d.no"] == ok[0][-1]
        assert 10_003 == ok[6][-1]
        refused = path(b"Email\na@b.no\n" + b"\n" * 10_001 + b"c@d.no\n", max_rows=None)
        assert (
            "FileFormatError",
            "<bytes>: line 10,004 holds values after 10,001 blank rows in the table, more than "
            "10,000; a user list has no such gaps: delete the blank rows, or what lies below "
            "the list, and save the file again",
        ) == refused
    with pytest.raises(FileFormatError) as info:
        read_table(b"Email\na@b.no\n" + b" , \n" * 5_000 + b"x\n" + b"\r\n" * 5_001 + b"c\n")
    assert 10_005 == info.value.row


def test_blank_rows_in_a_workbook() -> None:
    """Blank rows of a sheet follow the same rule, named by sheet and row."""
    rows: list[list[Any]] = [["Email"], ["a@b.no"], *[[None]] * 10_001, ["c@d.no"]]
    data = write_only_xlsx(rows)
    for engine in ("openpyxl", "calamine"):
        with pytest.raises(
            FileFormatError, match=r"sheet 'Users' row 10,004 holds values after 10,001 blank rows"
        ):
            read_table(data, engine=engine)  # type: ignore[arg-type]
    kept = read_table(write_only_xlsx(rows[:-2] + rows[-1:]), engine="openpyxl")
    assert 10_003 == len(kept.rows)


MEASURE = r"""
import json, resource, sys, time
import pandas, openpyxl
from userimport import UserImportError, read_table

def rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

for name, engine, data in CASES:
    before, start = rss(), time.perf_counter()
    try:
        table = read_table(data, engine=engine)
        result = [len(table.rows), table.rows.iloc[-1, 0]]
    except UserImportError as e:
        result = [type(e).__name__, str(e)]
    print(json.dumps([name, engine, time.perf_counter() - start, rss() - before, result]))
"""


def measured(cases: str) -> list[list[Any]]:
    """Run read_table on each case in a fresh interpreter: its time, peak memory growth, outcome."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", cases + MEASURE], capture_output=True, text=True, timeout=120
    )
    assert 0 == done.returncode, done.stderr[-2000:]
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_ten_megabytes_of_blank_lines_in_bounded_time_and_memory() -> None:
    """10 MB of blank lines of every kind: read in < 3 s and < 300 MB, or refused at the line."""
    cases = r"""
MB = 10 << 20
HEAD = b"Email,Name\na@b.no,A\n"
CASES = [
    ("lf", "auto", HEAD + b"\n" * MB),
    ("crlf", "auto", HEAD + b"\r\n" * (MB // 2)),
    ("cr", "auto", HEAD.replace(b"\n", b"\r") + b"\r" * MB),
    ("delimiters", "auto", HEAD + b" ,\t,\r\n" * (MB // 6)),
    ("utf-16", "auto", (HEAD.decode() + "\n" * (MB // 2)).encode("utf-16")),
    ("after a quoted line break", "auto", b'Email,Note\na@b.no,"two\nlines"\n' + b"\n" * MB),
    ("then a value", "auto", HEAD + b"\n" * MB + b"z@b.no,Z\n"),
]
"""
    results = {name: (seconds, peak, result) for name, _, seconds, peak, result in measured(cases)}
    for name, (seconds, peak, result) in results.items():
        assert seconds < 3, name
        assert peak < 300 << 20, name
        if name != "then a value":
            assert [2, "a@b.no"] == result, name
    assert [
        "FileFormatError",
        "<bytes>: line 10,485,763 holds values after 10,485,760 blank rows in the table, more "
        "than 10,000; a user list has no such gaps: delete the blank rows, or what lies below "
        "the list, and save the file again",
    ] == results["then a value"][2]


@given(st.lists(st.sampled_from([b"\r", b"\n", b"\r\n", b" ", b"\t", b",", b";", b'"', b"a"])))
def test_blank_lines_ahead_are_counted_as_one_pattern_counts_them(parts: list[bytes]) -> None:
    """Hypothesis: the fast scan's two patterns count what the one pattern they replace did."""
    import re

    text = b"".join(parts)
    one = re.compile(rb'(?:\n|\r(?!\n))(?=[ \t,;|"]*[\r\n])')
    assert len(one.findall(text)) == _csv._blank_ahead(text)

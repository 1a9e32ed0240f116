"""The failing inputs of issue 13 (tests/data/cases) and inputs of the same kinds of our own."""

from __future__ import annotations

import datetime as dt
import importlib.util
import io
import random
import re
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from userimport import (
    FileFormatError,
    ImportSettings,
    InMemoryUserRepository,
    apply_plan,
    detect_header,
    import_file,
    plan_import,
    read_table,
    suggest_mapping,
    validate,
)
from userimport.cli import EXIT_OK, cli

from .test_xlsx_fast import replace_members, save, with_shared_strings

needs_calamine = pytest.mark.skipif(
    importlib.util.find_spec("python_calamine") is None, reason="the xlsx-fast extra"
)

CASES = Path(__file__).resolve().parent / "data" / "cases"


def test_cp1252_with_a_curly_apostrophe_is_read_as_cp1252() -> None:
    """One 0x92 beside ø, Å and æ: Windows-1252 on the evidence of every letter, not cp850."""
    table = read_table(CASES / "staff_cp1252.csv")
    assert "cp1252" == table.encoding
    names = table.rows.iloc[1:, :2].values.tolist()
    assert [["Sean", "O’Neil"], ["Bjørn", "Åsheim"], ["Kjærsti", "Løvli"]] == names
    assert not any(n.startswith("encoding uncertain") for n in table.notes)


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        # Excel for Mac's "CSV (Macintosh)": Mac Roman, CR-only line ends
        ("First name,Last name,Email\rHåkon,Bjørnstad,hakon@firma.no\r", "mac-roman"),
        (
            "Fornavn;Etternavn;E-post\nÅse;Müller;ase@firma.no\nHåkon;Bjørnstad;h@firma.no\n",
            "mac-roman",
        ),
        # a DOS export: code page 850
        (
            "Fornavn;Etternavn;E-post\r\nJørgen;Müller;j@firma.no\r\nÅse;Bækken;a@firma.no\r\n",
            "cp850",
        ),
        ("Name,Email\r\nSøren Kähler,s@firma.dk\r\n", "cp850"),
        # Latin-9: the euro sign and Š, Ž, Œ where Windows-1252 has ¤, ¦, ´, ¼
        (
            "Prénom,Nom,Email,Note\nŽaneta,Šimková,z@firma.fi,30 €\nŒdipe,Cœur,c@firma.fr,\n",
            "iso8859-15",
        ),
        # Windows-1252 with curly quotes and the euro sign where Latin-9 has control characters
        ("Navn,Notat\nO’Neil,“VIP” 30 €\nRenée Ødegård,\n", "cp1252"),
        # Central European Windows
        ("Imię,Nazwisko,Email\nŁukasz,Wójcik,l@firma.pl\nŻaneta,Świątek,z@firma.pl\n", "cp1250"),
    ],
)
def test_legacy_encodings_are_told_apart_by_evidence(text: str, encoding: str) -> None:
    """Each legacy encoding is chosen on the letters it makes of the whole sample."""
    table = read_table(text.encode(encoding))
    expected = [
        line.split(table.delimiter)
        for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        if line
    ]
    assert (encoding, expected) == (table.encoding, table.rows.values.tolist())


def test_a_close_runner_up_is_named_in_the_notes() -> None:
    """Bytes that two encodings read as likely letters: the best is used, the other named."""
    table = read_table(b"Navn\nSp\x8arre\n")  # Mac Roman 'Spärre', cp850 'Spèrre'
    assert "mac-roman" == table.encoding
    doubt = [n for n in table.notes if n.startswith("encoding uncertain")]
    assert 1 == len(doubt)
    assert "encoding='cp850'" in doubt[0]


def test_a_close_runner_up_is_a_warning_on_each_cell_it_would_read_differently() -> None:
    """Encoding doubt reaches the review: a warning on each cell the runner-up reads otherwise."""
    data = (
        "Fornavn;Etternavn;E-post;Avdeling\n"
        "Lise;Spärre;lise@firma.no;Drift\nOla;Nordmann;ola@firma.no;Drift\n"
    )
    table = read_table(data.encode("mac-roman"))
    assert ("mac-roman", "cp850") == (table.encoding, table.encoding_runner_up)
    review = validate(table, 0, suggest_mapping(table, 0))
    doubt = review.issues[review.issues["code"] == "encoding_uncertain"]
    assert [(2, "last_name", "warning")] == list(
        zip(doubt["row"], doubt["field"], doubt["severity"], strict=True)
    )
    message = doubt["message"].iloc[0]
    assert "'Spärre' (read as mac-roman) would be 'Spèrre' in cp850" in message
    assert "encoding='cp850'" in message
    assert review.is_valid
    edited = review.edit(2, last_name="Sparre").revalidate()
    assert 0 == (edited.issues["code"] == "encoding_uncertain").sum()


@pytest.mark.parametrize("name", ["åse berg", "AÆ a", "Kari ÅS", "øyvind", "Ærlig Øst"])
@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_names_in_any_case_read_as_windows_1252(name: str, newline: str) -> None:
    """Lower-case names, initials and capitals in Windows-1252 are not read as Mac Roman or 850."""
    text = f"Email,First name,Last name{newline}a@b.no,x,{name}{newline}"
    table = read_table(text.encode("cp1252"))
    assert ("cp1252", name) == (table.encoding, table.rows.iloc[-1, 2])


def test_a_sure_encoding_gives_no_encoding_warning() -> None:
    """Without a close runner-up (or with the encoding given), no cell gets the warning."""
    text = "Fornavn;Etternavn;E-post;Avdeling\nLise;Spärre;lise@firma.no;Drift\n"
    data = text.encode("mac-roman")
    for table in (read_table(data, encoding="mac-roman"), read_table(text.encode())):
        review = validate(table, 0, suggest_mapping(table, 0))
        assert table.encoding_runner_up is None
        assert 0 == (review.issues["code"] == "encoding_uncertain").sum()


def test_cr_only_line_ends_read_like_any_others(tmp_path: Path) -> None:
    """Old Mac CR-only line ends with ';': 3 rows of 4 cells, 2 users, and plan exits 0."""
    table = read_table(CASES / "staff_cr.csv")
    assert (";", (3, 4)) == (table.delimiter, table.rows.shape)
    repo = InMemoryUserRepository()
    plan = import_file(CASES / "staff_cr.csv", repo)
    assert 2 == plan.summary()["create"]
    db = f"sqlite:///{tmp_path / 'users.db'}"
    args = ["--db", db, "--create", "plan", str(CASES / "staff_cr.csv")]
    result = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "p.json")])
    assert EXIT_OK == result.exit_code, result.output


@pytest.mark.parametrize("end", ["\r", "\n", "\r\n"])
@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_any_line_end_with_any_delimiter(end: str, sep: str) -> None:
    """The delimiter is found and the cells are the same whatever the line ends."""
    rows = [
        ["Email", "First name", "Last name"],
        ["a@firma.no", "Ål", "x y"],
        ["b@firma.no", "", "z"],
    ]
    data = end.join(sep.join(r) for r in rows).encode("utf-8")
    table = read_table(data)
    assert (sep, rows) == (table.delimiter, table.rows.values.tolist())


# -- XLSX: every engine gives the same cells, as the sheet shows them ---------------------------

ENGINES = ["openpyxl", pytest.param("calamine", marks=needs_calamine)]
USERS = [
    ["First Name", "Last Name", "Email", "Department"],
    ["Kari", "Nordmann", "kari.nordmann@firma.no", "Salg"],
    ["Ola", "Hansen", "ola.hansen@firma.no", "Lager"],
    ["Eva", "Lie", "eva.lie@firma.no", "Salg"],
]


def workbook(fill: Any, *, dimension: str | None = None, shared: bool = False) -> bytes:
    """A workbook whose first sheet 'Users' ``fill(sheet)`` writes, its dimension rewritten."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Users"
    fill(sheet)
    data = save(book)
    if dimension is not None:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            xml = archive.read("xl/worksheets/sheet1.xml").decode()
        xml = re.sub(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{dimension}"/>', xml)
        data = replace_members(data, {"xl/worksheets/sheet1.xml": xml.encode()})
    return with_shared_strings(data) if shared else data


def users(sheet: Any) -> None:
    for row in USERS:
        sheet.append(row)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", ["dimension_A1.xlsx", "dimension_stale.xlsx"])
def test_a_wrong_dimension_is_read_whole(name: str, engine: Any) -> None:
    """A stale <dimension> (A1, A1:D2): 4 rows of 4 cells, 3 users, mirror mode deletes nobody."""
    table = read_table(CASES / name, engine=engine)
    assert USERS == table.rows.values.tolist()
    repo = InMemoryUserRepository()
    import_file(CASES / name, repo, dry_run=False)
    assert 3 == len(repo.snapshot())
    plan = import_file(CASES / name, repo, ImportSettings(delete_missing=True))
    assert 0 == plan.summary().get("delete", 0)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("dimension", ["1:39", "A1", "A1:B2", "$A$1:$D$4", "A1:XFD1048576"])
def test_any_dimension_reads_the_same(dimension: str, engine: Any) -> None:
    """Rows only (as LibreOffice writes), too small, absolute or too big: the cells as written."""
    data = workbook(users, dimension=dimension)
    assert USERS == read_table(data, engine=engine).rows.values.tolist()


@pytest.mark.parametrize("engine", ENGINES)
def test_an_error_cell_reads_as_its_text_and_the_problem_quotes_it(engine: Any) -> None:
    """#N/A from a failed lookup reads '#N/A' on every engine; the problem quotes it."""
    table = read_table(CASES / "lookup_error.xlsx", engine=engine)
    assert "#N/A" == table.rows.iloc[2, 2]
    review = validate(table, 0, suggest_mapping(table, 0))
    issues = review.report.frame
    assert ["invalid_email"] == issues["code"].tolist()
    assert "the email '#N/A' is not a valid email address" in issues["message"].iloc[0]


@pytest.mark.parametrize("engine", ENGINES)
def test_every_error_value_reads_as_its_text(engine: Any) -> None:
    """#REF!, #DIV/0!, #VALUE!, #NAME? and #NULL! read as Excel shows them."""
    errors = ["#REF!", "#DIV/0!", "#VALUE!", "#NAME?", "#NULL!", "#NUM!"]

    def fill(sheet: Any) -> None:
        users(sheet)
        for i, text in enumerate(errors):
            cell = sheet.cell(row=2 + i % 3, column=5 + i // 3, value=text)
            cell.data_type = "e"

    rows = read_table(workbook(fill), engine=engine).rows
    assert errors == [rows.iloc[2 + i % 3 - 1, 4 + i // 3] for i in range(len(errors))]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_merged_cell_belongs_to_every_cell_of_the_merge(engine: Any) -> None:
    """A department merged down over three people: all three get it, and no problem."""
    table = read_table(CASES / "merged_department.xlsx", engine=engine)
    assert ["Salg", "Salg", "Salg", "Lager"] == table.rows.iloc[1:, 3].tolist()
    review = validate(table, 0, suggest_mapping(table, 0))
    assert 0 == len(review.report.frame)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_horizontal_merge_fills_across(engine: Any) -> None:
    """A value merged across two columns (and down two rows) is in each of its cells."""

    def fill(sheet: Any) -> None:
        users(sheet)
        sheet["E1"], sheet["F1"] = "Group 1", "Group 2"
        sheet["E2"] = "Oslo"
        sheet.merge_cells("E2:F3")

    rows = read_table(workbook(fill), engine=engine).rows.values.tolist()
    assert [["Oslo", "Oslo"], ["Oslo", "Oslo"], ["", ""]] == [r[4:6] for r in rows[1:]]


@pytest.mark.parametrize("engine", ENGINES)
def test_numbers_read_as_their_format_shows_them(engine: Any) -> None:
    """Leading zeros, percentages, decimals, thousands, dates in the cell's own format."""
    values = [
        (417, "00000", "00417"),
        (417.0, "General", "417"),
        (0.25, "0%", "25%"),
        (0.125, "0.0%", "12.5%"),
        (1234.5, "#,##0.00", "1,234.50"),
        (3.14159, "0.00", "3.14"),
        (dt.datetime(2024, 5, 17), "dd.mm.yyyy", "17.05.2024"),
        (dt.datetime(2024, 5, 17, 8, 30), "yyyy-mm-dd hh:mm", "2024-05-17 08:30"),
        (dt.datetime(2024, 5, 17), "mm-dd-yy", "2024-05-17"),  # built-in 14: the reader's locale
        (12, '"No. "0', "No. 12"),
    ]

    def fill(sheet: Any) -> None:
        users(sheet)
        for i, (value, code, _) in enumerate(values):
            cell = sheet.cell(row=5 + i, column=5, value=value)
            cell.number_format = code

    rows = read_table(workbook(fill), engine=engine).rows
    assert [shown for _, _, shown in values] == rows.iloc[4:, 4].tolist()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_formula_never_calculated_is_reported_as_such(engine: Any) -> None:
    """A formula with no saved value: the problem says so, not that the cell is empty."""
    table = read_table(CASES / "never_calculated.xlsx", engine=engine)
    assert frozenset({(2, 2)}) == table.uncalculated
    issues = validate(table, 0, suggest_mapping(table, 0)).report.frame
    assert ["formula_not_calculated"] == issues["code"].tolist()
    assert (
        "email holds a formula whose value was never saved; open and save the file in a "
        "spreadsheet program"
    ) in issues["message"].iloc[0]


def test_editing_a_formula_never_calculated_clears_its_problem() -> None:
    """Once a person types the email in the review, the formula problem is gone."""
    table = read_table(CASES / "never_calculated.xlsx")
    review = validate(table, 0, suggest_mapping(table, 0))
    fixed = review.edit(3, email="ola.hansen@firma.no")
    assert (False, True) == (review.is_valid, fixed.is_valid)


def test_a_formula_with_a_saved_value_is_its_value() -> None:
    """Only formulas with no saved value are reported; a cached value (or "") is read."""

    def fill(sheet: Any) -> None:
        users(sheet)
        sheet["E1"], sheet["E2"], sheet["F1"] = "Note", '=A2&"x"', "Other"

    data = workbook(fill)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    xml = re.sub(
        r"(<c r=\"E2\"[^>]*)><f>(.*?)</f><v ?/></c>", r'\1 t="str"><f>\2</f><v>Karix</v></c>', xml
    )
    table = read_table(replace_members(data, {"xl/worksheets/sheet1.xml": xml.encode()}))
    assert ("Karix", frozenset()) == (table.rows.iloc[1, 4], table.uncalculated)


def hidden_book(*, hidden_rows: int, visible_rows: int) -> bytes:
    book = openpyxl.Workbook()
    old = book.active
    assert old is not None
    old.title = "old list"
    old.sheet_state = "hidden"
    new = book.create_sheet("Users")
    for sheet, n in ((old, hidden_rows), (new, visible_rows)):
        sheet.append(["Email", "First name", "Last name"])
        for i in range(n):
            sheet.append([f"u{i}@firma.no", f"U{i}", "X"])
    return save(book)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_hidden_sheet_is_never_picked_silently(engine: Any) -> None:
    """A visible sheet with users beats a hidden one with more; one asked for is named hidden."""
    data = hidden_book(hidden_rows=5, visible_rows=2)
    table = read_table(data, engine=engine)
    assert ("Users", 3) == (table.sheet, len(table.rows))
    assert "'old list' (hidden) 5" in table.notes[0]
    asked = read_table(data, sheet="old list", engine=engine)
    assert "sheet 'old list' as given, a hidden sheet" == asked.notes[0]


ERRORS = ["#N/A", "#REF!", "#DIV/0!", "#VALUE!"]
FORMATS = ["General", "00000", "0%", "0.00", "#,##0", "dd.mm.yyyy", "mm-dd-yy", "@"]
cell_values = st.one_of(
    st.none(),
    st.text(alphabet="abcæøå@.0 -", max_size=6),
    st.integers(-10_000, 100_000),
    st.integers(-(10**20), 10**20),
    st.text(alphabet=" \t\r\nab", max_size=4),
    st.floats(-1e6, 1e6, allow_nan=False).map(lambda f: round(f, 3)),
    st.booleans(),
    st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2040, 1, 1)).map(
        lambda d: d.replace(microsecond=0)
    ),
    st.sampled_from([("error", e) for e in ERRORS] + [("formula", "=A1&B1")]),
)


@st.composite
def workbooks(draw: st.DrawFn) -> bytes:
    """Workbooks with formats, merges, error cells, formulas never calculated, inline or
    shared strings, wrong dimensions and hidden sheets."""
    book = openpyxl.Workbook()
    names = draw(st.lists(st.sampled_from(["Users", "Old", "Notes"]), min_size=1, unique=True))
    visible = draw(st.sampled_from(names))
    formats = draw(st.sampled_from([["General"], FORMATS]))  # plain ones go to calamine
    for i, name in enumerate(names):
        sheet = book.active if i == 0 else book.create_sheet()
        assert sheet is not None
        sheet.title = name
        if name != visible and draw(st.booleans()):
            sheet.sheet_state = "hidden"
        sheet.append(["Email", "First name", "Last name"])
        for r in range(draw(st.integers(0, 5))):
            for c, value in enumerate(draw(st.lists(cell_values, max_size=4)), start=1):
                cell = sheet.cell(row=r + 2, column=c)
                if isinstance(value, tuple):
                    cell.value = value[1]
                    if value[0] == "error":
                        cell.data_type = "e"
                else:
                    cell.value = value
                    cell.number_format = draw(st.sampled_from(formats))
        if draw(st.booleans()):
            top, left = draw(st.integers(1, 6)), draw(st.integers(1, 4))
            sheet.merge_cells(
                start_row=top,
                start_column=left,
                end_row=top + draw(st.integers(0, 2)),
                end_column=left + draw(st.integers(0, 2)),
            )
    data = save(book)
    dimension = draw(st.sampled_from([None, "A1", "A1:B2", "1:39"]))
    if dimension is not None:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = {
                n: re.sub(
                    rb'<dimension ref="[^"]*"\s*/>',
                    f'<dimension ref="{dimension}"/>'.encode(),
                    archive.read(n),
                )
                for n in archive.namelist()
                if n.startswith("xl/worksheets/sheet")
            }
        data = replace_members(data, members)
    return with_shared_strings(data) if draw(st.booleans()) else data


def read_or_error(data: bytes, **options: Any) -> Any:
    try:
        table = read_table(data, **options)
    except Exception as e:
        return type(e).__name__
    return table.sheet, table.rows.values.tolist(), sorted(table.uncalculated)


@needs_calamine
@settings(max_examples=60, deadline=None)
@given(workbooks(), st.sampled_from([None, "Users", "Old", "Notes"]))
def test_every_engine_gives_the_same_cells(data: bytes, sheet: str | None) -> None:
    """calamine and openpyxl give the same sheet, cells and formulas never calculated."""
    openpyxl_read = read_or_error(data, sheet=sheet, engine="openpyxl")
    assert openpyxl_read == read_or_error(data, sheet=sheet, engine="calamine")


FIRST_NAMES = [
    "Bjørn",
    "Åse",
    "Kjærsti",
    "Håkon",
    "Jürgen",
    "Søren",
    "Renée",
    "José",
    "Zoë",
    "François",
    "Märta",
    "Øystein",
    "Ærlend",
    "Mikaël",
    "Ingrid",
    "Per",
    "Anna",
    "Ole",
    "Núria",
    "Íñigo",
    "Chloé",
    "Jörg",
    "Björk",
    "Åsa",
    "Göran",
    "Léa",
    "Thérèse",
    "Maëlle",
    "Noël",
    "Agnès",
]
LAST_NAMES = [
    "Løvli",
    "Åsheim",
    "Müller",
    "Bækken",
    "Strøm",
    "Ødegård",
    "Kähler",
    "García",
    "Muñoz",
    "O’Neil",
    "D’Angelo",
    "Lindqvist",
    "Hansen",
    "Berg",
    "Dahl",
    "Größ",
    "Sæther",
    "Hægstad",
    "Fjørtoft",
    "Nyström",
    "Lefèvre",
    "Peña",
    "Über",
    "Øien",
]
#: The line ends each encoding's programs write: Windows and DOS CR LF, old Mac CR, Unix LF.
LINE_ENDS = {"cp1252": ["\r\n"], "cp850": ["\r\n"], "mac-roman": ["\r", "\n"], "iso8859-15": ["\n"]}


@pytest.mark.parametrize("encoding", ["cp1252", "mac-roman", "cp850", "iso8859-15"])
def test_staff_lists_in_each_legacy_encoding_read_back_exactly(encoding: str) -> None:
    """300 small staff lists of European names per encoding all read back as written."""
    rng = random.Random(1)
    wrong = []
    for _ in range(300):
        rows = ["First name;Last name;Email"] + [
            f"{rng.choice(FIRST_NAMES)};{rng.choice(LAST_NAMES)};u{i}@firma.no"
            for i in range(rng.randint(1, 6))
        ]
        text = rng.choice(LINE_ENDS[encoding]).join(rows)
        try:
            data = text.encode(encoding)
        except UnicodeEncodeError:  # O’Neil has no place in cp850 or Latin-9
            continue
        if data.isascii():
            continue
        if read_table(data).rows.values.tolist() != [r.split(";") for r in rows]:
            wrong.append(text)
    assert [] == wrong


@pytest.mark.parametrize("engine", ENGINES)
def test_merges_far_beyond_the_list_are_refused(engine: Any) -> None:
    """A merged range thousands of cells wide filled from one value: refused, not expanded."""

    def fill(sheet: Any) -> None:
        users(sheet)
        sheet["E2"] = "x"
        sheet.merge_cells("E2:ALL4")

    with pytest.raises(FileFormatError, match="merged cells overlap or reach far beyond"):
        read_table(workbook(fill), engine=engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_hidden_sheet_is_chosen_only_when_no_visible_one_has_a_list(engine: Any) -> None:
    """Only a hidden sheet holds users: it is read, and the notes say it is hidden."""
    book = openpyxl.Workbook()
    notes = book.active
    assert notes is not None
    notes.title = "Read me"
    notes.append(["Fill in the list on the other sheet"])
    hidden = book.create_sheet("List")
    hidden.sheet_state = "hidden"
    for row in USERS:
        hidden.append(row)
    table = read_table(save(book), engine=engine)
    assert ("List", USERS) == (table.sheet, table.rows.values.tolist())
    assert "(a hidden sheet: no visible sheet holds a list)" in table.notes[0]


def test_zero_width_spaces_pasted_from_a_web_page_are_removed_with_a_warning() -> None:
    """pasted_from_web.csv: `Annika`, and both emails valid, each cleaning warned about."""
    review = import_review(CASES / "pasted_from_web.csv")
    rows = review.rows
    assert ["Annika", "Per", "Eva"] == list(rows["first_name"])
    assert ["annika.holm@firma.no", "per.lund@firma.no", "eva.dahl@firma.no"] == list(rows["email"])
    assert ["valid"] * 3 == list(rows["status"])
    warned = review.issues[review.issues["code"] == "invisible_character"]
    assert [(2, "first_name"), (3, "email"), (4, "email")] == list(
        zip(warned["row"], warned["field"], strict=True)
    )


def test_a_decomposed_file_of_composed_users_changes_nothing() -> None:
    """staff_nfc.csv then staff_nfd.csv with on_existing=update: unchanged 1, nothing new."""
    repo = InMemoryUserRepository()
    apply_plan(plan_import(import_review(CASES / "staff_nfc.csv"), repo), repo)
    review = import_review(CASES / "staff_nfd.csv")
    plan = plan_import(review, repo, ImportSettings(on_existing="update"))
    summary = plan.summary()
    assert (1, 0, 0, 0) == (
        summary["unchanged"],
        summary["update"],
        summary["new_groups"],
        summary["new_departments"],
    )
    assert () == plan.warnings


def import_review(path: Path) -> Any:
    """The review of a file read, headed and mapped with no hints."""
    table = read_table(path)
    header = detect_header(table).row
    return validate(table, header, suggest_mapping(table, header))

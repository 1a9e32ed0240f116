"""Export and template: exact CSV bytes, text-only XLSX, neutralised formulas, round trips."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from hypothesis import example, given

from tests import strategies as s
from tests.conftest import ADMIN, ANNA, OLE
from userimport import (
    ColumnMapping,
    FileFormatError,
    ImportSettings,
    InMemoryUserRepository,
    Plan,
    SettingsError,
    User,
    detect_header,
    export_users,
    import_file,
    read_table,
    suggest_mapping,
    write_template,
)
from userimport.export import CORE_HEADERS, EXAMPLE_ROW, INSTRUCTIONS, neutralise
from userimport.model import Snapshot

#: Import settings under which a re-import of an export must change nothing.
MIRROR = ImportSettings(
    on_existing="update",
    groups="replace",
    admin_rights=True,
    delete_missing=True,
    max_deletes=None,
)
HEADER = [*CORE_HEADERS, "Admin"]
#: A stored value that itself starts with an apostrophe before a sign must come back whole:
#: the export writes ''=Anna, and the import takes one apostrophe off.
APOSTROPHE_STORE = [
    User(email="a@firma.no", first_name="'=Anna", last_name="''-Berg", department="'@S")
]
FORMULAS = ['=HYPERLINK("http://x")', "+47 22 00 00 00", "-Berg", "@SUM(1)", "#N/A", "007"]


def mapping_for(store: list[User] | Snapshot) -> ColumnMapping:
    """The mapping of an export's columns, attribute columns included, by position."""
    names = sorted({n for u in store for n in u.attributes}, key=lambda n: (n.casefold(), n))
    headers = (*HEADER, *names)
    targets = ["first_name", "last_name", "email", "department", "groups", "is_admin"]
    targets += [f"attributes.{n}" for n in names]
    return ColumnMapping.from_columns(dict(enumerate(targets)), headers=headers)


def export_bytes(repo: InMemoryUserRepository, fmt: str, **options: str) -> bytes:
    """Export the store into memory."""
    out = io.BytesIO()
    assert None is export_users(repo, out, format=fmt, **options)  # type: ignore[call-overload]
    return out.getvalue()


def reimport(repo: InMemoryUserRepository, data: bytes) -> Plan:
    """Plan the import of an export back into its own store."""
    plan = import_file(data, repo, MIRROR, mapping=mapping_for(repo.snapshot()))
    assert isinstance(plan, Plan)
    return plan


def cells(data: bytes, sheet: str = "Users") -> list[list[openpyxl.cell.Cell]]:
    """The cells of a sheet, formulas kept as formulas."""
    book = openpyxl.load_workbook(io.BytesIO(data), data_only=False)
    return [list(row) for row in book[sheet].iter_rows()]


# -- CSV ---------------------------------------------------------------------------------------


def test_csv_bytes_are_exact(seeded_repo: InMemoryUserRepository, tmp_path: Path) -> None:
    """A CSV export is UTF-8 with BOM, comma-delimited, minimally quoted, CRLF, sorted by email."""
    path = export_users(seeded_repo, tmp_path / "users.csv")
    expected = (
        "\ufeffFirst Name,Last Name,Email,Department,User Groups,Admin,title\r\n"
        "Anna,Berg,Anna.Berg@firma.no,Sales,Oslo,no,\r\n"
        "Bo,Ss,boss@firma.no,Ledelse,Leaders,yes,\r\n"
        'Ole,Hansen,ole@firma.no,Engineering,"Bergen, Tech",no,Engineer\r\n'
    ).encode()
    assert tmp_path / "users.csv" == path
    assert expected == path.read_bytes()


def test_csv_keeps_scandinavian_letters_and_quotes() -> None:
    """Letters like æøå are UTF-8; a value with a quote or comma is quoted the CSV way."""
    repo = InMemoryUserRepository(
        [User(email="åse@firma.no", first_name='Åse "Sol"', last_name="Ødegård, jr.")]
    )
    expected = (
        "\ufeffFirst Name,Last Name,Email,Department,User Groups,Admin\r\n"
        '"Åse ""Sol""","Ødegård, jr.",åse@firma.no,,,no\r\n'
    ).encode()
    assert expected == export_bytes(repo, "csv")


@pytest.mark.parametrize("sign", ["=", "+", "-", "@"])
def test_csv_neutralises_each_formula_sign(sign: str) -> None:
    """A value starting with = + - or @ gets an apostrophe in front, in every column."""
    value = f"{sign}cmd|' /C calc'!A0"
    repo = InMemoryUserRepository(
        [
            User(
                email="a@firma.no",
                first_name=value,
                last_name="B",
                department=value,
                groups={value},
                attributes={"note": value},
            )
        ]
    )
    text = export_bytes(repo, "csv").decode("utf-8-sig")
    expected = f"'{value}"
    assert [expected, "B", "a@firma.no", expected, expected, "no", expected] == next(
        iter(csv.reader(io.StringIO(text.splitlines()[1])))
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\t=1+2", "'=1+2"),
        ("\r@x", "'@x"),
        ("\tplain", "plain"),
        ("  =1", "'=1"),
        ("  plain", "  plain"),
        ("'=1", "''=1"),
        ("'Tis", "'Tis"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_neutralise(value: str, expected: str) -> None:
    """Formula signs get an apostrophe; leading tab/CR (or blanks before a sign) are dropped."""
    assert expected == neutralise(value)


def test_csv_groups_use_the_separator() -> None:
    """Groups are sorted and joined by the separator and a space, and import back with it."""
    repo = InMemoryUserRepository(
        [User(email="a@firma.no", first_name="A", last_name="B", department="S", groups={"Y", "X"})]
    )
    data = export_bytes(repo, "csv", separator=";")
    assert "X; Y" == data.decode("utf-8-sig").splitlines()[1].split(",")[4]
    plan = import_file(
        data, repo, MIRROR, mapping=mapping_for(repo.snapshot()), group_separator=";"
    )
    assert isinstance(plan, Plan)
    assert plan.is_empty, plan.describe()


def test_a_group_holding_the_separator_is_refused(tmp_path: Path) -> None:
    """A group whose name holds the separator would split on import: the export refuses it."""
    repo = InMemoryUserRepository([User(email="a@firma.no", groups={"R&D, Oslo"})])
    with pytest.raises(SettingsError, match="separator=';'"):
        export_users(repo, tmp_path / "users.csv")
    assert not (tmp_path / "users.csv").exists()
    assert "R&D, Oslo" in export_bytes(repo, "csv", separator=";").decode("utf-8-sig")


@pytest.mark.parametrize("separator", ["", " ", "\n"])
def test_a_blank_separator_is_refused(separator: str, empty_repo: InMemoryUserRepository) -> None:
    """The group separator must be visible (a tab is allowed)."""
    with pytest.raises(SettingsError, match="non-blank"):
        export_bytes(empty_repo, "csv", separator=separator)


# -- XLSX --------------------------------------------------------------------------------------


def test_xlsx_cells_are_text_never_formulas(tmp_path: Path) -> None:
    """Every cell of an XLSX export is a text cell holding the stored value; none is a formula."""
    repo = InMemoryUserRepository(
        [
            User(email=f"u{i}@firma.no", first_name=v, last_name=v, department=v, groups={v})
            for i, v in enumerate(FORMULAS)
        ]
    )
    path = export_users(repo, tmp_path / "users.xlsx")
    rows = cells(path.read_bytes())
    assert HEADER == [c.value for c in rows[0]]
    assert {"s"} == {c.data_type for row in rows for c in row if c.value is not None}
    assert [[v, v, f"u{i}@firma.no", v] for i, v in enumerate(FORMULAS)] == [
        [c.value for c in row[:4]] for row in rows[1:]
    ]
    flagged = [row[0].quotePrefix for row in rows[1:]]
    assert [True, True, True, True, False, False] == flagged


def test_xlsx_round_trips_through_openpyxl_values(seeded_repo: InMemoryUserRepository) -> None:
    """The XLSX export has one Users sheet with the same table as the CSV export."""
    data = export_bytes(seeded_repo, "xlsx")
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert ["Users"] == book.sheetnames
    table = [[c or "" for c in row] for row in book["Users"].iter_rows(values_only=True)]
    csv_text = export_bytes(seeded_repo, "csv").decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(csv_text))) == table


def test_xlsx_refuses_a_control_character(empty_repo: InMemoryUserRepository) -> None:
    """A control character an XLSX cell cannot hold is refused, naming the cell."""
    repo = InMemoryUserRepository([User(email="a@firma.no", attributes={"note": "bell\x07"})])
    with pytest.raises(FileFormatError, match=r"Users!G2.*export as \.csv"):
        export_bytes(repo, "xlsx")


# -- destinations ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["users.txt", "users.xls", "users"])
def test_unknown_suffix_is_refused(
    name: str, tmp_path: Path, empty_repo: InMemoryUserRepository
) -> None:
    """A name not ending in .csv or .xlsx raises FileFormatError naming the suffixes that work."""
    with pytest.raises(FileFormatError, match=r"\.csv or \.xlsx"):
        export_users(empty_repo, tmp_path / name)
    with pytest.raises(FileFormatError, match=r"\.csv or \.xlsx"):
        write_template(str(tmp_path / name))


def test_file_object_needs_a_format(empty_repo: InMemoryUserRepository) -> None:
    """A file object without a name needs format=; with a named file the suffix decides."""
    with pytest.raises(FileFormatError, match="format='csv'"):
        export_users(empty_repo, io.BytesIO())
    with pytest.raises(FileFormatError, match="unknown format"):
        export_users(empty_repo, io.BytesIO(), format="ods")  # type: ignore[call-overload]


def test_named_file_object_uses_its_suffix(
    seeded_repo: InMemoryUserRepository, tmp_path: Path
) -> None:
    """A binary file opened on a .xlsx path is written as XLSX, and the call returns None."""
    with open(tmp_path / "users.xlsx", "wb") as f:
        assert None is export_users(seeded_repo, f)
    assert "xlsx" == read_table(tmp_path / "users.xlsx").format


def test_export_only_reads_a_snapshot() -> None:
    """Export asks the repository for one snapshot and nothing else."""

    class SnapshotOnly:
        def __init__(self) -> None:
            self.calls = 0

        def snapshot(self) -> Snapshot:
            self.calls += 1
            return Snapshot.from_users([ANNA], version="1")

    repo = SnapshotOnly()
    data = io.BytesIO()
    export_users(repo, data, format="csv")  # type: ignore[call-overload]
    assert 1 == repo.calls


def test_openpyxl_is_loaded_only_for_xlsx() -> None:
    """Importing the export module, or writing a CSV, does not load openpyxl."""
    code = (
        "import io, sys; from userimport import InMemoryUserRepository, export_users; "
        "export_users(InMemoryUserRepository(), io.BytesIO(), format='csv'); "
        "print('openpyxl' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "False" == out.stdout.strip()


# -- the import recognises the export ----------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_headers_are_recognised_without_hints(suffix: str, tmp_path: Path) -> None:
    """Header detection finds the header row and suggest_mapping maps every export column."""
    repo = InMemoryUserRepository([ANNA, User(email="x@firma.no", first_name="X")])
    table = read_table(export_users(repo, tmp_path / f"users{suffix}"))
    header_row = detect_header(table).row
    mapping = suggest_mapping(table, header_row)
    expected = {
        0: "first_name",
        1: "last_name",
        2: "email",
        3: "department",
        4: "groups",
        5: "is_admin",
    }
    assert 0 == header_row
    assert expected == mapping.targets


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_round_trip_through_suggest_mapping(suffix: str, tmp_path: Path) -> None:
    """A store without attributes or admins, exported and imported with no hints: nothing to do."""
    users = [
        ANNA,
        User(email="per@firma.no", first_name="=Per", last_name="-Ås", department="@HR"),
        User(email="liv@firma.no", first_name="Liv", last_name="+Lund", department="Sales"),
    ]
    repo = InMemoryUserRepository(users)
    path = export_users(repo, tmp_path / f"users{suffix}")
    plan = import_file(path, repo, MIRROR)
    assert isinstance(plan, Plan)
    assert plan.is_empty, plan.describe()
    assert 3 == plan.summary()["unchanged"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_round_trip_of_the_seeded_store(fmt: str, seeded_repo: InMemoryUserRepository) -> None:
    """The seeded store (an admin, an attribute, several groups) re-imports as unchanged."""
    plan = reimport(seeded_repo, export_bytes(seeded_repo, fmt))
    assert plan.is_empty, plan.describe()
    assert 3 == plan.summary()["unchanged"]


def test_round_trip_of_empty_store(empty_repo: InMemoryUserRepository) -> None:
    """An empty store exports a header row that imports as an empty plan."""
    for fmt in ("csv", "xlsx"):
        plan = reimport(empty_repo, export_bytes(empty_repo, fmt))
        assert plan.is_empty


def test_leading_tab_in_an_attribute_reads_back_trimmed() -> None:
    """A leading tab is dropped on export, as the import trims it anyway: only that changes."""
    repo = InMemoryUserRepository(
        [
            User(
                email="a@firma.no",
                first_name="A",
                last_name="B",
                department="S",
                attributes={"note": "\t=1+2"},
            )
        ]
    )
    data = export_bytes(repo, "csv")
    assert "'=1+2" == data.decode("utf-8-sig").splitlines()[1].rsplit(",", 1)[1]
    plan = import_file(data, repo, MIRROR, mapping=mapping_for(repo.snapshot()), header_row=0)
    assert isinstance(plan, Plan)
    assert [("attributes", ({"note": "\t=1+2"}, {"note": "=1+2"}))] == [
        (field, change) for e in plan.entries for field, change in e.diff().items()
    ]


@given(s.stores())
@example(APOSTROPHE_STORE)
def test_csv_export_then_import_is_empty(store: list[User]) -> None:
    """Exporting any store to CSV and importing it back (mirror, replace, admin): no change."""
    repo = InMemoryUserRepository(store)
    plan = reimport(repo, export_bytes(repo, "csv"))
    assert plan.is_empty, plan.describe()


@given(s.stores())
@example(APOSTROPHE_STORE)
def test_xlsx_export_then_import_is_empty(store: list[User]) -> None:
    """Exporting any store to XLSX and importing it back (mirror, replace, admin): no change."""
    repo = InMemoryUserRepository(store)
    plan = reimport(repo, export_bytes(repo, "xlsx"))
    assert plan.is_empty, plan.describe()


# -- template ----------------------------------------------------------------------------------


def test_csv_template_bytes(tmp_path: Path) -> None:
    """The CSV template is the header row and the example user."""
    path = write_template(tmp_path / "template.csv")
    expected = (
        "\ufeffFirst Name,Last Name,Email,Department,User Groups,Admin\r\n"
        'Kari,Nordmann,kari.nordmann@example.com,Sales,"Oslo, Tech",no\r\n'
    ).encode()
    assert expected == path.read_bytes()


def test_xlsx_template_has_users_and_instructions(tmp_path: Path) -> None:
    """The XLSX template holds the Users sheet and an Instructions sheet with the rules."""
    path = write_template(tmp_path / "template.xlsx")
    book = openpyxl.load_workbook(path)
    assert ["Users", "Instructions"] == book.sheetnames
    users = [list(r) for r in book["Users"].iter_rows(values_only=True)]
    assert [HEADER, list(EXAMPLE_ROW)] == users
    notes = [r[0] for r in book["Instructions"].iter_rows(values_only=True)]
    assert list(INSTRUCTIONS) == notes
    text = " ".join(notes)
    for fact in ("First Name, Last Name, Email and Department", "comma", "5,000", "identity"):
        assert fact in text
    assert "ignored unless" in text


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_template_imports_one_user(suffix: str, tmp_path: Path) -> None:
    """The template, imported as it is into an empty store, plans exactly one create."""
    path = write_template(tmp_path / f"template{suffix}")
    plan = import_file(path, InMemoryUserRepository())
    assert isinstance(plan, Plan)
    assert 1 == plan.summary()["create"]
    assert 1 == len(plan.entries)
    after = plan.entries[0].after
    assert after is not None
    assert ("Kari", "Sales", frozenset({"Oslo", "Tech"}), False) == (
        after.first_name,
        after.department,
        after.groups,
        after.is_admin,
    )


def test_xlsx_template_import_picks_the_users_sheet(tmp_path: Path) -> None:
    """Reading the XLSX template picks the Users sheet, not the Instructions."""
    table = read_table(write_template(tmp_path / "template.xlsx"))
    assert ("Users", ("Users", "Instructions")) == (table.sheet, table.sheets)


def test_template_into_a_file_object() -> None:
    """write_template writes into a binary file object with format=."""
    out = io.BytesIO()
    assert None is write_template(out, format="xlsx")
    assert "Instructions" in openpyxl.load_workbook(io.BytesIO(out.getvalue())).sheetnames


def test_admin_column_is_written(seeded_repo: InMemoryUserRepository) -> None:
    """The Admin column says yes for admins and no for the others."""
    text = export_bytes(seeded_repo, "csv").decode("utf-8-sig")
    admin = {row[2]: row[5] for row in list(csv.reader(io.StringIO(text)))[1:]}
    assert {ANNA.email: "no", ADMIN.email: "yes", OLE.email: "no"} == admin

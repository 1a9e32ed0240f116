"""Declared user fields: the declaration, typed reading, and every stage deriving from it."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import make_table
from tests.test_repository import postgres_url, reset_postgres
from userimport import (
    ImportSettings,
    InMemoryUserRepository,
    SqlUserRepository,
    User,
    export_users,
    import_file,
    plan_import,
    read_table,
    suggest_mapping,
    validate,
    write_template,
)
from userimport.apply import ApplyResult
from userimport.errors import MappingError
from userimport.fields import DEFAULT_SCHEMA, Field, UserSchema
from userimport.model import ChangeSet
from userimport.plan import Plan

#: The app of the issue: a phone (optional, unique) and an employee number with leading zeros.
APP_SCHEMA = DEFAULT_SCHEMA.with_fields(
    Field(key="phone", kind="phone", unique=True, region="NO", headers={"no": "telefon|mobil"}),
    Field(
        key="employee_id",
        label="Employee ID",
        kind="identifier",
        required=True,
        unique=True,
        headers={"en": ["employee number", "staff id"], "no": "ansattnummer"},
    ),
)

PEOPLE = [
    ["Kari", "Nordmann", "kari@firma.no", "Sales", "Oslo", "no", "912 34 567", "00417"],
    ["Ola", "Hansen", "ola@firma.no", "Tech", "Oslo, Tech", "no", "+47 48 12 34 56", "00012"],
    ["Per", "Berg", "per@firma.no", "Tech", "", "no", "", "07001"],
]


def table_of(rows: list[list[str]]) -> Any:
    """A RawTable of ``rows`` (the first being the header)."""
    return make_table(rows)


def review_of(rows: list[list[str]], schema: UserSchema = APP_SCHEMA) -> Any:
    """Read, map and validate ``rows`` (header first) with ``schema``."""
    table = table_of(rows)
    return validate(table, 0, suggest_mapping(table, 0, schema=schema), schema=schema)


def issues_of(review: Any, field: str) -> list[tuple[int, str]]:
    """The (row, code) of each issue on ``field``."""
    found = review.issues[review.issues["field"] == field]
    return list(zip(found["row"].tolist(), found["code"].tolist(), strict=True))


# -- the declaration ---------------------------------------------------------------------------


def test_builtin_fields_are_declared_like_any_other() -> None:
    """The default schema declares the six built-in fields, with their header names per language."""
    assert ("first_name", "last_name", "email", "department", "groups", "is_admin") == (
        DEFAULT_SCHEMA.keys
    )
    assert "fornavn" in DEFAULT_SCHEMA["first_name"].headers["no"]
    assert "is_admin" == DEFAULT_SCHEMA["is_admin"].target
    assert "attributes.phone" == APP_SCHEMA["phone"].target


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Field(key="Phone"), "a field key must be"),
        (lambda: Field(key="key"), "a field key must be"),
        (lambda: Field(key="x", kind="choice"), "needs its choices"),
        (lambda: Field(key="x", kind="colour"), "'kind' must be in"),
        (lambda: Field(key="x", pattern="("), "not a regular expression"),
        (
            lambda: DEFAULT_SCHEMA.with_fields(Field(key="email", required=False)),
            "keeps its kind",
        ),
        (lambda: UserSchema((Field(key="phone"),)), "missing: first_name"),
        (
            lambda: UserSchema((*DEFAULT_SCHEMA.fields, Field(key="a"), Field(key="a"))),
            "declared twice: a",
        ),
    ],
)
def test_a_bad_declaration_is_refused(make: Any, match: str) -> None:
    """A key that is no name, a choice without choices, a built-in changed or missing: refused."""
    with pytest.raises(ValueError, match=match):
        make()


def test_with_fields_redeclares_a_builtin_label() -> None:
    """Redeclaring a built-in field's export header replaces it in place."""
    schema = DEFAULT_SCHEMA.with_fields(attrs.evolve(DEFAULT_SCHEMA["email"], export_header="Mail"))
    assert DEFAULT_SCHEMA.keys == schema.keys
    assert "Mail" == schema["email"].export_header


# -- typed reading -----------------------------------------------------------------------------


def read_kind(field: Field, *cells: str) -> tuple[list[str], list[bool]]:
    """Read ``cells`` as ``field``'s kind: (normalised texts, which cells are bad)."""
    from userimport import _kinds

    values, bad = _kinds.read(field, pd.Series(list(cells), dtype="str"))
    return values.tolist(), [bool(b) for b in bad]


@settings(max_examples=60, deadline=None)
@given(st.dates())
def test_a_date_reads_from_iso_dotted_and_excel_cells(day: dt.date) -> None:
    """ISO, day.month.year (with or without zeros) and an Excel midnight cell read as one date."""
    cells = (
        day.isoformat(),
        f"{day.day}.{day.month}.{day.year:04}",
        f"{day.day:02}.{day.month:02}.{day.year:04}",
        f"{day.isoformat()} 00:00:00",
    )
    assert ([day.isoformat()] * 4, [False] * 4) == read_kind(Field(key="d", kind="date"), *cells)


@pytest.mark.parametrize(
    "cell", ["01/02/2025", "2/1/25", "31.02.2025", "2025-13-01", "12.31.2025", "tomorrow"]
)
def test_an_ambiguous_or_impossible_date_is_a_problem(cell: str) -> None:
    """A slashed, two-digit-year, month-first or impossible date is refused, never guessed."""
    assert ([cell], [True]) == read_kind(Field(key="d", kind="date"), cell)


def test_a_boolean_reads_the_words_people_write() -> None:
    """yes/no/ja/nei/true/false/1/0/x read as true or false; anything else is a problem."""
    cells = ("yes", "No", "ja", "NEI", "true", "false", "1", "0", "x", "maybe", "")
    expected = (
        ["true", "false", "true", "false", "true", "false", "true", "false", "true", "maybe", ""],
        [False] * 9 + [True, False],
    )
    assert expected == read_kind(Field(key="b", kind="boolean"), *cells)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=-(10**12), max_value=10**12), st.integers(0, 3))
def test_an_integer_reads_with_zeros_signs_and_digit_groups(n: int, zeros: int) -> None:
    """A whole number reads with leading zeros, a sign, digit-group blanks or ``.0``."""
    digits = "0" * zeros + str(abs(n))
    sign = "-" if n < 0 else "+"
    grouped = f"{abs(n):,}".replace(",", " ")
    cells = (f"{sign}{digits}", ("-" if n < 0 else "") + grouped, f"{n}.0")
    assert ([str(n)] * 3, [False] * 3) == read_kind(Field(key="i", kind="integer"), *cells)


@pytest.mark.parametrize("cell", ["1.5", "12a", "1e3", "--1", "one"])
def test_a_non_integer_is_a_problem(cell: str) -> None:
    """A fraction, an exponent or a word is not a whole number."""
    assert [True] == read_kind(Field(key="i", kind="integer"), cell)[1]


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet="0123456789ABC-", min_size=1, max_size=12))
def test_an_identifier_is_kept_exactly(cell: str) -> None:
    """An identifier is kept as written, leading zeros and all."""
    assert ([cell], [False]) == read_kind(Field(key="e", kind="identifier"), cell)


def test_a_phone_is_normalised_to_e164() -> None:
    """National (with a region) and international numbers become E.164; a non-number is bad."""
    field = Field(key="p", kind="phone", region="NO")
    expected = (["+4791234567", "+4791234567", "+4648123456", "12"], [False, False, False, True])
    assert expected == read_kind(field, "912 34 567", "+47 912 34 567", "+46 48 12 34 56", "12")


def test_a_phone_without_region_needs_its_country_code() -> None:
    """With no region, a number written without ``+`` cannot be read."""
    assert ["91234567"], [True] == read_kind(Field(key="p", kind="phone"), "91234567")


def test_a_choice_is_matched_without_case_and_kept_as_declared() -> None:
    """A choice cell matches an allowed value in any case and is kept as declared."""
    field = Field(key="c", kind="choice", choices=("Oslo", "Bergen"))
    assert (["Oslo", "Bergen"], [False, False]) == read_kind(field, "oslo", "BERGEN")


def test_import_userimport_does_not_load_phonenumbers() -> None:
    """``import userimport`` and reading the declaration leave phonenumbers unloaded."""
    import subprocess
    import sys

    code = "import sys, userimport, userimport.fields; print('phonenumbers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "False" == out.stdout.strip()


# -- validation ---------------------------------------------------------------------------------

HEADER = ["First Name", "Last Name", "Email", "Department", "Location"]
LOCATION = DEFAULT_SCHEMA.with_fields(
    Field(key="location", kind="choice", choices=("Oslo", "Bergen"), headers=["sted"])
)


def test_a_choice_outside_the_allowed_values_is_a_problem() -> None:
    """A value outside a choice field's values is a ``not_allowed`` problem naming them."""
    review = review_of(
        [HEADER, ["A", "B", "a@firma.no", "S", "oslo"], ["C", "D", "c@firma.no", "S", "Trondheim"]],
        LOCATION,
    )
    assert [(3, "not_allowed")] == issues_of(review, "attributes.location")
    assert review.issues["message"].iloc[0].endswith("is not one of Oslo, Bergen")
    assert ["Oslo", "Trondheim"] == review.rows["attributes.location"].tolist()
    assert ["valid", "invalid"] == review.rows["status"].tolist()


def test_a_declared_field_is_mapped_by_its_header_names() -> None:
    """A column headed by one of a declared field's names (any language) feeds it."""
    table = table_of(
        [["Navn", "Etternavn", "E-post", "Avdeling", "Sted"], ["A", "B", "a@x.no", "S", "Oslo"]]
    )
    assert 4 == suggest_mapping(table, 0, schema=LOCATION).column("attributes.location")
    assert None is suggest_mapping(table, 0).column("attributes.location")


def test_a_required_declared_field_needs_a_column_and_a_value() -> None:
    """A required declared field with no column is a MappingError; an empty cell a problem."""
    with pytest.raises(MappingError, match=r"attributes\.employee_id"):
        review_of([HEADER[:4], ["A", "B", "a@firma.no", "S"]])
    review = review_of(
        [[*HEADER[:4], "Employee ID"], ["A", "B", "a@firma.no", "S", ""]],
    )
    assert [(2, "required")] == issues_of(review, "attributes.employee_id")


def test_a_unique_declared_field_flags_every_row_sharing_a_value() -> None:
    """Two rows with one employee number are both flagged; a skipped row does not count."""
    rows = [
        [*HEADER[:4], "Employee ID", "Phone"],
        ["A", "B", "a@firma.no", "S", "007", "+47 912 34 567"],
        ["C", "D", "c@firma.no", "S", "007", "912 34 567"],
        ["E", "F", "e@firma.no", "S", "7", "hello"],
    ]
    review = review_of(rows)
    assert [(2, "duplicate_value"), (3, "duplicate_value")] == issues_of(
        review, "attributes.employee_id"
    )
    assert [(2, "duplicate_value"), (3, "duplicate_value"), (4, "invalid_value")] == issues_of(
        review, "attributes.phone"
    )
    assert [] == issues_of(review.skip(3), "attributes.employee_id")


def test_pattern_check_and_length_of_a_declared_field() -> None:
    """A declared pattern, an extra check and a max length each give their problem."""
    schema = DEFAULT_SCHEMA.with_fields(
        Field(
            key="code",
            pattern=r"[A-Z]{2}\d+",
            max_length=6,
            check=lambda s: ~s.str.endswith("0"),
            check_message="must not end in 0",
        )
    )
    rows = [[*HEADER[:4], "Code"]] + [
        ["A", "B", f"{i}@firma.no", "S", code]
        for i, code in enumerate(["AB12", "ab12", "AB1230", "AB12345", ""])
    ]
    review = review_of(rows, schema)
    expected = [
        (3, "pattern_mismatch"),
        (4, "check_failed"),
        (5, "too_long"),
    ]
    assert expected == issues_of(review, "attributes.code")
    message = review.issues.set_index("code").loc["check_failed", "message"]
    assert message.endswith("attributes.code must not end in 0")


def test_review_edit_takes_a_declared_field_by_its_key() -> None:
    """``Review.edit(row, phone=...)`` edits the declared field, rechecked as its kind."""
    review = review_of(
        [[*HEADER[:4], "Employee ID", "Mobil"], ["A", "B", "a@firma.no", "S", "1", "x"]]
    )
    assert [(2, "invalid_value")] == issues_of(review, "attributes.phone")
    edited = review.edit(2, phone="912 34 567")
    assert [] == issues_of(edited, "attributes.phone")
    assert "+4791234567" == edited.rows.loc[2, "attributes.phone"]


# -- planning -------------------------------------------------------------------------------


def test_a_field_an_import_may_not_change_keeps_the_stored_value() -> None:
    """``importable=False``: the file's value is checked, but the plan keeps the store's."""
    schema = DEFAULT_SCHEMA.with_fields(Field(key="salary", kind="integer", importable=False))
    repo = InMemoryUserRepository(
        [
            User(
                email="a@firma.no",
                first_name="A",
                last_name="B",
                department="S",
                attributes={"salary": "10"},
            )
        ]
    )
    review = review_of([[*HEADER[:4], "Salary"], ["A", "B", "a@firma.no", "S", "20"]], schema)
    assert "20" == review.rows.loc[2, "attributes.salary"]
    assert plan_import(review, repo, ImportSettings()).is_empty


def test_a_casefold_field_ignores_a_change_of_case() -> None:
    """``compare="casefold"``: a value differing in case only is no change."""
    schema = DEFAULT_SCHEMA.with_fields(Field(key="title", compare="casefold"))
    repo = InMemoryUserRepository(
        [
            User(
                email="a@firma.no",
                first_name="A",
                last_name="B",
                department="S",
                attributes={"title": "CTO"},
            )
        ]
    )
    same = review_of([[*HEADER[:4], "Title"], ["A", "B", "a@firma.no", "S", "cto"]], schema)
    assert plan_import(same, repo, ImportSettings()).is_empty
    other = review_of([[*HEADER[:4], "Title"], ["A", "B", "a@firma.no", "S", "CEO"]], schema)
    assert {"update": 1} == {k: v for k, v in plan_import(other, repo).summary().items() if v}


# -- the whole way: template, import, apply, export, re-import --------------------------------


def sqlite_store(tmp_path: Path) -> SqlUserRepository:
    """A SQLite file store with the app's fields."""
    return SqlUserRepository(f"sqlite:///{tmp_path / 'users.db'}", schema=APP_SCHEMA)


def postgres_store(tmp_path: Path) -> SqlUserRepository:
    """An empty PostgreSQL store with the app's fields."""
    url = postgres_url()
    reset_postgres(url)
    return SqlUserRepository(url, schema=APP_SCHEMA)


def filled_from_template(template: Path, dest: Path) -> Path:
    """The template's header with :data:`PEOPLE` as rows (the example user deleted)."""
    if template.suffix == ".csv":
        header = next(csv.reader(io.StringIO(template.read_text("utf-8-sig"))))
        out = io.StringIO()
        csv.writer(out).writerows([header, *PEOPLE])
        dest.write_text(out.getvalue(), "utf-8")
        return dest
    from openpyxl import load_workbook

    book = load_workbook(template)
    sheet = book["Users"]
    sheet.delete_rows(2)
    for person in PEOPLE:
        sheet.append(person)  # text cells: the leading zeros stay
    book.save(dest)
    return dest


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlUserRepository]:
    """The app's store in SQLite and in PostgreSQL."""
    repo = (sqlite_store if request.param == "sqlite" else postgres_store)(tmp_path)
    yield repo
    repo.close()


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_declared_fields_round_trip_through_every_stage(
    store: SqlUserRepository, tmp_path: Path, suffix: str
) -> None:
    """Template -> import -> apply -> export -> re-import (empty plan), with no library change."""
    template = write_template(tmp_path / f"template{suffix}", schema=APP_SCHEMA)
    assert ["Phone", "Employee ID"] == read_table(template).rows.iloc[0].tolist()[6:]
    source = filled_from_template(template, tmp_path / f"staff{suffix}")

    result = import_file(source, store, dry_run=False)
    assert isinstance(result, ApplyResult)
    users = {u.email: dict(u.attributes) for u in store.snapshot()}
    assert {
        "kari@firma.no": {"phone": "+4791234567", "employee_id": "00417"},
        "ola@firma.no": {"phone": "+4748123456", "employee_id": "00012"},
        "per@firma.no": {"employee_id": "07001"},
    } == users

    exported = export_users(store, tmp_path / f"export{suffix}")
    assert ["Phone", "Employee ID"] == read_table(exported).rows.iloc[0].tolist()[6:]
    again = import_file(exported, store)
    assert isinstance(again, Plan)
    assert again.is_empty
    reopened = SqlUserRepository(
        store.url if "sqlite" in store.url else postgres_url(), schema=APP_SCHEMA
    )
    try:
        assert users == {u.email: dict(u.attributes) for u in reopened.snapshot()}
    finally:
        reopened.close()


# -- the SQL store gains the column of a field added later -------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_store_gains_the_column_of_a_field_added_later(backend: str, tmp_path: Path) -> None:
    """A store written without the field (as the previous release writes it) gains its column,
    and a value it held as a free attribute of that name moves into it."""
    import sqlalchemy as sa

    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        url = postgres_url()
        reset_postgres(url)
    old = SqlUserRepository(url)  # the built-in fields only: the previous release's tables
    old.commit(
        ChangeSet(
            create=[
                User(email="a@firma.no", attributes={"phone": "+4791234567", "title": "CTO"}),
                User(email="b@firma.no"),
            ]
        ),
        expected_version=old.snapshot().version,
    )
    old.close()
    only_phone = DEFAULT_SCHEMA.with_fields(APP_SCHEMA["phone"])
    with SqlUserRepository(url, schema=only_phone) as repo:
        assert {"phone": "+4791234567", "title": "CTO"} == dict(
            repo.snapshot().get("a@firma.no").attributes
        )
    with SqlUserRepository(url, schema=APP_SCHEMA) as repo:
        before = repo.snapshot()
        repo.commit(
            ChangeSet(
                update=[attrs.evolve(before.get("b@firma.no"), attributes={"employee_id": "0042"})]
            ),
            expected_version=before.version,
        )
        columns = {c["name"] for c in sa.inspect(repo.engine).get_columns("users")}
        with repo.engine.connect() as conn:
            free = conn.exec_driver_sql("SELECT user_key, name, value FROM attributes").fetchall()
    assert {"phone", "employee_id"} <= columns
    assert [("a@firma.no", "title", "CTO")] == [tuple(r) for r in free]
    with SqlUserRepository(url, schema=APP_SCHEMA, cache=False) as repo:
        assert {"employee_id": "0042"} == dict(repo.snapshot().get("b@firma.no").attributes)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_repository_without_a_field_keeps_the_column_another_schema_made(
    backend: str, tmp_path: Path
) -> None:
    """A column of a field the repository's schema lacks is read and written as that attribute."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        url = postgres_url()
        reset_postgres(url)
    with SqlUserRepository(url, schema=APP_SCHEMA) as app:
        app.commit(
            ChangeSet(create=[User(email="a@firma.no", attributes={"phone": "+4791234567"})]),
            expected_version=app.snapshot().version,
        )
    with SqlUserRepository(url) as plain:  # the built-in fields only
        before = plain.snapshot()
        assert {"phone": "+4791234567"} == dict(before.get("a@firma.no").attributes)
        changed = attrs.evolve(before.get("a@firma.no"), attributes={"phone": "+4798765432"})
        plain.commit(ChangeSet(update=[changed]), expected_version=before.version)
    for schema in (APP_SCHEMA, DEFAULT_SCHEMA):
        with SqlUserRepository(url, schema=schema, cache=False) as repo:
            assert {"phone": "+4798765432"} == dict(repo.snapshot().get("a@firma.no").attributes)
    with SqlUserRepository(url) as plain:
        before = plain.snapshot()
        cleared = attrs.evolve(before.get("a@firma.no"), attributes={})
        plain.commit(ChangeSet(update=[cleared]), expected_version=before.version)
    with SqlUserRepository(url, schema=APP_SCHEMA, cache=False) as repo:
        assert {} == dict(repo.snapshot().get("a@firma.no").attributes)


# -- the command line -----------------------------------------------------------------------


def test_cli_user_add_and_edit_take_declared_fields(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``USERIMPORT_SCHEMA`` names the schema; ``--set`` values are read by the field's kind."""
    from click.testing import CliRunner

    from userimport.cli import cli

    monkeypatch.setenv("USERIMPORT_SCHEMA", "tests.test_fields:APP_SCHEMA")
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    with SqlUserRepository(db) as seed:
        seed.commit(
            ChangeSet(create_departments=["Sales"]), expected_version=seed.snapshot().version
        )
    runner = CliRunner()
    base = ["--db", db, "user", "add", "kari@firma.no", "--first-name", "Kari"]
    base += ["--last-name", "Dahl", "--department", "Sales"]
    missing = runner.invoke(cli, [*base, "--set", "phone=912 34 567"])
    assert 2 == missing.exit_code
    assert "every user needs employee_id" in missing.output
    bad = runner.invoke(cli, [*base, "--set", "phone=12", "--set", "employee_id=007"])
    assert 2 == bad.exit_code
    assert "phone '12' is not a phone number" in bad.output
    added = runner.invoke(cli, [*base, "--set", "phone=912 34 567", "--set", "employee_id=007"])
    assert 0 == added.exit_code, added.output
    edited = runner.invoke(
        cli, ["--db", db, "user", "edit", "kari@firma.no", "--set", "phone=+47 48 12 34 56"]
    )
    assert 0 == edited.exit_code, edited.output
    with SqlUserRepository(db, schema=APP_SCHEMA) as repo:
        kari = repo.snapshot().get("kari@firma.no")
    assert kari is not None
    assert {"phone": "+4748123456", "employee_id": "007"} == dict(kari.attributes)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_the_template_example_is_valid_for_every_kind(tmp_path: Path, suffix: str) -> None:
    """The template's example user passes every declared field's checks, one field per kind."""
    schema = DEFAULT_SCHEMA.with_fields(
        *(
            Field(
                key=f"f_{kind}",
                kind=kind,
                required=True,
                choices=("A",) if kind == "choice" else (),
            )
            for kind in (
                "text",
                "email",
                "phone",
                "date",
                "boolean",
                "integer",
                "choice",
                "identifier",
            )
        )
    )
    template = write_template(tmp_path / f"t{suffix}", schema=schema)
    table = read_table(template)
    review = validate(table, 0, suggest_mapping(table, 0, schema=schema), schema=schema)
    assert [] == review.issues["code"].tolist()
    assert 1 == plan_import(review, InMemoryUserRepository()).summary()["create"]


def test_import_file_takes_a_schema_for_a_store_without_one() -> None:
    """``import_file(..., schema=)`` checks declared fields in any store; a non-schema: refused."""
    from userimport.errors import SettingsError

    data = b"First Name,Last Name,Email,Department,Location\nA,B,a@firma.no,S,Trondheim\n"
    repo = InMemoryUserRepository()
    plan = import_file(data, repo, schema=LOCATION)
    assert isinstance(plan, Plan)
    assert 0 == plan.summary()["create"]
    with pytest.raises(SettingsError, match="schema must be a UserSchema"):
        import_file(data, repo, schema="location")


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ("tests.no_such_module:SCHEMA", "cannot load the schema"),
        ("tests.test_fields:PEOPLE", "not a UserSchema"),
    ],
)
def test_load_schema_names_what_is_wrong(spec: str, match: str) -> None:
    """A ``USERIMPORT_SCHEMA`` naming no module, or no schema, is a SettingsError saying so."""
    from userimport.errors import SettingsError
    from userimport.fields import load_schema

    with pytest.raises(SettingsError, match=match):
        load_schema(spec)
    assert DEFAULT_SCHEMA is load_schema(None)


def test_a_schema_survives_pickling() -> None:
    """A schema pickles and comes back equal (imports in progress are kept as pickles)."""
    import pickle

    from userimport.fields import DEFAULT_SCHEMA, Field

    schema = DEFAULT_SCHEMA.with_fields(
        Field(key="phone", kind="phone", headers={"nb": "Telefon|Mobil"}, region="NO")
    )
    again = pickle.loads(pickle.dumps(schema))
    assert schema == again
    assert ("Telefon", "Mobil") == again["phone"].headers["nb"]


def test_the_pandera_schema_is_built_once_per_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    """Validating and revalidating with one schema value builds its pandera schema once."""
    from userimport import validation

    schema = DEFAULT_SCHEMA.with_fields(Field(key="code", unique=True))
    built: list[UserSchema] = []
    build = validation._build
    monkeypatch.setattr(validation, "_build", lambda s: built.append(s) or build(s))
    rows = [[*HEADER[:4], "Code"], ["A", "B", "a@firma.no", "S", "1"]]
    review = review_of(rows, schema)
    review_of([*rows, ["C", "D", "c@firma.no", "S", "1"]], schema)
    review.edit(2, first_name="Anna")
    assert [schema] == built
    assert validation.pandera_schema(schema) is validation.pandera_schema(schema)


def test_schemas_equal_but_for_their_check_keep_their_own_check() -> None:
    """Two schemas that differ only in a field's check (not part of equality) each run theirs."""
    rows = [[*HEADER[:4], "Code"], ["A", "B", "a@firma.no", "S", "x1"]]
    first = DEFAULT_SCHEMA.with_fields(Field(key="code", check=lambda s: s.str.startswith("x")))
    second = DEFAULT_SCHEMA.with_fields(Field(key="code", check=lambda s: s.str.startswith("y")))
    assert first == second
    assert [] == issues_of(review_of(rows, first), "attributes.code")
    assert [(2, "check_failed")] == issues_of(review_of(rows, second), "attributes.code")


def test_the_pandera_schema_holds_nothing_of_a_file() -> None:
    """The same built schema checks two files; one file's problems never show in the other."""
    schema = DEFAULT_SCHEMA.with_fields(Field(key="code", kind="integer", unique=True))
    bad = [
        [*HEADER[:4], "Code", "Attributes.Note"],
        ["A", "B", "x", "S", "1", "n" * 256],
        ["C", "D", "x", "S", "1", ""],
        ["E", "F", "e@firma.no", "S", "z", ""],
    ]
    good = [[*HEADER[:4], "Code"]] + [["A", "B", f"{i}@firma.no", "S", str(i)] for i in range(1, 4)]
    table = table_of(bad)
    mapping = suggest_mapping(table, 0, schema=schema).map(5, "attributes.note")
    review = validate(table, 0, mapping, schema=schema)
    assert {
        ("attributes.code", "duplicate_value"),
        ("attributes.code", "invalid_value"),
        ("attributes.note", "too_long"),
        ("email", "duplicate_email"),
        ("email", "invalid_email"),
    } == set(zip(review.issues["field"], review.issues["code"], strict=True))
    assert 0 == len(review_of(good, schema).issues)


CONTENT_SCHEMA = DEFAULT_SCHEMA.with_fields(
    Field(key="phone", kind="phone", region="NO"),
    Field(key="start_date", kind="date"),
    Field(key="remote", kind="boolean"),
    Field(key="backup_email", kind="email"),
    Field(key="level", kind="choice", choices=("junior", "senior")),
    Field(key="note"),
)
CONTENT_ROWS = [
    ["Anna", "Berg", "anna@firma.no", "Sales", "912 34 567", "31.12.2025", "ja", "a@gmail.com"],
    ["Per", "Lund", "per@firma.no", "Tech", "+47 48 12 34 56", "2025-01-02", "nei", ""],
    ["Kari", "Dahl", "kari@firma.no", "HR", "41234567", "1.2.2024", "x", "k@gmail.com"],
    ["Ola", "Moe", "ola@firma.no", "HR", "", "2.2.2024", "", "o@gmail.com"],
]


@pytest.mark.parametrize(
    "headers",
    [["Fornavn", "Etternavn", "E-post", "Avdeling", "", "", "", ""], None],
    ids=["empty headers", "no header row"],
)
def test_a_column_of_a_declared_kind_is_suggested_by_its_cells(
    headers: list[str] | None,
) -> None:
    """Phone, date, boolean and email cells under no header feed their declared field."""
    rows = ([headers] if headers else []) + CONTENT_ROWS
    table = table_of(rows)
    mapping = suggest_mapping(table, 0 if headers else None, schema=CONTENT_SCHEMA)
    by_content = {m.column: m for m in mapping.matches if m.method == "content"}
    expected = {
        4: "attributes.phone",
        5: "attributes.start_date",
        6: "attributes.remote",
        7: "attributes.backup_email",
    }
    assert expected == {c: m.target for c, m in by_content.items() if c >= 4}
    assert "3 of its 3 sampled cells are phone numbers" in by_content[4].reason
    assert "the declared field start_date" in by_content[5].reason


def test_an_unknown_header_over_a_declared_kind_is_suggested_and_a_text_column_is_not() -> None:
    """An unknown header over dates feeds the date field; a column of words feeds no field."""
    rows = [["First name", "Last name", "Email", "Department", "Startet", "Hobby"]] + [
        [*r[:4], r[5], "chess"] for r in CONTENT_ROWS
    ]
    mapping = suggest_mapping(table_of(rows), 0, schema=CONTENT_SCHEMA)
    assert {4: "attributes.start_date"} == {
        c: t for c, t in mapping.targets.items() if t.startswith("attributes.")
    }
    match = next(m for m in mapping.matches if m.column == 4)
    assert match.reason.startswith("header 'Startet' is not a known name, but 4 of its 4")


def test_a_column_fitting_two_declared_fields_feeds_neither() -> None:
    """Dates that fit two date fields are not guessed: a note asks for the mapping."""
    schema = DEFAULT_SCHEMA.with_fields(
        Field(key="start_date", kind="date"), Field(key="end_date", kind="date")
    )
    rows = [["First name", "Last name", "Email", "Department", ""]] + [
        [*r[:4], r[5]] for r in CONTENT_ROWS
    ]
    mapping = suggest_mapping(table_of(rows), 0, schema=schema)
    assert 4 not in mapping.targets
    assert any("fit the declared fields start_date and end_date" in n for n in mapping.notes)


def test_a_column_mostly_not_of_the_kind_is_not_suggested() -> None:
    """Under 90% of the sampled cells readable as the kind, nothing is suggested."""
    dates = ["31.12.2025", "soon", "later", "1.1.2025"]
    rows = [["First name", "Last name", "Email", "Department", ""]] + [
        [*r[:4], d] for r, d in zip(CONTENT_ROWS, dates, strict=True)
    ]
    mapping = suggest_mapping(table_of(rows), 0, schema=CONTENT_SCHEMA)
    assert 4 not in mapping.targets


def _diff_plan() -> Any:
    """A plan changing Kari's phone and her undeclared ``title``, and creating Ola."""
    repo = InMemoryUserRepository(
        [
            User(
                email="kari@firma.no",
                first_name="Kari",
                last_name="Nordmann",
                department="Sales",
                attributes={"phone": "+4791234567", "employee_id": "00417", "title": "CTO"},
            )
        ]
    )
    rows = [
        ["First Name", "Last Name", "Email", "Department", "Mobil", "Staff ID", "Title"],
        ["Kari", "Nordmann", "kari@firma.no", "Sales", "48 12 34 56", "00417", "CEO"],
        ["Ola", "Hansen", "ola@firma.no", "Tech", "", "00012", ""],
    ]
    table = table_of(rows)
    mapping = suggest_mapping(table, 0, schema=APP_SCHEMA).map(6, "attributes.title")
    review = validate(table, 0, mapping, schema=APP_SCHEMA)
    return plan_import(review, repo, ImportSettings())


def test_a_declared_field_is_a_diff_column_of_its_own() -> None:
    """The plan's frame, diff and text name a declared field's change by its key."""
    plan = _diff_plan()
    frame = plan.to_frame().set_index("email")
    assert "phone, attributes" == frame.loc["kari@firma.no", "changed"]
    assert ("+4791234567", "+4748123456") == (
        frame.loc["kari@firma.no", "before_phone"],
        frame.loc["kari@firma.no", "after_phone"],
    )
    assert "00012" == frame.loc["ola@firma.no", "after_employee_id"]
    diff = plan.diff()
    kari = diff[diff["email"] == "kari@firma.no"].set_index("field")
    assert ["phone", "attributes"] == list(kari.index)
    assert ({"title": "CTO"}, {"title": "CEO"}) == tuple(
        kari.loc["attributes", ["before", "after"]]
    )
    ola = diff[diff["email"] == "ola@firma.no"]
    assert "00012" == ola.set_index("field").loc["employee_id", "after"]
    assert "phone: '+4791234567' -> '+4748123456'" in plan.describe()


def test_the_html_view_labels_a_declared_field() -> None:
    """The notebook view shows a declared field's change under its label."""
    html = _diff_plan()._repr_html_()
    assert "Phone: <del>+4791234567</del> → <ins>+4748123456</ins>" in html


def test_a_saved_plan_keeps_its_form_and_reads_back_with_the_schema() -> None:
    """Declared fields stay in ``attributes`` in the saved form; read back, they are columns."""
    plan = _diff_plan()
    text = plan.to_json()
    assert text == attrs.evolve(plan, schema=DEFAULT_SCHEMA).to_json()
    assert '"phone"' in text
    back = Plan.from_json(text, schema=APP_SCHEMA)
    assert plan.to_frame().equals(back.to_frame())
    plain = Plan.from_json(text).to_frame().set_index("email")
    assert "attributes" == plain.loc["kari@firma.no", "changed"]
    assert "before_phone" not in plain


def test_the_command_line_shows_a_declared_field_by_its_label() -> None:
    """The CLI's plan table names a declared field's change by its label."""
    from rich.console import Console

    from userimport._display import show_plan

    out = Console(record=True, width=300)
    show_plan(out, _diff_plan())
    assert "Phone: +4791234567 -> +4748123456" in out.export_text()


def test_a_saved_plan_read_by_the_command_line_shows_declared_fields_by_label(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """apply/undo read a saved plan with USERIMPORT_SCHEMA: its declared fields are columns."""
    from rich.console import Console

    from userimport._cliopts import read_plan
    from userimport._display import show_plan
    from userimport.model import Permissions

    saved = tmp_path / "plan.json"
    saved.write_text(_diff_plan().to_json(), encoding="utf-8")
    monkeypatch.setenv("USERIMPORT_SCHEMA", "tests.test_fields:APP_SCHEMA")
    plan = read_plan(str(saved), undo=False, permissions=Permissions())
    out = Console(record=True, width=300)
    show_plan(out, plan)
    assert "Phone: +4791234567 -> +4748123456" in out.export_text()

"""The command line, through click's runner and a real subprocess, checked through the library."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from userimport import Plan, User
from userimport.cli import EXIT_FAILED, EXIT_OK, EXIT_PROBLEMS, EXIT_REFUSED, EXIT_USAGE, cli
from userimport.model import ChangeSet
from userimport.sql import SqlUserRepository

STAFF = (
    "First Name,Last Name,Email,Department,Usergroups\n"
    'Anna,Berg,anna@firma.no,Sales,"Oslo, Bergen"\n'
    "Ole,Hansen,ole@firma.no,HR,\n"
)


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every command in a scratch folder, so undo files never land in the repository."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A fresh, empty SQLite store for the command line (made, as `--create` would)."""
    url = f"sqlite:///{tmp_path / 'users.db'}"
    SqlUserRepository(url).snapshot()
    return url


@pytest.fixture
def staff(tmp_path: Path) -> Path:
    """A small, valid staff file."""
    path = tmp_path / "staff.csv"
    path.write_text(STAFF, encoding="utf-8")
    return path


def run(db: str, *args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--db", db, *args], input=input, catch_exceptions=False)
    return result.exit_code, result.output


def emails(db: str) -> set[str]:
    return set(SqlUserRepository(db).snapshot().users)


def test_plan_changes_nothing_and_saves_the_plan(db: str, staff: Path, tmp_path: Path) -> None:
    """plan shows mapping, summary and changes, saves the plan, and leaves the store alone."""
    out = tmp_path / "plan.json"
    code, output = run(db, "plan", str(staff), "--out", str(out))
    assert EXIT_OK == code, output
    assert "Mapping" in output
    assert "create 2" in output
    assert set() == emails(db)
    assert 2 == Plan.from_json(out.read_text(encoding="utf-8")).summary()["create"]


def test_apply_a_saved_plan_then_it_is_stale(db: str, staff: Path, tmp_path: Path) -> None:
    """apply commits a saved plan once; applying it again is refused with exit code 3."""
    out = tmp_path / "plan.json"
    run(db, "plan", str(staff), "--out", str(out))
    code, output = run(db, "apply", str(out), "--yes", "--undo-out", str(tmp_path / "undo.json"))
    assert EXIT_OK == code, output
    assert {"anna@firma.no", "ole@firma.no"} == emails(db)
    code, output = run(db, "apply", str(out), "--yes")
    assert EXIT_REFUSED == code
    assert "this plan was already applied" in output


def test_import_asks_and_can_be_declined(db: str, staff: Path) -> None:
    """import asks before applying; answering no changes nothing."""
    code, _ = run(db, "import", str(staff), input="n\n")
    assert EXIT_REFUSED == code
    assert set() == emails(db)


def test_default_undo_file(db: str, staff: Path, tmp_path: Path) -> None:
    """Without --undo-out the undo plan is saved in the current folder, and its path printed."""
    code, output = run(db, "import", str(staff), "--yes")
    assert EXIT_OK == code, output
    saved = list(tmp_path.glob("userimport-undo-*.json"))
    assert 1 == len(saved)
    assert saved[0].name in output


def test_import_then_undo(db: str, staff: Path, tmp_path: Path) -> None:
    """import --yes applies and saves an undo plan; undo restores the empty store."""
    undo = tmp_path / "undo.json"
    code, output = run(db, "import", str(staff), "--yes", "--undo-out", str(undo))
    assert EXIT_OK == code, output
    assert str(undo) in output
    assert 2 == len(emails(db))
    code, output = run(db, "undo", str(undo), "--yes")
    assert EXIT_REFUSED == code, output
    assert "--max-delete-fraction" in output
    code, output = run(db, "undo", str(undo), "--yes", "--max-delete-fraction", "none")
    assert EXIT_OK == code, output
    assert set() == emails(db)


def test_round_trip_template_plan_apply_export_plan(db: str, tmp_path: Path) -> None:
    """template → fill → plan → apply → export → plan again gives nothing to do."""
    template = tmp_path / "template.csv"
    assert EXIT_OK == run(db, "template", str(template))[0]
    lines = template.read_text(encoding="utf-8-sig").splitlines()
    lines.append("Kari,Dahl,kari@firma.no,Sales,Oslo")
    template.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, output = run(db, "import", str(template), "--yes", "--undo-out", str(tmp_path / "u.json"))
    assert EXIT_OK == code, output
    exported = tmp_path / "users.csv"
    assert EXIT_OK == run(db, "export", str(exported))[0]
    code, output = run(db, "plan", str(exported), "--out", str(tmp_path / "p.json"))
    assert EXIT_OK == code, output
    assert Plan.from_json((tmp_path / "p.json").read_text(encoding="utf-8")).is_empty


def test_problems_exit_1_and_rejects_file(db: str, tmp_path: Path) -> None:
    """Rows with problems give exit code 1 and a rejects file ready to fix and import again."""
    path = tmp_path / "bad.csv"
    path.write_text(STAFF + ",Dahl,kari@firma.no,Sales,\n", encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    code, output = wide(db, "plan", str(path), "--rejects", str(rejects))
    assert EXIT_PROBLEMS == code
    assert "'First Name' (A) is empty" in output
    assert "first_name" not in output.split("Problems (1)")[1]
    text = rejects.read_text(encoding="utf-8-sig").splitlines()
    assert "First Name,Last Name,Email,Department,Usergroups,Problems,Original row" == text[0]
    assert text[1].startswith(",Dahl,kari@firma.no,Sales,,")
    assert text[1].endswith(",4")


def test_options_reach_the_library(db: str, tmp_path: Path) -> None:
    """--header-row, --map, --group-separator, --department-as-group and --skip-row are honoured."""
    path = tmp_path / "x.csv"
    path.write_text(
        "Staff\nMail;Fornavn;Etternavn;Avd;Teams\na@firma.no;A;B;HR;X|Y\nb@firma.no;C;D;HR;\n",
        encoding="utf-8",
    )
    out = tmp_path / "p.json"
    code, output = run(
        db, "plan", str(path), "--header-row", "2", "--map", "Mail=email",
        "--map", "Avd=department", "--map", "Teams=groups", "--group-separator", "|",
        "--department-as-group", "--skip-row", "4", "--out", str(out),
    )  # fmt: skip
    assert EXIT_OK == code, output
    plan = Plan.from_json(out.read_text(encoding="utf-8"))
    a = plan.entry("a@firma.no")
    assert a is not None
    assert a.after is not None
    assert {"X", "Y", "HR"} == a.after.groups
    b = plan.entry("b@firma.no")
    assert b is not None
    assert "skip" == b.action


def test_mirror_mode_and_deletion_limit(db: str, staff: Path, tmp_path: Path) -> None:
    """--delete-missing deletes, and --max-deletes refuses a plan over the limit (exit 3)."""
    run(db, "import", str(staff), "--yes", "--undo-out", str(tmp_path / "u.json"))
    one = tmp_path / "one.csv"
    one.write_text(STAFF.splitlines()[0] + "\nPer,Lie,per@firma.no,HR,\n", encoding="utf-8")
    code, _ = run(db, "import", str(one), "--yes", "--delete-missing", "--max-deletes", "1")
    assert EXIT_REFUSED == code
    assert 2 == len(emails(db))
    code, output = run(
        db,
        "import",
        str(one),
        "--yes",
        "--delete-missing",
        "--max-delete-fraction",
        "none",
        "--undo-out",
        str(tmp_path / "v.json"),
    )
    assert EXIT_OK == code, output
    assert {"per@firma.no"} == emails(db)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["plan"], EXIT_USAGE),
        (["plan", "missing.csv"], EXIT_USAGE),
        (["plan", "{staff}", "--bogus"], EXIT_USAGE),
        (["plan", "{staff}", "--map", "Email=nickname"], EXIT_USAGE),
        (["plan", "{staff}", "--map", "Nope=email"], EXIT_USAGE),
        (["plan", "{staff}", "--max-rows", "1"], EXIT_FAILED),
        (["plan", "{staff}", "--on-existing", "merge"], EXIT_USAGE),
    ],
)
def test_bad_usage(db: str, staff: Path, args: list[str], expected: int) -> None:
    """Bad usage and bad files get a one-line message and the documented exit code."""
    args = [a.replace("{staff}", str(staff)) for a in args]
    code, output = run(db, *args)
    assert expected == code
    assert "Traceback" not in output
    assert 1 <= len([line for line in output.splitlines() if line.startswith("Error")]) <= 1


def test_single_user_actions(db: str, staff: Path, tmp_path: Path) -> None:
    """user add/edit/admin/delete go through the store."""
    run(db, "import", str(staff), "--yes", "--undo-out", str(tmp_path / "u.json"))
    code, output = run(
        db,
        "user",
        "add",
        "kari@firma.no",
        "--first-name",
        "Kari",
        "--last-name",
        "Dahl",
        "--department",
        "Sales",
        "--group",
        "Oslo",
    )
    assert EXIT_OK == code, output
    assert EXIT_OK == run(db, "user", "edit", "kari@firma.no", "--department", "HR")[0]
    assert EXIT_OK == run(db, "user", "admin", "kari@firma.no", "--grant")[0]
    kari = SqlUserRepository(db).snapshot().get("kari@firma.no")
    assert kari is not None
    assert ("HR", True, {"Oslo"}) == (kari.department, kari.is_admin, set(kari.groups))
    assert EXIT_OK == run(db, "user", "delete", "kari@firma.no", "--yes")[0]
    assert "kari@firma.no" not in emails(db)
    code, output = run(
        db,
        "user",
        "add",
        "x@firma.no",
        "--first-name",
        "X",
        "--last-name",
        "Y",
        "--department",
        "Nowhere",
    )
    assert EXIT_USAGE <= code
    assert "Nowhere" in output


def test_db_from_environment(staff: Path, tmp_path: Path) -> None:
    """USERIMPORT_DB names the store when --db is not given."""
    url = f"sqlite:///{tmp_path / 'env.db'}"
    result = CliRunner(env={"USERIMPORT_DB": url}).invoke(
        cli, ["import", str(staff), "--yes", "--create", "--undo-out", str(tmp_path / "u.json")]
    )
    assert EXIT_OK == result.exit_code, result.output
    assert 2 == len(emails(url))


def test_every_command_has_help_with_an_example() -> None:
    """Every command answers --help, and its help ends with an example."""
    runner = CliRunner()
    for name, command in cli.commands.items():
        sub = getattr(command, "commands", {})
        for path in [[name]] + [[name, s] for s in sub]:
            result = runner.invoke(cli, [*path, "--help"])
            assert EXIT_OK == result.exit_code
            assert "Example:" in result.output, path


def test_console_script_subprocess(staff: Path, tmp_path: Path) -> None:
    """The installed console script and python -m userimport run the whole flow."""
    url = f"sqlite:///{tmp_path / 'sub.db'}"
    script = shutil.which("userimport", path=str(Path(sys.executable).parent))
    assert script is not None
    done = subprocess.run(
        [script, "--db", url, "--create", "import", str(staff), "--yes", "--undo-out",
         str(tmp_path / "u")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert EXIT_OK == done.returncode, done.stderr
    again = subprocess.run(
        [sys.executable, "-m", "userimport", "--db", url, "plan", str(staff),
         "--out", str(tmp_path / "p.json")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert EXIT_OK == again.returncode, again.stderr
    assert (
        json.loads((tmp_path / "p.json").read_text(encoding="utf-8"))["entries"][0]["action"]
        == "unchanged"
    )


def test_recipe_saved_and_replayed(db: str, tmp_path: Path) -> None:
    """--save-recipe keeps the mapping and skips; --recipe replays them and reports drift."""
    path = tmp_path / "x.csv"
    path.write_text(
        "Fornavn;Etternavn;Mail;Avd\nA;B;a@firma.no;HR\nC;D;c@firma.no;HR\n", encoding="utf-8"
    )
    recipe = tmp_path / "r.json"
    code, output = run(
        db, "plan", str(path), "--map", "Mail=email", "--map", "Avd=department",
        "--skip-row", "3", "--on-existing", "skip", "--save-recipe", str(recipe),
    )  # fmt: skip
    assert EXIT_OK == code, output
    later = tmp_path / "y.csv"
    later.write_text(
        "Fornavn;Etternavn;Mail;Avd;Tlf\nA;B;a@firma.no;HR;1\nC;D;c@firma.no;HR;2\n",
        encoding="utf-8",
    )
    out = tmp_path / "p.json"
    code, output = run(db, "plan", str(later), "--recipe", str(recipe), "--out", str(out))
    assert EXIT_OK == code, output
    assert "Drift: new column 'Tlf' is left out" in output
    plan = Plan.from_json(out.read_text(encoding="utf-8"))
    assert "skip" == plan.settings.on_existing
    c = plan.entry("c@firma.no")
    assert c is not None
    assert "skip" == c.action


def test_cli_reference_is_current() -> None:
    """docs/cli-reference.md is what `python -m userimport._clidoc` generates now."""
    from userimport._clidoc import reference

    docs = Path(__file__).resolve().parents[1] / "docs"
    assert reference() == (docs / "cli-reference.md").read_text(encoding="utf-8")
    guide = (docs / "cli.md").read_text(encoding="utf-8")
    for name in cli.commands:
        assert f"userimport {name}" in guide, name


def test_import_sends_welcome_emails(db: str, staff: Path, tmp_path: Path, smtp: Any) -> None:
    """--welcome-email welcomes each created user over SMTP after the commit."""
    mailbox, port = smtp
    code, output = run(
        db, "import", str(staff), "--yes", "--welcome-email", "--smtp-host", "127.0.0.1",
        "--smtp-port", str(port), "--sender", "it@firma.no", "--app-name", "Intranett",
    )  # fmt: skip
    assert EXIT_OK == code, output
    assert "Welcome emails: 2 sent, 0 failed." in output
    assert ["anna@firma.no", "ole@firma.no"] == sorted(
        m["To"].addresses[0].addr_spec for m in mailbox.messages
    )
    assert {"Welcome to Intranett"} == {m["Subject"] for m in mailbox.messages}


# -- text from files is shown as text ----------------------------------------------------------

#: Strings that rich would read as markup, emoji codes or terminal control.
MARKUP = [
    "[/]",
    "[red]Sa[/red]les",
    "[link=http://x]y[/link]",
    "[bold]",
    "a:thumbs_up:b",
]


def wide(db: str, *args: str, input: str | None = None) -> tuple[int, str]:
    """Run a command with a wide terminal, so no table cell is wrapped."""
    result = CliRunner(env={"COLUMNS": "500"}).invoke(
        cli, ["--db", db, *args], input=input, catch_exceptions=False
    )
    return result.exit_code, result.output


@pytest.mark.parametrize("text", MARKUP)
def test_markup_in_every_field_is_printed_literally(db: str, tmp_path: Path, text: str) -> None:
    """Names, departments, groups, attributes, emails and file names print as they are."""
    store = SqlUserRepository(db)
    from userimport import ChangeSet, User, write_template

    anna = User(email="anna@firma.no", first_name="Anna", last_name="Berg", department="HR")
    store.commit(
        ChangeSet(create=[anna], create_departments={"HR"}),
        expected_version=store.snapshot().version,
    )
    store.close()
    quoted = text.replace('"', '""')
    source = tmp_path / f"staff {text.replace('/', '_')}.csv"
    source.write_text(
        f'First Name,Last Name,Email,Department,Groups,Title,"H{quoted}"\n'
        f'"{quoted}","L{quoted}",anna@firma.no,"D{quoted}","G{quoted}","T{quoted}",x\n'
        f'Bad,Email,"{quoted}@firma.no",HR,,,\n',
        encoding="utf-8",
    )
    out = tmp_path / f"plan {text.replace('/', '_')}.json"
    code, output = wide(
        db, "plan", str(source), "--out", str(out), "--map", "Title=attributes.title"
    )
    assert EXIT_PROBLEMS == code, output
    shown_texts = (f"Anna -> {text}", f"L{text}", f"D{text}", f"G{text}", f"T{text}", f"'H{text}'")
    for shown in (*shown_texts, str(out)):
        assert shown in output, shown
    broken = tmp_path / f"{text.replace('/', '_')}.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    code, output = wide(db, "plan", str(broken))
    assert EXIT_FAILED == code, output
    assert broken.name in output
    book = tmp_path / "book.xlsx"
    write_template(book)
    code, output = wide(db, "plan", str(book), "--sheet", text)
    assert EXIT_FAILED == code, output
    assert f"no sheet '{text}'" in output
    code, output = wide(db, "import", str(source), "--yes", "--undo-out", str(tmp_path / "u.json"))
    assert EXIT_PROBLEMS == code, output
    assert f"Anna -> {text}" in output
    code, output = wide(db, "user", "edit", "anna@firma.no", "--group", f"H{text}")
    assert EXIT_OK == code, output
    code, output = wide(db, "user", "admin", f"{text}@firma.no", "--grant")
    assert EXIT_FAILED == code
    assert f"{text}@firma.no" in output


def test_control_characters_are_shown_as_escapes(db: str, tmp_path: Path) -> None:
    """An ANSI escape or a bidi override in a file reaches the terminal as a visible escape."""
    source = tmp_path / "staff.csv"
    source.write_text(
        "First Name,Last Name,Email,Department\n"
        "\x1b[2JAnna,Be\u202erg,anna@firma.no,\x1b]8;;http://x\x07Sales\n",
        encoding="utf-8",
    )
    code, output = wide(db, "import", str(source), "--yes", "--undo-out", str(tmp_path / "u.json"))
    assert EXIT_OK == code, output
    assert "\x1b" not in output
    assert "\u202e" not in output
    assert "\\x1b]8;;http://x\\x07Sales" in output
    broken = tmp_path / "\x1b[31mred\u202e.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    code, output = wide(db, "plan", str(broken))
    assert EXIT_FAILED == code, output
    assert "\\x1b[31mred\\u202e.xlsx" in output


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite+pysqlite://",
        "sqlite:///",
        "sqlite:///file::memory:?cache=shared&uri=true",
        "sqlite:///file:x?mode=memory&cache=shared&uri=true",
    ],
)
def test_in_memory_database_is_refused(url: str, staff: Path) -> None:
    """--db naming an in-memory SQLite database is a usage error that says why; no store used."""
    code, output = run(url, "plan", str(staff))
    assert EXIT_USAGE == code
    assert "in-memory SQLite database" in output
    assert "--db sqlite:///users.db" in output
    result = CliRunner(env={"USERIMPORT_DB": url}).invoke(cli, ["user", "delete", "a@b.no", "-y"])
    assert EXIT_USAGE == result.exit_code
    assert "in-memory" in result.output


def test_template_needs_no_store() -> None:
    """Commands that do not use the store run whatever --db says."""
    assert EXIT_OK == run("sqlite://", "template", "t.csv")[0]


def test_user_edit_adds_and_removes_groups(db: str, staff: Path, tmp_path: Path) -> None:
    """user edit --add-group/--remove-group change the stored groups; with --group: usage error."""
    run(db, "import", str(staff), "--yes", "--undo-out", str(tmp_path / "u.json"))
    code, output = run(
        db, "user", "edit", "anna@firma.no", "--add-group", "Tech", "--remove-group", "oslo"
    )
    assert EXIT_OK == code, output
    anna = SqlUserRepository(db).snapshot().get("anna@firma.no")
    assert anna is not None
    assert {"Bergen", "Tech"} == set(anna.groups)
    code, output = run(db, "user", "edit", "anna@firma.no", "--group", "A", "--add-group", "B")
    assert EXIT_USAGE == code
    assert "not both" in output


@given(st.text(alphabet=st.characters(blacklist_characters="\t"), max_size=60))
@settings(max_examples=80)
def test_any_text_prints_as_itself(text: str) -> None:
    """Whatever a cell holds, the console prints exactly its characters, controls escaped."""
    import io

    from userimport._display import console, visible

    out = console()
    out.file = io.StringIO()
    out.print(text, end="")
    assert visible(text) == out.file.getvalue()
    assert not any(unicodedata.category(c) == "Cc" and c != "\n" for c in out.file.getvalue())


def test_plan_shows_why_mirror_mode_is_held(db: str, staff: Path, tmp_path: Path) -> None:
    """plan on a file with a broken email in mirror mode prints the hold and who it may be."""
    run(db, "import", str(staff), "--yes", "--undo-out", str(tmp_path / "u.json"))
    typo = tmp_path / "typo.csv"
    typo.write_text(STAFF.replace("anna@firma.no", "anna@firma"), encoding="utf-8")
    code, output = run(db, "plan", str(typo), "--delete-missing")
    assert EXIT_REFUSED == code
    assert "Blocked: row 2: the email 'anna@firma' cannot be read as an address" in output
    assert "it may be anna@firma.no (same name" in output
    assert "Nothing can change while the plan is held." in output
    code, output = run(db, "import", str(typo), "--delete-missing", "--yes")
    assert EXIT_REFUSED == code
    assert "held" in output
    assert {"anna@firma.no", "ole@firma.no"} == emails(db)


def test_header_only_file_is_refused_in_mirror_mode(db: str, staff: Path, tmp_path: Path) -> None:
    """A file with only a header cannot empty the store in mirror mode (exit 3, not 'nothing')."""
    run(db, "import", str(staff), "--yes", "--undo-out", str(tmp_path / "u.json"))
    empty = tmp_path / "empty.csv"
    empty.write_text(STAFF.splitlines()[0] + "\n", encoding="utf-8")
    code, output = run(db, "import", str(empty), "--delete-missing", "--yes")
    assert EXIT_REFUSED == code
    assert "no valid row" in output
    assert 2 == len(emails(db))


def test_max_delete_fraction_option(db: str, staff: Path, tmp_path: Path) -> None:
    """--max-delete-fraction sets the relative limit; plan exits 3 and says so when over it."""
    staff.write_text(STAFF + "Per,Lie,per@firma.no,HR,\n", encoding="utf-8")
    run(db, "import", str(staff), "--yes", "--undo-out", str(tmp_path / "u.json"))
    one = tmp_path / "one.csv"
    one.write_text(STAFF.splitlines()[0] + "\n" + STAFF.splitlines()[1] + "\n", encoding="utf-8")
    code, output = run(db, "plan", str(one), "--delete-missing")  # 2 of 3, over 10 %
    assert EXIT_REFUSED == code
    assert "Blocked:" in output
    assert "max_delete_fraction" in output
    code, output = run(db, "plan", str(one), "--delete-missing", "--out", str(tmp_path / "p.json"))
    assert EXIT_REFUSED == code
    assert "it is blocked and cannot be applied as it is" in output
    assert "apply it with" not in output
    for share in ("50%", "0.5", "none"):
        code, output = run(db, "plan", str(one), "--delete-missing", "--max-delete-fraction", share)
        assert (EXIT_OK, False) == (code, "Blocked:" in output), output
    code, output = run(db, "plan", str(one), "--max-delete-fraction", "lots")
    assert EXIT_USAGE == code


# -- a saved plan is checked against the store, never trusted --------------------------------

KARI = "Kari,Dahl,kari@firma.no,Sales,Oslo\n"


def seeded_db(db: str) -> None:
    """Anna (not admin) and an admin in the store."""
    repo = SqlUserRepository(db)
    users = [
        User(email="anna@firma.no", first_name="Anna", last_name="Berg", department="Sales"),
        User(email="boss@firma.no", first_name="Bo", last_name="Ss", is_admin=True),
    ]
    changes = ChangeSet(create=users, create_departments={"Sales"})
    repo.commit(changes, expected_version=repo.snapshot().version)


def state(db: str) -> Any:
    return SqlUserRepository(db).snapshot().state()


def saved_entry(data: dict[str, Any], email: str) -> dict[str, Any]:
    found: dict[str, Any] = next(e for e in data["entries"] if e["email"] == email)
    return found


def admin_both_sides(data: dict[str, Any]) -> None:
    e = saved_entry(data, "anna@firma.no")
    e["before"]["is_admin"] = e["after"]["is_admin"] = True


def admin_as_text(data: dict[str, Any]) -> None:
    saved_entry(data, "anna@firma.no")["after"]["is_admin"] = "no"


def delete_boss(before: dict[str, Any] | None) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        data["entries"].append(
            {"action": "delete", "email": "boss@firma.no", "row": None, "reason": "",
             "changed": [], "before": before, "after": None}
        )  # fmt: skip

    return edit


BOSS = {
    "email": "boss@firma.no", "first_name": "Bo", "last_name": "Ss", "department": None,
    "groups": [], "is_admin": False, "attributes": {},
}  # fmt: skip


def permissions_in_the_file(data: dict[str, Any]) -> None:
    data["settings"].update(admin_rights=True, delete_admins=True, max_deletes=None)
    e = saved_entry(data, "anna@firma.no")
    e["after"]["is_admin"] = True
    e["changed"].append("is_admin")


def respell(data: dict[str, Any]) -> None:
    e = saved_entry(data, "anna@firma.no")
    e["email"] = e["before"]["email"] = e["after"]["email"] = "ANNA@firma.no"


def two_addresses(data: dict[str, Any]) -> None:
    e = saved_entry(data, "kari@firma.no")
    e["email"] = e["after"]["email"] = "kari@firma.no, spy@evil.example"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        pytest.param(admin_both_sides, "changed after it was made", id="before-and-after-admin"),
        pytest.param(admin_as_text, "must be true or false", id="admin-as-text"),
        pytest.param(delete_boss(None), "before is needed", id="delete-admin-before-null"),
        pytest.param(delete_boss(BOSS), "changed after it was made", id="delete-admin-not-admin"),
        pytest.param(permissions_in_the_file, "changed after", id="permissions-in-the-file"),
        pytest.param(respell, "changed after it was made", id="respelled-email"),
        pytest.param(two_addresses, "not one valid email address", id="two-addresses"),
        pytest.param(lambda d: d.pop("digest"), "carries no digest", id="digest-removed"),
    ],
)
def test_a_hand_edited_plan_is_refused(
    db: str, tmp_path: Path, edit: Callable[[dict[str, Any]], None], message: str
) -> None:
    """plan --out, an edit in a text editor, then apply: refused (exit 3), the store unchanged."""
    seeded_db(db)
    staff = tmp_path / "staff.csv"
    staff.write_text(STAFF.splitlines()[0] + "\nAnna,Lie,anna@firma.no,Sales,\n" + KARI)
    out = tmp_path / "plan.json"
    assert EXIT_OK == run(db, "plan", str(staff), "--out", str(out))[0]
    data = json.loads(out.read_text(encoding="utf-8"))
    assert 64 == len(data["digest"])
    edit(data)
    out.write_text(json.dumps(data, indent=1), encoding="utf-8")
    before = state(db)
    code, output = run(db, "apply", str(out), "--yes", "--admin-rights", "--delete-admins")
    assert EXIT_REFUSED == code, output
    assert message in " ".join(output.split())
    assert before == state(db)


def test_permissions_come_from_the_apply_command(db: str, tmp_path: Path) -> None:
    """A plan made with --admin-rights and --delete-admins applies only if apply is given them."""
    seeded_db(db)
    staff = tmp_path / "staff.csv"
    staff.write_text(
        "First Name,Last Name,Email,Department,Admin\nKari,Dahl,kari@firma.no,HR,yes\n"
    )
    out = tmp_path / "plan.json"
    allow = ["--admin-rights", "--delete-missing", "--delete-admins", "--max-delete-fraction", "1"]
    assert EXIT_OK == run(db, "plan", str(staff), "--out", str(out), *allow)[0]
    for options, missing in [
        ([], "--delete-admins"),
        (["--delete-admins"], "--admin-rights"),
        (["--admin-rights", "--delete-admins"], "--max-delete-fraction"),
    ]:
        code, output = run(db, "apply", str(out), "--yes", *options)
        assert EXIT_REFUSED == code, output
        assert missing in output
    code, output = run(db, "apply", str(out), "--yes", *allow[:1], *allow[2:])
    assert EXIT_OK == code, output
    kari = SqlUserRepository(db).snapshot().get("kari@firma.no")
    assert kari is not None
    assert kari.is_admin
    assert {"kari@firma.no"} == emails(db)


def test_undo_and_apply_each_take_their_own_plans(db: str, staff: Path, tmp_path: Path) -> None:
    """undo refuses a plan that is not an undo plan; apply refuses an undo plan."""
    out, undo = tmp_path / "plan.json", tmp_path / "undo.json"
    run(db, "plan", str(staff), "--out", str(out))
    code, output = run(db, "undo", str(out), "--yes")
    assert EXIT_REFUSED == code
    assert "not an undo plan" in output
    assert EXIT_OK == run(db, "apply", str(out), "--yes", "--undo-out", str(undo))[0]
    code, output = run(db, "apply", str(undo), "--yes")
    assert EXIT_REFUSED == code
    assert "is an undo plan" in output
    assert EXIT_OK == run(db, "undo", str(undo), "--yes", "--max-delete-fraction", "none")[0]
    assert set() == emails(db)


def test_a_recipe_carries_no_permissions(db: str, staff: Path, tmp_path: Path) -> None:
    """A recipe asking for permissions is refused; a saved one leaves them out; options win."""
    recipe = tmp_path / "r.json"
    args = ["--admin-rights", "--max-deletes", "none", "--save-recipe", str(recipe)]
    assert EXIT_OK == run(db, "plan", str(staff), *args)[0]
    data = json.loads(recipe.read_text(encoding="utf-8"))
    assert (False, 50) == (data["settings"]["admin_rights"], data["settings"]["max_deletes"])
    out = tmp_path / "p.json"
    code, output = run(
        db, "plan", str(staff), "--recipe", str(recipe), "--admin-rights", "--out", str(out)
    )
    assert EXIT_OK == code, output
    assert json.loads(out.read_text(encoding="utf-8"))["settings"]["admin_rights"]
    data["settings"]["delete_admins"] = True
    recipe.write_text(json.dumps(data), encoding="utf-8")
    code, output = run(db, "plan", str(staff), "--recipe", str(recipe))
    assert EXIT_OK != code
    assert "never carries permissions" in " ".join(output.split())


# -- nothing changes without a person knowing (#12) ------------------------------------------


def test_db_is_accepted_after_the_subcommand(db: str, staff: Path, tmp_path: Path) -> None:
    """--db after the subcommand names the store, and wins over the one before it."""
    other = f"sqlite:///{tmp_path / 'other.db'}"
    result = CliRunner().invoke(
        cli,
        ["--db", other, "import", str(staff), "--yes", "--db", db, "--undo-out", "u.json"],
    )
    assert EXIT_OK == result.exit_code, result.output
    assert {"anna@firma.no", "ole@firma.no"} == emails(db)
    assert f"Store: {db}" in result.output
    assert not (tmp_path / "other.db").exists()


@pytest.mark.parametrize("command", ["plan", "import", "users", "export"])
def test_a_store_that_does_not_exist_is_not_created(
    command: str, staff: Path, tmp_path: Path
) -> None:
    """A missing store is refused (exit 2, named), and no file is made, without --create."""
    url = f"sqlite:///{tmp_path / 'typo.db'}"
    args = {
        "plan": ["plan", str(staff)],
        "import": ["import", str(staff), "--yes"],
        "users": ["users"],
        "export": ["export", "out.csv"],
    }[command]
    result = CliRunner().invoke(cli, ["--db", url, *args])
    assert EXIT_USAGE == result.exit_code, result.output
    assert f"there is no user store at {url}" in result.output
    assert "--create" in result.output
    assert not (tmp_path / "typo.db").exists()


def test_create_makes_the_store_and_says_so(staff: Path, tmp_path: Path) -> None:
    """--create (after the command too) makes a new store, and the output says it is new."""
    url = f"sqlite:///{tmp_path / 'new.db'}"
    result = CliRunner().invoke(
        cli, ["import", str(staff), "--yes", "--db", url, "--create", "--undo-out", "u.json"]
    )
    assert EXIT_OK == result.exit_code, result.output
    assert f"Store: {url} (new: created empty)" in result.output
    assert {"anna@firma.no", "ole@firma.no"} == emails(url)


def test_a_missing_postgresql_store_is_refused(staff: Path) -> None:
    """A database without userimport's tables is a store that does not exist yet."""
    from tests.test_repository import postgres_url, reset_postgres

    url = postgres_url()
    reset_postgres(url)
    result = CliRunner().invoke(cli, ["plan", str(staff), "--db", url])
    assert EXIT_USAGE == result.exit_code, result.output
    assert "there is no user store at" in result.output
    result = CliRunner().invoke(cli, ["plan", str(staff), "--db", url, "--create"])
    assert EXIT_OK == result.exit_code, result.output
    assert "(new: created empty)" in result.output


def test_demo_imports_into_its_own_store(tmp_path: Path) -> None:
    """demo never touches USERIMPORT_DB or users.db: it makes demo.db here, and says so."""
    env_url = f"sqlite:///{tmp_path / 'real.db'}"
    result = CliRunner(env={"USERIMPORT_DB": env_url}).invoke(cli, ["demo"])
    assert EXIT_OK == result.exit_code, result.output
    assert "into the demo store sqlite:///demo.db" in result.output
    assert not (tmp_path / "real.db").exists()
    assert not (tmp_path / "users.db").exists()
    assert emails("sqlite:///demo.db")


def test_demo_takes_a_db_given_on_its_command_line(tmp_path: Path) -> None:
    """demo --db URL imports there (made if new)."""
    url = f"sqlite:///{tmp_path / 'try.db'}"
    result = CliRunner().invoke(cli, ["demo", "--db", url])
    assert EXIT_OK == result.exit_code, result.output
    assert emails(url)
    assert not (tmp_path / "demo.db").exists()


@pytest.mark.parametrize("command", ["template", "export"])
def test_template_and_export_never_overwrite_without_force(
    command: str, db: str, tmp_path: Path
) -> None:
    """An existing file is left as it was (exit 3) unless --force is given."""
    target = tmp_path / "out.csv"
    target.write_text("precious\n", encoding="utf-8")
    code, output = run(db, command, str(target))
    assert EXIT_REFUSED == code, output
    assert "--force" in output
    assert "precious\n" == target.read_text(encoding="utf-8")
    code, output = run(db, command, str(target), "--force")
    assert EXIT_OK == code, output
    assert "precious\n" != target.read_text(encoding="utf-8")


def test_welcome_email_without_a_mail_server_is_refused_first(
    db: str, staff: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--welcome-email with no --smtp-host is refused before anything is applied."""
    monkeypatch.delenv("USERIMPORT_SMTP_HOST", raising=False)
    code, output = run(db, "import", str(staff), "--yes", "--welcome-email")
    assert EXIT_USAGE == code, output
    assert "mail server" in output
    assert set() == emails(db)
    code, output = run(db, "plan", str(staff), "--welcome-email", "--out", "p.json")
    assert EXIT_OK == code, output
    code, output = run(db, "apply", "p.json", "--yes")
    assert EXIT_USAGE == code, output
    assert set() == emails(db)
    assert not list(tmp_path.glob("userimport-undo-*.json"))


def test_failed_welcome_emails_are_saved_and_sent_again(
    db: str, staff: Path, tmp_path: Path, smtp: Any
) -> None:
    """Failed sends exit 4 with the import applied, are saved, and --retry sends them."""
    with __import__("socket").socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    code, output = run(
        db, "import", str(staff), "--yes", "--welcome-email", "--smtp-host", "127.0.0.1",
        "--smtp-port", str(closed), "--undo-out", "u.json",
    )  # fmt: skip
    assert EXIT_FAILED == code, output
    assert {"anna@firma.no", "ole@firma.no"} == emails(db)
    [unsent] = tmp_path.glob("userimport-unsent-*.json")
    document = json.loads(unsent.read_text(encoding="utf-8"))
    assert ["anna@firma.no", "ole@firma.no"] == sorted(document["emails"])
    assert f"userimport user welcome --retry {unsent.name}" in output
    mailbox, port = smtp
    code, output = run(
        db, "user", "welcome", "--retry", str(unsent), "--smtp-host", "127.0.0.1",
        "--smtp-port", str(port),
    )  # fmt: skip
    assert EXIT_OK == code, output
    assert 2 == len(mailbox.messages)
    assert not unsent.exists()


def test_users_lists_and_searches_and_user_show(db: str, staff: Path) -> None:
    """users [--search] lists the store's users; user show gives one, or exit 2."""
    assert EXIT_OK == run(db, "import", str(staff), "--yes", "--undo-out", "u.json")[0]
    code, output = run(db, "users")
    assert EXIT_OK == code, output
    assert "anna@firma.no" in output
    assert "ole@firma.no" in output
    code, output = run(db, "users", "--search", "bergen")
    assert EXIT_OK == code, output
    assert "anna@firma.no" in output
    assert "ole@firma.no" not in output
    code, output = run(db, "users", "--limit", "1")
    assert "... and 1 more." in output
    code, output = run(db, "user", "show", "ANNA@firma.no")
    assert EXIT_OK == code, output
    assert "Groups: Bergen, Oslo" in output
    assert "Department: Sales" in output
    assert EXIT_USAGE == run(db, "user", "show", "nobody@firma.no")[0]


def test_the_prompt_repeats_the_counts_and_declining_is_no_error(
    db: str, staff: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The question names the store and the counts; answering no is exit 3, not an Error."""
    monkeypatch.setenv("USERIMPORT_ASSUME_TTY", "1")
    code, output = run(db, "import", str(staff), input="n\n")
    assert EXIT_REFUSED == code, output
    assert f"Apply these changes to {db}: 2 to create, 0 to update, 0 to delete?" in output
    assert "Not applied: nothing was changed." in output
    assert "Error" not in output
    assert set() == emails(db)


def test_an_undo_applied_twice_says_so_in_words(db: str, staff: Path) -> None:
    """A second undo of the same file says it was already applied, not two versions."""
    assert EXIT_OK == run(db, "import", str(staff), "--yes", "--undo-out", "u.json")[0]
    none = ("--max-delete-fraction", "none")
    assert EXIT_OK == run(db, "undo", "u.json", "--yes", *none)[0]
    code, output = run(db, "undo", "u.json", "--yes", *none)
    assert EXIT_REFUSED == code, output
    assert "this undo was already applied on 20" in output
    assert f"UTC to {db}" in output
    assert "plan: " not in output
    assert set() == emails(db)


def test_a_stale_undo_names_the_users_that_changed(db: str, staff: Path) -> None:
    """An undo whose users were edited since names them, and changes nothing."""
    assert EXIT_OK == run(db, "import", str(staff), "--yes", "--undo-out", "u.json")[0]
    assert EXIT_OK == run(db, "user", "edit", "anna@firma.no", "--first-name", "Ann")[0]
    code, output = run(db, "undo", "u.json", "--yes")
    assert EXIT_REFUSED == code, output
    assert "the store changed since u.json was made: 1 of its users" in output
    assert "anna@firma.no" in output
    assert {"anna@firma.no", "ole@firma.no"} == emails(db)


def test_plan_and_undo_files_record_their_store(db: str, staff: Path, tmp_path: Path) -> None:
    """plan --out and undo files name the store (URL, no password) and its id."""
    assert EXIT_OK == run(db, "plan", str(staff), "--out", "p.json")[0]
    assert EXIT_OK == run(db, "apply", "p.json", "--yes", "--undo-out", "u.json")[0]
    saved = [json.loads(Path(name).read_text(encoding="utf-8")) for name in ("p.json", "u.json")]
    assert [db, db] == [s["store"] for s in saved]
    assert saved[0]["store_id"] == saved[1]["store_id"]
    assert 16 == len(saved[0]["store_id"])
    assert db == Plan.from_json(Path("u.json").read_text(encoding="utf-8")).store


def test_a_plan_for_another_store_is_refused_in_words(db: str, staff: Path, tmp_path: Path) -> None:
    """Applying a plan file to another store names both stores, and changes nothing."""
    other = f"sqlite:///{tmp_path / 'other.db'}"
    SqlUserRepository(other).snapshot()
    assert EXIT_OK == run(db, "plan", str(staff), "--out", "p.json")[0]
    code, output = run(other, "apply", "p.json", "--yes")
    assert EXIT_REFUSED == code, output
    assert f"p.json was made for the store {db}" in output
    assert f"not for {other}" in output
    assert set() == emails(other)


def test_the_store_named_in_a_plan_file_is_signed(db: str, staff: Path) -> None:
    """Changing the store written in a saved plan makes it refused as changed."""
    assert EXIT_OK == run(db, "plan", str(staff), "--out", "p.json")[0]
    data = json.loads(Path("p.json").read_text(encoding="utf-8"))
    data["store"] = "sqlite:///elsewhere.db"
    Path("p.json").write_text(json.dumps(data), encoding="utf-8")
    code, output = run(db, "apply", "p.json", "--yes")
    assert EXIT_REFUSED == code, output
    assert "changed after it was made" in output
    assert set() == emails(db)


# -- what a person sees before deciding (#12) ------------------------------------------------

MIXED = (
    "First Name,Last Name,Email,Department,Usergroups,Admin\n"
    'Anna,Berg,anna@firma.no,Sales,"Oslo, Bergen",yes\n'
    "Bo,Ek,not-an-email,HR,,\n"
    "Ce,Fa,ce@firma.no,,,no\n"
)


def test_plan_shows_what_was_read_and_who_each_entry_is(db: str, tmp_path: Path) -> None:
    """plan prints the file's reading, who is created and deleted, skips and their reasons."""
    seed = SqlUserRepository(db)
    seed.commit(
        ChangeSet(
            create=[
                User(
                    email="gone@firma.no",
                    first_name="Gro",
                    last_name="Dal",
                    department="IT",
                    groups={"Ops"},
                    is_admin=True,
                )
            ],
            create_groups={"Ops"},
            create_departments={"IT"},
        ),
        expected_version=seed.snapshot().version,
    )
    (tmp_path / "mixed.csv").write_text(MIXED, encoding="utf-8")
    code, output = wide(db, "plan", "mixed.csv", "--delete-missing", "--max-deletes", "none")
    assert EXIT_PROBLEMS == code, output
    assert "Read mixed.csv: 4 rows, encoding" in output
    assert "delimiter ','" in output
    assert "headers on row 1" in output
    assert "Anna Berg; Sales; groups: Bergen, Oslo" in output
    assert "Skipped and kept (3)" in output
    assert "row has errors" in output
    assert "Gro Dal; IT; groups: Ops; admin" in output
    assert "kept (--delete-admins was not given)" in output
    assert "since --admin-rights was not given" in output
    assert "admin_rights=False" not in output
    assert "delete_admins" not in output


def test_long_lists_end_with_and_n_more(db: str, tmp_path: Path) -> None:
    """More than 50 creates end with '... and N more.'."""
    rows = "".join(f"P{i},Q,p{i}@firma.no,Sales,\n" for i in range(60))
    (tmp_path / "many.csv").write_text("First,Last,Email,Department,Groups\n" + rows, "utf-8")
    code, output = run(db, "plan", "many.csv")
    assert EXIT_OK == code, output
    assert "... and 10 more." in output


def test_colour_marks_deletes_only_on_a_colour_terminal(
    db: str, staff: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A delete is red on a colour terminal; no colour with NO_COLOR or without a terminal."""
    seed = SqlUserRepository(db)
    seed.commit(
        ChangeSet(
            create=[
                User(email="gone@firma.no", first_name="Gro", last_name="Dal", department="IT")
            ],
            create_departments={"IT"},
        ),
        expected_version=seed.snapshot().version,
    )
    args = ("plan", str(staff), "--delete-missing", "--max-delete-fraction", "none")
    assert "\x1b[" not in run(db, *args)[1]
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert "\x1b[1;31mdelete" in run(db, *args)[1]
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[1;31m" not in run(db, *args)[1]


def test_row_limit_message_speaks_the_command_line(db: str, tmp_path: Path) -> None:
    """The row limit's message names --max-rows, not the library's max_rows=None."""
    rows = "".join(f"P{i},Q,p{i}@firma.no,Sales\n" for i in range(5))
    (tmp_path / "five.csv").write_text("First,Last,Email,Department\n" + rows, "utf-8")
    code, output = run(db, "plan", "five.csv", "--max-rows", "2")
    assert EXIT_FAILED == code, output
    assert "--max-rows" in output
    assert "max_rows=None" not in output


def json_run(db: str, *args: str) -> tuple[int, dict[str, Any]]:
    """Run a command with --json; return its exit code and its one JSON document."""
    result = CliRunner().invoke(cli, ["--db", db, *args, "--json"], catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout)


def test_plan_json_is_one_document(db: str, tmp_path: Path) -> None:
    """plan --json prints only JSON: read, summary, issues, entries, warnings, blocked, code."""
    (tmp_path / "mixed.csv").write_text(MIXED, encoding="utf-8")
    code, doc = json_run(db, "plan", "mixed.csv")
    assert EXIT_PROBLEMS == code
    assert EXIT_PROBLEMS == doc["exit_code"]
    assert db == doc["store"]
    assert 1 == doc["read"]["header_row"]
    assert "," == doc["read"]["delimiter"]
    assert 1 == doc["summary"]["create"]
    assert {3, 4} == {i["row"] for i in doc["issues"]}
    assert "not-an-email" in {i["value"] for i in doc["issues"]}
    assert ["admin_ignored"] == [w["code"] for w in doc["warnings"]]
    assert [] == doc["blocked"]
    created = [e for e in doc["entries"] if e["action"] == "create"]
    assert ["Anna"] == [e["after"]["first_name"] for e in created]
    assert {"skip"} == {e["action"] for e in doc["entries"]} - {"create"}


def test_import_apply_and_undo_json(db: str, staff: Path) -> None:
    """import, apply and undo --json report the result; --json without --yes is refused."""
    code, doc = json_run(db, "import", str(staff), "--yes", "--undo-out", "u.json")
    assert (EXIT_OK, 2) == (code, doc["result"]["created"])
    assert "u.json" == doc["result"]["undo_file"]
    code, doc = json_run(db, "undo", "u.json", "--yes", "--max-delete-fraction", "none")
    assert (EXIT_OK, 2) == (code, doc["result"]["deleted"])
    assert set() == emails(db)
    code, doc = json_run(db, "undo", "u.json", "--yes", "--max-delete-fraction", "none")
    assert EXIT_REFUSED == code == doc["exit_code"]
    assert "already applied" in doc["error"]
    assert EXIT_OK == run(db, "plan", str(staff), "--out", "p.json")[0]
    code, doc = json_run(db, "apply", "p.json", "--yes")
    assert (EXIT_OK, 2) == (code, doc["result"]["created"])
    result = CliRunner().invoke(cli, ["--db", db, "apply", "p.json", "--json"])
    assert EXIT_USAGE == result.exit_code
    assert "--json needs --yes" in result.output


def test_quiet_prints_nothing_but_errors(db: str, staff: Path) -> None:
    """-q: a successful import prints nothing; an error is still said."""
    result = CliRunner().invoke(
        cli, ["--db", db, "import", str(staff), "--yes", "-q", "--undo-out", "u.json"]
    )
    assert EXIT_OK == result.exit_code
    assert "" == result.output
    assert {"anna@firma.no", "ole@firma.no"} == emails(db)
    result = CliRunner().invoke(cli, ["--db", db, "undo", "u.json", "--yes", "-q"])
    assert EXIT_REFUSED == result.exit_code
    assert "Error:" in result.output


@pytest.mark.parametrize("args", [["--help"], ["template", "t.csv"], ["plan", "--help"]])
def test_help_and_template_start_light(args: list[str], tmp_path: Path) -> None:
    """--help and template load none of pandas, pyarrow, pandera or SQLAlchemy."""
    code = (
        "import sys; from userimport.cli import main; main(sys.argv[1:]); "
        "heavy = {'pandas', 'pyarrow', 'pandera', 'sqlalchemy'} & set(sys.modules); "
        "print(sorted(heavy), file=sys.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert "[]" == done.stderr.strip().splitlines()[-1]


def test_problems_name_the_person_and_value_and_skipped_rows_are_no_errors(
    db: str, tmp_path: Path
) -> None:
    """The problems table shows the person and the cell; a skipped row is not an error."""
    (tmp_path / "mixed.csv").write_text(MIXED, encoding="utf-8")
    code, output = wide(db, "plan", "mixed.csv", "--skip-row", "4", "--rejects", "r.csv")
    assert EXIT_PROBLEMS == code, output
    problems = output.split("Problems (1)")[1].split("Summary")[0]
    assert "Bo Ek" in problems
    assert "not-an-email" in problems
    assert "the email 'not-an-email' is not a valid email address" in problems
    assert "Ce Fa" not in problems
    lines = Path("r.csv").read_text(encoding="utf-8-sig").splitlines()
    assert 2 == len(lines)
    assert lines[1].endswith(",3")
    code, doc = json_run(db, "plan", "mixed.csv", "--skip-row", "4")
    assert [3] == [i["row"] for i in doc["issues"]]


def test_a_recipe_with_a_renamed_column_is_fixed_with_map(db: str, tmp_path: Path) -> None:
    """The drift says which --map fixes a renamed column, and --map with --recipe does."""
    assert EXIT_OK == run(db, "plan", str(_staff(tmp_path)), "--save-recipe", "r.json")[0]
    renamed = STAFF.replace("Usergroups", "Teams")
    (tmp_path / "feb.csv").write_text(renamed, encoding="utf-8")
    code, output = run(db, "plan", "feb.csv", "--recipe", "r.json")
    assert "fix it with: --map Teams=groups" in output
    code, doc = json_run(db, "plan", "feb.csv", "--recipe", "r.json", "--map", "Teams=groups")
    assert EXIT_OK == code, doc
    anna = next(e for e in doc["entries"] if e["email"] == "anna@firma.no")
    assert ["Bergen", "Oslo"] == anna["after"]["groups"]
    code, output = run(db, "plan", "feb.csv", "--recipe", "r.json", "--map", "Teams=groups")
    assert "mapped to groups by --map" in output


def _staff(tmp_path: Path) -> Path:
    path = tmp_path / "jan.csv"
    path.write_text(STAFF, encoding="utf-8")
    return path


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_shell_completion_scripts_are_made(shell: str) -> None:
    """_USERIMPORT_COMPLETE=<shell>_source prints the completion script docs/cli.md shows."""
    result = CliRunner().invoke(
        cli, [], env={"_USERIMPORT_COMPLETE": f"{shell}_source"}, prog_name="userimport"
    )
    assert EXIT_OK == result.exit_code
    assert "_USERIMPORT_COMPLETE" in result.output
    guide = (Path(__file__).resolve().parents[1] / "docs" / "cli.md").read_text("utf-8")
    assert f"_USERIMPORT_COMPLETE={shell}_source userimport" in guide


def test_completion_lists_the_commands() -> None:
    """Completing 'userimport u' offers the users and user commands."""
    result = CliRunner().invoke(
        cli,
        [],
        env={
            "_USERIMPORT_COMPLETE": "bash_complete",
            "COMP_WORDS": "userimport u",
            "COMP_CWORD": "1",
        },
        prog_name="userimport",
    )
    assert {"plain,user", "plain,users"} <= set(result.output.split())


def test_welcome_email_template_language_and_link(
    db: str, staff: Path, tmp_path: Path, smtp: Any
) -> None:
    """--welcome-language, --welcome-subject, --welcome-text and --login-url shape the email."""
    mailbox, port = smtp
    body = tmp_path / "body.txt"
    body.write_text("Hei $first_name! $login_line", encoding="utf-8")
    code, output = run(
        db, "import", str(staff), "--yes", "--welcome-email", "--smtp-host", "127.0.0.1",
        "--smtp-port", str(port), "--app-name", "Intranett", "--welcome-language", "nb",
        "--login-url", "https://intra.firma.no", "--undo-out", "u.json",
    )  # fmt: skip
    assert EXIT_OK == code, output
    assert {"Velkommen til Intranett"} == {m["Subject"] for m in mailbox.messages}
    text = mailbox.messages[0].get_body(("plain",)).get_content()
    assert "Logg inn på https://intra.firma.no" in text
    code, output = run(
        db, "user", "add", "kari@firma.no", "--first-name", "Kari", "--last-name", "Dahl",
        "--department", "Sales", "--welcome-email", "--smtp-host", "127.0.0.1",
        "--smtp-port", str(port), "--welcome-subject", "Konto for $first_name",
        "--welcome-text", str(body), "--login-url", "https://x.no",
    )  # fmt: skip
    assert EXIT_OK == code, output
    last = mailbox.messages[-1]
    assert "Konto for Kari" == last["Subject"]
    assert "Hei Kari! Sign in at https://x.no" == last.get_body(("plain",)).get_content().strip()
    assert last.get_body(("html",)) is None


#: Modules that no step of a CSV import into SQLite uses, by what would load them.
NOT_FOR_A_CSV_IMPORT = {
    "hypothesis",  # pandera's data synthesis
    "openpyxl",  # XLSX
    "python_calamine",  # XLSX
    "confusable_homoglyphs.confusables",  # skeletons of emails that are not ASCII
    "email_validator",  # every address of the file takes the fast path
    "adbc_driver_sqlite",  # the store made by this command is read with sqlite3
    "sqlalchemy",  # a SQLite store runs on the sqlite3 module (SQLAlchemy: PostgreSQL's)
    "smtplib",  # welcome emails
    "userimport.notify",
    "userimport.export",
    "userimport.recipe",
    "userimport.web",
    "rich.live",  # the spinner, shown on a terminal only
    "rich.status",
    "rich._emoji_codes",
    "html",  # a plan's notebook view
}


@pytest.mark.parametrize("command", ["import", "plan"])
def test_a_csv_command_loads_only_what_it_uses(command: str, staff: Path, tmp_path: Path) -> None:
    """A CSV plan or import into a new SQLite store loads none of the modules it does not use."""
    args = ["--db", f"sqlite:///{tmp_path / 'new.db'}", "--create", command, str(staff)]
    args += ["--yes", "--undo-out", str(tmp_path / "undo.json")] if command == "import" else []
    code = (
        "import json, sys; from userimport.__main__ import main; "
        f"sys.argv = ['userimport', *{args!r}]; code = main(); "
        "print(json.dumps([code, sorted(sys.modules)]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    exit_code, loaded = json.loads(done.stdout.splitlines()[-1])
    assert EXIT_OK == exit_code
    assert {"pandera", "sqlite3"} <= set(loaded)  # it did validate, into SQLite
    assert set() == NOT_FOR_A_CSV_IMPORT & set(loaded)


def test_the_spinner_is_made_on_a_terminal_only() -> None:
    """status() gives rich's spinner on a terminal, and does nothing in a pipe or quietly."""
    from contextlib import nullcontext

    from rich.console import Console
    from rich.status import Status

    from userimport._display import status

    assert isinstance(status(Console(force_terminal=True), "Reading…"), Status)
    assert isinstance(status(Console(force_terminal=False), "Reading…"), nullcontext)
    assert isinstance(status(Console(force_terminal=True, quiet=True), "Reading…"), nullcontext)


def test_plan_makes_only_the_entries_it_shows(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """plan of 120 new users makes a plan entry for the 50 it lists, not for all 120."""
    import userimport._planframe

    rows = [f"F{i},L{i},user{i}@firma.no,Sales,Oslo" for i in range(120)]
    path = tmp_path / "many.csv"
    path.write_text("First Name,Last Name,Email,Department,Groups\n" + "\n".join(rows) + "\n")
    made: list[str] = []
    entry = userimport._planframe.entry
    monkeypatch.setattr(userimport._planframe, "entry", lambda rec: made.append(rec) or entry(rec))
    code, output = run(db, "plan", str(path))
    assert EXIT_OK == code, output
    assert "... and 70 more." in output
    assert 50 == len(made)

"""SqlUserRepository on SQLite without SQLAlchemy: URLs, DDL, stores of earlier releases, ADBC."""

from __future__ import annotations

import contextlib
import re
import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite as sa_sqlite

import userimport._sqlio
import userimport.sql
from userimport import ChangeSet, RepositoryError, User, _cliopts, _sqlschema
from userimport.sql import SCHEMA_VERSION, SqlUserRepository

#: URLs of every shape: read here as SQLAlchemy's make_url reads them.
URLS = [
    "sqlite://",
    "sqlite:///:memory:",
    "sqlite:///users.db",
    "sqlite:///rel/dir/users.db",
    "sqlite:////abs/dir/users.db",
    "sqlite:///C:/win/users.db",
    "sqlite:///a b.db",
    "sqlite:///%41%20b.db",
    "sqlite:///file:users.db?mode=ro&uri=true",
    "sqlite:///file:mem?mode=memory&cache=shared&uri=true",
    "sqlite:///file::memory:?uri=true",
    "sqlite:///users.db?timeout=2&check_same_thread=false",
    "sqlite:///users.db?a=1&a=2&b=",
    "sqlite+pysqlite:///users.db",
    "sqlite://user:pw@host/x.db",
    "postgresql://u:s3cret@db.example:5433/app?sslmode=require&options=-c%20x%3Dy",
    "postgresql://u:p%40ss%2Fw@[::1]:5432/db",
    "postgresql://u@host/db",
    "postgresql+psycopg://host/db?a=1&a=2",
    "postgres://u:pw@h/d",
    "postgresql:///db",
    "mysql://u:s3cret@localhost/db",
    "sqlite+nope:///x",
]

BAD = ["not a url", "", "sqlite", "://x", "postgresql://u@h:port/db"]


def attributes(url: Any) -> tuple[Any, ...]:
    """What a URL is made of, as SQLAlchemy's URL and ours both name it."""
    query = {k: v if isinstance(v, str) else tuple(v) for k, v in url.query.items()}
    return (url.drivername, url.username, url.password, url.host, url.port, url.database, query)


@pytest.mark.parametrize("url", URLS)
def test_urls_are_read_as_sqlalchemy_reads_them(url: str) -> None:
    """read_url gives SQLAlchemy's parts and renders the URL as SQLAlchemy does."""
    theirs, ours = sa.make_url(url), _sqlschema.read_url(url)
    assert attributes(theirs) == attributes(ours)
    for hide in (True, False):
        assert theirs.render_as_string(hide_password=hide) == ours.render_as_string(hide)
    assert theirs == ours.to_sqlalchemy()


@pytest.mark.parametrize(
    "url", [u for u in URLS if u.startswith(("sqlite:", "postgres")) and "a=1" not in u]
)
def test_the_repository_shows_its_url_as_before(url: str) -> None:
    """SqlUserRepository.url is what it was when SQLAlchemy parsed the URL."""
    parsed = sa.make_url(url)
    sqlite = parsed.get_backend_name() == "sqlite"
    driver = "sqlite+pysqlite" if sqlite else "postgresql+psycopg"
    if sqlite and parsed.host:
        with pytest.raises(RepositoryError, match="Invalid SQLite URL"):
            SqlUserRepository(url)
        return
    with SqlUserRepository(url) as repo:
        assert parsed.set(drivername=driver).render_as_string() == repo.url


@pytest.mark.parametrize("url", BAD)
def test_what_sqlalchemy_refuses_is_refused(url: str) -> None:
    """A string that is no URL to SQLAlchemy is none to read_url, nor to the repository."""
    with pytest.raises((sa.exc.ArgumentError, ValueError)):
        sa.make_url(url)
    with pytest.raises(ValueError, match=r"Could not parse|invalid literal"):
        _sqlschema.read_url(url)
    with pytest.raises(RepositoryError, match="not a database URL"):
        SqlUserRepository(url)


def previous_sqlite_path(url: str) -> Path | None:
    """_cliopts._sqlite_path as the previous release wrote it, on SQLAlchemy."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if database.startswith("file:"):
        database = database[5:].partition("?")[0]
    return None if database in ("", ":memory:") else Path(database)


@pytest.mark.parametrize("url", URLS + BAD)
def test_the_cli_shows_and_finds_stores_as_before(url: str) -> None:
    """shown_url and _sqlite_path give what they gave on SQLAlchemy's make_url."""
    try:
        shown = sa.make_url(url).render_as_string(hide_password=True)
        path: Path | type[Exception] | None = previous_sqlite_path(url)
    except (sa.exc.ArgumentError, ValueError):
        shown, path = url, ValueError
    assert shown == _cliopts.shown_url(url)
    if path is ValueError:
        with pytest.raises(ValueError, match=r"Could not parse|invalid literal"):
            _cliopts._sqlite_path(url)
    else:
        assert path == _cliopts._sqlite_path(url)


@pytest.mark.parametrize("url", [u for u in URLS if u.startswith("sqlite://") and "@" not in u])
def test_sqlite_opens_what_sqlalchemy_opened(url: str) -> None:
    """The file (or URI) and sqlite3.connect's arguments are those of SQLAlchemy's dialect."""
    parsed = sa.make_url(url)
    dialect = sa_sqlite.pysqlite.dialect()
    with contextlib.ExitStack() as stack:
        if "uri" not in parsed.query and set(parsed.query) - {"timeout", "check_same_thread"}:
            stack.enter_context(pytest.warns(RuntimeWarning))
            stack.enter_context(pytest.warns(sa.exc.SAWarning))
        (theirs,), their_kwargs = dialect.create_connect_args(parsed)
        ours, our_kwargs = _sqlschema.sqlite_target(_sqlschema.read_url(url))
    their_kwargs.pop("check_same_thread")  # their default; the repository sets its own
    our_kwargs.pop("check_same_thread", None)
    assert (theirs, their_kwargs) == (ours, our_kwargs)


def test_a_sqlite_url_with_a_host_is_refused() -> None:
    """A SQLite URL naming a user or host is refused, as SQLAlchemy refused it."""
    with pytest.raises(RepositoryError, match="Invalid SQLite URL"):
        SqlUserRepository("sqlite://user:pw@host/x.db")


def normalised(sql: str) -> str:
    """DDL with its layout removed: one space between words, none inside parentheses."""
    return re.sub(r"\s*([(),])\s*", r"\1", " ".join(sql.split())).strip()


def test_the_sqlite_ddl_is_what_sqlalchemy_compiles() -> None:
    """Each table's (and the index's) DDL text is SQLAlchemy's for the same table."""
    tables = {**_sqlschema.tables().metadata.tables, "import_history": _sqlschema.history_tables()}
    compiled = {
        name: str(sa.schema.CreateTable(table).compile(dialect=sa_sqlite.dialect()))
        for name, table in tables.items()
    }
    for index in _sqlschema.history_tables().indexes:
        compiled[str(index.name)] = str(
            sa.schema.CreateIndex(index).compile(dialect=sa_sqlite.dialect())
        )
    ours = {name: normalised(sql) for name, sql in _sqlschema.SQLITE_DDL.items()}
    assert {name: normalised(sql) for name, sql in compiled.items()} == ours
    assert (*_sqlschema.STORE_TABLES, *_sqlschema.HISTORY) == tuple(_sqlschema.SQLITE_DDL)
    assert [t.name for t in _sqlschema.tables().metadata.sorted_tables] == [
        t for t in _sqlschema.STORE_TABLES if t in tables
    ]
    for name, table in tables.items():
        assert tuple(c.name for c in table.columns) == _sqlschema.COLUMNS[name]


def layout(path: Path) -> dict[str, Any]:
    """Every table's and index's columns, keys and foreign keys, as SQLite reports them."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master ORDER BY name")]
        return {
            name: [
                db.execute(f'PRAGMA {pragma}("{name}")').fetchall()
                for pragma in ("table_info", "foreign_key_list", "index_list", "index_info")
            ]
            for name in names
        }


def made_by_sqlalchemy(path: Path, *, rowid: bool = False) -> None:
    """
    A store made by SQLAlchemy's create_all, with a meta row: as the previous releases made it
    with ``rowid`` (their memberships and attributes were rowid tables).
    """
    metadata = _sqlschema.tables().metadata
    if rowid:
        metadata = sa.MetaData()
        for table in _sqlschema.tables().metadata.sorted_tables:
            table.to_metadata(metadata).dialect_options["sqlite"]["with_rowid"] = True
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        metadata.create_all(conn)
        _sqlschema.history_tables().create(conn)
        conn.exec_driver_sql("INSERT INTO meta VALUES (1, 'v0', ?)", (SCHEMA_VERSION,))
        conn.exec_driver_sql("INSERT INTO plan_secret VALUES (1, ?)", ("ab" * 32,))
    engine.dispose()


def test_a_new_store_has_the_tables_sqlalchemy_made(tmp_path: Path) -> None:
    """Tables made from the DDL text have the columns, keys and indexes SQLAlchemy's had."""
    made_by_sqlalchemy(tmp_path / "old.db")
    with SqlUserRepository(f"sqlite:///{tmp_path / 'new.db'}") as repo:
        repo.snapshot()
        repo.mark_import_undone("none", datetime.now(UTC))  # a writer makes the history
    assert layout(tmp_path / "old.db") == layout(tmp_path / "new.db")


def test_memberships_and_attributes_are_tables_without_rowid(tmp_path: Path) -> None:
    """A new store keeps each membership and attribute once: in its primary key's b-tree."""
    path = tmp_path / "new.db"
    with SqlUserRepository(f"sqlite:///{path}") as repo:
        repo.snapshot()
    with contextlib.closing(sqlite3.connect(path)) as db:
        made = dict(db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
    without = {name for name, sql in made.items() if sql.endswith("WITHOUT ROWID")}
    assert {"attributes", "memberships"} == without


def test_a_store_made_through_sqlalchemy_opens_and_works(tmp_path: Path) -> None:
    """A store of the previous release is read, written and keeps its secret and history."""
    path = tmp_path / "old.db"
    made_by_sqlalchemy(path, rowid=True)
    with SqlUserRepository(f"sqlite:///{path}", cache=False) as repo:
        assert "v0" == repo.snapshot().version
        assert bytes.fromhex("ab" * 32) == repo.plan_secret()
        version = repo.commit(
            ChangeSet(create=[User(email="a@firma.no", groups={"G"})], create_groups={"G"}),
            expected_version="v0",
        )
        assert (version, ["a@firma.no"]) == (repo.snapshot().version, list(repo.snapshot().users))
        assert [] == repo.list_imports()


#: What the subprocess below does, through every path of the repository on SQLite.
EVERY_PATH = """
import sys, datetime
from userimport import ChangeSet, User, StalePlanError, RepositoryError
from userimport.fields import DEFAULT_SCHEMA, Field, UserSchema
from userimport.history import ImportRecord
from userimport.model import ImportSettings
from userimport.sql import SqlUserRepository

old, new = sys.argv[1:3]
schema = UserSchema((*DEFAULT_SCHEMA.fields, Field(key="title")))
for url in (f"sqlite:///{old}", f"sqlite:///{new}", "sqlite://"):
    repo = SqlUserRepository(url, schema=schema)
    snap = repo.snapshot()
    users = [User(email=f"u{i}@firma.no", groups={"G"}, attributes={"title": "T", "x": "1"})
             for i in range(3)]
    v = repo.commit(ChangeSet(create=users, create_groups={"G"}), expected_version=snap.version)
    repo.commit(ChangeSet(update=[User(email="u0@firma.no")], delete=["u1@firma.no"]),
                expected_version=v)
    try:
        repo.commit(ChangeSet(create=[User(email="z@firma.no")]), expected_version="old")
    except StalePlanError:
        pass
    try:
        repo.commit(ChangeSet(create=[User(email="u2@firma.no")]),
                    expected_version=repo.snapshot().version)
    except RepositoryError:
        pass
    repo.plan_secret()
    at = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    record = ImportRecord(id="r1", at=at, filename="f.csv", settings=ImportSettings(),
                          created=1, updated=0, deleted=0, version=v, undo="{}")
    repo.add_import(record)
    repo.mark_import_undone("r1", at)
    assert [r.id for r in repo.list_imports()] == ["r1"] and repo.get_import("r1") is not None
    repo.close()
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("sqlalchemy", "adbc_driver_sqlite"))
print(loaded)
"""


def test_every_sqlite_path_runs_without_sqlalchemy(tmp_path: Path) -> None:
    """Upgrade, new columns, snapshots, commits, errors, secret, history: no SQLAlchemy import."""
    old = tmp_path / "old.db"
    with SqlUserRepository(f"sqlite:///{old}") as repo:
        repo.snapshot()
    with contextlib.closing(sqlite3.connect(old)) as db, db:
        db.execute("UPDATE meta SET schema_version = 1")
        db.execute("DROP TABLE plan_secret")
    run = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(EVERY_PATH), str(old), str(tmp_path / "new.db")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ("", "[]") == (run.stderr, run.stdout.strip())
    with contextlib.closing(sqlite3.connect(old)) as db:
        assert [(SCHEMA_VERSION,)] == db.execute("SELECT schema_version FROM meta").fetchall()
        assert "title" in {r[1] for r in db.execute("PRAGMA table_info(users)")}


def test_a_small_store_is_read_without_adbc_a_large_one_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Below ADBC_FROM bytes a file is read by sqlite3 (no ADBC import); from it, by ADBC."""
    calls: list[int] = []
    adbc = userimport.sql._adbc
    monkeypatch.setattr(userimport.sql, "_adbc", lambda: calls.append(1) or adbc())
    url = f"sqlite:///{tmp_path / 'users.db'}"
    with SqlUserRepository(url) as repo:
        repo.commit(
            ChangeSet(create=[User(email="a@firma.no")]), expected_version=repo.snapshot().version
        )
    size = (tmp_path / "users.db").stat().st_size
    with SqlUserRepository(url) as repo:
        small = repo.snapshot()
    assert [] == calls
    monkeypatch.setattr(userimport.sql, "ADBC_FROM", size)
    with SqlUserRepository(url) as repo:
        large = repo.snapshot()
    assert [1] == calls
    assert (small.version, small.state()) == (large.version, large.state())


def test_a_file_store_reuses_its_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Transactions one after another share one connection (its page cache stays warm)."""
    opened: list[str] = []
    real = userimport._sqlio.sqlite_open

    def counted(target: str, kwargs: Any) -> sqlite3.Connection:
        opened.append(target)
        return real(target, kwargs)

    monkeypatch.setattr(userimport._sqlio, "sqlite_open", counted)
    with SqlUserRepository(f"sqlite:///{tmp_path / 'users.db'}", cache=False) as repo:
        for i in range(5):
            repo.commit(
                ChangeSet(create=[User(email=f"u{i}@firma.no")]),
                expected_version=repo.snapshot().version,
            )
        repo.close()
        assert 5 == len(repo.snapshot())
    assert 2 == len(opened)


def test_the_engine_of_an_in_memory_store_sees_its_users() -> None:
    """repository.engine, made on first use, shares an in-memory store's one connection."""
    with SqlUserRepository("sqlite://") as repo:
        repo.commit(
            ChangeSet(create=[User(email="a@firma.no")]), expected_version=repo.snapshot().version
        )
        with repo.engine.connect() as conn:
            assert [("a@firma.no",)] == conn.exec_driver_sql("SELECT email FROM users").all()
        assert ["a@firma.no"] == list(repo.snapshot().users)

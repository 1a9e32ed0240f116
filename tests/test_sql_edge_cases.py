"""A user's mistakes with the sqlite3-native store and the command line: clear errors, no harm."""

from __future__ import annotations

import contextlib
import gc
import socket
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from userimport import ChangeSet, RepositoryError, User, _sqlschema
from userimport.cli import cli
from userimport.sql import SqlUserRepository


def _free_port() -> int:
    """A local TCP port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_cli_unreachable_postgresql_is_a_clear_error_without_password() -> None:
    """A PostgreSQL --db that cannot be reached: an error message, no traceback, no password."""
    pytest.importorskip("psycopg")
    url = f"postgresql://bob:s3cretpw@127.0.0.1:{_free_port()}/nope"
    result = CliRunner().invoke(cli, ["--db", url, "users"])
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    assert 0 != result.exit_code
    assert "s3cretpw" not in result.output
    assert "cannot be reached" in result.output


def _store(path: Path) -> str:
    """A store with one user at ``path``; its URL."""
    repo = SqlUserRepository(f"sqlite:///{path}")
    repo.commit(ChangeSet(create=[User(email="a@b.no")]), expected_version=repo.snapshot().version)
    repo.close()
    return f"sqlite:///{path}"


def test_read_only_store_says_read_only(tmp_path: Path) -> None:
    """A commit to a store opened read-only says so, not that the connection was lost."""
    _store(tmp_path / "s.db")
    repo = SqlUserRepository(f"sqlite:///file:{tmp_path / 's.db'}?mode=ro&uri=true")
    snap = repo.snapshot()
    with pytest.raises(RepositoryError) as info:
        repo.commit(ChangeSet(create=[User(email="c@b.no")]), expected_version=snap.version)
    repo.close()
    assert "read-only" in str(info.value)
    assert "connection was lost" not in str(info.value)


def test_missing_folder_names_the_file(tmp_path: Path) -> None:
    """A store in a folder that does not exist: the message names the file, not a lost link."""
    path = tmp_path / "no such dir" / "users.db"
    with pytest.raises(RepositoryError) as info:
        SqlUserRepository(f"sqlite:///{path}").snapshot()
    assert str(path) in str(info.value)
    assert "connection was lost" not in str(info.value)


def test_csv_as_store_says_not_a_database(tmp_path: Path) -> None:
    """A CSV file given as the store: it is not a SQLite database, and it is left as it was."""
    path = tmp_path / "staff.csv"
    path.write_text("email,first_name\na@b.no,A\n" * 50)
    before = path.read_bytes()
    with pytest.raises(RepositoryError) as info:
        SqlUserRepository(f"sqlite:///{path}").snapshot()
    assert "not a SQLite database" in str(info.value)
    assert before == path.read_bytes()


def test_another_apps_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    """A SQLite file of another app with its own ``users`` table: refused, no table added."""
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    con.close()
    with pytest.raises(RepositoryError) as info:
        SqlUserRepository(f"sqlite:///{path}").snapshot()
    con = sqlite3.connect(path)
    tables = {n for (n,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    con.close()
    assert {"users"} == tables
    assert "not a userimport store" in str(info.value)
    assert "connection was lost" not in str(info.value)


def test_in_process_main_leaves_the_collector_as_it_found_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Running the command in a process (a failing plan) leaves the collector enabled."""
    from userimport.__main__ import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", ["userimport", "--db", "sqlite:///x.db", "plan", "no.csv"])
    assert gc.isenabled()
    try:
        assert 0 != main()
        assert gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()


def test_snapshot_reads_the_opened_file_after_chdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relative store URL names one file: after a chdir, snapshots (ADBC too) still read it."""
    import userimport.sql

    pytest.importorskip("adbc_driver_sqlite")
    monkeypatch.setattr(userimport.sql, "ADBC_FROM", 0)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    monkeypatch.chdir(tmp_path / "b")
    _store(Path("users.db"))  # a@b.no
    other = SqlUserRepository("sqlite:///users.db")
    version = other.snapshot().version
    other.commit(ChangeSet(create=[User(email="b@b.no")]), expected_version=version)
    other.close()
    monkeypatch.chdir(tmp_path / "a")
    _store(Path("users.db"))
    repo = SqlUserRepository("sqlite:///users.db", cache=False)
    monkeypatch.chdir(tmp_path / "b")
    emails = sorted(u.email for u in repo.snapshot())
    repo.close()
    assert ["a@b.no"] == emails


def test_in_memory_engine_waits_for_a_commit_of_another_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An app's query on an in-memory store's engine mid-commit neither splits nor loses it."""
    import threading

    import userimport._sqlio

    repo = SqlUserRepository("sqlite://", cache=False)
    before = repo.snapshot()
    engine = repo.engine
    sync = userimport._sqlio.sync
    counts: list[int] = []

    def query() -> None:
        with engine.connect() as conn:
            counts.append(conn.exec_driver_sql("SELECT count(*) FROM users").scalar_one())

    def sync_then_query(db: object, table: str, *args: object) -> None:
        sync(db, table, *args)  # type: ignore[arg-type]
        if table == "memberships":
            app = threading.Thread(target=query)
            app.start()
            app.join(0.3)  # it waits for the commit, which goes on
            started.append(app)

    started: list[threading.Thread] = []
    monkeypatch.setattr(userimport._sqlio, "sync", sync_then_query)
    version = repo.commit(
        ChangeSet(create=[User(email=f"u{i}@b.no") for i in range(5)]),
        expected_version=before.version,
    )
    started[0].join()
    after = repo.snapshot()
    repo.close()
    assert (version, 5, [5]) == (after.version, len(after), counts)


@pytest.mark.parametrize(
    "url",
    [
        "bob:pw1secret@host/db",  # the scheme forgotten
        "postgresql://bob:pw1/secret@host:notaport/db",  # a slash in the password, unescaped
        "postgresql://bob:pw1secret@host:notaport/db",
        "postgres ql://bob:pw1secret@host/db",
        "mysql://bob:pw1secret@h/db",
    ],
)
def test_unusable_url_never_shows_its_password(url: str) -> None:
    """A URL the store cannot use: the error hides its password, however it is malformed."""
    with pytest.raises(RepositoryError) as info:
        SqlUserRepository(url)
    assert "secret" not in str(info.value)
    assert "pw1" not in str(info.value)


@settings(max_examples=200, deadline=None)
@given(
    prefix=st.sampled_from(["postgresql://", "postgres://", "", "x ", "'"]),
    user=st.from_regex(r"[a-z]{0,6}", fullmatch=True),
    password=st.text(
        alphabet=st.characters(blacklist_characters="@'\"", blacklist_categories=("Z", "C")),
        min_size=1,
        max_size=12,
    ),
)
def test_scrub_hides_every_password(prefix: str, user: str, password: str) -> None:
    """Any password a URL (or text holding one) carries is hidden, unescaped slashes included."""
    secret = "QZ" + password
    assert secret not in _sqlschema.scrub(f"{prefix}{user}:{secret}@db.example:5432/app")


def test_reader_holding_the_store_at_commit_says_another_process_holds_the_lock(
    tmp_path: Path,
) -> None:
    """A commit whose COMMIT waits out another process's reader: the lock, and nothing written."""
    url = _store(tmp_path / "s.db")
    repo = SqlUserRepository(url, busy_timeout=0.2, cache=False)
    before = repo.snapshot()
    reader = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM users").fetchall()  # holds a shared lock
    try:
        with pytest.raises(RepositoryError) as info:
            repo.commit(ChangeSet(create=[User(email="c@b.no")]), expected_version=before.version)
    finally:
        reader.execute("ROLLBACK")
        reader.close()
    after = repo.snapshot()
    repo.close()
    assert "another process holds the lock" in str(info.value)
    assert "nothing was written" in str(info.value)
    assert (before.version, 1) == (after.version, len(after))


@pytest.mark.parametrize("flag", ["true", "false"])
def test_check_same_thread_in_the_url_does_not_break_threads(tmp_path: Path, flag: str) -> None:
    """``?check_same_thread=`` in the URL: the repository's threads still share its store."""
    import threading

    repo = SqlUserRepository(f"sqlite:///{tmp_path / 's.db'}?check_same_thread={flag}", cache=False)
    repo.commit(ChangeSet(create=[User(email="a@b.no")]), expected_version=repo.snapshot().version)
    found: list[object] = []

    def read() -> None:
        try:
            found.append(len(repo.snapshot()))
        except RepositoryError as exc:
            found.append(str(exc))

    reader = threading.Thread(target=read)
    reader.start()
    reader.join()
    repo.close()
    assert [1] == found


def test_a_forked_child_opens_its_own_sqlite_connections(tmp_path: Path) -> None:
    """After a fork, the child never uses the parent's SQLite connections (SQLite forbids it)."""
    import os

    repo = SqlUserRepository(_store(tmp_path / "s.db"), cache=False)
    repo.snapshot()
    assert repo._sqlite is not None
    parents = {id(c) for c in repo._sqlite._idle}
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report whether it took a parent's connection, and its users
        try:
            taken = repo._sqlite.one()
            shared = id(taken) in parents
            repo._sqlite.release(taken)
            os.write(write, f"{shared} {len(repo.snapshot())}".encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as answer:
        reply = answer.read()
    os.waitpid(pid, 0)
    repo.close()
    assert "False 1" == reply


def test_a_read_only_store_lists_its_imports(tmp_path: Path) -> None:
    """A store opened read-only (mode=ro) that has its import history lists it, writing nothing."""
    repo = SqlUserRepository(_store(tmp_path / "s.db"))
    repo.mark_import_undone("none", datetime.now(UTC))  # a writer makes the history table
    assert [] == repo.list_imports()
    repo.close()
    reader = SqlUserRepository(f"sqlite:///file:{tmp_path / 's.db'}?mode=ro&uri=true")
    found = (reader.list_imports(), reader.get_import("nope"), len(reader.snapshot()))
    reader.close()
    assert ([], None, 1) == found


def test_a_read_only_store_without_a_history_lists_no_imports(tmp_path: Path) -> None:
    """A read-only store that never kept a history lists none, instead of failing to make one."""
    _store(tmp_path / "s.db")
    with contextlib.closing(sqlite3.connect(tmp_path / "s.db")) as db:
        held = db.execute("SELECT name FROM sqlite_master WHERE name = 'import_history'")
        assert [] == held.fetchall()
    reader = SqlUserRepository(f"sqlite:///file:{tmp_path / 's.db'}?mode=ro&uri=true")
    found = (reader.list_imports(), reader.get_import("nope"), len(reader.snapshot()))
    reader.close()
    assert ([], None, 1) == found

"""SqlUserRepository: concurrency, schema, failures and round trips on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import gc
import sqlite3
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

import userimport._sqlio
import userimport.sql
from tests import strategies
from tests.test_repository import postgres_url, reset_postgres
from userimport import (
    ChangeSet,
    InMemoryUserRepository,
    Plan,
    RepositoryError,
    StalePlanError,
    User,
    UserRepository,
    apply_plan,
    import_file,
    plan_import,
)
from userimport.model import Snapshot
from userimport.sql import SCHEMA_VERSION, SqlUserRepository

Opener = Callable[..., SqlUserRepository]


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty store: a fresh SQLite file, or an emptied PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'users.db'}"
    pg = postgres_url()
    reset_postgres(pg)
    return pg


@pytest.fixture
def open_repo() -> Iterator[Opener]:
    """Open repositories that are closed at the end of the test."""
    repos: list[SqlUserRepository] = []

    def make(url: str, **kwargs: Any) -> SqlUserRepository:
        # Uncached unless asked: what these tests read back must come from the database.
        repo = SqlUserRepository(url, **{"cache": False, **kwargs})
        repos.append(repo)
        return repo

    yield make
    for repo in repos:
        repo.close()


class Hooked(sqlite3.Connection):
    """A sqlite3 connection that calls ``faults.before(sql)`` before each statement it runs."""

    faults: Faults

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        self.faults.before(sql)
        return super().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:
        self.faults.before(sql)
        return super().executemany(sql, parameters)

    def commit(self) -> None:
        self.faults.commit(super().commit)


class Faults:
    """What the SQLite connections a test opens do before each statement and at COMMIT."""

    def __init__(self) -> None:
        self.before: Callable[[str], None] = lambda sql: None
        self.commit: Callable[[Callable[[], None]], None] = lambda real: real()
        self.opened: Callable[[sqlite3.Connection], None] = lambda raw: None


@pytest.fixture
def faults(monkeypatch: pytest.MonkeyPatch) -> Faults:
    """Every SQLite connection a repository opens from here on runs through Faults' hooks."""
    hooks = Faults()
    real = userimport._sqlio.sqlite_open

    def hooked(target: str, kwargs: Any) -> sqlite3.Connection:
        raw = real(target, {**kwargs, "factory": Hooked})
        assert isinstance(raw, Hooked)
        raw.faults = hooks
        hooks.opened(raw)
        return raw

    monkeypatch.setattr(userimport._sqlio, "sqlite_open", hooked)
    return hooks


@pytest.fixture
def adbc_always(monkeypatch: pytest.MonkeyPatch) -> None:
    """Snapshots of a SQLite file of any size are read through ADBC."""
    monkeypatch.setattr(userimport.sql, "ADBC_FROM", 0)


def commit(repo: UserRepository, changes: ChangeSet) -> str:
    """Commit against the current version."""
    return repo.commit(changes, expected_version=repo.snapshot().version)


def everything(snapshot_repo: UserRepository) -> tuple[str, Any]:
    """The version and the whole content of a store, for before/after comparisons."""
    snap = snapshot_repo.snapshot()
    return snap.version, snap.state()


SEED = ChangeSet(
    create=[
        User(email="anna@firma.no", first_name="Anna", department="Sales", groups={"Oslo"}),
        User(email="ole@firma.no", groups={"Oslo", "Tech"}, attributes={"title": "Dev"}),
        User(email="kari@firma.no", department="HR", is_admin=True),
    ],
    create_groups={"Oslo", "Tech", "Old"},
    create_departments={"Sales", "HR", "Gone"},
)

#: A change set that touches every table and every part of ChangeSet.
MIXED = ChangeSet(
    create=[User(email="new@firma.no", department="New", groups={"Fresh"}, attributes={"a": "1"})],
    update=[User(email="ANNA@firma.no", first_name="Anne", groups={"Tech"}, attributes={"b": "2"})],
    delete=["ole@firma.no"],
    create_groups={"Fresh"},
    create_departments={"New"},
    delete_groups={"Old"},
    delete_departments={"Gone"},
)


def test_two_repositories_one_version_one_winner(url: str, open_repo: Opener) -> None:
    """Two repositories on one database committing from the same version: exactly one wins."""
    first, second = open_repo(url), open_repo(url)
    version = first.snapshot().version
    assert version == second.snapshot().version
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def worker(repo: SqlUserRepository, email: str) -> None:
        barrier.wait()
        try:
            repo.commit(ChangeSet(create=[User(email=email)]), expected_version=version)
            outcomes.append("won")
        except StalePlanError:
            outcomes.append("stale")

    threads = [
        threading.Thread(target=worker, args=(first, "a@firma.no")),
        threading.Thread(target=worker, args=(second, "b@firma.no")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ["stale", "won"] == sorted(outcomes)
    assert 1 == len(first.snapshot())
    assert first.snapshot().version == second.snapshot().version != version


def test_stale_error_names_both_versions(url: str, open_repo: Opener) -> None:
    """StalePlanError carries the plan's version and the store's."""
    repo = open_repo(url)
    old = repo.snapshot().version
    new = commit(repo, ChangeSet(create_groups={"G"}))
    with pytest.raises(StalePlanError) as info:
        repo.commit(ChangeSet(create_groups={"H"}), expected_version=old)
    assert (old, new) == (info.value.expected, info.value.actual)


def test_schema_is_created_on_first_use(tmp_path: Path, open_repo: Opener) -> None:
    """A missing SQLite file gets every table and the meta row on the first snapshot."""
    path = tmp_path / "fresh.db"
    repo = open_repo(f"sqlite:///{path}")
    assert not path.exists()
    version = repo.snapshot().version
    with sqlite3.connect(path) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        meta = db.execute("SELECT version, schema_version FROM meta").fetchall()
    db.close()
    expected = {"users", "groups", "departments", "memberships", "attributes", "meta"}
    assert expected | {"plan_secret"} == tables
    assert [(version, SCHEMA_VERSION)] == meta


def test_a_new_store_is_made_in_one_transaction_with_its_secret(
    tmp_path: Path, open_repo: Opener
) -> None:
    """The first use of a new store writes the tables, meta row and plan secret together."""
    path = tmp_path / "new.db"
    repo = open_repo(f"sqlite:///{path}")
    repo.snapshot()
    with contextlib.closing(sqlite3.connect(path)) as db:
        secrets = db.execute("SELECT id, length(secret) FROM plan_secret").fetchall()
    assert [(1, 64)] == secrets
    with contextlib.closing(sqlite3.connect(path)) as db:
        kept = db.execute("SELECT secret FROM plan_secret").fetchone()[0]
    assert bytes.fromhex(kept) == repo.plan_secret()


@pytest.mark.usefixtures("adbc_always")
def test_a_store_made_here_is_read_without_adbc_until_written(
    tmp_path: Path, open_repo: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Snapshots of a store this repository made skip ADBC's import until its first commit."""
    calls: list[int] = []
    adbc = userimport.sql._adbc
    monkeypatch.setattr(userimport.sql, "_adbc", lambda: calls.append(1) or adbc())
    repo = open_repo(f"sqlite:///{tmp_path / 'new.db'}")
    first = repo.snapshot()
    second = repo.snapshot()
    assert ([], first.version) == (calls, second.version)
    commit(repo, ChangeSet(create=(User(email="a@example.com", first_name="A"),)))
    assert ["a@example.com"] == [u.email for u in repo.snapshot().users.values()]
    assert [1] == calls
    assert ["a@example.com"] == [u.email for u in open_repo(repo.url).snapshot().users.values()]


def test_the_plan_secret_is_kept_by_the_store(url: str, open_repo: Opener) -> None:
    """The store makes 32 random bytes once; every repository on it signs plans with them."""
    first = open_repo(url).plan_secret()
    assert 32 == len(first)
    assert first == open_repo(url).plan_secret()
    plan = Plan.from_entries([], base_version=open_repo(url).snapshot().version)
    signed = Plan.from_json(plan.to_json(secret=first))
    userimport.apply_plan(signed, open_repo(url))


def test_a_store_of_the_previous_release_gains_the_secret(url: str, open_repo: Opener) -> None:
    """A store made without the plan_secret table gets it on first use, its users untouched."""
    commit(open_repo(url), SEED)
    engine = sa.create_engine(userimport.sql._parse_url(url).to_sqlalchemy())
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE plan_secret")
    engine.dispose()
    repo = open_repo(url)
    before = everything(repo)
    racers = [open_repo(url) for _ in range(4)]
    secrets: list[bytes] = []
    threads = [threading.Thread(target=lambda r=r: secrets.append(r.plan_secret())) for r in racers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 4 == len(secrets)
    assert 1 == len(set(secrets))
    assert 32 == len(secrets[0])
    assert before == everything(repo)


def test_reopening_keeps_the_data(url: str, open_repo: Opener) -> None:
    """A second repository on the same database sees the first one's commits."""
    repo = open_repo(url)
    commit(repo, SEED)
    assert everything(repo) == everything(open_repo(url))


def test_newer_schema_is_refused(url: str, open_repo: Opener) -> None:
    """A store whose schema version is newer than the library raises RepositoryError."""
    repo = open_repo(url)
    commit(repo, SEED)
    with repo.engine.begin() as conn:
        conn.execute(sa.text("UPDATE meta SET schema_version = :v"), {"v": SCHEMA_VERSION + 1})
    for fresh in (repo, open_repo(url)):
        with pytest.raises(RepositoryError, match="upgrade userimport"):
            fresh.snapshot()
        with pytest.raises(RepositoryError, match="upgrade userimport"):
            fresh.commit(ChangeSet(create_groups={"X"}), expected_version="whatever")


@pytest.mark.parametrize(
    "bad",
    ["not a url", "mysql://u:s3cret@localhost/db", "oracle+cx://u:s3cret@h/db", "sqlite+nope:///x"],
)
def test_bad_urls_are_refused(bad: str) -> None:
    """An unparsable URL or an unsupported database raises RepositoryError, hiding passwords."""
    with pytest.raises(RepositoryError) as info:
        SqlUserRepository(bad)
    assert "s3cret" not in str(info.value)


def test_unreachable_server_hides_the_password(open_repo: Opener) -> None:
    """A PostgreSQL server that cannot be reached raises RepositoryError without the password."""
    repo = open_repo("postgresql://user:s3cret@127.0.0.1:1/nowhere")
    assert "s3cret" not in repr(repo)
    with pytest.raises(RepositoryError, match="cannot be reached") as info:
        repo.snapshot()
    assert "s3cret" not in str(info.value)
    assert "user:***@127.0.0.1:1" in str(info.value)


def test_missing_directory_is_a_repository_error(tmp_path: Path, open_repo: Opener) -> None:
    """A SQLite file in a folder that does not exist raises RepositoryError."""
    repo = open_repo(f"sqlite:///{tmp_path / 'no' / 'such' / 'users.db'}")
    with pytest.raises(RepositoryError):
        repo.snapshot()


def test_locked_sqlite_file_fails_fast(tmp_path: Path, open_repo: Opener) -> None:
    """Another process holding the SQLite lock gives a quick RepositoryError and writes nothing."""
    path = tmp_path / "users.db"
    repo = open_repo(f"sqlite:///{path}", busy_timeout=0.2)
    commit(repo, SEED)
    before = everything(repo)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        started = time.monotonic()
        with pytest.raises(RepositoryError, match="another process holds the lock"):
            commit(open_repo(f"sqlite:///{path}", busy_timeout=0.2), MIXED)
        with pytest.raises(RepositoryError, match="another process holds the lock"):
            repo.commit(MIXED, expected_version=before[0])
        assert time.monotonic() - started < 3
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert before == everything(repo)


def test_sqlite_writers_take_the_lock_first_readers_do_not(
    tmp_path: Path, open_repo: Opener, faults: Faults
) -> None:
    """A commit begins IMMEDIATE (waits for the lock before reading), a snapshot DEFERRED."""
    path = tmp_path / "users.db"
    repo = open_repo(f"sqlite:///{path}", busy_timeout=0.2)
    commit(repo, SEED)
    statements: list[str] = []
    faults.before = statements.append
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another writer holds the write lock
        assert 3 == len(repo.snapshot())  # readers still read
        assert statements[0] == "BEGIN DEFERRED"
        statements.clear()
        with pytest.raises(RepositoryError, match="another process holds the lock"):
            repo.commit(MIXED, expected_version=repo.snapshot().version)
        assert ["BEGIN IMMEDIATE"] == [s for s in statements if s.startswith("BEGIN IMM")]
        assert "BEGIN IMMEDIATE" == statements[-1]  # it waited there, before reading anything
    finally:
        other.execute("ROLLBACK")
        other.close()


def commit_failing_at(repo: SqlUserRepository, faults: Faults, n: int, version: str) -> str | None:
    """Commit MIXED with a driver error injected at the nth statement; return the error text."""
    seen = 0

    def fail_at_n(*args: Any) -> None:
        nonlocal seen
        seen += 1
        if seen == n:
            raise failing(f"injected failure at statement {n}")

    if repo.dialect == "sqlite":
        failing: type[Exception] = sqlite3.OperationalError
        faults.before = fail_at_n
    else:
        failing = repo.engine.dialect.loaded_dbapi.OperationalError
        sa.event.listen(repo.engine, "before_cursor_execute", fail_at_n)
    try:
        repo.commit(MIXED, expected_version=version)
    except RepositoryError as exc:
        return str(exc)
    finally:
        faults.before = lambda sql: None
        if repo.dialect != "sqlite":
            sa.event.remove(repo.engine, "before_cursor_execute", fail_at_n)
    return None


def test_failure_at_any_statement_changes_nothing(
    url: str, open_repo: Opener, faults: Faults
) -> None:
    """A driver error at the Nth statement of a commit, for every N, leaves the store as it was."""
    repo = open_repo(url)
    commit(repo, SEED)
    before = everything(repo)
    n = 1
    while (error := commit_failing_at(repo, faults, n, before[0])) is not None:
        assert f"injected failure at statement {n}" in error
        assert before == everything(repo)
        n += 1
    assert n > 10
    assert before[1] != everything(repo)[1]


def test_lost_connection_mid_commit(open_repo: Opener) -> None:
    """A PostgreSQL connection killed in the middle of a commit gives RepositoryError, no writes."""
    url = postgres_url()
    reset_postgres(url)
    repo, killer = open_repo(url), open_repo(url)
    commit(repo, SEED)
    before = everything(repo)
    calls = 0

    def kill_own_backend(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 4:
            pid = conn.connection.dbapi_connection.info.backend_pid
            with killer.engine.begin() as k:
                k.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    sa.event.listen(repo.engine, "before_cursor_execute", kill_own_backend)
    try:
        with pytest.raises(RepositoryError, match="connection was lost"):
            repo.commit(MIXED, expected_version=before[0])
    finally:
        sa.event.remove(repo.engine, "before_cursor_execute", kill_own_backend)
    assert before == everything(repo)


HOSTILE = [
    "Robert'); DROP TABLE users;--",
    '"; DELETE FROM meta; --',
    "%s %(name)s :name ? $1 {0}",
    "back\\slash \\' \\\\",
    "tab\there\r\nnew line",
    "😀 emoji, 表, ع, Ærø",
    "e\u0301 combining and \u200b zero width",
    "x" * 5000,
]


def test_hostile_strings_round_trip(url: str, open_repo: Opener) -> None:
    """Quoting, placeholders, escapes, control characters and long text are stored exactly."""
    users = [
        User(
            email=f"u{i}+'\"@firma.no",
            first_name=text,
            last_name=text[::-1],
            department=f"D {text[:50]}",
            groups={f"G {text[:40]}", "plain"},
            attributes={text[:30] or "k": text, "same": text},
        )
        for i, text in enumerate(HOSTILE)
    ]
    repo = open_repo(url)
    commit(
        repo,
        ChangeSet(
            create=users,
            create_groups=set().union(*(u.groups for u in users)),
            create_departments={u.department for u in users if u.department},
        ),
    )
    snap = open_repo(url).snapshot()
    assert sorted(u.to_dict()["email"] for u in users) == sorted(u.email for u in snap)
    assert {u.key: u.to_dict() for u in users} == {k: u.to_dict() for k, u in snap.users.items()}


def test_ten_thousand_users_round_trip(url: str, open_repo: Opener) -> None:
    """A 10,000-user commit comes back exactly from a snapshot."""
    users = [
        User(
            email=f"User.{i}@Firma.no",
            first_name=f"First {i}",
            last_name=f"Last {i}",
            department=f"Dept {i % 17}" if i % 5 else None,
            groups={f"G{i % 7}", f"G{i % 11}"} if i % 3 else set(),
            is_admin=i % 97 == 0,
            attributes={"n": str(i), "parity": "odd" if i % 2 else "even"} if i % 4 else {},
        )
        for i in range(10_000)
    ]
    repo = open_repo(url)
    commit(
        repo,
        ChangeSet(
            create=users,
            create_groups=set().union(*(u.groups for u in users)),
            create_departments={u.department for u in users if u.department},
        ),
    )
    snap = open_repo(url).snapshot()
    assert {u.key: u.to_dict() for u in users} == {k: u.to_dict() for k, u in snap.users.items()}


def test_commits_touching_more_users_than_a_statement_takes_parameters(
    tmp_path: Path, faults: Faults
) -> None:
    """Looking up a large change set's users is split into statements SQLite accepts."""
    faults.opened = lambda raw: raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 7)
    longest = 0

    def count(sql: str) -> None:
        nonlocal longest
        longest = max(longest, sql.count("?"))

    faults.before = count
    repo = SqlUserRepository(f"sqlite:///{tmp_path / 'users.db'}", cache=False)
    try:
        users = [User(email=f"u{i}@firma.no", groups={f"G{i % 3}"}) for i in range(50)]
        commit(repo, ChangeSet(create=users, create_groups={"G0", "G1", "G2"}))
        moved = [User(email=u.email, groups={"G0", f"G{i % 2 + 1}"}) for i, u in enumerate(users)]
        commit(repo, ChangeSet(update=moved))
        with pytest.raises(RepositoryError, match=r"u49@firma\.no"):
            commit(repo, ChangeSet(create=[User(email="new@firma.no"), users[-1]]))
        stored = {k: u.to_dict() for k, u in repo.snapshot().users.items()}
        assert {u.key: u.to_dict() for u in moved} == stored
        assert 7 == longest
    finally:
        repo.close()


CSV = (
    b"First Name,Last Name,Email,Department,Usergroups\n"
    b'Anna,Berg,anna@firma.no,Sales,"Oslo, Bergen"\n'
    b"Ole,Hansen,ole@firma.no,HR,\n"
    b"Kari,Dahl,kari@firma.no,HR,Oslo\n"
)


def test_import_file_then_plan_again_is_empty(url: str, open_repo: Opener) -> None:
    """import_file applies through SQL, and planning the same file again changes nothing."""
    repo = open_repo(url)
    import_file(CSV, repo, dry_run=False)
    assert {"anna@firma.no", "ole@firma.no", "kari@firma.no"} == set(repo.snapshot().users)
    again = import_file(CSV, open_repo(url))
    assert isinstance(again, Plan)
    assert again.is_empty


def test_close_then_reuse(tmp_path: Path) -> None:
    """A closed repository reconnects when used again, and works as a context manager."""
    with SqlUserRepository(f"sqlite:///{tmp_path / 'u.db'}") as repo:
        commit(repo, SEED)
    assert 3 == len(repo.snapshot())
    repo.close()


def test_in_memory_sqlite_is_shared_between_threads() -> None:
    """sqlite:// (in memory) is one store for every thread of the repository."""
    with SqlUserRepository("sqlite://") as repo:
        commit(repo, SEED)
        sizes: list[int] = []
        thread = threading.Thread(target=lambda: sizes.append(len(repo.snapshot())))
        thread.start()
        thread.join()
        assert [3] == sizes


def test_locked_postgres_row_fails_fast(open_repo: Opener) -> None:
    """Another session holding the PostgreSQL meta row gives a quick RepositoryError, no writes."""
    url = postgres_url()
    reset_postgres(url)
    repo, other = open_repo(url, busy_timeout=0.2), open_repo(url)
    commit(repo, SEED)
    before = everything(repo)
    with other.engine.connect() as holder, holder.begin():
        holder.execute(sa.text("SELECT version FROM meta FOR UPDATE"))
        started = time.monotonic()
        with pytest.raises(RepositoryError, match="another process holds the lock"):
            repo.commit(MIXED, expected_version=before[0])
        assert time.monotonic() - started < 3
    assert before == everything(repo)


any_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=30,
).filter(lambda t: t.strip() != "")


any_users = st.lists(
    st.builds(
        lambda local, first, last, dept, groups, attrs, admin: User(
            email=f"{local}@firma.no",
            first_name=first,
            last_name=last,
            department=dept,
            groups=groups,
            attributes=attrs,
            is_admin=admin,
        ),
        st.from_regex(r"[a-z0-9'+%._-]{1,12}", fullmatch=True),
        any_text,
        any_text,
        any_text,
        st.frozensets(any_text, max_size=3),
        st.dictionaries(any_text, any_text, max_size=2),
        st.booleans(),
    ),
    max_size=5,
    unique_by=lambda u: u.key,
)


@given(any_users)
def test_any_text_in_every_field_round_trips(users: list[User]) -> None:
    """Hypothesis: any text in every field goes in as bound parameters and comes back exact."""
    import tempfile

    with (
        tempfile.TemporaryDirectory() as folder,
        SqlUserRepository(f"sqlite:///{folder}/users.db", cache=False) as repo,
    ):
        seeded = Snapshot.from_users(users, version="")
        repo.commit(
                ChangeSet(create=users, create_groups=seeded.groups,
                          create_departments=seeded.departments),
                expected_version=repo.snapshot().version,
            )  # fmt: skip
        assert seeded.state() == repo.snapshot().state()


@settings(max_examples=20)
@given(any_users, st.randoms(use_true_random=False))
def test_any_text_round_trips_through_copy_on_postgresql(users: list[User], rnd: Any) -> None:
    """Hypothesis: any text is created (COPY) and updated (unnest) on PostgreSQL exactly."""
    url = postgres_url()
    reset_postgres(url)
    with SqlUserRepository(url, cache=False) as repo:
        seeded = Snapshot.from_users(users, version="")
        repo.commit(
            ChangeSet(
                create=users, create_groups=seeded.groups, create_departments=seeded.departments
            ),
            expected_version=repo.snapshot().version,
        )
        assert seeded.state() == repo.snapshot().state()
        # Every user's text moved to another field, groups and attributes shuffled between them.
        changed = [
            User(
                email=u.email,
                first_name=u.last_name,
                last_name=u.department or "",
                department=users[(i + 1) % len(users)].department,
                groups=users[rnd.randrange(len(users))].groups,
                attributes=users[rnd.randrange(len(users))].attributes,
                is_admin=not u.is_admin,
            )
            for i, u in enumerate(users)
        ]
        repo.commit(ChangeSet(update=changed), expected_version=repo.snapshot().version)
        expected = Snapshot.from_users(
            changed, version="", groups=seeded.groups, departments=seeded.departments
        )
        assert expected.state() == repo.snapshot().state()


def test_large_commits_stage_their_rows_through_copy(url: str, open_repo: Opener) -> None:
    """Updates, deletes and lookups of more rows than _STAGE_FROM end as in the in-memory store."""
    n = userimport._sqlio.STAGE_FROM + 200
    users = [
        User(email=f"u{i}@firma.no", department="D", groups={"A", "B"}, attributes={"n": str(i)})
        for i in range(n)
    ]
    seed = ChangeSet(create=users, create_groups={"A", "B", "C"}, create_departments={"D"})
    changes = ChangeSet(
        update=[
            User(email=f"U{i}@firma.no", first_name="\\N\t", groups={"B", "C"}, is_admin=True)
            for i in range(0, n, 2)
        ],
        delete=[f"u{i}@firma.no" for i in range(1, n, 4)],
    )
    repo = open_repo(url)
    reference = InMemoryUserRepository()
    for store in (repo, reference):
        commit(store, seed)
        commit(store, changes)
    assert reference.snapshot().state() == open_repo(url).snapshot().state()


def test_postgres_commits_send_no_statement_per_row(open_repo: Opener) -> None:
    """On PostgreSQL a commit COPYs new rows and sends one statement per table, none per row."""
    url = postgres_url()
    reset_postgres(url)
    repo = open_repo(url)
    commit(repo, SEED)
    statements: list[tuple[str, bool]] = []

    def seen(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        statements.append((statement.split()[0] + " " + statement.split()[1], many))

    sa.event.listen(repo.engine, "before_cursor_execute", seen)
    try:
        commit(repo, MIXED)
    finally:
        sa.event.remove(repo.engine, "before_cursor_execute", seen)
    assert [] == [s for s, many in statements if many]
    copies = sorted(s.split()[1].strip('"') for s, _ in statements if s.startswith("COPY"))
    assert ["attributes", "departments", "groups", "memberships", "users"] == copies
    assert {"DELETE", "UPDATE"} <= {s.split()[0] for s, _ in statements}
    reference = InMemoryUserRepository()
    commit(reference, SEED)
    commit(reference, MIXED)
    assert reference.snapshot().state() == repo.snapshot().state()


def test_cached_snapshot_follows_commits(
    url: str, open_repo: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a commit, the next snapshot is made without reading the users, and is exact."""
    repo = open_repo(url, cache=True)
    commit(repo, SEED)
    version = commit(repo, MIXED)
    reads: list[str] = []
    read = userimport.sql._snapshot_of  # every way of reading the tables ends here

    def counted(version: str, columns: Any) -> Snapshot:
        reads.append(version)
        return read(version, columns)

    monkeypatch.setattr(userimport.sql, "_snapshot_of", counted)
    snap = repo.snapshot()
    assert snap is repo.snapshot()
    assert [] == reads
    fresh = open_repo(url).snapshot()
    assert [version] == reads
    assert (version, fresh.state()) == (snap.version, snap.state())


def test_cached_snapshot_sees_other_writers(url: str, open_repo: Opener) -> None:
    """A commit by another repository (another process) changes the version: read again."""
    repo, other = open_repo(url, cache=True), open_repo(url)
    commit(repo, SEED)
    before = repo.snapshot()
    commit(other, ChangeSet(delete=["kari@firma.no"]))
    after = repo.snapshot()
    assert "kari@firma.no" in before
    assert "kari@firma.no" not in after
    assert open_repo(url).snapshot().state() == after.state()


def test_failed_commit_leaves_the_cache_right(url: str, open_repo: Opener, faults: Faults) -> None:
    """A commit that fails (stale, inconsistent, or in the database) keeps the cache exact."""
    repo = open_repo(url, cache=True)
    commit(repo, SEED)
    snap = repo.snapshot()
    with pytest.raises(RepositoryError):
        commit(repo, ChangeSet(create=[User(email="anna@firma.no")]))
    with pytest.raises(StalePlanError):
        repo.commit(MIXED, expected_version="old")
    assert commit_failing_at(repo, faults, 3, snap.version) is not None
    assert repo.snapshot().state() == open_repo(url).snapshot().state() == snap.state()


def test_cache_can_be_turned_off(tmp_path: Path, open_repo: Opener) -> None:
    """cache=False reads the tables every time: a write behind userimport's back is seen."""
    url = f"sqlite:///{tmp_path / 'users.db'}"
    cached, uncached = open_repo(url, cache=True), open_repo(url, cache=False)
    commit(cached, SEED)
    assert 3 == len(cached.snapshot()) == len(uncached.snapshot())
    with cached.engine.begin() as conn:  # not through commit: the version stays
        conn.exec_driver_sql("DELETE FROM memberships WHERE user_key = 'kari@firma.no'")
        conn.exec_driver_sql("DELETE FROM users WHERE key = 'kari@firma.no'")
    assert (3, 2) == (len(cached.snapshot()), len(uncached.snapshot()))


@settings(max_examples=30, deadline=None)
@given(st.lists(strategies.stores(), min_size=1, max_size=4))
def test_cached_snapshots_equal_the_database_after_any_commits(states: list[list[User]]) -> None:
    """Hypothesis: moving a store through any states, each cached snapshot is what is stored."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/users.db"
        with SqlUserRepository(url) as repo, SqlUserRepository(url, cache=False) as plain:
            for users in states:
                current = repo.snapshot()
                wanted = {u.key: u for u in users}
                target = Snapshot.from_users(users, version="")
                changes = ChangeSet(
                    create=[u for k, u in wanted.items() if k not in current.users],
                    update=[u for k, u in wanted.items() if k in current.users],
                    delete=[u.email for k, u in current.users.items() if k not in wanted],
                    create_groups=target.groups - current.groups,
                    create_departments=target.departments - current.departments,
                )
                repo.commit(changes, expected_version=current.version)
                cached = repo.snapshot()
                assert plain.snapshot().state() == cached.state()
                assert target.state()[0] == cached.state()[0]  # the users; empty groups stay


@pytest.mark.usefixtures("adbc_always")
def test_a_sqlite_file_is_read_through_adbc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the sqlite-fast extra, snapshots of a SQLite file come from ADBC as Arrow columns."""
    import pyarrow as pa

    url = f"sqlite:///{tmp_path / 'users.db'}"
    with SqlUserRepository(url, cache=False) as repo:
        commit(repo, SEED)
        commit(repo, MIXED)
        kinds: list[type] = []
        read = userimport.sql._snapshot_of

        def recorded(version: str, columns: Any) -> Snapshot:
            kinds.append(type(columns["users"][0]))
            return read(version, columns)

        monkeypatch.setattr(userimport.sql, "_snapshot_of", recorded)
        arrow = repo.snapshot()
        monkeypatch.setattr(userimport.sql, "_adbc", lambda: None)
        plain = repo.snapshot()
    assert [pa.ChunkedArray, tuple] == kinds
    assert (arrow.version, arrow.state()) == (plain.version, plain.state())
    assert arrow.frame.sort_index().equals(plain.frame.sort_index())


@pytest.mark.usefixtures("adbc_always")
def test_adbc_failing_falls_back_to_sqlite3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever stops ADBC (a driver error, a value of an unexpected type), sqlite3 reads."""

    class Broken:
        @staticmethod
        def connect(*args: Any, **kwargs: Any) -> Any:
            raise OSError("[SQLite] Type mismatch in column 5")

    with SqlUserRepository(f"sqlite:///{tmp_path / 'users.db'}", cache=False) as repo:
        commit(repo, SEED)
        expected = repo.snapshot().state()
        monkeypatch.setattr(userimport.sql, "_adbc", lambda: Broken)
        assert expected == repo.snapshot().state()


@pytest.mark.usefixtures("adbc_always")
def test_adbc_reads_again_when_the_version_moved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the version read after the tables is not the one read before, they are read again."""
    with SqlUserRepository(f"sqlite:///{tmp_path / 'users.db'}", cache=False) as repo:
        commit(repo, SEED)
        expected = repo.snapshot()
        reads: list[str] = []
        read, check = userimport.sql._snapshot_of, SqlUserRepository._checked_meta
        calls = iter(range(100))

        def counted(version: str, columns: Any) -> Snapshot:
            reads.append(version)
            return read(version, columns)

        def moved_once(self: SqlUserRepository, row: Any) -> str:
            version = check(self, row)
            return "moved" if next(calls) == 1 else version  # the second meta read

        monkeypatch.setattr(userimport.sql, "_snapshot_of", counted)
        monkeypatch.setattr(SqlUserRepository, "_checked_meta", moved_once)
        again = repo.snapshot()
    assert [expected.version] * 2 == reads
    assert (expected.version, expected.state()) == (again.version, again.state())


@pytest.mark.usefixtures("adbc_always")
@pytest.mark.parametrize("adbc", [True, False], ids=["adbc", "sqlite3"])
def test_a_membership_of_no_user_is_ignored(
    adbc: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store written with foreign keys off may hold memberships of no user: left out."""
    if not adbc:
        monkeypatch.setattr(userimport.sql, "_adbc", lambda: None)
    url = f"sqlite:///{tmp_path / 'users.db'}"
    with SqlUserRepository(url, cache=False) as repo:
        commit(repo, SEED)
        expected = repo.snapshot().state()
        raw = sqlite3.connect(tmp_path / "users.db")  # foreign keys are off by default
        with contextlib.closing(raw), raw:
            raw.execute("INSERT INTO memberships VALUES ('ghost@firma.no', 'Oslo')")
        assert expected == repo.snapshot().state()


# -- a lost reply to COMMIT ---------------------------------------------------------------------


#: The protocol message of a simple query ``COMMIT`` (not ``READ COMMITTED``).
_COMMIT = b"Q\x00\x00\x00\x0bCOMMIT\x00"


class Proxy:
    """
    A TCP proxy to the test PostgreSQL server that can cut the connection at ``COMMIT``.

    Armed with ``"reply"``, it passes the next ``COMMIT`` on, lets the server commit, then
    cuts the connection instead of passing the reply back. Armed with ``"commit"``, it cuts
    the connection instead of passing ``COMMIT`` on, so the server rolls back. ``refuse``
    makes it turn new connections away, as a server that cannot be reached.
    """

    def __init__(self, host: str, port: int) -> None:
        import socket

        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.armed: str | None = None
        #: How many COMMITs to let through before the armed one.
        self.spare = 0
        self.refuse = False
        self.cuts = 0
        self.after_cut: Callable[[], None] = lambda: None
        self.sockets: list[Any] = [self.listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket

        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.refuse:
                client.close()
                continue
            server = socket.create_connection(self.target)
            self.sockets += [client, server]
            swallow = threading.Event()
            for src, dst, up in ((client, server, True), (server, client, False)):
                threading.Thread(
                    target=self._pump, args=(src, dst, up, client, server, swallow), daemon=True
                ).start()

    def _pump(self, src: Any, dst: Any, up: bool, *pair_and_flag: Any) -> None:
        client, server, swallow = pair_and_flag
        try:
            while data := src.recv(65536):
                if up and self.armed and _COMMIT in data and self.spare:
                    self.spare -= 1
                elif up and self.armed and _COMMIT in data:
                    armed, self.armed = self.armed, None
                    if armed == "commit":
                        self._cut(client, server)
                        return
                    swallow.set()
                elif not up and swallow.is_set():
                    self.after_cut()
                    self._cut(client, server)
                    return
                dst.sendall(data)
        except OSError:
            pass

    def _cut(self, *sockets: Any) -> None:
        import socket

        self.cuts += 1
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.close()


#: A connection the proxy cuts may be dropped by the driver unclosed, on purpose: its
#: ResourceWarning is expected in these tests, not a leak of the library's.
CUT_CONNECTIONS = pytest.mark.filterwarnings("ignore::ResourceWarning")


@pytest.fixture
def proxied(open_repo: Opener) -> Iterator[tuple[Proxy, SqlUserRepository, SqlUserRepository]]:
    """A proxy, a repository through it and one straight to the server, on a seeded store."""
    url = postgres_url()
    reset_postgres(url)
    parsed = sa.make_url(url)
    proxy = Proxy(parsed.host or "127.0.0.1", parsed.port or 5432)
    through = parsed.set(host="127.0.0.1", port=proxy.port, query={"sslmode": "disable"})
    direct = open_repo(url)
    commit(direct, SEED)
    repo = open_repo(through.render_as_string(hide_password=False))
    repo.snapshot()  # the schema is checked; the next COMMIT through the proxy is the commit's
    try:
        yield proxy, repo, direct
    finally:
        proxy.close()
        # A connection the proxy cut may be dropped by the driver without being closed; collect
        # it here, on purpose, so its ResourceWarning cannot surface in whichever test runs next.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()


@CUT_CONNECTIONS
def test_lost_reply_of_a_commit_that_landed_returns_the_result(
    proxied: tuple[Proxy, SqlUserRepository, SqlUserRepository],
) -> None:
    """PostgreSQL commits but the reply is lost: reconnecting finds the new version; no error."""
    proxy, repo, direct = proxied
    from userimport import apply_plan

    plan = import_file(
        b"First Name,Last Name,Email,Department\nNy,Person,ny@firma.no,Sales\n", repo
    )
    proxy.armed = "reply"
    proxy.spare = 1  # apply_plan's snapshot read (checking the plan) ends with a COMMIT too
    result = apply_plan(plan, repo)
    assert 1 == proxy.cuts
    assert (result.version, 1) == (direct.snapshot().version, result.created)
    assert "ny@firma.no" in direct.snapshot()
    apply_plan(result.undo, repo)
    assert "ny@firma.no" not in direct.snapshot()


@CUT_CONNECTIONS
def test_lost_commit_says_nothing_was_written_after_checking(
    proxied: tuple[Proxy, SqlUserRepository, SqlUserRepository],
) -> None:
    """The connection drops before COMMIT reaches the server: the error says nothing changed."""
    proxy, repo, direct = proxied
    before = everything(direct)
    proxy.armed = "commit"
    with pytest.raises(RepositoryError, match=r"still at version .*nothing was written") as info:
        repo.commit(MIXED, expected_version=before[0])
    assert not isinstance(info.value, userimport.errors.CommitOutcomeUnknown)
    assert 1 == proxy.cuts
    assert before == everything(direct)
    assert before == everything(repo)


@CUT_CONNECTIONS
def test_lost_reply_and_no_server_is_an_unknown_outcome(
    proxied: tuple[Proxy, SqlUserRepository, SqlUserRepository], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reply lost, server unreachable: CommitOutcomeUnknown, whose version tells the outcome."""
    proxy, repo, direct = proxied
    monkeypatch.setattr(userimport.sql, "_SETTLE_DELAYS", (0.0, 0.1))
    before = everything(direct)

    def unreachable() -> None:
        proxy.refuse = True

    proxy.after_cut = unreachable
    proxy.armed = "reply"
    with pytest.raises(userimport.errors.CommitOutcomeUnknown) as info:
        repo.commit(MIXED, expected_version=before[0])
    message = str(info.value)
    assert "not known whether these changes were written" in message
    assert info.value.version in message
    assert (before[0], info.value.version) == (info.value.expected, direct.snapshot().version)
    proxy.refuse = False
    assert info.value.version == repo.snapshot().version


@CUT_CONNECTIONS
def test_lost_reply_then_another_writer_is_an_unknown_outcome(
    proxied: tuple[Proxy, SqlUserRepository, SqlUserRepository],
) -> None:
    """Reply lost and another writer commits before the store is asked: CommitOutcomeUnknown."""
    proxy, repo, direct = proxied
    before = everything(direct)
    other = ChangeSet(create=[User(email="other@firma.no")])

    def another_writer() -> None:
        commit(direct, other)

    proxy.after_cut = another_writer
    proxy.armed = "reply"
    with pytest.raises(userimport.errors.CommitOutcomeUnknown, match="another writer"):
        repo.commit(MIXED, expected_version=before[0])
    assert {"new@firma.no", "other@firma.no"} <= set(direct.snapshot().users)


@pytest.mark.parametrize("landed", [True, False])
def test_sqlite_commit_failing_at_commit_is_checked(
    landed: bool, tmp_path: Path, open_repo: Opener, faults: Faults
) -> None:
    """SQLite's COMMIT failing after (or before) it wrote: the store is asked, not guessed."""
    repo = open_repo(f"sqlite:///{tmp_path / 'users.db'}")
    commit(repo, SEED)
    before = everything(repo)
    armed = [True]  # the next COMMIT, the commit's own, fails

    def lost(real: Callable[[], None]) -> None:
        if not armed:
            real()
            return
        armed.clear()
        if landed:
            real()
        raise sqlite3.OperationalError("disk I/O error")

    faults.commit = lost
    if landed:
        version = repo.commit(MIXED, expected_version=before[0])
        assert version == repo.snapshot().version
        assert "new@firma.no" in repo.snapshot()
    else:
        with pytest.raises(RepositoryError, match="nothing was written"):
            repo.commit(MIXED, expected_version=before[0])
        assert before == everything(repo)


def test_backend_killed_during_commit_says_nothing_was_written(open_repo: Opener) -> None:
    """pg_terminate_backend while COMMIT runs (a slow deferred trigger): checked; none written."""
    url = postgres_url()
    reset_postgres(url)
    repo, killer = open_repo(url), open_repo(url)
    commit(repo, SEED)
    before = everything(killer)
    with killer.engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE FUNCTION slow_commit() RETURNS trigger AS "
            "$$ BEGIN PERFORM pg_sleep(5); RETURN NULL; END $$ LANGUAGE plpgsql"
        )
        conn.exec_driver_sql(
            "CREATE CONSTRAINT TRIGGER slow AFTER UPDATE ON meta DEFERRABLE INITIALLY DEFERRED "
            "FOR EACH ROW EXECUTE FUNCTION slow_commit()"
        )
    killed = threading.Event()

    def kill_while_committing(conn: Any) -> None:
        pid = conn.connection.dbapi_connection.info.backend_pid

        def kill() -> None:
            # Each look in its own transaction: pg_stat_activity is fixed within one.
            while True:
                with killer.engine.begin() as k:
                    if k.execute(
                        sa.text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE pid = :p AND query = 'COMMIT' AND state = 'active'"
                        ),
                        {"p": pid},
                    ).first():
                        break
                time.sleep(0.01)
            killed.set()

        threading.Thread(target=kill, daemon=True).start()

    sa.event.listen(repo.engine, "commit", kill_while_committing)
    try:
        started = time.monotonic()
        with pytest.raises(RepositoryError, match=r"still at version .* nothing was written"):
            repo.commit(MIXED, expected_version=before[0])
    finally:
        sa.event.remove(repo.engine, "commit", kill_while_committing)
    assert killed.is_set()
    assert time.monotonic() - started < 4
    assert before == everything(killer)


@CUT_CONNECTIONS
def test_cli_apply_with_a_lost_reply_reports_and_saves_the_undo(
    proxied: tuple[Proxy, SqlUserRepository, SqlUserRepository], tmp_path: Path
) -> None:
    """userimport apply whose COMMIT reply is lost: applied, reported, and the undo plan saved."""
    from click.testing import CliRunner

    from userimport.cli import cli

    proxy, repo, direct = proxied
    staff = tmp_path / "staff.csv"
    staff.write_text("First Name,Last Name,Email,Department\nNy,Person,ny@firma.no,Sales\n")
    plan, undo = tmp_path / "plan.json", tmp_path / "undo.json"
    runner = CliRunner()
    db = ["--db", repo.url.replace("***", "")]
    assert 0 == runner.invoke(cli, [*db, "plan", str(staff), "--out", str(plan)]).exit_code
    # The schema check, the plan secret's read and apply_plan's snapshot read COMMIT first.
    proxy.armed, proxy.spare = "reply", 3
    result = runner.invoke(cli, [*db, "apply", str(plan), "--yes", "--undo-out", str(undo)])
    assert (0, 1) == (result.exit_code, proxy.cuts), result.output
    assert "Applied: 1 created" in result.output
    assert "ny@firma.no" in direct.snapshot()
    result = runner.invoke(cli, [*db, "undo", str(undo), "--yes"])
    assert 0 == result.exit_code, result.output
    assert "ny@firma.no" not in direct.snapshot()


# A store the previous release wrote: keys case-folded (``straße@`` keyed ``strasse@``), text
# as typed (a decomposed ``München``). Each email's casefold differs from its lower case.
OLD_USERS = [
    ("straße@firma.no", "Stra\u00dfe"),
    ("\ufb01nn@firma.no", "Finn"),  # the ligature ﬁ: casefold "fi", lower "ﬁ"
    ("οδυσσευς@firma.gr", "Odysseus"),  # a final sigma: casefold "σ", lower "ς"
    ("plain@firma.no", "Plain"),
]
NFD_MUNICH = "Mu\u0308nchen"


def write_version_one_store(url: str, open_repo: Opener) -> None:
    """Make the schema with this library, then fill it as version 1 did."""
    open_repo(url).snapshot()
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO departments VALUES (:d), ('München')"), {"d": NFD_MUNICH})
        conn.execute(sa.text("INSERT INTO groups VALUES (:g), ('München')"), {"g": NFD_MUNICH})
        for email, first in OLD_USERS:
            key = email.casefold()
            conn.execute(
                sa.text("INSERT INTO users VALUES (:k, :e, :f, 'Berg', :d, false)"),
                {"k": key, "e": email, "f": first, "d": NFD_MUNICH},
            )
            conn.execute(
                sa.text("INSERT INTO memberships VALUES (:k, :g)"), {"k": key, "g": NFD_MUNICH}
            )
            conn.execute(sa.text("INSERT INTO memberships VALUES (:k, 'München')"), {"k": key})
            conn.execute(
                sa.text("INSERT INTO attributes VALUES (:k, 'city', :g)"),
                {"k": key, "g": NFD_MUNICH},
            )
        conn.execute(sa.text("UPDATE meta SET schema_version = 1"))
    engine.dispose()


def test_a_version_one_store_is_upgraded_on_open(url: str, open_repo: Opener) -> None:
    """Keys become NFC + lower case and text NFC; ß, ﬁ and ς users are found and kept apart."""
    write_version_one_store(url, open_repo)
    repo = open_repo(url)
    snap = repo.snapshot()
    assert sorted(e for e, _ in OLD_USERS) == sorted(snap.frame.index)
    assert {"München"} == set(snap.groups) == set(snap.departments)
    for email, _ in OLD_USERS:
        user = snap.get(f" {email} ")
        assert user is not None
        assert ("München", frozenset({"München"}), {"city": "München"}) == (
            user.department,
            user.groups,
            dict(user.attributes),
        )
    assert snap.get("strasse@firma.no") is None
    # The store works: strasse@ is a new user next to straße@, and straße@ can be deleted.
    commit(repo, ChangeSet(create=[User(email="strasse@firma.no", department="München")]))
    commit(repo, ChangeSet(delete=["STRAßE@firma.no"]))
    assert ["strasse@firma.no"] == [
        u.email for u in open_repo(url).snapshot() if u.email.startswith("stra")
    ]
    with repo.engine.connect() as conn:
        assert SCHEMA_VERSION == conn.execute(sa.text("SELECT schema_version FROM meta")).scalar()


def test_an_upgrade_refuses_two_users_that_are_now_one(url: str, open_repo: Opener) -> None:
    """A store holding one address composed and decomposed is refused, naming both users."""
    write_version_one_store(url, open_repo)
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        for email in ("jose\u0301@firma.no", "jos\u00e9@firma.no"):
            conn.execute(
                sa.text("INSERT INTO users VALUES (:k, :e, 'J', 'B', NULL, false)"),
                {"k": email.casefold(), "e": email},
            )
    engine.dispose()
    with pytest.raises(RepositoryError, match="are one email address"):
        open_repo(url).snapshot()


@pytest.mark.parametrize("cache", [True, False])
def test_a_commit_at_the_cached_version_looks_nothing_up(
    url: str, open_repo: Opener, monkeypatch: pytest.MonkeyPatch, cache: bool
) -> None:
    """At its cached snapshot's version a commit takes keys and memberships from it, exactly."""
    repo = open_repo(url, cache=cache)
    commit(repo, SEED)
    lookups: list[str] = []
    where = userimport._sqlio.rows_where

    def counted(db: Any, table: str, *args: Any) -> Any:
        lookups.append(table)
        return where(db, table, *args)

    monkeypatch.setattr(userimport.sql, "_rows_where", counted)
    monkeypatch.setattr(userimport._sqlio, "rows_where", counted)
    changes = ChangeSet(
        update=[
            User(email="ANNA@firma.no", first_name="Anne", groups={"Tech", "Oslo"}),
            User(email="ole@firma.no", groups={"Tech"}, attributes={"title": "Lead", "x": "1"}),
        ],
        create=[User(email="new@firma.no", groups={"Oslo"})],
        delete=["kari@firma.no"],
    )
    commit(repo, changes)
    expected = [] if cache else ["users", "memberships", "attributes"]
    assert expected == lookups
    reference = InMemoryUserRepository()
    commit(reference, SEED)
    commit(reference, changes)
    assert reference.snapshot().state() == open_repo(url, cache=False).snapshot().state()


def test_a_plan_is_committed_without_a_user_per_row(
    url: str, open_repo: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    """apply_plan writes a plan's change set from its columns: no User is made for any row."""
    commit_a_plan_without_users(open_repo(url, cache=True), monkeypatch)


def test_the_memory_store_commits_a_plan_without_a_user_per_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The in-memory store, too, builds the written rows from a plan's columns."""
    commit_a_plan_without_users(InMemoryUserRepository(), monkeypatch)


def commit_a_plan_without_users(repo: UserRepository, monkeypatch: pytest.MonkeyPatch) -> None:
    """Apply a plan of a create and an update with User-making off, and check the store."""
    import userimport.model
    from tests.conftest import make_review
    from userimport import ImportSettings

    stored = [
        User(email="ann@firma.no", first_name="Ann", groups={"A", "B"}, attributes={"x": "1"}),
        User(
            email="bo@firma.no", first_name="Bo", last_name="Ek", department="Sales", groups={"A"}
        ),
    ]
    repo.commit(
        ChangeSet(create=stored, create_groups={"A", "B"}, create_departments={"Sales"}),
        expected_version=repo.snapshot().version,
    )
    rows = [
        ["Ann", "Berg", "ANN@firma.no", "Tech", "C"],
        ["Bo", "Ek", "bo@firma.no", "Sales", "A"],
        ["Cy", "Dahl", "cy@firma.no", "Tech", "A;C"],
    ]
    review = make_review(rows, group_separator=";")
    plan = plan_import(review, repo, ImportSettings(groups="replace"))
    assert (1, 1, 1) == tuple(plan.summary()[a] for a in ("create", "update", "unchanged"))

    def no_user(*args: object) -> User:
        raise AssertionError("a User was made")

    # Every User made from a plan's values is made by clean_user, which starts here.
    monkeypatch.setattr(userimport.model, "_new", no_user)
    result = apply_plan(plan, repo)
    monkeypatch.undo()
    assert (1, 1) == (result.created, result.updated)
    assert plan_import(review, repo, ImportSettings(groups="replace")).is_empty
    users = repo.snapshot().users
    assert (frozenset({"C"}), "Tech", {"x": "1"}) == (
        users["ann@firma.no"].groups,
        users["ann@firma.no"].department,
        dict(users["ann@firma.no"].attributes),
    )
    assert frozenset({"A", "C"}) == users["cy@firma.no"].groups


def store_columns(users: list[User], *, chunked: bool) -> dict[str, Any]:
    """The results of the store's queries over ``users``, as sqlite3 or as ADBC gives them."""
    import pyarrow as pa

    def column(values: list[Any], kind: Any) -> Any:
        if not chunked:
            return tuple(values)
        half = len(values) // 2  # two chunks, as ADBC gives in batches
        return pa.chunked_array([values[:half], values[half:]], type=kind)

    def result(rows: list[tuple[Any, ...]], kinds: tuple[Any, ...]) -> Any:
        if not rows:
            return None
        return [column(list(c), k) for c, k in zip(zip(*rows, strict=True), kinds, strict=True)]

    text = pa.string()
    held = sorted((u.key, g) for u in users for g in u.groups)
    return {
        "users": result(
            [
                (u.key, u.email, u.first_name, u.last_name, u.department or "", int(u.is_admin))
                for u in users
            ],
            (text,) * 5 + (pa.int64(),),
        ),
        "memberships": result(held, (text, text)),
        "attributes": result(
            sorted((u.key, n, v) for u in users for n, v in u.attributes.items()), (text,) * 3
        ),
        "groups": result([(g,) for g in sorted({g for _, g in held} | {"Empty"})], (text,)),
        "departments": result([("Unused",)], (text,)),
    }


@settings(max_examples=60, deadline=None)
@given(strategies.stores())
def test_a_snapshot_from_arrow_columns_is_the_one_from_python_values(users: list[User]) -> None:
    """ADBC's Arrow columns make the snapshot sqlite3's Python values make, cell type and all."""
    import pandas as pd

    plain = userimport._sqlio.snapshot_of("v", store_columns(users, chunked=False))
    arrow = userimport._sqlio.snapshot_of("v", store_columns(users, chunked=True))
    pd.testing.assert_frame_equal(plain.frame, arrow.frame)
    for name in plain.frame.columns:
        kinds = [type(v) for v in plain.frame[name].tolist()]
        assert kinds == [type(v) for v in arrow.frame[name].tolist()]
    assert (plain.groups, plain.departments) == (arrow.groups, arrow.departments)
    assert plain.key_array.equals(arrow.key_array)
    walked = Snapshot.from_frame(
        plain.frame, version="v", groups={"Empty"}, departments={"Unused"}
    )  # the sets found by walking every user
    assert (walked.groups, walked.departments) == (arrow.groups, arrow.departments)
    assert walked.key_array.equals(arrow.key_array)
    if users:  # planning compares these columns in Arrow (an empty store reads none)
        names = ("first_name", "last_name", "department")
        assert arrow._texts is not None
        expected = {f: plain.frame[f].tolist() for f in names}
        assert expected == {f: v.to_pylist() for f, v in arrow._texts.items()}

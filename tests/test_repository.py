"""The UserRepository contract (userimport.testing) run against every store of the library."""

from __future__ import annotations

import os
from collections.abc import Callable, Container, Iterable, Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import userimport.sql
from userimport import (
    InMemoryUserRepository,
    RepositoryError,
    User,
    UserNotFoundError,
    UserRepository,
)
from userimport.model import ChangeSet, Snapshot
from userimport.repository import check_changes, check_keys, plan_secret
from userimport.sql import SqlUserRepository
from userimport.testing import UserRepositoryContract


def postgres_url() -> str:
    """The test PostgreSQL URL: skip without one locally, fail without one in CI."""
    url = os.environ.get("USERIMPORT_TEST_POSTGRES_URL", "")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI is set but USERIMPORT_TEST_POSTGRES_URL is not: .ci/run exports it")
        pytest.skip("set USERIMPORT_TEST_POSTGRES_URL to run the PostgreSQL tests")
    return url


def reset_postgres(url: str) -> None:
    """Empty the test database: drop and recreate its public schema."""
    import sqlalchemy as sa

    from userimport.sql import _parse_url

    engine = sa.create_engine(_parse_url(url).to_sqlalchemy())
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
    finally:
        engine.dispose()


class TestInMemory(UserRepositoryContract):
    """The reference implementation."""

    @pytest.fixture
    def repository(self) -> UserRepository:
        """An empty in-memory store."""
        return InMemoryUserRepository()


class TestInMemoryFromSnapshot(UserRepositoryContract):
    """In-memory stores filled from another store's snapshot (its frame)."""

    @pytest.fixture
    def repository(self) -> UserRepository:
        """An empty in-memory store."""
        return InMemoryUserRepository()

    def fill(
        self,
        repository: UserRepository,
        users: Iterable[User] = (),
        groups: Iterable[str] = (),
        departments: Iterable[str] = (),
    ) -> UserRepository:
        """A store made from the snapshot of one holding the content."""
        content = InMemoryUserRepository(users, groups=groups, departments=departments)
        return InMemoryUserRepository.from_snapshot(content.snapshot())


class TestSqlite(UserRepositoryContract):
    """SQL stores on a SQLite file, uncached, read by ADBC."""

    cache = False

    @pytest.fixture
    def repository(self, tmp_path: Path) -> Iterator[UserRepository]:
        """An empty store on a fresh SQLite file."""
        with SqlUserRepository(f"sqlite:///{tmp_path / 'users.db'}", cache=self.cache) as repo:
            yield repo


class TestSqliteCached(TestSqlite):
    """SQL stores on SQLite that hand out cached snapshots (the default)."""

    cache = True


class TestSqliteSqlite3(TestSqlite):
    """SQL stores on SQLite that read snapshots with the sqlite3 module, not ADBC."""

    @pytest.fixture(autouse=True)
    def _no_adbc(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without the sqlite-fast extra."""
        monkeypatch.setattr(userimport.sql, "_adbc", lambda: None)


class TestPostgresql(UserRepositoryContract):
    """SQL stores on PostgreSQL, each on an emptied test database."""

    @pytest.fixture
    def repository(self) -> Iterator[UserRepository]:
        """An empty store on the emptied test database."""
        url = postgres_url()
        reset_postgres(url)
        with SqlUserRepository(url, cache=False) as repo:
            yield repo


def test_plan_secret_is_an_optional_capability() -> None:
    """A store without plan_secret() has none; one returning too few bytes is an error."""

    class Short:
        def plan_secret(self) -> bytes:
            return b"short"

    assert plan_secret(object()) is None
    assert 32 == len(plan_secret(InMemoryUserRepository()) or b"")
    with pytest.raises(RepositoryError, match="at least 16 bytes"):
        plan_secret(Short())


_NAMES = ("a", "b", "c")


@st.composite
def _store_and_deleting_changes(draw: st.DrawFn) -> tuple[Snapshot, ChangeSet]:
    """A small store and a change set that deletes groups or departments (as undo does)."""

    def user(i: int) -> User:
        return User(
            email=f"u{i}@firma.no",
            department=draw(st.sampled_from(_NAMES)),
            groups=draw(st.frozensets(st.sampled_from(_NAMES), max_size=2)),
        )

    stored = [user(i) for i in range(draw(st.integers(0, 4)))]
    snapshot = Snapshot.from_users(stored, version="v", groups=_NAMES, departments=_NAMES)
    keys = [u.email for u in stored]
    deleted = draw(st.lists(st.sampled_from(keys), unique=True)) if keys else []
    left = [k for k in keys if k not in deleted]
    updated = draw(st.lists(st.sampled_from(left), unique=True)) if left else []
    changes = ChangeSet(
        create=[user(i) for i in range(10, 10 + draw(st.integers(0, 2)))],
        update=[user(int(k[1])) for k in updated],
        delete=deleted,
        delete_groups=draw(st.frozensets(st.sampled_from(_NAMES), min_size=1)),
        delete_departments=draw(st.frozensets(st.sampled_from(_NAMES))),
    )
    return snapshot, changes


@settings(max_examples=60, deadline=None)
@given(_store_and_deleting_changes())
def test_deleting_a_group_or_department_still_in_use_is_refused(
    case: tuple[Snapshot, ChangeSet],
) -> None:
    """check_changes refuses exactly the deletions some user left after the commit still uses."""
    snapshot, changes = case
    after = {u.key: u for u in snapshot}
    for email in changes.delete:
        after.pop(email, None)
    after.update((u.key, u) for u in (*changes.update, *changes.create))
    in_use = set().union(*(u.groups for u in after.values())) & changes.delete_groups or (
        {u.department for u in after.values()} & changes.delete_departments
    )
    if in_use:
        with pytest.raises(RepositoryError, match=r"still in use|unknown"):
            check_changes(snapshot, changes)
    else:
        check_changes(snapshot, changes)


def _check_keys_one_by_one(
    keys: frozenset[str], groups: frozenset[str], departments: frozenset[str], changes: ChangeSet
) -> None:
    """The rules of check_keys as they were written before issue 17: entry by entry."""
    deleted: set[str] = set()
    for email in changes.delete:
        key = email.strip().lower()
        if key not in keys or key in deleted:
            raise UserNotFoundError(f"cannot delete {email}: no such user")
        deleted.add(key)
    for user in changes.update:
        if user.key not in keys or user.key in deleted:
            raise UserNotFoundError(f"cannot update {user.email}: no such user")
    created: set[str] = set()
    for user in changes.create:
        if user.key in created:
            raise RepositoryError("the change set creates the same email twice")
        if user.key in keys and user.key not in deleted:
            raise RepositoryError(f"cannot create {user.email}: a user with that email exists")
        created.add(user.key)
    groups = (groups | changes.create_groups) - changes.delete_groups
    departments = (departments | changes.create_departments) - changes.delete_departments
    for user in (*changes.update, *changes.create):
        unknown = user.groups - groups
        if unknown:
            raise RepositoryError(
                f"{user.email} is in unknown group(s) {', '.join(sorted(unknown))}; create them"
            )
        if user.department and user.department not in departments:
            raise RepositoryError(f"{user.email} is in unknown department {user.department!r}")


@st.composite
def _keys_and_changes(draw: st.DrawFn) -> tuple[frozenset[str], ChangeSet, frozenset[str]]:
    """Stored keys and a change set naming stored, new and repeated emails, known or not."""
    emails = st.sampled_from(["A@firma.no", "a@firma.no", "b@firma.no", "c@firma.no"])
    names = st.sampled_from(_NAMES[:3])

    def user() -> User:
        return User(
            email=draw(emails),
            department=draw(st.none() | names),
            groups=draw(st.frozensets(names, max_size=2)),
        )

    keys = frozenset(draw(st.lists(st.sampled_from(["a@firma.no", "b@firma.no"]))))
    changes = ChangeSet(
        create=[user() for _ in range(draw(st.integers(0, 3)))],
        update=[user() for _ in range(draw(st.integers(0, 3)))],
        delete=draw(st.lists(emails, max_size=2)),
        create_groups=draw(st.frozensets(names, max_size=2)),
        create_departments=draw(st.frozensets(names, max_size=2)),
        delete_groups=draw(st.frozensets(names, max_size=1)),
    )
    return keys, changes, draw(st.frozensets(names, max_size=2))


def _outcome(check: Callable[[], None]) -> tuple[str, str] | None:
    try:
        check()
    except RepositoryError as exc:
        return type(exc).__name__, str(exc)
    return None


@settings(max_examples=150, deadline=None)
@given(_keys_and_changes(), st.booleans())
def test_check_keys_refuses_what_the_entry_by_entry_rules_refuse(
    case: tuple[frozenset[str], ChangeSet, frozenset[str]], as_mapping: bool
) -> None:
    """check_keys (column-wise, issue 17) raises the same error as the entry-by-entry rules."""
    keys, changes, known = case
    held: Container[str] = dict.fromkeys(keys) if as_mapping else keys
    expected = _outcome(lambda: _check_keys_one_by_one(keys, known, known, changes))
    assert expected == _outcome(lambda: check_keys(held, known, known, changes))


def test_a_sqlite_store_commits_durably(tmp_path: Path) -> None:
    """SQLite connections sync every commit (synchronous=FULL) whatever the build's default."""
    import sqlite3

    from userimport._sqlio import sqlite_connect

    con = sqlite3.connect(tmp_path / "s.db")
    try:
        con.execute("PRAGMA synchronous = OFF")  # as a build or an app may have it
        sqlite_connect(con, None)
        pragmas = ("synchronous", "foreign_keys", "journal_mode")
        assert [2, 1, "delete"] == [con.execute(f"PRAGMA {p}").fetchone()[0] for p in pragmas]
    finally:
        con.close()

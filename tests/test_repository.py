"""The UserRepository contract: every implementation must pass this suite."""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import userimport.sql
from tests.conftest import ADMIN, ANNA, OLE
from userimport import (
    InMemoryUserRepository,
    RepositoryError,
    StalePlanError,
    User,
    UserNotFoundError,
    UserRepository,
)
from userimport.model import ChangeSet, Snapshot
from userimport.repository import check_changes, plan_secret
from userimport.sql import SqlUserRepository

Factory = Callable[..., UserRepository]


def memory(
    users: Iterable[User] = (), groups: Iterable[str] = (), departments: Iterable[str] = ()
) -> UserRepository:
    return InMemoryUserRepository(users, groups=groups, departments=departments)


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

    engine = sa.create_engine(_parse_url(url))
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
    finally:
        engine.dispose()


def seeded(
    repo: SqlUserRepository,
    users: Iterable[User] = (),
    groups: Iterable[str] = (),
    departments: Iterable[str] = (),
) -> SqlUserRepository:
    """Fill an empty SQL store the way InMemoryUserRepository's constructor fills itself."""
    users = list(users)
    content = Snapshot.from_users(users, version="", groups=groups, departments=departments)
    changes = ChangeSet(
        create=users, create_groups=content.groups, create_departments=content.departments
    )
    repo.commit(changes, expected_version=repo.snapshot().version)
    return repo


def memory_factory(request: pytest.FixtureRequest) -> Factory:
    """Repositories in memory: the reference implementation."""
    return memory


def frame_factory(request: pytest.FixtureRequest) -> Factory:
    """In-memory repositories filled from another store's snapshot (its frame)."""

    def make(
        users: Iterable[User] = (), groups: Iterable[str] = (), departments: Iterable[str] = ()
    ) -> UserRepository:
        return InMemoryUserRepository.from_snapshot(memory(users, groups, departments).snapshot())

    return make


def sqlite_factory(request: pytest.FixtureRequest, *, cache: bool = False) -> Factory:
    """SQL repositories, each on a fresh SQLite file in the test's tmp_path (read by ADBC)."""
    tmp_path = request.getfixturevalue("tmp_path")
    names = itertools.count()

    def make(
        users: Iterable[User] = (), groups: Iterable[str] = (), departments: Iterable[str] = ()
    ) -> UserRepository:
        url = f"sqlite:///{tmp_path / f'users-{next(names)}.db'}"
        repo = SqlUserRepository(url, cache=cache)
        request.addfinalizer(repo.close)
        return seeded(repo, users, groups, departments)

    return make


def cached_sqlite_factory(request: pytest.FixtureRequest) -> Factory:
    """SQL repositories on SQLite that hand out cached snapshots (the default)."""
    return sqlite_factory(request, cache=True)


def sqlite3_factory(request: pytest.FixtureRequest) -> Factory:
    """SQL repositories on SQLite that read snapshots with the sqlite3 module, not ADBC."""
    request.getfixturevalue("monkeypatch").setattr(userimport.sql, "_adbc", lambda: None)
    return sqlite_factory(request)


def postgres_factory(request: pytest.FixtureRequest) -> Factory:
    """SQL repositories on PostgreSQL, each on an emptied test database."""
    url = postgres_url()

    def make(
        users: Iterable[User] = (), groups: Iterable[str] = (), departments: Iterable[str] = ()
    ) -> UserRepository:
        reset_postgres(url)
        repo = SqlUserRepository(url, cache=False)
        request.addfinalizer(repo.close)
        return seeded(repo, users, groups, departments)

    return make


@pytest.fixture(
    params=[
        memory_factory,
        frame_factory,
        sqlite_factory,
        sqlite3_factory,
        cached_sqlite_factory,
        postgres_factory,
    ],
    ids=[
        "memory",
        "memory-from-snapshot",
        "sqlite",
        "sqlite-sqlite3",
        "sqlite-cached",
        "postgresql",
    ],
)
def make_repo(request: pytest.FixtureRequest) -> Factory:
    """A factory of repositories, one per implementation under contract."""
    return request.param(request)  # type: ignore[no-any-return]


def commit(repo: UserRepository, **changes) -> str:  # type: ignore[no-untyped-def]
    return repo.commit(ChangeSet(**changes), expected_version=repo.snapshot().version)


def test_is_a_user_repository(make_repo: Factory) -> None:
    """The implementation satisfies the runtime-checkable protocol."""
    assert isinstance(make_repo(), UserRepository)


def test_snapshot_of_an_empty_store(make_repo: Factory) -> None:
    """An empty store has no users, groups or departments, and a version."""
    snap = make_repo().snapshot()
    assert (0, frozenset(), frozenset()) == (len(snap), snap.groups, snap.departments)
    assert isinstance(snap.version, str)
    assert snap.version


def test_snapshot_frame_matches_users_in_python_order(make_repo: Factory) -> None:
    """The frame's groups are sorted as Python sorts (not by the database's collation)."""
    names = {"b", "B", "é", "e", "Z", "_x", "Ø", "å"}
    user = User(email="Kari@Firma.no", first_name="Kari", groups=names, attributes={"n": "1"})
    snap = make_repo([user, OLE]).snapshot()
    frame = snap.frame
    assert tuple(sorted(names)) == frame.loc["kari@firma.no", "groups"]
    assert {"n": "1"} == frame.loc["kari@firma.no", "attributes"]
    assert dict(OLE.attributes) == frame.loc["ole@firma.no", "attributes"]
    assert user == snap.get("kari@firma.no")
    assert {user.key, OLE.key} == {u.key for u in snap}


def test_initial_content(make_repo: Factory) -> None:
    """Users, their groups and departments, and empty groups and departments are all kept."""
    snap = make_repo([ANNA, OLE, ADMIN], groups={"Empty"}, departments={"Nobody"}).snapshot()
    assert {"Oslo", "Bergen", "Tech", "Leaders", "Empty"} == snap.groups
    assert {"Sales", "Engineering", "Ledelse", "Nobody"} == snap.departments
    ole = snap.get("OLE@firma.no")
    assert ole is not None
    assert OLE.to_dict() == ole.to_dict()


def test_create_update_delete(make_repo: Factory) -> None:
    """One commit creates, updates and deletes users and returns a new version."""
    repo = make_repo([ANNA, OLE], departments={"HR"})
    old = repo.snapshot().version
    kari = User(email="kari@firma.no", first_name="Kari", department="HR", groups={"New"})
    anne = User(email="Anna.Berg@firma.no", first_name="Anne", last_name="Berg", department="HR")
    new = commit(repo, create=[kari], update=[anne], delete=["OLE@FIRMA.NO"], create_groups={"New"})
    snap = repo.snapshot()
    assert new == snap.version != old
    assert {"anna.berg@firma.no", "kari@firma.no"} == set(snap.users)
    assert anne.to_dict() == snap.users["anna.berg@firma.no"].to_dict()
    assert kari.to_dict() == snap.users["kari@firma.no"].to_dict()


def test_updates_replace_groups_and_attributes_exactly(make_repo: Factory) -> None:
    """An update leaves exactly its groups and attributes: added, kept, removed and changed."""
    repo = make_repo([ANNA, OLE, ADMIN])
    ole = User(
        email="OLE@firma.no",
        first_name="Ole",
        groups={"Tech", "Oslo"},  # Bergen removed, Tech kept, Oslo added
        attributes={"title": "Lead", "phone": "123"},  # title changed, phone added
    )
    anna = User(email="anna.berg@firma.no", attributes={"title": "Seller"})  # Oslo removed
    boss = User(email="boss@firma.no", groups={"Leaders"}, is_admin=True)  # groups kept
    # Deleted and created again in the same commit: none of the old groups survive.
    ole_again = User(email="ole@firma.no", groups={"Leaders"})
    commit(repo, update=[ole, anna, boss])
    snap = repo.snapshot()
    for user in (ole, anna, boss):
        assert user.to_dict() == snap.users[user.key].to_dict()
    commit(repo, delete=["ole@firma.no"], create=[ole_again])
    assert ole_again.to_dict() == repo.snapshot().users["ole@firma.no"].to_dict()
    commit(repo, update=[User(email="ole@firma.no")])
    assert User(email="ole@firma.no").to_dict() == repo.snapshot().users["ole@firma.no"].to_dict()


def test_a_user_updated_twice_in_one_change_set_ends_as_the_last(make_repo: Factory) -> None:
    """Two updates of one user in a change set: the last one is what is stored."""
    repo = make_repo([ANNA, OLE])
    first = User(email="ole@firma.no", first_name="First", groups={"Oslo", "Tech"})
    last = User(email="OLE@firma.no", first_name="Last", groups={"Bergen"})
    commit(repo, update=[first, last])
    assert last.to_dict() == repo.snapshot().users["ole@firma.no"].to_dict()


def test_stale_version_is_refused(make_repo: Factory) -> None:
    """A commit against an old version raises StalePlanError and writes nothing."""
    repo = make_repo([ANNA])
    old = repo.snapshot().version
    commit(repo, create=[User(email="x@firma.no")])
    with pytest.raises(StalePlanError):
        repo.commit(ChangeSet(delete=["anna.berg@firma.no"]), expected_version=old)
    assert 2 == len(repo.snapshot())


def test_empty_commit_keeps_the_version(make_repo: Factory) -> None:
    """Committing nothing returns the current version unchanged."""
    repo = make_repo([ANNA])
    version = repo.snapshot().version
    assert version == commit(repo)


@pytest.mark.parametrize(
    "changes",
    [
        {"create": [ANNA]},
        {"update": [User(email="nobody@firma.no")]},
        {"delete": ["nobody@firma.no"]},
        {"create": [User(email="k@firma.no", groups={"Unknown"})]},
        {"create": [User(email="k@firma.no", department="Unknown")]},
        {"delete_groups": {"Oslo"}},
        {"delete_departments": {"Sales"}},
        {"create": [User(email="k@firma.no"), User(email="K@firma.no")]},
    ],
    ids=[
        "create-existing",
        "update-missing",
        "delete-missing",
        "unknown-group",
        "unknown-department",
        "group-in-use",
        "department-in-use",
        "create-twice",
    ],
)
def test_inconsistent_change_sets_are_refused_whole(make_repo: Factory, changes: dict) -> None:  # type: ignore[type-arg]
    """A change set that does not fit the store raises RepositoryError, and nothing is written."""
    repo = make_repo([ANNA, OLE])
    before = repo.snapshot()
    with pytest.raises(RepositoryError):
        commit(repo, create_groups={"Fresh"}, **changes)
    after = repo.snapshot()
    assert (before.version, before.state()) == (after.version, after.state())


def test_identity_is_nfc_and_str_lower(make_repo: Factory) -> None:
    """ß/ss, ﬁ/fi and ς/σ are separate users; case and decomposed accents find the same one."""
    twins = ["straße@firma.de", "strasse@firma.de", "\ufb01nn@firma.no", "finn@firma.no"]
    twins += ["οδυσσευς@firma.gr", "οδυσσευσ@firma.gr", "josé@firma.no"]
    repo = make_repo([User(email=e) for e in twins])
    snap = repo.snapshot()
    assert len(twins) == len(snap)
    found = snap.get("JOSE\u0301@FIRMA.NO")
    assert found is not None
    assert "josé@firma.no" == found.email
    commit(repo, delete=["STRAßE@firma.de", "jose\u0301@firma.no"])
    assert sorted(set(twins) - {"straße@firma.de", "josé@firma.no"}) == sorted(
        u.email for u in repo.snapshot()
    )


def test_not_found_is_a_key_error(make_repo: Factory) -> None:
    """Updating a missing user raises UserNotFoundError, also a KeyError."""
    with pytest.raises(KeyError):
        commit(make_repo(), update=[User(email="nobody@firma.no")])
    with pytest.raises(UserNotFoundError, match=r"nobody@firma\.no"):
        commit(make_repo(), delete=["nobody@firma.no"])


def test_groups_and_departments_can_be_created_and_removed(make_repo: Factory) -> None:
    """Empty groups and departments can be created and deleted."""
    repo = make_repo()
    commit(repo, create_groups={"G"}, create_departments={"D"})
    assert ({"G"}, {"D"}) == (repo.snapshot().groups, repo.snapshot().departments)
    commit(repo, delete_groups={"G"}, delete_departments={"D"})
    assert (frozenset(), frozenset()) == (repo.snapshot().groups, repo.snapshot().departments)


def test_snapshots_do_not_change(make_repo: Factory) -> None:
    """A snapshot taken before a commit still shows the old content."""
    repo = make_repo([ANNA])
    snap = repo.snapshot()
    commit(repo, delete=["anna.berg@firma.no"])
    assert "anna.berg@firma.no" in snap
    assert 1 == len(snap)
    assert 0 == len(repo.snapshot())


def test_nasty_strings_round_trip(make_repo: Factory) -> None:
    """Quotes, SQL-ish text, formulas and non-Latin letters are stored exactly."""
    nasty = User(
        email="o'neil@firma.no",
        first_name="Robert'); DROP TABLE users;--",
        last_name='=HYPERLINK("x")',
        department="Ærø ÅØ",
        groups={"Group, with comma", "Ünïcödé", "表"},
        attributes={"note": "line\nbreak", "empty-ish": " x "},
    )
    repo = make_repo()
    commit(repo, create=[nasty], create_groups=nasty.groups, create_departments={"Ærø ÅØ"})
    stored = repo.snapshot().get("O'NEIL@firma.no")
    assert stored is not None
    assert nasty.to_dict() == stored.to_dict()


def test_concurrent_commits_from_one_version(make_repo: Factory) -> None:
    """Of several commits made from the same version, exactly one wins; the rest are stale."""
    repo = make_repo()
    version = repo.snapshot().version
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def worker(i: int) -> None:
        barrier.wait()
        try:
            repo.commit(ChangeSet(create=[User(email=f"w{i}@firma.no")]), expected_version=version)
            outcomes.append("won")
        except StalePlanError:
            outcomes.append("stale")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ["stale", "stale", "stale", "won"] == sorted(outcomes)
    assert 1 == len(repo.snapshot())


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

"""
The :class:`~userimport.repository.UserRepository` contract suite, for an app's own tests.

Every store of the library (in memory, SQLite, PostgreSQL) runs these tests, and an app proves
its own store by subclassing :class:`UserRepositoryContract` in its test suite and giving it a
``repository`` fixture that returns a new, empty store::

    import pytest
    from userimport.testing import UserRepositoryContract

    class TestAppUserRepository(UserRepositoryContract):
        @pytest.fixture
        def repository(self):
            return AppUserRepository()

pytest then runs every contract test against that store: initial content, create/update/delete
in one commit, stale versions, empty commits, inconsistent change sets refused whole, identity
by :func:`~userimport.model.email_key`, snapshots that never change, hostile strings stored
exactly, concurrent commits from one version where exactly one wins, and (with hypothesis)
any change set ending as it ends in :class:`~userimport.repository.InMemoryUserRepository`.
It is pytest's abstract test class pattern: the ``test_`` methods are collected in every
subclass whose name starts with ``Test``, never in this class itself.

This module imports pytest and hypothesis (the ``testing`` extra); ``import userimport`` never
imports them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .errors import RepositoryError, StalePlanError, UserNotFoundError
from .model import ChangeSet, Snapshot, User, email_key
from .repository import InMemoryUserRepository, UserRepository

__all__ = ["ADMIN", "ANNA", "OLE", "UserRepositoryContract"]

#: The users the contract's tests store (an app's own tests may use them too).
ANNA = User(
    email="Anna.Berg@firma.no",
    first_name="Anna",
    last_name="Berg",
    department="Sales",
    groups={"Oslo"},
)
ADMIN = User(
    email="boss@firma.no",
    first_name="Bo",
    last_name="Ss",
    department="Ledelse",
    groups={"Leaders"},
    is_admin=True,
)
OLE = User(
    email="ole@firma.no",
    first_name="Ole",
    last_name="Hansen",
    department="Engineering",
    groups={"Bergen", "Tech"},
    attributes={"title": "Engineer"},
)

#: Change sets that do not fit a store of Anna and Ole, by the reason they do not.
_INCONSISTENT: dict[str, dict[str, Any]] = {
    "create-existing": {"create": [ANNA]},
    "update-missing": {"update": [User(email="nobody@firma.no")]},
    "delete-missing": {"delete": ["nobody@firma.no"]},
    "unknown-group": {"create": [User(email="k@firma.no", groups={"Unknown"})]},
    "unknown-department": {"create": [User(email="k@firma.no", department="Unknown")]},
    "group-in-use": {"delete_groups": {"Oslo"}},
    "department-in-use": {"delete_departments": {"Sales"}},
    "create-twice": {"create": [User(email="k@firma.no"), User(email="K@firma.no")]},
}


#: Text any store must keep exactly: letters of several scripts, quotes, escapes, inner spaces.
_TEXT = st.text(
    alphabet=st.sampled_from("aZæøåÅßéЖ表 '\"\\\t,;%_=-"), min_size=1, max_size=8
).filter(lambda t: t.strip() == t)  # a User trims its text; a ChangeSet's names stay


@st.composite
def _change_sets(draw: st.DrawFn, before: Snapshot) -> ChangeSet:
    """A change set that fits the store ``before``: any mix of every kind of change."""
    keys = sorted(before.users)
    create_groups = draw(st.frozensets(_TEXT.map("G ".__add__), max_size=2)) - before.groups
    create_departments = (
        draw(st.frozensets(_TEXT.map("D ".__add__), max_size=2)) - before.departments
    )
    groups = sorted(before.groups | create_groups)
    departments = sorted(before.departments | create_departments)

    def user(email: str) -> st.SearchStrategy[User]:
        return st.builds(
            User,
            email=st.just(email),
            first_name=_TEXT,
            last_name=st.one_of(st.just(""), _TEXT),
            department=st.one_of(st.none(), st.sampled_from(departments))
            if departments
            else st.none(),
            groups=st.frozensets(st.sampled_from(groups), max_size=3) if groups else st.just(()),
            is_admin=st.booleans(),
            attributes=st.dictionaries(_TEXT, _TEXT, max_size=2),
        )

    touched = draw(st.lists(st.sampled_from(keys), unique=True)) if keys else []
    split = draw(st.integers(0, len(touched)))
    # An address of the store, as stored or in capitals: identity is email_key.
    spelled = [
        k.upper() if email_key(k.upper()) == k and draw(st.booleans()) else k for k in touched
    ]
    update = [draw(user(email)) for email in spelled[:split]]
    fresh = draw(st.lists(_TEXT, max_size=3, unique_by=str.lower))
    emails = [f"new.{len(keys)}.{i}.{n}@firma.no" for i, n in enumerate(fresh)]
    create = [draw(user(e.replace(" ", "_"))) for e in emails]
    return ChangeSet(
        create=create,
        update=update,
        delete=spelled[split:],
        create_groups=create_groups,
        create_departments=create_departments,
    )


def _commit(repo: UserRepository, **changes: Any) -> str:
    """Commit ``ChangeSet(**changes)`` against the store's current version."""
    return repo.commit(ChangeSet(**changes), expected_version=repo.snapshot().version)


class UserRepositoryContract:
    """
    The contract every :class:`~userimport.repository.UserRepository` must keep, as pytest tests.

    Subclass it in a test module under a name starting with ``Test`` and override the
    ``repository`` fixture to return a new, empty store (a fixture may ``yield`` it and close
    it afterwards, and may use other fixtures such as ``tmp_path``). The tests fill the store
    through :meth:`fill`, which commits the content; override :meth:`fill` too if the store
    is filled some other way (from a snapshot, a fixture file).
    """

    @pytest.fixture
    def repository(self) -> UserRepository:
        """A new, empty store: override this fixture in the subclass."""
        pytest.fail(f"{type(self).__name__} must override the 'repository' fixture")

    def fill(
        self,
        repository: UserRepository,
        users: Iterable[User] = (),
        groups: Iterable[str] = (),
        departments: Iterable[str] = (),
    ) -> UserRepository:
        """
        Give the empty ``repository`` these users, and these groups and departments besides
        the users' own.

        Returns:
            The store to test: ``repository`` itself, filled by one commit.
        """
        users = list(users)
        content = Snapshot.from_users(users, version="", groups=groups, departments=departments)
        if users or content.groups or content.departments:
            _commit(
                repository,
                create=users,
                create_groups=content.groups,
                create_departments=content.departments,
            )
        return repository

    def test_is_a_user_repository(self, repository: UserRepository) -> None:
        """The store satisfies the runtime-checkable protocol."""
        assert isinstance(repository, UserRepository)

    def test_snapshot_of_an_empty_store(self, repository: UserRepository) -> None:
        """An empty store has no users, groups or departments, and a version."""
        snap = self.fill(repository).snapshot()
        assert (0, frozenset(), frozenset()) == (len(snap), snap.groups, snap.departments)
        assert isinstance(snap.version, str)
        assert snap.version

    def test_snapshot_frame_matches_users_in_python_order(self, repository: UserRepository) -> None:
        """The frame's groups are sorted as Python sorts (not by the database's collation)."""
        names = {"b", "B", "é", "e", "Z", "_x", "Ø", "å"}
        user = User(email="Kari@Firma.no", first_name="Kari", groups=names, attributes={"n": "1"})
        snap = self.fill(repository, [user, OLE]).snapshot()
        frame = snap.frame
        assert tuple(sorted(names)) == frame.loc["kari@firma.no", "groups"]
        assert {"n": "1"} == frame.loc["kari@firma.no", "attributes"]
        assert dict(OLE.attributes) == frame.loc["ole@firma.no", "attributes"]
        assert user == snap.get("kari@firma.no")
        assert {user.key, OLE.key} == {u.key for u in snap}

    def test_initial_content(self, repository: UserRepository) -> None:
        """Users, their groups and departments, and empty groups and departments are all kept."""
        repo = self.fill(repository, [ANNA, OLE, ADMIN], {"Empty"}, {"Nobody"})
        snap = repo.snapshot()
        assert {"Oslo", "Bergen", "Tech", "Leaders", "Empty"} == snap.groups
        assert {"Sales", "Engineering", "Ledelse", "Nobody"} == snap.departments
        ole = snap.get("OLE@firma.no")
        assert ole is not None
        assert OLE.to_dict() == ole.to_dict()

    def test_create_update_delete(self, repository: UserRepository) -> None:
        """One commit creates, updates and deletes users and returns a new version."""
        repo = self.fill(repository, [ANNA, OLE], departments={"HR"})
        old = repo.snapshot().version
        kari = User(email="kari@firma.no", first_name="Kari", department="HR", groups={"New"})
        anne = User(
            email="Anna.Berg@firma.no", first_name="Anne", last_name="Berg", department="HR"
        )
        new = _commit(
            repo, create=[kari], update=[anne], delete=["OLE@FIRMA.NO"], create_groups={"New"}
        )
        snap = repo.snapshot()
        assert new == snap.version != old
        assert {"anna.berg@firma.no", "kari@firma.no"} == set(snap.users)
        assert anne.to_dict() == snap.users["anna.berg@firma.no"].to_dict()
        assert kari.to_dict() == snap.users["kari@firma.no"].to_dict()

    def test_updates_replace_groups_and_attributes_exactly(
        self, repository: UserRepository
    ) -> None:
        """An update leaves exactly its groups and attributes: added, kept, removed and changed."""
        repo = self.fill(repository, [ANNA, OLE, ADMIN])
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
        _commit(repo, update=[ole, anna, boss])
        snap = repo.snapshot()
        for user in (ole, anna, boss):
            assert user.to_dict() == snap.users[user.key].to_dict()
        _commit(repo, delete=["ole@firma.no"], create=[ole_again])
        assert ole_again.to_dict() == repo.snapshot().users["ole@firma.no"].to_dict()
        _commit(repo, update=[User(email="ole@firma.no")])
        plain = User(email="ole@firma.no").to_dict()
        assert plain == repo.snapshot().users["ole@firma.no"].to_dict()

    def test_a_user_updated_twice_in_one_change_set_ends_as_the_last(
        self, repository: UserRepository
    ) -> None:
        """Two updates of one user in a change set: the last one is what is stored."""
        repo = self.fill(repository, [ANNA, OLE])
        first = User(email="ole@firma.no", first_name="First", groups={"Oslo", "Tech"})
        last = User(email="OLE@firma.no", first_name="Last", groups={"Bergen"})
        _commit(repo, update=[first, last])
        assert last.to_dict() == repo.snapshot().users["ole@firma.no"].to_dict()

    def test_stale_version_is_refused(self, repository: UserRepository) -> None:
        """A commit against an old version raises StalePlanError and writes nothing."""
        repo = self.fill(repository, [ANNA])
        old = repo.snapshot().version
        _commit(repo, create=[User(email="x@firma.no")])
        with pytest.raises(StalePlanError):
            repo.commit(ChangeSet(delete=["anna.berg@firma.no"]), expected_version=old)
        assert 2 == len(repo.snapshot())

    def test_empty_commit_keeps_the_version(self, repository: UserRepository) -> None:
        """Committing nothing returns the current version unchanged."""
        repo = self.fill(repository, [ANNA])
        version = repo.snapshot().version
        assert version == _commit(repo)

    @pytest.mark.parametrize("changes", list(_INCONSISTENT.values()), ids=list(_INCONSISTENT))
    def test_inconsistent_change_sets_are_refused_whole(
        self, repository: UserRepository, changes: dict[str, Any]
    ) -> None:
        """A change set that does not fit the store raises RepositoryError; nothing is written."""
        repo = self.fill(repository, [ANNA, OLE])
        before = repo.snapshot()
        with pytest.raises(RepositoryError):
            _commit(repo, create_groups={"Fresh"}, **changes)
        after = repo.snapshot()
        assert (before.version, before.state()) == (after.version, after.state())

    def test_identity_is_nfc_and_str_lower(self, repository: UserRepository) -> None:
        """ß/ss, ﬁ/fi and ς/σ are separate users; case and decomposed accents find the same one."""
        twins = ["straße@firma.de", "strasse@firma.de", "\ufb01nn@firma.no", "finn@firma.no"]
        twins += ["οδυσσευς@firma.gr", "οδυσσευσ@firma.gr", "josé@firma.no"]
        repo = self.fill(repository, [User(email=e) for e in twins])
        snap = repo.snapshot()
        assert len(twins) == len(snap)
        found = snap.get("JOSE\u0301@FIRMA.NO")
        assert found is not None
        assert "josé@firma.no" == found.email
        _commit(repo, delete=["STRAßE@firma.de", "jose\u0301@firma.no"])
        assert sorted(set(twins) - {"straße@firma.de", "josé@firma.no"}) == sorted(
            u.email for u in repo.snapshot()
        )

    def test_not_found_is_a_key_error(self, repository: UserRepository) -> None:
        """Updating or deleting a missing user raises UserNotFoundError, also a KeyError."""
        repo = self.fill(repository)
        with pytest.raises(KeyError):
            _commit(repo, update=[User(email="nobody@firma.no")])
        with pytest.raises(UserNotFoundError, match=r"nobody@firma\.no"):
            _commit(repo, delete=["nobody@firma.no"])

    def test_groups_and_departments_can_be_created_and_removed(
        self, repository: UserRepository
    ) -> None:
        """Empty groups and departments can be created and deleted."""
        repo = self.fill(repository)
        _commit(repo, create_groups={"G"}, create_departments={"D"})
        snap = repo.snapshot()
        assert ({"G"}, {"D"}) == (set(snap.groups), set(snap.departments))
        _commit(repo, delete_groups={"G"}, delete_departments={"D"})
        assert (frozenset(), frozenset()) == (repo.snapshot().groups, repo.snapshot().departments)

    def test_snapshots_do_not_change(self, repository: UserRepository) -> None:
        """A snapshot taken before a commit still shows the old content."""
        repo = self.fill(repository, [ANNA])
        snap = repo.snapshot()
        _commit(repo, delete=["anna.berg@firma.no"])
        assert "anna.berg@firma.no" in snap
        assert 1 == len(snap)
        assert 0 == len(repo.snapshot())

    def test_nasty_strings_round_trip(self, repository: UserRepository) -> None:
        """Quotes, SQL-ish text, formulas and non-Latin letters are stored exactly."""
        nasty = User(
            email="o'neil@firma.no",
            first_name="Robert'); DROP TABLE users;--",
            last_name='=HYPERLINK("x")',
            department="Ærø ÅØ",
            groups={"Group, with comma", "Ünïcödé", "表", "tab\there", "back\\slash"},
            attributes={"note": "line\nbreak", "empty-ish": " x ", "csv": '"a",b\r\nc', "n": "\\N"},
        )
        repo = self.fill(repository)
        _commit(repo, create=[nasty], create_groups=nasty.groups, create_departments={"Ærø ÅØ"})
        stored = repo.snapshot().get("O'NEIL@firma.no")
        assert stored is not None
        assert nasty.to_dict() == stored.to_dict()

    @settings(
        max_examples=15,
        deadline=None,
        # One store per example would make the suite too slow for a database; every subclass
        # runs it against another store (another executor), from the same strategies.
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.differing_executors,
        ],
    )
    @given(data=st.data())
    def test_any_change_set_ends_as_in_the_reference_store(
        self, repository: UserRepository, data: st.DataObject
    ) -> None:
        """Hypothesis: after any fitting change set, the store holds what the in-memory one does."""
        # One store for all examples: each empties it first, through the protocol.
        held = repository.snapshot()
        emptied = ChangeSet(
            delete=[u.email for u in held],
            delete_groups=held.groups,
            delete_departments=held.departments,
        )
        repository.commit(emptied, expected_version=held.version)
        reference = InMemoryUserRepository()
        for _ in range(2):  # some content, then changes to it
            before = reference.snapshot()
            changes = data.draw(_change_sets(before))
            reference.commit(changes, expected_version=before.version)
            version = repository.commit(changes, expected_version=repository.snapshot().version)
        after = repository.snapshot()
        assert (version, reference.snapshot().state()) == (after.version, after.state())

    def test_concurrent_commits_from_one_version(self, repository: UserRepository) -> None:
        """Of several commits made from the same version, exactly one wins; the rest are stale."""
        repo = self.fill(repository)
        version = repo.snapshot().version
        outcomes: list[str] = []
        barrier = threading.Barrier(4)

        def worker(i: int) -> None:
            barrier.wait()
            try:
                repo.commit(
                    ChangeSet(create=[User(email=f"w{i}@firma.no")]), expected_version=version
                )
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

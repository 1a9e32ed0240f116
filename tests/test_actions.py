"""The single-user actions: each one plan, one atomic commit, version-checked, with its undo."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ADMIN, ANNA, OLE
from userimport import (
    ApplyResult,
    InMemoryUserRepository,
    RepositoryError,
    SettingsError,
    StalePlanError,
    User,
    UserNotFoundError,
    actions,
    add_user,
    apply_plan,
    delete_user,
    edit_user,
    send_welcome_email,
    set_admin,
)
from userimport.model import ChangeSet, Snapshot
from userimport.notify import Notification

KARI = User(
    email="Kari@Firma.no",
    first_name="Kari",
    last_name="Dahl",
    department="Sales",
    groups={"Oslo", "Newsroom"},
)


class Recorder:
    """A notifier that records who it welcomed, or fails every send."""

    def __init__(self, *, fail: bool = False) -> None:
        self.sent: list[str] = []
        self.fail = fail

    def send_welcome(self, user: User) -> None:
        if self.fail:
            raise ConnectionError("connection dropped")
        self.sent.append(user.email)


class Racing:
    """A repository where another writer commits right after the first ``times`` snapshots."""

    def __init__(
        self, inner: InMemoryUserRepository, other: ChangeSet, *, times: float = 1
    ) -> None:
        self.inner = inner
        self.other = other
        self.times = times

    def snapshot(self) -> Snapshot:
        snap = self.inner.snapshot()
        if self.times > 0:
            self.times -= 1
            self.inner.commit(self.other, expected_version=snap.version)
        return snap

    def commit(self, changes: ChangeSet, *, expected_version: str) -> str:
        return self.inner.commit(changes, expected_version=expected_version)


def undo(result: ApplyResult, repo: InMemoryUserRepository) -> None:
    """Apply the undo plan of an action."""
    apply_plan(result.undo, repo)


# -- add_user ----------------------------------------------------------------------------------


def test_add_user_creates_the_user_and_new_groups(seeded_repo: InMemoryUserRepository) -> None:
    """add_user creates the user in an existing department, creating the groups that are new."""
    result = add_user(seeded_repo, KARI)
    snap = seeded_repo.snapshot()
    assert (1, 0, 0) == (result.created, result.updated, result.deleted)
    assert KARI == snap.get("kari@firma.no")
    assert {"Newsroom"} == set(result.plan.new_groups)
    assert "Newsroom" in snap.groups
    assert "create" == result.plan.entries[0].action
    assert () == result.notifications


def test_add_user_uses_stored_spelling(seeded_repo: InMemoryUserRepository) -> None:
    """A department or group named in another case is the existing one, not a new one."""
    kari = User(
        email="kari@firma.no",
        first_name="Kari",
        last_name="Dahl",
        department="sales",
        groups={"OSLO", "oslo"},
    )
    add_user(seeded_repo, kari)
    stored = seeded_repo.snapshot().get("kari@firma.no")
    assert stored is not None
    assert ("Sales", frozenset({"Oslo"})) == (stored.department, stored.groups)


def test_add_user_refuses_a_new_department(seeded_repo: InMemoryUserRepository) -> None:
    """A department that does not exist is refused: new departments come through an import."""
    before = seeded_repo.snapshot()
    with pytest.raises(RepositoryError, match="only through an import"):
        add_user(
            seeded_repo, User(email="k@firma.no", first_name="K", last_name="D", department="X")
        )
    assert before is seeded_repo.snapshot()


@pytest.mark.parametrize(
    ("user", "message"),
    [
        (User(email="k@firma.no", last_name="D", department="Sales"), "first_name is empty"),
        (User(email="k@firma.no", first_name="K", department="Sales"), "last_name is empty"),
        (User(email="", first_name="K", last_name="D", department="Sales"), "email is empty"),
        (User(email="not-an-email", first_name="K", last_name="D", department="Sales"), "valid"),
        (User(email="k@firma.no", first_name="K", last_name="D"), "department is empty"),
    ],
)
def test_add_user_requires_names_email_and_department(
    user: User, message: str, seeded_repo: InMemoryUserRepository
) -> None:
    """A missing name, email or department, or an invalid email, is a SettingsError."""
    with pytest.raises(SettingsError, match=message):
        add_user(seeded_repo, user)


def test_add_user_refuses_an_existing_email(seeded_repo: InMemoryUserRepository) -> None:
    """An email that exists (in any case) is refused, pointing at edit_user."""
    anna = User(email="ANNA.BERG@firma.no", first_name="A", last_name="B", department="Sales")
    with pytest.raises(RepositoryError, match="edit_user"):
        add_user(seeded_repo, anna)


def test_add_user_sends_the_welcome_email(seeded_repo: InMemoryUserRepository) -> None:
    """With send_welcome_email the notifier welcomes the new user after the commit."""
    notifier = Recorder()
    result = add_user(seeded_repo, KARI, send_welcome_email=True, notifier=notifier)
    assert [KARI.email] == notifier.sent
    assert (Notification(email=KARI.email, sent=True),) == result.notifications


def test_add_user_reports_a_failing_notifier(seeded_repo: InMemoryUserRepository) -> None:
    """A failed welcome email is reported in the result; the user is still added."""
    result = add_user(seeded_repo, KARI, send_welcome_email=True, notifier=Recorder(fail=True))
    expected = Notification(
        email=KARI.email, sent=False, error="ConnectionError: connection dropped"
    )
    assert (expected,) == result.notifications
    assert (KARI.email,) == result.not_notified
    assert KARI.email in seeded_repo.snapshot()


def test_add_user_welcome_needs_a_notifier(seeded_repo: InMemoryUserRepository) -> None:
    """Asking for the welcome email without a notifier changes nothing."""
    before = seeded_repo.snapshot()
    with pytest.raises(SettingsError, match="notifier"):
        add_user(seeded_repo, KARI, send_welcome_email=True)
    assert before is seeded_repo.snapshot()


def test_add_user_can_add_an_admin(seeded_repo: InMemoryUserRepository) -> None:
    """A user marked as admin is added as an admin."""
    boss = User(
        email="b2@firma.no", first_name="B", last_name="S", department="Sales", is_admin=True
    )
    add_user(seeded_repo, boss)
    stored = seeded_repo.snapshot().get("b2@firma.no")
    assert stored is not None
    assert True is stored.is_admin


def test_add_user_undo_restores(seeded_repo: InMemoryUserRepository) -> None:
    """The undo deletes the user and the groups the action created."""
    before = seeded_repo.snapshot().state()
    undo(add_user(seeded_repo, KARI), seeded_repo)
    assert before == seeded_repo.snapshot().state()


# -- edit_user ---------------------------------------------------------------------------------


def test_edit_user_changes_only_the_given_fields(seeded_repo: InMemoryUserRepository) -> None:
    """edit_user changes the given fields and leaves the others as they were."""
    result = edit_user(
        seeded_repo,
        "ole@firma.no",
        first_name="Olav",
        department="sales",
        groups={"tech", "Drones"},
    )
    stored = seeded_repo.snapshot().get("ole@firma.no")
    expected = User(
        email="ole@firma.no",
        first_name="Olav",
        last_name="Hansen",
        department="Sales",
        groups={"Tech", "Drones"},
        attributes={"title": "Engineer"},
    )
    assert expected == stored
    assert 1 == result.updated
    assert ("first_name", "department", "groups") == result.plan.entries[0].changed
    assert {"Drones"} == set(result.plan.new_groups)


def test_edit_user_merges_attributes(seeded_repo: InMemoryUserRepository) -> None:
    """Attributes are merged into the user's; a None value removes one."""
    edit_user(seeded_repo, "ole@firma.no", attributes={"phone": "+47 1", "title": None})
    stored = seeded_repo.snapshot().get("ole@firma.no")
    assert stored is not None
    assert {"phone": "+47 1"} == dict(stored.attributes)


def test_edit_user_without_a_change_commits_nothing(seeded_repo: InMemoryUserRepository) -> None:
    """Editing a field to its current value changes nothing, not even the version."""
    before = seeded_repo.snapshot()
    result = edit_user(seeded_repo, "ANNA.BERG@firma.no", first_name="Anna")
    assert (0, before.version) == (result.updated, result.version)
    assert "unchanged" == result.plan.entries[0].action


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "new@firma.no"}, "identity and cannot change"),
        ({"is_admin": True}, "set_admin"),
        ({"phone": "1"}, "cannot change phone"),
        ({"first_name": "  "}, "first_name is empty"),
        ({"groups": "Oslo"}, "set of names"),
        ({"attributes": ["title"]}, "mapping"),
    ],
)
def test_edit_user_refuses_bad_fields(
    fields: dict[str, object], message: str, seeded_repo: InMemoryUserRepository
) -> None:
    """The email, admin rights, unknown fields and invalid values are refused clearly."""
    before = seeded_repo.snapshot()
    with pytest.raises(SettingsError, match=message):
        edit_user(seeded_repo, "ole@firma.no", **fields)  # type: ignore[arg-type]
    assert before is seeded_repo.snapshot()


def test_edit_user_refuses_a_new_department(seeded_repo: InMemoryUserRepository) -> None:
    """A department that does not exist is refused."""
    with pytest.raises(RepositoryError, match="no department 'Marketing'"):
        edit_user(seeded_repo, "ole@firma.no", department="Marketing")


def test_edit_unknown_user(seeded_repo: InMemoryUserRepository) -> None:
    """Editing a user that does not exist raises UserNotFoundError."""
    with pytest.raises(UserNotFoundError, match=r"nobody@firma\.no"):
        edit_user(seeded_repo, "nobody@firma.no", first_name="X")


def test_edit_user_undo_restores(seeded_repo: InMemoryUserRepository) -> None:
    """The undo gives the user the old fields back and removes the new groups."""
    before = seeded_repo.snapshot().state()
    result = edit_user(seeded_repo, "ole@firma.no", last_name="Berg", groups={"New"})
    undo(result, seeded_repo)
    assert before == seeded_repo.snapshot().state()


# -- delete_user and set_admin -----------------------------------------------------------------


def test_delete_user(seeded_repo: InMemoryUserRepository) -> None:
    """delete_user deletes one user, an admin too."""
    result = delete_user(seeded_repo, "BOSS@firma.no")
    assert 1 == result.deleted
    assert ADMIN.email not in seeded_repo.snapshot()


def test_delete_user_undo_restores(seeded_repo: InMemoryUserRepository) -> None:
    """The undo brings the user back with every field."""
    before = seeded_repo.snapshot().state()
    undo(delete_user(seeded_repo, OLE.email), seeded_repo)
    assert before == seeded_repo.snapshot().state()


def test_delete_unknown_user(seeded_repo: InMemoryUserRepository) -> None:
    """Deleting a user that does not exist raises UserNotFoundError."""
    with pytest.raises(UserNotFoundError):
        delete_user(seeded_repo, "nobody@firma.no")


@pytest.mark.parametrize(("email", "grant"), [(ANNA.email, True), (ADMIN.email, False)])
def test_set_admin_grants_and_revokes(
    email: str, grant: bool, seeded_repo: InMemoryUserRepository
) -> None:
    """set_admin grants or revokes admin rights, and its undo restores them."""
    before = seeded_repo.snapshot().state()
    result = set_admin(seeded_repo, email, grant)
    stored = seeded_repo.snapshot().get(email)
    assert stored is not None
    assert (grant, 1, ("is_admin",)) == (
        stored.is_admin,
        result.updated,
        result.plan.entries[0].changed,
    )
    undo(result, seeded_repo)
    assert before == seeded_repo.snapshot().state()


def test_set_admin_to_the_current_rights(seeded_repo: InMemoryUserRepository) -> None:
    """Granting rights a user has already changes nothing."""
    assert 0 == set_admin(seeded_repo, ADMIN.email, True).updated


def test_set_admin_needs_a_bool(seeded_repo: InMemoryUserRepository) -> None:
    """is_admin must be True or False, not a word that might mean either."""
    with pytest.raises(SettingsError, match="True or False"):
        set_admin(seeded_repo, ADMIN.email, "no")  # type: ignore[arg-type]


def test_set_admin_unknown_user(seeded_repo: InMemoryUserRepository) -> None:
    """Changing the rights of a user that does not exist raises UserNotFoundError."""
    with pytest.raises(UserNotFoundError):
        set_admin(seeded_repo, "nobody@firma.no", True)


# -- stale stores ------------------------------------------------------------------------------


ACTIONS = {
    "add": lambda repo, **kw: add_user(repo, KARI, **kw),
    "edit": lambda repo, **kw: edit_user(repo, OLE.email, first_name="Olav", **kw),
    "add_groups": lambda repo, **kw: edit_user(repo, OLE.email, add_groups={"Oslo"}, **kw),
    "delete": lambda repo, **kw: delete_user(repo, ANNA.email, **kw),
    "set_admin": lambda repo, **kw: set_admin(repo, ANNA.email, True, **kw),
}

#: Another writer's change, racing every action: Ole's last name.
OTHER = ChangeSet(update=[User.from_dict({**OLE.to_dict(), "last_name": "Other"})])


@pytest.mark.parametrize("name", ACTIONS)
def test_actions_try_again_when_the_store_changed_under_them(
    name: str, seeded_repo: InMemoryUserRepository
) -> None:
    """Another writer commits after the action read the store: the action reads again; both kept."""
    ACTIONS[name](Racing(seeded_repo, OTHER))
    expected = InMemoryUserRepository([ANNA, ADMIN, OLE], groups={"Empty group"})
    expected.commit(OTHER, expected_version=expected.snapshot().version)
    ACTIONS[name](expected)
    assert expected.snapshot().state() == seeded_repo.snapshot().state()


@pytest.mark.parametrize("name", ACTIONS)
def test_actions_with_an_expected_version_refuse_a_changed_store(
    name: str, seeded_repo: InMemoryUserRepository
) -> None:
    """With expected_version, a store changed after that version: StalePlanError, no change."""
    version = seeded_repo.snapshot().version
    with pytest.raises(StalePlanError):
        ACTIONS[name](Racing(seeded_repo, OTHER), expected_version=version)
    only_the_other = InMemoryUserRepository([ANNA, ADMIN, OLE], groups={"Empty group"})
    only_the_other.commit(OTHER, expected_version=only_the_other.snapshot().version)
    assert only_the_other.snapshot().state() == seeded_repo.snapshot().state()
    with pytest.raises(StalePlanError, match="read it again"):
        ACTIONS[name](seeded_repo, expected_version=version)


@pytest.mark.parametrize("name", ACTIONS)
def test_actions_at_the_expected_version_apply(
    name: str, seeded_repo: InMemoryUserRepository
) -> None:
    """With expected_version equal to the store's, the action applies as without it."""
    result = ACTIONS[name](seeded_repo, expected_version=seeded_repo.snapshot().version)
    assert result.version == seeded_repo.snapshot().version


def test_actions_give_up_after_so_many_tries(
    seeded_repo: InMemoryUserRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store that changes under every try: StalePlanError after ATTEMPTS tries, no change."""
    monkeypatch.setattr(actions, "ATTEMPTS", 3)
    racing = Racing(seeded_repo, OTHER, times=float("inf"))
    with pytest.raises(StalePlanError, match="tried 3 times"):
        edit_user(racing, ANNA.email, first_name="Anne")
    assert ANNA == seeded_repo.snapshot().get(ANNA.email)


def test_edit_user_adds_and_removes_groups(seeded_repo: InMemoryUserRepository) -> None:
    """add_groups and remove_groups change the stored set; names match in any case."""
    result = edit_user(
        seeded_repo, OLE.email, add_groups={"oslo", "Nye"}, remove_groups={"TECH", "Absent"}
    )
    assert {"Bergen", "Oslo", "Nye"} == set(seeded_repo.snapshot().users[OLE.key].groups)
    assert "Nye" in seeded_repo.snapshot().groups
    undo(result, seeded_repo)
    assert OLE == seeded_repo.snapshot().get(OLE.email)
    assert "Nye" not in seeded_repo.snapshot().groups
    assert 0 == edit_user(seeded_repo, OLE.email, remove_groups={"Absent"}).updated


@pytest.mark.parametrize(
    "fields",
    [
        {"groups": {"A"}, "add_groups": {"B"}},
        {"groups": {"A"}, "remove_groups": {"B"}},
        {"add_groups": {"A"}, "remove_groups": {"a"}},
        {"add_groups": "A"},
        {"remove_groups": {""}},
    ],
)
def test_edit_user_refuses_contradictory_groups(
    fields: dict[str, Any], seeded_repo: InMemoryUserRepository
) -> None:
    """groups with add/remove_groups, a group both added and removed, or no set: SettingsError."""
    with pytest.raises(SettingsError):
        edit_user(seeded_repo, OLE.email, **fields)


# -- send_welcome_email ------------------------------------------------------------------------


def test_send_welcome_email(seeded_repo: InMemoryUserRepository) -> None:
    """The welcome email goes to an existing user; the store does not change."""
    before = seeded_repo.snapshot()
    notifier = Recorder()
    note = send_welcome_email(seeded_repo, "ole@FIRMA.no", notifier)
    assert Notification(email=OLE.email, sent=True) == note
    assert [OLE.email] == notifier.sent
    assert before is seeded_repo.snapshot()


def test_send_welcome_email_failure_is_reported(seeded_repo: InMemoryUserRepository) -> None:
    """A failing notifier is reported in the Notification, not raised."""
    note = send_welcome_email(seeded_repo, OLE.email, Recorder(fail=True))
    assert (
        Notification(email=OLE.email, sent=False, error="ConnectionError: connection dropped")
        == note
    )


def test_send_welcome_email_unknown_user(seeded_repo: InMemoryUserRepository) -> None:
    """Welcoming a user that does not exist raises UserNotFoundError."""
    with pytest.raises(UserNotFoundError):
        send_welcome_email(seeded_repo, "nobody@firma.no", Recorder())


def test_threads_adding_groups_lose_none(seeded_repo: InMemoryUserRepository) -> None:
    """4 threads add 10 groups each to one user of the in-memory store: all 40 are kept."""
    import threading

    def add(me: int) -> None:
        for n in range(10):
            edit_user(seeded_repo, ANNA.email, add_groups={f"t{me}-{n}"})

    threads = [threading.Thread(target=add, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    expected = {*ANNA.groups, *(f"t{i}-{n}" for i in range(4) for n in range(10))}
    assert expected == set(seeded_repo.snapshot().users[ANNA.key].groups)


def test_actions_refuse_invisible_characters(seeded_repo: InMemoryUserRepository) -> None:
    """A zero-width space in a name, group or email is refused with where it is (no one to warn)."""
    with pytest.raises(SettingsError, match=r"U\+200B ZERO WIDTH SPACE, at position 4"):
        edit_user(seeded_repo, "ole@firma.no", first_name="Ole\u200b")
    with pytest.raises(SettingsError, match="invisible character"):
        edit_user(seeded_repo, "ole@firma.no", groups={"Te\u00adch"})
    with pytest.raises(SettingsError, match="invisible character"):
        add_user(
            seeded_repo,
            User(email="k\u200bari@firma.no", first_name="K", last_name="D", department="Sales"),
        )


def test_actions_compose_decomposed_names(seeded_repo: InMemoryUserRepository) -> None:
    """A decomposed group or department name is the stored composed one, not a new one."""
    add_user(
        seeded_repo,
        User(
            email="x@firma.no", first_name="X", last_name="Y", department="Sales", groups={"Réseau"}
        ),
    )
    edit_user(seeded_repo, "ole@firma.no", groups={"Re\u0301seau"}, first_name="O\u0308le")
    snap = seeded_repo.snapshot()
    assert {"Réseau"} == {g for g in snap.groups if g.startswith("R")}
    stored = snap.get("ole@firma.no")
    assert stored is not None
    assert ("Öle", frozenset({"Réseau"})) == (stored.first_name, stored.groups)

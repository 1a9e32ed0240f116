"""The shared value types: users, settings, snapshots and change sets."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests import strategies as s
from userimport import ImportSettings, Permissions, SettingsError, Snapshot, User
from userimport.model import ChangeSet, UserColumns, email_key


def test_email_is_the_identity_case_insensitively() -> None:
    """Two users whose emails differ only in case and blanks are the same user."""
    assert User(email=" Anna@Firma.no ") == User(email="anna@firma.no")
    assert "anna@firma.no" == User(email=" Anna@Firma.no ").key
    assert "Anna@Firma.no" == User(email=" Anna@Firma.no ").email


def test_user_is_frozen_and_normalised() -> None:
    """Users are immutable; groups become a frozenset, an empty department None."""
    user = User(email="a@b.no", department=" ", groups=["x", " y ", ""], attributes={"k": 1})  # type: ignore[dict-item]
    assert (None, frozenset({"x", "y"}), {"k": "1"}) == (
        user.department,
        user.groups,
        dict(user.attributes),
    )
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        user.first_name = "X"  # type: ignore[misc]
    with pytest.raises(TypeError):
        user.attributes["k"] = "2"  # type: ignore[index]


def test_groups_must_not_be_a_single_string() -> None:
    """A string for groups is a mistake (it would become a set of letters)."""
    with pytest.raises(TypeError):
        User(email="a@b.no", groups="Oslo")


@given(s.users())
def test_user_dict_round_trip(user: User) -> None:
    """to_dict and from_dict are inverse."""
    assert user.to_dict() == User.from_dict(user.to_dict()).to_dict()


@given(s.users())
def test_users_are_hashable(user: User) -> None:
    """Users hash (attributes excluded) so they can live in sets."""
    assert user in {user}


def test_email_key() -> None:
    """email_key trims, composes (NFC) and lower-cases: ß and ss stay two keys."""
    assert "straße@firma.no" == email_key(" STRAßE@Firma.no ")
    assert email_key("strasse@firma.no") != email_key("straße@firma.no")
    assert "josé@firma.no" == email_key("Jose\u0301@firma.no")


@given(st.text(max_size=20))
def test_email_key_is_nfc_then_lower(text: str) -> None:
    """email_key is exactly NFC of the trimmed text, lower-cased with ``str.lower``."""
    assert unicodedata.normalize("NFC", text.strip()).lower() == email_key(text)


@given(st.text(max_size=12))
def test_nfc_and_nfd_spellings_are_one_user(text: str) -> None:
    """A user typed with decomposed accents is the same user, with the same text, as composed."""
    nfd, nfc = (unicodedata.normalize(f, text) for f in ("NFD", "NFC"))
    a = User(email=f"{nfd}@firma.no", first_name=nfd, groups=[nfd or "g"], attributes={"t": nfd})
    b = User(email=f"{nfc}@firma.no", first_name=nfc, groups=[nfc or "g"], attributes={"t": nfc})
    assert a == b
    assert a.key == b.key
    assert (a.first_name, a.groups, dict(a.attributes)) == (
        b.first_name,
        b.groups,
        dict(b.attributes),
    )


@pytest.mark.parametrize(
    "bad",
    [
        {"on_existing": "merge"},
        {"groups": "union"},
        {"max_deletes": -1},
        {"max_deletes": 1.5},
        {"max_deletes": True},
    ],
)
def test_settings_are_checked(bad: dict) -> None:  # type: ignore[type-arg]
    """Impossible settings raise SettingsError (also a ValueError), naming the setting."""
    with pytest.raises(SettingsError, match=next(iter(bad))):
        ImportSettings(**bad)
    with pytest.raises(ValueError):  # noqa: PT011
        ImportSettings(**bad)


@given(s.settings)
def test_settings_dict_round_trip(settings: ImportSettings) -> None:
    """Settings survive to_dict / from_dict."""
    assert settings == ImportSettings.from_dict(settings.to_dict())


def test_unknown_setting_is_refused() -> None:
    """from_dict refuses keys it does not know, rather than ignoring a typo."""
    with pytest.raises(SettingsError, match="delete_mising"):
        ImportSettings.from_dict({"delete_mising": True})


def test_snapshot_collects_groups_and_departments() -> None:
    """A snapshot knows the groups and departments its users name, plus empty ones."""
    snap = Snapshot.from_users(
        [User(email="a@b.no", department="HR", groups={"G"})], version="1", groups={"E"}
    )
    assert ({"G", "E"}, {"HR"}) == (set(snap.groups), set(snap.departments))
    assert "A@B.NO" in snap
    assert snap.get("A@b.no") is not None


def test_snapshot_frame() -> None:
    """The snapshot's frame has one row per user keyed by email, groups as sorted tuples."""
    snap = Snapshot.from_users(
        [User(email="A@b.no", first_name="A", groups={"y", "x"}, is_admin=True)], version="1"
    )
    row = snap.frame.loc["a@b.no"]
    assert ("A@b.no", "A", "", ("x", "y"), True) == (
        row["email"],
        row["first_name"],
        row["department"],
        row["groups"],
        row["is_admin"],
    )


def test_change_set_emptiness() -> None:
    """A change set with nothing in it is empty; any part makes it not."""
    assert ChangeSet().is_empty
    assert not ChangeSet(create_groups={"G"}).is_empty
    with pytest.raises(TypeError):
        ChangeSet(delete="a@b.no")


@given(s.stores())
def test_snapshot_from_frame_is_the_same_store(users: list[User]) -> None:
    """A snapshot built from another's frame holds the same users, groups and departments."""
    snap = Snapshot.from_users(users, version="v1", groups={"Empty"}, departments={"Nobody"})
    again = Snapshot.from_frame(snap.frame, version="v1", groups={"Empty"}, departments={"Nobody"})
    assert snap.state() == again.state()
    assert len(snap) == len(again)
    for user in users:
        assert user.key in again
        found = again.get(user.email.upper())
        assert found is not None
        assert attrs.asdict(snap.users[user.key]) == attrs.asdict(found)
    assert again.get("nobody@nowhere.no") is None


@given(s.users())
def test_clean_user_is_the_user_the_converters_make(user: User) -> None:
    """Bulk paths skip the converters only for values already in their normal form."""
    from userimport.model import clean_user

    again = clean_user(
        user.email,
        user.first_name,
        user.last_name,
        user.department,
        tuple(sorted(user.groups)),
        user.is_admin,
        dict(user.attributes),
    )
    assert attrs.asdict(user) == attrs.asdict(again)
    assert user == again
    assert hash(user) == hash(again)


@pytest.mark.parametrize("enabled", [True, False])
def test_bulk_restores_the_garbage_collector(enabled: bool) -> None:
    """Bulk work pauses the cyclic collector and leaves it as it found it, also on an error."""
    import gc

    from userimport.model import bulk

    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        inside = []

        def work() -> None:
            with bulk():
                inside.append(gc.isenabled())
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            work()
        assert [False] == inside
        assert enabled == gc.isenabled()
    finally:
        gc.enable() if was else gc.disable()


def test_permissions_default_to_the_settings_defaults() -> None:
    """Permissions() are ImportSettings()'s permissions, and say which of others go beyond."""
    assert Permissions() == Permissions.from_settings(ImportSettings())
    wide = Permissions(admin_rights=True, max_deletes=None, max_delete_fraction=0.2)
    assert ("admin_rights", "max_deletes", "max_delete_fraction") == wide.beyond(Permissions())
    assert () == Permissions(max_deletes=3, max_delete_fraction=None).beyond(
        Permissions(max_delete_fraction=None)
    )
    assert wide == Permissions.from_settings(wide.to_settings(ImportSettings()))


@pytest.mark.parametrize(
    "bad",
    [{"admin_rights": "no"}, {"delete_admins": 1}, {"max_deletes": -1}, {"max_delete_fraction": 2}],
)
def test_permissions_are_typed(bad: dict[str, object]) -> None:
    """A permission of the wrong type is a SettingsError, never truthy."""
    with pytest.raises(SettingsError):
        Permissions(**bad)  # type: ignore[arg-type]


def test_permissions_deletion_limit_is_the_lower_limit() -> None:
    """Permissions.deletion_limit: the lower of the absolute and relative limits, or None."""
    from userimport import Permissions

    assert 10 == Permissions(max_deletes=50, max_delete_fraction=0.1).deletion_limit(100)
    assert 50 == Permissions(max_deletes=50, max_delete_fraction=0.1).deletion_limit(10_000)
    assert 1 == Permissions(max_deletes=None, max_delete_fraction=0.1).deletion_limit(3)
    assert Permissions(max_deletes=None, max_delete_fraction=None).deletion_limit(3) is None


def test_a_users_key_is_made_once_and_follows_its_email() -> None:
    """User.key is kept once made (issue 17), and a user evolved to another email has that key."""
    user = User(email="Anna.Berg@Firma.NO")
    assert "anna.berg@firma.no" == user.key
    assert user.key is user.key
    assert "ole@firma.no" == attrs.evolve(user, email="Ole@Firma.no").key
    assert User(email="anna.berg@firma.no") == user
    assert hash(User(email="anna.berg@firma.no")) == hash(user)
    assert "key" not in repr(user)


def test_user_columns_keep_the_last_of_a_user_named_twice() -> None:
    """UserColumns.of keeps each key once (the last one given) and names the repeated emails."""
    first, other, last = (
        User(email="Ann@firma.no", first_name="Ann"),
        User(email="bo@firma.no", groups={"G"}, attributes={"x": "1"}),
        User(email="ann@FIRMA.no", first_name="Anne", department="Sales", is_admin=True),
    )
    columns = UserColumns.of([first, other, last])
    assert ["ann@firma.no", "bo@firma.no"] == columns.key
    assert ["ann@FIRMA.no", "bo@firma.no"] == columns.email
    assert (["Anne", ""], ["Sales", None], [True, False]) == (
        columns.first_name,
        columns.department,
        columns.is_admin,
    )
    assert ([frozenset(), frozenset({"G"})], [{}, {"x": "1"}]) == (
        columns.groups,
        columns.attributes,
    )
    assert ("ann@FIRMA.no",) == columns.repeated
    assert 3 == len(UserColumns.of([first, other, last], unique=False))
    assert (first, other, last) == UserColumns.of([first, other, last], unique=False).users()
    assert (0, ()) == (len(UserColumns.of([])), UserColumns.of([]).users())


def test_a_change_set_made_from_columns_makes_its_users_on_first_use() -> None:
    """ChangeSet._from_columns: the users appear when read, equal to an eager change set's."""
    users = (User(email="a@firma.no", groups={"G"}), User(email="b@firma.no", department="D"))
    columns = UserColumns.of(users)
    changes = ChangeSet._from_columns(
        columns, UserColumns.of([]), delete=["c@firma.no"], create_groups={"G"}
    )
    assert not changes.is_empty
    assert (columns, 0) == (changes.columns()[0], len(changes.columns()[1]))
    assert users == changes.create
    assert changes.create is changes.create  # made once
    eager = ChangeSet(create=users, delete=["c@firma.no"], create_groups={"G"})
    assert eager == changes
    assert ChangeSet._from_columns(UserColumns.of([]), UserColumns.of([])).is_empty
    with pytest.raises(AttributeError):
        changes.nothing  # type: ignore[attr-defined]  # noqa: B018


@given(s.users())
def test_a_user_survives_pickle_and_deepcopy(user: User) -> None:
    """pickle and copy.deepcopy give an equal user (the attributes mapping is read-only)."""
    import copy
    import pickle

    for made in (pickle.loads(pickle.dumps(user)), copy.deepcopy(user)):
        assert (user, user.key, dict(user.attributes)) == (made, made.key, dict(made.attributes))
        with pytest.raises(TypeError):
            made.attributes["x"] = "y"  # type: ignore[index]
    changes = ChangeSet(create=[user], delete=["gone@firma.no"])
    assert changes == pickle.loads(pickle.dumps(changes))


def test_a_snapshot_survives_pickle_and_deepcopy(tmp_path: Path) -> None:
    """A snapshot, of users or of a store's frame, pickles and deep-copies to an equal one."""
    import copy
    import pickle

    from userimport import InMemoryUserRepository, SqlUserRepository

    users = [
        User(email="a@firma.no", groups={"G", "H"}, department="D", attributes={"x": "1"}),
        User(email="b@firma.no", is_admin=True),
    ]
    with SqlUserRepository(f"sqlite:///{tmp_path / 's.db'}") as repo:
        repo.commit(
            ChangeSet(create=users, create_groups={"G", "H", "E"}, create_departments={"D"}),
            expected_version=repo.snapshot().version,
        )
        stored = repo.snapshot()
    snaps = [
        Snapshot.from_users(users, version="v", groups={"E"}),
        InMemoryUserRepository(users).snapshot(),
        stored,
    ]
    for snap in snaps:
        for made in (pickle.loads(pickle.dumps(snap)), copy.deepcopy(snap)):
            assert (snap.version, snap.groups, snap.departments) == (
                made.version,
                made.groups,
                made.departments,
            )
            assert dict(snap.users) == dict(made.users)
            assert snap.frame.equals(made.frame)

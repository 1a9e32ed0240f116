"""
The value types every stage shares: users, import settings, store snapshots and change sets.

All of them are frozen attrs classes; change them with :func:`attrs.evolve`.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import math
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

import attrs

from .errors import SettingsError
from .fields import BUILTIN_KEYS

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "PROPERTIES",
    "ChangeSet",
    "ImportSettings",
    "Permissions",
    "Snapshot",
    "User",
    "email_key",
]

#: The core properties a column can feed (the built-in fields' keys); custom ones are written
#: ``attributes.<name>``.
PROPERTIES: tuple[str, ...] = BUILTIN_KEYS

#: Columns of :attr:`Snapshot.frame`, after its ``key`` index.
USER_COLUMNS: tuple[str, ...] = (
    "email",
    "first_name",
    "last_name",
    "department",
    "groups",
    "is_admin",
    "attributes",
)


def email_key(email: str) -> str:
    """
    Return the identity key of an email address: trimmed, in NFC, lower-cased.

    Lower-cased with ``str.lower``, not ``str.casefold``: ``straße@firma.no`` and
    ``strasse@firma.no`` are two addresses (mail servers treat them as two), while NFC makes
    an address typed with a decomposed accent (as macOS saves files) the same identity as the
    composed one.

    >>> email_key("  Anna.Berg@Firma.NO ")
    'anna.berg@firma.no'
    >>> email_key("STRAßE@firma.no") == email_key("strasse@firma.no")
    False
    """
    return unicodedata.normalize("NFC", email.strip()).lower()


def _text(value: object) -> str:
    """Text in NFC, trimmed: the form every stored text value has."""
    return unicodedata.normalize("NFC", str(value)).strip()


def _email_eq(email: str) -> str:
    """What two (converted) emails are compared by: :func:`email_key`, on a trimmed NFC text."""
    return email.lower()


def _optional_text(value: str | None) -> str | None:
    if value is None:
        return None
    return _text(value) or None


def _groups(value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, str):
        raise TypeError("groups must be an iterable of names, not a single string")
    return frozenset(t for g in value if g and (t := _text(g)))


def _attributes(value: Mapping[str, str] | None) -> Mapping[str, str]:
    return MappingProxyType({_text(k): _nfc(v) for k, v in (value or {}).items()})


def _nfc(value: object) -> str:
    return unicodedata.normalize("NFC", str(value))


@attrs.frozen(kw_only=True)
class User:
    """
    A user as the store holds it.

    The email is the identity: trimmed, and compared case-insensitively (two users whose
    emails differ only in case are equal; see :func:`email_key`). An existing user's email
    never changes. Every text (email, names, department, groups, attribute names and values)
    is kept in Unicode normal form C, so text typed with decomposed accents is the same text.

    Args:
        email: The identity.
        first_name: Given name.
        last_name: Family name.
        department: The department's name, or ``None``.
        groups: Names of the user groups the user belongs to.
        is_admin: Whether the user has admin rights.
        attributes: Custom properties, name to text.
    """

    email: str = attrs.field(converter=_text, eq=_email_eq)
    first_name: str = attrs.field(default="", converter=_text)
    last_name: str = attrs.field(default="", converter=_text)
    department: str | None = attrs.field(default=None, converter=_optional_text)
    groups: frozenset[str] = attrs.field(factory=frozenset, converter=_groups)
    is_admin: bool = attrs.field(default=False, converter=bool)
    attributes: Mapping[str, str] = attrs.field(factory=dict, converter=_attributes, hash=False)

    @cached_property
    def key(self) -> str:
        """
        The identity key: :func:`email_key` of the email.

        Made once per user and kept: a commit looks it up several times for every user it
        writes (to check, sort and write them).
        """
        return email_key(self.email)

    def to_dict(self) -> dict[str, Any]:
        """Return the user as plain JSON-ready data (groups sorted)."""
        return {
            "email": self.email,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "department": self.department,
            "groups": sorted(self.groups),
            "is_admin": self.is_admin,
            "attributes": dict(sorted(self.attributes.items())),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> User:
        """Build a user from :meth:`to_dict` output."""
        return cls(
            email=data["email"],
            first_name=data.get("first_name", ""),
            last_name=data.get("last_name", ""),
            department=data.get("department"),
            groups=data.get("groups", ()),
            is_admin=data.get("is_admin", False),
            attributes=data.get("attributes", {}),
        )


OnExisting = Literal["update", "skip"]
GroupsMode = Literal["add", "replace"]


def _one_of(*choices: str) -> Any:
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value not in choices:
            raise SettingsError(
                f"ImportSettings.{attribute.name} must be one of {', '.join(map(repr, choices))}, "
                f"not {value!r}"
            )

    return check


def _limit(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
        raise SettingsError(
            f"ImportSettings.{attribute.name} must be a whole number >= 0 or None, not {value!r}"
        )


def _fraction(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (
        not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 1
    ):
        raise SettingsError(
            f"ImportSettings.{attribute.name} must be a number from 0 to 1 or None, not {value!r}"
        )


def _share_of(fraction: float, users: int) -> int:
    """How many of ``users`` a relative deletion limit of ``fraction`` allows: rounded up, >= 1."""
    return max(1, math.ceil(fraction * users - 1e-9))


@attrs.frozen(kw_only=True)
class ImportSettings:
    """
    The import options of the product.

    Args:
        on_existing: ``"update"`` overwrites an existing user's fields with the file's non-empty
            cells; ``"skip"`` leaves existing users untouched, groups included.
        groups: ``"add"`` makes a user's groups the union of current and file; ``"replace"``
            makes them exactly the file's (only when the file has a groups column).
        delete_missing: Delete users of the store that are not in the file (mirror mode).
            Rows with errors and skipped rows still count as present.
        send_welcome_email: Send a welcome email to each created user after the commit.
        max_deletes: Refuse to apply a plan that deletes more users than this (``None``: no
            limit). The default, 50, stops a wrong file from emptying a store.
        max_delete_fraction: Refuse to apply a plan that deletes more than this share of the
            store's users (``0.1`` is 10 %; ``None``: no limit). Deleting one user is always
            within it, so a small store can lose one person without raising it. See
            :meth:`deletion_refusal`.
        delete_admins: Let mirror mode delete admins (never, by default).
        admin_rights: Let a mapped ``is_admin`` column grant or revoke admin rights (never, by
            default: the column is then ignored, with a warning).
    """

    on_existing: OnExisting = attrs.field(default="update", validator=_one_of("update", "skip"))
    groups: GroupsMode = attrs.field(default="add", validator=_one_of("add", "replace"))
    delete_missing: bool = attrs.field(default=False, converter=bool)
    send_welcome_email: bool = attrs.field(default=False, converter=bool)
    max_deletes: int | None = attrs.field(default=50, validator=_limit)
    max_delete_fraction: float | None = attrs.field(default=0.1, validator=_fraction)
    delete_admins: bool = attrs.field(default=False, converter=bool)
    admin_rights: bool = attrs.field(default=False, converter=bool)

    def deletion_refusal(self, deletes: int, users: int) -> str | None:
        """
        Why deleting ``deletes`` of a store's ``users`` is beyond these settings' limits.

        The absolute limit is ``max_deletes``; the relative one ``max_delete_fraction`` of
        ``users``, rounded up, and never below one user (as Okta pauses provisioning past a
        share of its users and Entra's accidental-deletion guard past a count, both hold).

        Args:
            deletes: How many users a plan deletes.
            users: How many users the store holds before it.

        Returns:
            A sentence naming the option that would allow it, or ``None`` when within limits.
        """
        if self.max_deletes is not None and deletes > self.max_deletes:
            return (
                f"the plan deletes {deletes} users, more than the limit of {self.max_deletes} "
                "(max_deletes); raise max_deletes if that is what you want"
            )
        if self.max_delete_fraction is not None and deletes:
            allowed = _share_of(self.max_delete_fraction, users)
            if deletes > allowed:
                share = f"{self.max_delete_fraction:.0%}"
                return (
                    f"the plan deletes {deletes} of the store's {users} users, more than "
                    f"{share} ({allowed}) (max_delete_fraction); raise max_delete_fraction "
                    "if that is what you want"
                )
        return None

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as plain JSON-ready data."""
        return attrs.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ImportSettings:
        """Build settings from :meth:`to_dict` output (unknown keys are an error)."""
        names = {a.name for a in attrs.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise SettingsError(f"unknown import setting(s): {', '.join(unknown)}")
        return cls(**dict(data))


def _frozenset_of_str(value: Iterable[str]) -> frozenset[str]:
    return frozenset(str(v) for v in value)


@contextlib.contextmanager
def bulk() -> Iterator[None]:
    """
    Make many objects without the cyclic garbage collector pausing again and again.

    Each collection of the oldest generation walks every object alive, so making a million
    users next to a store of a million costs more in collections than in the work itself. The
    users, sets and dicts made in bulk form no cycles, so there is nothing for it to find; it
    runs again, as before, on leaving.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def clean_user(
    email: str,
    first_name: str,
    last_name: str,
    department: str | None,
    groups: Iterable[str],
    is_admin: bool,
    attributes: Mapping[str, str],
    key: str | None = None,
) -> User:
    """
    A :class:`User` from values already in normal form (a plan's or a snapshot frame's).

    Skips the converters, which cost more than the rest of a bulk apply: only for values
    that went through them (or through validation, which makes the same forms) before.
    ``key``, when given, must be :func:`email_key` of ``email`` (a plan's or a snapshot's
    key column): :attr:`User.key` then returns it instead of making it again.
    """
    user = _new(User)
    set_email, set_first, set_last, set_department, set_groups, set_admin, set_attributes = _SLOTS
    set_email(user, email)
    set_first(user, first_name)
    set_last(user, last_name)
    set_department(user, department or None)
    set_groups(user, frozenset(groups))
    set_admin(user, bool(is_admin))
    set_attributes(user, MappingProxyType(dict(attributes)) if attributes else _NO_ATTRIBUTES)
    if key is not None:
        _set_key(user, key)
    return user


_new = object.__new__
# The setters of User's slots, in USER_COLUMNS order: what object.__setattr__ would look up.
_SLOTS = tuple(User.__dict__[name].__set__ for name in USER_COLUMNS)
# The slot that keeps User.key once made (attrs makes a cached_property of a slotted class one).
_set_key = User.__dict__["key"].__set__
#: Read-only, so every user without custom properties can share it.
_NO_ATTRIBUTES: Mapping[str, str] = MappingProxyType({})


class _FrameUsers(Mapping[str, User]):
    """
    The users of a snapshot frame, made into :class:`User` values only when asked for.

    A store read as a frame is planned against without one ``User`` per row; looking up a few
    users (``snapshot.get``) makes just those, iterating makes all of them once.
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self._all: dict[str, User] | None = None

    def _users(self) -> dict[str, User]:
        if self._all is None:
            rows = self.frame[list(USER_COLUMNS)].itertuples(index=False, name=None)
            with bulk():
                users = itertools.starmap(clean_user, rows)
                self._all = dict(zip(self.frame.index, users, strict=True))
        return self._all

    def __getitem__(self, key: str) -> User:
        if self._all is not None:
            return self._all[key]
        if not isinstance(key, str) or key not in self.frame.index:
            raise KeyError(key)
        row = self.frame.iloc[self.frame.index.get_loc(key)]
        values: list[Any] = [row[c] for c in USER_COLUMNS]
        return clean_user(*values)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self.frame.index

    def __iter__(self) -> Iterator[str]:
        return iter(self.frame.index.tolist())

    def __len__(self) -> int:
        return len(self.frame)

    def values(self) -> Any:
        """Every user, made once."""
        return self._users().values()

    def items(self) -> Any:
        """Every key and user, made once."""
        return self._users().items()


def _user_map(value: Mapping[str, User]) -> Mapping[str, User]:
    if isinstance(value, _FrameUsers):
        return value
    return MappingProxyType(dict(value))


@attrs.frozen(kw_only=True, eq=False)
class Snapshot:
    """
    A consistent view of the store at one version.

    Build one with :meth:`from_users`. The users are available both as :class:`User` values
    (:meth:`get`, iteration) and as a DataFrame (:attr:`frame`), each made on first use.

    Args:
        version: The store's version token; a plan records it and ``commit`` checks it.
        users: Every user, keyed by :func:`email_key`.
        groups: Every group name in the store (also those no user belongs to).
        departments: Every department name in the store.
    """

    version: str = attrs.field(converter=str)
    users: Mapping[str, User] = attrs.field(converter=_user_map)
    groups: frozenset[str] = attrs.field(factory=frozenset, converter=_frozenset_of_str)
    departments: frozenset[str] = attrs.field(factory=frozenset, converter=_frozenset_of_str)

    @classmethod
    def from_users(
        cls,
        users: Iterable[User],
        *,
        version: str,
        groups: Iterable[str] = (),
        departments: Iterable[str] = (),
    ) -> Snapshot:
        """
        Build a snapshot; groups and departments the users name are added to the sets.

        Args:
            users: The users of the store.
            version: The store's version token.
            groups: Group names of the store, including empty groups.
            departments: Department names of the store, including empty ones.
        """
        by_key = {u.key: u for u in users}
        all_groups = set(groups)
        all_departments = set(departments)
        for u in by_key.values():
            all_groups |= u.groups
            if u.department:
                all_departments.add(u.department)
        return cls(
            version=version,
            users=by_key,
            groups=frozenset(all_groups),
            departments=frozenset(all_departments),
        )

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        version: str,
        groups: Iterable[str] = (),
        departments: Iterable[str] = (),
    ) -> Snapshot:
        """
        Build a snapshot from a frame shaped like :attr:`frame`, without a ``User`` per row.

        The fast way for a repository that reads its store in bulk: planning works on the
        frame directly, and :class:`User` values are made only for the users looked at.

        Args:
            frame: Indexed by :func:`email_key` of the email, with the columns of
                :attr:`frame`: ``email``, ``first_name``, ``last_name``, ``department`` (``""``
                for none), ``groups`` (sorted tuples), ``is_admin`` (bool), ``attributes``
                (dicts). Not copied: do not change it afterwards.
            version: The store's version token.
            groups: Group names of the store, including empty groups.
            departments: Department names of the store, including empty ones.
        """
        named = itertools.chain.from_iterable(frame["groups"].tolist())
        used = frame["department"].unique().tolist()
        return cls(
            version=version,
            users=_FrameUsers(frame),
            groups=frozenset(groups) | frozenset(named),
            departments=(frozenset(departments) | frozenset(used)) - {""},
        )

    @classmethod
    def _from_complete_frame(
        cls,
        frame: pd.DataFrame,
        *,
        version: str,
        groups: frozenset[str],
        departments: frozenset[str],
        key_array: Any,
        texts: Mapping[str, Any] | None,
    ) -> Snapshot:
        """
        :meth:`from_frame` for a caller whose ``groups`` and ``departments`` already hold every
        group and department the users hold (without ``""``), and who has the frame's keys as
        an Arrow ``large_string`` array (:attr:`key_array`), and maybe its text columns so too
        (``_texts``): nothing walks every user. Internal to the SQL repository, which reads
        them in bulk.
        """
        snap = cls(
            version=version, users=_FrameUsers(frame), groups=groups, departments=departments
        )
        _set_key_array(snap, key_array)
        if texts is not None:
            _set_texts(snap, MappingProxyType(dict(texts)))
        return snap

    def get(self, email: str) -> User | None:
        """Return the user with this email (any case), or ``None``."""
        return self.users.get(email_key(email))

    def __iter__(self) -> Iterator[User]:
        return iter(self.users.values())

    def __len__(self) -> int:
        return len(self.users)

    def __contains__(self, email: object) -> bool:
        return isinstance(email, str) and email_key(email) in self.users

    def state(self) -> tuple[frozenset[tuple[Any, ...]], frozenset[str], frozenset[str]]:
        """Return the store's content without the version, for comparing two snapshots."""
        return (
            frozenset(
                (
                    u.email,
                    u.first_name,
                    u.last_name,
                    u.department,
                    u.groups,
                    u.is_admin,
                    tuple(sorted(u.attributes.items())),
                )
                for u in self.users.values()
            ),
            self.groups,
            self.departments,
        )

    @cached_property
    def foreign_skeletons(self) -> tuple[Any, Any]:
        """The keys that are not ASCII and their confusable skeletons, as two Arrow arrays."""
        import pyarrow.compute as pc

        from . import _email, _text

        # Found among the Arrow keys planning hashes anyway: no text Series of every key made.
        keys = self.key_array
        keys = _text.series(keys.filter(pc.invert(pc.string_is_ascii(keys))).to_pylist())
        return _text.arrow(keys), _text.arrow(_email.skeletons(keys))

    @cached_property
    def skeletons(self) -> tuple[Any, Any]:
        """Every key and its confusable skeleton, as two Arrow arrays (made on first use)."""
        from . import _email, _text

        keys = _text.series(self.frame.index.to_numpy(dtype=object))
        return _text.arrow(keys), _text.arrow(_email.skeletons(keys))

    @cached_property
    def key_array(self) -> Any:
        """The keys of :attr:`frame`, in order, as an Arrow array (for hash joins in Arrow)."""
        import pyarrow as pa

        return pa.array(self.frame.index.to_numpy(dtype=object), type=pa.large_string())

    @cached_property
    def _texts(self) -> Mapping[str, Any] | None:
        """
        The text columns ``first_name``, ``last_name`` and ``department`` of :attr:`frame` as
        Arrow ``large_string`` arrays, in order, when the repository read them so (planning
        compares them in Arrow); ``None`` otherwise.
        """
        return None

    @cached_property
    def frame(self) -> pd.DataFrame:
        """
        The users as a DataFrame indexed by ``key``.

        Columns: ``email``, ``first_name``, ``last_name``, ``department`` (``""`` for none),
        ``groups`` (sorted tuples), ``is_admin`` (bool), ``attributes`` (dicts).
        Do not mutate it: it is shared by every reader of this snapshot.
        """
        import pandas as pd

        if isinstance(self.users, _FrameUsers):
            return self.users.frame
        users = list(self.users.values())
        with bulk():
            return pd.DataFrame(
                {
                    "email": [u.email for u in users],
                    "first_name": [u.first_name for u in users],
                    "last_name": [u.last_name for u in users],
                    "department": [u.department or "" for u in users],
                    "groups": [tuple(sorted(u.groups)) for u in users],
                    "is_admin": [u.is_admin for u in users],
                    "attributes": [dict(u.attributes) for u in users],
                },
                index=pd.Index(list(self.users.keys()), name="key", dtype=object),
                dtype=object,
            ).astype({"is_admin": bool})


# The slot that keeps Snapshot.key_array once made (set by Snapshot._from_complete_frame).
_set_key_array = Snapshot.__dict__["key_array"].__set__
_set_texts = Snapshot.__dict__["_texts"].__set__


def _users(value: Iterable[User]) -> tuple[User, ...]:
    return tuple(value)


def _emails(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        raise TypeError("delete must be an iterable of emails, not a single string")
    return tuple(value)


@attrs.frozen(kw_only=True)
class ChangeSet:
    """
    Everything one commit changes in the store; a repository applies all of it or nothing.

    A repository applies the parts in this order: create groups and departments, delete
    users, update users, create users, delete groups and departments (which no user may
    then still use).

    Args:
        create: New users (no user with the same email may exist).
        update: The complete new state of existing users, matched by email.
        delete: Emails of users to delete.
        create_groups: Group names to create.
        create_departments: Department names to create.
        delete_groups: Group names to delete (only undo does this).
        delete_departments: Department names to delete (only undo does this).
    """

    create: tuple[User, ...] = attrs.field(default=(), converter=_users)
    update: tuple[User, ...] = attrs.field(default=(), converter=_users)
    delete: tuple[str, ...] = attrs.field(default=(), converter=_emails)
    create_groups: frozenset[str] = attrs.field(factory=frozenset, converter=_frozenset_of_str)
    create_departments: frozenset[str] = attrs.field(factory=frozenset, converter=_frozenset_of_str)
    delete_groups: frozenset[str] = attrs.field(factory=frozenset, converter=_frozenset_of_str)
    delete_departments: frozenset[str] = attrs.field(factory=frozenset, converter=_frozenset_of_str)

    @property
    def is_empty(self) -> bool:
        """True when committing this would change nothing."""
        return not (
            self.create
            or self.update
            or self.delete
            or self.create_groups
            or self.create_departments
            or self.delete_groups
            or self.delete_departments
        )


def _default(name: str) -> Any:
    """The default of an :class:`ImportSettings` field: the one place it is declared."""
    return getattr(attrs.fields(ImportSettings), name).default


@attrs.frozen(kw_only=True)
class Permissions:
    """
    What the person applying a plan allows it to do: the settings that are permissions.

    :func:`~userimport.apply.apply_plan` takes them from its caller, never from a saved plan
    file. The defaults are those of :class:`ImportSettings`: no admin rights change, no admin
    deleted, at most 50 users and 10 % of the store deleted.

    Args:
        admin_rights: Let the plan grant or revoke admin rights, or create an admin.
        delete_admins: Let the plan delete admins.
        max_deletes: The most users the plan may delete (``None``: no limit).
        max_delete_fraction: The largest share of the store's users the plan may delete
            (``None``: no limit); see :meth:`ImportSettings.deletion_refusal`.

    >>> Permissions(admin_rights=True).beyond(Permissions())
    ('admin_rights',)
    """

    admin_rights: bool = attrs.field(default=_default("admin_rights"))
    delete_admins: bool = attrs.field(default=_default("delete_admins"))
    max_deletes: int | None = attrs.field(default=_default("max_deletes"), validator=_limit)
    max_delete_fraction: float | None = attrs.field(
        default=_default("max_delete_fraction"), validator=_fraction
    )

    @admin_rights.validator
    @delete_admins.validator
    def _flag(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, bool):
            raise SettingsError(
                f"Permissions.{attribute.name} must be True or False, not {value!r}"
            )

    @classmethod
    def from_settings(cls, settings: ImportSettings) -> Permissions:
        """The permissions ``settings`` hold (a plan made in this process is applied with them)."""
        return cls(**{a.name: getattr(settings, a.name) for a in attrs.fields(cls)})

    def to_settings(self, settings: ImportSettings) -> ImportSettings:
        """``settings`` with these permissions in place of its own."""
        return attrs.evolve(settings, **attrs.asdict(self))

    def deletion_refusal(self, deletes: int, users: int) -> str | None:
        """Why deleting ``deletes`` of ``users`` is beyond these limits (see ImportSettings)."""
        return self.to_settings(ImportSettings()).deletion_refusal(deletes, users)

    def deletion_limit(self, users: int) -> int | None:
        """How many of a store's ``users`` may be deleted: the lower limit, ``None`` for none."""
        limits = [self.max_deletes] if self.max_deletes is not None else []
        if self.max_delete_fraction is not None:
            limits.append(_share_of(self.max_delete_fraction, users))
        return min(limits) if limits else None

    def beyond(self, allowed: Permissions) -> tuple[str, ...]:
        """
        The names of the permissions these grant beyond ``allowed``, in field order.

        A flag is beyond when it is ``True`` here and ``False`` there; a limit when it is
        higher here, or ``None`` (no limit) here and not there.
        """
        out = []
        for a in attrs.fields(Permissions):
            mine, theirs = getattr(self, a.name), getattr(allowed, a.name)
            if isinstance(mine, bool):
                wider = mine and not theirs
            else:
                wider = theirs is not None and (mine is None or mine > theirs)
            if wider:
                out.append(a.name)
        return tuple(out)

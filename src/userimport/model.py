"""
The value types every stage shares: users, import settings, store snapshots and change sets.

All of them are frozen attrs classes; change them with :func:`attrs.evolve`.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import operator
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import attrs

from ._settings import ImportSettings, Permissions
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

#: The columns of :class:`UserColumns`, in order: a store's ``users`` row first.
USER_VALUES: tuple[str, ...] = (
    "key",
    "email",
    "first_name",
    "last_name",
    "department",
    "is_admin",
    "groups",
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

    def __reduce__(self) -> tuple[Any, ...]:
        # pickle and copy.deepcopy refuse the read-only attributes mapping: a user is made
        # again from its values, which are in normal form already.
        values = (self.department, self.groups, self.is_admin, dict(self.attributes))
        return clean_user, (self.email, self.first_name, self.last_name, *values)

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

    def __reduce__(self) -> tuple[Any, ...]:
        # pickle and copy.deepcopy refuse the read-only users mapping: a snapshot is made
        # again from its frame.
        return _from_frame, (self.frame, self.version, self.groups, self.departments)

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

        if isinstance(self.users, _FrameUsers):
            return self.users.frame
        columns = UserColumns.of(self.users.values(), unique=False)
        return attrs.evolve(columns, key=list(self.users)).frame()  # indexed as the mapping


# The slot that keeps Snapshot.key_array once made (set by Snapshot._from_complete_frame).
_set_key_array = Snapshot.__dict__["key_array"].__set__
_set_texts = Snapshot.__dict__["_texts"].__set__


def _from_frame(
    frame: pd.DataFrame, version: str, groups: frozenset[str], departments: frozenset[str]
) -> Snapshot:
    """:meth:`Snapshot.from_frame`, for unpickling (its arguments in order)."""
    return Snapshot.from_frame(frame, version=version, groups=groups, departments=departments)


def _users(value: Iterable[User]) -> tuple[User, ...]:
    return tuple(value)


#: A user's values in :class:`UserColumns` order, read by one C call.
_user_values = operator.attrgetter(*USER_VALUES)


@attrs.frozen(eq=False)
class UserColumns:
    """
    Users column by column, each key once: what a store writes in bulk (see
    :meth:`ChangeSet.columns`).

    Each attribute is a list with one value per user, all in the same order: ``key``
    (:func:`email_key` of ``email``), ``email``, ``first_name``, ``last_name``,
    ``department`` (``None`` for none), ``is_admin`` (bool), ``groups`` (a frozenset of
    names) and ``attributes`` (a mapping of custom properties).
    """

    key: list[str]
    email: list[str]
    first_name: list[str]
    last_name: list[str]
    department: list[str | None]
    is_admin: list[bool]
    groups: list[frozenset[str]]
    attributes: list[Mapping[str, str]]
    #: Emails named more than once in the users these columns were made from (the last counts).
    repeated: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.key)

    @classmethod
    def of(cls, users: Iterable[User], *, unique: bool = True) -> UserColumns:
        """
        The columns of ``users``: of a user named twice, the last one counts (with
        ``unique=False``, each is kept, in order).
        """
        given = list(users)
        kept = list({u.key: u for u in given}.values()) if unique else given
        repeated: list[str] = []
        if len(kept if unique else {u.key for u in given}) < len(given):
            seen: set[str] = set()
            for user in given:
                if user.key in seen:
                    repeated.append(user.email)
                seen.add(user.key)
        values = zip(*map(_user_values, kept), strict=True) if kept else [()] * len(USER_VALUES)
        columns: dict[str, Any] = {c: list(v) for c, v in zip(USER_VALUES, values, strict=True)}
        return cls(**columns, repeated=tuple(repeated))

    def frame(self) -> pd.DataFrame:
        """The users as rows of a :attr:`Snapshot.frame`, indexed by ``key``."""
        import pandas as pd

        with bulk():
            return pd.DataFrame(
                {
                    "email": self.email,
                    "first_name": self.first_name,
                    "last_name": self.last_name,
                    "department": [d or "" for d in self.department],
                    "groups": [tuple(sorted(g)) for g in self.groups],
                    "is_admin": self.is_admin,
                    "attributes": [dict(a) for a in self.attributes],
                },
                index=pd.Index(self.key, name="key", dtype=object),
                dtype=object,
            ).astype({"is_admin": bool})

    def users(self) -> tuple[User, ...]:
        """A :class:`User` for each row."""
        with bulk():
            return tuple(map(clean_user, *(getattr(self, c) for c in USER_COLUMNS), self.key))


def _columns_of(changes: ChangeSet) -> tuple[UserColumns, UserColumns] | None:
    """The change set's users column by column, if made (the slot is empty until then)."""
    try:
        return _SLOT.__get__(changes)  # type: ignore[no-any-return]
    except AttributeError:
        return None


def _emails(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        raise TypeError("delete must be an iterable of emails, not a single string")
    return tuple(value)


class _ColumnsSlot:
    """
    A slot for :class:`ChangeSet`'s users column by column, outside its attrs fields (so
    ``attrs.fields``, ``asdict`` and ``astuple`` show only the seven documented parts).
    """

    __slots__ = ("_columns",)
    _columns: tuple[UserColumns, UserColumns]


#: The slot's descriptor: reading it does not reach ChangeSet.__getattr__ when it is empty.
_SLOT: Any = _ColumnsSlot.__dict__["_columns"]


@attrs.frozen(kw_only=True)
class ChangeSet(_ColumnsSlot):
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

    @classmethod
    def _from_columns(cls, create: UserColumns, update: UserColumns, **rest: Any) -> ChangeSet:
        """
        A change set whose users to create and update are these columns (in normal form, each
        key once, as a plan makes them): its :class:`User` values are made on first use.
        """
        changes = cls(**rest)
        object.__setattr__(changes, "_columns", (create, update))
        object.__delattr__(changes, "create")
        object.__delattr__(changes, "update")
        return changes

    if not TYPE_CHECKING:  # mypy keeps checking attribute names

        def __getattr__(self, name: str) -> Any:
            # Reached only for an unset slot: the users of a change set made from columns.
            if name in ("create", "update"):
                columns = _columns_of(self)
                if columns is not None:
                    users = columns[name == "update"].users()
                    object.__setattr__(self, name, users)
                    return users
            raise AttributeError(name)

    def columns(self) -> tuple[UserColumns, UserColumns]:
        """
        The users to create and the users to update, column by column (see
        :class:`UserColumns`): what a store writing in bulk needs. Made once; a change set
        made by :meth:`Plan.changeset <userimport.plan.Plan.changeset>` has them without
        making a :class:`User` for each row.
        """
        columns = _columns_of(self)
        if columns is None:
            columns = (UserColumns.of(self.create), UserColumns.of(self.update))
            object.__setattr__(self, "_columns", columns)
        return columns

    @property
    def is_empty(self) -> bool:
        """True when committing this would change nothing."""
        planned = _columns_of(self)
        create, update = planned if planned is not None else (self.create, self.update)
        return not (
            create
            or update
            or self.delete
            or self.create_groups
            or self.create_departments
            or self.delete_groups
            or self.delete_departments
        )

"""
The single-user actions: add, edit or delete one user, grant or revoke admin rights, and send
one welcome email.

Each action reads one snapshot, builds a :class:`~userimport.plan.Plan` of one entry with
settings that allow exactly that action, and applies it with
:func:`~userimport.apply.apply_plan`. So an action is atomic, refused with
:class:`~userimport.errors.StalePlanError` when the store changed under it, and returns an
:class:`~userimport.apply.ApplyResult` whose ``undo`` reverses it.

Group and department names are matched without regard to case: ``sales`` names an existing
``Sales``. An action applies at once, so it cannot warn about a near-duplicate name first.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any, TypedDict, Unpack

import attrs

from . import _text
from .apply import ApplyResult, apply_plan, send_welcome_emails
from .errors import RepositoryError, SettingsError, UserNotFoundError
from .model import ImportSettings, Snapshot, User
from .notify import Notification, Notifier
from .plan import FIELDS, Plan, PlanEntry
from .repository import UserRepository
from .validation import MAX_LENGTH, email_problem

__all__ = [
    "EDITABLE",
    "UserFields",
    "add_user",
    "delete_user",
    "edit_user",
    "send_welcome_email",
    "set_admin",
]

#: The fields :func:`edit_user` changes (the email is the identity and never changes).
EDITABLE: tuple[str, ...] = ("first_name", "last_name", "department", "groups", "attributes")


class UserFields(TypedDict, total=False):
    """The keyword arguments of :func:`edit_user`; give only those that change."""

    first_name: str
    last_name: str
    department: str
    groups: Iterable[str]
    attributes: Mapping[str, str | None]


def _invalid(message: str) -> SettingsError:
    """The error for an action's argument that cannot be used (the store is not asked)."""
    return SettingsError(message)


def _existing(snapshot: Snapshot, email: str) -> User:
    user = snapshot.get(email)
    if user is None:
        raise UserNotFoundError(f"no user with the email {email.strip()!r}")
    return user


def _name(value: object, field: str) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _invalid(f"{field} must be text, not {type(value).__name__}")
    text = _visible(value, field)
    if not text:
        raise _invalid(f"{field} is empty; every user needs one")
    if len(text) > MAX_LENGTH:
        raise _invalid(f"{field} is longer than {MAX_LENGTH} characters")
    return text


def _visible(value: str, field: str) -> str:
    """
    ``value`` trimmed and in NFC, as an import stores it; an invisible format character is
    refused (an import removes it with a warning, but an action has no one to warn).
    """
    _, found = _text.visible_cell(value, keep_joiners=field != "email")
    removed = [(at, c) for at, c, kept in found if not kept]
    if removed:
        at, c = removed[0]
        raise _invalid(
            f"{field} {value!r} holds an invisible character, U+{ord(c):04X} "
            f"{unicodedata.name(c, 'FORMAT CHARACTER')}, at position {at}; remove it"
        )
    return unicodedata.normalize("NFC", value).strip()


def _by_fold(names: Iterable[str]) -> dict[str, str]:
    """Each name by its lower case (``str.lower``, as identities are compared)."""
    return {n.lower(): n for n in sorted(names, reverse=True)}


def _department(snapshot: Snapshot, value: object) -> str:
    name = _name(value, "department")
    if name in snapshot.departments:
        return name
    stored = _by_fold(snapshot.departments).get(name.lower())
    if stored is None:
        known = ", ".join(sorted(snapshot.departments)) or "none yet"
        raise RepositoryError(
            f"there is no department {name!r} (departments: {known}); a new department comes "
            "only through an import"
        )
    return stored


def _groups(snapshot: Snapshot, value: object) -> tuple[frozenset[str], frozenset[str]]:
    """The groups in their stored spelling, and the ones to create."""
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise _invalid(f"groups must be a set of names, not {type(value).__name__}")
    existing = _by_fold(snapshot.groups)
    chosen: dict[str, str] = {}
    for raw in value:
        name = _visible(raw, "group name") if isinstance(raw, str) else ""
        if not name:
            raise _invalid(f"group name {raw!r} is empty or not text")
        if len(name) > MAX_LENGTH:
            raise _invalid(f"group name {name[:40]!r}... is longer than {MAX_LENGTH} characters")
        if name not in snapshot.groups:
            name = existing.get(name.lower(), name)
        chosen.setdefault(name.lower(), name)
    groups = frozenset(chosen.values())
    return groups, groups - snapshot.groups


def _attributes(current: Mapping[str, str], value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise _invalid(f"attributes must be a mapping of name to text, not {type(value).__name__}")
    merged = dict(current)
    for name, text in value.items():
        if not isinstance(name, str) or not name.strip():
            raise _invalid(f"attribute name {name!r} is empty or not text")
        if text is None:
            merged.pop(name, None)
        elif not isinstance(text, str):
            raise _invalid(f"attribute {name!r} must be text, not {type(text).__name__}")
        else:
            merged[name] = text
    return merged


def _changed(before: User, after: User) -> tuple[str, ...]:
    return tuple(f for f in FIELDS if getattr(before, f) != getattr(after, f))


def _apply(
    repository: UserRepository,
    snapshot: Snapshot,
    entry: PlanEntry,
    settings: ImportSettings,
    *,
    new_groups: Iterable[str] = (),
    notifier: Notifier | None = None,
) -> ApplyResult:
    plan = Plan.from_entries(
        [entry],
        base_version=snapshot.version,
        settings=settings,
        new_groups=new_groups,
        source=f"{entry.reason} {entry.email}",
    )
    return apply_plan(plan, repository, notifier=notifier)


def _update(
    repository: UserRepository,
    snapshot: Snapshot,
    before: User,
    after: User,
    settings: ImportSettings,
    *,
    action: str,
    new_groups: Iterable[str] = (),
) -> ApplyResult:
    changed = _changed(before, after)
    entry = PlanEntry(
        action="update" if changed else "unchanged",
        email=before.email,
        reason=action,
        changed=changed,
        before=before,
        after=after,
    )
    return _apply(repository, snapshot, entry, settings, new_groups=new_groups)


def add_user(
    repository: UserRepository,
    user: User,
    *,
    send_welcome_email: bool = False,
    notifier: Notifier | None = None,
) -> ApplyResult:
    """
    Add one user to an existing department, creating any new groups.

    A new department comes only through an import. The user is an admin only if ``user``
    says so.

    Args:
        repository: The store.
        user: The new user: first name, last name, a valid email and an existing
            department are required.
        send_welcome_email: Send the welcome email after the commit; a failed send is
            reported in :attr:`ApplyResult.notifications`, never raised.
        notifier: Sends the welcome email; required with ``send_welcome_email``.

    Returns:
        What the commit did; ``undo`` deletes the user and the groups it created.

    Raises:
        SettingsError: A required field is missing or invalid, or a welcome email is asked
            for without a notifier.
        RepositoryError: A user with that email exists, or the department does not.
        StalePlanError: The store changed while the user was being added.

    >>> from userimport import InMemoryUserRepository
    >>> repo = InMemoryUserRepository(departments=["Sales"])
    >>> kari = User(email="kari@firma.no", first_name="Kari", last_name="Dahl",
    ...             department="sales", groups={"Oslo"})
    >>> add_user(repo, kari).created
    1
    >>> repo.snapshot().get("kari@firma.no").department
    'Sales'
    """
    if not isinstance(user, User):
        raise _invalid(f"add_user needs a User, not {type(user).__name__}")
    if send_welcome_email and notifier is None:
        raise _invalid("send_welcome_email=True needs a notifier; pass notifier=...")
    snapshot = repository.snapshot()
    email = _name(user.email, "email")
    problem = email_problem(email)
    if problem is not None:
        raise _invalid(f"{email!r} is not a valid email address: {problem}")
    if email in snapshot:
        raise RepositoryError(
            f"a user with the email {email} exists; edit that user with edit_user instead"
        )
    groups, new_groups = _groups(snapshot, user.groups)
    new = attrs.evolve(
        user,
        first_name=_name(user.first_name, "first_name"),
        last_name=_name(user.last_name, "last_name"),
        department=_department(snapshot, user.department),
        groups=groups,
    )
    entry = PlanEntry(action="create", email=new.email, reason="add_user", after=new)
    settings = ImportSettings(
        send_welcome_email=send_welcome_email, max_deletes=0, admin_rights=new.is_admin
    )
    return _apply(repository, snapshot, entry, settings, new_groups=new_groups, notifier=notifier)


def edit_user(
    repository: UserRepository, email: str, /, **fields: Unpack[UserFields]
) -> ApplyResult:
    """
    Change some fields of one user; the email never changes.

    Args:
        repository: The store.
        email: The user's email (any case).
        **fields: Only the fields that change: ``first_name``, ``last_name``,
            ``department`` (an existing one), ``groups`` (the user's new set of groups; new
            ones are created) and ``attributes`` (merged into the user's; a ``None`` value
            removes that attribute). Admin rights change through :func:`set_admin`.

    Returns:
        What the commit did (``updated`` is 0 when nothing changes); ``undo`` restores
        the user's fields and removes the groups it created.

    Raises:
        SettingsError: ``email=`` or another field that cannot change, or an invalid value.
        UserNotFoundError: No user has that email.
        RepositoryError: The department does not exist.
        StalePlanError: The store changed while the user was being edited.
    """
    given: dict[str, Any] = dict(fields)
    if "email" in given:
        raise _invalid(
            "the email is the user's identity and cannot change (name the user by the "
            "positional email argument); add a user with the new email and delete the old one"
        )
    if "is_admin" in given:
        raise _invalid("admin rights change through set_admin, not edit_user")
    unknown = sorted(set(given) - set(EDITABLE))
    if unknown:
        raise _invalid(
            f"edit_user cannot change {', '.join(unknown)}; it changes {', '.join(EDITABLE)}"
        )
    snapshot = repository.snapshot()
    before = _existing(snapshot, email)
    changes: dict[str, Any] = {}
    new_groups: frozenset[str] = frozenset()
    for field in ("first_name", "last_name"):
        if field in given:
            changes[field] = _name(given[field], field)
    if "department" in given:
        changes["department"] = _department(snapshot, given["department"])
    if "groups" in given:
        changes["groups"], new_groups = _groups(snapshot, given["groups"])
    if "attributes" in given:
        changes["attributes"] = _attributes(before.attributes, given["attributes"])
    after = attrs.evolve(before, **changes)
    return _update(
        repository,
        snapshot,
        before,
        after,
        ImportSettings(max_deletes=0),
        action="edit_user",
        new_groups=new_groups,
    )


def delete_user(repository: UserRepository, email: str) -> ApplyResult:
    """
    Delete one user (an admin too).

    Args:
        repository: The store.
        email: The user's email (any case).

    Returns:
        What the commit did; ``undo`` brings the user back with every field and group.

    Raises:
        UserNotFoundError: No user has that email.
        StalePlanError: The store changed while the user was being deleted.
    """
    snapshot = repository.snapshot()
    before = _existing(snapshot, email)
    entry = PlanEntry(action="delete", email=before.email, reason="delete_user", before=before)
    return _apply(repository, snapshot, entry, ImportSettings(delete_admins=True, max_deletes=1))


def set_admin(repository: UserRepository, email: str, is_admin: bool) -> ApplyResult:
    """
    Grant (``is_admin=True``) or revoke (``False``) one user's admin rights.

    Args:
        repository: The store.
        email: The user's email (any case).
        is_admin: Whether the user is to be an admin.

    Returns:
        What the commit did (``updated`` is 0 when the user already had those rights).

    Raises:
        UserNotFoundError: No user has that email.
        StalePlanError: The store changed while the rights were being changed.
    """
    if not isinstance(is_admin, bool):
        raise _invalid(f"is_admin must be True or False, not {is_admin!r}")
    snapshot = repository.snapshot()
    before = _existing(snapshot, email)
    after = attrs.evolve(before, is_admin=is_admin)
    return _update(
        repository,
        snapshot,
        before,
        after,
        ImportSettings(admin_rights=True, max_deletes=0),
        action="set_admin",
    )


def send_welcome_email(repository: UserRepository, email: str, notifier: Notifier) -> Notification:
    """
    Send one existing user the welcome email again; the store does not change.

    Args:
        repository: The store.
        email: The user's email (any case).
        notifier: Sends the email.

    Returns:
        How the send went: a failure of the notifier is recorded in it, never raised.

    Raises:
        UserNotFoundError: No user has that email.
    """
    user = _existing(repository.snapshot(), email)
    return send_welcome_emails([user], notifier)[0]

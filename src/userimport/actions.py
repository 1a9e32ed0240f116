"""
The single-user actions: add, edit or delete one user, grant or revoke admin rights, and send
one welcome email.

Each action reads one snapshot, builds a :class:`~userimport.plan.Plan` of one entry with
settings that allow exactly that action, and applies it with
:func:`~userimport.apply.apply_plan`. So an action is atomic and returns an
:class:`~userimport.apply.ApplyResult` whose ``undo`` reverses it.

Actions lose no update under concurrency (optimistic concurrency control): when another
writer commits between the action's read and its commit, the commit is refused as stale and
the action starts again from a fresh snapshot, up to :data:`ATTEMPTS` times, waiting a
random, growing moment between tries (exponential backoff with jitter). What an action
changes is computed from the snapshot of the try that commits: ``add_groups`` adds to the
groups the user has *then*, so two processes adding groups to one user both keep theirs.
A caller that read the store itself and computed a change from it passes that snapshot's
``expected_version``: the action then refuses with
:class:`~userimport.errors.StalePlanError` instead of trying again if the store moved.

Group and department names are matched without regard to case: ``sales`` names an existing
``Sales``. An action applies at once, so it cannot warn about a near-duplicate name first.
"""

from __future__ import annotations

import random
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypedDict, Unpack

import attrs

from . import _text
from ._planrules import compare_users
from .apply import ApplyResult, apply_plan, send_welcome_emails
from .errors import RepositoryError, SettingsError, StalePlanError, UserNotFoundError
from .model import ImportSettings, Snapshot, User
from .notify import Notification, Notifier
from .plan import Plan, PlanEntry
from .repository import UserRepository
from .validation import MAX_LENGTH, email_problem

__all__ = [
    "ATTEMPTS",
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

#: How many times an action reads the store and tries to commit, while other writers keep
#: committing in between, before it gives up with StalePlanError.
ATTEMPTS = 100

#: The longest wait between two tries, in seconds; the first waits are much shorter. Short,
#: so that an action waiting for its turn is not starved by writers that try more often.
_LONGEST_WAIT = 0.05


class UserFields(TypedDict, total=False):
    """
    The keyword arguments of :func:`edit_user`; give only those that change.

    ``groups`` replaces the user's groups; ``add_groups`` and ``remove_groups`` change them
    relative to what the store holds when the change commits (not with ``groups``).
    """

    first_name: str
    last_name: str
    department: str
    groups: Iterable[str]
    add_groups: Iterable[str]
    remove_groups: Iterable[str]
    attributes: Mapping[str, str | None]


def _optimistic(
    repository: UserRepository,
    expected_version: str | None,
    act: Callable[[Snapshot], ApplyResult],
) -> ApplyResult:
    """
    ``act(snapshot)`` on a fresh snapshot, again while its commit is refused as stale.

    With ``expected_version``, once only, and only if the store is still at that version.
    """
    for attempt in range(1, ATTEMPTS + 1):
        snapshot = repository.snapshot()
        if expected_version is not None and snapshot.version != expected_version:
            raise StalePlanError(
                f"the store changed since version {expected_version} (it is at "
                f"{snapshot.version}); read it again",
                expected=expected_version,
                actual=snapshot.version,
            )
        try:
            return act(snapshot)
        except StalePlanError as exc:
            if expected_version is not None:
                raise
            if attempt == ATTEMPTS:
                raise StalePlanError(
                    f"other writers kept changing the store: tried {ATTEMPTS} times; try again",
                    expected=exc.expected,
                    actual=exc.actual,
                ) from exc
        # Exponential backoff with full jitter, so racing writers spread out.
        time.sleep(random.uniform(0, min(_LONGEST_WAIT, 0.002 * 2**attempt)))
    raise AssertionError("unreachable")  # pragma: no cover


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


def _names(value: object, field: str) -> list[str]:
    """Group names given as a set of text, trimmed; SettingsError for anything else."""
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise _invalid(f"{field} must be a set of names, not {type(value).__name__}")
    names = []
    for raw in value:
        name = _visible(raw, "group name") if isinstance(raw, str) else ""
        if not name:
            raise _invalid(f"group name {raw!r} is empty or not text")
        if len(name) > MAX_LENGTH:
            raise _invalid(f"group name {name[:40]!r}... is longer than {MAX_LENGTH} characters")
        names.append(name)
    return names


def _groups(snapshot: Snapshot, value: object) -> tuple[frozenset[str], frozenset[str]]:
    """The groups in their stored spelling, and the ones to create."""
    existing = _by_fold(snapshot.groups)
    chosen: dict[str, str] = {}
    for name in _names(value, "groups"):
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
    verdict, changed = compare_users(before, after)  # the rule plan_import applies
    entry = PlanEntry(
        action=verdict,
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
    expected_version: str | None = None,
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
        expected_version: Refuse (rather than try again) unless the store is at this
            version until the user is added.

    Returns:
        What the commit did; ``undo`` deletes the user and the groups it created.

    Raises:
        SettingsError: A required field is missing or invalid, or a welcome email is asked
            for without a notifier.
        RepositoryError: A user with that email exists, or the department does not.
        StalePlanError: The store is not at ``expected_version``, or other writers kept
            changing it for :data:`ATTEMPTS` tries.

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
    email = _name(user.email, "email")
    problem = email_problem(email)
    if problem is not None:
        raise _invalid(f"{email!r} is not a valid email address: {problem}")
    first_name = _name(user.first_name, "first_name")
    last_name = _name(user.last_name, "last_name")

    def act(snapshot: Snapshot) -> ApplyResult:
        if email in snapshot:
            raise RepositoryError(
                f"a user with the email {email} exists; edit that user with edit_user instead"
            )
        groups, new_groups = _groups(snapshot, user.groups)
        new = attrs.evolve(
            user,
            first_name=first_name,
            last_name=last_name,
            department=_department(snapshot, user.department),
            groups=groups,
        )
        entry = PlanEntry(action="create", email=new.email, reason="add_user", after=new)
        settings = ImportSettings(
            send_welcome_email=send_welcome_email, max_deletes=0, admin_rights=new.is_admin
        )
        return _apply(
            repository, snapshot, entry, settings, new_groups=new_groups, notifier=notifier
        )

    return _optimistic(repository, expected_version, act)


def edit_user(
    repository: UserRepository,
    email: str,
    /,
    *,
    expected_version: str | None = None,
    **fields: Unpack[UserFields],
) -> ApplyResult:
    """
    Change some fields of one user; the email never changes.

    Args:
        repository: The store.
        email: The user's email (any case).
        expected_version: Refuse (rather than try again) unless the store is at this
            version until the change commits: for a change computed from a snapshot the
            caller read.
        **fields: Only the fields that change: ``first_name``, ``last_name``,
            ``department`` (an existing one), ``groups`` (the user's new set of groups; new
            ones are created), ``add_groups`` and ``remove_groups`` (groups to add to, or
            take from, the ones the user has when the change commits; a group the user is not
            in is no change to remove) and ``attributes`` (merged into the user's; a ``None``
            value removes that attribute). Admin rights change through :func:`set_admin`.

    Returns:
        What the commit did (``updated`` is 0 when nothing changes); ``undo`` restores
        the user's fields and removes the groups it created.

    Raises:
        SettingsError: ``email=`` or another field that cannot change, an invalid value,
            or ``groups`` given with ``add_groups`` or ``remove_groups``.
        UserNotFoundError: No user has that email.
        RepositoryError: The department does not exist.
        StalePlanError: The store is not at ``expected_version``, or other writers kept
            changing it for :data:`ATTEMPTS` tries.

    >>> from userimport import InMemoryUserRepository
    >>> repo = InMemoryUserRepository([User(email="kari@firma.no", groups={"Oslo"})])
    >>> _ = edit_user(repo, "kari@firma.no", add_groups={"Tech"})
    >>> sorted(repo.snapshot().get("kari@firma.no").groups)
    ['Oslo', 'Tech']
    """
    given: dict[str, Any] = dict(fields)
    if "email" in given:
        raise _invalid(
            "the email is the user's identity and cannot change (name the user by the "
            "positional email argument); add a user with the new email and delete the old one"
        )
    if "is_admin" in given:
        raise _invalid("admin rights change through set_admin, not edit_user")
    relative = ("add_groups", "remove_groups")
    unknown = sorted(set(given) - {*EDITABLE, *relative})
    if unknown:
        raise _invalid(
            f"edit_user cannot change {', '.join(unknown)}; it changes "
            f"{', '.join((*EDITABLE, *relative))}"
        )
    if "groups" in given and any(r in given for r in relative):
        raise _invalid("give groups (the new set) or add_groups/remove_groups, not both")
    names: dict[str, str] = {
        f: _name(given[f], f) for f in ("first_name", "last_name") if f in given
    }
    removed = {n.lower() for n in _names(given.get("remove_groups", ()), "remove_groups")}
    both = removed & {n.lower() for n in _names(given.get("add_groups", ()), "add_groups")}
    if both:
        raise _invalid(f"group(s) {', '.join(sorted(both))} both added and removed")

    def act(snapshot: Snapshot) -> ApplyResult:
        before = _existing(snapshot, email)
        changes: dict[str, Any] = dict(names)
        new_groups: frozenset[str] = frozenset()
        if "department" in given:
            changes["department"] = _department(snapshot, given["department"])
        if "groups" in given:
            changes["groups"], new_groups = _groups(snapshot, given["groups"])
        elif "add_groups" in given or "remove_groups" in given:
            added, new_groups = _groups(snapshot, given.get("add_groups", ()))
            kept = {g for g in before.groups if g.lower() not in removed}
            changes["groups"] = frozenset(kept | added)
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

    return _optimistic(repository, expected_version, act)


def delete_user(
    repository: UserRepository, email: str, *, expected_version: str | None = None
) -> ApplyResult:
    """
    Delete one user (an admin too).

    Args:
        repository: The store.
        email: The user's email (any case).
        expected_version: Refuse (rather than try again) unless the store is at this
            version until the user is deleted.

    Returns:
        What the commit did; ``undo`` brings the user back with every field and group.

    Raises:
        UserNotFoundError: No user has that email.
        StalePlanError: The store is not at ``expected_version``, or other writers kept
            changing it for :data:`ATTEMPTS` tries.
    """

    def act(snapshot: Snapshot) -> ApplyResult:
        before = _existing(snapshot, email)
        entry = PlanEntry(action="delete", email=before.email, reason="delete_user", before=before)
        settings = ImportSettings(delete_admins=True, max_deletes=1)
        return _apply(repository, snapshot, entry, settings)

    return _optimistic(repository, expected_version, act)


def set_admin(
    repository: UserRepository,
    email: str,
    is_admin: bool,
    *,
    expected_version: str | None = None,
) -> ApplyResult:
    """
    Grant (``is_admin=True``) or revoke (``False``) one user's admin rights.

    Args:
        repository: The store.
        email: The user's email (any case).
        is_admin: Whether the user is to be an admin.
        expected_version: Refuse (rather than try again) unless the store is at this
            version until the rights change.

    Returns:
        What the commit did (``updated`` is 0 when the user already had those rights).

    Raises:
        UserNotFoundError: No user has that email.
        StalePlanError: The store is not at ``expected_version``, or other writers kept
            changing it for :data:`ATTEMPTS` tries.
    """
    if not isinstance(is_admin, bool):
        raise _invalid(f"is_admin must be True or False, not {is_admin!r}")

    def act(snapshot: Snapshot) -> ApplyResult:
        before = _existing(snapshot, email)
        after = attrs.evolve(before, is_admin=is_admin)
        settings = ImportSettings(admin_rights=True, max_deletes=0)
        return _update(repository, snapshot, before, after, settings, action="set_admin")

    return _optimistic(repository, expected_version, act)


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

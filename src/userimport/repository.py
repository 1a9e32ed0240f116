"""
The storage protocol, :class:`UserRepository`, and the reference in-memory store.

A repository needs two methods: a consistent :class:`~userimport.model.Snapshot` and one
atomic ``commit`` of a :class:`~userimport.model.ChangeSet` against an expected version.
Optional: ``plan_secret()``, the key saved plans are signed with (see
:func:`plan_secret`), and the import history (:class:`~userimport.history.ImportHistory`).
:class:`InMemoryUserRepository` is the reference implementation, and what test suites of
embedding apps use (as ``httpx.MockTransport`` is for httpx).
"""

from __future__ import annotations

import itertools
import secrets
import threading
import uuid
from collections.abc import Container, Iterable
from datetime import datetime
from typing import Protocol, runtime_checkable

from .errors import RepositoryError, StalePlanError, UserNotFoundError
from .history import DEFAULT_LIMIT, ImportRecord, MemoryImportHistory
from .model import USER_VALUES, ChangeSet, Snapshot, User, UserColumns, email_key

__all__ = ["InMemoryUserRepository", "UserRepository", "check_changes", "plan_secret"]

#: The fewest bytes a plan secret may have.
MIN_SECRET = 16


@runtime_checkable
class UserRepository(Protocol):
    """
    Where users live. Implement these two methods over your own storage.

    ``commit`` must apply the whole change set or nothing, and must check the version and
    write atomically with respect to other writers.

    Optionally, ``plan_secret() -> bytes`` lets saved plans be signed (see :func:`plan_secret`);
    it is not part of the protocol, so a store without it is still a ``UserRepository``.
    """

    def snapshot(self) -> Snapshot:
        """Return a consistent view of every user, group and department, with the version."""
        ...

    def commit(self, changes: ChangeSet, *, expected_version: str) -> str:
        """
        Apply ``changes`` atomically and return the new version.

        Raises:
            StalePlanError: ``expected_version`` is not the current version.
            RepositoryError: The change set does not fit the store (creating an existing
                user, updating a missing one, an unknown group or department, ...).
            CommitOutcomeUnknown: Optional: the store was lost while committing and cannot
                say whether the change set landed. A store that can lose the reply to its
                commit raises this (or finds out) rather than a RepositoryError that claims
                nothing was written.
        """
        ...


def plan_secret(repository: object) -> bytes | None:
    """
    The secret ``repository`` signs saved plans with, or ``None`` if it keeps none.

    An optional capability, looked up by name: a repository that has a ``plan_secret()``
    method returning at least 16 random bytes, the same for as long as the store lives, gets
    signed plans (:meth:`Plan.to_json <userimport.plan.Plan.to_json>` with ``secret=``), and
    :func:`~userimport.apply.apply_plan` refuses a saved plan whose digest does not match.
    Without it, a saved plan is protected only by the checks against the store (every entry's
    ``before`` must be the user as stored) and by the permissions of the caller.

    Raises:
        RepositoryError: ``plan_secret()`` returned something other than 16 or more bytes.
    """
    method = getattr(repository, "plan_secret", None)
    if not callable(method):
        return None
    secret = method()
    if not isinstance(secret, bytes) or len(secret) < MIN_SECRET:
        raise RepositoryError(
            f"{type(repository).__name__}.plan_secret() must return at least {MIN_SECRET} bytes"
        )
    return secret


def check_changes(snapshot: Snapshot, changes: ChangeSet) -> None:
    """
    Raise :class:`RepositoryError` if ``changes`` cannot be applied to ``snapshot``.

    Repositories may call this before writing: it checks that created users do not exist,
    updated and deleted ones do, every user's groups and department exist after the commit,
    and no deleted group or department is still in use.
    """
    check_keys(snapshot.users, snapshot.groups, snapshot.departments, changes)
    if not (changes.delete_groups or changes.delete_departments):
        return
    # Column-wise over the stored users the change set leaves alone (no User per row).
    create, update = changes.columns()
    frame = snapshot.frame
    touched = {email_key(e) for e in changes.delete}.union(update.key, create.key)
    kept = frame[~frame.index.isin(list(touched))] if touched else frame
    used_groups = set(itertools.chain.from_iterable(kept["groups"].tolist()))
    used_groups.update(*update.groups, *create.groups)
    still = changes.delete_groups & used_groups
    if still:
        raise RepositoryError(f"cannot delete group(s) still in use: {', '.join(sorted(still))}")
    used_departments = set(kept["department"].unique().tolist())
    used_departments.update(update.department, create.department)
    still = changes.delete_departments & used_departments
    if still:
        raise RepositoryError(
            f"cannot delete department(s) still in use: {', '.join(sorted(still))}"
        )


def check_keys(
    keys: Container[str],
    groups: frozenset[str],
    departments: frozenset[str],
    changes: ChangeSet,
) -> None:
    """
    The checks of :func:`check_changes` that need only the store's keys, groups and departments.

    Everything but "no deleted group or department is still in use", which needs every user:
    a repository may run this alone when the change set deletes no group or department.
    """
    # Each rule is checked over whole collections first (set operations and comprehensions);
    # only a change set that breaks one is walked entry by entry, to name the first culprit.
    create, update = changes.columns()
    if create.repeated or update.repeated:  # every user named is checked, in order
        create, update = (UserColumns.of(u, unique=False) for u in (changes.create, changes.update))
    deleting = [email_key(email) for email in changes.delete]
    deleted = set(deleting)
    if len(deleted) < len(deleting) or not _all_in(keys, deleted):
        seen: set[str] = set()
        for email, key in zip(changes.delete, deleting, strict=True):
            if key not in keys or key in seen:
                raise UserNotFoundError(f"cannot delete {email}: no such user")
            seen.add(key)
    if not _all_in(keys, update.key) or not deleted.isdisjoint(update.key):
        for email, key in zip(update.email, update.key, strict=True):
            if key not in keys or key in deleted:
                raise UserNotFoundError(f"cannot update {email}: no such user")
    if create.repeated or not _none_in(keys, set(create.key) - deleted):
        seen = set()
        for user in changes.create:
            if user.key in seen:
                raise RepositoryError("the change set creates the same email twice")
            if user.key in keys and user.key not in deleted:
                raise RepositoryError(f"cannot create {user.email}: a user with that email exists")
            seen.add(user.key)
    groups = (groups | changes.create_groups) - changes.delete_groups
    departments = (departments | changes.create_departments) - changes.delete_departments
    named = frozenset().union(*update.groups, *create.groups)
    placed = {*update.department, *create.department}
    if named <= groups and placed - {None, ""} <= departments:
        return
    for part in (update, create):
        for email, held, department in zip(part.email, part.groups, part.department, strict=True):
            unknown = held - groups
            if unknown:
                raise RepositoryError(
                    f"{email} is in unknown group(s) {', '.join(sorted(unknown))}; create them"
                )
            if department and department not in departments:
                raise RepositoryError(f"{email} is in unknown department {department!r}")


def _all_in(keys: Container[str], wanted: Iterable[str]) -> bool:
    """Whether every key of ``wanted`` is in ``keys`` (in the set's own loop when it is one)."""
    if isinstance(keys, set | frozenset):
        return keys.issuperset(wanted)
    return all(k in keys for k in wanted)


def _none_in(keys: Container[str], wanted: set[str]) -> bool:
    """Whether no key of ``wanted`` is in ``keys``."""
    if isinstance(keys, set | frozenset):
        return wanted.isdisjoint(keys)
    return not any(k in keys for k in wanted)


def with_changes(current: Snapshot, changes: ChangeSet, version: str) -> Snapshot:
    """The snapshot after ``changes``: only the changed users' rows of the frame are rebuilt."""
    import pandas as pd

    frame = current.frame
    create, update = changes.columns()
    gone = [email_key(e) for e in changes.delete] + update.key
    both = UserColumns(*(getattr(update, c) + getattr(create, c) for c in USER_VALUES))
    written = both.frame()
    kept = frame.drop(index=gone)
    frame = pd.concat([kept, written]) if len(written) else kept
    return Snapshot.from_frame(
        frame,
        version=version,
        groups=(current.groups | changes.create_groups) - changes.delete_groups,
        departments=(current.departments | changes.create_departments) - changes.delete_departments,
    )


class InMemoryUserRepository:
    """
    A user store in memory: the reference implementation of :class:`UserRepository`.

    Thread-safe; every commit makes a new immutable snapshot, so a snapshot handed out earlier
    never changes.

    Args:
        users: The initial users.
        groups: Initial group names (groups the users name are added).
        departments: Initial department names (departments the users name are added).

    >>> repo = InMemoryUserRepository([User(email="anna@firma.no", department="Sales")])
    >>> sorted(repo.snapshot().departments)
    ['Sales']
    """

    def __init__(
        self,
        users: Iterable[User] = (),
        *,
        groups: Iterable[str] = (),
        departments: Iterable[str] = (),
    ) -> None:
        self._lock = threading.Lock()
        self._secret = secrets.token_bytes(32)
        self._prefix = uuid.uuid4().hex[:8]
        self._counter = 0
        self._history = MemoryImportHistory()
        made = Snapshot.from_users(
            users, version=self._version(), groups=groups, departments=departments
        )
        # The store is kept as a frame: planning reads it whole, users are made on demand.
        self._snapshot = Snapshot.from_frame(
            made.frame, version=made.version, groups=made.groups, departments=made.departments
        )

    @classmethod
    def from_snapshot(cls, snapshot: Snapshot) -> InMemoryUserRepository:
        """
        A store holding what ``snapshot`` holds (under a version of its own).

        With :meth:`Snapshot.from_frame <userimport.model.Snapshot.from_frame>`, the way to
        fill a large store without a :class:`User` per row; also a cheap copy of a store's state.
        """
        repo = cls()
        repo._snapshot = Snapshot.from_frame(
            snapshot.frame,
            version=repo._version(),
            groups=snapshot.groups,
            departments=snapshot.departments,
        )
        return repo

    def _version(self) -> str:
        return f"{self._prefix}-{self._counter}"

    def plan_secret(self) -> bytes:
        """The key this store signs saved plans with: 32 random bytes, one per instance."""
        return self._secret

    def snapshot(self) -> Snapshot:
        """Return the current snapshot (immutable; later commits make new ones)."""
        return self._snapshot

    def commit(self, changes: ChangeSet, *, expected_version: str) -> str:
        """Apply ``changes`` all at once if the store is still at ``expected_version``."""
        with self._lock:
            current = self._snapshot
            if expected_version != current.version:
                raise StalePlanError(
                    f"the store changed since the plan was made (plan: {expected_version}, "
                    f"store: {current.version}); plan again",
                    expected=expected_version,
                    actual=current.version,
                )
            if changes.is_empty:
                return current.version
            check_changes(current, changes)
            self._counter += 1
            self._snapshot = with_changes(current, changes, self._version())
            return self._snapshot.version

    # The optional import history (userimport.history.ImportHistory), kept in memory.

    def add_import(self, record: ImportRecord) -> None:
        """Keep ``record`` in this store's import history."""
        self._history.add_import(record)

    def list_imports(self, limit: int = DEFAULT_LIMIT) -> list[ImportRecord]:
        """The ``limit`` most recent imports into this store, newest first."""
        return self._history.list_imports(limit)

    def get_import(self, id: str) -> ImportRecord | None:
        """The import record ``id``, or ``None``."""
        return self._history.get_import(id)

    def mark_import_undone(self, id: str, at: datetime) -> None:
        """Note that import ``id`` was undone at ``at``."""
        self._history.mark_import_undone(id, at)

"""
Stage 6: apply a plan to the store, all or nothing, and keep the plan that undoes it.
"""

from __future__ import annotations

import contextlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ._saved import seal
from .errors import DeletionLimitError, PlanError, SettingsError, StalePlanError
from .model import Permissions, Snapshot, User
from .plan import FIELDS, Plan
from .repository import UserRepository, plan_secret

if TYPE_CHECKING:  # notify loads smtplib and ssl: only a welcome email needs them
    from .notify import Notification, Notifier

__all__ = ["ApplyResult", "apply_plan", "send_welcome_emails"]


@attrs.frozen(kw_only=True)
class ApplyResult:
    """
    What applying a plan did.

    Args:
        plan: The plan applied.
        version: The store's version after the commit.
        created: Users created.
        updated: Users updated.
        deleted: Users deleted.
        undo: The plan that restores the store as it was before (apply it with
            :func:`apply_plan` while the store is still at ``version``).
        notifications: One per welcome email tried, in the order of the created users.
    """

    plan: Plan = attrs.field(eq=False)
    version: str
    created: int
    updated: int
    deleted: int
    undo: Plan = attrs.field(eq=False)
    notifications: tuple[Notification, ...] = ()

    def __repr__(self) -> str:
        """A short summary: the counts, the new version, the welcome emails, the undo plan."""
        text = (
            f"ApplyResult(created={self.created}, updated={self.updated}, "
            f"deleted={self.deleted}, version={self.version!r}"
        )
        if self.notifications:
            sent = sum(n.sent for n in self.notifications)
            text += f", welcome_emails_sent={sent}, not_notified={len(self.not_notified)}"
        return text + ")"

    @property
    def not_notified(self) -> tuple[str, ...]:
        """Emails of created users whose welcome email failed."""
        return tuple(n.email for n in self.notifications if not n.sent)

    def retry_welcome_emails(self, notifier: Notifier) -> ApplyResult:
        """
        Send again the welcome emails that failed, and return the result with them updated.

        Args:
            notifier: Sends the emails (it may be another one than the first time).
        """
        failed = set(self.not_notified)
        users = [u for u in self.plan.changeset().create if u.email in failed]
        retried = {n.email: n for n in send_welcome_emails(users, notifier)}
        notifications = tuple(retried.get(n.email, n) for n in self.notifications)
        return attrs.evolve(self, notifications=notifications)


def _permissions(plan: Plan, given: Permissions | None) -> Permissions:
    """The caller's permissions; by default a plan's own settings, unless it came from a file."""
    if given is not None:
        return given
    return Permissions() if plan.saved is not None else Permissions.from_settings(plan.settings)


def _check_digest(plan: Plan, repository: UserRepository) -> None:
    """Refuse a saved plan that the store's secret did not sign as it is."""
    if plan.saved is None:
        return
    secret = plan_secret(repository)
    if secret is None:  # the store signs nothing: the checks against the store protect it
        return
    if plan.saved.digest is None:
        raise PlanError(
            "the plan file carries no digest, so it cannot be told from an edited one; make "
            "it again with this version (userimport plan --out, or Plan.to_json(secret=...))"
        )
    if not hmac.compare_digest(seal(secret, plan.saved.content), plan.saved.digest):
        raise PlanError(
            "the plan was changed after it was made (its digest does not match, or it was made "
            "for another store); plan again"
        )


def _check_against_store(plan: Plan, snap: Snapshot, allowed: Permissions) -> None:
    """
    Refuse a plan that does not fit the store as it is, or needs more than ``allowed``.

    Every entry that changes the store is compared with the store, column-wise: a create
    must name a new user, an update or delete a stored one whose every field is the entry's
    ``before``. Admin guards and the deletion limits are then judged on the store's values.
    """
    import numpy as np
    import pandas as pd

    f = plan.frame
    everything = f["action"].to_numpy(dtype=object)
    changing = f["action"].isin(("create", "update", "delete")).to_numpy(dtype=bool)
    action = everything[changing]
    emails = f["email"].to_numpy(dtype=object)[changing]
    keys = f["key"].to_numpy(dtype=object)[changing]

    def refuse(flags: Any, message: Callable[[int], str]) -> None:
        if flags.any():
            raise PlanError(message(int(np.argmax(flags))))

    refuse(
        f["key"][changing].duplicated().to_numpy(),
        lambda i: f"the plan has more than one entry for {emails[i]}",
    )
    store = snap.frame
    at = store.index.get_indexer(pd.Index(keys, dtype=object))
    creating = action == "create"
    refuse(
        creating & (at >= 0),
        lambda i: (
            f"the plan creates {emails[i]}, but the store has a user with that email; plan again"
        ),
    )
    refuse(
        ~creating & (at < 0),
        lambda i: f"the plan's {action[i]} of {emails[i]} names no user of the store; plan again",
    )
    held = np.flatnonzero(~creating)
    where = at[held]
    for column, planned in (
        ("email", emails[held]),
        *((field, f[f"before_{field}"].to_numpy(dtype=object)[changing][held]) for field in FIELDS),
    ):
        stored = store[column].to_numpy(dtype=object)[where]
        if column == "department":  # none is "" in a store's frame, None in a plan's
            planned = np.where(planned == None, "", planned)  # noqa: E711
            stored = np.where(stored == None, "", stored)  # noqa: E711
        differs = np.asarray(planned != stored, dtype=bool)
        if differs.any():
            i = int(np.argmax(differs))
            name = "email" if column == "email" else f"before.{column}"
            raise PlanError(
                f"the plan's {action[held[i]]} of {emails[held[i]]} does not match the store: "
                f"{name} is {_shown(planned[i])} in the plan, {_shown(stored[i])} in the "
                "store; plan again"
            )
    deleting = action == "delete"
    admin = np.zeros(len(action), dtype=bool)
    admin[held] = store["is_admin"].to_numpy(dtype=bool)[where]
    if not allowed.delete_admins:
        refuse(
            deleting & admin,
            lambda i: (
                f"the plan deletes admin {emails[i]}; allow it with delete_admins=True "
                "(--delete-admins)"
            ),
        )
    if not allowed.admin_rights:
        after = np.asarray(f["after_is_admin"].to_numpy(dtype=object)[changing], dtype=bool)
        granting = (creating | (action == "update")) & (after != admin)
        refuse(
            granting,
            lambda i: (
                f"the plan {'grants' if after[i] else 'revokes'} admin rights of "
                f"{emails[i]}; allow it with admin_rights=True (--admin-rights)"
            ),
        )
    deletes = int(deleting.sum())
    refusal = allowed.deletion_refusal(deletes, len(snap))
    if refusal:
        absolute = allowed.max_deletes is not None and deletes > allowed.max_deletes
        option = "--max-deletes" if absolute else "--max-delete-fraction"
        raise DeletionLimitError(
            f"{refusal} (on the command line: {option})",
            deletes=deletes,
            limit=(allowed.max_deletes if absolute else allowed.deletion_limit(len(snap))) or 0,
        )
    if (plan.remove_groups or plan.remove_departments) and not plan.is_undo:
        raise PlanError("only an undo plan deletes groups or departments")


def _shown(value: Any) -> str:
    """A stored or planned value, short, for a message."""
    if isinstance(value, tuple):
        value = list(value)
    elif isinstance(value, Mapping):
        value = dict(sorted(value.items()))
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def send_welcome_emails(users: Iterable[User], notifier: Notifier) -> tuple[Notification, ...]:
    """
    Send each user their welcome email; a failure is recorded, never raised.

    Returns:
        One :class:`~userimport.notify.Notification` per user, in order.
    """
    from .notify import Notification

    out = []
    try:
        for user in users:
            try:
                notifier.send_welcome(user)
            except Exception as e:  # any failure of the notifier is reported, never fatal
                error = f"{type(e).__name__}: {e}"
                out.append(Notification(email=user.email, sent=False, error=error))
            else:
                out.append(Notification(email=user.email, sent=True))
    finally:
        close = getattr(notifier, "close", None)
        if callable(close):
            with contextlib.suppress(Exception):  # closing must not undo the sends
                close()
    return tuple(out)


def apply_plan(
    plan: Plan,
    repository: UserRepository,
    *,
    notifier: Notifier | None = None,
    permissions: Permissions | None = None,
) -> ApplyResult:
    """
    Apply ``plan`` to ``repository`` in one atomic commit, after checking it against the store.

    The plan is never trusted: one snapshot is read, and every entry that changes the store
    must fit it (a create names a new user, an update or delete a stored one whose every
    field is the entry's ``before``). Admin guards and deletion limits are judged on the
    store's own values and its size now, under the caller's ``permissions``. A plan read from
    a file (:meth:`Plan.from_json <userimport.plan.Plan.from_json>`) must carry the digest the
    store's secret gives its content, if the store keeps one. The commit is version-checked
    against the same version as the snapshot, so what was checked is what is changed.

    Welcome emails (``settings.send_welcome_email``) go out after the commit; a failed send
    never rolls the import back and is reported in :attr:`ApplyResult.notifications`.

    Args:
        plan: The plan made by :func:`~userimport.plan.plan_import` (or read back).
        repository: The store the plan was made against.
        notifier: Sends welcome emails; required when the settings ask for them.
        permissions: What the caller allows: admin rights changes, deleting admins, the
            deletion limits. By default, the plan's own settings for a plan made in this
            process, and the safe :class:`~userimport.model.Permissions` defaults for a plan
            read from a file (whatever its settings say).

    Returns:
        Counts, the new version, the notifications and the plan that undoes this one.

    Raises:
        StalePlanError: The store changed since the plan was made.
        DeletionLimitError: The plan deletes more users than the permissions allow.
        PlanError: The plan is held (``plan.holds``: mirror mode with an unreadable email or
            no valid row), does not fit the store, was changed after it was made, deletes
            an admin or changes admin rights beyond the permissions (the message names the
            entry and the option that would allow it).
        SettingsError: Welcome emails asked for without a notifier.
    """
    if plan.holds:
        raise PlanError("the plan is held: " + "; ".join(plan.holds))
    allowed = _permissions(plan, permissions)
    _check_digest(plan, repository)
    snap = repository.snapshot()
    if snap.version != plan.base_version:
        raise StalePlanError(
            f"the store changed since the plan was made (plan: {plan.base_version}, "
            f"store: {snap.version}); plan again",
            expected=plan.base_version,
            actual=snap.version,
        )
    _check_against_store(plan, snap, allowed)
    changes = plan.changeset()
    if plan.settings.send_welcome_email and notifier is None and changes.create:
        raise SettingsError("send_welcome_email=True needs a notifier; pass notifier=...")
    version = repository.commit(changes, expected_version=plan.base_version)
    create, update = changes.columns()  # counted without making a User for each
    notifications: tuple[Notification, ...] = ()
    if plan.settings.send_welcome_email and notifier is not None:
        notifications = send_welcome_emails(changes.create, notifier)
    return ApplyResult(
        plan=plan,
        version=version,
        created=len(create),
        updated=len(update),
        deleted=len(changes.delete),
        undo=plan.inverse(base_version=version),
        notifications=notifications,
    )

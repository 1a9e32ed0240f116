"""
Stage 6: apply a plan to the store, all or nothing, and keep the plan that undoes it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import attrs

from .errors import DeletionLimitError, PlanError, SettingsError
from .model import User
from .notify import Notification, Notifier
from .plan import Plan
from .repository import UserRepository

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


def _guard(plan: Plan) -> None:
    """Refuse a plan that breaks its own settings (it may have been edited after saving)."""
    settings = plan.settings
    f = plan.frame
    action = f["action"].to_numpy()
    deleting = action == "delete"
    deletes = int(deleting.sum())
    if settings.max_deletes is not None and deletes > settings.max_deletes:
        raise DeletionLimitError(
            f"the plan deletes {deletes} users, more than max_deletes={settings.max_deletes}; "
            "plan again with a higher max_deletes if that is what you want",
            deletes=deletes,
            limit=settings.max_deletes,
        )
    if not settings.delete_admins and deletes:
        admins = f[deleting & (f["before_is_admin"] == True)]  # noqa: E712
        if len(admins):
            raise PlanError(
                f"the plan deletes admin {admins['email'].iloc[0]}, and delete_admins=False"
            )
    if not settings.admin_rights:
        changes = f[(action == "create") | (action == "update")]
        before = changes["before_is_admin"].fillna(False).astype(bool)
        after = changes["after_is_admin"].fillna(False).astype(bool)
        if (before != after).any():
            email = changes.loc[before != after, "email"].iloc[0]
            raise PlanError(f"the plan changes the admin rights of {email}, and admin_rights=False")


def send_welcome_emails(users: Iterable[User], notifier: Notifier) -> tuple[Notification, ...]:
    """
    Send each user their welcome email; a failure is recorded, never raised.

    Returns:
        One :class:`~userimport.notify.Notification` per user, in order.
    """
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
) -> ApplyResult:
    """
    Apply ``plan`` to ``repository`` in one atomic commit.

    Welcome emails (``settings.send_welcome_email``) go out after the commit; a failed send
    never rolls the import back and is reported in :attr:`ApplyResult.notifications`.

    Args:
        plan: The plan made by :func:`~userimport.plan.plan_import`.
        repository: The store the plan was made against.
        notifier: Sends welcome emails; required when the settings ask for them.

    Returns:
        Counts, the new version, the notifications and the plan that undoes this one.

    Raises:
        StalePlanError: The store changed since the plan was made.
        DeletionLimitError: The plan deletes more users than ``max_deletes``.
        PlanError: The plan is held (``plan.holds``: mirror mode with an unreadable email or
            no valid row), deletes an admin or changes admin rights against its settings.
        SettingsError: Welcome emails asked for without a notifier.
    """
    if plan.holds:
        raise PlanError("the plan is held: " + "; ".join(plan.holds))
    _guard(plan)
    changes = plan.changeset()
    if plan.settings.send_welcome_email and notifier is None and changes.create:
        raise SettingsError("send_welcome_email=True needs a notifier; pass notifier=...")
    version = repository.commit(changes, expected_version=plan.base_version)
    notifications: tuple[Notification, ...] = ()
    if plan.settings.send_welcome_email and notifier is not None:
        notifications = send_welcome_emails(changes.create, notifier)
    return ApplyResult(
        plan=plan,
        version=version,
        created=len(changes.create),
        updated=len(changes.update),
        deleted=len(changes.delete),
        undo=plan.inverse(base_version=version),
        notifications=notifications,
    )

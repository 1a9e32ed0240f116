"""
Welcome emails: the :class:`Notifier` protocol that :func:`~userimport.apply.apply_plan` calls
for each created user, and the :class:`Notification` recording how each send went.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import attrs

from .model import User

__all__ = ["Notification", "Notifier"]


@runtime_checkable
class Notifier(Protocol):
    """Sends the welcome email to a user; raises any exception when it cannot."""

    def send_welcome(self, user: User) -> None:
        """Send ``user`` their welcome email."""
        ...


@attrs.frozen(kw_only=True)
class Notification:
    """
    How sending one welcome email went.

    Args:
        email: The recipient.
        sent: Whether the notifier accepted the message.
        error: Why not, when it did not.
    """

    email: str
    sent: bool
    error: str | None = None

"""
The settings of an import and the permissions of whoever applies it (split out of
:mod:`userimport.model`, which exports both: no names of their own in the public API).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from .errors import SettingsError

__all__ = ["GroupsMode", "ImportSettings", "OnExisting", "Permissions"]

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


# Both are named where they always lived (model re-exports them): pickles (the web pages keep
# imports in progress as pickles, shared by every worker) stay readable by a version without
# this module, as during a rolling upgrade.
ImportSettings.__module__ = Permissions.__module__ = "userimport.model"

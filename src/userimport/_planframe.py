"""
The values a plan is made of, and the frame behind a :class:`~userimport.plan.Plan`: one row
per user, its action, and the user before and after in :data:`FIELDS` columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs

from .model import USER_COLUMNS, User, UserColumns, bulk, clean_user, email_key

if TYPE_CHECKING:
    import pandas as pd

    from .fields import Field

__all__ = [
    "ACTIONS",
    "COLUMNS",
    "FIELDS",
    "Action",
    "PlanEntry",
    "PlanWarning",
    "declared_columns",
    "entries",
    "entry",
    "frame_of",
    "plain",
    "split_diff",
    "user_at",
    "user_columns",
]

Action = Literal["create", "update", "unchanged", "skip", "delete"]

#: Every action a plan entry can have, in the order summaries list them.
ACTIONS: tuple[Action, ...] = ("create", "update", "unchanged", "skip", "delete")

#: The fields of a user an import compares (the email is the identity and never changes).
FIELDS: tuple[str, ...] = USER_COLUMNS[1:]


@attrs.frozen(kw_only=True)
class PlanWarning:
    """
    Something a person should look at before applying.

    Args:
        code: ``similar_name``, ``looks_renamed``, ``admin_ignored``, ``deletion_limit``,
            ``unreadable_email``, ``deleted_looks_like_skipped`` or ``confusable_email`` (a new
            email looks like a stored one; ``suggestion`` is it); see ``docs/planning.md``.
        message: A sentence for a person.
        email: The user concerned, if one (for ``unreadable_email``, the email as written).
        name: The group or department name concerned, if one.
        suggestion: The existing name, or stored user's email, that was probably meant.
        row: The spreadsheet row concerned, if one.

    .. versionchanged:: unreleased
        ``row`` added.
    """

    code: str
    message: str
    email: str | None = None
    name: str | None = None
    suggestion: str | None = None
    row: int | None = None


@attrs.frozen(kw_only=True)
class PlanEntry:
    """
    What the plan does to one user.

    Args:
        action: ``create``, ``update``, ``unchanged``, ``skip`` or ``delete``.
        email: The user's email (the stored spelling for an existing user).
        row: The spreadsheet row the user comes from, or ``None`` (a user only in the store).
        reason: Why, for ``skip`` (and a note for the others).
        changed: The fields that change.
        before: The user as stored now (``None`` for ``create``).
        after: The user after the import (``None`` for ``delete`` and for a skipped row that
            is not in the store).
    """

    action: Action
    email: str
    row: int | None = None
    reason: str = ""
    changed: tuple[str, ...] = ()
    before: User | None = None
    after: User | None = None

    def diff(self) -> dict[str, tuple[Any, Any]]:
        """Field to ``(before, after)`` for each changed field."""
        out: dict[str, tuple[Any, Any]] = {}
        for field in self.changed:
            old = getattr(self.before, field) if self.before else None
            new = getattr(self.after, field) if self.after else None
            out[field] = (plain(old), plain(new))
        return out


def plain(value: Any) -> Any:
    if isinstance(value, frozenset | set | tuple):
        return sorted(value)
    if isinstance(value, Mapping):
        return dict(sorted(value.items()))
    return value


#: The columns of a plan's frame.
COLUMNS = (
    "action",
    "email",
    "key",
    "row",
    "reason",
    "changed",
    *(f"{side}_{f}" for side in ("before", "after") for f in FIELDS),
)


# -- reading a saved plan --------------------------------------------------------------


def user_at(rec: Mapping[str, Any], side: str, email: str) -> User | None:
    """The user on one side of a plan row (its values are in normal form), or ``None``."""
    if rec[f"{side}_first_name"] is None:
        return None
    return clean_user(email, *(rec[f"{side}_{f}"] for f in FIELDS))


def entries(frame: pd.DataFrame) -> tuple[PlanEntry, ...]:
    """The rows of a plan frame as entries."""
    cols = list(COLUMNS)
    rows = frame[cols].itertuples(index=False, name=None)
    with bulk():
        return tuple(entry(dict(zip(cols, row, strict=True))) for row in rows)


def entry(rec: Mapping[str, Any]) -> PlanEntry:
    row = rec["row"]
    return PlanEntry(
        action=rec["action"],
        email=rec["email"],
        row=None if row is None or row != row else int(row),
        reason=rec["reason"],
        changed=tuple(rec["changed"]),
        before=user_at(rec, "before", rec["email"]),
        after=user_at(rec, "after", rec["email"]),
    )


def user_columns(frame: pd.DataFrame, rows: Any) -> UserColumns:
    """
    The users after the change of the rows ``rows`` (a boolean mask) of ``frame``, column by
    column, in the form :class:`~userimport.model.User` gives its values (no department
    ``None``, groups a frozenset, ``is_admin`` a bool). Only their cells are read: no frame
    of them, and no user, is made. Each user's key is the frame's ``key`` (made column-wise
    when planning), not made again.
    """
    import numpy as np

    at = np.flatnonzero(np.asarray(rows, dtype=bool))

    def column(name: str) -> list[Any]:
        values: list[Any] = frame[name].to_numpy(dtype=object)[at].tolist()
        return values

    return UserColumns(
        key=column("key"),
        email=column("email"),
        first_name=column("after_first_name"),
        last_name=column("after_last_name"),
        department=[d or None for d in column("after_department")],
        is_admin=list(map(bool, column("after_is_admin"))),
        groups=list(map(frozenset, column("after_groups"))),
        attributes=column("after_attributes"),
    )


def frame_of(entries: Iterable[PlanEntry]) -> pd.DataFrame:
    """Build a plan frame from entries (used by ``from_json``)."""
    import pandas as pd

    records = []
    for e in entries:
        rec: dict[str, Any] = {
            "action": e.action,
            "email": e.email,
            "key": email_key(e.email),
            "row": e.row,
            "reason": e.reason,
            "changed": e.changed,
        }
        for side, user in (("before", e.before), ("after", e.after)):
            for field in FIELDS:
                value: Any = getattr(user, field) if user else None
                if field == "groups" and user:
                    value = tuple(sorted(user.groups))
                elif field == "attributes" and user:
                    value = dict(user.attributes)
                rec[f"{side}_{field}"] = value
        records.append(rec)
    return pd.DataFrame(records, columns=list(COLUMNS), dtype=object)


# -- planning --------------------------------------------------------------------------


# -- declared fields as diff columns of their own ---------------------------------------


def split_diff(
    diff: Mapping[str, tuple[Any, Any]], fields: Iterable[Field]
) -> dict[str, tuple[Any, Any]]:
    """
    ``diff`` (field to ``(before, after)``, as :meth:`PlanEntry.diff` gives it) with each
    declared field's change under its key, and ``attributes`` holding only the undeclared
    attributes that change (left out when none does).
    """
    if "attributes" not in diff:
        return dict(diff)
    old, new = (dict(side or {}) for side in diff["attributes"])
    out: dict[str, tuple[Any, Any]] = {}
    for field, change in diff.items():
        if field != "attributes":
            out[field] = change
            continue
        for f in fields:
            if old.get(f.key) != new.get(f.key):
                out[f.key] = (old.get(f.key), new.get(f.key))
            old.pop(f.key, None)
            new.pop(f.key, None)
        if old != new:
            out["attributes"] = (old, new)
    return out


def declared_columns(frame: pd.DataFrame, fields: tuple[Field, ...]) -> pd.DataFrame:
    """
    A plan frame (as :meth:`~userimport.plan.Plan.to_frame` shows it, ``changed`` still
    tuples) with ``before_<key>`` and ``after_<key>`` columns for each declared field, taken
    from the ``attributes`` columns, and ``changed`` naming the declared field, not
    ``attributes``, for the rows whose change is in one.
    """
    import numpy as np

    if not fields:
        return frame
    for side in ("before", "after"):
        attributes = frame[f"{side}_attributes"]
        for f in fields:
            frame[f"{side}_{f.key}"] = attributes.map(
                lambda a, key=f.key: None if not a else a.get(key)
            )
    concerned = frame["changed"].map(lambda c: "attributes" in c).to_numpy(dtype=bool)
    if concerned.any():  # only the rows whose attributes change
        keys = [f.key for f in fields]
        rows = frame.loc[concerned]

        def named(rec: tuple[Any, ...]) -> tuple[str, ...]:
            changed, before, after = rec
            diff = split_diff({"attributes": (before, after)}, fields)
            at = changed.index("attributes")
            return (
                *changed[:at],
                *(k for k in (*keys, "attributes") if k in diff),
                *changed[at + 1 :],
            )

        triples = zip(
            rows["changed"], rows["before_attributes"], rows["after_attributes"], strict=True
        )
        named_rows = np.empty(len(rows), dtype=object)
        named_rows[:] = [named(t) for t in triples]
        frame.loc[concerned, "changed"] = named_rows
    return frame

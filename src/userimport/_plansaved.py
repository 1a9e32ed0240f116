"""
A plan saved as JSON, written and read back with every value checked (see
:meth:`~userimport.plan.Plan.from_json`).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import attrs

from ._planframe import ACTIONS, COLUMNS, FIELDS, PlanWarning
from ._saved import Reader
from .errors import SettingsError
from .model import ImportSettings, bulk, email_key

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "HEAD",
    "HEX64",
    "OPTIONAL",
    "as_list",
    "read_entries",
    "read_settings",
    "read_warning",
    "saved_entries",
    "saved_lines",
]

#: The keys every saved plan has, and those a plan may have (older files lack some).
HEAD = (
    "format",
    "format_version",
    "base_version",
    "settings",
    "new_groups",
    "new_departments",
    "remove_groups",
    "remove_departments",
    "warnings",
    "entries",
)
OPTIONAL = ("source", "holds", "store_users", "undo", "digest", "store", "store_id")
_ENTRY = frozenset(("action", "email", "row", "reason", "changed", "before", "after"))
HEX64 = re.compile("[0-9a-f]{64}")
#: Per action, whether an entry has a ``before`` and an ``after`` (``None``: either way).
_SHAPES: dict[str, tuple[bool | None, bool | None]] = {
    "create": (False, True),
    "update": (True, True),
    "delete": (True, False),
    "unchanged": (True, True),
    "skip": (None, None),
}


def as_list(r: Reader, value: Any, where: str) -> list[Any]:
    if type(value) is not list:
        r.fail(where, "must be a list")
    return value


def read_warning(r: Reader, value: Any, where: str) -> PlanWarning:
    """A saved warning: PlanWarning's fields, text where the field is text."""
    fields = attrs.fields(PlanWarning)
    required = [a.name for a in fields if a.default is attrs.NOTHING]
    data = r.object(value, where, required, [a.name for a in fields])
    for a in fields:
        kind = str(a.type)  # an annotation string, under postponed evaluation
        if a.name in data and kind in ("str", "str | None"):
            check = r.text if kind == "str" else r.maybe_text
            check(data[a.name], f"{where}.{a.name}")
    try:
        return PlanWarning(**data)
    except (TypeError, ValueError) as e:
        r.fail(where, f"is wrong: {e}")


def read_settings(r: Reader, value: Any) -> ImportSettings:
    """The plan's settings: known names only, booleans as JSON booleans."""
    fields = attrs.fields(ImportSettings)
    data = r.object(value, "settings", (), [a.name for a in fields])
    for a in fields:
        if a.name in data and isinstance(a.default, bool):
            r.flag(data[a.name], f"settings.{a.name}")
    try:
        return ImportSettings.from_dict(data)
    except SettingsError as e:
        r.fail("settings", f"are wrong: {e}")


def read_entries(r: Reader, value: Any) -> dict[str, list[Any]]:
    """The plan frame's columns from saved entries, each value checked (see from_json)."""
    import pandas as pd

    from .validation import email_is_valid

    entries = as_list(r, value, "entries")
    n = len(entries)
    cols: dict[str, list[Any]] = {c: [None] * n for c in COLUMNS}
    action_col, email_col, key_col = cols["action"], cols["email"], cols["key"]
    row_col, reason_col, changed_col = cols["row"], cols["reason"], cols["changed"]
    sides = [[cols[f"{side}_{f}"] for f in FIELDS] for side in ("before", "after")]
    known = frozenset(FIELDS)
    creates: list[int] = []
    for i, e in enumerate(entries):
        where = f"entry {i + 1}"
        if type(e) is not dict or e.keys() != _ENTRY:
            r.object(e, where, _ENTRY)
        action, email = e["action"], e["email"]
        if type(action) is not str or action not in _SHAPES:
            r.fail(f"{where}.action", f"must be one of {', '.join(ACTIONS)}")
        if type(email) is not str:
            r.text(email, f"{where}.email")
        where = f"entry {i + 1} ({action} {email[:60]!r})"
        changed = r.texts(e["changed"], f"{where}.changed")
        if not known.issuperset(changed) or len(set(changed)) != len(changed):
            r.fail(f"{where}.changed", f"must name distinct fields of {', '.join(FIELDS)}")
        users: list[tuple[Any, ...] | None] = []
        for side, values, needed in zip(("before", "after"), sides, _SHAPES[action], strict=True):
            raw = e[side]
            if raw is None:
                if needed:
                    r.fail(f"{where}.{side}", f"is needed for {action}")
                users.append(None)
                continue
            if needed is False:
                r.fail(f"{where}.{side}", f"must be null for {action}")
            user = r.user(raw, f"{where}.{side}", email)
            for column, v in zip(values, user, strict=True):
                column[i] = v
            users.append(user)
        before, after = users
        if action == "skip" and after is not None and before is None:
            r.fail(f"{where}.after", "must be null for a skip of a user not in the store")
        if action == "update":
            assert before is not None
            assert after is not None
            differ = [f for f, b, a in zip(FIELDS, before, after, strict=True) if b != a]
            if changed != differ:
                r.fail(f"{where}.changed", f"must list the fields that change: {differ}")
        elif changed:
            r.fail(f"{where}.changed", f"must be empty for {action}")
        elif action == "create":
            creates.append(i)
        action_col[i] = action
        email_col[i] = email
        key_col[i] = email_key(email)
        row_col[i] = r.maybe_whole(e["row"], f"{where}.row")
        reason_col[i] = r.text(e["reason"], f"{where}.reason")
        changed_col[i] = tuple(changed)
    if creates:
        new = pd.Series([email_col[i] for i in creates], dtype=object)
        bad = ~email_is_valid(new).to_numpy(dtype=bool)
        if bad.any():
            i = creates[int(bad.argmax())]
            r.fail(
                f"entry {i + 1} (create).email",
                f"{email_col[i][:80]!r} is not one valid email address",
            )
    return cols


def saved_entries(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The entries as :meth:`Plan.to_json` writes them (``User.to_dict`` for each side)."""
    cols = list(COLUMNS)
    n = len(FIELDS)

    def user(email: str, values: tuple[Any, ...]) -> dict[str, Any] | None:
        first, last, department, groups, is_admin, attributes = values
        if first is None:
            return None
        return {
            "email": email,
            "first_name": first,
            "last_name": last,
            "department": department or None,
            "groups": sorted(groups),
            "is_admin": bool(is_admin),
            "attributes": dict(sorted(attributes.items())),
        }

    with bulk():
        return [
            {
                "action": row[0],
                "email": row[1],
                "row": None if row[3] is None or row[3] != row[3] else int(row[3]),
                "reason": row[4],
                "changed": list(row[5]),
                "before": user(row[1], row[6 : 6 + n]),
                "after": user(row[1], row[6 + n :]),
            }
            for row in frame[cols].itertuples(index=False, name=None)
        ]


def saved_lines(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """
    The entries of :func:`saved_entries` as JSON text, made straight from the columns: each
    as ``Plan.to_json`` writes it, and in canonical form (sorted keys, no spaces).

    The same characters as json.dumps of those entries (a property test holds them to it),
    at a fraction of the cost: no dict per entry, each value encoded by json's C string
    encoder, repeated groups once. (Joining the pieces with NumPy, a column at a time, was
    slower: each join copies every string made so far.)

    Raises:
        TypeError: A value that is not of its column's type (the caller then encodes the
            entries with json).
    """
    text = json.encoder.encode_basestring  # json.dumps(str, ensure_ascii=False), in C
    seen: dict[Any, tuple[str, str]] = {}

    def names(value: tuple[str, ...]) -> tuple[str, str]:
        """A tuple of names as a JSON list (sorted), spaced and canonical."""
        found = seen.get(value)
        if found is None:
            items = [text(v) for v in sorted(value)]
            found = seen[value] = (f"[{', '.join(items)}]", f"[{','.join(items)}]")
        return found

    def mapping(value: dict[str, str]) -> tuple[str, str]:
        if not value:
            return "{}", "{}"
        items = sorted(value.items())
        return (
            "{" + ", ".join(f"{text(k)}: {text(v)}" for k, v in items) + "}",
            "{" + ",".join(f"{text(k)}:{text(v)}" for k, v in items) + "}",
        )

    def user(
        email: str, first: Any, last: Any, dep: Any, groups: Any, admin: Any, attrs_: Any
    ) -> tuple[str, str]:
        if first is None:
            return "null", "null"
        e, f, la = text(email), text(first), text(last)
        d = text(dep) if dep else "null"
        g, gc = names(groups)
        a = "true" if admin else "false"
        t, tc = mapping(attributes_of(attrs_))
        return (
            f'{{"email": {e}, "first_name": {f}, "last_name": {la}, "department": {d}, '
            f'"groups": {g}, "is_admin": {a}, "attributes": {t}}}',
            f'{{"attributes":{tc},"department":{d},"email":{e},"first_name":{f},'
            f'"groups":{gc},"is_admin":{a},"last_name":{la}}}',
        )

    def attributes_of(value: Any) -> dict[str, str]:
        if not isinstance(value, dict):
            raise TypeError(f"attributes {value!r} are not a dict")
        return value

    n = len(FIELDS)
    none = ("null", "null")
    spaced, canonical = [], []
    columns = [frame[c].to_numpy(dtype=object) for c in COLUMNS]
    for row in zip(*columns, strict=True):
        action, email, reason = text(row[0]), text(row[1]), text(row[4])
        number = row[3]
        r = "null" if number is None or number != number else str(int(number))
        changed = [text(v) for v in row[5]]
        c, cc = f"[{', '.join(changed)}]", f"[{','.join(changed)}]"
        b, bc = none if row[6] is None else user(row[1], *row[6 : 6 + n])
        a, ac = none if row[6 + n] is None else user(row[1], *row[6 + n :])
        spaced.append(
            f'{{"action": {action}, "email": {email}, "row": {r}, "reason": {reason}, '
            f'"changed": {c}, "before": {b}, "after": {a}}}'
        )
        canonical.append(
            f'{{"action":{action},"after":{ac},"before":{bc},"changed":{cc},"email":{email},'
            f'"reason":{reason},"row":{r}}}'
        )
    return spaced, canonical

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


def saved_arrays(frame: pd.DataFrame, sep: str) -> tuple[Any, Any] | None:
    """
    The entries of :func:`saved_lines` as two Arrow string arrays, made a column at a time:
    the spaced lines, each after ``sep``, and the canonical ones, each after a comma.

    Each value is encoded once per column by Arrow's kernels (a text is its JSON string
    unless it holds a quote, a backslash or a control character; those few go through json's
    encoder), each distinct list of groups once, and each line is joined by Arrow, so no
    Python string is made per entry: the arrays' data buffers are the bytes to write and to
    hash. A property test holds the result to :func:`saved_lines`.

    Returns:
        The two arrays, or ``None`` for a frame holding a value of another type than its
        column's (or text that is not valid Unicode): :func:`saved_lines` then decides.
    """
    import pyarrow as pa

    try:
        return _arrays(frame, sep)
    except (pa.ArrowException, TypeError, ValueError):
        return None


def array_bytes(array: Any) -> memoryview:
    """The bytes of a string array's values, one after another (nulls have none)."""
    import numpy as np

    _, offsets, data = array.buffers()
    if data is None:
        return memoryview(b"")
    ends = np.frombuffer(offsets, dtype=np.int32)
    return memoryview(data)[ends[array.offset] : ends[array.offset + len(array)]]


def _arrays(frame: pd.DataFrame, sep: str) -> tuple[Any, Any]:
    """:func:`saved_arrays`, raising on a value of another type."""
    import pyarrow as pa
    import pyarrow.compute as pc

    join = pc.binary_join_element_wise
    email = _json_texts(_strings(frame["email"]))
    sides = [_user(frame, side, email) for side in ("before", "after")]
    (before, before_c), (after, after_c) = sides
    action = _json_texts(_strings(frame["action"]))
    reason = _json_texts(_strings(frame["reason"]))
    changed, changed_c = _lists(frame["changed"], sort=False)
    rows = pa.array(frame["row"].to_numpy(dtype=object), from_pandas=True)
    if pa.types.is_floating(rows.type):  # whole numbers in a float column
        rows = rows.cast(pa.int64())
    if not (pa.types.is_integer(rows.type) or pa.types.is_null(rows.type)):
        raise TypeError(f"rows of type {rows.type}")
    row = pc.fill_null(rows.cast(pa.string()), "null")
    spaced = join(
        sep, '{"action": ', action, ', "email": ', email, ', "row": ', row, ', "reason": ',
        reason, ', "changed": ', changed, ', "before": ', before, ', "after": ', after, "}", "",
    )  # fmt: skip
    canonical = join(
        ',{"action":', action, ',"after":', after_c, ',"before":', before_c, ',"changed":',
        changed_c, ',"email":', email, ',"reason":', reason, ',"row":', row, "}", "",
    )  # fmt: skip
    if spaced.null_count or canonical.null_count:
        raise TypeError("a value missing")
    return spaced, canonical


def _user(frame: pd.DataFrame, side: str, email: Any) -> tuple[Any, Any]:
    """One side's users as JSON objects, spaced and canonical, ``null`` where none."""
    import pyarrow as pa
    import pyarrow.compute as pc

    join = pc.binary_join_element_wise
    first = _json_texts(_strings(frame[f"{side}_first_name"]))
    if first.null_count == len(first):
        none = pa.array(["null"] * len(first), pa.string())
        return none, none
    last = _json_texts(_strings(frame[f"{side}_last_name"]))
    named = _strings(frame[f"{side}_department"])  # "" is no department, as None
    named = pc.if_else(pc.equal(named, ""), pa.scalar(None, pa.string()), named)
    department = pc.fill_null(_json_texts(named), "null")
    groups, groups_c = _lists(frame[f"{side}_groups"], sort=True)
    flags = pa.array(frame[f"{side}_is_admin"].to_numpy(dtype=object), from_pandas=False)
    if not (pa.types.is_boolean(flags.type) or pa.types.is_null(flags.type)):
        raise TypeError(f"is_admin of type {flags.type}")
    admin = pc.if_else(flags, "true", "false")
    attributes, attributes_c = _mappings(frame[f"{side}_attributes"])
    spaced = join(
        '{"email": ', email, ', "first_name": ', first, ', "last_name": ', last,
        ', "department": ', department, ', "groups": ', groups, ', "is_admin": ', admin,
        ', "attributes": ', attributes, "}", "",
    )  # fmt: skip
    canonical = join(
        '{"attributes":', attributes_c, ',"department":', department, ',"email":', email,
        ',"first_name":', first, ',"groups":', groups_c, ',"is_admin":', admin,
        ',"last_name":', last, "}", "",
    )  # fmt: skip
    # A side is null exactly where it has no first name; any other gap is a wrong value.
    if not spaced.null_count == canonical.null_count == first.null_count:
        raise TypeError(f"a {side} user with a value missing")
    return pc.fill_null(spaced, "null"), pc.fill_null(canonical, "null")


def _strings(column: pd.Series) -> Any:
    """A column of text (or nulls) as an Arrow string array; other values raise."""
    import pyarrow as pa

    source = column.to_numpy(dtype=object) if column.dtype == object else column.array
    values = pa.array(source, from_pandas=False)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_null(values.type) or pa.types.is_large_string(values.type):
        return values.cast(pa.string())
    if not pa.types.is_string(values.type):
        raise TypeError(f"text of type {values.type}")
    return values


def _json_texts(values: Any) -> Any:
    """Each text as json.dumps writes it (``ensure_ascii=False``); nulls stay null."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    quoted = pc.binary_join_element_wise('"', values, '"', "")
    raw = np.frombuffer(array_bytes(values), dtype=np.uint8)
    # In UTF-8 these bytes are only ever these characters, which json escapes.
    if not ((raw < 0x20) | (raw == 0x22) | (raw == 0x5C)).any():
        return quoted
    escape = pc.fill_null(pc.match_substring_regex(values, r'[\x00-\x1f"\\]'), False)
    text = json.encoder.encode_basestring
    escaped = [text(values[int(i)].as_py()) for i in np.flatnonzero(escape)]
    return pc.replace_with_mask(quoted, escape, pa.array(escaped, pa.string()))


def _lists(column: pd.Series, *, sort: bool) -> tuple[Any, Any]:
    """
    A column of tuples of text as JSON lists, spaced and canonical (null where ``None``),
    each distinct tuple encoded once; with ``sort``, each list sorted.
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    codes, found = pd.factorize(column.to_numpy(dtype=object))
    distinct = list(found)
    if sort:
        lists = pa.array(distinct, pa.list_(pa.string()))
        names, parent = lists.flatten(), pc.list_parent_indices(lists)
        if len(names) > 1:
            same = pc.equal(parent[1:], parent[:-1])
            if pc.any(pc.and_(same, pc.less(names[1:], names[:-1]))).as_py():
                distinct = [tuple(sorted(d)) for d in distinct]
    lists = pa.array(distinct, pa.list_(pa.string()))
    names = pa.ListArray.from_arrays(lists.offsets, _json_texts(lists.flatten()))
    pick = pa.array(codes, mask=codes < 0)
    return tuple(
        pc.binary_join_element_wise("[", pc.binary_join(names, gap), "]", "").take(pick)
        for gap in (", ", ",")
    )


def _mappings(column: pd.Series) -> tuple[Any, Any]:
    """A column of dicts of text as JSON objects, keys sorted, spaced and canonical."""
    import numpy as np
    import pyarrow as pa

    values = column.to_numpy(dtype=object)
    codes = np.where(values == np.array(None), -1, 0)
    text = json.encoder.encode_basestring
    spaced, canonical = ["{}"], ["{}"]
    for i in np.flatnonzero((values != np.array({})) & (codes == 0)):
        value = values[i]
        if not isinstance(value, dict):
            raise TypeError(f"attributes {value!r} are not a dict")
        items = sorted(value.items())
        spaced.append("{" + ", ".join(f"{text(k)}: {text(v)}" for k, v in items) + "}")
        canonical.append("{" + ",".join(f"{text(k)}:{text(v)}" for k, v in items) + "}")
        codes[i] = len(spaced) - 1
    pick = pa.array(codes, mask=codes < 0)
    return pa.array(spaced, pa.string()).take(pick), pa.array(canonical, pa.string()).take(pick)

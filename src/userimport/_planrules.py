"""
The rules of planning, column-wise: the after-state of existing users, which fields change,
and the warnings about admins and look-alike emails (see ``docs/planning.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import _text
from ._planframe import FIELDS, Action, PlanWarning
from .model import ImportSettings, Snapshot, User

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "admin_ignored",
    "attributes",
    "changed_fields",
    "compare",
    "compare_users",
    "differs",
    "lookalikes",
    "merged_attributes",
    "normalise",
    "objects",
    "stored_rows",
    "stored_texts",
    "updated",
]


def attributes(frame: pd.DataFrame) -> list[dict[str, str]] | None:
    """Each row's non-empty ``attributes.*`` cells as a dict; ``None`` when none are mapped."""
    cols = [c for c in frame.columns if c.startswith("attributes.")]
    if not cols:
        return None
    names = [c[len("attributes.") :] for c in cols]
    values = frame[cols].to_numpy(dtype=object)
    return [{n: v for n, v in zip(names, row, strict=True) if v} for row in values]


def objects(values: Any, n: int) -> Any:
    """A plan column: an object array of ``n`` values (tuples and dicts kept whole)."""
    import numpy as np

    if values is None:
        return np.full(n, None, dtype=object)
    if hasattr(values, "to_numpy"):
        return values.to_numpy(dtype=object)
    if isinstance(values, str | bool | np.bool_):
        return np.full(n, values, dtype=object)
    if isinstance(values, np.ndarray):
        return values.astype(object, copy=False)
    return np.fromiter(values, dtype=object, count=n)


def changed_fields(flags: Any) -> Any:
    """Each row's changed fields as a tuple, from a rows x FIELDS boolean matrix."""
    import numpy as np

    codes = flags.astype(np.int64) @ (1 << np.arange(len(FIELDS), dtype=np.int64))
    # One tuple per combination present, looked up by its code (no sort of the codes).
    names = np.empty(1 << len(FIELDS), dtype=object)
    for code in np.flatnonzero(np.bincount(codes, minlength=len(names))).tolist():
        names[code] = tuple(f for bit, f in enumerate(FIELDS) if code >> bit & 1)
    return names[codes]


def admin_ignored(emails: Any, change: str) -> list[PlanWarning]:
    """One ``admin_ignored`` warning per user whose admin rights the file would change."""
    what = "make {} an admin" if change == "grant" else "take admin rights from {}"
    return [
        PlanWarning(
            code="admin_ignored",
            message=f"the file would {what.format(email)}; ignored, since admin_rights=False",
            email=email,
        )
        for email in emails.tolist()
    ]


def lookalikes(emails: pd.Series, keys: pd.Series, snap: Snapshot) -> list[PlanWarning]:
    """
    A warning for each new email whose confusable skeleton (UTS #39) is a stored user's, when
    one of the two is not ASCII (``pаul@`` with a Cyrillic ``а`` against a stored ``paul@``,
    or the other way round).

    Cheap for plain files: skeletons are made only for new emails that are not ASCII (held
    against every stored key) and, when the store holds keys that are not ASCII, for the new
    emails held against those few.
    """
    from . import _email

    if not len(keys):
        return []
    import numpy as np
    import pyarrow.compute as pc

    found: dict[int, str] = {}  # position among the new rows -> stored key

    def match(at: Any, query: Any, stored: tuple[Any, Any]) -> None:
        """Record, for the new rows ``at``, the stored key whose skeleton is ``query``'s."""
        hit = pc.index_in(_text.arrow(query), value_set=stored[1])
        where = pc.is_valid(hit).to_numpy(zero_copy_only=False)
        if where.any():
            held = stored[0].take(hit.filter(pc.is_valid(hit))).to_pylist()
            for i, key in zip(np.asarray(at)[where].tolist(), held, strict=True):
                found.setdefault(i, key)

    mine = _text.non_ascii(keys)
    if mine.any():  # new keys that are not ASCII, against every stored key
        match(mine.nonzero()[0], _email.skeletons(keys[mine]), snap.skeletons)
    if len(snap.foreign_skeletons[0]):  # every new key against stored keys not ASCII
        match(np.arange(len(keys)), _email.skeletons(keys), snap.foreign_skeletons)
    out = []
    for at, key in sorted(found.items()):
        email = str(emails.iloc[at])
        existing = str(snap.frame.at[key, "email"])
        out.append(
            PlanWarning(
                code="confusable_email",
                message=f"the new email {email} looks like the stored {existing} (their "
                "letters look alike); check it is not the same person before creating it",
                email=email,
                suggestion=existing,
            )
        )
    return out


def stored_rows(store: pd.DataFrame, at: Any) -> dict[str, Any]:
    """
    The rows ``at`` (positions) of a snapshot's frame in plan form, as one array per column
    (``email`` and :data:`FIELDS`): a take of each column, no frame made.
    """
    import numpy as np

    out = {c: store[c].to_numpy()[at] for c in ("email", *FIELDS)}
    department = out["department"]
    out["department"] = np.where(department == "", None, department)
    return out


def stored_texts(snap: Snapshot, at: Any) -> dict[str, Any] | None:
    """
    The rows ``at`` (positions) of the snapshot's names and department as Arrow arrays, when
    the snapshot holds them so (``None`` otherwise): for :func:`updated`.
    """
    texts = snap._texts
    if texts is None:
        return None
    return {f: texts[f].take(at) for f in ("first_name", "last_name", "department")}


def normalise(store: pd.DataFrame | None) -> Any:
    """Store rows in plan form: department ``None`` when empty."""
    if store is None:
        return None
    return store.assign(department=store["department"].where(store["department"] != "", None))


def differs(before: Any, after: Any) -> Any:
    """Element-wise ``!=`` of two object columns (tuples and dicts compare by value)."""
    import numpy as np

    old, new = _array(before), _array(after)
    if _same(old, new):  # a column the import left as stored: nothing to compare
        return np.zeros(len(old), dtype=bool)
    return np.asarray(old != new, dtype=bool)


def _same(a: Any, b: Any) -> bool:
    """Whether two arrays are views of the same cells (so equal, value for value)."""
    return bool(
        a.dtype == object
        and b.dtype == object
        and a.shape == b.shape
        and a.strides == b.strides
        and a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
    )


def _array(values: Any) -> Any:
    """The values of a column as a NumPy array (object for text), without copying one."""
    import numpy as np

    return values.to_numpy() if hasattr(values, "to_numpy") else np.asarray(values)


def updated(
    old: pd.DataFrame,
    before: Mapping[str, Any] | pd.DataFrame,
    *,
    settings: ImportSettings,
    groups_mapped: bool,
    casefold: frozenset[str] = frozenset(),
    texts: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """
    The after-state of existing users (column arrays) from the file's non-empty cells, and,
    for the fields whose change it decides itself, which users it changes (boolean arrays:
    :func:`differs` of ``before`` and the after-state, found without comparing every user
    again).

    An ``attributes`` value in ``casefold`` that differs from the stored one in case only
    keeps the stored value. ``texts``, when given, holds the stored names and department of
    these users as Arrow arrays (department ``""`` for none, see :func:`stored_texts`): the
    file's cells are compared with them in Arrow, and only the cells taken made into Python.
    """
    import numpy as np

    after = {f: _array(before[f]) for f in FIELDS}
    known: dict[str, Any] = {}
    for field in ("first_name", "last_name", "department"):
        stored = after[field]
        if texts is None:
            file = _text.objects(old[field])
            take = (file != "") & (file != stored)
        else:  # the same rule in Arrow (a missing cell is taken, as None != "" above)
            import pyarrow.compute as pc

            cells = _text.arrow(old[field])
            differ = pc.and_(pc.not_equal(cells, ""), pc.not_equal(cells, texts[field]))
            take = pc.fill_null(differ, True).to_numpy(zero_copy_only=False)
        known[field] = take  # a cell taken differs from the stored one, the others are it
        if take.any():  # else the stored column is shared, not copied
            changed = stored.copy()
            changed[take] = _text.objects(old[field][take]) if texts is not None else file[take]
            after[field] = changed
    if groups_mapped:
        file_groups = old["groups"].to_numpy(dtype=object)
        if settings.groups == "replace":
            after["groups"] = file_groups
        else:
            # Both sides are sorted tuples of distinct names: only users whose groups differ
            # need the union, and it adds a name only if it is longer than the stored tuple
            # (which is kept, shared, otherwise: so exactly the users given a union differ).
            stored = after["groups"]
            merged = stored.copy()
            grown = []
            for i in np.flatnonzero(file_groups != stored).tolist():
                held = stored[i]
                union = {*held, *file_groups[i]}
                if len(union) > len(held):
                    merged[i] = tuple(sorted(union))
                    grown.append(i)
            after["groups"] = merged
            known["groups"] = np.zeros(len(merged), dtype=bool)
            known["groups"][grown] = True
    if "is_admin" in old.columns and settings.admin_rights:
        after["is_admin"] = old["is_admin"].to_numpy(dtype=bool)
    file_attrs = attributes(old)
    if file_attrs is not None and any(file_attrs):
        merged_attrs = np.empty(len(old), dtype=object)
        merged_attrs[:] = [
            merged_attributes(b, f, casefold) if f else b
            for f, b in zip(file_attrs, after["attributes"], strict=True)
        ]
        after["attributes"] = merged_attrs
    return after, known


def merged_attributes(
    stored: Mapping[str, str], file: Mapping[str, str], casefold: frozenset[str]
) -> Mapping[str, str]:
    """
    A user's attributes after an import: the file's values over the stored ones, except where
    a ``casefold`` field's value differs in case only (no change).
    """
    out = {**stored, **file}
    for name in casefold & file.keys() & stored.keys():
        if stored[name].casefold() == file[name].casefold():
            out[name] = stored[name]
    return out


def compare(
    before: Mapping[str, Any], after: Mapping[str, Any], known: Mapping[str, Any] | None = None
) -> tuple[Any, Any]:
    """
    The update rule: a user whose fields differ is ``update``d, else ``unchanged``.

    One rule for imports (:func:`~userimport.plan.plan_import`, column-wise over every existing
    user) and for the single-user actions (:func:`compare_users`).

    Args:
        before: Each field's column of the users as stored (plan form).
        after: Each field's column of the same users after the change, in the same order.
        known: For some fields, the users whose field differs, already known (as
            :func:`updated` finds them); the other fields are compared.

    Returns:
        Each user's action (``update`` or ``unchanged``) and the fields that change (a tuple
        in :data:`~userimport._planframe.FIELDS` order), as object arrays.
    """
    import numpy as np

    known = known or {}
    flags = np.column_stack(
        [known[f] if f in known else differs(before[f], after[f]) for f in FIELDS]
    )
    # Two strings shared by every row, not one made per row.
    action = np.array(["unchanged", "update"], dtype=object)[flags.any(axis=1).astype(np.intp)]
    return action, changed_fields(flags)


def compare_users(before: User, after: User) -> tuple[Action, tuple[str, ...]]:
    """:func:`compare` for one user: its action and the fields that change."""
    import numpy as np

    def column(user: User) -> dict[str, Any]:
        out = {}
        for field in FIELDS:
            one = np.empty(1, dtype=object)
            one[0] = getattr(user, field)
            out[field] = one
        return out

    action, changed = compare(column(before), column(after))
    return action[0], changed[0]

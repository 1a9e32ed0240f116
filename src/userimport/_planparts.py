"""
The parts of :func:`~userimport.plan.plan_import`, in the order a plan lists its rows: where each
row's user is in the store, the rows not imported, the new users, the existing users, and the
users missing from the file (mirror mode); then the frame they make and the names they add.

Every part works column-wise on the review's rows and the snapshot's frame; each returns the
plan rows it adds (as :data:`Columns`) and the warnings it finds.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from . import _mirror, _text
from ._planframe import COLUMNS, FIELDS, PlanWarning
from ._planrules import (
    admin_ignored,
    attributes,
    compare,
    lookalikes,
    normalise,
    objects,
    stored_rows,
    stored_texts,
    updated,
)
from .model import ImportSettings, Snapshot

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Columns",
    "Found",
    "columns",
    "created",
    "existing",
    "frame",
    "locate",
    "missing",
    "not_imported",
]

#: Plan rows as column arrays, keyed by :data:`~userimport._planframe.COLUMNS`.
Columns = dict[str, Any]


@attrs.frozen(kw_only=True)
class Found:
    """
    Where each row's user is in the store.

    Args:
        keys: Each row's email key (validation left the emails trimmed and in NFC).
        at: Each row's position in the snapshot's frame, ``-1`` when the store lacks it.
        stored: The snapshot frame's keys.
        valid: Which rows are valid (the review's ``status``), as a boolean array.
    """

    keys: pd.Series
    at: Any
    stored: Any
    valid: Any

    def keys_of(self, flag: Any) -> Any:
        """The keys of the flagged rows: the store's own strings for users it holds."""
        out = self.keys[flag].to_numpy(dtype=object)
        known = self.at[flag] >= 0
        out[known] = self.stored[self.at[flag][known]]
        return out


def locate(rows: pd.DataFrame, snap: Snapshot) -> Found:
    """Each row's place in the store: one hash join of the email keys, in Arrow."""
    import numpy as np
    import pyarrow.compute as pc

    folded = _text.lower(rows["email"])
    hit = pc.index_in(_text.arrow(folded), value_set=snap.key_array)
    at = np.where((folded != "").to_numpy(), pc.fill_null(hit, -1).to_numpy(), -1)
    return Found(
        keys=folded,
        at=at.astype("int64"),
        stored=snap.frame.index.to_numpy(dtype=object),
        valid=(rows["status"] == "valid").to_numpy(dtype=bool),
    )


def columns(
    action: Any,
    *,
    email: Any,
    key: Any,
    row: Any,
    reason: Any,
    before: Mapping[str, Any] | pd.DataFrame | None,
    after: Mapping[str, Any] | pd.DataFrame | None,
    changed: Any = None,
) -> list[Columns]:
    """The plan rows of one action (a list of one, or none when there are no users)."""
    import pandas as pd

    n = len(email)
    if n == 0:
        return []
    data: Columns = {
        "action": objects(action, n),
        "email": objects(email, n),
        "key": objects(key, n),
        "row": objects(pd.Series(row), n),
        "reason": objects(reason, n),
        "changed": objects(itertools.repeat((), n) if changed is None else changed, n),
    }
    for side, src in (("before", before), ("after", after)):
        for field in FIELDS:
            data[f"{side}_{field}"] = objects(None if src is None else src[field], n)
    return [data]


def not_imported(rows: pd.DataFrame, found: Found, snap: Snapshot) -> list[Columns]:
    """Rows with errors or skipped by the reviewer: ``skip``, stored users first."""
    import numpy as np

    not_valid = ~found.valid
    out: list[Columns] = []
    for in_store in (True, False) if not_valid.any() else ():
        flag = not_valid & ((found.at >= 0) == in_store)
        sel = rows[flag]
        before = normalise(snap.frame.take(found.at[flag])) if in_store else None
        out += columns(
            "skip",
            email=before["email"] if before is not None else sel["email"],
            key=found.keys_of(flag),
            row=sel.index,
            reason=np.where(sel["status"] == "skipped", "skipped in review", "row has errors"),
            before=before,
            after=None,
        )
    return out


def created(
    rows: pd.DataFrame, found: Found, snap: Snapshot, settings: ImportSettings
) -> tuple[list[Columns], list[PlanWarning]]:
    """Valid rows whose user the store lacks: ``create``; admin rights only if allowed."""
    import numpy as np

    creating = found.valid & (found.at < 0)
    new = rows[creating]
    admin_mapped = "is_admin" in rows.columns
    warnings: list[PlanWarning] = []
    file_admin = new["is_admin"] if admin_mapped and settings.admin_rights else False
    if admin_mapped and not settings.admin_rights:
        warnings += admin_ignored(new["email"][new["is_admin"].to_numpy(dtype=bool)], "grant")
    part = columns(
        "create",
        email=new["email"],
        key=found.keys[creating],
        row=new.index,
        reason="",
        before=None,
        after={
            "first_name": _text.objects(new["first_name"]),
            "last_name": _text.objects(new["last_name"]),
            "department": _text.objects(new["department"]),
            "groups": new["groups"],
            "is_admin": np.broadcast_to(np.asarray(file_admin, dtype=bool), len(new)).copy(),
            "attributes": attributes(new) or [{} for _ in range(len(new))],
        },
    )
    warnings += lookalikes(new["email"], found.keys[creating], snap)
    return part, warnings


def existing(
    rows: pd.DataFrame,
    found: Found,
    snap: Snapshot,
    settings: ImportSettings,
    *,
    groups_mapped: bool,
    casefold: frozenset[str] = frozenset(),
) -> tuple[list[Columns], list[PlanWarning]]:
    """
    Valid rows whose user the store holds: ``update`` or ``unchanged`` (or ``skip``).

    ``casefold`` names the declared fields (``attributes`` keys) whose change of case alone is
    no change.
    """
    import numpy as np

    exists = found.valid & (found.at >= 0)
    # The file's side of these users: their email and status are not read again.
    old = rows.drop(columns=["email", "status"])[exists]
    before = stored_rows(snap.frame, found.at[exists])
    keys = found.stored[found.at[exists]]
    if settings.on_existing == "skip":
        reason = "exists (on_existing='skip')"
        part = columns(
            "skip",
            email=before["email"],
            key=keys,
            row=old.index,
            reason=reason,
            before=before,
            after=before,
        )
        return part, []
    if not len(old):
        return [], []
    after, known = updated(
        old,
        before,
        settings=settings,
        groups_mapped=groups_mapped,
        casefold=casefold,
        texts=stored_texts(snap, found.at[exists]),
    )
    warnings: list[PlanWarning] = []
    if "is_admin" in rows.columns and not settings.admin_rights:
        wanted = old["is_admin"].to_numpy(dtype=bool)
        stored = np.asarray(before["is_admin"], dtype=bool)
        warnings += admin_ignored(before["email"][wanted & ~stored], "grant")
        warnings += admin_ignored(before["email"][~wanted & stored], "revoke")
    action, changed = compare(before, after, known)
    part = columns(
        action,
        email=before["email"],
        key=keys,
        row=old.index,
        reason="",
        before=before,
        after=after,
        changed=changed,
    )
    return part, warnings


def missing(
    rows: pd.DataFrame, issues: pd.DataFrame, found: Found, snap: Snapshot, settings: ImportSettings
) -> tuple[list[Columns], list[PlanWarning], list[str]]:
    """
    Stored users missing from the file (mirror mode): ``delete``, or ``skip`` for admins kept
    and for everyone when the plan is held; and why it is held, if it is.
    """
    import numpy as np

    store = snap.frame
    absent = np.ones(len(store), dtype=bool)
    absent[found.at[found.at >= 0]] = False
    gone = normalise(store[absent])
    protected = gone["is_admin"].to_numpy(dtype=bool) & (not settings.delete_admins)
    holds, warnings = _mirror.guard(rows, issues, gone[~protected])
    out: list[Columns] = []
    for flag, action, reason in (
        (~protected, "skip", "not in the file: kept, the plan is held (see plan.blocked)")
        if holds
        else (~protected, "delete", "not in the file (delete_missing=True)"),
        (protected, "skip", "admin, not in the file: kept (delete_admins=False)"),
    ):
        sel = gone[flag]
        out += columns(
            action,
            email=sel["email"],
            key=sel.index,
            row=[None] * len(sel),
            reason=reason,
            before=sel,
            after=None,
        )
    return out, warnings, holds


def frame(parts: list[Columns]) -> pd.DataFrame:
    """The plan's frame: one copy of every column, no frame per part and no concat of frames."""
    import numpy as np
    import pandas as pd

    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    return pd.DataFrame(
        {c: np.concatenate([p[c] for p in parts]) for c in COLUMNS},
        columns=list(COLUMNS),
        dtype=object,
        copy=False,
    )

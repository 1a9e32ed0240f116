"""
The plan's warnings about names: a new group or department that looks like an existing one,
and a user who looks renamed (deleted and created under the same name).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from ._planframe import PlanWarning

__all__ = ["fold", "renamed", "similar_names"]


def fold(name: str) -> str:
    """Case, accents and spacing folded away, for spotting near-duplicate names."""
    text = unicodedata.normalize("NFKD", name.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return "".join(text.split())


def similar_names(new: Iterable[str], existing: Iterable[str], kind: str) -> list[PlanWarning]:
    """Flag a new name close to an existing (or an earlier new) one: case, accents, a typo."""
    from rapidfuzz.distance import OSA

    from ._planframe import PlanWarning

    pool = sorted(set(existing))
    out = []
    for name in sorted(set(new)):
        f = fold(name)
        limit = 1 if len(f) <= 8 else 2
        for other in pool:
            g = fold(other)
            # Names that differ in their digits (group-01, group-02) are meant to differ.
            if [c for c in f if c.isdigit()] != [c for c in g if c.isdigit()]:
                continue
            if f == g or (min(len(f), len(g)) >= 4 and OSA.distance(f, g) <= limit):
                out.append(
                    PlanWarning(
                        code="similar_name",
                        message=f"new {kind} {name!r} looks like {other!r}; "
                        f"a typo would create a second {kind}",
                        name=name,
                        suggestion=other,
                    )
                )
                break
        pool.append(name)
    return out


def renamed(frame: pd.DataFrame) -> list[PlanWarning]:
    """A deleted and a created user with the same name: probably one person, new email."""
    from ._planframe import PlanWarning

    action = frame["action"].to_numpy()
    deleting = action == "delete"
    if not deleting.any():  # most plans: no need to look for the created users
        return []
    creating = action == "create"
    if not creating.any():
        return []
    deleted, created = frame[deleting], frame[creating]

    def names(f: pd.DataFrame, side: str) -> pd.Series:
        return (
            f[f"{side}_first_name"].str.casefold() + "\x00" + f[f"{side}_last_name"].str.casefold()
        )

    gone = dict(zip(names(deleted, "before"), deleted["email"], strict=True))
    out = []
    for name, email in zip(names(created, "after"), created["email"], strict=True):
        if name in gone and name != "\x00":
            out.append(
                PlanWarning(
                    code="looks_renamed",
                    message=f"{gone[name]} is deleted and {email} created with the same name; "
                    "an email cannot change, so this moves the person to a new account",
                    email=email,
                    suggestion=gone[name],
                )
            )
    return out

"""
Mirror mode's guard against typos and broken files.

A row whose email cannot be read as an address may be a stored user whom mirror mode would
delete; a file with no valid row would delete everyone. Both hold the plan (see
``docs/planning.md``). The search for who a row may be runs only for the rows concerned, never
per row of the file.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Any

from ._namecheck import fold

if TYPE_CHECKING:
    import pandas as pd

    from ._planframe import PlanWarning

__all__ = ["guard", "unreadable_rows"]

#: Rows named one by one in holds and warnings; the rest are counted.
SHOWN = 50
#: Stored users listed as the person a row may be, at most.
CANDIDATES = 5
#: Edits (Levenshtein) between a written email and a stored one that still make it "near".
NEAR = 2


def unreadable_rows(rows: pd.DataFrame, issues: pd.DataFrame) -> Any:
    """
    The rows whose email validation rejects as an address (empty, malformed, too long).

    Any error on the email field counts, whatever its code, except ``duplicate_email``: a
    repeated address is still read. So this follows validation when it learns more rules.

    Args:
        rows: The checked rows (``Review.checked.rows``), indexed by row.
        issues: The validation issues (``Review.report.frame``).

    Returns:
        The sorted row numbers, skipped ones included.
    """
    import numpy as np

    bad = issues[
        (issues["field"] == "email")
        & (issues["severity"] == "error")
        & (issues["code"] != "duplicate_email")
    ]
    return np.intersect1d(bad["row"].to_numpy(dtype="int64"), rows.index.to_numpy(dtype="int64"))


def _plain(email: str) -> str:
    """An email as compared for nearness: NFC, case-folded, without blanks or invisibles."""
    text = unicodedata.normalize("NFC", email).casefold()
    return "".join(c for c in text if not c.isspace() and unicodedata.category(c) != "Cf")


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def _folded(names: list[str]) -> list[str]:
    """:func:`fold` of every name: in Arrow for ASCII names, in Python for the others."""
    import pandas as pd
    import pyarrow.compute as pc

    from . import _text

    text = pd.Series(names, dtype="str")
    arr = _text.arrow(text)
    # Python's str.split() also splits on \x0b and \x1c-\x1f, which RE2's \s leaves alone.
    squeezed = pc.replace_substring_regex(
        pc.utf8_lower(arr), pattern=r"[\s\x0b\x1c-\x1f]+", replacement=""
    )
    other = pc.invert(pc.string_is_ascii(arr)).to_numpy(zero_copy_only=False)
    quick = pd.Series(squeezed.to_pylist(), dtype=object)
    return _text.patch(quick, other, fold, source=text).tolist()


class _Pool:
    """The users mirror mode would delete, searchable by name and by email."""

    def __init__(self, users: pd.DataFrame) -> None:
        self.emails: list[str] = users["email"].tolist()
        self.stored: list[str] = users.index.tolist()  # email_key: trimmed and case-folded
        self.firsts: list[str] = users["first_name"].tolist()
        self.lasts: list[str] = users["last_name"].tolist()
        self._keys: list[str] | None = None
        self._names: pd.Series | None = None

    @property
    def keys(self) -> list[str]:
        if self._keys is None:
            # A stored address holds no blank; only one with a character beyond ASCII needs
            # the full treatment.
            self._keys = [k if k.isascii() else _plain(k) for k in self.stored]
        return self._keys

    def named(self, first: str, last: str) -> list[int]:
        """The users whose folded first and last names are ``first`` and ``last``'s."""
        import numpy as np
        import pandas as pd

        if self._names is None:
            firsts = pd.Series(_folded(self.firsts), dtype="str")
            lasts = pd.Series(_folded(self.lasts), dtype="str")
            # A user without both names matches nobody: the key is then empty.
            both = (firsts != "") & (lasts != "")
            self._names = (firsts + "\x00" + lasts).where(both, "")
        hits = self._names == f"{fold(first)}\x00{fold(last)}"
        return np.flatnonzero(hits.to_numpy(dtype=bool)).tolist()

    def like(self, first: str, last: str, email: str) -> list[tuple[str, str]]:
        """The users a row may be, as ``(email, why)``: same name, or a near email."""
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein, Prefix

        found: dict[int, list[str]] = {}
        if first and last:
            for i in self.named(first, last):
                found.setdefault(i, []).append("same name")
        query = _plain(email)
        if len(query) >= 5:
            near = process.extract(
                query, self.keys, scorer=Levenshtein.distance, score_cutoff=NEAR, limit=None
            )
            digits = _digits(query)
            for _, edits, i in sorted(near, key=lambda hit: (hit[1], hit[2])):
                # Addresses that differ in their digits (user.1, user.2) are meant to differ.
                if _digits(self.keys[i]) == digits:
                    why = f"email {edits} edit(s) away" if edits else "same email"
                    found.setdefault(i, []).append(why)
            if "@" in query:  # cut short: 'anna@corp' for 'anna@corp.no'
                cut = process.extract(
                    query, self.keys, scorer=Prefix.similarity, score_cutoff=len(query), limit=None
                )
                for _, _, i in sorted(cut, key=lambda hit: hit[2]):
                    if not any(w.startswith(("email", "same email")) for w in found.get(i, ())):
                        found.setdefault(i, []).append("email cut short")
        # Most reasons first; at a tie, an email resemblance before a shared name.
        ranked = sorted(found.items(), key=lambda item: (-len(item[1]), item[1] == ["same name"]))
        ranked = ranked[:CANDIDATES]
        return [(self.emails[i], ", ".join(why)) for i, why in ranked]


def _row(rows: pd.DataFrame, written: pd.Series, row: int) -> tuple[str, str, str]:
    """A row's first and last name, and its email as written."""
    email = written.get(row, rows.at[row, "email"])
    return str(rows.at[row, "first_name"]), str(rows.at[row, "last_name"]), str(email)


def _shown(email: str) -> str:
    """
    An email as a message shows it: quoted, with every character a person cannot see or tell
    apart (controls, invisible format characters, blanks other than a space, combining marks
    such as a decomposed accent) written as ``\\uXXXX``.
    """
    if not email:
        return "(empty)"
    hidden = ("Cc", "Cf", "Mn", "Me", "Zs", "Zl", "Zp", "Co", "Cn", "Cs")
    text = "".join(
        f"\\u{ord(c):04x}" if c != " " and unicodedata.category(c) in hidden else c for c in email
    )
    return f"'{text}'"


def guard(
    rows: pd.DataFrame,
    issues: pd.DataFrame,
    deleting: pd.DataFrame,
) -> tuple[list[str], list[PlanWarning]]:
    """
    Why mirror mode must hold a plan that deletes ``deleting``, and who each row may be.

    A plan is held when the file has no valid row, or when a row that is not skipped has an
    email that cannot be read: that row may be one of the users it would delete. Rows kept out
    of the import on purpose (skipped) or for another error are not held, but a deletion of a
    user who looks like one of them gets a ``deleted_looks_like_skipped`` warning.

    Args:
        rows: The checked rows, with ``status``, indexed by the row a person sees.
        issues: The validation issues of every row.
        deleting: The stored users (in plan form) the plan would delete; nothing is held when
            it is empty.

    Returns:
        The holds (sentences for ``Plan.holds``) and the warnings: ``unreadable_email`` per
        held row (``suggestion``: a stored user it may be, one warning per candidate) and
        ``deleted_looks_like_skipped``.
    """
    from ._planframe import PlanWarning

    if not len(deleting):
        return [], []
    status = rows["status"]
    n = len(deleting)
    holds: list[str] = []
    warnings: list[PlanWarning] = []
    if not (status == "valid").any():
        holds.append(
            f"the file has no valid row (it is empty, has only a header, or every row has an "
            f"error or is skipped), so mirror mode would delete all {n} user(s) not in it; check "
            "the file and the mapping"
        )
    left_out = rows[(status != "valid").to_numpy()]  # few rows, usually none
    if not len(left_out):
        return holds, warnings
    status = left_out["status"]
    unreadable = unreadable_rows(left_out, issues)
    written = issues[(issues["field"] == "email")].drop_duplicates("row").set_index("row")["value"]
    held = unreadable[(status.reindex(unreadable) == "invalid").to_numpy()].tolist()
    pool = _Pool(deleting)
    for row in held[:SHOWN]:
        first, last, email = _row(rows, written, row)
        found: list[tuple[str | None, str]] = [*pool.like(first, last, email)]
        maybe = "; ".join(f"{e} ({why})" for e, why in found) or "none looks like it"
        holds.append(
            f"row {row}: the email {_shown(email)} cannot be read as an address, so mirror "
            f"mode cannot tell whether this person is among the {n} user(s) it would delete "
            f"(may be: {maybe}); fix the row, or skip it in the review"
        )
        for suggestion, why in found or [(None, "")]:
            warnings.append(
                PlanWarning(
                    code="unreadable_email",
                    message=f"row {row}: the email {_shown(email)} cannot be read as an address; "
                    + (f"it may be {suggestion} ({why})" if suggestion else "no user looks like it")
                    + ", whom mirror mode would delete",
                    email=email,
                    suggestion=suggestion,
                    row=row,
                )
            )
    if len(held) > SHOWN:
        holds.append(f"and {len(held) - SHOWN} more rows whose email cannot be read as an address")
    set_aside = left_out.index.difference(held)
    for row in set_aside[:SHOWN].tolist():
        first, last, email = _row(rows, written, row)
        why_out = "skipped in review" if status[row] == "skipped" else "row has errors"
        for stored, why in pool.like(first, last, email):
            warnings.append(
                PlanWarning(
                    code="deleted_looks_like_skipped",
                    message=f"mirror mode deletes {stored}, who looks like row {row} "
                    f"({why_out}; {why}); fix the row if it is that person",
                    email=stored,
                    suggestion=email,
                    row=row,
                )
            )
    return holds, warnings

"""
The work behind :func:`userimport.mapping.suggest_mapping`: header words, then the content of
a sample of rows (the email among several address columns, a whole-name column's order, the
group separator) and of the last rows (footer lines).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from ._content import (
    SIGN_IN_ADDRESS,
    comma_names,
    find_separator,
    table_footer,
)
from ._matches import (
    SAMPLE_ROWS,
    ColumnMatch,
    Method,
    NameSplit,
    column_label,
    left_out_note,
)
from ._table import RawTable
from .headers import EMAIL, flat_cells, header_names

if TYPE_CHECKING:
    import pandas as pd

    from ._synonyms import Kind, Recognised, Role
    from .fields import Field

__all__ = ["CONTENT_CELLS", "CONTENT_KINDS", "KIND_SHARE", "by_kind", "suggest"]

# Which claim on a property is stronger.
_RANK = {
    "manual": 6,
    "exact": 5,
    "synonym": 4,
    "fuzzy": 3,
    "partial": 2,
    "content": 1,
    "position": 0,
}
_NAMES = ("first_name", "last_name")

# Mail providers of private addresses: a column of these is someone's second address.
_FREEMAIL = (
    r"@(?:g(?:oogle)?mail\.com|(?:hotmail|outlook|live|msn|yahoo|ymail|gmx|yandex)\.[a-z.]+"
    r"|icloud\.com|me\.com|mac\.com|aol\.com|proton\.me|protonmail\.com|web\.de|online\.no"
    r"|fastmail\.com)>?$"
)

# What PowerShell's Export-Csv writes for a property holding several values (``MemberOf``).
_TYPE_NAME = r"(?:Microsoft\.ActiveDirectory\.Management|System)\.[\w.]+(?:\[\])?"

#: A whole-name column is read as ``Surname, Given names`` when this share of its sampled
#: cells has one comma with a name on each side.
COMMA_SHARE = 0.6
# Under a header that does not name a whole name, nearly every cell must be such a name.
_CONTENT_SHARE = 0.9
# Below this share, the names have no comma: their order is a person's choice.
_NO_COMMA_SHARE = 0.1


@attrs.frozen(kw_only=True)
class _Profile:
    """What the sampled cells of one column hold."""

    rows: int
    filled: int
    emails: int
    distinct: int
    freemail: int
    sign_in: int = 0

    @property
    def share(self) -> float:
        """Share of the filled cells that are email addresses."""
        return self.emails / self.filled if self.filled else 0.0

    @property
    def fill(self) -> float:
        """Share of the sampled rows that fill this column."""
        return self.filled / self.rows if self.rows else 0.0

    @property
    def unique(self) -> float:
        """Share of the addresses that are distinct (a manager's address repeats)."""
        return self.distinct / self.emails if self.emails else 0.0

    @property
    def private(self) -> float:
        """Share of the addresses at free mail providers (gmail-like)."""
        return self.freemail / self.emails if self.emails else 0.0

    @property
    def addresses(self) -> bool:
        """Whether the column holds email addresses."""
        return self.emails > 0 and self.share >= 0.5

    @property
    def sign_in_names(self) -> bool:
        """Whether its addresses look like sign-in names (``#EXT#``, ``.local``, ...)."""
        return self.sign_in > 0 and self.sign_in >= 0.1 * self.emails

    def describe(self) -> str:
        """Say what the column holds, for a person."""
        return (
            f"{self.share:.0%} of its {self.filled} sampled cells are email addresses, "
            f"{self.unique:.0%} distinct"
        )


@attrs.frozen(kw_only=True, eq=False)
class _Sample:
    """The first :data:`SAMPLE_ROWS` non-blank data rows, as text, and each column's profile."""

    cells: pd.DataFrame
    profiles: list[_Profile]


def _sample(table: RawTable, header_row: int | None, footer: tuple[int, ...] = ()) -> _Sample:
    """
    Profile every column on the first :data:`SAMPLE_ROWS` non-blank data rows (the rows of
    ``footer`` left out).
    """
    import numpy as np
    import pandas as pd

    start = 0 if header_row is None else header_row + 1
    # Four times the sample, so that blank rows between data rows do not shrink it.
    data = table.rows.iloc[start : start + 4 * SAMPLE_ROWS]
    n_rows, width = data.shape
    flat = flat_cells(data)
    filled = (flat != "").to_numpy(dtype=bool).reshape(n_rows, width)
    data_row = filled.any(axis=1) & ~data.index.isin(footer)
    keep = np.flatnonzero(data_row)[:SAMPLE_ROWS]
    filled = filled[keep]
    grid = flat.to_numpy(dtype=object).reshape(n_rows, width)[keep]
    cells = pd.DataFrame(grid, index=data.index[keep] + table.first_row, dtype=object)
    sample = pd.Series(grid.ravel(), dtype=object).str.casefold()
    email = sample.str.fullmatch(EMAIL).to_numpy(dtype=bool)
    freemail = email & sample.str.contains(_FREEMAIL, regex=True).to_numpy(dtype=bool)
    sign_in = email & sample.str.contains(SIGN_IN_ADDRESS, regex=True).to_numpy(dtype=bool)
    column_of = np.tile(np.arange(width), len(keep))
    folded = sample.to_numpy(dtype=object)
    addresses = pd.DataFrame({"column": column_of[email], "value": folded[email]})
    distinct = addresses.drop_duplicates()["column"].value_counts()

    def per_column(mask: Any) -> Any:
        return mask.reshape(len(keep), width).sum(axis=0)

    emails, free, signs = per_column(email), per_column(freemail), per_column(sign_in)
    profiles = [
        _Profile(
            rows=len(keep),
            filled=int(filled[:, c].sum()),
            emails=int(emails[c]),
            distinct=int(distinct.get(c, 0)),
            freemail=int(free[c]),
            sign_in=int(signs[c]),
        )
        for c in range(width)
    ]
    return _Sample(cells=cells, profiles=profiles)


@attrs.frozen(kw_only=True)
class _Option:
    """A column that may be the email: named so by its header, or holding addresses."""

    column: int
    header: str
    found: Recognised | None
    role: Role
    role_word: str
    profile: _Profile

    @property
    def named(self) -> bool:
        return self.found is not None and self.found.target == "email"

    @property
    def kind(self) -> Kind:
        return self.found.kind if self.found is not None and self.named else ""

    @property
    def mailbox(self) -> bool:
        """Its header names a mailbox (``mail``, ``E-post``), not a sign-in name."""
        return self.named and self.kind != "sign_in"

    @property
    def method(self) -> Method:
        return self.found.method if self.found is not None and self.named else "content"

    def key(self) -> tuple[Any, ...]:
        """Best first, when sorted in reverse; each element is one reason to prefer a column."""
        p = self.profile
        return (
            p.addresses,
            p.addresses or not p.filled,
            self.role == "own",
            self.mailbox,
            not p.sign_in_names,
            self.named,
            p.unique >= 0.9 or p.emails <= 1,
            _RANK[self.method],
            round(p.fill, 2),
            round(p.unique, 2),
            -round(p.private, 2),
            -self.column,
        )


def _why_not(loser: _Option, winner: _Option | None, headers: tuple[str, ...]) -> str:
    """Why ``loser`` is not the email: the first preference in which ``winner`` beats it."""
    if loser.role == "other_person":
        return f"its header says it holds someone else's address ({loser.role_word!r})"
    if winner is None:
        return "its header names a sign-in name, and its cells are not email addresses"
    label = column_label(headers, winner.column)
    p, w = loser.profile, winner.profile
    reasons = [
        (
            f"its sampled cells are empty, and {label} holds addresses"
            if not p.filled
            else "its cells are not email addresses"
        ),
        "its cells are not email addresses",
        f"its header says it holds a second address ({loser.role_word or 'numbered'})",
        (
            f"its header {loser.header!r} names a sign-in name, not a mailbox, and the header of "
            f"{label} names the mailbox (a row without a mailbox address is a problem to fix, "
            "not a reason to take the sign-in name)"
            if loser.kind == "sign_in"
            else f"its header does not name a mailbox, and the header of {label} does"
        ),
        f"{p.sign_in} of its {p.emails} sampled addresses look like sign-in names (#EXT#, "
        ".local, onmicrosoft.com), not mailboxes",
        f"its header does not name the email, and the header of {label} does",
        f"its addresses repeat ({p.unique:.0%} distinct), as a manager's or a shared one does",
        f"{label} is a stronger match ({winner.method} against {loser.method})",
        f"it is less filled ({p.fill:.0%} against {w.fill:.0%})",
        f"fewer of its addresses are distinct ({p.unique:.0%} against {w.unique:.0%})",
        f"more of its addresses are at free mail providers ({p.private:.0%} against "
        f"{w.private:.0%}), as private addresses are",
    ]
    for reason, mine, theirs in zip(reasons, loser.key(), winner.key(), strict=False):
        if mine != theirs:
            return reason
    return f"{label} comes first"


def _choose_email(
    headers: tuple[str, ...],
    found: list[Recognised | None],
    profiles: list[_Profile],
    claimed: set[int],
) -> tuple[ColumnMatch | None, list[ColumnMatch]]:
    """The email column, by header words and content; and the columns that lost, with why."""
    from ._synonyms import role_of

    options = []
    for c, profile in enumerate(profiles):
        header = headers[c] if c < len(headers) else ""
        recognised = found[c]
        named = recognised is not None and recognised.target == "email"
        if c in claimed or not (named or profile.addresses):
            continue
        role, word = role_of(header)
        if recognised is not None and named and role == "own":
            role = recognised.role  # "Email 2": a second address by its number
        options.append(
            _Option(
                column=c,
                header=header,
                found=recognised,
                role=role,
                role_word=word,
                profile=profile,
            )
        )
    # A sign-in name that holds no addresses (``SamAccountName``) is never the email.
    eligible = [
        o
        for o in options
        if o.role != "other_person" and (o.kind != "sign_in" or o.profile.addresses)
    ]
    winner = max(eligible, key=_Option.key) if eligible else None
    lost = [_lost(o, winner, headers) for o in options if o is not winner]
    return (_won(winner, options) if winner is not None else None), lost


def _won(option: _Option, options: list[_Option]) -> ColumnMatch:
    p = option.profile
    if option.named and option.found is not None:
        reason = option.found.describe(option.header)
        score = option.found.score
        if p.addresses:
            reason += f"; {p.describe()}"
        elif p.filled:
            reason += "; but its sampled cells are not email addresses"
            score = round(score * 0.4, 2)
    else:
        unknown = f"header {option.header!r} is not a known name, but " if option.header else ""
        reason = unknown + p.describe()
        score = round(0.9 * p.share, 2)
    if option.role == "secondary":
        reason += f"; its header says it is a second address ({option.role_word or 'numbered'})"
    if option.kind == "sign_in":
        empty = [o for o in options if o.mailbox and not o.profile.filled]
        reason += (
            f"; the mailbox column {empty[0].header!r} is empty, so the sign-in name is taken"
            if empty
            else "; no column names a mailbox, so the sign-in name is taken"
        )
        score = round(score * 0.8, 2)
    if p.sign_in_names:
        reason += (
            f"; {p.sign_in} of its {p.emails} sampled addresses look like sign-in names "
            "(#EXT#, .local, onmicrosoft.com): check that mail reaches them"
        )
    fuller = [
        o for o in options if o is not option and o.kind == "sign_in" and o.profile.fill > p.fill
    ]
    if option.mailbox and fuller:
        reason += (
            f"; it names the mailbox, so it wins over the fuller sign-in name "
            f"{fuller[0].header!r}: a row without a mailbox address is a problem to fix"
        )
    return ColumnMatch(
        column=option.column, target="email", method=option.method, score=score, reason=reason
    )


def _lost(option: _Option, winner: _Option | None, headers: tuple[str, ...]) -> ColumnMatch:
    reason = _why_not(option, winner, headers)
    score = option.found.score if option.named and option.found else round(option.profile.share, 2)
    return ColumnMatch(
        column=option.column, target="email", method=option.method, score=score, reason=reason
    )


def _resolve(
    claims: list[ColumnMatch], headers: tuple[str, ...]
) -> tuple[list[ColumnMatch], list[ColumnMatch]]:
    """One column per single property: the strongest claim wins; the others are left out."""
    chosen: dict[str, ColumnMatch] = {}
    kept: list[ColumnMatch] = []
    lost: list[ColumnMatch] = []
    for m in sorted(claims, key=lambda m: (-_RANK[m.method], -m.score, m.column)):
        if m.target == "groups":
            kept.append(m)
        elif m.target in chosen:
            winner = chosen[m.target]
            strength = (
                f"{winner.method} against {m.method}"
                if winner.method != m.method
                else f"{winner.method} {winner.score:.2f} against {m.score:.2f}"
            )
            why = (
                f"{column_label(headers, winner.column)} is a stronger match ({strength})"
                if (_RANK[winner.method], winner.score) != (_RANK[m.method], m.score)
                else f"{column_label(headers, winner.column)} names it too, and comes first"
            )
            lost.append(attrs.evolve(m, reason=why))
        else:
            chosen[m.target] = m
            kept.append(m)
    return kept, lost


def _type_names(
    claims: list[ColumnMatch], sample: _Sample, headers: tuple[str, ...]
) -> tuple[list[ColumnMatch], list[ColumnMatch]]:
    """
    Leave out a column whose cells are mostly a .NET type name: PowerShell's ``Export-Csv``
    writes ``Microsoft.ActiveDirectory.Management.ADPropertyValueCollection`` for a property
    holding several values, such as ``MemberOf``.
    """
    kept, junk = [], []
    for m in claims:
        cells = sample.cells[m.column].astype(str) if m.column < sample.cells.shape[1] else None
        filled = cells[cells != ""] if cells is not None else None
        if filled is not None and len(filled) and filled.str.fullmatch(_TYPE_NAME).mean() >= 0.5:
            reason = (
                f"its cells hold PowerShell's type name ({filled.iloc[0]!r}), not values: "
                "export it with its values joined "
                "(@{n='MemberOf';e={$_.MemberOf -join ';'}})"
            )
            junk.append(attrs.evolve(m, reason=reason))
        else:
            kept.append(m)
    return kept, junk


def _name_split(
    headers: tuple[str, ...],
    found: list[Recognised | None],
    sample: _Sample,
    matches: list[ColumnMatch],
) -> tuple[NameSplit | None, list[str]]:
    """
    With no column for the first and the last name, a whole-name column: split when its
    names are written ``Surname, Given names``; else a note saying why nothing is suggested.
    """
    if any(m.target in _NAMES for m in matches):
        return None, []
    mapped = {m.column for m in matches}
    whole = [
        c
        for c, r in enumerate(found)
        if r is not None and r.kind == "full_name" and c not in mapped and c < sample.cells.shape[1]
    ]
    measured = [(c, *comma_names(sample.cells[c].astype(str))) for c in whole]
    measured = [m for m in measured if m[2] or m[3]]
    if not any(m[1] >= COMMA_SHARE for m in measured):
        # An unknown header over names written "Surname, Given names" (``Medlem``).
        unknown = [
            c
            for c, r in enumerate(found)
            if r is None and c not in mapped and c < sample.cells.shape[1]
        ]
        by_content = [(c, *comma_names(sample.cells[c].astype(str))) for c in unknown]
        measured += [m for m in by_content if m[1] >= _CONTENT_SHARE]
    if not measured:
        return None, []
    best = max(measured, key=lambda m: (m[1], -m[0]))
    column, share, with_comma, without = best
    label = column_label(headers, column)
    if share >= COMMA_SHARE:
        reason = (
            f"{share:.0%} of its sampled names have the comma (such as {with_comma!r}); "
            "a name without it is a problem on its row"
        )
        if found[column] is None:
            reason = f"its header is not a known name, but {reason}"
        note = f"{label} holds whole names: it feeds last_name and first_name; {reason}"
        return NameSplit(column=column, rule="last_comma_first", reason=reason), [note]
    if share <= _NO_COMMA_SHARE:
        why = (
            f"{label} holds whole names without a comma (such as {without!r}): which words "
            "are the last name is a person's choice (Anne-Lise van der Berg, Mary Ann Smith), "
            "so no column feeds first_name or last_name; give the rule with "
            "mapping.split_name(column, 'first_last' or 'first_rest'), or map the columns"
        )
    else:
        why = (
            f"{label} holds whole names, {share:.0%} of them written 'Surname, Given names' "
            f"(such as {with_comma!r}) and the rest not (such as {without!r}): nothing is "
            "suggested; give the rule with mapping.split_name(column, rule)"
        )
    return None, [why]


def _prefix_notes(headers: tuple[str, ...], found: list[Recognised | None]) -> list[str]:
    """Say that a name prefix column (Dutch tussenvoegsel) is not the last name."""
    return [
        f"{column_label(headers, c)} holds a name prefix (such as 'van der'), kept apart from "
        "the last name as Dutch systems do: it never feeds last_name; map it to "
        "attributes.<name> to keep it"
        for c, r in enumerate(found)
        if r is not None and r.kind == "name_prefix"
    ]


def _group_separator(
    headers: tuple[str, ...], sample: _Sample, matches: list[ColumnMatch]
) -> tuple[str, list[str]]:
    """The separator inside the sampled group cells, with the notes that say why."""
    import pandas as pd

    columns = [m.column for m in matches if m.target == "groups"]
    columns = [c for c in columns if c < sample.cells.shape[1]]
    if not columns:
        return ",", []
    cells = pd.concat([sample.cells[c].astype(str) for c in columns])
    labels = ", ".join(column_label(headers, c) for c in columns)
    found = find_separator(cells, labels)
    return found.separator, list(found.notes)


def suggest(table: RawTable, header_row: int | None) -> dict[str, Any]:
    """The fields of the mapping :func:`userimport.mapping.suggest_mapping` suggests."""
    from ._synonyms import recognise_all

    headers = header_names(table, header_row)
    width = table.rows.shape[1]
    found = [*recognise_all(headers), *[None] * (width - len(headers))]
    claims = []
    for c, r in enumerate(found):
        if r is not None and r.target is not None and r.target != "email":
            reason = r.describe(headers[c])
            claims.append(
                ColumnMatch(
                    column=c, target=r.target, method=r.method, score=r.score, reason=reason
                )
            )
    footer = table_footer(table, header_row)
    sample = _sample(table, header_row, footer.rows)
    claims, junk = _type_names(claims, sample, headers)
    claimed = {m.column for m in claims} | {m.column for m in junk}
    profiles = sample.profiles
    email, email_lost = _choose_email(headers, found, profiles, claimed)
    matches, lost = _resolve(claims, headers)
    if email is not None:
        matches.append(email)
    rejected = sorted([*email_lost, *lost, *junk], key=lambda m: m.column)
    notes = [left_out_note(headers, m) for m in rejected]
    if email is not None and profiles[email.column].filled and not profiles[email.column].addresses:
        notes.append(
            f"{column_label(headers, email.column)} feeds email by its header, but its cells "
            "are not email addresses: check the mapping"
        )
    split, split_notes = _name_split(headers, found, sample, matches)
    separator, separator_notes = _group_separator(headers, sample, matches)
    return {
        "headers": headers,
        "width": width,
        "matches": matches,
        "notes": [
            *notes,
            *split_notes,
            *_prefix_notes(headers, found),
            *separator_notes,
            *footer.notes,
        ],
        "rejected": rejected,
        "name_split": split,
        "group_separator": separator,
        "footer_rows": footer.rows,
    }


#: The kinds a column is suggested for by its cells alone: a column of text, identifiers or
#: numbers could be anything, so those are found by their header only.
CONTENT_KINDS = ("email", "phone", "date", "boolean", "choice")
#: A column is suggested for a declared field when at least this share of its filled sampled
#: cells are values of the field's kind, and at least :data:`CONTENT_CELLS` are filled.
KIND_SHARE = 0.9
CONTENT_CELLS = 3
_KIND_WORDS = {
    "email": "email addresses",
    "phone": "phone numbers",
    "date": "dates",
    "boolean": "yes/no values",
    "choice": "allowed values",
}


def by_kind(
    table: RawTable,
    header_row: int | None,
    footer_rows: tuple[int, ...],
    columns: tuple[int, ...],
    fields: tuple[Field, ...],
) -> tuple[list[ColumnMatch], list[str]]:
    """
    Declared fields found by the cells of ``columns`` (unmapped columns with no header or an
    unknown one): a column whose sampled cells are values of one field's kind feeds it.

    A field goes to the column with the largest share of such cells (then the first); a column
    whose cells fit several fields feeds none of them, and a note says so.

    Returns:
        The matches (method ``content``) and the notes.
    """
    from . import _kinds

    fields = tuple(f for f in fields if f.kind in CONTENT_KINDS)
    if not fields or not columns:
        return [], []
    sample = _sample(table, header_row, footer_rows)
    headers = header_names(table, header_row)
    fits: dict[int, list[tuple[Field, float, int, int]]] = {}
    for c in columns:
        if c >= sample.cells.shape[1]:
            continue
        cells = sample.cells[c].astype(str).str.strip()
        cells = cells[cells != ""]
        if len(cells) < CONTENT_CELLS:
            continue
        for f in fields:
            _, bad = _kinds.read(f, cells)
            ok = len(cells) - int(bad.sum())
            if ok / len(cells) >= KIND_SHARE:
                fits.setdefault(c, []).append((f, ok / len(cells), ok, len(cells)))
    matches: list[ColumnMatch] = []
    notes: list[str] = []
    taken: set[str] = set()
    for c, found in sorted(fits.items(), key=lambda cf: (-max(f[1] for f in cf[1]), cf[0])):
        label = column_label(headers, c)
        if len(found) > 1:
            keys = " and ".join(f.key for f, *_ in found)
            notes.append(
                f"{label} holds {_KIND_WORDS[found[0][0].kind]}, which fit the declared "
                f"fields {keys}: it feeds neither; map it with mapping.map(column, target)"
            )
            continue
        field, share, ok, filled = found[0]
        if field.target in taken:
            continue
        taken.add(field.target)
        header = headers[c] if c < len(headers) else ""
        unknown = f"header {header!r} is not a known name, but " if header else "no header, but "
        matches.append(
            ColumnMatch(
                column=c,
                target=field.target,
                method="content",
                score=round(0.9 * share, 2),
                reason=(
                    f"{unknown}{ok} of its {filled} sampled cells are "
                    f"{_KIND_WORDS[field.kind]}, the kind of the declared field {field.key}"
                ),
            )
        )
    return matches, notes

"""
Stage 3: decide which source columns feed which user property, and say why.

Headers are recognised by :mod:`userimport._synonyms` (five languages, annotations stripped,
fuzzy near misses); the content of the first :data:`SAMPLE_ROWS` data rows decides the email
column when headers do not, and settles competition between several columns of addresses.

A :class:`ColumnMapping` is immutable; its methods return a new mapping.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs

from .errors import MappingError
from .headers import EMAIL, _flat_cells, header_names
from .model import PROPERTIES
from .read import RawTable, column_letter

if TYPE_CHECKING:
    import pandas as pd

    from ._synonyms import Recognised, Role

__all__ = [
    "SAMPLE_ROWS",
    "ColumnMapping",
    "ColumnMatch",
    "check_property",
    "suggest_mapping",
]

Method = Literal["exact", "synonym", "fuzzy", "content", "position", "manual"]

#: Properties that at most one column may feed.
SINGLE = frozenset(p for p in PROPERTIES if p != "groups")

#: How many data rows (the first ones, blank rows left out) the content checks look at.
SAMPLE_ROWS = 200

# Which claim on a property is stronger.
_RANK = {"manual": 5, "exact": 4, "synonym": 3, "fuzzy": 2, "content": 1, "position": 0}

# Mail providers of private addresses: a column of these is someone's second address.
_FREEMAIL = (
    r"@(?:g(?:oogle)?mail\.com|(?:hotmail|outlook|live|msn|yahoo|ymail|gmx|yandex)\.[a-z.]+"
    r"|icloud\.com|me\.com|mac\.com|aol\.com|proton\.me|protonmail\.com|web\.de|online\.no"
    r"|fastmail\.com)>?$"
)


def check_property(name: str) -> str:
    """
    Return ``name`` if it is a property a column can feed, else raise :class:`MappingError`.

    Properties: ``first_name``, ``last_name``, ``email``, ``department``, ``groups``,
    ``is_admin`` and ``attributes.<name>``.

    >>> check_property("attributes.title")
    'attributes.title'
    """
    if name in PROPERTIES:
        return name
    if name.startswith("attributes.") and name[len("attributes.") :].strip():
        return name
    raise MappingError(
        f"unknown property {name!r}: use one of {', '.join(PROPERTIES)} or attributes.<name>"
    )


@attrs.frozen(kw_only=True)
class ColumnMatch:
    """
    One source column feeding one property, and why.

    Args:
        column: 0-based position of the source column.
        target: The property it feeds.
        method: How the match was found: ``exact``, ``synonym``, ``fuzzy``, ``content``,
            ``position`` or ``manual``.
        score: How sure the match is, in [0, 1].
        reason: A short explanation for a person.
    """

    column: int
    target: str = attrs.field(converter=check_property)
    method: Method = "manual"
    score: float = 1.0
    reason: str = ""


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(str(v) for v in value)


def _matches(value: Any) -> tuple[ColumnMatch, ...]:
    return tuple(sorted(value, key=lambda m: (m.column, m.target)))


@attrs.frozen(kw_only=True)
class ColumnMapping:
    """
    Which source columns feed which property.

    Several columns may feed ``groups``; every other property is fed by at most one column,
    and a column feeds at most one property.

    Args:
        headers: The header text of each source column (``()`` when there is no header row).
        width: How many source columns the table has.
        matches: One :class:`ColumnMatch` per mapped column.
        department_as_group: Also add each user's department to their groups.
        group_separator: The separator between several groups in one cell.
        notes: What a person should know about the mapping (competing columns, ...).
        rejected: Columns left unmapped although they looked like a property: each as the
            :class:`ColumnMatch` it would have been, with the reason it was left out (a
            stronger column won, or it holds someone else's address).
    """

    headers: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    width: int = 0
    matches: tuple[ColumnMatch, ...] = attrs.field(default=(), converter=_matches)
    department_as_group: bool = False
    group_separator: str = attrs.field(default=",")
    notes: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    rejected: tuple[ColumnMatch, ...] = attrs.field(default=(), converter=_matches)

    @matches.validator
    def _check(self, attribute: Any, value: tuple[ColumnMatch, ...]) -> None:
        seen_columns: set[int] = set()
        seen_targets: set[str] = set()
        for m in value:
            if m.column in seen_columns:
                raise MappingError(f"column {self.label(m.column)} is mapped twice")
            seen_columns.add(m.column)
            if m.target != "groups":
                if m.target in seen_targets:
                    raise MappingError(f"two columns feed {m.target}; only groups may have several")
                seen_targets.add(m.target)

    @group_separator.validator
    def _check_separator(self, attribute: Any, value: str) -> None:
        if not isinstance(value, str) or not value or (value.isspace() and value != "\t"):
            raise MappingError(f"the group separator must be a non-blank string, not {value!r}")

    # -- reading -------------------------------------------------------------------------

    def label(self, column: int) -> str:
        """Name a column for a person: its header text with its letter, or just the letter."""
        return _label(self.headers, column)

    @property
    def targets(self) -> dict[int, str]:
        """Source column position to property."""
        return {m.column: m.target for m in self.matches}

    def column(self, target: str) -> int | None:
        """The column feeding a single-column property, or ``None``."""
        for m in self.matches:
            if m.target == target:
                return m.column
        return None

    def columns(self, target: str) -> tuple[int, ...]:
        """Every column feeding ``target`` (several for ``groups``)."""
        return tuple(m.column for m in self.matches if m.target == target)

    @property
    def group_columns(self) -> tuple[int, ...]:
        """The columns feeding ``groups``."""
        return self.columns("groups")

    @property
    def attribute_names(self) -> tuple[str, ...]:
        """The custom properties mapped, without the ``attributes.`` prefix."""
        return tuple(
            m.target[len("attributes.") :]
            for m in self.matches
            if m.target.startswith("attributes.")
        )

    @property
    def unmapped(self) -> tuple[int, ...]:
        """Source columns that feed nothing."""
        mapped = set(self.targets)
        return tuple(i for i in range(self.width) if i not in mapped)

    def _left_out(self, column: int) -> str:
        """Why an unmapped column is not imported."""
        reasons = [
            f"looks like {m.target}, but {m.reason}" for m in self.rejected if m.column == column
        ]
        return "; ".join(reasons)

    def explain(self) -> str:
        """
        Describe, one line per column, what feeds what and why, then the notes.

        Returns:
            Lines such as ``'E-post' (C) -> email (synonym, 0.95): header 'E-post' is a known
            name for email (Norwegian, Swedish)`` and ``'Notes' (F) -> not imported``.
        """
        lines = [
            f"{self.label(m.column)} -> {m.target} ({m.method}, {m.score:.2f}): {m.reason}"
            for m in self.matches
        ]
        for i in self.unmapped:
            why = self._left_out(i)
            lines.append(f"{self.label(i)} -> not imported" + (f": {why}" if why else ""))
        if self.department_as_group:
            lines.append("department is also added as a group")
        lines.append(f"group separator: {self.group_separator!r}")
        said = {_left_out_note(self.headers, m) for m in self.rejected}
        return "\n".join(lines + [n for n in self.notes if n not in said])

    def to_frame(self) -> pd.DataFrame:
        """
        Return one row per source column: ``column``, ``letter``, ``header``, ``property``
        (``""`` when not imported), ``method``, ``score`` and ``reason``.

        A new DataFrame each call; the mapping is not changed.
        """
        import pandas as pd

        by_column = {m.column: m for m in self.matches}
        records = []
        for i in range(max(self.width, len(self.headers))):
            m = by_column.get(i)
            records.append(
                {
                    "column": i,
                    "letter": column_letter(i),
                    "header": self.headers[i] if i < len(self.headers) else "",
                    "property": m.target if m else "",
                    "method": m.method if m else "",
                    "score": m.score if m else float("nan"),
                    "reason": m.reason if m else self._left_out(i) or "not imported",
                }
            )
        columns = ["column", "letter", "header", "property", "method", "score", "reason"]
        return pd.DataFrame(records, columns=columns)

    def _repr_html_(self) -> str:
        import html

        table = self.to_frame().to_html(index=False, na_rep="", float_format="{:.2f}".format)
        extras = [f"group separator {self.group_separator!r}"]
        if self.department_as_group:
            extras.append("department also added as a group")
        notes = "".join(f"<p><b>Note:</b> {html.escape(n)}</p>" for n in self.notes)
        return f"{table}<p>{html.escape('; '.join(extras))}</p>{notes}"

    # -- changing ------------------------------------------------------------------------

    def resolve(self, column: int | str) -> int:
        """
        Return the position of a column given by position, header text or letter.

        Raises:
            MappingError: No such column, or a header text that names several columns.
        """
        if isinstance(column, int) and not isinstance(column, bool):
            if 0 <= column < max(self.width, len(self.headers)):
                return column
            raise MappingError(f"there is no column {column} (the table has {self.width})")
        text = str(column).strip()
        hits = [i for i, h in enumerate(self.headers) if h == text]
        if not hits:
            folded = text.casefold()
            hits = [i for i, h in enumerate(self.headers) if h.casefold() == folded]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise MappingError(
                f"header {text!r} names {len(hits)} columns; give the column by position"
            )
        if re.fullmatch(r"[A-Za-z]{1,3}", text):
            pos = 0
            for ch in text.upper():
                pos = pos * 26 + ord(ch) - 64
            if pos - 1 < self.width:
                return pos - 1
        raise MappingError(f"no column named {text!r}; the headers are {list(self.headers)}")

    def map(
        self, column: int | str, target: str | None, *, reason: str = "set by hand"
    ) -> ColumnMapping:
        """
        Return a mapping where ``column`` feeds ``target`` (``None``: feeds nothing).

        A column that fed ``target`` before is unmapped unless ``target`` is ``groups``.

        Args:
            column: Position, header text or letter (``"C"``).
            target: A property (see :func:`check_property`), or ``None``.
            reason: Why, for :meth:`explain`.

        Raises:
            MappingError: An unknown column or property.
        """
        pos = self.resolve(column)
        kept = [m for m in self.matches if m.column != pos]
        rejected = self.rejected
        if target is not None:
            target = check_property(target)
            if target != "groups":
                kept = [m for m in kept if m.target != target]
            kept.append(ColumnMatch(column=pos, target=target, method="manual", reason=reason))
            rejected = tuple(m for m in rejected if m.column != pos)
        stale = {_left_out_note(self.headers, m) for m in self.rejected if m not in rejected}
        notes = [n for n in self.notes if n not in stale]
        return attrs.evolve(self, matches=kept, rejected=rejected, notes=notes)

    def unmap(self, column: int | str) -> ColumnMapping:
        """Return a mapping where ``column`` (position, header text or letter) feeds nothing."""
        return self.map(column, None)

    def with_group_separator(self, separator: str) -> ColumnMapping:
        """Return a mapping that splits group cells on ``separator``."""
        return attrs.evolve(self, group_separator=separator)

    def with_department_as_group(self, value: bool = True) -> ColumnMapping:
        """Return a mapping that also adds (or not) the department as a group."""
        return attrs.evolve(self, department_as_group=value)

    def to_dict(self) -> dict[str, Any]:
        """Return the mapping as plain JSON-ready data; :meth:`from_dict` reads it back."""
        return {
            "headers": list(self.headers),
            "width": self.width,
            "matches": [attrs.asdict(m) for m in self.matches],
            "department_as_group": self.department_as_group,
            "group_separator": self.group_separator,
            "notes": list(self.notes),
            "rejected": [attrs.asdict(m) for m in self.rejected],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnMapping:
        """
        Build a mapping from :meth:`to_dict` output.

        Raises:
            MappingError: An unknown property, or a column mapped twice.
        """
        return cls(
            headers=data.get("headers", ()),
            width=data.get("width", 0),
            matches=[ColumnMatch(**m) for m in data.get("matches", ())],
            department_as_group=data.get("department_as_group", False),
            group_separator=data.get("group_separator", ","),
            notes=data.get("notes", ()),
            rejected=[ColumnMatch(**m) for m in data.get("rejected", ())],
        )

    @classmethod
    def from_columns(
        cls,
        columns: Mapping[int | str, str],
        *,
        headers: tuple[str, ...] = (),
        width: int | None = None,
        department_as_group: bool = False,
        group_separator: str = ",",
    ) -> ColumnMapping:
        """
        Build a mapping by hand from ``{column: property}``.

        Args:
            columns: Column (position, header text or letter) to property.
            headers: The header texts, needed to name columns by header.
            width: How many columns the table has (default: the number of headers, or the
                highest position given plus one).
            department_as_group: Also add the department as a group.
            group_separator: The separator between groups in one cell.

        Raises:
            MappingError: An unknown column or property.
        """
        if width is None:
            ints = [c for c in columns if isinstance(c, int)]
            width = max([len(headers), *(i + 1 for i in ints)])
        mapping = cls(
            headers=headers,
            width=width,
            department_as_group=department_as_group,
            group_separator=group_separator,
        )
        for column, target in columns.items():
            mapping = mapping.map(column, target)
        return mapping


# -- suggesting ----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class _Profile:
    """What the sampled cells of one column hold."""

    rows: int
    filled: int
    emails: int
    distinct: int
    freemail: int

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

    def describe(self) -> str:
        """Say what the column holds, for a person."""
        return (
            f"{self.share:.0%} of its {self.filled} sampled cells are email addresses, "
            f"{self.unique:.0%} distinct"
        )


def _profiles(table: RawTable, header_row: int | None) -> list[_Profile]:
    """Profile every column on the first :data:`SAMPLE_ROWS` non-blank data rows."""
    import numpy as np
    import pandas as pd

    start = 0 if header_row is None else header_row + 1
    # Four times the sample, so that blank rows between data rows do not shrink it.
    data = table.rows.iloc[start : start + 4 * SAMPLE_ROWS]
    n_rows, width = data.shape
    flat = _flat_cells(data)
    filled = (flat != "").to_numpy(dtype=bool).reshape(n_rows, width)
    keep = np.flatnonzero(filled.any(axis=1))[:SAMPLE_ROWS]
    filled = filled[keep]
    cells = flat.to_numpy(dtype=object).reshape(n_rows, width)[keep].ravel()
    sample = pd.Series(cells, dtype=object).str.casefold()
    email = sample.str.fullmatch(EMAIL).to_numpy(dtype=bool)
    freemail = email & sample.str.contains(_FREEMAIL, regex=True).to_numpy(dtype=bool)
    column_of = np.tile(np.arange(width), len(keep))
    folded = sample.to_numpy(dtype=object)
    addresses = pd.DataFrame({"column": column_of[email], "value": folded[email]})
    distinct = addresses.drop_duplicates()["column"].value_counts()
    emails = email.reshape(len(keep), width).sum(axis=0)
    free = freemail.reshape(len(keep), width).sum(axis=0)
    return [
        _Profile(
            rows=len(keep),
            filled=int(filled[:, c].sum()),
            emails=int(emails[c]),
            distinct=int(distinct.get(c, 0)),
            freemail=int(free[c]),
        )
        for c in range(width)
    ]


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
    def method(self) -> Method:
        return self.found.method if self.found is not None and self.named else "content"

    def key(self) -> tuple[Any, ...]:
        """Best first, when sorted in reverse; each element is one reason to prefer a column."""
        p = self.profile
        return (
            p.addresses or not p.filled,
            self.role == "own",
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
    if loser.role == "other_person" or winner is None:
        return f"its header says it holds someone else's address ({loser.role_word!r})"
    label = _label(headers, winner.column)
    p, w = loser.profile, winner.profile
    reasons = [
        "its cells are not email addresses",
        f"its header says it holds a second address ({loser.role_word or 'numbered'})",
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
    eligible = [o for o in options if o.role != "other_person"]
    winner = max(eligible, key=_Option.key) if eligible else None
    lost = [_lost(o, winner, headers) for o in options if o is not winner]
    return (_won(winner) if winner is not None else None), lost


def _won(option: _Option) -> ColumnMatch:
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
            why = (
                f"{_label(headers, winner.column)} is a stronger match "
                f"({winner.method} against {m.method})"
                if (_RANK[winner.method], winner.score) != (_RANK[m.method], m.score)
                else f"{_label(headers, winner.column)} names it too, and comes first"
            )
            lost.append(attrs.evolve(m, reason=why))
        else:
            chosen[m.target] = m
            kept.append(m)
    return kept, lost


def _left_out_note(headers: tuple[str, ...], m: ColumnMatch) -> str:
    """The note that says a column was left out, and why."""
    return f"{_label(headers, m.column)} also looks like {m.target}, but is left out: {m.reason}"


def _label(headers: tuple[str, ...], column: int) -> str:
    header = headers[column] if column < len(headers) else ""
    letter = column_letter(column)
    return f"{header!r} ({letter})" if header else f"column {letter}"


def suggest_mapping(table: RawTable, header_row: int | None) -> ColumnMapping:
    """
    Suggest which columns feed which property, and say why.

    Headers are matched after folding case, accents, spacing, punctuation and annotations
    (``Email Address [Required]``), against synonyms in English, Norwegian, Swedish, Danish
    and German, then fuzzily (rapidfuzz). The content of the first :data:`SAMPLE_ROWS` data
    rows decides the email when the headers do not: a column of addresses is the email, also
    with no header row. Among several columns of addresses, the header words decide (a
    manager's address is never the user's; a private or recovery one only when there is no
    other), then how many addresses are distinct (a manager's repeats), the fill, and how
    many are at free mail providers. A column never feeds two properties; when two columns
    claim one, the weaker is left out, listed in :attr:`ColumnMapping.rejected` and named in
    :attr:`ColumnMapping.notes`.

    Args:
        table: The table read by :func:`~userimport.read.read_table`.
        header_row: 0-based index of the header row, or ``None`` to map by content (only the
            email can be found then; map the rest by position with :meth:`ColumnMapping.map`).

    Returns:
        A mapping that explains itself (:meth:`ColumnMapping.explain`).

    Raises:
        HeaderError: ``header_row`` is outside the table.
    """
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
    claimed = {m.column for m in claims}
    profiles = _profiles(table, header_row)
    email, email_lost = _choose_email(headers, found, profiles, claimed)
    matches, lost = _resolve(claims, headers)
    if email is not None:
        matches.append(email)
    rejected = sorted([*email_lost, *lost], key=lambda m: m.column)
    notes = [_left_out_note(headers, m) for m in rejected]
    if email is not None and profiles[email.column].filled and not profiles[email.column].addresses:
        notes.append(
            f"{_label(headers, email.column)} feeds email by its header, but its cells are not "
            "email addresses: check the mapping"
        )
    return ColumnMapping(
        headers=headers,
        width=width,
        matches=matches,
        notes=notes,
        rejected=rejected,
    )

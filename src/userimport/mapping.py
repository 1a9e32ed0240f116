"""
Stage 3: decide which source columns feed which user property.

A :class:`ColumnMapping` is immutable; its methods return a new mapping.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs

from .errors import MappingError
from .headers import header_names
from .model import PROPERTIES
from .read import RawTable, column_letter

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ColumnMapping", "ColumnMatch", "check_property", "suggest_mapping"]

Method = Literal["exact", "synonym", "fuzzy", "content", "position", "manual"]

#: Properties that at most one column may feed.
SINGLE = frozenset(p for p in PROPERTIES if p != "groups")


def check_property(name: str) -> str:
    """
    Return ``name`` if it is a property a column can feed, else raise :class:`MappingError`.

    Properties: ``first_name``, ``last_name``, ``email``, ``department``, ``groups``,
    ``is_admin`` and ``attributes.<name>``.
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
    return tuple(sorted(value, key=lambda m: m.column))


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
    """

    headers: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    width: int = 0
    matches: tuple[ColumnMatch, ...] = attrs.field(default=(), converter=_matches)
    department_as_group: bool = False
    group_separator: str = attrs.field(default=",")
    notes: tuple[str, ...] = attrs.field(default=(), converter=_strings)

    @matches.validator
    def _check(self, attribute: Any, value: tuple[ColumnMatch, ...]) -> None:
        seen_columns: set[int] = set()
        seen_targets: set[str] = set()
        for m in value:
            if m.column in seen_columns:
                raise MappingError(f"column {self.label(m.column)} is mapped twice")
            seen_columns.add(m.column)
            if m.target in SINGLE or m.target.startswith("attributes."):
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
        header = self.headers[column] if column < len(self.headers) else ""
        letter = column_letter(column)
        return f"{header!r} ({letter})" if header else f"column {letter}"

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

    def explain(self) -> str:
        """Describe, one line per column, what feeds what and why."""
        lines = [
            f"{self.label(m.column)} -> {m.target} ({m.method}, {m.score:.2f}): {m.reason}"
            for m in self.matches
        ]
        lines += [f"{self.label(i)} -> not imported" for i in self.unmapped]
        if self.department_as_group:
            lines.append("department is also added as a group")
        lines.append(f"group separator: {self.group_separator!r}")
        return "\n".join(lines + list(self.notes))

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
        """
        pos = self.resolve(column)
        kept = [m for m in self.matches if m.column != pos]
        if target is not None:
            target = check_property(target)
            if target != "groups":
                kept = [m for m in kept if m.target != target]
            kept.append(ColumnMatch(column=pos, target=target, method="manual", reason=reason))
        return attrs.evolve(self, matches=kept)

    def unmap(self, column: int | str) -> ColumnMapping:
        """Return a mapping where ``column`` feeds nothing."""
        return self.map(column, None)

    def with_group_separator(self, separator: str) -> ColumnMapping:
        """Return a mapping that splits group cells on ``separator``."""
        return attrs.evolve(self, group_separator=separator)

    def with_department_as_group(self, value: bool = True) -> ColumnMapping:
        """Return a mapping that also adds (or not) the department as a group."""
        return attrs.evolve(self, department_as_group=value)

    def to_dict(self) -> dict[str, Any]:
        """Return the mapping as plain JSON-ready data."""
        return {
            "headers": list(self.headers),
            "width": self.width,
            "matches": [attrs.asdict(m) for m in self.matches],
            "department_as_group": self.department_as_group,
            "group_separator": self.group_separator,
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnMapping:
        """Build a mapping from :meth:`to_dict` output."""
        return cls(
            headers=data.get("headers", ()),
            width=data.get("width", 0),
            matches=[ColumnMatch(**m) for m in data.get("matches", ())],
            department_as_group=data.get("department_as_group", False),
            group_separator=data.get("group_separator", ","),
            notes=data.get("notes", ()),
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


def _email_share(cells: pd.Series) -> tuple[float, float, float]:
    """Share of filled cells that are addresses, share of rows filled, share of distinct values."""
    filled = cells[cells != ""]
    if not len(filled):
        return 0.0, 0.0, 0.0
    emails = filled.str.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+|.*<[^@\s<>]+@[^@\s<>]+>")
    return (
        float(emails.mean()),
        len(filled) / len(cells),
        filled.str.casefold().nunique() / len(filled),
    )


def suggest_mapping(table: RawTable, header_row: int | None) -> ColumnMapping:
    """
    Suggest which columns feed which property, and say why.

    Headers are matched after folding case, accents, spacing, punctuation and annotations
    (``Email Address [Required]``), against synonyms in English, Norwegian, Swedish, Danish
    and German, then fuzzily. The content decides the email column when the headers do not:
    a column of addresses is the email, also without a header row; among several, the header
    words (a manager's or a private address is not the user's), the fill and the share of
    distinct values decide. A column never feeds two properties, and when two columns compete
    for one, the weaker is left out and named in :attr:`ColumnMapping.notes`.

    Args:
        table: The table read by :func:`~userimport.read.read_table`.
        header_row: 0-based index of the header row, or ``None`` to map by content.

    Returns:
        A mapping that explains itself (:meth:`ColumnMapping.explain`).
    """
    from rapidfuzz import fuzz, process

    from ._synonyms import EMAIL_LIKE, SYNONYMS, lookup, normalise

    headers = header_names(table, header_row)
    width = table.rows.shape[1]
    start = 0 if header_row is None else header_row + 1
    sample = table.rows.iloc[start : start + 200]
    sample = sample[sample.apply(lambda c: c.astype(str).str.strip() != "").any(axis=1)]
    claims: list[ColumnMatch] = []
    stats = {}
    for i in range(width):
        cells = sample[i].astype(str).str.strip() if len(sample) else sample.get(i)
        stats[i] = _email_share(cells) if cells is not None and len(cells) else (0.0, 0.0, 0.0)
        header = headers[i] if i < len(headers) else ""
        if not header:
            continue
        target = lookup(header)
        if target is not None:
            exact = header.strip().casefold() in (target, target.replace("_", " "))
            claims.append(
                ColumnMatch(
                    column=i,
                    target=target,
                    method="exact" if exact else "synonym",
                    score=1.0 if exact else 0.95,
                    reason=f"header {header!r} is a known name for {target}",
                )
            )
            continue
        key = normalise(header)
        if len(key) >= 5 and not any(w in key for w in EMAIL_LIKE):
            hit = process.extractOne(key, list(SYNONYMS), scorer=fuzz.ratio, score_cutoff=80)
            if hit is not None:
                found = SYNONYMS[hit[0]]
                claims.append(
                    ColumnMatch(
                        column=i,
                        target=found,
                        method="fuzzy",
                        score=round(hit[1] / 100 * 0.9, 2),
                        reason=f"header {header!r} is close to {hit[0]!r} ({hit[1]:.0f}%)",
                    )
                )
    notes: list[str] = []
    claims = _email_by_content(claims, headers, stats, notes)
    chosen = _resolve(claims, headers, notes)
    return ColumnMapping(headers=headers, width=width, matches=chosen, notes=notes)


def _email_by_content(
    claims: list[ColumnMatch],
    headers: tuple[str, ...],
    stats: dict[int, tuple[float, float, float]],
    notes: list[str],
) -> list[ColumnMatch]:
    """Let the content pick the email column when no header names one that holds addresses."""
    from ._synonyms import EMAIL_LIKE, normalise

    named = [m for m in claims if m.target == "email" and stats[m.column][0] >= 0.5]
    if named:
        others = [c for c, s in stats.items() if s[0] >= 0.5 and c not in {m.column for m in named}]
        for column in others:
            notes.append(
                f"{_name(headers, column)} also holds addresses; the email is "
                f"{_name(headers, named[0].column)}, whose header names it"
            )
        return claims
    if any(m.target == "email" and not stats[m.column][1] for m in claims):
        return claims
    taken = {m.column for m in claims if m.target != "email"}
    options = []
    for column, (share, fill, distinct) in stats.items():
        if share < 0.5 or column in taken:
            continue
        header = headers[column] if column < len(headers) else ""
        other = any(w in normalise(header) for w in EMAIL_LIKE)
        options.append((not other, distinct, fill, share, -column, column))
    if not options:
        return claims
    options.sort(reverse=True)
    best = options[0]
    column = best[-1]
    header = headers[column] if column < len(headers) else ""
    what = f"column {header!r}" if header else f"column {column + 1}"
    reason = f"{best[3]:.0%} of its cells are email addresses ({best[1]:.0%} distinct)"
    for rest in options[1:]:
        h = headers[rest[-1]] if rest[-1] < len(headers) else ""
        notes.append(
            f"column {h or rest[-1] + 1!r} also holds addresses but {what} was chosen as the "
            "email: "
            + (
                "its header names someone else's address"
                if not rest[0]
                else "fewer of its values are distinct or filled"
            )
        )
    kept = [m for m in claims if m.target != "email"]
    return [
        *kept,
        ColumnMatch(
            column=column,
            target="email",
            method="content",
            score=round(0.8 * best[3], 2),
            reason=reason,
        ),
    ]


def _resolve(
    claims: list[ColumnMatch], headers: tuple[str, ...], notes: list[str]
) -> list[ColumnMatch]:
    """One column per single property: the strongest claim wins; the others are reported."""
    order = {"exact": 4, "synonym": 3, "content": 2, "fuzzy": 1, "position": 0, "manual": 5}
    chosen: dict[str, ColumnMatch] = {}
    groups = []
    for m in sorted(claims, key=lambda m: (-order[m.method], -m.score, m.column)):
        if m.target == "groups":
            groups.append(m)
            continue
        if m.target in chosen:
            winner = chosen[m.target]
            notes.append(
                f"{_name(headers, m.column)} also looks like {m.target} ({m.method}) but "
                f"{_name(headers, winner.column)} is a stronger match; left out"
            )
            continue
        chosen[m.target] = m
    return [*chosen.values(), *groups]


def _name(headers: tuple[str, ...], column: int) -> str:
    header = headers[column] if column < len(headers) else ""
    return f"column {header!r}" if header else f"column {column_letter(column)}"

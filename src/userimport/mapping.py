"""
Stage 3: decide which source columns feed which user property, and say why.

Headers are recognised by :mod:`userimport._synonyms` (thirteen languages, annotations
stripped, fuzzy near misses, a property's name inside a question); the content of the first
:data:`SAMPLE_ROWS` data rows decides the email column when headers do not, settles
competition between several columns of addresses (a mailbox beats a sign-in name), finds the
group separator and the order of a whole-name column, and the last rows are looked at for
footer lines (totals, page numbers) that are not users.

A :class:`ColumnMapping` is immutable; its methods return a new mapping.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ._matches import (
    SAMPLE_ROWS,
    ColumnMatch,
    NameSplit,
    SplitRule,
    check_property,
    column_label,
    left_out_note,
)
from .errors import MappingError
from .fields import DEFAULT_SCHEMA, UserSchema
from .model import PROPERTIES
from .read import RawTable, column_letter

if TYPE_CHECKING:
    import pandas as pd


__all__ = [
    "SAMPLE_ROWS",
    "ColumnMapping",
    "ColumnMatch",
    "NameSplit",
    "check_property",
    "suggest_mapping",
]


#: Properties that at most one column may feed.
SINGLE = frozenset(p for p in PROPERTIES if p != "groups")


_NAMES = ("first_name", "last_name")


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(str(v) for v in value)


def _rows(value: Iterable[int]) -> tuple[int, ...]:
    return tuple(sorted({int(v) for v in value}))


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
        name_split: A column of whole names that feeds both ``first_name`` and ``last_name``
            (see :meth:`split_name`), or ``None``.
        footer_rows: Rows under the table that are not users (totals, page numbers,
            confidentiality lines), as 0-based indices into ``RawTable.rows``: validation
            leaves them out, neither valid nor invalid.

    .. versionchanged:: issue 14
        ``name_split`` and ``footer_rows`` added; ``group_separator`` may be a line break.
    """

    headers: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    width: int = 0
    matches: tuple[ColumnMatch, ...] = attrs.field(default=(), converter=_matches)
    department_as_group: bool = False
    group_separator: str = attrs.field(default=",")
    notes: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    rejected: tuple[ColumnMatch, ...] = attrs.field(default=(), converter=_matches)
    name_split: NameSplit | None = attrs.field(default=None)
    footer_rows: tuple[int, ...] = attrs.field(default=(), converter=_rows)

    @name_split.validator
    def _check_split(self, attribute: Any, value: NameSplit | None) -> None:
        if value is None:
            return
        for m in self.matches:
            if m.column == value.column:
                raise MappingError(f"column {self.label(m.column)} is mapped twice")
            if m.target in _NAMES:
                raise MappingError(
                    f"{m.target} is fed by {self.label(m.column)} and by the name split of "
                    f"{self.label(value.column)}; only one may feed it"
                )

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
        if not isinstance(value, str) or not value or (value.isspace() and value not in "\t\n"):
            raise MappingError(f"the group separator must be a non-blank string, not {value!r}")

    # -- reading -------------------------------------------------------------------------

    def label(self, column: int) -> str:
        """Name a column for a person: its header text with its letter, or just the letter."""
        return column_label(self.headers, column)

    @property
    def targets(self) -> dict[int, str]:
        """Source column position to property."""
        return {m.column: m.target for m in self.matches}

    def column(self, target: str) -> int | None:
        """The column feeding a single-column property (also a name split), or ``None``."""
        for m in self.matches:
            if m.target == target:
                return m.column
        if self.name_split is not None and target in _NAMES:
            return self.name_split.column
        return None

    def columns(self, target: str) -> tuple[int, ...]:
        """Every column feeding ``target`` (several for ``groups``)."""
        found = tuple(m.column for m in self.matches if m.target == target)
        if not found and self.name_split is not None and target in _NAMES:
            return (self.name_split.column,)
        return found

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
        if self.name_split is not None:
            mapped.add(self.name_split.column)
        return tuple(i for i in range(self.width) if i not in mapped)

    def _left_out(self, column: int) -> str:
        """Why an unmapped column is not imported."""
        reasons = [
            f"looks like {m.target}, but {m.reason}" for m in self.rejected if m.column == column
        ]
        if reasons or column >= len(self.headers):
            return "; ".join(reasons)
        from ._synonyms import recognise

        header = self.headers[column]
        found = recognise(header) if header else None
        if not header:
            return "it has no header"
        if found is None:
            return "its header is not a known name (map it to attributes.<name> to keep it)"
        if found.kind == "full_name":
            return "a whole name; see the notes"
        if found.kind == "name_prefix":
            return "a name prefix, never the last name"
        if found.target is None:
            return f"a known column that feeds no property ({found.word!r})"
        return ""

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
        split = self.name_split
        if split is not None:
            lines.append(
                f"{self.label(split.column)} -> last_name and first_name, read as "
                f"{split.describe()}: {split.reason}"
            )
        for i in self.unmapped:
            why = self._left_out(i)
            lines.append(f"{self.label(i)} -> not imported" + (f": {why}" if why else ""))
        if self.department_as_group:
            lines.append("department is also added as a group")
        lines.append(f"group separator: {self.group_separator!r}")
        said = {left_out_note(self.headers, m) for m in self.rejected}
        return "\n".join(lines + [n for n in self.notes if n not in said])

    def to_frame(self) -> pd.DataFrame:
        """
        Return one row per source column: ``column``, ``letter``, ``header``, ``property``
        (``""`` when not imported, ``last_name+first_name`` for a name split), ``method``,
        ``score`` and ``reason``.

        A new DataFrame each call; the mapping is not changed.
        """
        import pandas as pd

        by_column = {m.column: m for m in self.matches}
        split = self.name_split
        if split is not None:
            by_column[split.column] = ColumnMatch(
                column=split.column,
                target="last_name",
                method="content",
                reason=f"last_name and first_name, read as {split.describe()}: {split.reason}",
            )
        records = []
        for i in range(max(self.width, len(self.headers))):
            m = by_column.get(i)
            records.append(
                {
                    "column": i,
                    "letter": column_letter(i),
                    "header": self.headers[i] if i < len(self.headers) else "",
                    "property": (
                        "last_name+first_name" if split and i == split.column else m.target
                    )
                    if m
                    else "",
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
        split = self.name_split
        if split is not None and (pos == split.column or target in _NAMES):
            split = None
        if target is not None:
            target = check_property(target)
            if target != "groups":
                kept = [m for m in kept if m.target != target]
            kept.append(ColumnMatch(column=pos, target=target, method="manual", reason=reason))
            rejected = tuple(m for m in rejected if m.column != pos)
        stale = {left_out_note(self.headers, m) for m in self.rejected if m not in rejected}
        notes = [n for n in self.notes if n not in stale]
        return attrs.evolve(self, matches=kept, rejected=rejected, notes=notes, name_split=split)

    def split_name(
        self,
        column: int | str,
        rule: SplitRule = "last_comma_first",
        *,
        reason: str = "set by hand",
    ) -> ColumnMapping:
        """
        Return a mapping where ``column``, holding whole names, feeds both ``last_name`` and
        ``first_name``, split by ``rule``.

        The columns that fed ``first_name`` or ``last_name`` before, or ``column`` itself,
        are unmapped. A cell the rule cannot split is a problem on its row.

        Args:
            column: Position, header text or letter.
            rule: ``last_comma_first`` (``Berg, Anna``), ``first_last`` (``Anna Marie Berg``:
                the last word is the last name) or ``first_rest`` (``Anna van der Berg``: the
                first word is the first name).
            reason: Why, for :meth:`explain`.

        Raises:
            MappingError: An unknown column or rule.
        """
        pos = self.resolve(column)
        split = NameSplit(column=pos, rule=rule, reason=reason)
        kept = [m for m in self.matches if m.column != pos and m.target not in _NAMES]
        return attrs.evolve(self, matches=kept, name_split=split)

    def with_footer_rows(self, rows: Iterable[int]) -> ColumnMapping:
        """Return a mapping that leaves out ``rows`` (0-based indices into the table's rows)."""
        return attrs.evolve(self, footer_rows=rows)

    def with_footer_of(self, table: RawTable, header_row: int | None) -> ColumnMapping:
        """
        Return a mapping that leaves out the footer rows under ``table``'s data (totals, page
        numbers, confidentiality lines), found as :func:`suggest_mapping` finds them, with a
        note for each; for a mapping made by hand or replayed from a recipe.
        """
        from ._content import table_footer

        footer = table_footer(table, header_row)
        return attrs.evolve(self, footer_rows=footer.rows, notes=[*self.notes, *footer.notes])

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
            "name_split": attrs.asdict(self.name_split) if self.name_split else None,
            "footer_rows": list(self.footer_rows),
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
            name_split=NameSplit(**data["name_split"]) if data.get("name_split") else None,
            footer_rows=data.get("footer_rows", ()),
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


def suggest_mapping(
    table: RawTable, header_row: int | None, *, schema: UserSchema = DEFAULT_SCHEMA
) -> ColumnMapping:
    """
    Suggest which columns feed which property, and say why.

    Headers are matched after folding case, accents, spacing, punctuation and annotations
    (``Email Address [Required]``), against names in thirteen languages (English, Norwegian,
    Swedish, Danish, German, Finnish, Icelandic, Dutch, French, Spanish, Italian, Polish,
    Portuguese), then fuzzily (rapidfuzz), then as a property's name inside a longer header
    such as a form's question (``Hvilken avdeling jobber du i?``, a weaker ``partial`` match).

    The content of the first :data:`SAMPLE_ROWS` data rows decides the email when the headers
    do not: a column of addresses is the email, also with no header row. Among several
    columns of addresses, the header words decide (a manager's address is never the user's; a
    private or recovery one only when there is no other; a mailbox such as ``mail`` beats a
    sign-in name such as ``userPrincipalName``, also when it is emptier), then addresses that
    look like sign-in names (``#EXT#``, ``.local``, ``onmicrosoft.com``) lose, then how many
    addresses are distinct (a manager's repeats), the fill, and how many are at free mail
    providers. A column never feeds two properties; when two columns claim one, the weaker is
    left out, listed in :attr:`ColumnMapping.rejected` and named in :attr:`ColumnMapping.notes`.

    With no first and last name columns, a whole-name column (``Navn``, ``Full name``) whose
    names are written ``Surname, Given names`` feeds both (:attr:`ColumnMapping.name_split`);
    names without the comma get no suggestion, and a note says why. The group separator is
    the one the group cells hold (``;``, ``|``, `` / ``, a line break, else ``,``), and the
    last rows of the table that are totals, page numbers or confidentiality lines are left
    out (:attr:`ColumnMapping.footer_rows`); the notes say so.

    Args:
        table: The table read by :func:`~userimport.read.read_table`.
        header_row: 0-based index of the header row, or ``None`` to map by content (only the
            email can be found then; map the rest by position with :meth:`ColumnMapping.map`).
        schema: The user fields. A column no built-in field took whose header (folded as
            above) is one of a declared field's names (:meth:`Field.header_names
            <userimport.fields.Field.header_names>`) feeds that field's ``attributes.<key>``;
            then a column with no header or an unknown one whose sampled cells are values of
            a declared field's kind (``email``, ``phone``, ``date``, ``boolean``, ``choice``;
            at least 90% of them) feeds it, by ``content`` (see ``docs/fields.md``).

    Returns:
        A mapping that explains itself (:meth:`ColumnMapping.explain`).

    Raises:
        HeaderError: ``header_row`` is outside the table.
    """
    from ._suggest import suggest

    mapping = ColumnMapping(**suggest(table, header_row))
    if not schema.extra:
        return mapping
    return _declared(mapping, schema, table, header_row)


def _declared(
    mapping: ColumnMapping, schema: UserSchema, table: RawTable, header_row: int | None
) -> ColumnMapping:
    """
    ``mapping`` with the unmapped columns a declared field's header names name, then those
    whose cells are values of a declared field's kind (no header, or an unknown one).
    """
    from ._suggest import by_kind
    from ._synonyms import normalise, recognise_all

    names = {
        normalise(name): f for f in schema.extra for name in f.header_names() if normalise(name)
    }
    taken = set(mapping.targets.values())
    found: list[ColumnMatch] = []
    for column in mapping.unmapped:
        header = mapping.headers[column] if column < len(mapping.headers) else ""
        field = names.get(normalise(header)) if header else None
        if field is not None and field.target not in taken:
            taken.add(field.target)
            found.append(
                ColumnMatch(
                    column=column,
                    target=field.target,
                    method="synonym",
                    score=1.0,
                    reason=f"header {header!r} is a name of the declared field {field.key}",
                )
            )
    known = recognise_all(mapping.headers)
    unknown = tuple(
        c
        for c in mapping.unmapped
        if c not in {m.column for m in found}
        and (c >= len(known) or known[c] is None or not mapping.headers[c])
    )
    by_cells, notes = by_kind(
        table,
        header_row,
        mapping.footer_rows,
        unknown,
        tuple(f for f in schema.extra if f.target not in taken),
    )
    found += by_cells
    if not found and not notes:
        return mapping
    rejected = tuple(r for r in mapping.rejected if r.column not in {m.column for m in found})
    return attrs.evolve(
        mapping,
        matches=(*mapping.matches, *found),
        rejected=rejected,
        notes=(*mapping.notes, *notes),
    )

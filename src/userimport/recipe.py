"""
Recipes: every decision a person made for a file, saved, and replayed on next month's export.

A :class:`Recipe` records the reading options, the header row, the mapping (by header text, so
reordered columns still map), the group options, the import settings, and the row edits and
skips (keyed by row *and* content, so an edit never lands on a different person). Replaying it
reports every drift — a column gone, new or renamed, an edited row whose content changed —
and never silently guesses again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, cast

import attrs

from ._saved import saved_json
from .errors import SettingsError, UserImportError
from .fields import UserSchema
from .model import ImportSettings, Permissions
from .validation import HIDDEN

if TYPE_CHECKING:
    import pandas as pd

    from ._matches import SplitRule
    from .mapping import ColumnMapping
    from .read import RawTable, Source
    from .review import Review

__all__ = ["Drift", "Recipe", "Replayed", "RowDecision", "replay"]

_FORMAT = "userimport.recipe"
_FORMAT_VERSION = 1

DriftKind = Literal[
    "column_missing", "column_new", "column_renamed", "header_moved", "row_changed", "row_moved"
]


def _text_map(value: Mapping[str, str]) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()}


@attrs.frozen(kw_only=True)
class Drift:
    """
    One way the file differs from the one the recipe was made on.

    Args:
        kind: ``column_missing``, ``column_new``, ``column_renamed``, ``header_moved``,
            ``row_changed`` or ``row_moved``.
        message: A sentence for a person.
        column: The header text concerned, if any (for ``column_renamed``, the new header).
        row: The spreadsheet row concerned, if any.
        target: For a column gone or renamed, the property it fed in the recipe, if any: map
            the column that holds it now to this (``--map 'HEADER=TARGET'``).

    .. versionchanged:: unreleased
        ``target`` added.
    """

    kind: DriftKind
    message: str
    column: str | None = None
    row: int | None = None
    target: str | None = None


@attrs.frozen(kw_only=True)
class RowDecision:
    """
    An edit or skip of one row, with a fingerprint of the row's content as read.

    Args:
        row: The spreadsheet row number when the recipe was made.
        fingerprint: A hash of the row's mapped cells as read (before any edit).
        skip: Whether the row was skipped.
        values: The edited fields and their new text.
    """

    row: int
    fingerprint: str
    skip: bool = False
    values: Mapping[str, str] = attrs.field(factory=dict, converter=_text_map, hash=False)


def _fingerprints(source: pd.DataFrame) -> pd.Series:
    """One short hash per row of the mapped cells, in a stable column order."""
    columns = sorted(c for c in source.columns if c not in HIDDEN)
    import pandas as pd

    if not columns:
        return pd.Series("", index=source.index, dtype=object)
    joined = source[columns].astype(str).agg("\x1f".join, axis=1)
    return joined.map(lambda text: hashlib.sha256(str(text).encode()).hexdigest()[:16])


def _decisions(value: Iterable[RowDecision]) -> tuple[RowDecision, ...]:
    return tuple(value)


def _no_permissions(
    instance: object, attribute: attrs.Attribute[Any], value: ImportSettings
) -> None:
    """A recipe never carries permissions: refuse settings that allow more than the defaults."""
    wider = Permissions.from_settings(value).beyond(Permissions())
    if wider:
        asked = ", ".join(f"{name}={getattr(value, name)!r}" for name in wider)
        options = ", ".join("--" + name.replace("_", "-") for name in wider)
        raise SettingsError(
            f"a recipe never carries permissions, and this one asks for {asked}; give them "
            f"when you plan or apply instead ({options} on the command line)"
        )


def _within_permissions(settings: ImportSettings) -> ImportSettings:
    """``settings`` with every permission wider than the default put back to the default."""
    default = attrs.asdict(Permissions())
    wider = Permissions.from_settings(settings).beyond(Permissions())
    return attrs.evolve(settings, **{name: default[name] for name in wider})


def _pair(value: Iterable[str] | None) -> tuple[str, str] | None:
    if value is None:
        return None
    column, rule = (str(v) for v in value)
    return column, rule


@attrs.frozen(kw_only=True)
class Recipe:
    """
    The decisions made for one file, to replay on a file of the same kind.

    Build one with :meth:`from_review`; replay it with :func:`replay`.

    Args:
        sheet: The worksheet read.
        encoding: The encoding used.
        delimiter: The delimiter used.
        header: The header row's cells (``None``: the file had no header row).
        header_row: The 0-based index of the header row in the table.
        columns: Header text (or, without a header, the column position as text) to property.
        group_separator: The separator between groups in one cell.
        department_as_group: Whether the department was also added as a group.
        name_split: The whole-name column split into last and first name, as ``(column,
            rule)`` with the column named as in ``columns``; ``None``: none.
        settings: The import settings. Never permissions: settings that allow more than the
            defaults (``admin_rights``, ``delete_admins``, a higher or no deletion limit)
            raise :class:`~userimport.errors.SettingsError`; stricter limits are kept.
        rows: The row edits and skips.
    """

    sheet: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    header: tuple[str, ...] | None = None
    header_row: int | None = None
    columns: Mapping[str, str] = attrs.field(factory=dict, converter=_text_map, hash=False)
    group_separator: str = ","
    department_as_group: bool = False
    name_split: tuple[str, str] | None = attrs.field(default=None, converter=_pair)
    settings: ImportSettings = attrs.field(factory=ImportSettings, validator=_no_permissions)
    rows: tuple[RowDecision, ...] = attrs.field(default=(), converter=_decisions)

    @classmethod
    def from_review(
        cls,
        review: Review,
        table: RawTable,
        header_row: int | None,
        settings: ImportSettings | None = None,
    ) -> Recipe:
        """
        Record the decisions behind ``review`` of ``table``.

        Args:
            review: The reviewed file, with its edits and skips.
            table: The table it was validated from.
            header_row: The header row used.
            settings: The import settings chosen; permissions beyond the defaults are left
                out (a recipe never carries them), stricter deletion limits kept.
        """
        from .headers import header_names
        from .validation import mapped_cells

        mapping = review.mapping
        headers = header_names(table, header_row) if header_row is not None else None
        columns = {
            (headers[m.column] if headers is not None else str(m.column)): m.target
            for m in mapping.matches
        }
        split = mapping.name_split
        name_split = None
        if split is not None:
            column = headers[split.column] if headers is not None else str(split.column)
            name_split = (column, split.rule)
        original = mapped_cells(table, header_row, mapping)
        prints = _fingerprints(original)
        decisions = []
        for row in sorted(review.edited | review.skipped):
            values: dict[str, str] = {}
            if row in review.edited:
                before = original.loc[row] if row in original.index else None
                after = review.source.loc[row]
                for field, value in after.to_dict().items():
                    name = str(field)
                    if name in HIDDEN:
                        continue
                    old = (
                        "" if before is None or name not in before else str(before.to_dict()[name])
                    )
                    if str(value) != old:
                        values[name] = str(value)
            decisions.append(
                RowDecision(
                    row=row,
                    fingerprint=str(prints.get(row, "")),
                    skip=row in review.skipped,
                    values=values,
                )
            )
        return cls(
            sheet=table.sheet,
            encoding=table.encoding,
            delimiter=table.delimiter,
            header=headers,
            header_row=header_row,
            columns=columns,
            group_separator=mapping.group_separator,
            department_as_group=mapping.department_as_group,
            name_split=name_split,
            settings=_within_permissions(settings or ImportSettings()),
            rows=decisions,
        )

    def to_json(self, *, indent: int | None = 1) -> str:
        """Serialise the recipe; :meth:`from_json` reads it back."""
        data = {
            "format": _FORMAT,
            "format_version": _FORMAT_VERSION,
            "sheet": self.sheet,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "header": list(self.header) if self.header is not None else None,
            "header_row": self.header_row,
            "columns": dict(self.columns),
            "group_separator": self.group_separator,
            "department_as_group": self.department_as_group,
            "name_split": list(self.name_split) if self.name_split else None,
            "settings": self.settings.to_dict(),
            "rows": [attrs.asdict(r) for r in self.rows],
        }
        return json.dumps(data, indent=indent, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> Recipe:
        """
        Read a recipe saved by :meth:`to_json`.

        Raises:
            UserImportError: The text is not a saved recipe.
        """
        data = saved_json(
            text, kind="recipe", fmt=_FORMAT, version=_FORMAT_VERSION, error=UserImportError
        )
        try:
            return cls(
                sheet=data["sheet"],
                encoding=data["encoding"],
                delimiter=data["delimiter"],
                header=tuple(data["header"]) if data["header"] is not None else None,
                header_row=data["header_row"],
                columns=data["columns"],
                group_separator=data["group_separator"],
                department_as_group=data["department_as_group"],
                name_split=data.get("name_split"),
                settings=ImportSettings.from_dict(data["settings"]),
                rows=[RowDecision(**r) for r in data["rows"]],
            )
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise UserImportError(f"cannot read the saved recipe: {e}") from e


@attrs.frozen(kw_only=True, eq=False)
class Replayed:
    """
    A recipe replayed on a file: the review to plan from, and every drift found.

    Args:
        table: The table read.
        header_row: The header row used.
        review: The validated file with the recipe's edits and skips that still fit.
        settings: The recipe's import settings.
        drift: Every way the file differs from the recipe's.
    """

    table: RawTable
    header_row: int | None
    review: Review
    settings: ImportSettings
    drift: tuple[Drift, ...]


def _find_header(table: RawTable, recipe: Recipe, drift: list[Drift]) -> int | None:
    """The header row: where the recipe had it, else the row holding its headers, else a guess."""
    from .headers import detect_header, header_names

    if recipe.header is None:
        return None
    expected = [h for h in recipe.header if h]

    def matches(row: int) -> bool:
        if row >= len(table.rows):
            return False
        shared = set(expected) & {h for h in header_names(table, row) if h}
        return bool(shared) and len(shared) >= len(expected) / 2

    if recipe.header_row is not None and matches(recipe.header_row):
        return recipe.header_row
    for row in range(min(30, len(table.rows))):
        if matches(row):
            drift.append(
                Drift(
                    kind="header_moved",
                    message=f"the header row moved from row {recipe.header_row} to row {row}",
                    row=table.row_number(row),
                )
            )
            return row
    guess = detect_header(table).row
    drift.append(
        Drift(kind="header_moved", message="the recipe's header row was not found; guessed it")
    )
    return guess


def _mapping(
    table: RawTable, header_row: int | None, recipe: Recipe, drift: list[Drift]
) -> ColumnMapping:
    """The recipe's mapping on this table's columns; gone, new and renamed columns reported."""
    from .headers import header_names
    from .mapping import ColumnMapping

    width = table.rows.shape[1]
    headers = header_names(table, header_row) if header_row is not None else ()
    mapping = ColumnMapping.from_columns(
        {},
        headers=headers,
        width=width,
        group_separator=recipe.group_separator,
        department_as_group=recipe.department_as_group,
    )
    mapping = mapping.with_footer_of(table, header_row)
    if header_row is None:
        for column, target in recipe.columns.items():
            if int(column) < width:
                mapping = mapping.map(int(column), target, reason="from the recipe")
            else:
                drift.append(
                    Drift(kind="column_missing", message=f"column {int(column) + 1} is gone")
                )
        return _split(mapping, recipe, [str(c) for c in range(width)], drift)
    old = list(recipe.header or ())
    gone = [h for h in old if h and h not in headers]
    new = [h for h in headers if h and h not in old]
    for column, target in recipe.columns.items():
        if column in headers:
            mapping = mapping.map(headers.index(column), target, reason="from the recipe")
    for header in gone:
        position = old.index(header)
        same_place = headers[position] if position < len(headers) else ""
        what = recipe.columns.get(header)
        fed = f" (it fed {what})" if what else ""
        if same_place in new:
            drift.append(
                Drift(
                    kind="column_renamed",
                    message=f"column {header!r}{fed} looks renamed to {same_place!r}, which is "
                    "left out: map it again if it is the same column",
                    column=same_place,
                    target=what,
                )
            )
            new.remove(same_place)
        else:
            drift.append(
                Drift(
                    kind="column_missing",
                    message=f"column {header!r}{fed} is gone",
                    column=header,
                    target=what,
                )
            )
    for header in new:
        drift.append(
            Drift(kind="column_new", message=f"new column {header!r} is left out", column=header)
        )
    return _split(mapping, recipe, list(headers), drift)


def _split(
    mapping: ColumnMapping, recipe: Recipe, names: list[str], drift: list[Drift]
) -> ColumnMapping:
    """The recipe's name split on this table's columns (named as in ``names``), if any."""
    if recipe.name_split is None:
        return mapping
    column, rule = recipe.name_split
    if column not in names:
        drift.append(
            Drift(
                kind="column_missing",
                message=f"column {column!r} (it held whole names) is gone",
                column=column,
            )
        )
        return mapping
    return mapping.split_name(
        names.index(column), cast("SplitRule", rule), reason="from the recipe"
    )


def replay(
    recipe: Recipe,
    source: Source,
    *,
    max_rows: int | None = 5000,
    remap: Callable[[ColumnMapping], ColumnMapping] | None = None,
    schema: UserSchema | None = None,
) -> Replayed:
    """
    Read ``source`` the way the recipe says, and replay its decisions.

    Args:
        recipe: The recipe.
        source: The new file.
        max_rows: Refuse a file with more data rows than this (``None``: no limit).
        remap: Changes the recipe's mapping before the rows are validated, e.g. to map a
            column that drift reports as renamed (the command line's ``--map``).
        schema: The user fields the rows are checked against (default: the built-in ones).

    Returns:
        The review to plan from, the recipe's settings, and every drift found.
    """
    from .pipeline import ImportOptions, prepare
    from .validation import mapped_cells

    drift: list[Drift] = []
    options = ImportOptions(
        sheet=recipe.sheet,
        encoding=recipe.encoding,
        delimiter=recipe.delimiter,
        max_rows=max_rows,
        header_row=lambda table: _find_header(table, recipe, drift),
        mapping=lambda table, header_row: _mapping(table, header_row, recipe, drift),
        remap=remap,
        schema=schema,
    )
    prepared = prepare(source, options)
    table, header_row, review = prepared.table, prepared.header_row, prepared.review
    mapping = review.mapping
    prints = _fingerprints(mapped_cells(table, header_row, mapping))
    by_print: dict[str, list[int]] = {}
    for row, fingerprint in prints.to_dict().items():
        by_print.setdefault(str(fingerprint), []).append(int(str(row)))
    for decision in recipe.rows:
        if str(prints.get(decision.row, "")) == decision.fingerprint:
            row = decision.row
        elif len(by_print.get(decision.fingerprint, [])) == 1:
            row = by_print[decision.fingerprint][0]
            drift.append(
                Drift(
                    kind="row_moved",
                    message=f"row {decision.row} is now row {row}; the decision follows it",
                    row=row,
                )
            )
        else:
            drift.append(
                Drift(
                    kind="row_changed",
                    message=f"row {decision.row} changed since the recipe was made; its "
                    f"{'skip' if decision.skip else 'edit'} is not applied",
                    row=decision.row,
                )
            )
            continue
        if decision.values:
            review = review.edit(row, **decision.values)
        if decision.skip:
            review = review.skip(row)
    return Replayed(
        table=table,
        header_row=header_row,
        review=review,
        settings=recipe.settings,
        drift=tuple(drift),
    )

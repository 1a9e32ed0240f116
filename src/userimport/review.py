"""
Stage 4b: review and correct. A :class:`Review` holds the candidate users and their issues;
editing, skipping or filtering returns a new review and never changes the old one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from .errors import MappingError, ReviewError, ValidationFailed
from .fields import DEFAULT_SCHEMA, UserSchema
from .mapping import ColumnMapping, check_property
from .validation import (
    HIDDEN,
    Checked,
    ValidationReport,
    check_source,
    mapped_cells,
)

if TYPE_CHECKING:
    import pandas as pd

    from .model import ImportSettings
    from .read import RawTable
    from .repository import UserRepository

__all__ = ["Overview", "Review", "problem_text", "validate"]


@attrs.frozen(kw_only=True)
class Overview:
    """
    Counts for a person deciding whether to import.

    Args:
        total: Data rows in the file (blank rows left out).
        valid: Rows that will be imported.
        invalid: Rows with at least one error (not imported).
        skipped: Rows skipped in the review (not imported).
        warnings: Issues that are warnings only.
        issues: How many issues there are of each code.
        actions: What the import will do (the plan's summary), when a repository was given.
    """

    total: int
    valid: int
    invalid: int
    skipped: int
    warnings: int
    issues: Mapping[str, int] = attrs.field(factory=dict)
    actions: Mapping[str, int] | None = None

    def __repr__(self) -> str:
        """A short summary: the rows by status, the issues by code, and the plan's counts."""
        text = (
            f"Overview(total={self.total}, valid={self.valid}, invalid={self.invalid}, "
            f"skipped={self.skipped}, warnings={self.warnings}"
        )
        if self.issues:
            text += ", issues: " + ", ".join(f"{k} {v}" for k, v in self.issues.items())
        if self.actions is not None:
            text += ", plan: " + ", ".join(f"{k} {v}" for k, v in self.actions.items() if v)
        return text + ")"


#: The colour of a problem in a notebook, as in the command line.
_SEVERITY_COLOUR = {"error": "#c00", "warning": "#b58900"}


def problem_text(issue: Any) -> str:
    """
    An issue's message without its place, naming the column as headed, not the field.

    Args:
        issue: One issue with ``message``, ``field`` and ``column`` (an
            :class:`~userimport.validation.Issue`, or a row of ``Review.issues``).

    Returns:
        ``'First Name' (A) is empty; every user needs one``, say.
    """
    text = str(issue.message).split(": ", 1)[-1]
    field = str(issue.field)
    return f"{issue.column}{text[len(field) :]}" if text.startswith(field + " ") else text


def _cell_text(value: Any) -> str:
    """A cell as text: groups joined by commas, a missing value as nothing."""
    if isinstance(value, tuple | list | frozenset | set):
        return ", ".join(map(str, value))
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def _person(rows: pd.DataFrame, row: int) -> str:
    """The name on a row (else its email), from rows indexed by spreadsheet row."""
    import pandas as pd

    if row not in rows.index:
        return ""
    r = rows.loc[row]
    if isinstance(r, pd.DataFrame):
        r = r.iloc[0]
    name = f"{_cell_text(r.get('first_name'))} {_cell_text(r.get('last_name'))}".strip()
    return name or _cell_text(r.get("email"))


def _rows(value: Iterable[int]) -> frozenset[int]:
    return frozenset(int(v) for v in value)


@attrs.frozen(kw_only=True, eq=False)
class Review:
    """
    The candidate users of one file, their issues, and the corrections made so far.

    ``rows`` and ``issues`` are indexed by the row number a person sees in the spreadsheet.
    :meth:`only_errors` and :meth:`search` return a review whose ``rows`` and ``issues``
    show only the matching rows: a *view*. Planning and :meth:`overview` always use every row,
    so filtering can never make mirror mode delete someone.

    Args:
        source: The mapped cell texts, one column per property, indexed by row. Never mutated.
        mapping: The mapping that produced ``source``.
        path: The file's name, for messages.
        sheet: The worksheet, for naming cells (``None`` for a CSV).
        skipped: Rows the reviewer chose not to import.
        edited: Rows the reviewer changed.
        view: The rows shown by ``rows`` and ``issues`` (``None``: all).
        checked: The outcome of validating ``source`` (made by :meth:`from_source`).
        schema: The user fields the rows are checked against.
    """

    source: pd.DataFrame
    mapping: ColumnMapping
    checked: Checked
    path: str | None = None
    sheet: str | None = None
    skipped: frozenset[int] = attrs.field(factory=frozenset, converter=_rows)
    edited: frozenset[int] = attrs.field(factory=frozenset, converter=_rows)
    view: frozenset[int] | None = None
    schema: UserSchema = DEFAULT_SCHEMA

    @classmethod
    def from_source(
        cls,
        source: pd.DataFrame,
        *,
        mapping: ColumnMapping,
        path: str | None = None,
        sheet: str | None = None,
        skipped: Iterable[int] = (),
        edited: Iterable[int] = (),
        schema: UserSchema = DEFAULT_SCHEMA,
    ) -> Review:
        """Validate ``source`` and return the review of it."""
        skipped = frozenset(skipped)
        checked = check_source(
            source, mapping, skipped=skipped, path=path, sheet=sheet, schema=schema
        )
        return cls(
            source=source,
            mapping=mapping,
            checked=checked,
            path=path,
            sheet=sheet,
            skipped=skipped,
            edited=edited,
            schema=schema,
        )

    # -- what a person looks at ---------------------------------------------------------

    @property
    def rows(self) -> pd.DataFrame:
        """
        The normalised candidate users, indexed by spreadsheet row.

        Columns: ``first_name``, ``last_name``, ``email``, ``department``, ``groups`` (tuples),
        ``is_admin`` and ``attributes.<name>`` when mapped, and ``status`` (``valid``,
        ``invalid`` or ``skipped``).
        """
        rows = self.checked.rows
        return rows if self.view is None else rows[rows.index.isin(list(self.view))]

    @property
    def issues(self) -> pd.DataFrame:
        """
        Every issue, one per row of the frame.

        Columns: ``row``, ``field``, ``column``, ``cell`` (``Users!C17`` or ``line 17, column 3``),
        ``code``, ``severity``, ``value``, ``message``.
        """
        frame = self.checked.report.frame
        return frame if self.view is None else frame[frame["row"].isin(list(self.view))]

    @property
    def report(self) -> ValidationReport:
        """The issues of every row as a :class:`~userimport.validation.ValidationReport`."""
        return self.checked.report

    @property
    def memberships(self) -> pd.DataFrame:
        """The groups of every row in long form: columns ``row`` and ``group``."""
        return self.checked.memberships

    @property
    def is_valid(self) -> bool:
        """True when no row that is not skipped has an error."""
        return not (self.checked.rows["status"] == "invalid").any()

    def overview(
        self,
        repository: UserRepository | None = None,
        settings: ImportSettings | None = None,
    ) -> Overview:
        """
        Count valid, invalid and skipped rows, and, given a repository, what the import will do.

        Args:
            repository: The store to plan against; without it ``actions`` is ``None``.
            settings: The import settings (default settings when ``None``).
        """
        status = self.checked.rows["status"].value_counts()
        frame = self.checked.report.frame
        actions = None
        if repository is not None:
            from .model import ImportSettings
            from .plan import plan_import

            plan = plan_import(self, repository, settings or ImportSettings())
            actions = plan.summary()
        return Overview(
            total=len(self.checked.rows),
            valid=int(status.get("valid", 0)),
            invalid=int(status.get("invalid", 0)),
            skipped=int(status.get("skipped", 0)),
            warnings=int((frame["severity"] == "warning").sum()),
            issues=self.checked.report.counts(),
            actions=actions,
        )

    def _repr_html_(self) -> str:
        """
        The review in a notebook: the counts, the rows in view (those ``search()`` matched,
        say), and the problems with the person on each row; each list stops at 50.
        """
        import html

        left = ' style="text-align:left"'
        o = self.overview()
        parts = [
            f"<p><b>{o.total}</b> rows: <b>{o.valid}</b> valid, <b>{o.invalid}</b> with "
            f"errors, <b>{o.skipped}</b> skipped, {o.warnings} warnings</p>"
        ]
        rows = self.rows
        if self.view is not None:
            shown = rows.head(50)
            fields = [c for c in ("first_name", "last_name", "email", "department", "groups")
                      if c in shown.columns]  # fmt: skip
            head = "".join(f"<th{left}>{c}</th>" for c in ("row", *fields, "status"))
            body = "".join(
                f"<tr><td{left}>{row}</td>"
                + "".join(f"<td{left}>{html.escape(_cell_text(r[c]))}</td>" for c in fields)
                + f"<td{left}>{html.escape(str(r['status']))}</td></tr>"
                for row, r in shown.iterrows()
            )
            parts.append(f"<p><b>Rows ({len(rows)})</b></p><table><tr>{head}</tr>{body}</table>")
            if len(rows) > 50:
                parts.append(f"<p>... and {len(rows) - 50} more rows</p>")
        issues = self.issues.head(50)
        if len(issues):
            names = rows.reindex(issues["row"].tolist())
            cells = "".join(
                f"<tr><td{left}>{r.row}</td>"
                f"<td{left}>{html.escape(_person(names, int(str(r.row))))}</td>"
                f"<td{left}>{html.escape(str(r.column))}</td>"
                f"<td{left}>{html.escape(_cell_text(r.value))}</td>"
                f'<td style="text-align:left;color:{_SEVERITY_COLOUR.get(str(r.severity), "")}">'
                f"{html.escape(problem_text(r))}</td></tr>"
                for r in issues.itertuples()
            )
            parts.append(
                f"<p><b>Problems ({len(self.issues)})</b></p><table><tr><th{left}>row</th>"
                f"<th{left}>person</th><th{left}>column</th><th{left}>value</th>"
                f"<th{left}>problem</th></tr>{cells}</table>"
            )
            more = len(self.issues) - len(issues)
            if more > 0:
                parts.append(f"<p>... and {more} more issues</p>")
        return "".join(parts)

    # -- views ---------------------------------------------------------------------------

    def only_errors(self) -> Review:
        """Return a view of the rows that have at least one error."""
        return attrs.evolve(self, view=self.report.error_rows())

    def search(self, text: str) -> Review:
        """
        Return a view of the rows where any mapped cell contains ``text`` (any case).

        Search is looser than identity: it case-folds (``strasse`` finds ``Straße``) and
        composes accents on both sides (NFC), so a decomposed cell is found by a composed
        search and the other way round.
        """
        import unicodedata

        needle = unicodedata.normalize("NFC", text).casefold().strip()
        hit = None
        for column in self.source.columns:
            if column in HIDDEN:
                continue
            cells = self.source[column].astype(str).str.normalize("NFC")
            found = cells.str.casefold().str.contains(needle, regex=False)
            hit = found if hit is None else hit | found
        rows = frozenset() if hit is None else frozenset(int(r) for r in self.source.index[hit])
        return attrs.evolve(self, view=rows)

    def all_rows(self) -> Review:
        """Return the review with every row shown again."""
        return attrs.evolve(self, view=None)

    # -- corrections ---------------------------------------------------------------------

    def _check_row(self, row: int) -> int:
        if row not in self.source.index:
            rows = self.source.index
            span = f"{rows.min()}-{rows.max()}" if len(rows) else "none"
            raise ReviewError(
                f"{self.path or 'the file'} has no data row {row} (data rows: {span})",
                path=self.path,
                row=row,
            )
        return int(row)

    def _cell(self, field: str, value: Any) -> str:
        if value is None:
            return ""
        if field == "groups" and not isinstance(value, str):
            return self.mapping.group_separator.join(str(v) for v in value)
        if isinstance(value, bool):
            return "yes" if value else "no"
        return str(value)

    def edit(self, row: int, **values: Any) -> Review:
        """
        Return a review where ``row`` has the given values, rechecked with every other row.

        Args:
            row: The spreadsheet row number.
            **values: Property to new text, e.g. ``first_name="Per"``; ``groups`` takes a string
                (split on the separator) or a list of names; custom properties go as
                ``attributes={"title": "CTO"}``; a field declared in the review's schema goes by
                its key (``phone="+47 912 34 567"``), as text, or as a bool for a boolean.
                An edit also clears the row's extra cells and its unsplit name.

        Raises:
            ReviewError: No such row.
            MappingError: An unknown property.
        """
        row = self._check_row(row)
        attributes = values.pop("attributes", None) or {}
        values.update({f"attributes.{k}": v for k, v in dict(attributes).items()})
        values = {(self.schema[k].target if k in self.schema else k): v for k, v in values.items()}
        source = self.source.copy()
        for field, value in values.items():
            check_property(field)
            if field not in source:
                source[field] = ""
            source.loc[row, field] = self._cell(field, value)
        for flag in ("_extra", "_unsplit"):
            if flag in source:
                source.loc[row, flag] = ""
        if "_formula" in source:  # an edited cell no longer holds a formula never calculated
            left = [f for f in str(source.loc[row, "_formula"]).split(",") if f not in values]
            source.loc[row, "_formula"] = ",".join(filter(None, left))
        return self._again(source=source, edited=self.edited | {row})

    def skip(self, *rows: int) -> Review:
        """Return a review where ``rows`` will not be imported (they still count as present)."""
        return self._again(skipped=self.skipped | {self._check_row(r) for r in rows})

    def unskip(self, *rows: int) -> Review:
        """Return a review where ``rows`` will be imported again (if valid)."""
        return self._again(skipped=self.skipped - {self._check_row(r) for r in rows})

    def revalidate(self) -> Review:
        """Return the review checked again from its source (every row, all cross-row checks)."""
        return self._again()

    def _again(self, **changes: Any) -> Review:
        review = Review.from_source(
            changes.get("source", self.source),
            mapping=self.mapping,
            path=self.path,
            sheet=self.sheet,
            skipped=changes.get("skipped", self.skipped),
            edited=changes.get("edited", self.edited),
            schema=self.schema,
        )
        return attrs.evolve(review, view=self.view)


def validate(
    table: RawTable,
    header_row: int | None,
    mapping: ColumnMapping,
    *,
    strict: bool = False,
    schema: UserSchema = DEFAULT_SCHEMA,
) -> Review:
    """
    Check the mapped rows of ``table`` and return a :class:`~userimport.review.Review`.

    Fully blank rows are left out. Every problem becomes an :class:`Issue` naming the row
    (as the spreadsheet shows it) and the field; the table itself is never changed.

    Args:
        table: The table read by :func:`~userimport.read.read_table`.
        header_row: 0-based index of the header row (rows above it are left out), or ``None``.
        mapping: Which columns feed which property.
        strict: Raise :class:`~userimport.errors.ValidationFailed` when any row has an error.
        schema: The user fields (:mod:`userimport.fields`); each declared field's column is
            read as its kind and checked by its rules.

    Returns:
        The normalised candidate users and their issues, ready to review and correct.

    Raises:
        MappingError: No column feeds one of the required properties.
        ValidationFailed: ``strict`` and some row has an error.
    """
    required = schema.required
    missing = [p for p in required if mapping.column(p) is None]
    if missing:
        raise MappingError(
            f"{table.name}: no column feeds {', '.join(missing)}; map a column to "
            f"{'each' if len(missing) > 1 else 'it'} (every user needs {', '.join(required)})",
            path=table.path,
        )
    source = mapped_cells(table, header_row, mapping)
    sheet = table.sheet if table.format == "xlsx" else None
    review = Review.from_source(
        source, mapping=mapping, path=table.path, sheet=sheet, schema=schema
    )
    if strict and not review.is_valid:
        report = review.report
        raise ValidationFailed(
            f"{table.name}: {len(report.error_rows())} row(s) have problems; "
            f"first: {report.frame['message'].iloc[0]}",
            report=report,
            path=table.path,
        )
    return review

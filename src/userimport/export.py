"""
Export: write every user of a store, or an import template, as a CSV or XLSX file.

Both files carry the headers the import recognises, so an exported file imports back as it
is. A value a spreadsheet would run as a formula is neutralised on the way out (see
:func:`neutralise`), and the import reads the neutralised form back as the value it was.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, Literal, overload

from ._table import DEFAULT_MAX_ROWS
from .errors import FileFormatError, SettingsError
from .fields import DEFAULT_SCHEMA, Field, UserSchema, schema_of
from .model import Snapshot
from .read import column_letter
from .repository import UserRepository

__all__ = [
    "ADMIN_HEADER",
    "CORE_HEADERS",
    "EXAMPLE_ROW",
    "INSTRUCTIONS",
    "export_users",
    "neutralise",
    "write_template",
]

Format = Literal["csv", "xlsx"]

#: What :func:`export_users` and :func:`write_template` write to: a path, or a binary file.
Destination = str | os.PathLike[str] | IO[bytes]

#: The headers of the core properties, in the order both files have them (the export headers
#: of the built-in fields).
CORE_HEADERS: tuple[str, ...] = tuple(
    DEFAULT_SCHEMA[k].export_header
    for k in ("first_name", "last_name", "email", "department", "groups")
)

#: The header of the admin column (``yes`` or ``no``); declared fields, then custom
#: attributes follow it.
ADMIN_HEADER = DEFAULT_SCHEMA["is_admin"].export_header

#: What the template's example user holds in a declared field, by kind.
_EXAMPLES = {
    "text": "",
    "email": "kari@example.com",
    "phone": "+47 912 34 567",
    "date": "2025-12-31",
    "boolean": "no",
    "integer": "1",
    "identifier": "00417",
}

#: The example user of the template.
EXAMPLE_ROW: tuple[str, ...] = (
    "Kari",
    "Nordmann",
    "kari.nordmann@example.com",
    "Sales",
    "Oslo, Tech",
    "no",
)

#: The lines of the template's Instructions sheet.
INSTRUCTIONS: tuple[str, ...] = (
    "How to fill in the Users sheet",
    "Write one user per row on the Users sheet, below the header row, and delete the example.",
    "Required columns: First Name, Last Name, Email and Department.",
    "The email address is the user's identity, compared without regard to case; "
    "an import can never change the email of an existing user.",
    "A department or a group that does not exist yet is created by the import.",
    "User Groups: separate several groups with a comma, for example: Oslo, Tech.",
    "Admin: write yes or no; the column is ignored unless the import is allowed to change "
    "admin rights.",
    f"At most {DEFAULT_MAX_ROWS:,} users per file; split a longer list into several files.",
    "Save the file as .xlsx, or as .csv (UTF-8); keep the header row as it is.",
)

_SUFFIXES: dict[str, Format] = {".csv": "csv", ".xlsx": "xlsx"}
_USERS_SHEET = "Users"
_INSTRUCTIONS_SHEET = "Instructions"

# A formula sign, possibly after apostrophes: the import removes one leading apostrophe
# before a sign, so a value that already starts with one needs another to come back whole.
_FORMULA = re.compile(r"'*[=+\-@]")
# What openpyxl refuses in a cell (control characters other than tab, LF and CR).
_ILLEGAL_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_XLSX_MAX_CELL = 32_767


def neutralise(text: str) -> str:
    """
    Return ``text`` as a CSV cell that a spreadsheet shows as text, never runs as a formula.

    A value starting with ``=``, ``+``, ``-`` or ``@`` gets an apostrophe in front (OWASP's
    advice against CSV injection); the import removes it again. Leading blanks are dropped
    when the value starts with a tab or carriage return, or when a formula sign follows them:
    a spreadsheet may skip them before a formula, and the import trims them anyway.

    >>> neutralise("=SUM(A1:A9)"), neutralise("-Berg"), neutralise("Anna")
    ("'=SUM(A1:A9)", "'-Berg", 'Anna')
    >>> neutralise("\\t@cmd")
    "'@cmd"
    """
    if text[:1].isspace():
        rest = text.lstrip()
        if text[0] in "\t\r" or _FORMULA.match(rest):
            text = rest
    return "'" + text if _FORMULA.match(text) else text


def _format_of(dest: Destination, format: str | None) -> Format:
    if format is not None:
        if format not in ("csv", "xlsx"):
            raise FileFormatError(f"unknown format {format!r}; use 'csv' or 'xlsx'")
        return "csv" if format == "csv" else "xlsx"
    name = os.fspath(dest) if isinstance(dest, str | os.PathLike) else getattr(dest, "name", None)
    if not isinstance(name, str):
        raise FileFormatError(
            "cannot tell the format of a file object without a name; pass format='csv' or "
            "format='xlsx'"
        )
    suffix = Path(name).suffix.casefold()
    if suffix not in _SUFFIXES:
        raise FileFormatError(
            f"{name}: cannot write a {suffix or 'suffix-less'} file; "
            f"use a name ending in {' or '.join(_SUFFIXES)}",
            path=name,
        )
    return _SUFFIXES[suffix]


def _joiner(separator: str) -> str:
    if not isinstance(separator, str) or (not separator.strip() and separator != "\t"):
        raise SettingsError(f"the group separator must be a non-blank string, not {separator!r}")
    return separator if separator[-1].isspace() else separator + " "


def _headers(schema: UserSchema) -> list[str]:
    """The built-in fields' export headers, in the files' order."""
    keys = ("first_name", "last_name", "email", "department", "groups", "is_admin")
    return [schema[k].export_header for k in keys]


def _table(
    snapshot: Snapshot, separator: str, schema: UserSchema = DEFAULT_SCHEMA
) -> tuple[list[str], list[Sequence[str]]]:
    """The export's header and rows, as the store has them (not yet neutralised)."""
    joiner = _joiner(separator)
    cut = separator.strip() or separator
    frame = snapshot.frame.sort_index(kind="stable")  # by email key, as before
    attributes = frame["attributes"].tolist()
    declared = [f.key for f in schema.extra]
    names = sorted(
        {n for held in attributes for n in held} - set(declared), key=lambda n: (n.casefold(), n)
    )
    groups = frame["groups"].tolist()
    if any(cut in g for g in itertools.chain.from_iterable(groups)):
        for email, held in zip(frame["email"].tolist(), groups, strict=True):
            clash = sorted(g for g in held if cut in g)
            if clash:
                raise SettingsError(
                    f"{email} is in group {clash[0]!r}, which holds the group separator "
                    f"{separator!r}, so the export could not be imported back; export with "
                    "another separator, e.g. separator=';'"
                )
    columns = [
        frame["first_name"].tolist(),
        frame["last_name"].tolist(),
        frame["email"].tolist(),
        frame["department"].tolist(),
        [joiner.join(g) for g in groups],  # each user's groups are sorted in the frame
        ["yes" if a else "no" for a in frame["is_admin"].tolist()],
        *([held.get(n, "") for held in attributes] for n in (*declared, *names)),
    ]
    header = [*_headers(schema), *(f.export_header for f in schema.extra), *names]
    return header, list(zip(*columns, strict=True))


def _csv_bytes(header: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    # Only a value starting with a sign, an apostrophe or a blank can need neutralising.
    risky = "=+-@'"
    writer.writerows(
        [neutralise(v) if v[:1] in risky or v[:1].isspace() else v for v in row]
        for row in (header, *rows)
    )
    # The BOM makes Excel read the file as UTF-8 (æ, ø, å), not as the locale's code page.
    return out.getvalue().encode("utf-8-sig")


def _check_xlsx(value: str, sheet: str, row: int, column: int) -> None:
    where = f"{sheet}!{column_letter(column)}{row}"
    if _ILLEGAL_XLSX.search(value):
        raise FileFormatError(
            f"{where}: the value {value[:40]!r} holds a control character that an XLSX file "
            "cannot store; export as .csv, or clean the value in the store"
        )
    if len(value) > _XLSX_MAX_CELL:
        raise FileFormatError(
            f"{where}: the value is longer than the {_XLSX_MAX_CELL:,} characters an XLSX cell "
            "holds; export as .csv"
        )


def _xlsx_bytes(sheets: Sequence[tuple[str, Sequence[Sequence[str]], Sequence[float]]]) -> bytes:
    """A workbook of text cells: ``(title, rows with the header first, column widths)``."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    # Check every value first: a write-only workbook left half-written fails at collection.
    for title, rows, _ in sheets:
        for r, values in enumerate(rows, start=1):
            for c, value in enumerate(values):
                _check_xlsx(value, title, r, c)
    book = Workbook(write_only=True)
    bold = Font(bold=True)
    for title, rows, widths in sheets:
        sheet = book.create_sheet(title)
        sheet.freeze_panes = "A2"
        for i, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = width
        for r, values in enumerate(rows, start=1):
            cells: list[Any] = []
            for value in values:
                if not value:
                    cells.append(None)
                    continue
                if _FORMULA.match(value) and value[0] == "'":
                    value = "'" + value
                cell = WriteOnlyCell(sheet, value=value)
                # openpyxl makes "=..." a formula and "#N/A" an error: these are text.
                cell.data_type = "s"
                cell.number_format = "@"
                # Excel's own mark for a value typed with a leading apostrophe: it stays
                # text even when a person edits the cell.
                cell.quotePrefix = bool(_FORMULA.match(value.lstrip()))
                if r == 1:
                    cell.font = bold
                cells.append(cell)
            sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _widths(rows: Sequence[Sequence[str]], *, cap: int = 40) -> list[float]:
    width = max((len(r) for r in rows), default=0)
    longest = [max((len(r[i]) for r in rows[:200] if i < len(r)), default=0) for i in range(width)]
    return [float(min(cap, max(10, n + 2))) for n in longest]


def _write(data: bytes, dest: Destination) -> Path | None:
    if isinstance(dest, str | os.PathLike):
        path = Path(dest)
        path.write_bytes(data)
        return path
    dest.write(data)
    return None


@overload
def export_users(
    repository: UserRepository,
    dest: str | os.PathLike[str],
    *,
    separator: str = ",",
    format: Format | None = None,
    schema: UserSchema | None = None,
) -> Path: ...


@overload
def export_users(
    repository: UserRepository,
    dest: IO[bytes],
    *,
    separator: str = ",",
    format: Format | None = None,
    schema: UserSchema | None = None,
) -> None: ...


def export_users(
    repository: UserRepository,
    dest: Destination,
    *,
    separator: str = ",",
    format: Format | None = None,
    schema: UserSchema | None = None,
) -> Path | None:
    """
    Write every user of the store to a CSV or XLSX file that the import reads back as is.

    The columns are those of the template (``First Name``, ``Last Name``, ``Email``,
    ``Department``, ``User Groups``), then ``Admin`` (``yes``/``no``), one column per
    declared field of ``schema`` (headed by its export header, in declaration order), and
    one column per other custom attribute of the store, named as the attribute and sorted by
    name. Rows are sorted
    by email; each user's groups are sorted and joined by ``separator`` and a space.

    A CSV is UTF-8 with a byte order mark, comma-delimited, minimally quoted, with ``\\r\\n``
    line ends, as Excel writes it; a value a spreadsheet would run as a formula gets an
    apostrophe in front (:func:`neutralise`). An XLSX has one sheet, ``Users``, of text cells:
    never a formula.

    Args:
        repository: The store; it is read through one :meth:`~UserRepository.snapshot`.
        dest: A path ending in ``.csv`` or ``.xlsx``, or a binary file object.
        separator: Goes between groups; import the file with the same ``group_separator``.
        format: ``"csv"`` or ``"xlsx"``; by default told by the suffix of ``dest`` (or of
            the file object's ``name``).
        schema: The user fields (by default the repository's ``schema`` if it has one,
            else the built-in fields).

    Returns:
        The path written, or ``None`` for a file object.

    Raises:
        FileFormatError: The format cannot be told, or a value cannot be stored in XLSX.
        SettingsError: A blank separator, or a group name that holds the separator.

    >>> import tempfile
    >>> from userimport import InMemoryUserRepository, User
    >>> repo = InMemoryUserRepository([User(email="a@firma.no", first_name="Anna")])
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = export_users(repo, Path(folder, "users.csv"))
    ...     path.read_bytes().decode("utf-8-sig").splitlines()
    ['First Name,Last Name,Email,Department,User Groups,Admin', 'Anna,,a@firma.no,,,no']
    """
    kind = _format_of(dest, format)
    header, rows = _table(repository.snapshot(), separator, _schema_of(repository, schema))
    if kind == "csv":
        data = _csv_bytes(header, rows)
    else:
        table = [header, *rows]
        data = _xlsx_bytes([(_USERS_SHEET, table, _widths(table))])
    return _write(data, dest)


def _schema_of(repository: object, schema: UserSchema | None) -> UserSchema:
    """``schema``, else the repository's own, else the built-in fields."""
    return schema if schema is not None else schema_of(repository)


def _example(field: Field) -> str:
    """The template's example value of a declared field (a required text names itself)."""
    if field.kind == "choice":
        return field.choices[0]
    if field.kind == "text" and field.required:
        return field.label
    return _EXAMPLES[field.kind]


def _instruction(field: Field) -> str:
    """The template's line about a declared field."""
    what = {
        "text": "text",
        "email": "an email address",
        "phone": "a phone number with its country code, e.g. +47 912 34 567",
        "date": "a date, written 2025-12-31 or 31.12.2025 (day.month.year)",
        "boolean": "yes or no",
        "integer": "a whole number",
        "choice": "one of " + ", ".join(field.choices),
        "identifier": "an identifier, kept exactly as written (leading zeros too)",
    }[field.kind]
    rules = [r for r, on in (("required", field.required), ("unique", field.unique)) if on]
    return f"{field.export_header}: {what}" + (f" ({', '.join(rules)})." if rules else ".")


@overload
def write_template(
    dest: str | os.PathLike[str], *, format: Format | None = None, schema: UserSchema = ...
) -> Path: ...


@overload
def write_template(
    dest: IO[bytes], *, format: Format | None = None, schema: UserSchema = ...
) -> None: ...


def write_template(
    dest: Destination, *, format: Format | None = None, schema: UserSchema = DEFAULT_SCHEMA
) -> Path | None:
    """
    Write an import template: the headers and one example user, ready to fill in.

    An XLSX template has a second sheet, ``Instructions``: the required columns, the group
    separator, the row limit, why the email cannot change and when the admin column counts.
    The import picks the ``Users`` sheet by its content.

    Args:
        dest: A path ending in ``.csv`` or ``.xlsx``, or a binary file object.
        format: ``"csv"`` or ``"xlsx"``; by default told by the suffix of ``dest``.
        schema: The user fields: each declared field adds a column (its export header) with
            an example value of its kind, and a line on the Instructions sheet.

    Returns:
        The path written, or ``None`` for a file object.

    Raises:
        FileFormatError: The format cannot be told from ``dest``.
    """
    kind = _format_of(dest, format)
    header = [*_headers(schema), *(f.export_header for f in schema.extra)]
    example = [_example(f) for f in schema.extra]
    rows = [[*EXAMPLE_ROW, *example]]
    if kind == "csv":
        data = _csv_bytes(header, rows)
    else:
        table = [header, *rows]
        lines = [*INSTRUCTIONS[:-2], *map(_instruction, schema.extra), *INSTRUCTIONS[-2:]]
        notes = [[line] for line in lines]
        data = _xlsx_bytes(
            [(_USERS_SHEET, table, _widths(table)), (_INSTRUCTIONS_SHEET, notes, [110.0])]
        )
    return _write(data, dest)

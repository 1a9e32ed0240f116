"""
The pipeline assembled once: :func:`prepare` (read, header, mapping, review) with typed
:class:`ImportOptions`, and :func:`import_file` (that, then plan and apply) in one call.

The command line's ``plan``/``import``, recipes (:func:`~userimport.recipe.replay`) and the
demo all prepare their review through :func:`prepare`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs

from ._table import DEFAULT_MAX_ROWS
from .apply import ApplyResult, apply_plan
from .errors import SettingsError
from .fields import DEFAULT_SCHEMA, UserSchema, schema_of
from .headers import detect_header, header_names
from .mapping import ColumnMapping, suggest_mapping
from .model import ImportSettings
from .plan import Plan, plan_import
from .read import RawTable, Source, read_table
from .repository import UserRepository
from .review import Review, validate

if TYPE_CHECKING:
    from .notify import Notifier

__all__ = ["OVERRIDES", "ImportOptions", "Prepared", "import_file", "prepare"]

#: The keyword overrides :func:`import_file` takes, by the stage that owns them.
OVERRIDES: Mapping[str, tuple[str, ...]] = {
    "read": ("sheet", "encoding", "delimiter", "max_rows"),
    "header": ("header_row",),
    "mapping": ("mapping", "group_separator", "department_as_group", "schema"),
    "review": ("skip_rows",),
}

#: How the header row is found: ``"auto"`` (detected), a 0-based row, ``None`` (no header),
#: or a function of the table.
HeaderChoice = int | None | Literal["auto"] | Callable[[RawTable], int | None]
#: How the mapping is made: suggested (``None``), given, ``{column: property}``, or a function
#: of the table and the header row.
MappingChoice = (
    ColumnMapping | Mapping[int | str, str] | Callable[[RawTable, int | None], ColumnMapping] | None
)


def _optional_text(name: str) -> Callable[[Any, Any, Any], None]:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        if value is not None and not isinstance(value, str):
            raise SettingsError(f"{name} must be text or None, not {value!r}")

    return check


def _check_max_rows(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise SettingsError(f"max_rows must be a whole number of 0 or more, or None, not {value!r}")


def _check_header_row(instance: Any, attribute: Any, value: Any) -> None:
    if value is None or value == "auto" or callable(value):
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SettingsError(
            f"header_row must be a 0-based row number, None (no header) or 'auto', not {value!r}"
        )


def _check_mapping(instance: Any, attribute: Any, value: Any) -> None:
    if value is None or isinstance(value, ColumnMapping | Mapping) or callable(value):
        return
    raise SettingsError(
        f"mapping must be a ColumnMapping or a {{column: property}} mapping, not {value!r}"
    )


def _check_flag(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None and not isinstance(value, bool):
        raise SettingsError(f"{attribute.name} must be True, False or None, not {value!r}")


def _check_schema(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None and not isinstance(value, UserSchema):
        raise SettingsError(f"schema must be a UserSchema, not {type(value).__name__}")


def _rows(value: Iterable[int]) -> tuple[int, ...]:
    rows = tuple(value)
    if any(isinstance(r, bool) or not isinstance(r, int) for r in rows):
        raise SettingsError(f"skip_rows must be row numbers, not {rows!r}")
    return rows


@attrs.frozen(kw_only=True)
class ImportOptions:
    """
    How a file is read, its header found, its columns mapped and its rows reviewed.

    Every field has the default :func:`import_file` uses; a wrong type is a
    :class:`~userimport.errors.SettingsError` when the options are made.

    Args:
        sheet: The worksheet to read (XLSX); by default the one holding the user table.
        encoding: The text encoding (CSV); detected when ``None``.
        delimiter: The field delimiter (CSV); detected when ``None``.
        max_rows: Refuse a file with more data rows than this (``None``: no limit).
        header_row: ``"auto"`` (detected), the 0-based header row, ``None`` for no header,
            or a function of the :class:`~userimport.read.RawTable` returning one of those.
        mapping: ``None`` (suggested), a :class:`~userimport.mapping.ColumnMapping`,
            ``{column: property}``, or a function of the table and the header row.
        remap: Changes the mapping before the rows are validated (the command line's
            ``--map``; a recipe's drift fixes).
        group_separator: The group separator, when given.
        department_as_group: Whether the department is also a group, when given.
        skip_rows: Spreadsheet row numbers to skip in the review.
        schema: The user fields (:class:`~userimport.fields.UserSchema`) columns are mapped
            to and rows are checked against; ``None``: the built-in fields, or in
            :func:`import_file` the repository's own ``schema`` when it has one.

    .. versionadded:: unreleased
    """

    sheet: str | None = attrs.field(default=None, validator=_optional_text("sheet"))
    encoding: str | None = attrs.field(default=None, validator=_optional_text("encoding"))
    delimiter: str | None = attrs.field(default=None, validator=_optional_text("delimiter"))
    max_rows: int | None = attrs.field(default=DEFAULT_MAX_ROWS, validator=_check_max_rows)
    header_row: HeaderChoice = attrs.field(default="auto", validator=_check_header_row)
    mapping: MappingChoice = attrs.field(default=None, validator=_check_mapping)
    remap: Callable[[ColumnMapping], ColumnMapping] | None = None
    group_separator: str | None = attrs.field(
        default=None, validator=_optional_text("group_separator")
    )
    department_as_group: bool | None = attrs.field(default=None, validator=_check_flag)
    skip_rows: tuple[int, ...] = attrs.field(default=(), converter=_rows)
    schema: UserSchema | None = attrs.field(default=None, validator=_check_schema)

    @classmethod
    def from_overrides(cls, overrides: Mapping[str, Any]) -> ImportOptions:
        """
        The options from :func:`import_file`'s keyword overrides (see :data:`OVERRIDES`).

        Raises:
            SettingsError: An unknown override, or a value of the wrong type.
        """
        known = {name for names in OVERRIDES.values() for name in names}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise SettingsError(
                f"unknown override(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        values = dict(overrides)
        if values.get("skip_rows") is None:
            values.pop("skip_rows", None)
        return cls(**values)


@attrs.frozen(kw_only=True)
class Prepared:
    """
    A file read, its header found, its columns mapped and its rows validated.

    Args:
        table: The table read.
        header_row: The 0-based header row, or ``None``.
        review: The review, with ``skip_rows`` skipped.
    """

    table: RawTable
    header_row: int | None
    review: Review


def prepare(source: Source, options: ImportOptions | None = None) -> Prepared:
    """
    Read ``source``, find its header, map its columns and validate its rows.

    Args:
        source: A path, the file's bytes, or a binary file object.
        options: How (default :class:`ImportOptions` when ``None``).

    Returns:
        The table, the header row and the review, ready to plan.

    Raises:
        UserImportError: Whatever the stages raise (``ReadError``, ``MappingError``, ...).
    """
    options = options or ImportOptions()
    table = read_table(
        source,
        sheet=options.sheet,
        encoding=options.encoding,
        delimiter=options.delimiter,
        max_rows=options.max_rows,
    )
    choice = options.header_row
    if choice == "auto":
        header_row = detect_header(table).row
    elif callable(choice):
        header_row = choice(table)
    else:
        header_row = choice
    schema = options.schema or DEFAULT_SCHEMA
    mapping = _mapping(table, header_row, options.mapping, schema)
    if options.remap is not None:
        mapping = options.remap(mapping)
    if options.group_separator is not None:
        mapping = mapping.with_group_separator(options.group_separator)
    if options.department_as_group is not None:
        mapping = mapping.with_department_as_group(options.department_as_group)
    review = validate(table, header_row, mapping, schema=schema)
    if options.skip_rows:
        review = review.skip(*options.skip_rows)
    return Prepared(table=table, header_row=header_row, review=review)


def _mapping(
    table: RawTable, header_row: int | None, given: MappingChoice, schema: UserSchema
) -> ColumnMapping:
    if isinstance(given, ColumnMapping):
        return given
    if given is None:
        return suggest_mapping(table, header_row, schema=schema)
    if callable(given):
        return given(table, header_row)
    return ColumnMapping.from_columns(
        given, headers=header_names(table, header_row), width=table.rows.shape[1]
    ).with_footer_of(table, header_row)


def import_file(
    source: Source,
    repository: UserRepository,
    settings: ImportSettings | None = None,
    *,
    dry_run: bool = True,
    notifier: Notifier | None = None,
    options: ImportOptions | None = None,
    **overrides: Any,
) -> Plan | ApplyResult:
    """
    Read, detect the header, map, validate, plan and (unless ``dry_run``) apply, in one call.

    Rows with errors are left out of the import (and still count as present for mirror mode).

    Args:
        source: A path, the file's bytes, or a binary file object.
        repository: The store.
        settings: The import settings (default settings when ``None``).
        dry_run: Return the :class:`~userimport.plan.Plan` without changing anything.
        notifier: Sends welcome emails, when the settings ask for them.
        options: The stage options as one typed value (:class:`ImportOptions`); or give them
            as ``overrides``, not both.
        **overrides: Passed to the stage that owns them: ``sheet``, ``encoding``,
            ``delimiter``, ``max_rows`` (``None``: no limit) to reading; ``header_row``
            (0-based, or ``None`` for no header) to header detection; ``mapping`` (a
            :class:`~userimport.mapping.ColumnMapping` or ``{column: property}``),
            ``group_separator`` and ``department_as_group`` to mapping; ``skip_rows`` (row
            numbers) to the review; ``schema`` (a :class:`~userimport.fields.UserSchema`, by
            default the repository's ``schema`` if it has one, else the built-in fields) to
            mapping and validation.

    Returns:
        The plan on a dry run, else the :class:`~userimport.apply.ApplyResult`.

    Raises:
        SettingsError: An unknown override, a value of the wrong type (a ``schema`` that is
            not a ``UserSchema``...), or both ``options`` and overrides.
    """
    if options is not None and overrides:
        raise SettingsError(
            "give the options as options=ImportOptions(...) or as keywords, not both"
        )
    if options is None:
        options = ImportOptions.from_overrides(overrides)
    if options.schema is None:
        options = attrs.evolve(options, schema=schema_of(repository))
    prepared = prepare(source, options)
    plan = plan_import(prepared.review, repository, settings or ImportSettings())
    if dry_run:
        return plan
    return apply_plan(plan, repository, notifier=notifier)

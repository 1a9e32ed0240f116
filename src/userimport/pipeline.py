"""
The whole pipeline in one call: :func:`import_file`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .apply import ApplyResult, apply_plan
from .errors import SettingsError
from .fields import DEFAULT_SCHEMA, UserSchema
from .headers import detect_header, header_names
from .mapping import ColumnMapping, suggest_mapping
from .model import ImportSettings
from .notify import Notifier
from .plan import Plan, plan_import
from .read import DEFAULT_MAX_ROWS, Source, read_table
from .repository import UserRepository
from .validation import validate

__all__ = ["OVERRIDES", "import_file"]

#: The keyword overrides :func:`import_file` takes, by the stage that owns them.
OVERRIDES: Mapping[str, tuple[str, ...]] = {
    "read": ("sheet", "encoding", "delimiter", "max_rows"),
    "header": ("header_row",),
    "mapping": ("mapping", "group_separator", "department_as_group", "schema"),
    "review": ("skip_rows",),
}


def import_file(
    source: Source,
    repository: UserRepository,
    settings: ImportSettings | None = None,
    *,
    dry_run: bool = True,
    notifier: Notifier | None = None,
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
        SettingsError: An unknown override, or a ``schema`` that is not a ``UserSchema``.
    """
    known = {name for names in OVERRIDES.values() for name in names}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise SettingsError(
            f"unknown override(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    settings = settings or ImportSettings()
    given_schema = overrides.get("schema")
    if given_schema is not None and not isinstance(given_schema, UserSchema):
        raise SettingsError(f"schema must be a UserSchema, not {type(given_schema).__name__}")
    held = getattr(repository, "schema", None)
    schema = given_schema or (held if isinstance(held, UserSchema) else DEFAULT_SCHEMA)
    table = read_table(
        source,
        sheet=overrides.get("sheet"),
        encoding=overrides.get("encoding"),
        delimiter=overrides.get("delimiter"),
        max_rows=overrides.get("max_rows", DEFAULT_MAX_ROWS),
    )
    header_row = overrides["header_row"] if "header_row" in overrides else detect_header(table).row
    given = overrides.get("mapping")
    if isinstance(given, ColumnMapping):
        mapping = given
    elif given is not None:
        mapping = ColumnMapping.from_columns(
            given, headers=header_names(table, header_row), width=table.rows.shape[1]
        ).with_footer_of(table, header_row)
    else:
        mapping = suggest_mapping(table, header_row, schema=schema)
    if "group_separator" in overrides:
        mapping = mapping.with_group_separator(overrides["group_separator"])
    if "department_as_group" in overrides:
        mapping = mapping.with_department_as_group(bool(overrides["department_as_group"]))
    review = validate(table, header_row, mapping, schema=schema)
    if overrides.get("skip_rows"):
        review = review.skip(*overrides["skip_rows"])
    plan = plan_import(review, repository, settings)
    if dry_run:
        return plan
    return apply_plan(plan, repository, notifier=notifier)

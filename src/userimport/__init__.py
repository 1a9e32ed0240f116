"""
userimport: bulk-import users into an application's user store from CSV and Excel files.

The pipeline is a chain of pure stages, each in its own module::

    read_table -> detect_header -> suggest_mapping -> validate -> plan_import -> apply_plan

``import userimport`` is cheap: the stage modules (and pandas behind them) load on first use
of a name.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .actions import add_user, delete_user, edit_user, send_welcome_email, set_admin
    from .apply import ApplyResult, apply_plan
    from .errors import (
        CommitOutcomeUnknown,
        DeletionLimitError,
        EncodingError,
        FileFormatError,
        HeaderError,
        MappingError,
        PlanError,
        ReadError,
        RepositoryError,
        ReviewError,
        RowLimitError,
        SettingsError,
        StalePlanError,
        UserImportError,
        UserNotFoundError,
        ValidationFailed,
    )
    from .export import export_users, write_template
    from .fields import DEFAULT_SCHEMA, Field, UserSchema
    from .headers import HeaderCandidate, HeaderGuess, detect_header
    from .mapping import ColumnMapping, ColumnMatch, suggest_mapping
    from .model import ChangeSet, ImportSettings, Permissions, Snapshot, User
    from .notify import Notification, Notifier
    from .pipeline import ImportOptions, import_file
    from .plan import Plan, PlanEntry, PlanWarning, plan_import
    from .read import RawTable, read_table
    from .repository import InMemoryUserRepository, UserRepository
    from .review import Overview, Review, validate
    from .sql import SqlUserRepository
    from .validation import Issue, IssueCode, ValidationReport

__all__ = [
    "DEFAULT_SCHEMA",
    "ApplyResult",
    "ChangeSet",
    "ColumnMapping",
    "ColumnMatch",
    "CommitOutcomeUnknown",
    "DeletionLimitError",
    "EncodingError",
    "Field",
    "FileFormatError",
    "HeaderCandidate",
    "HeaderError",
    "HeaderGuess",
    "ImportOptions",
    "ImportSettings",
    "InMemoryUserRepository",
    "Issue",
    "IssueCode",
    "MappingError",
    "Notification",
    "Notifier",
    "Overview",
    "Permissions",
    "Plan",
    "PlanEntry",
    "PlanError",
    "PlanWarning",
    "RawTable",
    "ReadError",
    "RepositoryError",
    "Review",
    "ReviewError",
    "RowLimitError",
    "SettingsError",
    "Snapshot",
    "SqlUserRepository",
    "StalePlanError",
    "User",
    "UserImportError",
    "UserNotFoundError",
    "UserRepository",
    "UserSchema",
    "ValidationFailed",
    "ValidationReport",
    "add_user",
    "apply_plan",
    "delete_user",
    "detect_header",
    "edit_user",
    "export_users",
    "import_file",
    "plan_import",
    "read_table",
    "send_welcome_email",
    "set_admin",
    "suggest_mapping",
    "validate",
    "write_template",
]

__version__ = "0.1.0.dev0"

_WHERE = {
    "add_user": "actions",
    "delete_user": "actions",
    "edit_user": "actions",
    "send_welcome_email": "actions",
    "set_admin": "actions",
    "ApplyResult": "apply",
    "apply_plan": "apply",
    "export_users": "export",
    "write_template": "export",
    "DEFAULT_SCHEMA": "fields",
    "Field": "fields",
    "UserSchema": "fields",
    "HeaderCandidate": "headers",
    "HeaderGuess": "headers",
    "detect_header": "headers",
    "ColumnMapping": "mapping",
    "ColumnMatch": "mapping",
    "suggest_mapping": "mapping",
    "ChangeSet": "model",
    "ImportOptions": "pipeline",
    "ImportSettings": "model",
    "Permissions": "model",
    "Snapshot": "model",
    "User": "model",
    "Notification": "notify",
    "Notifier": "notify",
    "import_file": "pipeline",
    "Plan": "plan",
    "PlanEntry": "plan",
    "PlanWarning": "plan",
    "plan_import": "plan",
    "RawTable": "read",
    "read_table": "read",
    "InMemoryUserRepository": "repository",
    "UserRepository": "repository",
    "Overview": "review",
    "Review": "review",
    "SqlUserRepository": "sql",
    "Issue": "validation",
    "IssueCode": "validation",
    "ValidationReport": "validation",
    "validate": "review",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        if name in __all__:  # the exceptions
            module = "errors"
        else:
            raise AttributeError(f"module 'userimport' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names only (``__all__`` and ``__version__``), for completion in notebooks."""
    return sorted([*__all__, "__version__"])

"""
The one exception hierarchy of userimport.

Every error the library raises on purpose derives from :class:`UserImportError`.
Problems *inside* the data (a missing email on row 7) are not exceptions: they are
:class:`~userimport.validation.Issue` values gathered in a review. Exceptions are raised
only when work must stop.

::

    UserImportError
    ├── ReadError                 (also ValueError) the file cannot be read as a table
    │   ├── FileFormatError       not a CSV/XLSX we can read, encrypted, legacy .xls, ...
    │   ├── EncodingError         the bytes cannot be decoded with the given/guessed encoding
    │   └── RowLimitError         more data rows than ``max_rows``
    ├── HeaderError               (also ValueError) a header row that does not exist
    ├── MappingError              (also ValueError) unknown property, unknown column, ...
    ├── ValidationFailed          strict validation found problems (carries ``report``)
    ├── ReviewError               (also ValueError) an edit of a row or field that does not exist
    ├── SettingsError             (also ValueError) an impossible import setting
    ├── PlanError                 a plan that must not be applied
    │   ├── StalePlanError        the store changed since the plan was made
    │   └── DeletionLimitError    the plan deletes more users than allowed
    └── RepositoryError           the store failed or refused a change set
        ├── UserNotFoundError     (also KeyError) no user with that email
        └── CommitOutcomeUnknown  the reply to a commit was lost: it may or may not have landed

Each exception carries its context as keyword-only attributes (``path``, ``row``,
``column``, ...), and its message names them.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CommitOutcomeUnknown",
    "DeletionLimitError",
    "EncodingError",
    "FileFormatError",
    "HeaderError",
    "MappingError",
    "PlanError",
    "ReadError",
    "RepositoryError",
    "ReviewError",
    "RowLimitError",
    "SettingsError",
    "StalePlanError",
    "UserImportError",
    "UserNotFoundError",
    "ValidationFailed",
]


class UserImportError(Exception):
    """
    Base class of every error userimport raises on purpose.

    Args:
        message: What went wrong, naming the file, row and column where known.
        path: The file concerned, if any.
        row: The row as a person sees it in the spreadsheet (1-based), if any.
        column: The column (header text or position), if any.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        row: int | None = None,
        column: str | int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.row = row
        self.column = column

    def __str__(self) -> str:
        return self.message


class ReadError(UserImportError, ValueError):
    """The source cannot be read as a table."""


class FileFormatError(ReadError):
    """The source is not a CSV or XLSX file that can be read (or is encrypted, legacy, ...)."""


class EncodingError(ReadError):
    """The bytes cannot be decoded with the given or guessed encoding."""


class RowLimitError(ReadError):
    """
    The source holds more data rows than the limit.

    Args:
        limit: The ``max_rows`` in force.
    """

    def __init__(self, message: str, *, limit: int, path: str | None = None) -> None:
        super().__init__(message, path=path)
        self.limit = limit


class HeaderError(UserImportError, ValueError):
    """A header row was asked for that the table does not have."""


class MappingError(UserImportError, ValueError):
    """A column mapping that cannot work: unknown property or column, a required one missing."""


class ValidationFailed(UserImportError):
    """
    Strict validation found problems in the data.

    Args:
        report: The :class:`~userimport.validation.ValidationReport` with every issue.
    """

    def __init__(self, message: str, *, report: Any, path: str | None = None) -> None:
        super().__init__(message, path=path)
        self.report = report


class ReviewError(UserImportError, ValueError):
    """An edit, skip or lookup of a row or field that the review does not have."""


class SettingsError(UserImportError, ValueError):
    """An import setting with an impossible value."""


class PlanError(UserImportError):
    """A plan that must not be applied as it is."""


class StalePlanError(PlanError):
    """
    The store changed since the plan was made; plan again.

    Args:
        expected: The version the plan was made against.
        actual: The version the store has now.
    """

    def __init__(self, message: str, *, expected: str, actual: str) -> None:
        super().__init__(message)
        self.expected = expected
        self.actual = actual


class DeletionLimitError(PlanError):
    """
    The plan deletes more users than ``ImportSettings.max_deletes`` allows.

    Args:
        deletes: How many users the plan would delete.
        limit: The limit in force.
    """

    def __init__(self, message: str, *, deletes: int, limit: int) -> None:
        super().__init__(message)
        self.deletes = deletes
        self.limit = limit


class RepositoryError(UserImportError):
    """The user store failed, or refused a change set as inconsistent."""


class UserNotFoundError(RepositoryError, KeyError):
    """No user with that email in the store."""

    def __str__(self) -> str:  # KeyError would quote the message
        return self.message


class CommitOutcomeUnknown(RepositoryError):
    """
    The connection was lost while a commit was being made, and reconnecting could not tell
    whether the change set was written: it is either wholly in the store or not at all.

    To find out, read the store's version once it can be reached again: it is ``version``
    if the commit landed, ``expected`` if nothing was written (any other version: another
    writer has committed since; check the changes themselves, e.g. by planning the same
    file again: an empty plan means the import is in the store).

    Args:
        version: The version the store has if the commit landed.
        expected: The version the store had before the commit.
    """

    def __init__(self, message: str, *, version: str, expected: str) -> None:
        super().__init__(message)
        self.version = version
        self.expected = expected

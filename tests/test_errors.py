"""The one exception hierarchy, as drawn in errors.py and docs/exceptions.md."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

import userimport
from userimport import errors


def exception_classes() -> list[type[BaseException]]:
    return [
        obj
        for name, obj in vars(errors).items()
        if inspect.isclass(obj) and issubclass(obj, BaseException) and name in errors.__all__
    ]


@pytest.mark.parametrize("cls", exception_classes(), ids=lambda c: c.__name__)
def test_every_error_is_a_user_import_error(cls: type[BaseException]) -> None:
    """Every exception the library raises on purpose derives from UserImportError."""
    assert issubclass(cls, errors.UserImportError)


@pytest.mark.parametrize("cls", exception_classes(), ids=lambda c: c.__name__)
def test_the_tree_is_drawn_in_the_docs(cls: type[BaseException]) -> None:
    """Each exception appears in the tree of errors.py's docstring and of docs/exceptions.md."""
    assert cls.__name__ in (errors.__doc__ or "")
    docs = Path(__file__).resolve().parents[1] / "docs" / "exceptions.md"
    assert cls.__name__ in docs.read_text(encoding="utf-8")


def test_built_in_bases() -> None:
    """Errors that fit a built-in also derive from it."""
    assert issubclass(errors.MappingError, ValueError)
    assert issubclass(errors.ReadError, ValueError)
    assert issubclass(errors.UserNotFoundError, KeyError)


def test_context_attributes_and_message() -> None:
    """Errors carry their context as attributes, and str() is the plain message."""
    e = errors.UserNotFoundError("no user x@y.no", path="f.csv", row=4, column="Email")
    assert ("f.csv", 4, "Email", "no user x@y.no") == (e.path, e.row, e.column, str(e))
    limit = errors.RowLimitError("too many rows", limit=10, path="big.csv")
    assert (10, "big.csv") == (limit.limit, limit.path)


def test_top_level_exports_every_error() -> None:
    """Every error is importable from the top level."""
    for cls in exception_classes():
        assert getattr(userimport, cls.__name__) is cls

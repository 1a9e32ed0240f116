"""The public API: sorted __all__ everywhere, every name importable, import kept light."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys

import pytest

import userimport

MODULES = sorted(
    m.name
    for m in pkgutil.iter_modules(userimport.__path__, "userimport.")
    if not m.name.split(".")[-1].startswith("_")
)


def isort_key(name: str) -> tuple[int, str]:
    """The order ruff's RUF022 keeps: CONSTANTS, then Classes, then functions."""
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def test_top_level_all_is_sorted_and_complete() -> None:
    """userimport.__all__ is sorted, and every name in it resolves."""
    assert sorted(userimport.__all__, key=isort_key) == userimport.__all__
    for name in userimport.__all__:
        assert getattr(userimport, name) is not None


def test_design_contract_names() -> None:
    """The names of the design contract are all public."""
    contract = {
        "read_table", "RawTable", "detect_header", "HeaderGuess", "suggest_mapping",
        "ColumnMapping", "validate", "Review", "ImportSettings", "plan_import", "Plan",
        "apply_plan", "ApplyResult", "import_file", "User", "UserRepository",
        "InMemoryUserRepository", "UserImportError", "FileFormatError", "RowLimitError",
        "StalePlanError",
    }  # fmt: skip
    assert contract <= set(userimport.__all__)


@pytest.mark.parametrize("name", MODULES)
def test_module_all_is_sorted_and_defined(name: str) -> None:
    """Every public module has a sorted __all__ whose names exist."""
    module = importlib.import_module(name)
    exported = module.__all__
    assert sorted(exported, key=isort_key) == list(exported)
    for item in exported:
        assert hasattr(module, item), f"{name}.{item}"


@pytest.mark.parametrize("name", MODULES)
def test_public_names_have_docstrings(name: str) -> None:
    """Every public module, class and function has a docstring."""
    module = importlib.import_module(name)
    assert module.__doc__
    for item in module.__all__:
        obj = getattr(module, item)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert obj.__doc__, f"{name}.{item} has no docstring"


def test_import_is_light() -> None:
    """import userimport loads none of the libraries behind its stages, the store or the CLI."""
    code = (
        "import sys, userimport; "
        "heavy = {'pandas', 'pyarrow', 'pandera', 'openpyxl', 'rapidfuzz', 'numpy', "
        "'sqlalchemy', 'click', 'rich', 'hypothesis', 'email_validator', 'python_calamine', "
        "'confusable_homoglyphs', 'smtplib'}; "
        "heavy &= set(sys.modules); "
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "[]" == out.stdout.strip()


def test_dir_lists_only_public_names() -> None:
    """dir(userimport) is __all__ and __version__: no helpers, typing names or submodules."""
    import userimport
    from userimport import read  # noqa: F401  (a loaded submodule stays out of dir)

    assert sorted([*userimport.__all__, "__version__"]) == dir(userimport)

"""Docs that cannot drift: docstring examples run, and the docs name what the code has."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import userimport
from userimport.testing import UserRepositoryContract

DOCS = Path(__file__).resolve().parents[1] / "docs"
MODULES = sorted(m.name for m in pkgutil.iter_modules(userimport.__path__, "userimport."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    """Every >>> example in a module's docstrings gives what it shows."""
    module = importlib.import_module(name)
    failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert 0 == failures


def test_issue_codes_are_documented() -> None:
    """Every IssueCode is listed in docs/review.md."""
    text = (DOCS / "review.md").read_text(encoding="utf-8")
    for code in userimport.IssueCode:
        assert f"`{code.value}`" in text


def test_settings_are_documented() -> None:
    """Every ImportSettings field is shown in docs/planning.md."""
    import attrs

    text = (DOCS / "planning.md").read_text(encoding="utf-8")
    for field in attrs.fields(userimport.ImportSettings):
        assert f"{field.name}=" in text


def test_doc_links_resolve() -> None:
    """Every relative link in docs/ points at a file that exists."""
    import re

    for page in DOCS.glob("*.md"):
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


def test_guarantees_name_tests_that_exist() -> None:
    """Every test docs/guarantees.md names as a proof exists."""
    import re

    root = DOCS.parent
    text = (DOCS / "guarantees.md").read_text(encoding="utf-8")
    proofs = re.findall(r"`(tests/test_\w+\.py)::(test_\w+)`", text)
    assert len(proofs) >= 15
    for path, name in proofs:
        source = (root / path).read_text(encoding="utf-8")
        # A contract test runs in every test module that subclasses the shipped suite.
        shipped = "(UserRepositoryContract)" in source and hasattr(UserRepositoryContract, name)
        assert f"def {name}(" in source or shipped, f"{path}::{name} is gone"


def python_blocks(page: Path) -> list[str]:
    """The ```python blocks of a page, in order."""
    import re

    return re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S)


PAGES = [p for p in [DOCS.parent / "README.md", *sorted(DOCS.glob("*.md"))] if python_blocks(p)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_doc_examples_run(page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every Python example in the docs runs, in order, next to a staff.csv and staff.xlsx."""
    from importlib import resources

    monkeypatch.chdir(tmp_path)
    sample = resources.files("userimport").joinpath("data/sample_users.csv").read_bytes()
    (tmp_path / "staff.csv").write_bytes(sample)
    store = userimport.InMemoryUserRepository()
    userimport.import_file(sample, store, dry_run=False)
    userimport.export_users(store, tmp_path / "staff.xlsx")
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for block in python_blocks(page):
        exec(compile(block, str(page), "exec"), namespace)


def test_example_notebook_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/example.ipynb runs as shipped, beside its staff.csv, in a real Jupyter kernel."""
    import shutil

    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    import nbformat
    from nbclient import NotebookClient

    for name in ("example.ipynb", "staff.csv"):
        shutil.copy(DOCS / name, tmp_path / name)
    notebook = nbformat.read(tmp_path / "example.ipynb", as_version=4)
    client = NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()  # raises CellExecutionError, with the traceback, if any cell fails
    results = [
        output["data"]
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "execute_result"
    ]
    assert any("<table" in r.get("text/html", "") for r in results)
    assert "True" == results[-1]["text/plain"]

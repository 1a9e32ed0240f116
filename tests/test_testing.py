"""userimport.testing: the shipped contract suite runs from an app's own tests."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"


class Outcomes:
    """A pytest plugin that keeps the outcome of every test it sees run."""

    def __init__(self) -> None:
        self.outcomes: dict[str, str] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" or report.outcome != "passed":
            self.outcomes[report.nodeid] = report.outcome


def run_suite(module: Path, *options: str) -> dict[str, str]:
    """Run the tests of ``module`` in a pytest of their own; their outcomes by node id."""
    (module.parent / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    outcomes = Outcomes()
    args = [str(module), "-q", "-p", "no:cacheprovider", "--import-mode=importlib"]
    pytest.main([*args, "--rootdir", str(module.parent), *options], plugins=[outcomes])
    return outcomes.outcomes


def test_the_worked_example_is_proven_by_the_suite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/repository.md's app store and its test class pass every contract test."""
    blocks = re.findall(
        r"```python\n(.*?)```", (DOCS / "repository.md").read_text(encoding="utf-8"), re.S
    )
    assert any("(UserRepositoryContract)" in block for block in blocks)
    sample = resources.files("userimport").joinpath("data/sample_users.csv").read_bytes()
    (tmp_path / "staff.csv").write_bytes(sample)
    module = tmp_path / "test_app_users.py"
    module.write_text("\n\n".join(blocks), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    outcomes = run_suite(module)
    assert 20 <= len(outcomes)
    assert {"passed"} == set(outcomes.values())


def test_a_store_that_breaks_the_contract_fails_it(tmp_path: Path) -> None:
    """A store that forgets a user's groups fails the suite, naming the tests it breaks."""
    module = tmp_path / "test_forgetful.py"
    module.write_text(
        "import attrs\n"
        "import pytest\n"
        "from userimport import InMemoryUserRepository, User\n"
        "from userimport.testing import UserRepositoryContract\n\n\n"
        "class Forgetful(InMemoryUserRepository):\n"
        "    def commit(self, changes, *, expected_version):\n"
        "        forgot = [User(email=u.email) for u in changes.create]\n"
        "        changes = attrs.evolve(changes, create=forgot)\n"
        "        return super().commit(changes, expected_version=expected_version)\n\n\n"
        "class TestForgetful(UserRepositoryContract):\n"
        "    @pytest.fixture\n"
        "    def repository(self):\n"
        "        return Forgetful()\n",
        encoding="utf-8",
    )
    # Not the hypothesis test: it would fail too, but shrink its example for a long while.
    outcomes = run_suite(module, "-k", "test_initial_content or test_create_update_delete")
    prefix = f"{module.name}::TestForgetful::"
    assert "failed" == outcomes[prefix + "test_initial_content"]
    assert "failed" == outcomes[prefix + "test_create_update_delete"]


def test_a_suite_without_a_repository_fixture_says_so(tmp_path: Path) -> None:
    """Subclassing without overriding the fixture fails with a message naming the class."""
    module = tmp_path / "test_unfinished.py"
    module.write_text(
        "from userimport.testing import UserRepositoryContract\n\n\n"
        "class TestUnfinished(UserRepositoryContract):\n"
        "    pass\n",
        encoding="utf-8",
    )
    outcomes = run_suite(module)
    assert outcomes
    assert {"failed"} == set(outcomes.values())


def test_userimport_does_not_import_pytest_or_hypothesis() -> None:
    """import userimport, and every store, leave pytest and hypothesis unloaded."""
    code = (
        "import sys, userimport; "
        "from userimport import InMemoryUserRepository, SqlUserRepository, import_file; "
        "import userimport.sql, userimport.repository; "
        "print(sorted({'pytest', 'hypothesis', '_pytest'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "[]" == out.stdout.strip()

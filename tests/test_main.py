"""python -m userimport demo: the README's first command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from userimport.cli import cli


def test_demo_imports_the_sample_then_has_nothing_to_do(tmp_path: Path) -> None:
    """The demo imports the shipped sample into the store; run again, it has nothing to do."""
    db = f"sqlite:///{tmp_path / 'users.db'}"
    first = CliRunner().invoke(cli, ["--db", db, "demo"])
    assert 0 == first.exit_code, first.output
    assert "create 8" in first.output
    assert "Applied: 8 created" in first.output
    assert "Planning the same file again: nothing to do." in first.output
    second = CliRunner().invoke(cli, ["--db", db, "demo"])
    assert "Nothing to change." in second.output


def test_python_dash_m(tmp_path: Path) -> None:
    """python -m userimport runs the command line."""
    db = f"sqlite:///{tmp_path / 'users.db'}"
    out = subprocess.run(
        [sys.executable, "-m", "userimport", "--db", db, "demo"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "Applied:" in out.stdout


def test_without_the_cli_extra_the_command_says_what_to_install() -> None:
    """With click missing, the console script's entry point names the extra, with no traceback."""
    code = (
        "import sys; sys.modules['click'] = None\n"
        "from userimport.__main__ import main\n"
        "sys.exit(main())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert 4 == out.returncode
    assert "pip install 'userimport[cli]'" in out.stderr
    assert "Traceback" not in out.stderr


def test_console_script_goes_through_the_friendly_entry_point() -> None:
    """The userimport script starts in __main__.main, which catches a missing extra."""
    import tomllib

    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert "userimport.__main__:main" == pyproject["project"]["scripts"]["userimport"]

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


def test_the_script_holds_the_collector_until_the_libraries_are_loaded(tmp_path: Path) -> None:
    """The script's plan turns the collector off at start and on again before it reads data."""
    path = tmp_path / "staff.csv"
    path.write_text("First name,Last name,Email,Department\nKari,Dahl,kari@firma.no,HR\n")
    db = f"sqlite:///{tmp_path / 'users.db'}"
    code = (
        "import gc, sys, userimport.read as r\n"
        "seen = []\n"
        "read = r.read_table\n"
        "def spy(*a, **k):\n"
        "    seen.append(gc.isenabled())\n"
        "    return read(*a, **k)\n"
        "r.read_table = spy\n"
        "import userimport.pipeline as p; p.read_table = spy\n"
        "import userimport._cliopts as o\n"
        "load = o.load_pandera\n"
        "def spy_load():\n"
        "    seen.append(gc.isenabled())\n"
        "    load()\n"
        "o.load_pandera = spy_load\n"
        "from userimport.__main__ import main\n"
        f"sys.argv = ['userimport', '--db', {db!r}, '--create', 'plan', {str(path)!r}]\n"
        "code = main()\n"
        "print(code, seen, gc.isenabled(), gc.get_freeze_count() > 0)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "0 [False, True] True True" == out.stdout.splitlines()[-1]


def test_hold_and_release_collector() -> None:
    """release_collector turns on what hold_collector turned off, freezing what is alive."""
    import gc

    from userimport._cliopts import hold_collector, release_collector

    try:
        hold_collector()
        assert not gc.isenabled()
        release_collector()
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0
        gc.disable()
        release_collector()  # nothing held: leaves the collector as it is
        assert not gc.isenabled()
    finally:
        gc.unfreeze()
        gc.enable()


def test_a_command_that_does_not_validate_releases_the_collector_at_once(tmp_path: Path) -> None:
    """Commands other than plan and import turn the held collector on before they run."""
    import gc

    from userimport._cliopts import hold_collector

    db = f"sqlite:///{tmp_path / 'users.db'}"
    try:
        hold_collector()
        result = CliRunner().invoke(cli, ["--db", db, "--create", "users"])
        assert 0 == result.exit_code, result.output
        assert gc.isenabled()
    finally:
        gc.unfreeze()
        gc.enable()


def test_the_script_gives_arrow_the_system_allocator_unless_told_otherwise(
    tmp_path: Path,
) -> None:
    """Arrow's pool is the C library's in the script, or the one the environment names."""
    import os

    path = tmp_path / "staff.csv"
    path.write_text("First name,Last name,Email,Department\nKari,Dahl,kari@firma.no,HR\n")
    db = f"sqlite:///{tmp_path / 'users.db'}"
    code = (
        "import os, sys\n"
        "from userimport.__main__ import main\n"
        f"sys.argv = ['userimport', '--db', {db!r}, '--create', 'plan', {str(path)!r}]\n"
        "code = main()\n"
        "import pyarrow as pa\n"
        "print(code, pa.default_memory_pool().backend_name,"
        " os.environ.get('ARROW_DEFAULT_MEMORY_POOL'))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    ours = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert "0 system None" == ours.stdout.splitlines()[-1]
    env["ARROW_DEFAULT_MEMORY_POOL"] = "mimalloc"
    theirs = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert "0 mimalloc mimalloc" == theirs.stdout.splitlines()[-1]

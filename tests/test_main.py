"""python -m userimport demo: the README's first command."""

from __future__ import annotations

import subprocess
import sys

from userimport.__main__ import main


def test_demo_runs_on_the_sample(capsys) -> None:  # type: ignore[no-untyped-def]
    """The demo reads the shipped sample, shows problems, applies, and re-plans to nothing."""
    assert 0 == main(["demo"])
    out = capsys.readouterr().out
    assert "Rows: 8 valid, 2 with problems" in out
    assert "update anna.berg@example.com" in out
    assert "Planning the same file again: nothing to do" in out


def test_demo_reports_a_bad_file(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """A file that cannot be read gives a one-line error and exit code 1."""
    bad = tmp_path / "empty.csv"
    bad.write_bytes(b"")
    assert 1 == main(["demo", str(bad)])
    assert capsys.readouterr().err.startswith("error: ")


def test_python_dash_m() -> None:
    """python -m userimport runs as a module."""
    out = subprocess.run(
        [sys.executable, "-m", "userimport", "demo"], capture_output=True, text=True, check=True
    )
    assert "Applied:" in out.stdout

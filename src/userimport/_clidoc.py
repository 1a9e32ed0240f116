"""
Generate the CLI reference (``docs/cli-reference.md``) from the commands' ``--help``.

Run ``python -m userimport._clidoc > docs/cli-reference.md``; a test fails when the file is
stale, so the reference cannot drift from the code.
"""

from __future__ import annotations

import click
from click.testing import CliRunner

from .cli import cli

__all__ = ["reference"]


def _paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for name in sorted(group.commands):
        command = group.commands[name]
        out.append((*prefix, name))
        if isinstance(command, click.Group):
            out += _paths(command, (*prefix, name))
    return out


def reference() -> str:
    """The Markdown reference: every command's help, in order."""
    runner = CliRunner()
    parts = [
        "# CLI reference",
        "",
        "Generated from `--help` by `python -m userimport._clidoc`; do not edit by hand.",
        "",
        "## userimport",
        "",
        "```",
        runner.invoke(cli, ["--help"], terminal_width=100, prog_name="userimport").output.rstrip(),
        "```",
    ]
    for path in _paths(cli):
        result = runner.invoke(cli, [*path, "--help"], terminal_width=100, prog_name="userimport")
        parts += ["", f"## userimport {' '.join(path)}", "", "```", result.output.rstrip(), "```"]
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    print(reference(), end="")

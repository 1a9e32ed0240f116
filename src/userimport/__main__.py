"""
``python -m userimport``: the command line.

For now it has one command, ``demo``, which runs the whole pipeline on the sample file shipped
with the package (or on a file you name) against an in-memory store, and shows each stage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import resources

__all__ = ["demo", "main"]


def demo(path: str | None = None) -> int:
    """Run read, header, mapping, validation, plan, apply and re-plan, printing each stage."""
    from . import (
        ImportSettings,
        InMemoryUserRepository,
        User,
        UserImportError,
        apply_plan,
        detect_header,
        plan_import,
        read_table,
        suggest_mapping,
        validate,
    )

    try:
        if path is None:
            source = resources.files("userimport").joinpath("data/sample_users.csv")
            data, name = source.read_bytes(), "sample_users.csv"
            table = read_table(data)
        else:
            table = read_table(path)
            name = path
        guess = detect_header(table)
        mapping = suggest_mapping(table, guess.row)
        review = validate(table, guess.row, mapping)
        print(
            f"Read {name}: {len(table.rows)} rows ({table.format}, {table.encoding}, "
            f"delimiter {table.delimiter!r}); header row {guess.row}"
        )
        print("\nMapping:\n" + mapping.explain())
        overview = review.overview()
        print(f"\nRows: {overview.valid} valid, {overview.invalid} with problems")
        for message in review.issues["message"]:
            print(f"  {message}")
        repo = InMemoryUserRepository(
            [
                User(
                    email="anna.berg@example.com",
                    first_name="Anna",
                    last_name="Berg",
                    department="Marketing",
                    groups={"Oslo"},
                )
            ]
        )
        plan = plan_import(review, repo, ImportSettings())
        print("\n" + plan.describe())
        result = apply_plan(plan, repo)
        print(
            f"\nApplied: {result.created} created, {result.updated} updated, "
            f"{result.deleted} deleted; store version {result.version}"
        )
        again = plan_import(review, repo, ImportSettings())
        outcome = "nothing to do" if again.is_empty else again.summary()
        print(f"Planning the same file again: {outcome}")
    except UserImportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the command."""
    parser = argparse.ArgumentParser(prog="userimport", description=__doc__.splitlines()[1])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("demo", help="run the whole pipeline on a sample file, in memory")
    run.add_argument("file", nargs="?", help="a CSV or XLSX file (default: the sample)")
    args = parser.parse_args(argv)
    return demo(args.file)


if __name__ == "__main__":
    sys.exit(main())

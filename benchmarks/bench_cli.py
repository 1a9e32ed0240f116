"""
Whole processes: the command line against the API and against loading the libraries (issue 17).

Each round runs, as separate processes, in alternating order:

- ``base``: ``python -c "import pandas, pandera"``, the libraries every import loads;
- ``api``: ``import_file(FILE, SqlUserRepository(new store), dry_run=False, max_rows=None)``;
- ``cli``: ``userimport --db NEW --create import FILE --yes --max-rows none --undo-out U``
  (reads, validates, plans, applies and saves the signed undo plan);
- ``plan30`` (when 5,000 rows are measured): ``userimport plan`` of a 30-row file against a
  store of the 5,000 users;
- ``sqlite-utils`` (with ``--sqlite-utils PATH``, from an environment of its own):
  ``sqlite-utils upsert NEW users FILE --csv --pk email``, one table, groups as text;
- ``cli-before`` and ``plan30-before`` (with ``--before SRC``): the same two commands run
  from another copy of the sources (a folder holding a ``userimport`` package, put first on
  ``PYTHONPATH``), such as the previous commit's ``git archive``: a before/after in the same
  rounds, byte-compiled alike.

It prints each contender's median time and peak memory, and the median of the per-round
differences and ratios with their minimum and maximum, with the machine's load. The package's
sources are byte-compiled first, as an installed wheel's are.

    .venv/bin/python benchmarks/bench_cli.py                          # start-up, 5,000 rows
    .venv/bin/python benchmarks/bench_cli.py --rows 100000 --rounds 3
    git archive HEAD~3 src | tar -x -C /tmp/before
    .venv/bin/python benchmarks/bench_cli.py --before /tmp/before/src     # before/after
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import sys
import tempfile
from pathlib import Path

from _rounds import Load, Spread, alternate, differences, log, machine_line, process, ratios

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def generate(n: int, path: Path) -> None:
    """The shared generator's initial file of ``n`` users (seed 42)."""
    gen = os.environ.get("USERIMPORT_BENCH_GEN") or str(ROOT.parent / "shared/bench/gen_users.py")
    if not Path(gen).exists():
        gen = "/work/shared/bench/gen_users.py"
    process([sys.executable, gen, str(n), "42", str(path)])


def api(file: str, db: str) -> int:
    """The API contender: one import_file call into a new SQLite store."""
    import userimport as ui

    with ui.SqlUserRepository(f"sqlite:///{db}") as repo:
        ui.import_file(file, repo, dry_run=False, max_rows=None)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=None, help="default: 7, or 3 from 100,000")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument(
        "--sqlite-utils",
        metavar="PATH",
        help="also time this sqlite-utils executable (from its own environment): "
        "upsert FILE into a new SQLite file, primary key email, as a peer",
    )
    parser.add_argument(
        "--before",
        metavar="SRC",
        help="also time cli and plan30 from the userimport package in SRC (on PYTHONPATH)",
    )
    parser.add_argument("--api", nargs=2, metavar=("FILE", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.api:
        return api(*args.api)
    rounds = args.rounds or (7 if args.rows < 100_000 else 3)
    compileall.compile_dir(str(ROOT / "src" / "userimport"), quiet=1)
    if args.before:
        compileall.compile_dir(str(Path(args.before) / "userimport"), quiet=1)
    with tempfile.TemporaryDirectory(prefix="userimport-bench-cli-") as tmp:
        work = Path(tmp)
        data = work / "users.csv"
        generate(args.rows, data)
        small = work / "users30.csv"
        generate(30, small)
        store = work / "store.db"
        userimport = str(BIN / "userimport")
        cli = f"--db sqlite:///{work / 'cli.db'} --create import {data} --yes --max-rows none"
        commands = {
            "base": [sys.executable, "-c", "import pandas, pandera"],
            "api": [sys.executable, __file__, "--api", str(data), str(work / "api.db")],
            "cli": [userimport, *cli.split(), "--undo-out", str(work / "undo.json")],
        }
        if args.sqlite_utils:
            commands["sqlite-utils"] = [
                args.sqlite_utils, "upsert", str(work / "su.db"), "users", str(data), "--csv",
                "--pk", "email",
            ]  # fmt: skip
        if args.rows == 5000:
            process([*commands["cli"][:2], f"sqlite:///{store}", *commands["cli"][3:]])
            commands["plan30"] = [userimport, "--db", f"sqlite:///{store}", "plan", str(small)]
        before = {"PYTHONPATH": str(Path(args.before).resolve())} if args.before else {}
        if before:
            for name in [n for n in ("cli", "plan30") if n in commands]:
                commands[f"{name}-before"] = commands[name]

        def run(name: str) -> tuple[float, float, float]:
            for leftover in ("api.db", "cli.db", "undo.json", "su.db"):
                (work / leftover).unlink(missing_ok=True)
            env = {**os.environ, **before} if name.endswith("-before") else None
            return process(commands[name], cwd=work, env=env)

        if args.rows < 100_000:  # warm the file cache; not timed (too long for large files)
            for name in commands:
                run(name)
        load = Load()
        results = alternate(list(commands), run, rounds)
        load.done()
        shutil.rmtree(work, ignore_errors=True)
    print(machine_line())
    print(f"{args.rows:,} rows, {rounds} alternated rounds, {load}")
    print()
    table = [("contender", "wall s: median (min-max)", "CPU s: median (min-max)", "peak MiB")]
    for name in commands:
        wall, cpu, peak = (Spread.of([r[i] for r in results[name]]) for i in range(3))
        table.append((name, wall.seconds(), cpu.seconds(), f"{peak.median:.0f}"))
    compare = []
    pairs = [("cli", "base"), ("api", "base"), ("plan30", "base"), ("cli", "api")]
    pairs += [("cli", "sqlite-utils"), ("cli-before", "base"), ("plan30-before", "base")]
    for a, b in pairs:
        if a not in commands or b not in commands:
            continue
        wall, cpu = (([r[i] for r in results[a]], [r[i] for r in results[b]]) for i in (0, 1))
        if b == "base":
            compare.append(
                (f"{a} - {b}", differences(*wall).seconds(True), differences(*cpu).seconds(True))
            )
        else:
            compare.append((f"{a} / {b}", ratios(*wall).ratio(), ratios(*cpu).ratio()))
    memory = ratios([r[2] for r in results["cli"]], [r[2] for r in results["api"]]).ratio()
    compare.append(("cli / api, peak memory", memory, ""))
    if args.markdown:
        print("| " + " | ".join(table[0]) + " |")
        print("| --- | --- | --- | --- |")
        for row in table[1:]:
            print("| " + " | ".join(row) + " |")
        print()
        print("| per round: median (min to max) | wall clock | CPU |")
        print("| --- | --- | --- |")
        for row in compare:
            print("| " + " | ".join(row) + " |")
    else:
        for row in table:
            print(f"{row[0]:<13} {row[1]:>28} {row[2]:>28} {row[3]:>9}")
        print()
        for row in compare:
            print(f"{row[0]:<24} {row[1]:>34} {row[2]:>34}")
    return 0


if __name__ == "__main__":
    log("bench_cli: start")
    sys.exit(main())

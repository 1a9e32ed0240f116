"""
Stage-by-stage timing of a re-import against an in-memory store, with the floor.

The data comes from ``../shared/bench/gen_users.py`` (used unchanged, so figures compare with
other importers run on it): an initial file of N users, and a modified one where 10% changed
department and groups and 5% are new. The floor is the least work any importer must do on
the same rows: ``pandas.read_csv``, a merge with the current users on email, and one
``executemany`` of the changed rows into SQLite. Every time is printed with its ratio to the
floor measured in the same run.

Usage: python benchmarks/bench_pipeline.py [--rows 5000 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import importlib.util
import resource
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

import userimport as ui

GEN = Path(__file__).resolve().parents[2] / "shared" / "bench" / "gen_users.py"


def generator() -> Any:
    spec = importlib.util.spec_from_file_location("gen_users", GEN)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The fastest of ``repeat`` runs, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def floor(initial: Path, modified: Path) -> int:
    """read_csv + merge on email + one executemany of the changed rows."""
    base = pd.read_csv(initial, dtype=str, keep_default_na=False)
    new = pd.read_csv(modified, dtype=str, keep_default_na=False)
    both = new.merge(base, on="email", how="left", suffixes=("", "_old"), indicator=True)
    changed = both[
        (both["_merge"] == "left_only")
        | (both["department"] != both["department_old"])
        | (both["groups"] != both["groups_old"])
    ]
    con = sqlite3.connect(":memory:")
    con.execute(
        "create table u (email text primary key, first_name, last_name, department, groups)"
    )
    con.executemany(
        "insert or replace into u values (?, ?, ?, ?, ?)",
        changed[["email", "first_name", "last_name", "department", "groups"]].itertuples(
            index=False, name=None
        ),
    )
    con.commit()
    return len(changed)


def store(initial: Path) -> ui.InMemoryUserRepository:
    frame = pd.read_csv(initial, dtype=str, keep_default_na=False)
    users = [
        ui.User(email=e, first_name=f, last_name=last, department=d, groups=g.split(","))
        for e, f, last, d, g in frame[
            ["email", "first_name", "last_name", "department", "groups"]
        ].itertuples(index=False, name=None)
    ]
    repo = ui.InMemoryUserRepository(users)
    _ = repo.snapshot().frame  # built once, as a long-lived store would have it
    return repo


def run(n: int, repeat: int, folder: Path) -> list[tuple[str, int, float, float]]:
    gen = generator()
    initial, modified = folder / f"u{n}.csv", folder / f"m{n}.csv"
    gen.make_users(n, 42, str(initial))
    gen.make_users_modified(n, 42, str(modified))
    repo = store(initial)
    t_floor, _ = best(lambda: floor(initial, modified), repeat)
    t_read, table = best(lambda: ui.read_table(modified, max_rows=None), repeat)
    t_header, header = best(lambda: ui.detect_header(table).row, repeat)
    t_map, mapping = best(lambda: ui.suggest_mapping(table, header), repeat)
    t_validate, review = best(lambda: ui.validate(table, header, mapping), repeat)
    t_plan, plan = best(lambda: ui.plan_import(review, repo), repeat)
    t_changes, _ = best(plan.changeset, repeat)
    total = t_read + t_header + t_map + t_validate + t_plan + t_changes
    rows = [
        ("floor", n, t_floor),
        ("read", n, t_read),
        ("header", n, t_header),
        ("mapping", n, t_map),
        ("validate", n, t_validate),
        ("plan", n, t_plan),
        ("changeset", n, t_changes),
        ("end to end (dry run)", n, total),
    ]
    return [(name, size, t, t / t_floor) for name, size, t in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--rows", type=int, nargs="+", default=[5000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"{'stage':<22} {'rows':>9} {'seconds':>9} {'x floor':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.rows:
            for name, size, seconds, ratio in run(n, args.repeat, Path(tmp)):
                print(f"{name:<22} {size:>9} {seconds:>9.3f} {ratio:>8.2f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

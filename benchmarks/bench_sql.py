"""
SqlUserRepository.commit of N new users into SQLite, against a plain ``sqlite3`` executemany.

Both write the same rows (users, their group memberships and attributes, the groups and the
departments) into the same tables of a fresh file, in one transaction. The baseline is the
least work any store must do; the commit also reads the (empty) store, checks the change set,
and builds the rows from :class:`~userimport.model.User` values. A snapshot of the N users is
timed too (read from the tables, not the repository's cache), against a plain ``SELECT`` of
the same rows.

The four run once per round, in alternating order (see ``_rounds.py``).

Usage: python benchmarks/bench_sql.py [--rows 100000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median

from _rounds import Load, alternate, ratios

from userimport import ChangeSet, SqlUserRepository, User

SCHEMA = """
CREATE TABLE meta (id INTEGER PRIMARY KEY, version TEXT NOT NULL, schema_version INTEGER NOT NULL);
CREATE TABLE groups (name TEXT PRIMARY KEY);
CREATE TABLE departments (name TEXT PRIMARY KEY);
CREATE TABLE users (key TEXT PRIMARY KEY, email TEXT NOT NULL, first_name TEXT NOT NULL,
    last_name TEXT NOT NULL, department TEXT REFERENCES departments (name),
    is_admin BOOLEAN NOT NULL);
CREATE TABLE memberships (user_key TEXT REFERENCES users (key) ON DELETE CASCADE,
    group_name TEXT REFERENCES groups (name), PRIMARY KEY (user_key, group_name));
CREATE TABLE attributes (user_key TEXT REFERENCES users (key) ON DELETE CASCADE,
    name TEXT, value TEXT NOT NULL, PRIMARY KEY (user_key, name));
"""


def make_users(n: int) -> list[User]:
    """N users with a department, one or two groups and an attribute each."""
    return [
        User(
            email=f"User.{i}@Firma.no",
            first_name=f"First{i}",
            last_name=f"Last{i}",
            department=f"Dept {i % 50}",
            groups={f"Group {i % 20}", f"Group {i % 7}"},
            is_admin=i % 1000 == 0,
            attributes={"employee_no": str(i)},
        )
        for i in range(n)
    ]


def changes_for(users: list[User]) -> ChangeSet:
    """The change set that creates ``users`` with their groups and departments."""
    return ChangeSet(
        create=users,
        create_groups=set().union(*(u.groups for u in users)),
        create_departments={u.department for u in users if u.department},
    )


def baseline(path: Path, changes: ChangeSet) -> None:
    """Write the same rows with sqlite3 executemany in one transaction."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.executescript(SCHEMA)
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT INTO groups VALUES (?)", [(g,) for g in changes.create_groups])
        db.executemany(
            "INSERT INTO departments VALUES (?)", [(d,) for d in changes.create_departments]
        )
        db.executemany(
            "INSERT INTO users VALUES (?, ?, ?, ?, ?, ?)",
            [
                (u.key, u.email, u.first_name, u.last_name, u.department, u.is_admin)
                for u in changes.create
            ],
        )
        db.executemany(
            "INSERT INTO memberships VALUES (?, ?)",
            [(u.key, g) for u in changes.create for g in u.groups],
        )
        db.executemany(
            "INSERT INTO attributes VALUES (?, ?, ?)",
            [(u.key, k, v) for u in changes.create for k, v in u.attributes.items()],
        )
        db.execute("INSERT INTO meta VALUES (1, 'v', 1)")
        db.execute("COMMIT")
    finally:
        db.close()


def baseline_read(path: Path) -> None:
    """Read the same rows back with plain SELECTs."""
    db = sqlite3.connect(path)
    try:
        for table in ("users", "memberships", "attributes", "groups", "departments"):
            db.execute(f"SELECT * FROM {table}").fetchall()
    finally:
        db.close()


def fresh(run: Callable[[Path], None]) -> float:
    """The wall time of ``run`` on a fresh file."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "users.db"
        started = time.perf_counter()
        run(path)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    changes = changes_for(make_users(args.rows))

    def through_commit(path: Path) -> None:
        with SqlUserRepository(f"sqlite:///{path}") as repo:
            repo.commit(changes, expected_version=repo.snapshot().version)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "users.db"
        through_commit(path)
        # Uncached: every snapshot reads the tables (a cached one would take a single SELECT).
        with SqlUserRepository(f"sqlite:///{path}", cache=False) as repo:
            repo.snapshot()  # the first one creates nothing, but warms the engine
            work: dict[str, Callable[[], float]] = {
                "sqlite3 executemany (floor)": lambda: fresh(lambda p: baseline(p, changes)),
                "SqlUserRepository.commit": lambda: fresh(through_commit),
                "sqlite3 SELECT (floor)": lambda: _timed(lambda: baseline_read(path)),
                "SqlUserRepository.snapshot": lambda: _timed(repo.snapshot),
            }
            load = Load()
            times = alternate(list(work), lambda name: work[name](), args.rounds)
            load.done()

    print(f"{args.rows:,} users, {args.rounds} alternated rounds (median s; per-round ratio)")
    print(load)
    write, read = times["sqlite3 executemany (floor)"], times["sqlite3 SELECT (floor)"]
    for name, floor in (
        ("sqlite3 executemany (floor)", write),
        ("SqlUserRepository.commit", write),
        ("sqlite3 SELECT (floor)", read),
        ("SqlUserRepository.snapshot", read),
    ):
        print(f"{name:34} {median(times[name]):8.3f} s  {ratios(times[name], floor).ratio()}")


def _timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()

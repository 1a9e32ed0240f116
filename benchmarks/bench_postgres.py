"""
A 100,000-user import into PostgreSQL against set-based SQL floors into the same schema.

Two scenarios, each on a database made afresh (``CREATE DATABASE ... TEMPLATE``, untimed)
before every timed run:

* fresh: an empty store (the tables ``SqlUserRepository`` creates), N new users;
* re-import: a store of the N users, the same file with 15% of the rows changed (5% a new
  first name, 5% another department, 5% other groups).

Contenders, each given the same rows already in memory:

* ``userimport``: ``plan_import(review, SqlUserRepository(url))`` then ``apply_plan`` (a new
  repository each run, so the snapshot is read from the database; the review is made once);
* ``floor``: one transaction that ``COPY``s every row into a temporary staging table, then
  writes the same tables set-based (``departments``, ``groups``, ``users``, ``memberships``
  with ``INSERT ... ON CONFLICT``, and a new ``meta.version``); on a re-import it diffs first
  and writes only what differs (``IS DISTINCT FROM``, memberships added and removed);
* ``one table``: the same rows ``COPY``d into a staging table and upserted into one wide
  table (groups as text), so the cost of the schema stays visible.

The contenders alternate (A B C, then C B A, ...), and the figure is the median of the
per-round ratios ``userimport / floor`` with its min and max; the load average is printed
before and after.

Usage: USERIMPORT_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:54330/postgres \
    python benchmarks/bench_postgres.py [--rows 100000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import psycopg

from userimport import (
    SqlUserRepository,
    apply_plan,
    detect_header,
    plan_import,
    read_table,
    suggest_mapping,
    validate,
)
from userimport.review import Review

HEADER = ("Email", "First Name", "Last Name", "Department", "Groups")
Row = tuple[str, str, str, str, str]


def make_rows(n: int, *, changed: bool) -> list[Row]:
    """N users (department, one or two groups); ``changed``: 15% of them differ."""
    rows = []
    for i in range(n):
        first, dept, groups = f"First{i}", f"Dept {i % 50}", f"Group {i % 20};Group {i % 7}"
        if changed and i % 20 == 0:
            first = f"Renamed{i}"
        elif changed and i % 20 == 1:
            dept = f"Dept {(i + 1) % 50}"
        elif changed and i % 20 == 2:
            groups = f"Group {(i + 3) % 20}"
        rows.append((f"user.{i}@firma.no", first, f"Last{i}", dept, groups))
    return rows


def review_of(rows: Sequence[Row], folder: Path) -> Review:
    """The review of ``rows`` written as a CSV file, read as an import reads it."""
    path = folder / f"users-{uuid.uuid4().hex}.csv"
    lines = [",".join(HEADER), *(",".join(row) for row in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    table = read_table(path, max_rows=None)
    header = detect_header(table).row
    mapping = suggest_mapping(table, header).with_group_separator(";")
    return validate(table, header, mapping)


def url_of(base: str, database: str) -> str:
    """``base`` with another database name."""
    return base.rsplit("/", 1)[0] + "/" + database


class Databases:
    """Templates of the stores, and a database made from one before each run."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.admin = psycopg.connect(base, autocommit=True)

    def recreate(self, name: str, template: str | None = None) -> str:
        """Drop and create ``name`` (from ``template``); return its URL."""
        self.admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        source = f" TEMPLATE {template}" if template else ""
        self.admin.execute(f"CREATE DATABASE {name}{source}")
        return url_of(self.base, name)

    def template(self, name: str, rows: Sequence[Row] | None, folder: Path) -> None:
        """A store with the schema (and the users of ``rows``), and a one-table copy of them."""
        url = self.recreate(name)
        with SqlUserRepository(url) as repo:
            if rows:
                apply_plan(plan_import(review_of(rows, folder), repo), repo)
            else:
                repo.snapshot()
        with psycopg.connect(url) as conn:
            conn.execute(
                "CREATE TABLE wide (key text PRIMARY KEY, email text NOT NULL, "
                "first_name text NOT NULL, last_name text NOT NULL, department text, "
                "groups text NOT NULL)"
            )
            with conn.cursor().copy("COPY wide FROM STDIN") as copy:
                for row in rows or ():
                    copy.write_row((row[0].lower(), *row))

    def close(self) -> None:
        self.admin.close()


def staged(conn: psycopg.Connection[Any], rows: Sequence[Row]) -> None:
    """COPY ``rows`` into the temporary table ``stage`` (key, email, names, dept, groups)."""
    conn.execute(
        "CREATE TEMP TABLE stage (key text, email text, first_name text, last_name text, "
        "department text, groups text[]) ON COMMIT DROP"
    )
    with conn.cursor().copy("COPY stage FROM STDIN") as copy:
        for email, first, last, dept, groups in rows:
            copy.write_row(
                (email.lower(), email, first, last, dept or None, sorted(set(groups.split(";"))))
            )


def floor(url: str, rows: Sequence[Row]) -> None:
    """COPY to staging, then set-based writes of only what differs into the same schema."""
    with psycopg.connect(url) as conn:
        conn.execute("SELECT version FROM meta WHERE id = 1 FOR UPDATE")
        staged(conn, rows)
        conn.execute(
            "INSERT INTO departments SELECT DISTINCT department FROM stage "
            "WHERE department IS NOT NULL ON CONFLICT DO NOTHING"
        )
        conn.execute(
            "INSERT INTO groups SELECT DISTINCT unnest(groups) FROM stage ON CONFLICT DO NOTHING"
        )
        conn.execute(
            "INSERT INTO users AS u SELECT key, email, first_name, last_name, department, false "
            "FROM stage ON CONFLICT (key) DO UPDATE SET email = excluded.email, "
            "first_name = excluded.first_name, last_name = excluded.last_name, "
            "department = excluded.department WHERE (u.email, u.first_name, u.last_name, "
            "u.department) IS DISTINCT FROM (excluded.email, excluded.first_name, "
            "excluded.last_name, excluded.department)"
        )
        conn.execute(
            "DELETE FROM memberships m USING stage s WHERE m.user_key = s.key "
            "AND NOT m.group_name = ANY(s.groups)"
        )
        conn.execute(
            "INSERT INTO memberships SELECT key, unnest(groups) FROM stage ON CONFLICT DO NOTHING"
        )
        conn.execute("UPDATE meta SET version = %s WHERE id = 1", (uuid.uuid4().hex,))


def one_table(url: str, rows: Sequence[Row]) -> None:
    """The same rows COPYd to staging and upserted into one wide table."""
    with psycopg.connect(url) as conn:
        conn.execute(
            "CREATE TEMP TABLE stage (key text, email text, first_name text, last_name text, "
            "department text, groups text) ON COMMIT DROP"
        )
        with conn.cursor().copy("COPY stage FROM STDIN") as copy:
            for row in rows:
                copy.write_row((row[0].lower(), *row))
        conn.execute(
            "INSERT INTO wide AS w SELECT * FROM stage ON CONFLICT (key) DO UPDATE SET "
            "email = excluded.email, first_name = excluded.first_name, "
            "last_name = excluded.last_name, department = excluded.department, "
            "groups = excluded.groups WHERE (w.email, w.first_name, w.last_name, w.department, "
            "w.groups) IS DISTINCT FROM (excluded.email, excluded.first_name, "
            "excluded.last_name, excluded.department, excluded.groups)"
        )


def through_userimport(url: str, review: Review) -> None:
    """Plan against a new repository (the snapshot read from the database), then apply."""
    with SqlUserRepository(url) as repo:
        plan = plan_import(review, repo)
        apply_plan(plan, repo)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--scenarios", nargs="+", default=["fresh", "reimport"])
    args = parser.parse_args()
    base = os.environ.get(
        "USERIMPORT_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:54330/postgres"
    )
    dbs = Databases(base)
    initial = make_rows(args.rows, changed=False)
    changed = make_rows(args.rows, changed=True)
    print(f"{args.rows:,} users, {args.rounds} alternating rounds; load {_load()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        dbs.template("bench_empty", None, folder)
        dbs.template("bench_seeded", initial, folder)
        scenarios = {
            "fresh": ("bench_empty", initial, review_of(initial, folder)),
            "reimport": ("bench_seeded", changed, review_of(changed, folder)),
        }
        for scenario in args.scenarios:
            template, rows, review = scenarios[scenario]
            contenders: dict[str, Callable[[str], None]] = {
                "one table": lambda url, rows=rows: one_table(url, rows),
                "floor": lambda url, rows=rows: floor(url, rows),
                "userimport": lambda url, review=review: through_userimport(url, review),
            }
            times: dict[str, list[float]] = {name: [] for name in contenders}
            for r in range(args.rounds):
                order = list(contenders) if r % 2 == 0 else list(reversed(contenders))
                for name in order:
                    url = dbs.recreate("bench_run", template)
                    started = time.perf_counter()
                    contenders[name](url)
                    times[name].append(time.perf_counter() - started)
            print(f"\n{scenario}")
            print(f"{'contender':12} {'median s':>9}  {'/ floor: median':>15}    min    max")
            for name, taken in times.items():
                ratios = [t / f for t, f in zip(taken, times["floor"], strict=True)]
                print(
                    f"{name:12} {statistics.median(taken):9.3f}  {statistics.median(ratios):15.2f}"
                    f" {min(ratios):6.2f} {max(ratios):6.2f}"
                )
    dbs.admin.execute("DROP DATABASE IF EXISTS bench_run WITH (FORCE)")
    for name in ("bench_empty", "bench_seeded"):
        dbs.admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    dbs.close()
    print(f"\nload {_load()}")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()

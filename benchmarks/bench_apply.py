"""
Applying a large plan: what checking it against the store and reading it back costs.

A store of N users (default 100,000) and a mirror-mode plan that updates half of them, creates
0.4 N and deletes the rest. Each measurement runs once per round, in alternating order (see
``_rounds.py``); each line is the median CPU time (process time, so that other load on the
machine matters less), and the median of its per-round ratios to the floor, with their minimum
and maximum: the floor commits the plan's change set directly, with no check at all.

    python benchmarks/bench_apply.py --users 100000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median
from typing import Any

import pandas as pd
from _rounds import Load, alternate, ratios

import userimport as ui
from userimport.model import Snapshot
from userimport.repository import plan_secret


def store(n: int) -> ui.InMemoryUserRepository:
    """A store of ``n`` users, built from a frame."""
    keys = [f"u{i}@firma.no" for i in range(n)]
    frame = pd.DataFrame(
        {
            "email": keys,
            "first_name": ["A"] * n,
            "last_name": ["B"] * n,
            "department": ["Sales"] * n,
            "groups": [("Oslo",)] * n,
            "is_admin": [False] * n,
            "attributes": [{}] * n,
        },
        index=pd.Index(keys, name="key", dtype=object),
        dtype=object,
    ).astype({"is_admin": bool})
    return ui.InMemoryUserRepository.from_snapshot(Snapshot.from_frame(frame, version="0"))


def review(n: int) -> ui.Review:
    """Half the store renamed, 0.4 n new users; the rest of the store is missing."""
    header = ["First", "Last", "Email", "Department", "Groups"]
    rows = [["A", "C", f"u{i}@firma.no", "Sales", "Oslo"] for i in range(n // 10, n * 6 // 10)]
    rows += [["N", "M", f"n{i}@firma.no", "Sales", "Oslo"] for i in range(n * 4 // 10)]
    table = ui.RawTable(rows=pd.DataFrame([header, *rows], dtype=object), format="csv")
    columns = dict(enumerate(["first_name", "last_name", "email", "department", "groups"]))
    mapping = ui.ColumnMapping.from_columns(columns, headers=tuple(header), width=5)
    return ui.validate(table, 0, mapping)


def cpu(work: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, Any]:
    """The process time ``work(*args, **kwargs)`` took, and its result."""
    start = time.process_time()
    result = work(*args, **kwargs)
    return time.process_time() - start, result


def contenders(users: int, the_review: ui.Review) -> dict[str, Callable[[], float]]:
    """Each measurement, on a fresh store made (untimed) for it; each returns its CPU time."""
    settings = ui.ImportSettings(delete_missing=True, max_deletes=None, max_delete_fraction=None)
    allowed = ui.Permissions(max_deletes=None, max_delete_fraction=None)

    def planned() -> tuple[ui.InMemoryUserRepository, ui.Plan]:
        repo = store(users)
        return repo, ui.plan_import(the_review, repo, settings)

    def floor() -> float:
        repo, plan = planned()
        changes, version = plan.changeset(), repo.snapshot().version
        return cpu(repo.commit, changes, expected_version=version)[0]

    def apply() -> float:
        repo, plan = planned()
        return cpu(ui.apply_plan, plan, repo)[0]

    def to_json() -> float:
        repo, plan = planned()
        return cpu(plan.to_json, indent=1, secret=plan_secret(repo))[0]

    def write_json() -> float:
        repo, plan = planned()
        with tempfile.TemporaryDirectory() as tmp:
            return cpu(plan.write_json, Path(tmp) / "p.json", secret=plan_secret(repo))[0]

    def from_json() -> float:
        repo, plan = planned()
        text = plan.to_json(indent=1, secret=plan_secret(repo))
        return cpu(ui.Plan.from_json, text)[0]

    def apply_read_back() -> float:
        repo, plan = planned()
        loaded = ui.Plan.from_json(plan.to_json(indent=1, secret=plan_secret(repo)))
        return cpu(ui.apply_plan, loaded, repo, permissions=allowed)[0]

    return {
        "floor: commit the change set": floor,
        "apply_plan (checked against the store)": apply,
        "to_json, signed": to_json,
        "write_json, signed (streamed to a file)": write_json,
        "from_json, strict": from_json,
        "apply_plan of the plan read back": apply_read_back,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = contenders(args.users, review(args.users))
    load = Load()
    times = alternate(list(work), lambda name: work[name](), args.rounds)
    load.done()
    n = args.users
    print(f"{n:,} users; plan: create {n * 4 // 10:,}, update {n // 2:,}, delete {n // 2:,}")
    print(f"{args.rounds} alternated rounds, CPU seconds; {load}")
    floor = times["floor: commit the change set"]
    for name, seconds in times.items():
        print(f"{name:<42} {median(seconds):7.3f} s  {ratios(seconds, floor).ratio()}")


if __name__ == "__main__":
    main()

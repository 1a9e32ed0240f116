"""
Applying a large plan: what checking it against the store and reading it back costs.

A store of N users (default 100,000) and a mirror-mode plan that updates half of them, creates
0.4 N and deletes the rest. Each line is the best CPU time of --repeat runs (process time, so
that other load on the machine matters less), and its ratio to the floor measured in the same
run: committing the plan's change set directly, with no check at all.

    python benchmarks/bench_apply.py --users 100000
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import pandas as pd

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


def once(users: int, the_review: ui.Review) -> dict[str, float]:
    """One run of every measurement, each on a fresh store."""
    settings = ui.ImportSettings(delete_missing=True, max_deletes=None, max_delete_fraction=None)
    allowed = ui.Permissions(max_deletes=None, max_delete_fraction=None)
    out: dict[str, float] = {}
    repo = store(users)
    changes = ui.plan_import(the_review, repo, settings).changeset()
    version = repo.snapshot().version
    out["floor: commit the change set"], _ = cpu(repo.commit, changes, expected_version=version)
    repo = store(users)
    plan = ui.plan_import(the_review, repo, settings)
    out["apply_plan (checked against the store)"], _ = cpu(ui.apply_plan, plan, repo)
    repo = store(users)
    plan = ui.plan_import(the_review, repo, settings)
    out["to_json, signed"], text = cpu(plan.to_json, indent=1, secret=plan_secret(repo))
    out["from_json, strict"], loaded = cpu(ui.Plan.from_json, text)
    out["apply_plan of the plan read back"], _ = cpu(
        ui.apply_plan, loaded, repo, permissions=allowed
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    the_review = review(args.users)
    runs = [once(args.users, the_review) for _ in range(args.repeat)]
    best = {name: min(run[name] for run in runs) for name in runs[0]}
    n = args.users
    print(f"{n:,} users; plan: create {n * 4 // 10:,}, update {n // 2:,}, delete {n // 2:,}")
    floor = best["floor: commit the change set"]
    for name, seconds in best.items():
        print(f"{name:<40} {seconds:7.3f} s  {seconds / floor:5.2f}x")


if __name__ == "__main__":
    main()

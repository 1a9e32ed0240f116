"""
The import pipeline, stage by stage and end to end, against the floor measured in the same run.

The data comes from ``../shared/bench/gen_users.py`` (used unchanged, so figures compare with
other importers run on it): an initial file of N users, and a modified one where 10% changed
department and groups and 5% are new. Two scenarios per size:

* fresh import: an empty store, the initial file;
* re-import: a store holding the initial users, the modified file.

Each runs from CSV and from XLSX (the same rows, written with openpyxl; read with the openpyxl
and the calamine engine), into the in-memory and the SQLite repository. Every (size, scenario,
format, repository) runs in its own process, so its peak memory (``ru_maxrss``) is its own.

The floor is the least work any importer must do on the same rows: ``pandas.read_csv`` of the
file(s), a merge with the current users on email, and one ``executemany`` of the changed rows
into SQLite. Every time is printed with its ratio to the floor of its size and scenario.

For the SQLite columns a second floor reads the current users from a one-table SQLite file
instead of a CSV and commits the changed rows to it; the end-to-end time is also given as a
ratio to it, in wall-clock and in CPU seconds (``time.process_time``: on a busy machine a
process waiting for a core is not charged for the wait, so the CPU ratio moves far less).

Every contender (the floor, and each format and repository) runs once per round, in turn,
in reverse order on odd rounds (see ``_rounds.py``); each figure is a median over the rounds,
each ratio the median of the per-round ratios.

Usage: python benchmarks/bench_pipeline.py [--rows 5000 100000] [--rounds N] [--markdown]
    [--scenarios fresh reimport] [--formats csv openpyxl calamine] [--repos memory sqlite]
    [--xlsx-max-rows 100000] [--data-dir DIR] [--baseline SRC]

``--baseline SRC`` runs every (format, repository) a second time with the userimport package
in ``SRC`` (e.g. the previous commit's ``src/``, from ``git archive``), in the same alternated
rounds: a before/after comparison that the machine's drift between two runs cannot skew.
"""

from __future__ import annotations

import argparse
import functools
import gc
import importlib.metadata
import importlib.util
import json
import os
import platform
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median
from typing import Any, Literal

from _rounds import Load, Spread, alternate

#: The generator; USERIMPORT_BENCH_GEN names another copy (a worktree has no ../shared).
GEN = Path(
    os.environ.get("USERIMPORT_BENCH_GEN")
    or Path(__file__).resolve().parents[2] / "shared" / "bench" / "gen_users.py"
)
SEED = 42

SCENARIOS = ("fresh", "reimport")
FORMATS = ("csv", "openpyxl", "calamine")  # csv, or xlsx read with that engine
REPOS = ("memory", "sqlite")
Engine = Literal["auto", "openpyxl", "calamine"]
STAGES = ("read", "header", "mapping", "validate", "snapshot", "plan", "changeset", "apply")
SCENARIO_TITLE = {
    "fresh": "fresh import (empty store, initial file)",
    "reimport": "re-import (store of N users; 10% changed, 5% new)",
}


# -- data -------------------------------------------------------------------------------------


def generator() -> Any:
    spec = importlib.util.spec_from_file_location("gen_users", GEN)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_xlsx(rows: list[dict[str, str]], header: list[str], path: Path) -> None:
    """The same rows as the CSV, in one sheet, every cell a string (openpyxl write-only)."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Users")
    sheet.append(header)
    for row in rows:
        sheet.append([row[c] for c in header])
    part = path.with_suffix(".part")
    book.save(part)
    part.replace(path)


def data_files(n: int, folder: Path, xlsx: bool) -> dict[str, Path]:
    """
    Generate (or reuse, if already in ``folder``) the files of one size.

    Keys: ``empty`` (the header only: the current users of an empty store), ``initial`` and
    ``modified`` (CSV), and ``initial.xlsx``, ``modified.xlsx`` when ``xlsx``.
    """
    gen = generator()
    files = {
        "empty": folder / "empty.csv",
        "initial": folder / f"users_{n}.csv",
        "modified": folder / f"users_{n}_modified.csv",
    }
    if not files["empty"].exists():
        gen.write_csv([], str(files["empty"]))
    if not files["initial"].exists():
        gen.make_users(n, SEED, str(files["initial"]))
    if not files["modified"].exists():
        gen.make_users_modified(n, SEED, str(files["modified"]))
    if xlsx:
        files["initial.xlsx"] = folder / f"users_{n}.xlsx"
        files["modified.xlsx"] = folder / f"users_{n}_modified.xlsx"
        if not (files["initial.xlsx"].exists() and files["modified.xlsx"].exists()):
            rows = gen.generate_rows(n, SEED)
            write_xlsx(rows, gen.HEADER, files["initial.xlsx"])
            modified, _ = gen.modify_rows(rows, SEED)
            write_xlsx(modified, gen.HEADER, files["modified.xlsx"])
    return files


# -- the floor --------------------------------------------------------------------------------


COLUMNS = ["email", "first_name", "last_name", "department", "groups"]


def floor(initial: Path, modified: Path) -> int:
    """read_csv + merge on email + one executemany of the changed rows."""
    import pandas as pd

    base = pd.read_csv(initial, dtype=str, keep_default_na=False)
    con = sqlite3.connect(":memory:")
    con.execute(
        "create table u (email text primary key, first_name, last_name, department, groups)"
    )
    return merge_and_write(base, modified, con)


def merge_and_write(base: Any, modified: Path, con: sqlite3.Connection) -> int:
    """The floor's common part: read the file, merge with ``base``, write the changed rows."""
    import pandas as pd

    new = pd.read_csv(modified, dtype=str, keep_default_na=False)
    both = new.merge(base, on="email", how="left", suffixes=("", "_old"), indicator=True)
    changed = both[
        (both["_merge"] == "left_only")
        | (both["department"] != both["department_old"])
        | (both["groups"] != both["groups_old"])
    ]
    con.executemany(
        "insert or replace into u values (?, ?, ?, ?, ?)",
        changed[COLUMNS].itertuples(index=False, name=None),
    )
    con.commit()
    return len(changed)


def seed_floor_store(initial: Path, db: Path) -> None:
    """A SQLite file with the current users in one table (groups as the file's text)."""
    import pandas as pd

    db.unlink(missing_ok=True)
    con = sqlite3.connect(db)
    con.execute(
        "create table u (email text primary key, first_name, last_name, department, groups)"
    )
    base = pd.read_csv(initial, dtype=str, keep_default_na=False)
    con.executemany(
        "insert into u values (?, ?, ?, ?, ?)", base[COLUMNS].itertuples(index=False, name=None)
    )
    con.commit()
    con.close()


def floor_from_sqlite(db: Path, modified: Path) -> int:
    """
    The floor when the current users are in a SQLite file: one SELECT of that table (the
    cheapest schema there is) instead of read_csv, and the changed rows committed to the file.
    """
    import pandas as pd

    con = sqlite3.connect(db)
    try:
        base = pd.DataFrame(con.execute("select * from u").fetchall(), columns=COLUMNS)
        return merge_and_write(base, modified, con)
    finally:
        con.close()


# -- work done in a child process ---------------------------------------------------------------


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak() -> bool:
    """Restart the kernel's peak-RSS counter (VmHWM) of this process; False where unsupported."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_since_reset_mib() -> float:
    """VmHWM: the peak resident memory since the last reset_peak() (or since the start)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The fastest of ``repeat`` runs, and the last result."""
    seconds, _, result = best_with_cpu(fn, repeat)
    return seconds, result


def best_with_cpu(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """The fastest of ``repeat`` runs in wall-clock and in CPU seconds, and the last result."""
    times, cpu, result = [], [], None
    for _ in range(repeat):
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return min(times), min(cpu), result


def users_of(csv_path: Path) -> list[Any]:
    """The users of a generated CSV, as the store holds them."""
    import pandas as pd

    import userimport as ui

    frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    return [
        ui.User(email=e, first_name=f, last_name=last, department=d, groups=g.split(","))
        for e, f, last, d, g in frame[
            ["email", "first_name", "last_name", "department", "groups"]
        ].itertuples(index=False, name=None)
    ]


def store_of(csv_path: Path) -> Any:
    """
    A snapshot of the users of a generated CSV, built as a frame (no ``User`` per row), the
    way an application fills a large in-memory store (``InMemoryUserRepository.from_snapshot``).
    """
    import numpy as np
    import pandas as pd

    import userimport as ui
    from userimport.model import email_key

    raw = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    text = {c: raw[c].to_numpy(dtype=object) for c in ("email", "first_name", "last_name")}
    frame = pd.DataFrame(
        {
            **text,
            "department": raw["department"].to_numpy(dtype=object),
            "groups": [tuple(sorted(g.split(","))) for g in raw["groups"].tolist()],
            "is_admin": np.zeros(len(raw), dtype=bool),
            "attributes": [{} for _ in range(len(raw))],
        },
        index=pd.Index([email_key(e) for e in text["email"]], name="key", dtype=object),
        dtype=object,
    ).astype({"is_admin": bool})
    return ui.Snapshot.from_frame(frame, version="seed")


def job_floor(job: dict[str, Any]) -> dict[str, Any]:
    floor(Path(job["warm_current"]), Path(job["warm"]))  # imports pandas: not timed
    seconds, cpu, changed = best_with_cpu(
        lambda: floor(Path(job["current"]), Path(job["file"])), job["repeat"]
    )
    # The same floor with the current users read from a SQLite file (a fresh copy each run).
    seeded, db = Path(job["work"]) / "floor-seed.db", Path(job["work"]) / "floor.db"
    seed_floor_store(Path(job["current"]), seeded)
    times, cpu_times = [], []
    for _ in range(job["repeat"]):
        shutil.copyfile(seeded, db)
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        floor_from_sqlite(db, Path(job["file"]))
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - start_cpu)
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "changed": changed,
        "sqlite_seconds": min(times),
        "sqlite_cpu_seconds": min(cpu_times),
    }


def job_seed(job: dict[str, Any]) -> dict[str, Any]:
    """Write a SQLite store holding the users of ``job["current"]`` (none for the header only)."""
    import userimport as ui

    users = users_of(Path(job["current"]))
    with ui.SqlUserRepository(f"sqlite:///{job['db']}") as repo:
        version = repo.snapshot().version
        if users:
            changes = ui.ChangeSet(
                create=users,
                create_groups=set().union(*(u.groups for u in users)),
                create_departments={u.department for u in users if u.department},
            )
            version = repo.commit(changes, expected_version=version)
    return {"version": version, "users": len(users)}


def warm_up(source: Path, engine: Engine, repo: Any) -> None:
    """Run the whole pipeline once on a small file: imports and first-call costs are not timed."""
    import userimport as ui

    table = ui.read_table(source, max_rows=None, engine=engine)
    header = ui.detect_header(table).row
    review = ui.validate(table, header, ui.suggest_mapping(table, header))
    ui.apply_plan(ui.plan_import(review, repo), repo)


def job_import(job: dict[str, Any]) -> dict[str, Any]:
    """
    Run the pipeline ``repeat`` times on a fresh store, timing each stage in one continuous run.

    Stages: read, header, mapping, validate, snapshot (the store's users and their frame),
    plan (against that snapshot), apply (``apply_plan``: change set, commit). Dry run = read
    to plan; full = read to apply. The change set is timed apart (``apply`` makes it again).
    """
    import userimport as ui

    repeat, source, engine = job["repeat"], Path(job["file"]), job["engine"]
    if job["repo"] == "memory":
        warm_up(Path(job["warm"]), engine, ui.InMemoryUserRepository())
    else:
        with ui.SqlUserRepository("sqlite://") as scratch:
            warm_up(Path(job["warm"]), engine, scratch)
    work = Path(job["work"])
    seed = None
    if job["repo"] == "memory":
        seed = store_of(Path(job["current"])) if job["scenario"] == "reimport" else None

    def fresh_repo(i: int) -> Any:
        if job["repo"] == "memory":
            if seed is None:
                return ui.InMemoryUserRepository()
            return ui.InMemoryUserRepository.from_snapshot(seed)  # shares the seed's frame
        db = work / f"store_{i}.db"
        shutil.copyfile(job["db"], db)
        return ui.SqlUserRepository(f"sqlite:///{db}")

    stores = [fresh_repo(i) for i in range(repeat)] if job["repo"] == "memory" else []
    seed = None  # the stores share its frame until their commits; it need not outlive them
    names = (*STAGES, "dry run", "full", "plan again", "dry run, CPU", "full, CPU")
    times: dict[str, list[float]] = {s: [] for s in names}
    before = peak_mib()  # the libraries, the warm-up and (in memory) the store
    during: list[float] = []
    counts, summary = (0, 0), {}
    for i in range(repeat):
        repo = stores[i] if stores else fresh_repo(i)
        if stores:
            stores[i] = None
        gc.collect()
        resettable = reset_peak()
        c0 = time.process_time()
        t0 = time.perf_counter()
        table = ui.read_table(source, max_rows=None, engine=engine)
        t1 = time.perf_counter()
        header = ui.detect_header(table).row
        t2 = time.perf_counter()
        mapping = ui.suggest_mapping(table, header)
        t3 = time.perf_counter()
        review = ui.validate(table, header, mapping)
        t4 = time.perf_counter()
        snap = repo.snapshot()
        _ = len(snap.frame)  # builds the frame (in memory) without keeping it here
        t5 = time.perf_counter()
        plan = ui.plan_import(review, snap)
        t6, c6 = time.perf_counter(), time.process_time()
        result = ui.apply_plan(plan, repo)
        t7, c7 = time.perf_counter(), time.process_time()
        times["dry run, CPU"].append(c6 - c0)
        times["full, CPU"].append(c7 - c0)
        if engine != "auto" and table.engine != engine:
            raise RuntimeError(f"asked for engine {engine}, read_table used {table.engine}")
        for name, start, end in (
            ("read", t0, t1),
            ("header", t1, t2),
            ("mapping", t2, t3),
            ("validate", t3, t4),
            ("snapshot", t4, t5),
            ("plan", t5, t6),
            ("apply", t6, t7),
            ("dry run", t0, t6),
            ("full", t0, t7),
        ):
            times[name].append(end - start)
        if resettable:
            during.append(peak_since_reset_mib())
        # Planning the same review again after the apply (an admin's next dry run): the
        # snapshot is the store's own after its commit, and the plan must come out empty.
        # What a caller would have let go by then is let go first (the old snapshot, the
        # result with its undo plan), so the process's peak stays the import's.
        counts, summary = (result.created, result.updated), plan.summary()
        seconds, _ = best(plan.changeset, 1)
        times["changeset"].append(seconds)
        del snap, result, plan
        t8 = time.perf_counter()
        again = ui.plan_import(review, repo)
        times["plan again"].append(time.perf_counter() - t8)
        if not again.is_empty:
            raise RuntimeError("planning the applied file again is not empty")
        if job["repo"] == "sqlite":
            repo.close()
            (work / f"store_{i}.db").unlink()
        del repo, table, review, again
    out: dict[str, Any] = {name: min(ts) for name, ts in times.items()}
    out["created"], out["updated"] = counts
    out["unchanged"] = summary.get("unchanged", 0)
    out["peak_before_mib"] = before
    out["peak_during_mib"] = max(during) if during else float("nan")
    return out


JOBS = {"floor": job_floor, "seed": job_seed, "import": job_import}


def worker(spec: str) -> int:
    job = json.loads(spec)
    result = JOBS[job["kind"]](job)
    result["peak_mib"] = peak_mib()
    print("RESULT " + json.dumps(result), flush=True)
    return 0


def run_job(job: dict[str, Any]) -> dict[str, Any] | None:
    """Run one job in a new Python process (so its peak memory is its own)."""
    env = None
    if job.get("source"):  # another userimport (e.g. the previous commit's src/) comes first
        path = os.environ.get("PYTHONPATH")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [job["source"], path]))}
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", json.dumps(job)],
        stdout=subprocess.PIPE,
        text=True,
        check=False,
        env=env,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        print(f"  job failed (exit {proc.returncode}): {job}", file=sys.stderr)
        return None
    result: dict[str, Any] = json.loads(lines[-1][len("RESULT ") :])
    return result


def pick(jobs: dict[str, dict[str, Any]], name: str) -> dict[str, Any] | None:
    """Run the job ``name`` of ``jobs`` (a contender of a round)."""
    return run_job(jobs[name])


# -- the table ----------------------------------------------------------------------------------


def machine() -> list[str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0

    def version(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    try:
        commit = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f", {int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
    except OSError:
        pass
    packages = ", ".join(
        f"{name} {version(name)}"
        for name in ("pandas", "pyarrow", "pandera", "openpyxl", "python-calamine", "sqlalchemy")
    )
    return [
        f"CPU: {cpu}, {os.cpu_count()} cores ({usable} usable){memory}",
        f"Python {platform.python_version()} ({platform.system()} {platform.release()}), "
        f"SQLite {sqlite3.sqlite_version}",
        packages,
        f"userimport {version('userimport')} at {commit}, {time.strftime('%Y-%m-%d %H:%M')}",
    ]


def cell(seconds: float | None, ratio: float | None) -> str:
    if seconds is None:
        return "-"
    if ratio is None:
        return f"{seconds:.3f}"
    return f"{seconds:.3f} ({ratio:.2f}x)"


def render(
    title: str,
    columns: list[str],
    rows: list[tuple[str, list[str]]],
    markdown: bool,
) -> str:
    if markdown:
        out = [f"**{title}**", "", "| stage | " + " | ".join(columns) + " |"]
        out.append("| --- |" + " --- |" * len(columns))
        out += [f"| {name} | " + " | ".join(cells) + " |" for name, cells in rows]
        return "\n".join(out) + "\n"
    widths = [max(len(c), *(len(r[1][i]) for r in rows)) for i, c in enumerate(columns)]
    label = max(len("stage"), *(len(r[0]) for r in rows))
    out = [
        title,
        f"{'stage':<{label}}  "
        + "  ".join(f"{c:>{w}}" for c, w in zip(columns, widths, strict=True)),
    ]
    out += [
        f"{name:<{label}}  " + "  ".join(f"{v:>{w}}" for v, w in zip(cells, widths, strict=True))
        for name, cells in rows
    ]
    return "\n".join(out) + "\n"


def _is_sqlite(column: str) -> bool:
    """Whether a column of the table is a SQLite contender (its own or the baseline's)."""
    return column.removesuffix(" (baseline)").endswith("/sqlite")


def block(
    n: int,
    scenario: str,
    floors: list[dict[str, Any] | None],
    results: dict[str, list[dict[str, Any] | None]],
    markdown: bool,
    load: Load,
) -> str:
    """
    One table: stages as rows, (format, repository) as columns.

    Each cell is the median over the rounds of a stage's seconds, with the median of its
    per-round ratios to the floor of the same round.
    """
    columns = list(results)
    ok = [i for i, f in enumerate(floors) if f is not None]
    floor_s = [floors[i]["seconds"] for i in ok]  # type: ignore[index]
    rows: list[tuple[str, list[str]]] = []
    floor_cell = cell(median(floor_s), 1.0) if floor_s else "-"
    rows.append(("floor", [floor_cell] * len(columns)))

    def values(col: str, key: str) -> list[float]:
        return [r[key] for r in results[col] if r is not None and r.get(key) is not None]

    def per_round(col: str, key: str, ref: str = "seconds") -> list[float]:
        """``key`` / the floor's ``ref``, round by round (rounds where both ran)."""
        out = []
        for r, f in zip(results[col], floors, strict=True):
            if r is not None and f is not None and r.get(key) and f.get(ref):
                out.append(r[key] / f[ref])
        return out

    def against_baseline(col: str, key: str) -> str:
        """``key`` of ``col`` / the same of its baseline column, round by round."""
        base = results.get(f"{col} (baseline)")
        if base is None:
            return "-"
        got = [
            r[key] / b[key]
            for r, b in zip(results[col], base, strict=True)
            if r is not None and b is not None and b.get(key)
        ]
        return Spread.of(got).ratio() if got else "-"

    def stage(col: str, key: str) -> str:
        got, ratio = values(col, key), per_round(col, key)
        return cell(median(got) if got else None, median(ratio) if ratio else None)

    def spread(col: str, key: str, ref: str = "seconds") -> str:
        got = per_round(col, key, ref)
        return Spread.of(got).ratio() if got else "-"

    for name in STAGES:
        rows.append((name, [stage(c, name) for c in columns]))
    rows.append(("dry run (read..plan)", [stage(c, "dry run") for c in columns]))
    rows.append(("full (read..apply)", [stage(c, "full") for c in columns]))
    rows.append(
        (
            "dry run, CPU seconds",
            [
                cell(median(values(c, "dry run, CPU")) if values(c, "dry run, CPU") else None, None)
                for c in columns
            ],
        )
    )
    rows.append(
        (
            "full, CPU seconds",
            [
                cell(median(values(c, "full, CPU")) if values(c, "full, CPU") else None, None)
                for c in columns
            ],
        )
    )
    rows.append(("dry run / floor: median (min-max)", [spread(c, "dry run") for c in columns]))
    rows.append(("full / floor: median (min-max)", [spread(c, "full") for c in columns]))
    rows.append(("plan again, after apply", [stage(c, "plan again") for c in columns]))
    shares, rates = [], []
    for c in columns:
        snap, plan, apply_, full = (values(c, k) for k in ("snapshot", "plan", "apply", "full"))
        share = [(s + p) / a for s, p, a in zip(snap, plan, apply_, strict=True) if a]
        shares.append(f"{median(share):.2f}" if snap and plan and share else "-")
        rates.append(f"{n / median(full):,.0f}" if full else "-")
    rows.append(("(snapshot+plan) / apply", shares))
    sqlite_floor = [f["sqlite_seconds"] for f in floors if f is not None]
    if sqlite_floor and any(_is_sqlite(c) for c in columns):
        ratio = median([f["sqlite_seconds"] / f["seconds"] for f in floors if f is not None])
        rows.append(("floor, store in SQLite", [cell(median(sqlite_floor), ratio)] * len(columns)))
        rows.append(
            (
                "full / floor, store in SQLite: median (min-max)",
                [spread(c, "full", "sqlite_seconds") if _is_sqlite(c) else "-" for c in columns],
            )
        )
        floor_cpu = [f["sqlite_cpu_seconds"] for f in floors if f is not None]
        rows.append(
            ("floor, store in SQLite, CPU seconds", [cell(median(floor_cpu), None)] * len(columns))
        )
        rows.append(
            (
                "full / floor, store in SQLite, CPU seconds: median (min-max)",
                [
                    spread(c, "full, CPU", "sqlite_cpu_seconds") if _is_sqlite(c) else "-"
                    for c in columns
                ],
            )
        )
    rows.append(("rows/s (full)", rates))
    for key, label in (("full", "wall clock"), ("full, CPU", "CPU seconds")):
        if any(f"{c} (baseline)" in results for c in columns):
            rows.append(
                (
                    f"full / baseline's full, {label}: median (min-max)",
                    [against_baseline(c, key) for c in columns],
                )
            )

    def peak(key: str) -> list[str]:
        return [f"{median(got):.0f}" if (got := values(c, key)) else "-" for c in columns]

    rows.append(("peak MiB", peak("peak_mib")))
    rows.append(("peak MiB before import", peak("peak_before_mib")))
    rows.append(("peak MiB during import", peak("peak_during_mib")))
    r0 = next((r for rs in results.values() for r in rs if r), None)
    counts = f"; plan: {r0['created']:,} create, {r0['updated']:,} update" if r0 else ""
    floor_note = ""
    f0 = next((f for f in floors if f is not None), None)
    if f0:
        peak_floor = median([f["peak_mib"] for f in floors if f is not None])
        floor_note = f"; floor: {f0['changed']:,} rows written, peak {peak_floor:.0f} MiB"
    title = (
        f"{n:,} rows, {SCENARIO_TITLE[scenario]}{counts}{floor_note}; "
        f"{len(floors)} alternated rounds, {load}"
    )
    return render(title, columns, rows, markdown)


# -- main ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--rows", type=int, nargs="+", default=[5000, 100_000])
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="alternated rounds of every contender (default: 3 up to 20,000 rows, else 2)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="runs of a contender inside its process each round, best kept (default: 5 up "
        "to 20,000 rows, where a run is shorter than the scheduler's slices on a busy machine, "
        "else 1)",
    )
    parser.add_argument("--scenarios", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument(
        "--formats",
        nargs="+",
        choices=FORMATS,
        default=list(FORMATS),
        help="csv, or xlsx read with openpyxl / calamine",
    )
    parser.add_argument("--repos", nargs="+", choices=REPOS, default=list(REPOS))
    parser.add_argument(
        "--xlsx-max-rows",
        type=int,
        default=100_000,
        metavar="N",
        help="run the XLSX scenarios only up to N rows (default 100000; writing and reading "
        "1,000,000 rows of XLSX takes many minutes)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="keep the generated files here and reuse them in later runs (default: a "
        "temporary directory per run)",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        default=None,
        metavar="SRC",
        help="also run every (format, repository) with the userimport package found in SRC "
        "(e.g. a previous commit's src/, from git archive), as contenders of the same "
        "alternated rounds: columns named '... (baseline)'",
    )
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker)

    for line in machine():
        print(f"{line}  " if args.markdown else line)
    print()
    with tempfile.TemporaryDirectory(prefix="userimport-bench-") as tmp:
        data = args.data_dir or Path(tmp) / "data"
        data.mkdir(parents=True, exist_ok=True)
        (data / "warm").mkdir(exist_ok=True)
        warm = data_files(200, data / "warm", xlsx=any(f != "csv" for f in args.formats))
        for n in args.rows:
            repeat = args.repeat or (5 if n <= 20_000 else 1)
            rounds = args.rounds or (3 if n <= 20_000 else 2)
            formats = [f for f in args.formats if f == "csv" or n <= args.xlsx_max_rows]
            started = time.perf_counter()
            log(f"{n:,} rows: generating the files")
            files = data_files(n, data, xlsx=any(f != "csv" for f in formats))
            work = Path(tmp) / f"work_{n}"
            work.mkdir()
            for scenario in args.scenarios:
                current = files["empty"] if scenario == "fresh" else files["initial"]
                csv_file = files["initial"] if scenario == "fresh" else files["modified"]
                jobs: dict[str, dict[str, Any]] = {
                    "floor": {
                        "kind": "floor",
                        "warm_current": str(warm["empty"]),
                        "warm": str(warm["initial"]),
                        "current": str(current),
                        "file": str(csv_file),
                        "work": str(work),
                        "repeat": repeat,
                    }
                }
                db = work / f"{scenario}.db"
                if "sqlite" in args.repos:
                    log(f"{n:,} rows, {scenario}: seeding the SQLite store")
                    run_job({"kind": "seed", "current": str(current), "db": str(db)})
                for fmt in formats:
                    name = "initial" if scenario == "fresh" else "modified"
                    source = files[name if fmt == "csv" else f"{name}.xlsx"]
                    for repo in args.repos:
                        jobs[f"{fmt}/{repo}"] = {
                            "kind": "import",
                            "scenario": scenario,
                            "repo": repo,
                            "engine": "auto" if fmt == "csv" else fmt,
                            "file": str(source),
                            "warm": str(warm["initial" if fmt == "csv" else "initial.xlsx"]),
                            "current": str(current),
                            "db": str(db),
                            "work": str(work),
                            "repeat": repeat,
                        }
                if args.baseline is not None:
                    for name in [n for n in jobs if n != "floor"]:
                        jobs[f"{name} (baseline)"] = {
                            **jobs[name],
                            "source": str(args.baseline.resolve()),
                        }
                load = Load()
                done = alternate(
                    list(jobs), functools.partial(pick, jobs), rounds, label=f"{n:,} {scenario} "
                )
                load.done()
                floors = done.pop("floor")
                print(block(n, scenario, floors, done, args.markdown, load), flush=True)
            shutil.rmtree(work)
            log(f"{n:,} rows done in {time.perf_counter() - started:.0f} s")
    return 0


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())

"""Faults: a process killed in the middle of applying, and several processes racing."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.test_repository import postgres_url, reset_postgres
from userimport import (
    ChangeSet,
    ImportSettings,
    InMemoryUserRepository,
    SqlUserRepository,
    StalePlanError,
    User,
    apply_plan,
    import_file,
)

APPLY_BIG = """
import sys
from userimport import ChangeSet, SqlUserRepository, User
repo = SqlUserRepository(sys.argv[1])
users = [User(email=f"u{i}@firma.no", first_name="U", last_name=str(i), groups={"G"})
         for i in range(int(sys.argv[2]))]
changes = ChangeSet(create=users, create_groups={"G"})
version = repo.snapshot().version
print("committing", flush=True)
repo.commit(changes, expected_version=version)
print("done", flush=True)
"""


@pytest.fixture
def opened() -> Iterator[Callable[[str], SqlUserRepository]]:
    """Open repositories, all closed at the end of the test."""
    repos: list[SqlUserRepository] = []

    def open_repo(url: str) -> SqlUserRepository:
        repos.append(SqlUserRepository(url, cache=False))
        return repos[-1]

    yield open_repo
    for repo in repos:
        repo.close()


def store_url(store: str, tmp_path: Path) -> str:
    """A fresh store: a SQLite file, or the test PostgreSQL database emptied."""
    if store == "sqlite":
        return f"sqlite:///{tmp_path / 'users.db'}"
    url = postgres_url()
    reset_postgres(url)
    return url


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_sigkill_in_the_middle_of_a_commit(
    store: str, tmp_path: Path, opened: Callable[[str], SqlUserRepository]
) -> None:
    """A process killed while committing leaves the store wholly before or wholly after."""
    url = store_url(store, tmp_path)
    repo = opened(url)
    seed = User(email="seed@firma.no", first_name="S", last_name="S")
    repo.commit(ChangeSet(create=[seed]), expected_version=repo.snapshot().version)
    before = repo.snapshot()
    outcomes = set()
    for delay in (0.05, 0.2, 0.5):
        with subprocess.Popen(
            [sys.executable, "-c", APPLY_BIG, url, "20000"], stdout=subprocess.PIPE, text=True
        ) as child:
            assert child.stdout is not None
            assert "committing" == child.stdout.readline().strip()
            time.sleep(delay)
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
        now = opened(url).snapshot()
        if now.version == before.version:
            assert before.state() == now.state()
            outcomes.add("before")
        else:
            assert 20_001 == len(now)
            outcomes.add("after")
            break
    assert outcomes <= {"before", "after"}
    # The store still works: the next plan applies.
    fresh = opened(url)
    extra = User(email="next@firma.no", first_name="N", last_name="X")
    fresh.commit(ChangeSet(create=[extra]), expected_version=fresh.snapshot().version)
    assert "next@firma.no" in fresh.snapshot()


RACE = """
import sys, time
from userimport import SqlUserRepository, StalePlanError, apply_plan, import_file
url, me = sys.argv[1], sys.argv[2]
repo = SqlUserRepository(url)
data = f"First Name,Last Name,Email,Department\\nP,{me},p{me}@firma.no,Sales\\n".encode()
tries = 0
while True:
    tries += 1
    plan = import_file(data, repo)
    time.sleep(0.01)  # let the others plan from the same version
    try:
        apply_plan(plan, repo)
        break
    except StalePlanError:
        continue
print(tries)
"""


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_processes_racing_lose_no_update(
    store: str, tmp_path: Path, opened: Callable[[str], SqlUserRepository]
) -> None:
    """Several processes plan and apply at once: losers get StalePlanError, re-plan, and win."""
    url = store_url(store, tmp_path)
    repo = opened(url)
    import_file(b"First Name,Last Name,Email,Department\nA,B,a@firma.no,Sales\n", repo,
                ImportSettings(), dry_run=False)  # fmt: skip
    children = [
        subprocess.Popen(
            [sys.executable, "-c", RACE, url, str(i)], stdout=subprocess.PIPE, text=True
        )
        for i in range(4)
    ]
    tries = [int(c.communicate(timeout=120)[0].strip()) for c in children]
    assert all(c.returncode == 0 for c in children)
    assert {"a@firma.no", *(f"p{i}@firma.no" for i in range(4))} == set(repo.snapshot().users)
    assert sum(tries) >= 4


def test_stale_error_is_raised_between_processes(
    tmp_path: Path, opened: Callable[[str], SqlUserRepository]
) -> None:
    """A plan made in one process is refused after another process committed."""
    url = f"sqlite:///{tmp_path / 'users.db'}"
    repo = opened(url)
    plan = import_file(b"First Name,Last Name,Email,Department\nA,B,a@firma.no,Sales\n", repo)
    subprocess.run([sys.executable, "-c", APPLY_BIG, url, "3"], check=True, capture_output=True)
    with pytest.raises(StalePlanError):
        apply_plan(plan, repo)


@pytest.mark.parametrize("target", ["check_changes", "email_key", "with_changes"])
def test_in_memory_commit_failing_at_every_point(
    target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An in-memory commit that fails at its Nth step, for every N, leaves the store as it was."""
    import userimport.repository as module
    from tests.conftest import ANNA, OLE

    real = getattr(module, target)
    kari = User(email="kari@firma.no", first_name="K", last_name="D", groups={"New"})
    changes = ChangeSet(
        create=[kari], update=[User(email=ANNA.email, first_name="Anne")],
        delete=[OLE.email], create_groups={"New"},
    )  # fmt: skip
    failures = 0
    for n in range(1, 50):
        repo = InMemoryUserRepository([ANNA, OLE])
        before = repo.snapshot()
        calls = [0]

        def failing(
            *args: object, _n: int = n, _calls: list[int] = calls, **kwargs: object
        ) -> object:
            _calls[0] += 1
            if _calls[0] == _n:
                raise RuntimeError("injected")
            return real(*args, **kwargs)

        monkeypatch.setattr(module, target, failing)
        try:
            repo.commit(changes, expected_version=before.version)
        except RuntimeError:
            failures += 1
            assert before is repo.snapshot()
            continue
        finally:
            monkeypatch.setattr(module, target, real)
        assert {"anna.berg@firma.no", "kari@firma.no"} == set(repo.snapshot().users)
        break
    assert failures >= 1


GROUP_RACE = """
import random, sys, time
from userimport import SqlUserRepository, StalePlanError, edit_user
url, me, count, way = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
repo = SqlUserRepository(url)
repo.snapshot()
print("ready", flush=True)
sys.stdin.readline()
for i in range(count):
    group = f"p{me}-{i}"
    if way == "add":
        edit_user(repo, "anna@firma.no", add_groups={group})
        continue
    while True:  # read, compute the new set, and let the action refuse if the store moved
        snap = repo.snapshot()
        groups = snap.get("anna@firma.no").groups | {group}
        try:
            edit_user(repo, "anna@firma.no", expected_version=snap.version, groups=groups)
            break
        except StalePlanError:
            time.sleep(random.uniform(0, 0.02))
print("done", flush=True)
"""


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_racing_single_user_actions_lose_no_update(
    store: str, tmp_path: Path, opened: Callable[[str], SqlUserRepository]
) -> None:
    """4 processes add 20 groups each to one user at once: every one of the 80 is kept."""
    url = store_url(store, tmp_path)
    repo = opened(url)
    anna = User(email="anna@firma.no", first_name="Anna", last_name="Berg", groups={"Start"})
    repo.commit(
        ChangeSet(create=[anna], create_groups={"Start"}), expected_version=repo.snapshot().version
    )
    ways = ["add", "expected_version"] * 2
    children = [
        subprocess.Popen(
            [sys.executable, "-c", GROUP_RACE, url, str(i), "20", way],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, way in enumerate(ways)
    ]
    for child in children:
        assert child.stdout is not None
        assert "ready" == child.stdout.readline().strip(), child.communicate()[1]
    started = time.monotonic()
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    for child in children:
        out, err = child.communicate(timeout=120)
        assert ("done", 0) == (out.strip(), child.returncode), err
    took = time.monotonic() - started
    expected = {"Start", *(f"p{i}-{n}" for i in range(len(ways)) for n in range(20))}
    assert expected == set(repo.snapshot().users["anna@firma.no"].groups)
    print(f"{store}: {len(expected) - 1} additions by {len(ways)} processes in {took:.1f} s")

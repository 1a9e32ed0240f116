"""Imports in progress across worker processes (a shared folder), and library calls off the loop."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette")
pytest.importorskip("jinja2")

from click.testing import CliRunner
from starlette.testclient import TestClient

import userimport as ui
import userimport.web._base as web_base
import userimport.web._wizard as web_wizard
from tests.test_web import TITLED, csrf, plan_id, to_review, upload
from userimport.sql import SqlUserRepository
from userimport.web import create_app


def workers(folder: Path, n: int = 2, secret: str = "s" * 32) -> list[TestClient]:
    """``n`` apps over one store sharing ``folder``, as uvicorn's workers would be."""
    repo = ui.InMemoryUserRepository()
    clients = []
    for _ in range(n):
        client = TestClient(create_app(repo, secret=secret, session_dir=folder))
        assert 200 == client.get("/users").status_code
        clients.append(client)
    return clients


def test_every_step_may_be_answered_by_another_worker(tmp_path: Path) -> None:
    """Upload on one worker, then header, mapping, review, overview and start alternate."""
    first, second = workers(tmp_path / "sessions")
    sid = upload(first)
    second.cookies.update(first.cookies)
    assert 200 == second.get(f"/import/{sid}/header").status_code
    to_review(second, sid)
    review = first.post(
        f"/import/{sid}/row/4",
        data={"csrf": csrf(first), "first_name": "Per", "last_name": "Lie"}
        | {"email": "per@firma.no", "department": "Sales", "groups": "Oslo"},
    )
    assert "0</strong> with errors" in review.text
    overview = second.get(f"/import/{sid}/overview").text
    done = first.post(f"/import/{sid}/start", data={"csrf": csrf(first), "plan": plan_id(overview)})
    assert "3 created" in done.text
    assert "3 created" in second.get(f"/import/{sid}/done").text


def test_a_worker_with_another_secret_cannot_read_an_import(tmp_path: Path) -> None:
    """The files are signed: a worker with another secret answers 410, nothing is unpickled."""
    [first] = workers(tmp_path / "s", 1, secret="a" * 32)
    [other] = workers(tmp_path / "s", 1, secret="b" * 32)
    sid = upload(first)
    assert 410 == other.get(f"/import/{sid}/header").status_code
    assert 200 == first.get(f"/import/{sid}/header").status_code


def test_a_file_changed_on_disk_is_refused(tmp_path: Path) -> None:
    """A session file whose bytes changed fails its signature: 410, never unpickled."""
    folder = tmp_path / "s"
    [client] = workers(folder, 1)
    sid = upload(client)
    [path] = folder.glob("*.import")
    data = bytearray(path.read_bytes())
    data[10] ^= 1
    path.write_bytes(bytes(data))
    assert 410 == client.get(f"/import/{sid}/header").status_code


def test_an_import_expires_in_the_folder_and_ids_are_random(tmp_path: Path) -> None:
    """A file unused for session_ttl answers 410 and is removed; unknown ids make no files."""
    folder = tmp_path / "s"
    app = create_app(
        ui.InMemoryUserRepository(), secret="k" * 32, session_dir=folder, session_ttl=60
    )
    client = TestClient(app)
    client.get("/users")
    sid = upload(client)
    other = upload(client)
    assert sid != other
    assert re.fullmatch(r"[\w-]{32}", sid)
    path = folder / f"{sid}.import"
    os.utime(path, (path.stat().st_atime - 61, path.stat().st_mtime - 61))
    assert 410 == client.get(f"/import/{sid}/header").status_code
    assert not path.exists()
    assert client.get("/import/..%2F..%2Fetc/header").status_code in (404, 410)
    assert 410 == client.get("/import/..sid/header").status_code
    assert 410 == client.get("/import/never-issued/header").status_code
    assert [] == list(folder.glob("never-issued*"))
    assert 200 == client.get(f"/import/{other}/header").status_code


def test_the_folder_is_private_and_needs_a_secret(tmp_path: Path) -> None:
    """session_dir needs a secret and a folder no one else may write to; a new one is 0700."""
    with pytest.raises(ValueError, match="secret"):
        create_app(ui.InMemoryUserRepository(), session_dir=tmp_path / "a")
    create_app(ui.InMemoryUserRepository(), secret="k" * 32, session_dir=tmp_path / "b")
    assert 0o700 == (tmp_path / "b").stat().st_mode & 0o777
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(ValueError, match="chmod 700"):
        create_app(ui.InMemoryUserRepository(), secret="k" * 32, session_dir=shared)


def test_two_workers_changing_one_import_at_once_take_turns(tmp_path: Path) -> None:
    """Concurrent skips of different rows from two workers are all kept (no lost update)."""
    first, second = workers(tmp_path / "s")
    rows = "".join(f"P{i},L{i},p{i}@firma.no,Sales\n" for i in range(12))
    text = "First Name,Last Name,Email,Department\n" + rows
    sid = upload(first, text)
    second.cookies.update(first.cookies)
    data = {"csrf": csrf(first), "header_row": "0"}
    assert 200 == first.post(f"/import/{sid}/header", data=data).status_code
    first.get(f"/import/{sid}/review")

    def skip(client: TestClient, rows: range) -> None:
        for row in rows:
            data = {"csrf": csrf(client), "action": "skip"}
            assert 200 == client.post(f"/import/{sid}/row/{row}/action", data=data).status_code

    threads = [
        threading.Thread(target=skip, args=(first, range(2, 8))),
        threading.Thread(target=skip, args=(second, range(8, 14))),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert "<strong>12</strong> skipped" in first.get(f"/import/{sid}/review").text


def test_library_calls_run_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading, validating, planning, applying and the store's calls never run on the loop."""
    on_loop: list[str] = []
    called: list[str] = []

    def watched(name: str, fn: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            called.append(name)
            try:
                asyncio.get_running_loop()
                on_loop.append(name)
            except RuntimeError:
                pass
            return fn(*args, **kwargs)

        return call

    stages = ("read_table", "detect_header", "suggest_mapping", "validate", "plan_import")
    for module in (web_base, web_wizard):
        for name in (*stages, "apply_plan"):
            if hasattr(module, name):
                monkeypatch.setattr(module, name, watched(name, getattr(module, name)))
    inner = ui.InMemoryUserRepository()

    class Store:
        def snapshot(self) -> ui.Snapshot:
            return watched("snapshot", inner.snapshot)()

        def commit(self, changes: ui.ChangeSet, *, expected_version: str) -> str:
            return watched("commit", inner.commit)(changes, expected_version=expected_version)

    client = TestClient(create_app(Store()))
    client.get("/users")
    sid = upload(client, TITLED)
    to_review(client, sid)
    client.post(f"/import/{sid}/row/4/action", data={"csrf": csrf(client), "action": "skip"})
    overview = client.get(f"/import/{sid}/overview").text
    done = client.post(
        f"/import/{sid}/start", data={"csrf": csrf(client), "plan": plan_id(overview)}
    )
    assert "2 created" in done.text
    assert 2 == len(inner.snapshot().users)
    assert [] == on_loop
    assert {"read_table", "validate", "plan_import", "apply_plan", "snapshot"} <= set(called)


def test_skipping_the_mapping_step_is_told_in_words_not_a_traceback(tmp_path: Path) -> None:
    """The review reached before the columns fit the required properties: 400 with the reason."""
    [client] = workers(tmp_path / "s", 1)
    sid = upload(client, "First Name,Last Name,Email\nAnna,Berg,anna@firma.no\n")
    response = client.get(f"/import/{sid}/review")
    assert 400 == response.status_code
    assert "no column feeds department" in response.text


# -- userimport serve --workers ------------------------------------------------------------


def test_serve_with_workers_gives_every_worker_one_secret_and_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """serve --workers 2 runs uvicorn's factory; two workers built from its config share imports."""
    import uvicorn

    from userimport.cli import EXIT_OK, cli
    from userimport.web import serve

    monkeypatch.delenv("USERIMPORT_SCHEMA", raising=False)
    seen: dict[str, Any] = {}

    def fake_run(app: object, **options: Any) -> None:
        config = json.loads(os.environ[serve.CONFIG_ENV])
        again = "config" in seen
        seen.update(options, app=app, config=config)
        assert 0o700 == os.stat(config["session_dir"]).st_mode & 0o777
        if again:
            return
        first, second = (TestClient(serve.worker_app()) for _ in range(2))
        first.get("/users")
        sid = upload(first)
        second.cookies.update(first.cookies)
        to_review(second, sid)  # the second worker accepts the first's CSRF token and import
        overview = first.get(f"/import/{sid}/overview").text
        done = second.post(
            f"/import/{sid}/start", data={"csrf": csrf(first), "plan": plan_id(overview)}
        )
        assert "2 created" in done.text

    monkeypatch.setattr(uvicorn, "run", fake_run)
    db = f"sqlite:///{tmp_path / 'users.db'}"
    result = CliRunner().invoke(cli, ["--db", db, "--create", "serve", "--workers", "2"])
    assert EXIT_OK == result.exit_code, result.output
    assert "with 2 workers" in result.output
    assert ("userimport.web.serve:worker_app", True, 2) == (
        seen["app"],
        seen["factory"],
        seen["workers"],
    )
    assert db == seen["config"]["url"]
    assert 40 <= len(seen["config"]["secret"])
    assert not os.path.exists(seen["config"]["session_dir"])  # the temporary folder is gone
    assert serve.CONFIG_ENV not in os.environ
    assert 2 == len(SqlUserRepository(db).snapshot().users)
    first_secret = seen["config"]["secret"]
    again = CliRunner().invoke(cli, ["--db", db, "serve", "--workers", "2"])
    assert EXIT_OK == again.exit_code, again.output
    assert first_secret != seen["config"]["secret"]  # a new one for every serve


def test_serve_with_workers_still_refuses_a_public_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--workers changes nothing about the refusal of a public host without a token."""
    import uvicorn

    from userimport.cli import EXIT_USAGE, cli
    from userimport.web.serve import worker_app

    calls: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(app))
    db = f"sqlite:///{tmp_path / 'users.db'}"
    args = ["--db", db, "--create", "serve", "--workers", "2", "--host", "0.0.0.0"]
    refused = CliRunner().invoke(cli, args)
    assert EXIT_USAGE == refused.exit_code
    assert "--token" in refused.output
    assert [] == calls
    with pytest.raises(ui.SettingsError, match="serve started"):
        worker_app()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_real_serve_with_two_workers_runs_a_whole_import(tmp_path: Path) -> None:
    """`userimport serve --workers 2` in a subprocess: a whole import over HTTP, into --db."""
    httpx = pytest.importorskip("httpx2")
    psutil = pytest.importorskip("psutil")
    db = f"sqlite:///{tmp_path / 'users.db'}"
    sessions = tmp_path / "sessions"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("USERIMPORT_")}
    command = [sys.executable, "-m", "userimport", "--db", db, "--create", "serve"]
    command += ["--workers", "2", "--port", str(port), "--session-dir", str(sessions)]
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        # A fresh connection per request, so that the requests spread over both workers.
        client = httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Connection": "close"},
            limits=httpx.Limits(max_keepalive_connections=0),
            follow_redirects=True,
            timeout=60,
        )
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            try:
                if 200 == client.get("/users").status_code:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not answer"
            time.sleep(0.3)
        workers = [
            p
            for p in psutil.Process(server.pid).children()
            if "spawn_main" in " ".join(p.cmdline())
        ]
        assert 2 == len(workers)
        c = client.cookies["userimport_csrf"]
        response = client.post(
            "/import", data={"csrf": c}, files={"file": ("staff.csv", TITLED.encode(), "text/csv")}
        )
        found = re.search(r"/import/([\w-]+)/header$", str(response.url))
        assert found is not None, response.text
        at = f"/import/{found.group(1)}"
        assert 1 == len(list(sessions.iterdir())) - len(list(sessions.glob("*.lock")))
        assert 200 == client.post(f"{at}/header", data={"csrf": c, "header_row": "1"}).status_code
        columns = {"col0": "first_name", "col1": "last_name", "col2": "email"}
        columns |= {"col3": "department", "col4": "groups", "group_separator": ";"}
        assert 200 == client.post(f"{at}/mapping", data={"csrf": c, **columns}).status_code
        settings = {"csrf": c, "on_existing": "update", "groups": "add", "max_deletes": "50"}
        assert str(client.post(f"{at}/settings", data=settings).url).endswith("/review")
        fixed = {"csrf": c, "first_name": "Per", "last_name": "Lie", "email": "per@firma.no"}
        fixed |= {"department": "Sales", "groups": "Oslo"}
        for _ in range(3):  # several requests, each on whichever worker accepts it
            assert "0</strong> with errors" in client.post(f"{at}/row/4", data=fixed).text
            assert 200 == client.get(f"{at}/review").status_code
        overview = client.get(f"{at}/overview").text
        assert "3 to create" in overview
        done = client.post(f"{at}/start", data={"csrf": c, "plan": plan_id(overview)})
        assert "3 created" in done.text, done.text
        assert "staff.csv" in client.get("/history").text
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stdout:
            server.stdout.close()
    users = SqlUserRepository(db).snapshot().users
    assert {"anna@firma.no", "per@firma.no", "kari@firma.no"} == set(users)

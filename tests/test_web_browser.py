"""
The import wizard in a real browser: Playwright driving Debian's chromium against uvicorn.

Nothing is downloaded: the browser is ``/usr/bin/chromium`` (``.ci/run`` installs it with apt).
In CI (``CI`` set) a missing browser or Playwright fails the test; locally it is skipped only
when ``/usr/bin/chromium`` is missing. Screenshots go to a temporary folder, never the repo.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import userimport as ui

XSS = "<img src=x onerror=alert(1)>"
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
STAFF = (
    "Staff list autumn\n"
    "First Name,Last Name,Email,Department,Groups\n"
    "Anna,Berg,anna@firma.no,Sales,Oslo;Leaders\n"
    "Per,Lie,per(at)firma.no,Sales,Oslo\n"
    "Kari,Dahl,kari@firma.no,HR,Bergen\n"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served() -> Iterator[tuple[str, ui.InMemoryUserRepository]]:
    """The app on a free port of 127.0.0.1, served by uvicorn in a thread."""
    if not CHROMIUM.exists() and not os.environ.get("CI"):
        pytest.skip("no /usr/bin/chromium here (CI installs it and then requires it)")
    import uvicorn

    from userimport.web import create_app

    repo = ui.InMemoryUserRepository()
    port = _free_port()
    config = uvicorn.Config(create_app(repo), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", repo
    finally:
        server.should_exit = True
        thread.join(10)


def test_import_fix_a_row_apply_and_undo_in_chromium(
    served: tuple[str, ui.InMemoryUserRepository], tmp_path: Path
) -> None:
    """A title row, ';' groups and a bad email fixed in the grid; imported, then undone."""
    from playwright.sync_api import expect, sync_playwright

    base, repo = served
    source = tmp_path / "staff.csv"
    source.write_text(STAFF, encoding="utf-8")
    shots = tmp_path / "screenshots"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{base}/import")
            page.set_input_files("input[name=file]", str(source))
            page.get_by_role("button", name="Upload").click()
            expect(page.get_by_text("Row 2 (detected)")).to_be_visible()
            page.get_by_role("button", name="Next: columns").click()
            page.get_by_label("Group separator").fill(";")
            page.get_by_role("button", name="Next: settings").click()
            page.get_by_role("button", name="Next: review").click()
            counts = page.locator("#counts")
            expect(counts).to_contain_text("1 with errors")
            page.screenshot(path=str(shots / "review.png"), full_page=True)
            page.get_by_role("link", name="Row 4").click()
            page.get_by_label("email").fill("per@firma.no")
            page.get_by_role("button", name="Save and recheck").click()
            expect(counts).to_contain_text("0 with errors")
            page.get_by_role("link", name="Next: overview").click()
            expect(page.locator("#summary")).to_contain_text("3 to create")
            page.screenshot(path=str(shots / "overview.png"), full_page=True)
            page.get_by_role("button", name="Start import").click()
            expect(page.locator("#result")).to_contain_text("3 created")
            users = repo.snapshot().users
            assert {"anna@firma.no", "per@firma.no", "kari@firma.no"} == set(users)
            assert frozenset({"Oslo", "Leaders"}) == users["anna@firma.no"].groups
            page.get_by_role("button", name="Undo this import").click()
            expect(page.get_by_text("The import was undone")).to_be_visible()
            page.screenshot(path=str(shots / "undone.png"), full_page=True)
        finally:
            browser.close()
    assert {} == dict(repo.snapshot().users)


def test_a_cell_with_html_is_visible_text_and_runs_nothing(
    served: tuple[str, ui.InMemoryUserRepository], tmp_path: Path
) -> None:
    """A cell '<img src=x onerror=alert(1)>' shows as text in the grid; no dialog opens."""
    from playwright.sync_api import expect, sync_playwright

    base, _ = served
    source = tmp_path / "xss.csv"
    source.write_text(
        f"First Name,Last Name,Email,Department\n{XSS},Berg,anna@firma.no,Sales\n",
        encoding="utf-8",
    )
    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(f"{base}/import")
            page.set_input_files("input[name=file]", str(source))
            page.get_by_role("button", name="Upload").click()
            page.get_by_role("button", name="Next: columns").click()
            page.get_by_role("button", name="Next: settings").click()
            page.get_by_role("button", name="Next: review").click()
            expect(page.locator("#grid")).to_contain_text(XSS)
            assert 0 == page.locator("#grid img").count()
            page.screenshot(path=str(tmp_path / "xss.png"), full_page=True)
        finally:
            browser.close()
    assert [] == dialogs

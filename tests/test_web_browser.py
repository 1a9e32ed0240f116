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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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
def serve() -> Iterator[Callable[[ui.UserRepository], str]]:
    """Serve the app over a store on a free port of 127.0.0.1 (uvicorn in a thread)."""
    if not CHROMIUM.exists() and not os.environ.get("CI"):
        pytest.skip("no /usr/bin/chromium here (CI installs it and then requires it)")
    import uvicorn

    from userimport.web import create_app

    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(repo: ui.UserRepository) -> str:
        port = _free_port()
        config = uvicorn.Config(create_app(repo), host="127.0.0.1", port=port, log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        servers.append((server, thread))
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        return f"http://127.0.0.1:{port}"

    try:
        yield start
    finally:
        for server, thread in servers:
            server.should_exit = True
            thread.join(10)


@pytest.fixture
def served(
    serve: Callable[[ui.UserRepository], str],
) -> tuple[str, ui.InMemoryUserRepository]:
    """The app over an empty in-memory store."""
    repo = ui.InMemoryUserRepository()
    return serve(repo), repo


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
            expect(page.locator("#editor input[name=first_name]")).to_be_focused()
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


# -- the whole flow on a workbook, keyboard-only review, the narrow viewport ---------------------

STORE = [
    ui.User(email="anna@firma.no", first_name="Anna", last_name="Berg", department="Salg"),
    *(
        ui.User(email=f"gammel{i}@firma.no", first_name="Gammel", last_name=f"Nr{i}")
        for i in (1, 2, 3)
    ),
]
WORKBOOK = [
    ["Ansatte høsten 2026"],
    ["Fornavn", "Etternavn", "E-post", "Avdeling", "Grupper"],
    ["Anna", "Berg", "anna@firma.no", "Salg", "Oslo;Ledere"],
    ["Per", "Lie", "per(at)firma.no", "Salg", "Oslo"],
    ["Kari", "Dahl", "kari@firma.no", "HR", "Bergen"],
    ["Ola", "Nordmann", "ola@firma", "HR", "Bergen"],
    ["", "", "", "Salg", ""],
    ["Siri", "Moe", "siri@firma.no", "Økonomi", "Oslo;Bergen"],
]


def _workbook(path: Path) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Ansatte"
    for row in WORKBOOK:
        sheet.append(row)
    book.save(path)
    return path


def _tab_to(page: Any, test: str, limit: int = 150) -> None:
    """Press Tab until the focused element passes the JavaScript ``test`` (of ``e``)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const e = document.activeElement; return !!({test}); }})()"):
            return
    raise AssertionError(f"Tab never reached an element where {test}")


def _no_horizontal_overflow(page: Any) -> int:
    """How far the page itself is wider than the viewport (tables scroll in their own box)."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def test_a_workbook_with_three_bad_rows_in_mirror_mode_imported_and_undone_from_the_history(
    serve: Callable[[ui.UserRepository], str], tmp_path: Path
) -> None:
    """XLSX, 3 bad rows fixed or skipped, mirror mode blocked then allowed, undone from History."""
    from playwright.sync_api import expect, sync_playwright

    repo = ui.InMemoryUserRepository(STORE)
    before = dict(repo.snapshot().users)
    base = serve(repo)
    source = _workbook(tmp_path / "ansatte.xlsx")
    shots = tmp_path / "screenshots"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{base}/import")
            page.set_input_files("input[name=file]", str(source))
            page.get_by_role("button", name="Upload").click()
            expect(page.get_by_text("Row 2 (detected)")).to_be_visible()
            expect(page.get_by_text("worksheet “Ansatte”")).to_be_visible()
            page.get_by_role("button", name="Next: columns").click()
            expect(page.get_by_label("E-post")).to_have_value("email")
            expect(page.get_by_label("Grupper")).to_have_value("groups")
            page.get_by_label("Group separator").fill(";")
            page.get_by_role("button", name="Next: settings").click()
            page.get_by_label("Delete users of the store who are not in the file").check()
            page.get_by_role("button", name="Next: review").click()
            counts = page.locator("#counts")
            expect(counts).to_contain_text("3 with errors")
            page.screenshot(path=str(shots / "review.png"), full_page=True)

            # Row 4 by mouse: the editor, a fixed email, saved.
            page.get_by_role("link", name="Row 4", exact=True).click()
            first_cell = page.locator("#editor input[name=first_name]")
            expect(first_cell).to_be_focused()  # the editor opens on its first cell
            page.get_by_label("email").fill("per@firma.no")
            page.get_by_role("button", name="Save and recheck").click()
            expect(counts).to_contain_text("2 with errors")

            # Row 6 by keyboard only: Tab to it, Enter opens, type, Enter saves.
            page.locator("body").focus()
            _tab_to(page, "e.textContent === 'Row 6'")
            page.keyboard.press("Enter")
            expect(page.get_by_role("heading", name="Row 6")).to_be_visible()
            expect(first_cell).to_be_focused()
            _tab_to(page, "e.name === 'email'")
            page.keyboard.press("Control+A")
            page.keyboard.type("ola@firma.no")
            page.keyboard.press("Enter")
            expect(counts).to_contain_text("1 with errors")

            # Row 7 by keyboard: Escape closes the editor unsaved, then Skip with the keyboard.
            page.locator("body").focus()
            _tab_to(page, "e.textContent === 'Row 7'")
            page.keyboard.press("Enter")
            expect(page.get_by_role("heading", name="Row 7")).to_be_visible()
            expect(first_cell).to_be_focused()
            page.keyboard.type("typed, then abandoned")
            page.keyboard.press("Escape")
            expect(counts).to_contain_text("1 with errors")
            page.locator("body").focus()
            _tab_to(page, "e.closest('tr')?.dataset.row === '7' && e.value === 'skip'")
            page.keyboard.press("Enter")
            expect(counts).to_contain_text("0 with errors")
            expect(counts).to_contain_text("1 skipped")

            # Mirror mode would delete 3 of 4 users: over the 10 % share, so blocked.
            page.get_by_role("link", name="Next: overview").click()
            expect(page.get_by_role("heading", name="Blocked")).to_be_visible()
            expect(page.get_by_role("button", name="Start import")).to_have_count(0)
            expect(page.locator(".error").first).to_contain_text("share of the users")
            page.screenshot(path=str(shots / "blocked.png"), full_page=True)
            page.get_by_role("link", name="Change the settings").click()
            page.get_by_label("At most this share of the users deleted").fill("")
            page.get_by_role("button", name="Next: review").click()
            expect(counts).to_contain_text("0 with errors")
            page.get_by_role("link", name="Next: overview").click()
            expect(page.locator("#summary")).to_contain_text("4 to create")
            expect(page.locator("#summary")).to_contain_text("3 to delete")
            page.get_by_role("button", name="Start import").click()
            expect(page.locator("#result")).to_contain_text("4 created, 1 updated, 3 deleted")
            users = repo.snapshot().users
            expected = {"anna", "per", "kari", "ola", "siri"}
            assert {f"{n}@firma.no" for n in expected} == set(users)
            assert frozenset({"Oslo", "Ledere"}) == users["anna@firma.no"].groups

            # Undo from the history.
            page.get_by_role("link", name="History", exact=True).click()
            record = page.locator("section.record").first
            expect(record).to_contain_text("ansatte.xlsx")
            expect(record).to_contain_text("4 created, 1 updated, 3 deleted.")
            record.get_by_role("button", name="Undo this import").click()
            expect(page.get_by_text("The import was undone")).to_be_visible()
            expect(page.locator("section.record").first).to_contain_text("Undone ")
            page.screenshot(path=str(shots / "history.png"), full_page=True)
        finally:
            browser.close()
    assert before == dict(repo.snapshot().users)


def test_a_file_dropped_on_the_upload_zone_is_uploaded(
    served: tuple[str, ui.InMemoryUserRepository], tmp_path: Path
) -> None:
    """A file dropped on the zone fills the file input underneath; Upload reads it."""
    from playwright.sync_api import expect, sync_playwright

    base, _ = served
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{base}/import")
            page.evaluate(
                """(text) => {
                    const data = new DataTransfer();
                    data.items.add(new File([text], "dropped.csv", {type: "text/csv"}));
                    const zone = document.getElementById("drop");
                    for (const type of ["dragenter", "dragover", "drop"]) {
                        zone.dispatchEvent(new DragEvent(type, {
                            dataTransfer: data, bubbles: true, cancelable: true}));
                    }
                }""",
                STAFF,
            )
            expect(page.locator("#picked")).to_have_text("dropped.csv")
            page.get_by_role("button", name="Upload").click()
            expect(page.get_by_text("Row 2 (detected)")).to_be_visible()
            expect(page.get_by_text("File: dropped.csv")).to_be_visible()
        finally:
            browser.close()


def test_every_page_is_readable_at_a_phone_width(
    serve: Callable[[ui.UserRepository], str], tmp_path: Path
) -> None:
    """At 390x844 no page is wider than the screen: wide grids scroll inside their own box."""
    from playwright.sync_api import sync_playwright

    repo = ui.InMemoryUserRepository(STORE)
    base = serve(repo)
    source = _workbook(tmp_path / "ansatte.xlsx")
    shots = tmp_path / "narrow"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            overflow: dict[str, int] = {}
            page.goto(f"{base}/users")
            overflow["users"] = _no_horizontal_overflow(page)
            page.goto(f"{base}/import")
            overflow["upload"] = _no_horizontal_overflow(page)
            page.set_input_files("input[name=file]", str(source))
            page.get_by_role("button", name="Upload").click()
            page.get_by_role("button", name="Next: columns").wait_for()
            for step, button in [
                ("header", "Next: columns"),
                ("mapping", "Next: settings"),
                ("settings", "Next: review"),
            ]:
                overflow[step] = _no_horizontal_overflow(page)
                page.screenshot(path=str(shots / f"{step}.png"), full_page=True)
                page.get_by_role("button", name=button).click()
            page.locator("#counts").wait_for()
            overflow["review"] = _no_horizontal_overflow(page)
            page.get_by_role("link", name="Row 4", exact=True).click()
            page.get_by_label("email").wait_for()
            overflow["row"] = _no_horizontal_overflow(page)
            page.goto(page.url.split("/row/")[0] + "/overview")
            overflow["overview"] = _no_horizontal_overflow(page)
            page.screenshot(path=str(shots / "overview.png"), full_page=True)
            page.goto(f"{base}/history")
            overflow["history"] = _no_horizontal_overflow(page)
        finally:
            browser.close()
    assert dict.fromkeys(overflow, 0) == {k: max(0, v) for k, v in overflow.items()}


def test_add_user_has_a_declared_fields_input_in_chromium(
    serve: Callable[[ui.UserRepository], str], tmp_path: Path
) -> None:
    """A store declaring a phone field: Add user has its labelled input; the value is kept."""
    from playwright.sync_api import expect, sync_playwright

    from userimport.sql import SqlUserRepository

    schema = ui.DEFAULT_SCHEMA.with_fields(
        ui.Field(key="phone", label="Mobile", kind="phone", region="NO")
    )
    repo = SqlUserRepository(f"sqlite:///{tmp_path / 'users.db'}", schema=schema)
    seed = "First Name,Last Name,Email,Department\nOle,Hansen,ole@firma.no,HR\n"
    ui.import_file(seed.encode(), repo, dry_run=False)
    base = serve(repo)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.goto(f"{base}/users")
            expect(page.get_by_role("columnheader", name="Mobile")).to_be_visible()
            page.get_by_label("First name").fill("Kari")
            page.get_by_label("Last name").fill("Dahl")
            page.get_by_label("Email").fill("kari@firma.no")
            mobile = page.get_by_label("Mobile")
            expect(mobile).to_have_attribute("type", "tel")
            mobile.fill("12")
            page.get_by_role("button", name="Add user").click()
            expect(page.get_by_role("alert")).to_contain_text("Mobile: phone '12'")
            page.get_by_label("Mobile").fill("912 34 568")
            page.get_by_role("button", name="Add user").click()
            expect(page.get_by_text("The user was added.")).to_be_visible()
            expect(page.get_by_role("cell", name="+4791234568")).to_be_visible()
            page.screenshot(path=str(tmp_path / "declared.png"), full_page=True)
        finally:
            browser.close()
    assert {"phone": "+4791234568"} == dict(repo.snapshot().get("kari@firma.no").attributes)

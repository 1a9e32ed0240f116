"""The web pages through Starlette's test client: every step, its refusals and its limits."""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("jinja2")

from click.testing import CliRunner
from markupsafe import escape
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

import userimport as ui
from userimport.cli import EXIT_OK, EXIT_USAGE, cli
from userimport.web import create_app
from userimport.web.serve import address, check_host, is_loopback

XSS = "<img src=x onerror=alert(1)>"
TITLED = (
    "Staff list autumn\n"
    "First Name,Last Name,Email,Department,Groups\n"
    "Anna,Berg,anna@firma.no,Sales,Oslo;Leaders\n"
    "Per,Lie,not-an-email,Sales,Oslo\n"
    "Kari,Dahl,kari@firma.no,HR,\n"
)


def make(repo: ui.UserRepository | None = None, **options: object) -> tuple[TestClient, object]:
    app = create_app(repo if repo is not None else ui.InMemoryUserRepository(), **options)  # type: ignore[arg-type]
    client = TestClient(app)
    assert 200 == client.get("/users").status_code
    return client, app


def csrf(client: TestClient) -> str:
    return client.cookies["userimport_csrf"]


def upload(client: TestClient, text: str = TITLED, name: str = "staff.csv") -> str:
    """Upload ``text`` and return the import's id."""
    response = client.post(
        "/import",
        data={"csrf": csrf(client)},
        files={"file": (name, text.encode("utf-8"), "text/csv")},
    )
    assert 200 == response.status_code, response.text
    match = re.search(r"/import/([\w-]+)/header$", str(response.url))
    assert match is not None
    return match.group(1)


def to_review(client: TestClient, sid: str, **settings: str) -> None:
    """Confirm the header, map with ';' as group separator, choose settings."""
    c = csrf(client)
    assert (
        200 == client.post(f"/import/{sid}/header", data={"csrf": c, "header_row": "1"}).status_code
    )
    columns = {"col0": "first_name", "col1": "last_name", "col2": "email"}
    columns |= {"col3": "department", "col4": "groups"}
    response = client.post(
        f"/import/{sid}/mapping", data={"csrf": c, "group_separator": ";", **columns}
    )
    assert 200 == response.status_code
    data = {"csrf": c, "on_existing": "update", "groups": "add", "max_deletes": "50"}
    response = client.post(f"/import/{sid}/settings", data=data | settings)
    assert str(response.url).endswith("/review")


def plan_id(html: str) -> str:
    match = re.search(r'name="plan" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


@pytest.fixture
def store() -> ui.InMemoryUserRepository:
    """A store with one department and one user."""
    repo = ui.InMemoryUserRepository()
    ui.apply_plan(
        ui.plan_import(
            ui.validate(
                *_table("First Name,Last Name,Email,Department\nOle,Hansen,ole@firma.no,HR\n")
            ),
            repo,
        ),
        repo,
    )
    return repo


def _table(text: str) -> tuple[ui.RawTable, int, ui.ColumnMapping]:
    table = ui.read_table(io.BytesIO(text.encode()))
    return table, 0, ui.suggest_mapping(table, 0)


# -- the whole flow ------------------------------------------------------------------------


def test_the_whole_import_flow_fixes_a_row_applies_and_undoes() -> None:
    """Upload, header, mapping, settings, review (fix a bad email), overview, start, undo."""
    repo = ui.InMemoryUserRepository()
    client, _ = make(repo)
    sid = upload(client)
    header = client.get(f"/import/{sid}/header").text
    assert "Row 2 (detected)" in header
    assert "encoding utf-8" in header
    to_review(client, sid)
    review = client.get(f"/import/{sid}/review").text
    assert "1</strong> with errors" in review
    assert "not a valid email" in review
    response = client.post(
        f"/import/{sid}/row/4",
        data={"csrf": csrf(client), "first_name": "Per", "last_name": "Lie"}
        | {"email": "per@firma.no", "department": "Sales", "groups": "Oslo"},
    )
    assert "0</strong> with errors" in response.text
    overview = client.get(f"/import/{sid}/overview")
    assert "3 to create" in overview.text
    assert "Leaders, Oslo" in overview.text
    done = client.post(
        f"/import/{sid}/start", data={"csrf": csrf(client), "plan": plan_id(overview.text)}
    )
    assert "3 created" in done.text
    assert {"anna@firma.no", "per@firma.no", "kari@firma.no"} == set(repo.snapshot().users)
    assert frozenset({"Oslo", "Leaders"}) == repo.snapshot().users["anna@firma.no"].groups
    undone = client.post(f"/import/{sid}/undo", data={"csrf": csrf(client)})
    assert 200 == undone.status_code
    assert {} == dict(repo.snapshot().users)


def test_the_app_works_mounted_under_a_path() -> None:
    """Mounted in a host app, every link and redirect stays under the mount point."""
    host = Starlette(routes=[Mount("/admin/people", app=create_app(ui.InMemoryUserRepository()))])
    client = TestClient(host)
    page = client.get("/admin/people/users")
    assert 200 == page.status_code
    assert 'href="/admin/people/import"' in page.text
    assert 'src="/admin/people/static/htmx.min.js"' in page.text
    response = client.post(
        "/admin/people/import",
        data={"csrf": client.cookies["userimport_csrf"]},
        files={"file": ("s.csv", TITLED.encode(), "text/csv")},
        follow_redirects=False,
    )
    assert 303 == response.status_code
    assert response.headers["location"].startswith("/admin/people/import/")
    assert 200 == client.get("/admin/people/static/htmx.min.js").status_code


def test_review_only_errors_search_skip_and_paging() -> None:
    """The grid filters on the server: only errors, search, skip/unskip, pages of 50."""
    rows = "".join(f"P{i},L{i},p{i}@firma.no,Sales,\n" for i in range(120))
    client, _ = make()
    sid = upload(client, TITLED + rows)
    to_review(client, sid)
    first = client.get(f"/import/{sid}/review").text
    assert "Page 1 of 3" in first
    only = client.get(f"/import/{sid}/review?errors=1").text
    assert "1 row shown" in only
    assert "not-an-email" in only
    found = client.get(f"/import/{sid}/review?q=p117@").text
    assert "1 row shown" in found
    assert "p117@firma.no" in found
    skipped = client.post(
        f"/import/{sid}/row/4/action", data={"csrf": csrf(client), "action": "skip"}
    )
    assert "1</strong> skipped" in skipped.text
    assert "0</strong> with errors" in skipped.text
    unskipped = client.post(
        f"/import/{sid}/row/4/action", data={"csrf": csrf(client), "action": "unskip"}
    )
    assert "1</strong> with errors" in unskipped.text


def test_header_none_and_mapping_changes_are_kept() -> None:
    """'No header' names columns by letter; leaving a column out and a duplicate are handled."""
    client, app = make()
    sid = upload(client)
    c = csrf(client)
    client.post(f"/import/{sid}/header", data={"csrf": c, "header_row": "none"})
    assert app.web.sessions.imports[sid].header_row is None  # type: ignore[attr-defined]
    client.post(f"/import/{sid}/header", data={"csrf": c, "header_row": "1"})
    twice = client.post(
        f"/import/{sid}/mapping", data={"csrf": c, "col0": "email", "col2": "email"}
    )
    assert 400 == twice.status_code
    assert "only one column can feed each property" in twice.text
    client.post(
        f"/import/{sid}/mapping",
        data={"csrf": c, "col0": "first_name", "col1": "last_name", "col2": "email"}
        | {"col3": "department", "col4": "", "department_as_group": "on"},
    )
    mapping = app.web.sessions.imports[sid].mapping  # type: ignore[attr-defined]
    assert 4 not in mapping.targets
    assert mapping.department_as_group


# -- safety --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/import", "/users/add", "/users/delete", "/users/admin", "/users/edit"]
)
def test_a_post_without_the_csrf_token_is_refused(path: str) -> None:
    """Every state-changing request without a valid CSRF token gets 403 and changes nothing."""
    client, _ = make()
    assert 403 == client.post(path, data={"email": "a@b.no"}).status_code
    assert 403 == client.post(path, data={"csrf": "forged.0000", "email": "a@b.no"}).status_code


def test_a_token_from_another_app_is_refused() -> None:
    """A token signed by another app (another secret) is refused even when cookie and form agree."""
    other, _ = make(secret="one")
    client, _ = make(secret="two")
    forged = csrf(other)
    client.cookies.set("userimport_csrf", forged)
    assert 403 == client.post("/users/add", data={"csrf": forged}).status_code


def test_the_import_steps_refuse_a_missing_token() -> None:
    """The wizard's POSTs need the token too."""
    client, _ = make()
    sid = upload(client)
    for step in ("header", "mapping", "settings", "start", "undo", "row/3", "row/3/action"):
        assert 403 == client.post(f"/import/{sid}/{step}", data={}).status_code


def test_an_oversized_upload_is_refused_with_413() -> None:
    """A body over max_upload_bytes gets 413 and a message, and no import is made."""
    client, app = make(max_upload_bytes=2000)
    response = client.post(
        "/import",
        data={"csrf": csrf(client)},
        files={"file": ("big.csv", b"a,b\n" * 1000, "text/csv")},
    )
    assert 413 == response.status_code
    assert "too large" in response.text
    assert {} == app.web.sessions.imports  # type: ignore[attr-defined]


def test_too_many_rows_is_said_in_words() -> None:
    """A file over max_rows is refused on the upload page with the reading error."""
    client, _ = make(max_rows=2)
    response = client.post(
        "/import",
        data={"csrf": csrf(client)},
        files={"file": ("s.csv", TITLED.encode(), "text/csv")},
    )
    assert 400 == response.status_code
    assert "2" in response.text
    assert 'role="alert"' in response.text


def test_an_upload_that_is_not_a_spreadsheet_is_refused() -> None:
    """A file whose name says it is neither CSV nor XLSX is refused with a message."""
    client, _ = make()
    response = client.post(
        "/import",
        data={"csrf": csrf(client)},
        files={"file": ("photo.png", b"\x89PNG", "image/png")},
    )
    assert 400 == response.status_code
    assert "not a CSV or XLSX" in response.text


def test_uploads_leave_nothing_in_the_temporary_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The uploaded file is written to a temporary folder that is gone after the request."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    client, _ = make()
    upload(client)
    assert [] == list(tmp_path.iterdir())


def test_an_expired_or_unknown_import_answers_410() -> None:
    """An import unused for session_ttl seconds is gone: 410 with a message; ids are random."""
    client, app = make(session_ttl=60)
    sid = upload(client)
    other = upload(client)
    assert sid != other
    assert len(sid) >= 30
    app.web.sessions.imports[sid].used -= 61  # type: ignore[attr-defined]
    response = client.get(f"/import/{sid}/review")
    assert 410 == response.status_code
    assert "expired" in response.text
    assert 410 == client.get("/import/not-a-real-id/header").status_code
    assert 200 == client.get(f"/import/{other}/header").status_code


def test_every_cell_is_shown_as_text() -> None:
    """A cell holding HTML is escaped on every page it appears on."""
    text = f"First Name,Last Name,Email,Department\n{XSS},Berg,anna@firma.no,{XSS}\n"
    repo = ui.InMemoryUserRepository()
    client, _ = make(repo)
    sid = upload(client, text)
    c = csrf(client)
    pages = [client.get(f"/import/{sid}/header").text]
    client.post(f"/import/{sid}/header", data={"csrf": c, "header_row": "0"})
    pages.append(client.get(f"/import/{sid}/mapping").text)
    client.post(
        f"/import/{sid}/mapping",
        data={"csrf": c, "col0": "first_name", "col1": "last_name", "col2": "email"}
        | {"col3": "department"},
    )
    pages.append(client.get(f"/import/{sid}/review").text)
    overview = client.get(f"/import/{sid}/overview").text
    pages.append(overview)
    client.post(f"/import/{sid}/start", data={"csrf": c, "plan": plan_id(overview)})
    pages.append(client.get("/users").text)
    for page in pages:
        assert XSS not in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_a_stale_plan_is_refused_on_start(store: ui.InMemoryUserRepository) -> None:
    """The store changed after the overview: Start import refuses with a clear 409."""
    client, _ = make(store)
    sid = upload(client)
    to_review(client, sid)
    overview = client.get(f"/import/{sid}/overview").text
    ui.delete_user(store, "ole@firma.no")
    response = client.post(
        f"/import/{sid}/start", data={"csrf": csrf(client), "plan": plan_id(overview)}
    )
    assert 409 == response.status_code
    assert "changed after this overview" in response.text
    assert {} == dict(store.snapshot().users)


def test_an_out_of_date_overview_is_refused_on_start() -> None:
    """A correction after the overview was shown makes its Start button refuse."""
    client, _ = make()
    sid = upload(client)
    to_review(client, sid)
    overview = client.get(f"/import/{sid}/overview").text
    client.post(f"/import/{sid}/row/4/action", data={"csrf": csrf(client), "action": "skip"})
    response = client.post(
        f"/import/{sid}/start", data={"csrf": csrf(client), "plan": plan_id(overview)}
    )
    assert 409 == response.status_code
    assert "out of date" in response.text


def test_undo_is_refused_once_the_store_changed() -> None:
    """After another change to the store, Undo explains why it is refused and changes nothing."""
    repo = ui.InMemoryUserRepository()
    client, _ = make(repo)
    sid = upload(client)
    to_review(client, sid)
    overview = client.get(f"/import/{sid}/overview").text
    client.post(f"/import/{sid}/start", data={"csrf": csrf(client), "plan": plan_id(overview)})
    ui.set_admin(repo, "anna@firma.no", True)
    response = client.post(f"/import/{sid}/undo", data={"csrf": csrf(client)})
    assert 409 == response.status_code
    assert "Undo is refused" in response.text
    assert {"anna@firma.no", "kari@firma.no"} == set(repo.snapshot().users)


def test_a_blocked_plan_names_the_setting_and_has_no_start_button(
    store: ui.InMemoryUserRepository,
) -> None:
    """Mirror mode over the deletion limit: the overview explains it, Start is refused."""
    client, _ = make(store)
    sid = upload(client)
    to_review(client, sid, delete_missing="on", max_deletes="0")
    overview = client.get(f"/import/{sid}/overview").text
    assert "Blocked" in overview
    assert "Settings: raise or clear" in overview
    assert 'name="plan"' not in overview
    assert "ole@firma.no" in set(store.snapshot().users)


def test_the_token_guards_every_request() -> None:
    """With a token, a request without it gets 401; ?token= once sets a cookie that works."""
    client = TestClient(create_app(ui.InMemoryUserRepository(), token="s3cret"))
    assert 401 == client.get("/users").status_code
    assert 401 == client.get("/users?token=wrong").status_code
    assert 200 == client.get("/users?token=s3cret").status_code
    assert 200 == client.get("/users").status_code


# -- users pages ---------------------------------------------------------------------------


def test_users_add_edit_admin_delete(store: ui.InMemoryUserRepository) -> None:
    """Add a user, edit, grant and revoke admin, delete after the confirmation page."""
    client, _ = make(store)
    c = csrf(client)
    added = client.post(
        "/users/add",
        data={"csrf": c, "first_name": "Kari", "last_name": "Dahl", "email": "kari@firma.no"}
        | {"department": "HR", "groups": "Oslo, New"},
    )
    assert "The user was added." in added.text
    assert frozenset({"Oslo", "New"}) == store.snapshot().users["kari@firma.no"].groups
    missing = client.post(
        "/users/add", data={"csrf": c, "first_name": "X", "email": "x@firma.no", "department": "HR"}
    )
    assert 400 == missing.status_code
    page = client.get("/users/edit?email=kari@firma.no")
    assert 'value="Kari"' in page.text
    client.post(
        "/users/edit",
        data={"csrf": c, "email": "kari@firma.no", "first_name": "Karin", "last_name": "Dahl"}
        | {"department": "HR", "groups": "Oslo"},
    )
    assert "Karin" == store.snapshot().users["kari@firma.no"].first_name
    client.post("/users/admin", data={"csrf": c, "email": "kari@firma.no", "grant": "1"})
    assert store.snapshot().users["kari@firma.no"].is_admin
    client.post("/users/admin", data={"csrf": c, "email": "kari@firma.no", "grant": "0"})
    assert not store.snapshot().users["kari@firma.no"].is_admin
    confirm = client.get("/users/delete?email=kari@firma.no")
    assert "Yes, delete kari@firma.no" in confirm.text
    client.post("/users/delete", data={"csrf": c, "email": "kari@firma.no"})
    assert "kari@firma.no" not in store.snapshot().users


def test_users_are_searched_and_paged_on_the_server() -> None:
    """120 users: 50 on a page, search narrows on the server."""
    repo = ui.InMemoryUserRepository()
    text = "First Name,Last Name,Email,Department\n" + "".join(
        f"P{i},L{i},p{i:03}@firma.no,Sales\n" for i in range(120)
    )
    ui.apply_plan(ui.plan_import(ui.validate(*_table(text)), repo), repo)
    client, _ = make(repo)
    first = client.get("/users").text
    assert "120 users" in first
    assert "Page 1 of 3" in first
    assert "p049@firma.no" in first
    assert "p050@firma.no" not in first
    assert "p050@firma.no" in client.get("/users?page=2").text
    found = client.get("/users?q=p117").text
    assert "1 user matching" in found


def test_export_and_template_downloads(store: ui.InMemoryUserRepository) -> None:
    """Export CSV/XLSX and the template come back as attachments the import reads."""
    client, _ = make(store)
    csv = client.get("/users/export?format=csv")
    assert "attachment" in csv.headers["content-disposition"]
    assert "ole@firma.no" in csv.text
    xlsx = client.get("/users/export?format=xlsx")
    assert b"PK" == xlsx.content[:2]
    table = ui.read_table(io.BytesIO(xlsx.content))
    assert 2 == len(table.rows)
    template = client.get("/template?format=csv")
    assert "Email" in template.text


# -- serve ---------------------------------------------------------------------------------


def test_serve_refuses_a_public_host_without_a_token_or_proxy() -> None:
    """A non-loopback host needs --token or --behind-auth; loopback addresses need neither."""
    assert is_loopback("127.0.0.1")
    assert is_loopback("::1")
    assert is_loopback("localhost")
    assert not is_loopback("0.0.0.0")
    check_host("127.0.0.1", token=None, behind_auth=False)
    check_host("0.0.0.0", token="t", behind_auth=False)
    check_host("0.0.0.0", token=None, behind_auth=True)
    with pytest.raises(ui.SettingsError, match=r"refusing to serve on 0\.0\.0\.0"):
        check_host("0.0.0.0", token=None, behind_auth=False)
    assert "http://127.0.0.1:8000/?token=t" == address("127.0.0.1", 8000, "t")


def test_the_serve_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """serve prints the address and runs uvicorn on 127.0.0.1; a public host is a usage error."""
    import uvicorn

    calls: list[tuple[str, int]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, host, port, **kw: calls.append((host, port)))
    db = f"sqlite:///{tmp_path / 'users.db'}"
    result = CliRunner().invoke(cli, ["--db", db, "--create", "serve", "--port", "8123"])
    assert EXIT_OK == result.exit_code, result.output
    assert "http://127.0.0.1:8123/" in result.output
    assert [("127.0.0.1", 8123)] == calls
    refused = CliRunner().invoke(cli, ["--db", db, "serve", "--host", "0.0.0.0"])
    assert EXIT_USAGE == refused.exit_code
    assert "--token" in refused.output
    assert [("127.0.0.1", 8123)] == calls


def test_a_body_sent_without_a_length_is_counted_and_refused() -> None:
    """A chunked body over the limit is refused with 413 while it arrives."""
    client, _ = make(max_upload_bytes=2000)
    boundary = "xyz"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{csrf(client)}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()

    def body():
        yield head
        for _ in range(100):
            yield b"a,b\n" * 10
        yield f"\r\n--{boundary}--\r\n".encode()

    response = client.post(
        "/import",
        content=body(),
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert 413 == response.status_code
    assert "too large" in response.text


def test_every_response_forbids_framing_and_foreign_scripts() -> None:
    """Pages carry a CSP (scripts from self only, no framing), no-referrer and nosniff."""
    client, _ = make()
    headers = client.get("/users").headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "DENY" == headers["x-frame-options"]
    assert "no-referrer" == headers["referrer-policy"]
    assert "nosniff" == headers["x-content-type-options"]


def test_a_column_can_feed_a_custom_property() -> None:
    """Each column offers a custom property named after its header; the edit form shows it."""
    text = "First Name,Last Name,Email,Department,Job Title\nAnna,Berg,anna@firma.no,Sales,CTO\n"
    repo = ui.InMemoryUserRepository()
    client, _ = make(repo)
    sid = upload(client, text)
    c = csrf(client)
    client.post(f"/import/{sid}/header", data={"csrf": c, "header_row": "0"})
    assert 'value="attributes.job_title"' in client.get(f"/import/{sid}/mapping").text
    client.post(
        f"/import/{sid}/mapping",
        data={"csrf": c, "col0": "first_name", "col1": "last_name", "col2": "email"}
        | {"col3": "department", "col4": "attributes.job_title"},
    )
    row = client.get(f"/import/{sid}/row/2").text
    assert 'name="attributes.job_title" value="CTO"' in row
    client.post(
        f"/import/{sid}/row/2",
        data={"csrf": c, "first_name": "Anna", "last_name": "Berg", "email": "anna@firma.no"}
        | {"department": "Sales", "attributes.job_title": "CEO"},
    )
    overview = client.get(f"/import/{sid}/overview").text
    client.post(f"/import/{sid}/start", data={"csrf": c, "plan": plan_id(overview)})
    assert {"job_title": "CEO"} == dict(repo.snapshot().users["anna@firma.no"].attributes)


class Recorder:
    """A notifier that records whom it welcomed."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send_welcome(self, user: ui.User) -> None:
        self.sent.append(user.email)


def test_welcome_emails_from_the_users_page_and_the_import(
    store: ui.InMemoryUserRepository,
) -> None:
    """With a notifier: a user's welcome button, and the import's welcome setting, send emails."""
    notifier = Recorder()
    client, _ = make(store, notifier=notifier)
    assert "Send welcome email" in client.get("/users").text
    sent = client.post("/users/welcome", data={"csrf": csrf(client), "email": "ole@firma.no"})
    assert "The welcome email was sent." in sent.text
    assert ["ole@firma.no"] == notifier.sent
    sid = upload(client)
    to_review(client, sid, send_welcome_email="on")
    overview = client.get(f"/import/{sid}/overview").text
    assert "sent to new users" in overview
    client.post(f"/import/{sid}/start", data={"csrf": csrf(client), "plan": plan_id(overview)})
    assert {"anna@firma.no", "kari@firma.no"} == set(notifier.sent[1:])


def test_without_a_notifier_no_welcome_switch_is_offered() -> None:
    """No notifier: neither the users page nor the settings offer welcome emails."""
    client, _ = make()
    sid = upload(client)
    assert "welcome" not in client.get("/users").text.lower()
    assert 'name="send_welcome_email"' not in client.get(f"/import/{sid}/settings").text


def test_settings_that_make_no_sense_are_refused_in_words() -> None:
    """A deletion limit that is not a number is refused on the settings page."""
    client, _ = make()
    sid = upload(client)
    response = client.post(
        f"/import/{sid}/settings", data={"csrf": csrf(client), "max_deletes": "many"}
    )
    assert 400 == response.status_code
    assert 'role="alert"' in response.text


def test_an_xlsx_upload_names_its_worksheet(tmp_path: Path) -> None:
    """A workbook with a title row: the header page names the worksheet and finds row 2."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Ansatte"
    for line in TITLED.splitlines():
        sheet.append(line.split(","))
    book.create_sheet("Notes")
    path = tmp_path / "staff.xlsx"
    book.save(path)
    client, _ = make()
    response = client.post(
        "/import",
        data={"csrf": csrf(client)},
        files={"file": ("staff.xlsx", path.read_bytes(), "application/octet-stream")},
    )
    assert 200 == response.status_code
    assert "worksheet “Ansatte”" in response.text
    assert "Row 2 (detected)" in response.text


def test_the_overview_lists_500_users_and_counts_the_rest() -> None:
    """Past 500 changed users the overview says how many more there are; the summary counts all."""
    rows = "".join(f"P{i},L{i},p{i}@firma.no,Sales,\n" for i in range(520))
    client, _ = make()
    sid = upload(client, TITLED + rows)
    to_review(client, sid)
    overview = client.get(f"/import/{sid}/overview").text
    assert "522 to create" in overview
    assert "… and 22 more users changed" in overview


# -- the import history ----------------------------------------------------------------------


def imported(client: TestClient, **settings: str) -> str:
    """Upload, review and start the titled file; return the import's id."""
    sid = upload(client)
    to_review(client, sid, **settings)
    overview = client.get(f"/import/{sid}/overview").text
    done = client.post(
        f"/import/{sid}/start", data={"csrf": csrf(client), "plan": plan_id(overview)}
    )
    assert "2 created" in done.text
    return sid


def undo_forms(html: str) -> list[str]:
    return re.findall(r'action="(/history/[\w-]+/undo)"', html)


def test_the_history_lists_each_import_and_undoes_it() -> None:
    """The history shows when, the file, the settings and counts; Undo there restores the store."""
    repo = ui.InMemoryUserRepository()
    client, _ = make(repo)
    imported(client, groups="replace")
    page = client.get("/history").text
    assert "staff.csv" in page
    assert "2 created, 0 updated, 0 deleted" in page
    assert "Groups: replace existing users' groups" in page
    assert "keeps no import history" not in page
    [action] = undo_forms(page)
    [record] = repo.list_imports()
    assert (2, "staff.csv") == (record.created, record.filename)
    response = client.post(action, data={"csrf": csrf(client)})
    assert 200 == response.status_code
    assert "The import was undone" in response.text
    assert {} == dict(repo.snapshot().users)
    assert [] == undo_forms(response.text)
    assert "Undone " in response.text


def test_only_the_latest_import_can_be_undone_and_a_stale_undo_says_why() -> None:
    """An import followed by another change offers no Undo; forcing it is refused in words."""
    repo = ui.InMemoryUserRepository()
    client, _ = make(repo)
    imported(client)
    [first] = repo.list_imports()
    ui.set_admin(repo, "anna@firma.no", True)
    page = client.get("/history").text
    assert [] == undo_forms(page)
    assert "Undo is no longer possible" in page
    response = client.post(f"/history/{first.id}/undo", data={"csrf": csrf(client)})
    assert 409 == response.status_code
    assert "the user store changed after this import" in response.text
    assert {"anna@firma.no", "kari@firma.no"} == set(repo.snapshot().users)


def test_an_unknown_import_in_the_history_is_404() -> None:
    """Undo of an id the history does not hold is refused with 404."""
    client, _ = make()
    response = client.post("/history/nope/undo", data={"csrf": csrf(client)})
    assert 404 == response.status_code


def test_a_store_without_a_history_gets_one_per_process_and_says_so() -> None:
    """A bare UserRepository: the web keeps the history itself and says it is forgotten."""
    inner = ui.InMemoryUserRepository()

    class Bare:
        def snapshot(self) -> ui.Snapshot:
            return inner.snapshot()

        def commit(self, changes: ui.ChangeSet, *, expected_version: str) -> str:
            return inner.commit(changes, expected_version=expected_version)

    client, _ = make(Bare())
    assert "No import has been made yet" in client.get("/history").text
    imported(client)
    page = client.get("/history").text
    assert "keeps no import history" in page
    [action] = undo_forms(page)
    assert 200 == client.post(action, data={"csrf": csrf(client)}).status_code
    assert {} == dict(inner.snapshot().users)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_sql_store_keeps_the_history_for_the_next_server(kind: str, tmp_path: Path) -> None:
    """Imported through one app, undone from the history of a new app on the same SQL store."""
    from tests.test_repository import postgres_url, reset_postgres
    from userimport.sql import SqlUserRepository

    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        url = postgres_url()
        reset_postgres(url)
    with SqlUserRepository(url) as repo:
        client, _ = make(repo)
        imported(client)
    with SqlUserRepository(url) as repo:
        client, _ = make(repo)
        page = client.get("/history").text
        assert "staff.csv" in page
        [action] = undo_forms(page)
        assert 200 == client.post(action, data={"csrf": csrf(client)}).status_code
        assert {} == dict(repo.snapshot().users)
        assert 1 == len([r for r in repo.list_imports() if r.undone_at is not None])


def test_an_import_the_store_fails_to_record_is_still_done_and_undoable() -> None:
    """A history write that fails after the commit: Done says so; undo still works here."""

    class Forgetful(ui.InMemoryUserRepository):
        def add_import(self, record: object) -> None:
            raise ui.RepositoryError("cannot record the import in test.db: disk full")

    repo = Forgetful()
    client, _ = make(repo)
    sid = upload(client)
    to_review(client, sid)
    overview = client.get(f"/import/{sid}/overview").text
    done = client.post(
        f"/import/{sid}/start", data={"csrf": csrf(client), "plan": plan_id(overview)}
    )
    assert 200 == done.status_code
    assert "2 created" in done.text
    assert "could not record it in its history (cannot record the import" in done.text
    [action] = undo_forms(done.text)
    assert 200 == client.post(action, data={"csrf": csrf(client)}).status_code
    assert {} == dict(repo.snapshot().users)


# -- declared fields on the users pages ---------------------------------------------------

DECLARED = ui.DEFAULT_SCHEMA.with_fields(
    ui.Field(key="phone", label="Mobile", kind="phone", region="NO"),
    ui.Field(key="start", label="Start date", kind="date", required=True),
    ui.Field(key="shift", label="Shift", kind="choice", choices=("Day", "Night")),
)


@pytest.fixture(params=["sqlite", "postgresql"])
def declared(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ui.UserRepository]:
    """A SQL store declaring a phone, a required date and a choice, with one user."""
    from tests.test_repository import postgres_url, reset_postgres
    from userimport.sql import SqlUserRepository

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'users.db'}"
    else:
        url = postgres_url()
        reset_postgres(url)
    repo = SqlUserRepository(url, schema=DECLARED)
    text = "First Name,Last Name,Email,Department,Mobile,Start date,Shift\n"
    text += "Ole,Hansen,ole@firma.no,HR,+47 912 34 567,01.02.2025,day\n"
    assert 1 == ui.import_file(text.encode(), repo, dry_run=False).created
    yield repo
    repo.close()


def test_the_users_list_shows_the_declared_fields(declared: ui.UserRepository) -> None:
    """Each declared field is a column under its label, with the value the store keeps."""
    client, _ = make(declared)
    page = client.get("/users").text
    assert "<th>Mobile</th><th>Start date</th><th>Shift</th>" in page
    assert "<td>+4791234567</td><td>2025-02-01</td><td>Day</td>" in page
    assert "1 user matching" in client.get("/users?q=4791234567").text


def test_add_user_reads_the_declared_fields(declared: ui.UserRepository) -> None:
    """Add user has an input per declared field; values are read by Field.parse and kept."""
    client, _ = make(declared)
    page = client.get("/users").text
    assert 'name="attributes.phone" value="" type="tel"' in page
    assert 'name="attributes.start" value="" type="date" maxlength="255" required' in page
    assert '<select name="attributes.shift"><option value=""></option>' in page
    form = {"csrf": csrf(client), "first_name": "Kari", "last_name": "Dahl"}
    form |= {"email": "kari@firma.no", "department": "HR", "attributes.phone": "912 34 568"}
    form |= {"attributes.start": "31.12.2025", "attributes.shift": "Night"}
    assert 200 == client.post("/users/add", data=form).status_code
    kari = declared.snapshot().get("kari@firma.no")
    assert {"phone": "+4791234568", "start": "2025-12-31", "shift": "Night"} == dict(
        kari.attributes
    )


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("attributes.phone", "12", "Mobile: phone '12'"),
        ("attributes.start", "32.13.2025", "Start date: start '32.13.2025' is not a date"),
        ("attributes.shift", "Evening", "Shift: shift 'Evening' is not one of Day, Night"),
        ("attributes.start", "", "Start date is required."),
    ],
)
def test_a_wrong_declared_value_is_a_form_error(
    declared: ui.UserRepository, field: str, value: str, said: str
) -> None:
    """A value its field refuses: 400, the form again with the message and what was typed."""
    client, _ = make(declared)
    form = {"csrf": csrf(client), "first_name": "Kari", "last_name": "Dahl"}
    form |= {"email": "kari@firma.no", "department": "HR", "attributes.start": "2025-12-31"}
    added = client.post("/users/add", data=form | {field: value})
    assert 400 == added.status_code
    assert str(escape(said)) in added.text
    assert 'value="Kari"' in added.text
    assert "kari@firma.no" not in declared.snapshot()
    edit = {"csrf": csrf(client), "email": "ole@firma.no", "first_name": "Olav"}
    edit |= {"last_name": "Hansen", "department": "HR", "attributes.start": "2025-02-01"}
    edited = client.post("/users/edit", data=edit | {field: value})
    assert 400 == edited.status_code
    assert str(escape(said)) in edited.text
    assert 'value="Olav"' in edited.text
    assert "Ole" == declared.snapshot().get("ole@firma.no").first_name


def test_edit_user_changes_and_empties_declared_fields(declared: ui.UserRepository) -> None:
    """The edit page shows the declared values; a changed one is kept, an emptied one removed."""
    client, _ = make(declared)
    page = client.get("/users/edit?email=ole@firma.no").text
    assert 'name="attributes.phone" value="+4791234567" type="tel"' in page
    assert "<option selected>Day</option>" in page
    edit = {"csrf": csrf(client), "email": "ole@firma.no", "first_name": "Ole"}
    edit |= {"last_name": "Hansen", "department": "HR", "groups": ""}
    edit |= {"attributes.phone": "", "attributes.start": "2026-01-01", "attributes.shift": "night"}
    assert 200 == client.post("/users/edit", data=edit).status_code
    ole = declared.snapshot().get("ole@firma.no")
    assert {"start": "2026-01-01", "shift": "Night"} == dict(ole.attributes)


def test_nb_says_a_required_declared_field_is_missing(declared: ui.UserRepository) -> None:
    """The required-field message is in the catalogue: bokmål for a Norwegian browser."""
    client, _ = make(declared)
    form = {"csrf": csrf(client), "first_name": "Kari", "last_name": "Dahl"}
    form |= {"email": "kari@firma.no", "department": "HR"}
    refused = client.post("/users/add", data=form, headers={"Accept-Language": "nb"})
    assert "Start date må fylles ut." in refused.text

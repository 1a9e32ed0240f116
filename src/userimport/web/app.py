"""
The web application: the users pages and the import wizard, server-rendered with Jinja2.

Every page is a plain HTML form that works without JavaScript; the vendored htmx (``static/``)
only makes links and forms swap the page body instead of reloading it (``hx-boost``).

Safety by construction (see ``docs/web.md``, "Security model"):

- every state-changing request is a POST carrying a CSRF token that must equal the token in a
  ``SameSite=Strict`` cookie and carry the app's HMAC signature (refused with 403);
- a request body over ``max_upload_bytes`` is refused with 413 before it is parsed;
- an upload is written to a fresh temporary folder, read, and the folder removed at once;
- an import lives server-side under a random id and expires ``session_ttl`` seconds after its
  last use (410 with a message);
- Jinja2 autoescapes every value: a cell is always shown as text.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import re
import secrets
import tempfile
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any, Literal

import attrs
from jinja2 import Environment, PackageLoader
from starlette.applications import Starlette
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..actions import add_user, delete_user, edit_user, send_welcome_email, set_admin
from ..apply import ApplyResult, apply_plan
from ..errors import StalePlanError, UserImportError
from ..export import export_users, write_template
from ..fields import DEFAULT_SCHEMA, UserSchema
from ..headers import HeaderGuess, detect_header
from ..mapping import ColumnMapping, suggest_mapping
from ..model import PROPERTIES, ImportSettings, User, email_key
from ..notify import Notifier
from ..plan import Plan, PlanEntry, plan_import
from ..read import RawTable, read_table
from ..repository import UserRepository
from ..review import Review
from ..validation import validate

__all__ = ["DEFAULT_MAX_UPLOAD_BYTES", "DEFAULT_SESSION_TTL", "PAGE_SIZE", "create_app"]

#: The largest request body accepted (an uploaded file and its form), in bytes.
DEFAULT_MAX_UPLOAD_BYTES = 20 * 1024 * 1024
#: Seconds an import is kept after its last use.
DEFAULT_SESSION_TTL = 3600.0
#: Rows (review grid, users list) on one page.
PAGE_SIZE = 50
#: Users whose changes the overview lists one by one (the summary counts them all).
SHOWN_CHANGES = 500
#: Imports kept at once; the least recently used goes first.
MAX_IMPORTS = 50

CSRF_COOKIE = "userimport_csrf"
TOKEN_COOKIE = "userimport_token"
SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx")
#: Sent with every response: scripts only from the app itself, never framed (clickjacking),
#: no referrer (the token may be in an address), no content sniffing.
HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        b"img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_DONE = {
    "added": "The user was added.",
    "edited": "The user was changed.",
    "deleted": "The user was deleted.",
    "granted": "Admin rights were granted.",
    "revoked": "Admin rights were revoked.",
    "welcomed": "The welcome email was sent.",
    "undone": "The import was undone: the store is back where it was.",
}


class _TooLarge(Exception):
    """The request body passed the size limit."""


@attrs.define
class _Import:
    """One import in progress, kept server-side under a random id."""

    id: str
    filename: str
    table: RawTable
    guess: HeaderGuess
    header_row: int | None
    used: float
    mapping: ColumnMapping | None = None
    settings: ImportSettings = attrs.field(factory=ImportSettings)
    review: Review | None = None
    plan: Plan | None = None
    plan_id: str = ""
    result: ApplyResult | None = None
    undone: bool = False


def _safe_name(name: str) -> str:
    """The base name of an uploaded file, reduced to harmless characters."""
    base = Path(name.replace("\\", "/")).name
    return re.sub(r"[^\w.\- ]", "_", base)[:120] or "upload"


def _int(value: object, default: int) -> int:
    try:
        return int(str(value))
    except ValueError:
        return default


class _Web:
    """The routes and their shared state; :func:`create_app` builds one per app."""

    def __init__(
        self,
        repository: UserRepository,
        *,
        max_upload_bytes: int,
        max_rows: int,
        session_ttl: float,
        secret: str | bytes | None,
        token: str | None,
        notifier: Notifier | None,
    ) -> None:
        self.repository = repository
        #: The user fields: the repository's own schema if it declares one.
        held = getattr(repository, "schema", None)
        self.schema = held if isinstance(held, UserSchema) else DEFAULT_SCHEMA
        self.max_upload_bytes = max_upload_bytes
        self.max_rows = max_rows
        self.session_ttl = session_ttl
        key = secret if secret is not None else secrets.token_bytes(32)
        self.key = key.encode() if isinstance(key, str) else key
        self.token = token
        self.notifier = notifier
        self.imports: dict[str, _Import] = {}
        self.env = Environment(
            loader=PackageLoader("userimport.web", "templates"),
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    # -- plumbing ---------------------------------------------------------------------------

    def _sign(self, nonce: str) -> str:
        return hmac.new(self.key, nonce.encode(), hashlib.sha256).hexdigest()[:32]

    def _csrf(self, request: Request) -> str:
        token = request.cookies.get(CSRF_COOKIE, "")
        if self._valid_csrf(token):
            return token
        nonce = secrets.token_urlsafe(18)
        return f"{nonce}.{self._sign(nonce)}"

    def _valid_csrf(self, token: str) -> bool:
        nonce, _, sig = token.partition(".")
        return bool(nonce) and hmac.compare_digest(sig, self._sign(nonce))

    def render(
        self, request: Request, name: str, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        """Render template ``name`` with the base URL, CSRF token and ``context``."""
        csrf = self._csrf(request)
        base = request.scope.get("root_path", "").rstrip("/")
        page = self.env.get_template(name).render(
            base=base, csrf=csrf, notifier=self.notifier is not None, **context
        )
        response = HTMLResponse(page, status_code=status_code)
        if request.cookies.get(CSRF_COOKIE) != csrf:
            response.set_cookie(
                CSRF_COOKIE, csrf, path=base or "/", httponly=True, samesite="strict"
            )
        return response

    def problem(self, request: Request, status: int, message: str) -> HTMLResponse:
        """A page saying ``message`` in words, with ``status``."""
        return self.render(request, "problem.html", status, message=message)

    def go(self, request: Request, path: str) -> RedirectResponse:
        """Redirect (303) to ``path`` under the app's mount point."""
        base = request.scope.get("root_path", "").rstrip("/")
        return RedirectResponse(base + path, status_code=303)

    async def form(self, request: Request) -> FormData:
        """
        The posted form, after checking its CSRF token.

        Raises:
            HTTPException: 403 without a valid token, 413 for a body over the limit.
        """
        try:
            form = await request.form(max_files=1, max_fields=200)
        except _TooLarge:
            raise HTTPException(413) from None
        sent = form.get("csrf")
        cookie = request.cookies.get(CSRF_COOKIE, "")
        if not (
            isinstance(sent, str)
            and self._valid_csrf(cookie)
            and hmac.compare_digest(sent.encode(), cookie.encode())
        ):
            await form.close()
            raise HTTPException(403)
        return form

    def the_import(self, request: Request) -> _Import:
        """
        The import named in the URL, if it has not expired.

        Raises:
            HTTPException: 410 for an unknown or expired import.
        """
        now = time.monotonic()
        for key in [k for k, s in self.imports.items() if now - s.used > self.session_ttl]:
            del self.imports[key]
        found = self.imports.get(request.path_params["sid"])
        if found is None:
            raise HTTPException(410)
        found.used = now
        return found

    async def on_http_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        messages = {
            403: "This form was refused: its security token is missing or does not match. "
            "Reload the page and try again.",
            404: "There is no such page.",
            405: "This page cannot be used that way.",
            410: "This import has expired or does not exist (imports are kept for "
            f"{int(self.session_ttl // 60)} minutes after their last use). Start again by "
            "uploading the file.",
            413: f"The file is too large: the limit is {self.max_upload_bytes / 1_000_000:g} MB.",
        }
        return self.problem(
            request, exc.status_code, messages.get(exc.status_code, str(exc.detail))
        )

    # -- users ------------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        return self.go(request, "/users")

    async def users(self, request: Request, message: str = "", status: int = 200) -> Response:
        snapshot = self.repository.snapshot()
        q = request.query_params.get("q", "").strip()
        users = sorted(snapshot.users.values(), key=lambda u: u.key)
        if q:
            needle = q.casefold()
            users = [
                u
                for u in users
                if needle
                in f"{u.email}\n{u.first_name} {u.last_name}\n{u.department or ''}".casefold()
            ]
        pages = max(1, -(-len(users) // PAGE_SIZE))
        page = min(max(1, _int(request.query_params.get("page", 1), 1)), pages)
        shown = users[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        done = _DONE.get(request.query_params.get("done", ""), "")
        return self.render(
            request,
            "users.html",
            status,
            users=shown,
            total=len(users),
            q=q,
            page=page,
            pages=pages,
            departments=sorted(snapshot.departments),
            groups=sorted(snapshot.groups),
            message=message,
            done=done,
        )

    async def user_add(self, request: Request) -> Response:
        form = await self.form(request)
        try:
            user = User(
                email=str(form.get("email", "")),
                first_name=str(form.get("first_name", "")),
                last_name=str(form.get("last_name", "")),
                department=str(form.get("department", "")) or None,
                groups=[g.strip() for g in str(form.get("groups", "")).split(",")],
                is_admin=form.get("is_admin") == "on",
            )
            add_user(
                self.repository,
                user,
                send_welcome_email=form.get("welcome") == "on",
                notifier=self.notifier,
            )
        except UserImportError as e:
            return await self.users(request, str(e), 400)
        return self.go(request, "/users?done=added")

    async def user_edit_page(self, request: Request) -> Response:
        snapshot = self.repository.snapshot()
        email = request.query_params.get("email", "")
        user = snapshot.users.get(email_key(email))
        if user is None:
            return self.problem(request, 404, f"There is no user {email}.")
        return self.render(
            request,
            "user_edit.html",
            user=user,
            departments=sorted(snapshot.departments),
            message="",
        )

    async def user_edit(self, request: Request) -> Response:
        form = await self.form(request)
        email = str(form.get("email", ""))
        try:
            edit_user(
                self.repository,
                email,
                first_name=str(form.get("first_name", "")),
                last_name=str(form.get("last_name", "")),
                department=str(form.get("department", "")),
                groups=[g.strip() for g in str(form.get("groups", "")).split(",") if g.strip()],
            )
        except UserImportError as e:
            return self.problem(request, 400, str(e))
        return self.go(request, "/users?done=edited")

    async def user_admin(self, request: Request) -> Response:
        form = await self.form(request)
        grant = form.get("grant") == "1"
        try:
            set_admin(self.repository, str(form.get("email", "")), grant)
        except UserImportError as e:
            return self.problem(request, 400, str(e))
        return self.go(request, "/users?done=" + ("granted" if grant else "revoked"))

    async def user_welcome(self, request: Request) -> Response:
        form = await self.form(request)
        if self.notifier is None:
            return self.problem(request, 400, "No email sender is configured for this app.")
        try:
            note = send_welcome_email(self.repository, str(form.get("email", "")), self.notifier)
        except UserImportError as e:
            return self.problem(request, 400, str(e))
        if note.error:
            return self.problem(request, 502, f"The welcome email was not sent: {note.error}")
        return self.go(request, "/users?done=welcomed")

    async def user_delete_page(self, request: Request) -> Response:
        email = request.query_params.get("email", "")
        user = self.repository.snapshot().users.get(email_key(email))
        if user is None:
            return self.problem(request, 404, f"There is no user {email}.")
        return self.render(request, "user_delete.html", user=user)

    async def user_delete(self, request: Request) -> Response:
        form = await self.form(request)
        try:
            delete_user(self.repository, str(form.get("email", "")))
        except UserImportError as e:
            return self.problem(request, 400, str(e))
        return self.go(request, "/users?done=deleted")

    async def export(self, request: Request) -> Response:
        fmt: Literal["csv", "xlsx"] = (
            "xlsx" if request.query_params.get("format") == "xlsx" else "csv"
        )
        out = io.BytesIO()
        export_users(self.repository, out, format=fmt)
        return _download(out.getvalue(), f"users.{fmt}")

    async def template(self, request: Request) -> Response:
        fmt: Literal["csv", "xlsx"] = (
            "xlsx" if request.query_params.get("format") == "xlsx" else "csv"
        )
        out = io.BytesIO()
        write_template(out, format=fmt, schema=self.schema)
        return _download(out.getvalue(), f"import-template.{fmt}")

    # -- the import wizard ------------------------------------------------------------------

    async def upload_page(self, request: Request) -> Response:
        return self.render(request, "upload.html", max_rows=self.max_rows, message="")

    async def upload(self, request: Request) -> Response:
        form = await self.form(request)
        try:
            file = form.get("file")
            if not isinstance(file, UploadFile) or not file.filename:
                return self.render(
                    request, "upload.html", 400, max_rows=self.max_rows, message="Choose a file."
                )
            name = _safe_name(file.filename)
            if not name.lower().endswith(SUFFIXES):
                message = (
                    f"{name} is not a CSV or XLSX file (its name ends neither in .csv nor .xlsx)."
                )
                return self.render(
                    request, "upload.html", 400, max_rows=self.max_rows, message=message
                )
            sheet = str(form.get("sheet", "")).strip() or None
            data = await file.read()
        finally:
            await form.close()
        with tempfile.TemporaryDirectory(prefix="userimport-web-") as folder:
            path = Path(folder) / name
            path.write_bytes(data)
            try:
                table = read_table(path, sheet=sheet, max_rows=self.max_rows)
            except UserImportError as e:
                return self.render(
                    request, "upload.html", 400, max_rows=self.max_rows, message=str(e)
                )
        table = attrs.evolve(table, path=name)
        guess = detect_header(table)
        now = time.monotonic()
        if len(self.imports) >= MAX_IMPORTS:
            del self.imports[min(self.imports, key=lambda k: self.imports[k].used)]
        sid = secrets.token_urlsafe(24)
        self.imports[sid] = _Import(
            id=sid, filename=name, table=table, guess=guess, header_row=guess.row, used=now
        )
        return self.go(request, f"/import/{sid}/header")

    async def header_page(self, request: Request) -> Response:
        imp = self.the_import(request)
        reasons = {c.row: c.reasons for c in imp.guess.candidates}
        rows = imp.table.rows.head(max(12, (imp.guess.row or 0) + 4))
        return self.render(
            request,
            "header.html",
            imp=imp,
            grid=[
                (int(i), [str(v) for v in r])
                for i, r in zip(rows.index, rows.to_numpy(), strict=True)
            ],
            reasons=reasons,
        )

    async def header(self, request: Request) -> Response:
        imp = self.the_import(request)
        form = await self.form(request)
        choice = str(form.get("header_row", ""))
        imp.header_row = None if choice == "none" else _int(choice, imp.guess.row or 0)
        imp.mapping = suggest_mapping(imp.table, imp.header_row, schema=self.schema)
        imp.review = imp.plan = None
        return self.go(request, f"/import/{imp.id}/mapping")

    def _mapping_page(self, request: Request, imp: _Import, message: str = "") -> Response:
        mapping = imp.mapping or suggest_mapping(imp.table, imp.header_row, schema=self.schema)
        imp.mapping = mapping
        start = 0 if imp.header_row is None else imp.header_row + 1
        body = imp.table.rows.iloc[start:]
        targets = mapping.targets
        reasons = {m.column: m.reason for m in mapping.matches}
        split = mapping.name_split
        columns = []
        for i in range(mapping.width):
            cells = body.iloc[:, i]
            samples = [str(v) for v in cells[cells.astype(str).str.strip() != ""].head(3)]
            target = targets.get(i, "")
            if split is not None and split.column == i:
                target, reasons[i] = "__split__", split.describe()
            header = mapping.headers[i] if i < len(mapping.headers) else ""
            custom = re.sub(r"\W+", "_", header.casefold()).strip("_") or f"column_{i + 1}"
            columns.append(
                (i, mapping.label(i), samples, target, reasons.get(i, ""), f"attributes.{custom}")
            )
        options = list(PROPERTIES)
        return self.render(
            request,
            "mapping.html",
            400 if message else 200,
            imp=imp,
            mapping=mapping,
            columns=columns,
            options=options,
            message=message,
        )

    async def mapping_page(self, request: Request) -> Response:
        return self._mapping_page(request, self.the_import(request))

    async def mapping(self, request: Request) -> Response:
        imp = self.the_import(request)
        form = await self.form(request)
        mapping = imp.mapping or suggest_mapping(imp.table, imp.header_row, schema=self.schema)
        now = mapping.targets
        chosen = {i: str(form.get(f"col{i}", "")) for i in range(mapping.width)}
        taken = [t for t in chosen.values() if t and t not in ("groups", "__split__")]
        twice = sorted({t for t in taken if taken.count(t) > 1})
        if twice:
            imp.mapping = mapping
            return self._mapping_page(
                request, imp, f"{', '.join(twice)}: only one column can feed each property."
            )
        changed = {i: t for i, t in chosen.items() if t != "__split__" and t != now.get(i, "")}
        try:
            for i in changed:
                mapping = mapping.unmap(i)
            for i, t in changed.items():
                if t:
                    mapping = mapping.map(i, t)
            separator = str(form.get("group_separator", ",")) or ","
            mapping = mapping.with_group_separator(separator).with_department_as_group(
                form.get("department_as_group") == "on"
            )
            imp.mapping = mapping
            imp.review = validate(imp.table, imp.header_row, mapping, schema=self.schema)
        except UserImportError as e:
            return self._mapping_page(request, imp, str(e))
        imp.plan = None
        return self.go(request, f"/import/{imp.id}/settings")

    async def settings_page(self, request: Request) -> Response:
        imp = self.the_import(request)
        return self.render(request, "settings.html", imp=imp, s=imp.settings, message="")

    async def settings(self, request: Request) -> Response:
        imp = self.the_import(request)
        form = await self.form(request)
        limit = str(form.get("max_deletes", "")).strip()
        fraction = str(form.get("max_delete_percent", "")).strip()
        try:
            imp.settings = ImportSettings(
                on_existing=str(form.get("on_existing", "update")),  # type: ignore[arg-type]
                groups=str(form.get("groups", "add")),  # type: ignore[arg-type]
                delete_missing=form.get("delete_missing") == "on",
                send_welcome_email=form.get("send_welcome_email") == "on",
                max_deletes=int(limit) if limit else None,
                max_delete_fraction=float(fraction) / 100 if fraction else None,
                delete_admins=form.get("delete_admins") == "on",
            )
        except (UserImportError, ValueError) as e:
            return self.render(
                request, "settings.html", 400, imp=imp, s=imp.settings, message=str(e)
            )
        imp.plan = None
        return self.go(request, f"/import/{imp.id}/review")

    def _review(self, imp: _Import) -> Review:
        if imp.review is None:
            imp.mapping = imp.mapping or suggest_mapping(
                imp.table, imp.header_row, schema=self.schema
            )
            imp.review = validate(imp.table, imp.header_row, imp.mapping, schema=self.schema)
        return imp.review

    async def review_page(self, request: Request) -> Response:
        imp = self.the_import(request)
        review = self._review(imp)
        errors = request.query_params.get("errors") == "1"
        q = request.query_params.get("q", "").strip()
        view = review.only_errors() if errors else review
        if q:
            view = view.search(q) if view.view is None else _both(view, review.search(q))
        rows = view.rows
        pages = max(1, -(-len(rows) // PAGE_SIZE))
        page = min(max(1, _int(request.query_params.get("page", 1), 1)), pages)
        shown = rows.iloc[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        fields = [c for c in review.source.columns if not c.startswith("_")]
        source = review.source.loc[shown.index, fields]
        issues = review.issues
        issues = issues[issues["row"].isin(shown.index)]
        problems: dict[tuple[int, str], list[str]] = {}
        for row, field, message in zip(
            issues["row"], issues["field"], issues["message"], strict=True
        ):
            problems.setdefault((int(row), str(field)), []).append(str(message))
        grid = [
            (int(r), status, [str(v) for v in values])
            for r, status, values in zip(
                shown.index, shown["status"], source.to_numpy(), strict=True
            )
        ]
        return self.render(
            request,
            "review.html",
            imp=imp,
            fields=fields,
            labels=[_label(review.mapping, f) for f in fields],
            grid=grid,
            problems=problems,
            counts=review.overview(),
            shown=len(rows),
            page=page,
            pages=pages,
            errors=errors,
            q=q,
        )

    async def row_page(self, request: Request) -> Response:
        imp = self.the_import(request)
        review = self._review(imp)
        row = _int(request.path_params["row"], -1)
        if row not in review.source.index:
            return self.problem(request, 404, f"The file has no data row {row}.")
        fields = [c for c in review.source.columns if not c.startswith("_")]
        issues = review.issues
        return self.render(
            request,
            "row.html",
            imp=imp,
            row=row,
            cells=[(f, _label(review.mapping, f), str(review.source.at[row, f])) for f in fields],
            issues=issues[issues["row"] == row]["message"].tolist(),
            back=_back(request),
            nav={k: request.query_params.get(k, "") for k in ("page", "errors", "q")},
        )

    async def row_edit(self, request: Request) -> Response:
        imp = self.the_import(request)
        review = self._review(imp)
        form = await self.form(request)
        row = _int(request.path_params["row"], -1)
        fields = [c for c in review.source.columns if not c.startswith("_")]
        values = {f: str(form.get(f, "")) for f in fields if f in form}
        attributes = {f.removeprefix("attributes."): v for f, v in values.items() if "." in f}
        plain = {f: v for f, v in values.items() if "." not in f}
        try:
            imp.review = review.edit(row, **plain, attributes=attributes)
        except UserImportError as e:
            return self.problem(request, 400, str(e))
        imp.plan = None
        return self.go(request, f"/import/{imp.id}/review{_back(request, form)}")

    async def row_action(self, request: Request) -> Response:
        imp = self.the_import(request)
        review = self._review(imp)
        form = await self.form(request)
        row = _int(request.path_params["row"], -1)
        action = str(form.get("action", ""))
        try:
            if action == "skip":
                imp.review = review.skip(row)
            elif action == "unskip":
                imp.review = review.unskip(row)
            else:
                imp.review = review.revalidate()
        except UserImportError as e:
            return self.problem(request, 400, str(e))
        imp.plan = None
        return self.go(request, f"/import/{imp.id}/review{_back(request, form)}")

    async def overview(self, request: Request) -> Response:
        imp = self.the_import(request)
        if imp.result is not None:
            return self.go(request, f"/import/{imp.id}/done")
        review = self._review(imp)
        try:
            imp.plan = plan_import(review, self.repository, imp.settings)
            imp.plan_id = secrets.token_urlsafe(12)
        except UserImportError as e:
            return self.problem(request, 400, str(e))
        return self.render(
            request,
            "overview.html",
            imp=imp,
            plan=imp.plan,
            counts=review.overview(),
            changes=[r for e in imp.plan.changes()[:SHOWN_CHANGES] for r in _change_rows(e)],
            more=max(0, len(imp.plan.changes()) - SHOWN_CHANGES),
            blocked=[_why(imp.plan, reason) for reason in imp.plan.blocked],
            settings=imp.settings,
        )

    async def start(self, request: Request) -> Response:
        imp = self.the_import(request)
        form = await self.form(request)
        plan = imp.plan
        if imp.result is not None:
            return self.go(request, f"/import/{imp.id}/done")
        if plan is None or form.get("plan") != imp.plan_id:
            return self.problem(
                request,
                409,
                "This overview is out of date: the file, the settings or the corrections changed "
                "after it was shown. Look at the overview again before starting the import.",
            )
        if plan.blocked:
            return self.problem(request, 409, "This import is blocked: " + " ".join(plan.blocked))
        try:
            imp.result = apply_plan(plan, self.repository, notifier=self.notifier)
        except StalePlanError:
            imp.plan = None
            return self.problem(
                request,
                409,
                "The user store changed after this overview was made (someone added, changed or "
                "deleted users), so nothing was imported. Look at the overview again: it is made "
                "afresh from the store as it is now.",
            )
        except UserImportError as e:
            return self.problem(request, 409, str(e))
        return self.go(request, f"/import/{imp.id}/done")

    async def done(self, request: Request) -> Response:
        imp = self.the_import(request)
        if imp.result is None:
            return self.go(request, f"/import/{imp.id}/overview")
        return self.render(request, "done.html", imp=imp, result=imp.result)

    async def undo(self, request: Request) -> Response:
        imp = self.the_import(request)
        await self.form(request)
        if imp.result is None or imp.undone:
            return self.problem(request, 409, "There is nothing to undo in this import.")
        try:
            apply_plan(imp.result.undo, self.repository)
        except StalePlanError:
            return self.problem(
                request,
                409,
                "Undo is refused: the user store changed after this import (users were added, "
                "changed or deleted since), and undoing now would overwrite those later "
                "changes. Change the users by hand on the Users page instead.",
            )
        imp.undone = True
        return self.go(request, "/users?done=undone")


def _both(view: Review, other: Review) -> Review:
    """``view`` narrowed to the rows ``other`` shows too."""
    return attrs.evolve(view, view=(view.view or frozenset()) & (other.view or frozenset()))


def _label(mapping: ColumnMapping, field: str) -> str:
    columns = mapping.columns(field)
    if columns:
        return f"{field} ({', '.join(mapping.label(c) for c in columns)})"
    return field


def _back(request: Request, form: FormData | None = None) -> str:
    """The review grid's page, filter and search, as a query string to go back to."""
    source: Any = form if form is not None else request.query_params
    page = _int(source.get("page", 1), 1)
    errors = "1" if source.get("errors") == "1" else ""
    q = str(source.get("q", ""))
    from urllib.parse import urlencode

    return "?" + urlencode({"page": page, "errors": errors, "q": q})


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, frozenset | set | tuple | list):
        return ", ".join(sorted(str(v) for v in value))
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in sorted(value.items()))
    return str(value)


def _change_rows(entry: PlanEntry) -> list[tuple[str, str, str, str, str, str]]:
    """One row per changed field of ``entry``: action, email, row, field, old, new."""
    row = "" if entry.row is None else str(entry.row)
    diff = entry.diff()
    if not diff:
        user = entry.after if entry.after is not None else entry.before
        values = user.to_dict() if user is not None else {}
        new = entry.action != "delete"
        diff = {
            k: (None, v) if new else (v, None)
            for k, v in values.items()
            if v not in ("", None, [], {})
        }
    return [
        (entry.action, entry.email, row, field, _text(old), _text(new))
        for field, (old, new) in diff.items()
    ] or [(entry.action, entry.email, row, "", "", "")]


def _why(plan: Plan, reason: str) -> str:
    """A blocked plan's reason, with the setting that would allow it."""
    lowered = reason.lower()
    if "max_delete_fraction" in lowered or "fraction" in lowered or "%" in lowered:
        return f"{reason} (Settings: raise or clear 'at most this share of the users deleted'.)"
    if "max_deletes" in lowered or "delet" in lowered:
        return f"{reason} (Settings: raise or clear 'at most this many users deleted'.)"
    return reason


def _download(data: bytes, name: str) -> Response:
    kind = (
        "text/csv; charset=utf-8"
        if name.endswith(".csv")
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return Response(
        data,
        media_type=kind,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


class _Guard:
    """
    ASGI middleware: the access token (when one is set) and the request body limit.

    A body whose ``Content-Length`` passes the limit is refused with 413 before it is read; a
    body sent without one is counted as it arrives and refused the same way.
    """

    def __init__(self, app: ASGIApp, web: _Web, token: str | None) -> None:
        self.app = app
        self.web = web
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if self.token is not None:
            given = request.query_params.get("token") or request.cookies.get(TOKEN_COOKIE, "")
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                response = Response(
                    "This userimport server needs its access token: open the address that "
                    "'userimport serve' printed (it ends in ?token=...).",
                    status_code=401,
                    media_type="text/plain",
                )
                await response(scope, receive, send)
                return
            if request.query_params.get("token"):
                base = scope.get("root_path", "").rstrip("/")
                response = RedirectResponse(request.url.path, status_code=303)
                response.set_cookie(
                    TOKEN_COOKIE, self.token, path=base or "/", httponly=True, samesite="strict"
                )
                await response(scope, receive, send)
                return
        limit = self.web.max_upload_bytes
        length = _int(request.headers.get("content-length", 0), 0)
        if length > limit:
            message = await self.web.on_http_error(request, HTTPException(413))
            await message(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return message

        async def guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        await self.app(scope, counted, guarded)


def create_app(
    repository: UserRepository,
    *,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
    max_rows: int = 5000,
    session_ttl: float = DEFAULT_SESSION_TTL,
    secret: str | bytes | None = None,
    behind_auth: bool = False,
    token: str | None = None,
    notifier: Notifier | None = None,
) -> ASGIApp:
    """
    Return the import wizard and users pages as an ASGI application.

    Mount it under any path of a Starlette, FastAPI or Django (ASGI) app: every link it
    makes is relative to its mount point (the ASGI ``root_path``). It has no accounts of its
    own: protect it with the host app's login, or give ``token``.

    Args:
        repository: The user store the pages show and the imports change.
        max_upload_bytes: The largest request body (an uploaded file) accepted; larger is
            refused with 413.
        max_rows: The most data rows an uploaded file may have (reading refuses more).
        session_ttl: Seconds an import is kept after its last use; then it answers 410.
        secret: Key for signing the CSRF tokens (default: random per app, so tokens from
            before a restart are refused). Give one when several processes serve the app.
        behind_auth: The host authenticates every request before this app sees it (recorded
            for ``userimport serve``, which otherwise refuses a non-loopback host without a
            token).
        token: When given, every request must carry it (``?token=`` once, then a cookie);
            others get 401.
        notifier: Sends welcome emails; without it the welcome-email switches are hidden.

    Returns:
        The ASGI application.

    Raises:
        ValueError: A limit that is not positive.
    """
    if max_upload_bytes <= 0 or max_rows <= 0 or session_ttl <= 0:
        raise ValueError("max_upload_bytes, max_rows and session_ttl must be positive")
    web = _Web(
        repository,
        max_upload_bytes=max_upload_bytes,
        max_rows=max_rows,
        session_ttl=session_ttl,
        secret=secret,
        token=token,
        notifier=notifier,
    )
    static = Path(__file__).with_name("static")
    routes = [
        Route("/", web.home),
        Route("/users", web.users),
        Route("/users/add", web.user_add, methods=["POST"]),
        Route("/users/edit", web.user_edit_page),
        Route("/users/edit", web.user_edit, methods=["POST"]),
        Route("/users/admin", web.user_admin, methods=["POST"]),
        Route("/users/welcome", web.user_welcome, methods=["POST"]),
        Route("/users/delete", web.user_delete_page),
        Route("/users/delete", web.user_delete, methods=["POST"]),
        Route("/users/export", web.export),
        Route("/template", web.template),
        Route("/import", web.upload_page),
        Route("/import", web.upload, methods=["POST"]),
        Route("/import/{sid}/header", web.header_page),
        Route("/import/{sid}/header", web.header, methods=["POST"]),
        Route("/import/{sid}/mapping", web.mapping_page),
        Route("/import/{sid}/mapping", web.mapping, methods=["POST"]),
        Route("/import/{sid}/settings", web.settings_page),
        Route("/import/{sid}/settings", web.settings, methods=["POST"]),
        Route("/import/{sid}/review", web.review_page),
        Route("/import/{sid}/row/{row}", web.row_page),
        Route("/import/{sid}/row/{row}", web.row_edit, methods=["POST"]),
        Route("/import/{sid}/row/{row}/action", web.row_action, methods=["POST"]),
        Route("/import/{sid}/overview", web.overview),
        Route("/import/{sid}/start", web.start, methods=["POST"]),
        Route("/import/{sid}/done", web.done),
        Route("/import/{sid}/undo", web.undo, methods=["POST"]),
        Mount("/static", StaticFiles(directory=static), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: web.on_http_error})
    app.state.web = web
    app.state.behind_auth = behind_auth
    return _Guard(app, web, token)

"""
The pages' shared plumbing: rendering in the request's language, CSRF, forms, running each
request off the event loop, the import history's undo; and the small helpers the pages share.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ..apply import apply_plan
from ..errors import StalePlanError, UserImportError
from ..fields import schema_of
from ..history import ImportHistory, ImportRecord, MemoryImportHistory, import_history
from ..model import Permissions
from ..notify import Notifier
from ..plan import Plan
from ..repository import UserRepository
from ._i18n import LANGUAGES, N_, choose_language, translations
from ._sessions import FolderSessions, MemorySessions, Sessions

__all__ = [
    "ACTIONS",
    "CSRF_COOKIE",
    "DEFAULT_MAX_UPLOAD_BYTES",
    "DEFAULT_SESSION_TTL",
    "DONE",
    "HEADERS",
    "PAGE_SIZE",
    "SHOWN_CHANGES",
    "STATUSES",
    "SUFFIXES",
    "TOKEN_COOKIE",
    "ASGIApp",
    "Message",
    "Receive",
    "Scope",
    "Send",
    "TooLarge",
    "WebBase",
    "download",
    "environment",
    "language_of",
    "safe_name",
    "to_int",
]

#: The largest request body accepted (an uploaded file and its form), in bytes.
DEFAULT_MAX_UPLOAD_BYTES = 20 * 1024 * 1024
#: Seconds an import is kept after its last use.
DEFAULT_SESSION_TTL = 3600.0
#: Rows (review grid, users list) on one page.
PAGE_SIZE = 50
#: Users whose changes the overview lists one by one (the summary counts them all).
SHOWN_CHANGES = 500

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

DONE = {
    "added": N_("The user was added."),
    "edited": N_("The user was changed."),
    "deleted": N_("The user was deleted."),
    "granted": N_("Admin rights were granted."),
    "revoked": N_("Admin rights were revoked."),
    "welcomed": N_("The welcome email was sent."),
    "undone": N_("The import was undone: the store is back where it was."),
}
#: A review row's status and a plan entry's action, in words.
STATUSES = {"valid": N_("valid"), "invalid": N_("with errors"), "skipped": N_("skipped")}
ACTIONS = {
    "create": N_("create"),
    "update": N_("update"),
    "delete": N_("delete"),
    "unchanged": N_("unchanged"),
    "skip": N_("skip"),
}


class TooLarge(Exception):
    """The request body passed the size limit."""


def safe_name(name: str) -> str:
    """The base name of an uploaded file, reduced to harmless characters."""
    base = Path(name.replace("\\", "/")).name
    return re.sub(r"[^\w.\- ]", "_", base)[:120] or "upload"


def to_int(value: object, default: int) -> int:
    try:
        return int(str(value))
    except ValueError:
        return default


class WebBase:
    """The state and plumbing the pages share; :func:`~userimport.web.create_app` makes one."""

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
        session_dir: str | os.PathLike[str] | None,
    ) -> None:
        self.repository = repository
        #: The user fields: the repository's own schema if it declares one.
        self.schema = schema_of(repository)
        self.max_upload_bytes = max_upload_bytes
        self.max_rows = max_rows
        self.session_ttl = session_ttl
        key = secret if secret is not None else secrets.token_bytes(32)
        self.key = key.encode() if isinstance(key, str) else key
        self.token = token
        self.notifier = notifier
        #: Imports in progress: in this process, or in a folder every worker shares.
        self.sessions: Sessions = (
            MemorySessions(session_ttl)
            if session_dir is None
            else FolderSessions(session_dir, self.key, session_ttl)
        )
        found = import_history(repository)
        #: The store's import history, or one kept by this process when the store has none.
        self.history: ImportHistory = found if found is not None else MemoryImportHistory()
        self.history_in_store = found is not None
        #: Imports the store's history failed to record: their undo stays possible here.
        self.spare_history = MemoryImportHistory()
        self.envs = {language: environment(language) for language in LANGUAGES}

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
        language = language_of(request)
        tr = translations(language).gettext
        page = (
            self.envs[language]
            .get_template(name)
            .render(
                base=base,
                csrf=csrf,
                notifier=self.notifier is not None,
                lang=language,
                statuses={k: tr(v) for k, v in STATUSES.items()},
                actions={k: tr(v) for k, v in ACTIONS.items()},
                **context,
            )
        )
        response = HTMLResponse(page, status_code=status_code)
        if request.cookies.get(CSRF_COOKIE) != csrf:
            response.set_cookie(
                CSRF_COOKIE, csrf, path=base or "/", httponly=True, samesite="strict"
            )
        return response

    def t(self, request: Request, message: str, **values: object) -> str:
        """``message`` in the request's language, with ``values`` put in (``%(name)s``)."""
        text = translations(language_of(request)).gettext(message)
        return text % values if values else text

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
        except TooLarge:
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

    def endpoint(
        self, handler: Callable[..., Response], *, post: bool = False, step: bool = False
    ) -> Callable[[Request], Awaitable[Response]]:
        """
        Starlette's endpoint for ``handler``, which runs off the event loop.

        The form of a POST is read (and its CSRF token checked) on the loop; then ``handler``
        runs in Starlette's thread pool, with the import of a ``/import/{sid}/...`` URL held
        for it (``step``), so reading, validating, planning and applying never block the loop.
        """

        def call(request: Request, form: FormData | None) -> Response:
            args: list[Any] = [form] if post else []
            try:
                if not step:
                    return handler(request, *args)
                try:
                    with self.sessions.use(request.path_params["sid"]) as imp:
                        return handler(request, imp, *args)
                except KeyError:
                    raise HTTPException(410) from None
            except UserImportError as e:  # a step reached out of order, a store that failed
                return self.problem(request, 400, str(e))

        async def endpoint(request: Request) -> Response:
            form = await self.form(request) if post else None
            try:
                return await run_in_threadpool(call, request, form)
            finally:
                if form is not None:
                    await form.close()

        return endpoint

    async def on_http_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        messages = {
            403: self.t(
                request,
                "This form was refused: its security token is missing or does not match. "
                "Reload the page and try again.",
            ),
            404: self.t(request, "There is no such page."),
            405: self.t(request, "This page cannot be used that way."),
            410: self.t(
                request,
                "This import has expired or does not exist (imports are kept for "
                "%(minutes)s minutes after their last use). Start again by uploading the file.",
                minutes=int(self.session_ttl // 60),
            ),
            413: self.t(
                request,
                "The file is too large: the limit is %(mb)s MB.",
                mb=format(self.max_upload_bytes / 1_000_000, "g"),
            ),
        }
        return self.problem(
            request, exc.status_code, messages.get(exc.status_code, str(exc.detail))
        )

    def _record(self, record_id: str) -> ImportRecord | None:
        """Import ``record_id`` from the history, or from the spare one if the store failed."""
        return self.history.get_import(record_id) or self.spare_history.get_import(record_id)

    def _undo(self, request: Request, record_id: str) -> Response:
        """Undo import ``record_id`` of the history, if the store has not changed since."""
        record = self._record(record_id)
        if record is None:
            return self.problem(
                request, 404, self.t(request, "There is no such import in the history.")
            )
        if record.undone_at is not None:
            return self.problem(request, 409, self.t(request, "This import was undone already."))
        changed = self.t(
            request,
            "Undo is refused: the user store changed after this import (users were added, "
            "changed or deleted since, or another import was made), and undoing now would "
            "overwrite those later changes. Change the users by hand on the Users page instead.",
        )
        if not record.can_undo(self.repository.snapshot().version):
            return self.problem(request, 409, changed)
        try:
            undo = Plan.from_json(record.undo)
            # The undo plan comes from the store's own history, signed with its secret: it
            # may restore what the import did, deletions and admins included.
            apply_plan(undo, self.repository, permissions=Permissions.from_settings(undo.settings))
        except StalePlanError:
            return self.problem(request, 409, changed)
        except UserImportError as e:
            return self.problem(request, 409, self.t(request, "Undo is refused: %(why)s", why=e))
        history = self.history if self.history.get_import(record.id) else self.spare_history
        history.mark_import_undone(record.id, datetime.now(UTC))
        return self.go(request, "/history?done=undone")


def language_of(request: Request) -> str:
    return choose_language(request.headers.get("accept-language"))


def environment(language: str) -> Environment:
    """The templates, rendered in ``language`` (``_``, ``gettext`` and ``ngettext``)."""
    env = Environment(
        loader=PackageLoader("userimport.web", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    return env


def download(data: bytes, name: str) -> Response:
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

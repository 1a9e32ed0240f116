"""
The web application: the users pages and the import wizard, server-rendered with Jinja2.

Every page is a plain HTML form that works without JavaScript; the vendored htmx (``static/``)
only makes links and forms swap the page body instead of reloading it (``hx-boost``).
The pages live in ``_users.py`` (users, History) and ``_wizard.py`` (the import), their shared
plumbing in ``_base.py``, imports in progress in ``_sessions.py``, the language in ``_i18n.py``;
this module assembles them, with the middleware that guards every request.

Safety by construction (see ``docs/web.md``, "Security model"):

- every state-changing request is a POST carrying a CSRF token that must equal the token in a
  ``SameSite=Strict`` cookie and carry the app's HMAC signature (refused with 403);
- a request body over ``max_upload_bytes`` is refused with 413 before it is parsed;
- an upload is written to a fresh temporary folder, read, and the folder removed at once;
- an import lives server-side under a random id and expires ``session_ttl`` seconds after its
  last use (410 with a message), in memory or in signed files of ``session_dir``;
- every request's work runs in Starlette's thread pool, off the event loop;
- Jinja2 autoescapes every value: a cell is always shown as text.
"""

from __future__ import annotations

import functools
import hmac
import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..notify import Notifier
from ..repository import UserRepository
from ._base import (
    DEFAULT_MAX_UPLOAD_BYTES,
    DEFAULT_SESSION_TTL,
    HEADERS,
    PAGE_SIZE,
    TOKEN_COOKIE,
    ASGIApp,
    Message,
    Receive,
    Scope,
    Send,
    TooLarge,
    to_int,
)
from ._users import UsersPages
from ._wizard import Wizard

__all__ = ["DEFAULT_MAX_UPLOAD_BYTES", "DEFAULT_SESSION_TTL", "PAGE_SIZE", "create_app"]


class _Web(UsersPages, Wizard):
    """Every page of the app; :func:`create_app` builds one per app."""


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
                    self.web.t(
                        request,
                        "This userimport server needs its access token: open the address that "
                        "'userimport serve' printed (it ends in ?token=...).",
                    ),
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
        length = to_int(request.headers.get("content-length", 0), 0)
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
                    raise TooLarge
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
    session_dir: str | os.PathLike[str] | None = None,
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
        session_dir: Keep imports in progress as signed files in this folder (made private
            to its owner), so that several worker processes serving the app share them;
            needs ``secret``, the same in every worker. Without it, imports live in this
            process's memory.

    Returns:
        The ASGI application.

    Raises:
        ValueError: A limit that is not positive; ``session_dir`` without ``secret``, or
            a ``session_dir`` that another user owns or may write to.
    """
    if max_upload_bytes <= 0 or max_rows <= 0 or session_ttl <= 0:
        raise ValueError("max_upload_bytes, max_rows and session_ttl must be positive")
    if session_dir is not None and not secret:
        raise ValueError(
            "session_dir needs secret=...: every worker signs and checks the imports' files with it"
        )
    web = _Web(
        repository,
        max_upload_bytes=max_upload_bytes,
        max_rows=max_rows,
        session_ttl=session_ttl,
        secret=secret,
        token=token,
        notifier=notifier,
        session_dir=session_dir,
    )
    static = Path(__file__).with_name("static")
    get, post = web.endpoint, functools.partial(web.endpoint, post=True)
    step, post_step = (
        functools.partial(web.endpoint, step=True),
        functools.partial(web.endpoint, step=True, post=True),
    )
    routes = [
        Route("/", get(web.home)),
        Route("/users", get(web.users)),
        Route("/users/add", post(web.user_add), methods=["POST"]),
        Route("/users/edit", get(web.user_edit_page)),
        Route("/users/edit", post(web.user_edit), methods=["POST"]),
        Route("/users/admin", post(web.user_admin), methods=["POST"]),
        Route("/users/welcome", post(web.user_welcome), methods=["POST"]),
        Route("/users/delete", get(web.user_delete_page)),
        Route("/users/delete", post(web.user_delete), methods=["POST"]),
        Route("/users/export", get(web.export)),
        Route("/template", get(web.template)),
        Route("/import", get(web.upload_page)),
        Route("/import", post(web.upload), methods=["POST"]),
        Route("/import/{sid}/header", step(web.header_page)),
        Route("/import/{sid}/header", post_step(web.header), methods=["POST"]),
        Route("/import/{sid}/mapping", step(web.mapping_page)),
        Route("/import/{sid}/mapping", post_step(web.mapping), methods=["POST"]),
        Route("/import/{sid}/settings", step(web.settings_page)),
        Route("/import/{sid}/settings", post_step(web.settings), methods=["POST"]),
        Route("/import/{sid}/review", step(web.review_page)),
        Route("/import/{sid}/row/{row}", step(web.row_page)),
        Route("/import/{sid}/row/{row}", post_step(web.row_edit), methods=["POST"]),
        Route("/import/{sid}/row/{row}/action", post_step(web.row_action), methods=["POST"]),
        Route("/import/{sid}/overview", step(web.overview)),
        Route("/import/{sid}/start", post_step(web.start), methods=["POST"]),
        Route("/import/{sid}/done", step(web.done)),
        Route("/import/{sid}/undo", post_step(web.undo), methods=["POST"]),
        Route("/history", get(web.history_page)),
        Route("/history/{rid}/undo", post(web.history_undo), methods=["POST"]),
        Mount("/static", StaticFiles(directory=static), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: web.on_http_error})
    app.state.web = web
    app.state.behind_auth = behind_auth
    return _Guard(app, web, token)

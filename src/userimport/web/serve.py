"""
``userimport serve``: run the web application with uvicorn, on a loopback address by default.

With ``workers`` above one, uvicorn starts that many processes, each importing
:func:`worker_app` (its factory mode). The parent passes them, through the environment variable
:data:`CONFIG_ENV` (read by the workers only, never by a person): the store's URL, a secret
generated once per ``serve`` (so a CSRF token or an import's file made by one worker is
accepted by every other), the folder the imports in progress are kept in, and the token.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator

from ..errors import SettingsError
from ..fields import schema_from_environment
from ..repository import UserRepository
from ._base import ASGIApp
from .app import create_app

__all__ = ["CONFIG_ENV", "address", "check_host", "is_loopback", "run", "worker_app"]

#: The environment variable through which ``run`` configures its worker processes.
CONFIG_ENV = "USERIMPORT_SERVE_CONFIG"


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and the loopback addresses (127.0.0.0/8, ``::1``)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_host(host: str, *, token: str | None, behind_auth: bool) -> None:
    """
    Refuse to serve on a non-loopback address without a token or an authenticating proxy.

    The app has no accounts of its own: on any other address, anyone who reaches the port
    could import and delete users.

    Raises:
        SettingsError: ``host`` is not a loopback address and neither ``token`` nor
            ``behind_auth`` is given.
    """
    if not is_loopback(host) and not token and not behind_auth:
        raise SettingsError(
            f"refusing to serve on {host}: the pages have no login of their own, so anyone "
            "who reaches that address could import and delete users; give --token (then the "
            "address printed carries it) or --behind-auth (a proxy in front authenticates "
            "every request), or serve on 127.0.0.1"
        )


def address(host: str, port: int, token: str | None) -> str:
    """The address a person opens, with the token when there is one."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/" + (f"?token={token}" if token else "")


def run(
    repository: UserRepository,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    token: str | None = None,
    behind_auth: bool = False,
    echo: Callable[[str], object] = print,
    workers: int = 1,
    session_dir: str | os.PathLike[str] | None = None,
    url: str | None = None,
) -> None:
    """
    Serve :func:`~userimport.web.create_app` on ``host``:``port`` until interrupted.

    Args:
        repository: The store (with one worker, the pages use it as it is).
        host: The address to bind.
        port: The port to bind.
        token: Require this token (see :func:`check_host`).
        behind_auth: A proxy in front authenticates every request.
        echo: Prints the address.
        workers: How many processes answer requests. With more than one, each opens the store
            again from ``url`` (and the schema ``USERIMPORT_SCHEMA`` names), and the imports
            in progress live in ``session_dir``.
        session_dir: Keep imports in progress as signed files in this folder; with several
            workers and no folder given, a private temporary one, removed when serving stops.
        url: The store's URL, password included (needed with several workers).

    Raises:
        SettingsError: See :func:`check_host`; ``workers`` below 1; several workers without
            ``url``, or over a store whose schema is not the one ``USERIMPORT_SCHEMA`` names.
    """
    import uvicorn

    check_host(host, token=token, behind_auth=behind_auth)
    if workers < 1:
        raise SettingsError(f"--workers must be 1 or more, not {workers}")
    secret = secrets.token_urlsafe(32)  # once per serve: every worker signs with it
    shown = address(host, port, token)
    if workers == 1:
        app = create_app(
            repository,
            token=token or None,
            behind_auth=behind_auth,
            secret=secret,
            session_dir=session_dir,
        )
        echo(f"userimport is serving on {shown} (Ctrl+C stops it)")
        uvicorn.run(app, host=host, port=port, log_level="warning")
        return
    if url is None:
        raise SettingsError("several workers open the store again: give the store's URL")
    schema = schema_from_environment()
    if getattr(repository, "schema", schema) != schema:
        raise SettingsError(
            "several workers read the schema USERIMPORT_SCHEMA names, and the store was "
            "opened with another: set USERIMPORT_SCHEMA to the store's schema"
        )
    with _folder(session_dir) as folder:
        config = {
            "url": url,
            "secret": secret,
            "session_dir": folder,
            "token": token or None,
            "behind_auth": behind_auth,
        }
        os.environ[CONFIG_ENV] = json.dumps(config)
        try:
            echo(f"userimport is serving on {shown} with {workers} workers (Ctrl+C stops it)")
            uvicorn.run(
                f"{__name__}:worker_app",
                factory=True,
                workers=workers,
                host=host,
                port=port,
                log_level="warning",
            )
        finally:
            del os.environ[CONFIG_ENV]


@contextlib.contextmanager
def _folder(given: str | os.PathLike[str] | None) -> Iterator[str]:
    """``given``, or a private temporary folder removed afterwards."""
    if given is not None:
        yield os.fspath(given)
        return
    made = tempfile.mkdtemp(prefix="userimport-sessions-")  # mode 0700
    try:
        yield made
    finally:
        shutil.rmtree(made, ignore_errors=True)


def worker_app() -> ASGIApp:
    """
    The app of one worker process that :func:`run` started (uvicorn's factory).

    Raises:
        SettingsError: The process was not started by :func:`run` (no :data:`CONFIG_ENV`).
    """
    from ..sql import SqlUserRepository

    given = os.environ.get(CONFIG_ENV)
    if not given:
        raise SettingsError(f"worker_app runs in a worker that serve started ({CONFIG_ENV})")
    config = json.loads(given)
    store = SqlUserRepository(config["url"], schema=schema_from_environment())
    return create_app(
        store,
        secret=config["secret"],
        session_dir=config["session_dir"],
        token=config["token"],
        behind_auth=config["behind_auth"],
    )

"""``userimport serve``: run the web application with uvicorn, on a loopback address by default."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from ..errors import SettingsError
from ..repository import UserRepository
from .app import create_app

__all__ = ["address", "check_host", "is_loopback", "run"]


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
) -> None:
    """
    Serve :func:`~userimport.web.create_app` on ``host``:``port`` until interrupted.

    Raises:
        SettingsError: See :func:`check_host`.
    """
    import uvicorn

    check_host(host, token=token, behind_auth=behind_auth)
    app = create_app(repository, token=token or None, behind_auth=behind_auth)
    echo(f"userimport is serving on {address(host, port, token)} (Ctrl+C stops it)")
    uvicorn.run(app, host=host, port=port, log_level="warning")

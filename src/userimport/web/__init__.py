"""
The import wizard and the users pages in a browser: an ASGI application to mount in a host app.

Needs the ``web`` extra (``pip install 'userimport[web]'``): Starlette, Jinja2 and
python-multipart (uvicorn too, for ``userimport serve``). See ``docs/web.md``.
"""

from __future__ import annotations

from .app import create_app

__all__ = ["create_app"]

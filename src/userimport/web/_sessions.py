"""
Where an import in progress lives between requests: in this process, or in a shared folder.

An import (:class:`Import`) is kept under a random id (``secrets.token_urlsafe(24)``) and
expires ``ttl`` seconds after its last use. Two stores:

- :class:`MemorySessions` (the default): a dict in this process, at most :data:`MAX_IMPORTS`
  (the least recently used goes first). Serve the app from one process.
- :class:`FolderSessions` (``create_app(session_dir=...)``): one file per import in a folder
  every worker process shares, so any worker can answer any request. The file is the pickled
  import followed by its HMAC-SHA-256 under the app's secret: a file that was not written by
  an app holding the secret is refused before it is unpickled. The folder is made private to
  its owner (mode 0700), a file is replaced atomically, and requests on one import take turns
  (a lock file, ``fcntl.flock``), so two workers never interleave their changes.

Both hand out an import through :meth:`use`, a context manager: what the request changes is
kept when it ends.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import pickle
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import attrs

from ..apply import ApplyResult
from ..headers import HeaderGuess
from ..mapping import ColumnMapping
from ..model import ImportSettings
from ..plan import Plan
from ..read import RawTable
from ..review import Review

__all__ = ["MAX_IMPORTS", "FolderSessions", "Import", "MemorySessions", "Sessions", "new_id"]

#: Imports kept at once; the least recently used goes first.
MAX_IMPORTS = 50
_SUFFIX = ".import"


def new_id() -> str:
    """A fresh random import id (32 URL-safe characters, 192 bits)."""
    return secrets.token_urlsafe(24)


@attrs.define
class Import:
    """One import in progress."""

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
    record_id: str = ""
    history_error: str = ""


class Sessions(Protocol):
    """Where imports are kept between requests."""

    def add(self, imp: Import) -> None:
        """Keep a new import."""
        ...

    def use(self, sid: str) -> contextlib.AbstractContextManager[Import]:
        """
        The import ``sid`` for one request; its changes are kept when the block ends.

        Raises:
            KeyError: No such import, or it expired.
        """
        ...


class MemorySessions:
    """Imports in this process's memory."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self.imports: dict[str, Import] = {}
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def add(self, imp: Import) -> None:
        """Keep ``imp``, forgetting the least recently used import beyond :data:`MAX_IMPORTS`."""
        with self._lock:
            if len(self.imports) >= MAX_IMPORTS:
                oldest = min(self.imports, key=lambda k: self.imports[k].used)
                del self.imports[oldest]
                self._locks.pop(oldest, None)
            self.imports[imp.id] = imp
            self._locks[imp.id] = threading.Lock()

    @contextlib.contextmanager
    def use(self, sid: str) -> Iterator[Import]:
        """The import ``sid``, one request at a time (KeyError: unknown or expired)."""
        now = time.monotonic()
        with self._lock:
            for key in [k for k, s in self.imports.items() if now - s.used > self.ttl]:
                del self.imports[key]
                self._locks.pop(key, None)
            found = self.imports[sid]
            lock = self._locks[sid]
            found.used = now
        with lock:
            yield found


class FolderSessions:
    """
    Imports as signed files in a folder shared by every worker process.

    Args:
        folder: The folder (made, mode 0700, if missing).
        key: The secret the files are signed with (the same in every worker).
        ttl: Seconds an import is kept after its last use (the file's modification time).

    Raises:
        ValueError: ``folder`` belongs to another user or others may write to it.
    """

    def __init__(self, folder: str | os.PathLike[str], key: bytes, ttl: float) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = self.folder.stat()
        if hasattr(os, "getuid") and (info.st_uid != os.getuid() or info.st_mode & 0o022):
            raise ValueError(
                f"session_dir {self.folder} must belong to this user and be writable by no one "
                "else (chmod 700)"
            )
        self.key = key
        self.ttl = ttl

    def _path(self, sid: str) -> Path:
        if not sid or not all(c.isalnum() or c in "-_" for c in sid):
            raise KeyError(sid)
        return self.folder / f"{sid}{_SUFFIX}"

    def _seal(self, imp: Import) -> bytes:
        data = pickle.dumps(imp, protocol=pickle.HIGHEST_PROTOCOL)
        return data + hmac.new(self.key, data, hashlib.sha256).digest()

    def _open(self, blob: bytes) -> Import:
        data, digest = blob[:-32], blob[-32:]
        if not hmac.compare_digest(digest, hmac.new(self.key, data, hashlib.sha256).digest()):
            raise KeyError("signature")
        found = pickle.loads(data)  # signed above with the app's secret
        if not isinstance(found, Import):
            raise KeyError("kind")
        return found

    def _write(self, imp: Import) -> None:
        path = self._path(imp.id)
        partial = path.with_suffix(f".{secrets.token_hex(4)}.partial")
        partial.write_bytes(self._seal(imp))
        os.replace(partial, path)

    def _sweep(self) -> None:
        """Remove expired imports, and the least recently used beyond :data:`MAX_IMPORTS`."""
        now = time.time()
        files = []
        for path in self.folder.glob(f"*{_SUFFIX}"):
            with contextlib.suppress(FileNotFoundError):
                used = path.stat().st_mtime
                if now - used > self.ttl:
                    path.unlink(missing_ok=True)
                    path.with_suffix(".lock").unlink(missing_ok=True)
                else:
                    files.append((used, path))
        for _, path in sorted(files)[: max(0, len(files) - MAX_IMPORTS + 1)]:
            path.unlink(missing_ok=True)
            path.with_suffix(".lock").unlink(missing_ok=True)
        for lock in self.folder.glob("*.lock"):
            with contextlib.suppress(FileNotFoundError):
                gone = not lock.with_suffix(_SUFFIX).exists()
                if gone and now - lock.stat().st_mtime > self.ttl:
                    lock.unlink(missing_ok=True)

    def add(self, imp: Import) -> None:
        """Write ``imp`` to its file, after removing expired imports."""
        self._sweep()
        self._write(imp)

    @contextlib.contextmanager
    def use(self, sid: str) -> Iterator[Import]:
        """The import ``sid`` read from its file, written back when the block ends."""
        path = self._path(sid)
        if not path.exists():  # no lock file is made for an id that was never issued
            raise KeyError(sid)
        with _locked(path.with_suffix(".lock")):
            try:
                if time.time() - path.stat().st_mtime > self.ttl:
                    path.unlink(missing_ok=True)
                    raise KeyError(sid)
                imp = self._open(path.read_bytes())
            except (FileNotFoundError, pickle.UnpicklingError, EOFError) as e:
                raise KeyError(sid) from e
            imp.used = time.monotonic()
            try:
                yield imp
            finally:
                self._write(imp)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (across processes where ``fcntl`` exists)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: one process per folder
        yield
        return
    with path.open("a+b") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)

"""
:class:`SqlUserRepository`: a :class:`~userimport.repository.UserRepository` in a SQL database.

It stores users in SQLite (the embedded default, ``sqlite:///users.db``), through the
:mod:`sqlite3` module alone, or PostgreSQL (``postgresql://user@host/db``), through SQLAlchemy
Core and psycopg 3. The tables are created on first use. SQLAlchemy is imported only for
PostgreSQL (or :attr:`SqlUserRepository.engine`), so a SQLite store starts fast.

Every ``commit`` checks the version and writes in one transaction that holds the store's write
lock: ``BEGIN IMMEDIATE`` on SQLite, ``SELECT ... FOR UPDATE`` of the meta row on PostgreSQL.
Every database failure becomes a :class:`~userimport.errors.RepositoryError` whose message
never shows the URL's password.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Container, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from . import _sqlio, _sqlschema
from .errors import CommitOutcomeUnknown, RepositoryError, StalePlanError, UserImportError
from .fields import DEFAULT_SCHEMA, UserSchema
from .history import ImportRecord
from .model import ChangeSet, Snapshot, bulk, email_key
from .repository import check_changes, check_keys, with_changes

if TYPE_CHECKING:
    import sqlalchemy as sa

__all__ = ["SCHEMA_VERSION", "SqlUserRepository"]

#: The schema version this library writes; a store with a newer one is refused, an older one
#: is upgraded on first use (see :func:`_upgrade`). Version 2: keys are
#: :func:`~userimport.model.email_key` (NFC, ``str.lower``; version 1 case-folded them) and
#: every text is in NFC.
SCHEMA_VERSION = 2

_META_ID = 1
#: Seconds to wait before each try to read the version after a commit's reply was lost.
_SETTLE_DELAYS = (0.0, 0.5, 2.0)

#: A SQLite file smaller than this is read with the sqlite3 module, not ADBC, whose import
#: costs more than reading a small store (see docs/performance.md).
ADBC_FROM = 4 << 20

#: The helpers the repository calls, by the names it has always used (tests patch them here).
_store_queries = _sqlio.store_queries
_snapshot_of = _sqlio.snapshot_of
_first_row = _sqlio.first_row
_adbc = _sqlio.adbc
_rows_where = _sqlio.rows_where
_quote = _sqlio.quote
_history_row = _sqlschema.history_row
_history_record = _sqlschema.history_record
_parse_url = _sqlschema.parse_url
_scrub = _sqlschema.scrub
_upgrade = _sqlschema.upgrade
_HISTORY_COLUMNS = _sqlschema.COLUMNS["import_history"]
_Db = _sqlio.SqliteDb | _sqlio.PostgresDb


class SqlUserRepository:
    """
    A user store in a SQL database: SQLite (embedded) or PostgreSQL.

    The schema (tables ``users``, ``groups``, ``departments``, ``memberships``, ``attributes``,
    ``meta`` and ``plan_secret``) is created on first use, ``import_history`` when the import
    history (:class:`~userimport.history.ImportHistory`) is first used. Snapshots are read in
    one transaction; commits check the version and write in one transaction that holds the write
    lock, so of several commits made from the same version exactly one wins.

    Args:
        url: A SQLAlchemy URL: ``sqlite:///users.db`` (a file, relative to the working
            directory), ``sqlite:////abs/path.db`` or ``postgresql://user:pw@host/dbname``
            (``postgresql://`` is driven by psycopg 3, the ``postgresql`` extra).
        busy_timeout: Seconds to wait for another writer's lock before giving up with a
            :class:`RepositoryError`.
        cache: Keep the last snapshot, and hand it out again while the store's version is
            unchanged (one small SELECT instead of reading every user). After a commit made
            through this repository, the next snapshot is the cached one with the change set
            applied. Turn it off if something other than userimport writes the tables.
        schema: The user fields (:mod:`userimport.fields`). Each declared field that is not
            built in is a text column of ``users`` named by its key, holding the value
            ``User.attributes[key]`` has; a store that lacks the column (made by an earlier
            release, or with a schema without the field) gains it on first use, and values
            held under that name in ``attributes`` move into it.

    Raises:
        RepositoryError: The URL cannot be parsed, names an unsupported database or a
            driver that is not installed.

    >>> from userimport import User
    >>> repo = SqlUserRepository("sqlite://")
    >>> repo.commit(ChangeSet(create=[User(email="a@firma.no")]),
    ...             expected_version=repo.snapshot().version) != ""
    True
    >>> [u.email for u in repo.snapshot()]
    ['a@firma.no']
    >>> repo.close()
    """

    def __init__(
        self,
        url: str = "sqlite:///users.db",
        *,
        busy_timeout: float = 5.0,
        cache: bool = True,
        schema: UserSchema = DEFAULT_SCHEMA,
    ) -> None:
        #: The user fields this store keeps.
        self.schema = schema
        self._declared = tuple(f.key for f in schema.extra)

        self._url = _parse_url(url)
        self._shown = self._url.render_as_string(hide_password=True)
        self._busy_timeout = float(busy_timeout)
        self._schema_ready = False
        # This repository made the store and has not written to it yet: snapshots read the
        # (likely empty) tables with the sqlite3 module, already loaded, not through ADBC,
        # whose import costs more than such a read. Either way reads the same.
        self._made = False
        self._schema_lock = threading.Lock()
        self._cache = cache
        self._secret: bytes | None = None
        # The last snapshot read, or the one a commit made from it: (its version, a maker).
        self._cached: tuple[str, Callable[[], Snapshot]] | None = None
        # The last snapshot handed out (with the cache on): a commit at its version reads
        # which keys exist, and the updated users' memberships, from it instead of the store.
        self._known: Snapshot | None = None
        self.dialect = self._url.get_backend_name()
        # In-memory SQLite lives in one connection; serialise its users (reentrant: the engine's).
        self._memory_lock: threading.RLock | None = None
        #: A SQLite file that snapshots may read through ADBC (the ``sqlite-fast`` extra).
        self._file: str | None = None
        # SQLite's connections (SQLAlchemy's engine: PostgreSQL's, or made when asked for).
        self._sqlite: _sqlio.SqliteConnections | None = None
        self._engine: sa.Engine | None = None
        if self.dialect == "sqlite":
            try:
                target, connect_args = _sqlschema.sqlite_target(self._url)
            except ValueError as exc:
                raise RepositoryError(f"cannot use database {self._shown}: {exc}") from exc
            connect_args["timeout"] = self._busy_timeout
            # An idle connection may be taken by any thread next, whatever the URL says.
            connect_args["check_same_thread"] = False
            database = self._url.database or ""
            if database not in ("", ":memory:") and not self._url.query:
                self._file = None if database.startswith("file:") else target  # absolute
            if self.in_memory:
                self._memory_lock = threading.RLock()
            self._sqlite = _sqlio.SqliteConnections(
                target, connect_args, shared=self._memory_lock is not None
            )
        else:
            self._engine = _sqlio.engine(self._url, self._busy_timeout)

    def __repr__(self) -> str:
        return f"SqlUserRepository({self._shown!r})"

    @property
    def url(self) -> str:
        """The database URL, with the password hidden."""
        return self._shown

    @property
    def in_memory(self) -> bool:
        """
        Whether the store is an in-memory SQLite database, which lives only as long as the
        repository: ``sqlite://``, ``sqlite:///:memory:``, a ``file:`` URI with
        ``mode=memory`` or ``:memory:``.
        """
        if self.dialect != "sqlite":
            return False
        database = self._url.database or ""
        if database in ("", ":memory:"):
            return True
        if not database.startswith("file:"):
            return False
        path, _, query = database[5:].partition("?")
        modes = self._url.query.get("mode", ())
        modes = (modes,) if isinstance(modes, str) else modes
        return path == ":memory:" or "mode=memory" in query.split("&") or "memory" in modes

    @property
    def engine(self) -> sa.Engine:
        """
        A SQLAlchemy engine on the store, for an app's own queries.

        On SQLite the repository itself runs on the :mod:`sqlite3` module; the engine is made
        on first use (importing SQLAlchemy then), its transactions begin as the repository's
        do, and on an in-memory store it shares the repository's one connection.
        """
        if self._engine is None:
            assert self._sqlite is not None
            shared = self._sqlite.one if self._memory_lock is not None else None
            self._engine = _sqlio.engine(self._url, self._busy_timeout, shared, self._memory_lock)
        return self._engine

    def close(self) -> None:
        """Close the connections; the repository reconnects if used again."""
        if self._engine is not None:
            self._engine.dispose()
        if self._sqlite is not None:
            self._sqlite.close()
        if self._memory_lock is not None:
            self._schema_ready = False  # the next connection is a new, empty database
            self._engine = None

    def __enter__(self) -> SqlUserRepository:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the protocol -------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """
        Return every user, group and department, read in one transaction.

        Raises:
            RepositoryError: The database cannot be reached, is locked, or was made by a
                newer userimport.
        """
        with self._guard("read the users"):
            self._ensure_schema()
            snap = self._arrow_snapshot() if self._large() else None
            if snap is None:
                with self._transaction(write=False) as db:
                    version = self._read_meta(db, lock=False)
                    snap = self._cached_or(version, lambda: self._read_snapshot(db, version))
        if self._cache:
            self._cached = (snap.version, lambda: snap)
            self._known = snap
        return snap

    def _large(self) -> bool:
        """
        Whether the store is a SQLite file large enough that ADBC reads it faster, import
        included: not one this repository made and has not written to yet (likely empty).
        """
        import os

        if self._file is None or self._made:
            return False
        try:
            return os.path.getsize(self._file) >= ADBC_FROM
        except OSError:
            return False

    def _cached_or(self, version: str, read: Callable[[], Snapshot]) -> Snapshot:
        """The cached snapshot if it is at ``version``, else ``read()``."""
        cached = self._cached
        with bulk():
            return cached[1]() if cached is not None and cached[0] == version else read()

    def commit(self, changes: ChangeSet, *, expected_version: str) -> str:
        """
        Apply ``changes`` in one transaction if the store is still at ``expected_version``.

        The new version is chosen before the transaction commits. So if the connection is
        lost while committing (the reply to ``COMMIT`` never comes), the repository
        reconnects, waits for the store's write lock and reads the version: the new one means
        the commit landed, and this returns normally; the expected one means nothing was
        written, and this raises :class:`RepositoryError` saying so.

        Args:
            changes: What to create, update and delete.
            expected_version: The version the change set was planned against.

        Returns:
            The new version (the current one, unchanged, for an empty change set).

        Raises:
            StalePlanError: The store is no longer at ``expected_version``.
            CommitOutcomeUnknown: The connection was lost while committing and the store
                could not be asked afterwards (or another writer has committed since): the
                change set is wholly written or not at all; the error says how to find out.
            RepositoryError: The change set does not fit the store, or the database failed;
                nothing was written.
        """
        self._made = False  # the store may be large from now on: snapshots may read it via ADBC
        # Chosen before the commit: if its reply is lost, the store's version tells the outcome.
        new_version = uuid.uuid4().hex
        committing = False
        try:
            with self._guard("commit the changes"):
                self._ensure_schema()
                with self._transaction(write=True) as db:
                    current = self._read_meta(db, lock=True)
                    if expected_version != current:
                        raise StalePlanError(
                            f"the store changed since the plan was made (plan: "
                            f"{expected_version}, store: {current}); plan again",
                            expected=expected_version,
                            actual=current,
                        )
                    if changes.is_empty:
                        return current
                    cached = self._cached
                    # The version check above, under the write lock, proves the store is
                    # the snapshot handed out at this version (the cache's contract, see
                    # docs/sql.md): what it says the store holds, the store holds.
                    known = self._known
                    if known is not None and known.version != current:
                        known = None
                    rows: dict[str, int] | None = None
                    if changes.delete_groups or changes.delete_departments:
                        with bulk():
                            full = self._read_snapshot(db, current)
                        check_changes(full, changes)
                        groups, departments = full.groups, full.departments
                    else:
                        # Checking a change set needs only the keys it touches, groups and
                        # departments: which of those keys exist is one indexed lookup.
                        create, update = changes.columns()
                        touched = {email_key(e) for e in changes.delete}
                        touched.update(update.key, create.key)
                        keys: Container[str]
                        if known is not None:
                            keys = rows = _rows_of(known, touched)
                        else:
                            keys = {k for (k,) in _rows_where(db, "users", ["key"], "key", touched)}
                        groups = frozenset(n for (n,) in db.rows("SELECT name FROM groups"))
                        departments = frozenset(
                            n for (n,) in db.rows("SELECT name FROM departments")
                        )
                        check_keys(keys, groups, departments, changes)
                    with bulk():
                        _sqlio.write(
                            db,
                            groups,
                            departments,
                            changes,
                            self._declared,
                            None if known is None or rows is None else (known, rows),
                        )
                    db.run("UPDATE meta SET version = ? WHERE id = ?", (new_version, _META_ID))
                    # Leaving the block sends COMMIT: a failure from here on may be a lost reply.
                    committing = True
        except RepositoryError as exc:
            if not committing or isinstance(exc, CommitOutcomeUnknown):
                raise
            self._settle(exc, expected=current, version=new_version)
        # Committed. The store is now the snapshot it was at, with these changes: made
        # when next asked for, and only if nothing else has written in between.
        self._cached, self._known = None, None
        if cached is not None and cached[0] == current:
            before = cached[1]
            self._cached = (new_version, lambda: with_changes(before(), changes, new_version))
        return new_version

    def _settle(self, failure: RepositoryError, *, expected: str, version: str) -> None:
        """
        Find out whether a commit whose ``COMMIT`` failed landed: return if it did (the store
        is at ``version``), raise ``failure`` reworded if it did not (still at ``expected``),
        and :class:`CommitOutcomeUnknown` if the store cannot tell.

        On PostgreSQL the version is read under the meta row's lock, which the failed
        transaction held: once it is granted, that transaction has ended one way or the
        other, even if its server process had not noticed the lost client yet. SQLite's
        transaction ended with the call that failed (and a reader rolls back what a broken
        one left behind), so a plain read tells, even from a disk that takes no more writes.
        A store that cannot be reached is asked again after each delay of ``_SETTLE_DELAYS``.
        """
        self._cached, self._known = None, None
        cause = failure.__cause__ or failure
        reason: BaseException = failure
        postgres = self.dialect == "postgresql"
        for delay in _SETTLE_DELAYS:
            time.sleep(delay)
            try:
                with self._guard("read the version"), self._transaction(write=postgres) as db:
                    now = self._read_meta(db, lock=postgres)
            except RepositoryError as exc:
                reason = exc
                continue
            if now == version:
                return
            if now == expected:
                raise RepositoryError(
                    f"{self._describe('finish the commit', cause)}; checked after reconnecting: "
                    f"the store is still at version {expected}, so nothing was written"
                ) from cause
            raise CommitOutcomeUnknown(
                f"the connection to {self._shown} was lost while committing, and another "
                f"writer has committed since (the store is at version {now}): it is not known "
                "whether these changes were written. Read the store to find out, e.g. plan "
                "the same file again: an empty plan means the import is in the store",
                version=version,
                expected=expected,
            ) from cause
        raise CommitOutcomeUnknown(
            f"the connection to {self._shown} was lost while committing, and the store cannot "
            f"be asked whether the commit landed ({self._detail(reason.__cause__ or reason)}): "
            "it is not known whether these "
            f"changes were written; they are wholly there or not at all. Once the store can be "
            f"reached, read its version: {version} means they were written, {expected} that "
            "nothing was (or plan the same file again: an empty plan means the import is in "
            "the store)",
            version=version,
            expected=expected,
        ) from cause

    def plan_secret(self) -> bytes:
        """
        The key saved plans of this store are signed with: 32 random bytes, made on first use.

        Kept in the table ``plan_secret`` of the store itself, so every process using the
        store signs and checks alike; a store made by an earlier release gains the table.

        Raises:
            RepositoryError: The database cannot be reached or written.
        """
        if self._secret is None:
            with self._guard("read the plan secret"):
                self._ensure_schema()
                self._secret = self._read_secret()
        return self._secret

    def _read_secret(self) -> bytes:
        import secrets

        query = "SELECT secret FROM plan_secret WHERE id = ?"
        with self._transaction(write=False) as db:
            if _sqlio.has_table(db, "plan_secret") and (found := db.rows(query, (_META_ID,))):
                return bytes.fromhex(found[0][0])
        with self._transaction(write=True) as db:
            _sqlio.create(db, ["plan_secret"])
            found = db.rows(query, (_META_ID,))
            if found:
                return bytes.fromhex(found[0][0])
            secret = secrets.token_hex(32)
            db.run("INSERT INTO plan_secret (id, secret) VALUES (?, ?)", (_META_ID, secret))
        return bytes.fromhex(secret)

    # -- import history (userimport.history.ImportHistory) ------------------------------------

    def add_import(self, record: ImportRecord) -> None:
        """
        Keep ``record`` in the table ``import_history`` (made on first write).

        Raises:
            RepositoryError: The database cannot be reached or written.
        """
        with self._guard("record the import"):
            self._history_table()
            row = _history_row(record)
            names = ", ".join(row)
            with self._transaction(write=True) as db:
                db.run(
                    f"INSERT INTO import_history ({names}) VALUES ({', '.join('?' * len(row))})",
                    tuple(row.values()),
                )

    def list_imports(self, limit: int = 50) -> list[ImportRecord]:
        """
        The ``limit`` most recent imports into this store, newest first (``undo`` left empty).

        Raises:
            RepositoryError: The database cannot be read.
        """
        columns = [c for c in _HISTORY_COLUMNS if c != "undo"]
        query = f"SELECT {', '.join(columns)} FROM import_history ORDER BY at DESC LIMIT ?"
        with self._guard("read the import history"):
            if not self._history_held():
                return []
            with self._transaction(write=False) as db:
                rows = db.rows(query, (limit,))
        return [
            _history_record({**dict(zip(columns, row, strict=True)), "undo": ""}) for row in rows
        ]

    def get_import(self, id: str) -> ImportRecord | None:
        """
        The import record ``id`` with its undo plan, or ``None``.

        Raises:
            RepositoryError: The database cannot be read.
        """
        columns = _HISTORY_COLUMNS
        query = f"SELECT {', '.join(columns)} FROM import_history WHERE id = ?"
        with self._guard("read the import history"):
            if not self._history_held():
                return None
            with self._transaction(write=False) as db:
                rows = db.rows(query, (id,))
        return _history_record(dict(zip(columns, rows[0], strict=True))) if rows else None

    def mark_import_undone(self, id: str, at: datetime) -> None:
        """
        Note that import ``id`` was undone at ``at``.

        Raises:
            RepositoryError: The database cannot be reached or written.
        """
        with self._guard("record the undo"):
            self._history_table()
            with self._transaction(write=True) as db:
                db.run(
                    "UPDATE import_history SET undone_at = ? WHERE id = ?",
                    (at.astimezone(UTC).isoformat(), id),
                )

    def _history_held(self) -> bool:
        """
        Whether the store has its history table. Readers look, and never make it: a store
        opened read-only, or by a reader without the right to write, still lists its (no)
        imports.
        """
        if not getattr(self, "_history_ready", False):
            self._ensure_schema()
            with self._transaction(write=False) as db:
                # Once there, it stays: the next reads and writes need not look again.
                self._history_ready = _sqlio.has_table(db, "import_history")
        return self._history_ready

    def _history_table(self) -> None:
        """Make the history table if it is missing, once per repository."""
        if not getattr(self, "_history_ready", False):
            self._ensure_schema()
            with self._transaction(write=True) as db:
                _sqlio.create(db, _sqlschema.HISTORY)
            self._history_ready = True

    # -- transactions and errors --------------------------------------------------------------

    @contextlib.contextmanager
    def _transaction(self, *, write: bool) -> Iterator[_Db]:
        """Open a connection and a transaction: write ones take the write lock first."""
        if self._sqlite is not None:
            lock = self._memory_lock or contextlib.nullcontext()
            with lock, self._sqlite.transaction(write=write) as db:
                yield db
            return
        assert self._engine is not None
        with self._engine.connect() as conn:
            if not write:
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield _sqlio.PostgresDb(conn)

    @contextlib.contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        """Turn every database and driver error into a RepositoryError with a clear message."""
        try:
            yield
        except UserImportError:
            raise
        except Exception as exc:
            if not self._is_database_error(exc):
                raise
            raise RepositoryError(self._describe(action, exc)) from exc

    def _is_database_error(self, exc: Exception) -> bool:
        """Whether ``exc`` comes from the database or its driver (sqlite3, SQLAlchemy, psycopg)."""
        if self.dialect == "sqlite":
            return isinstance(exc, sqlite3.Error)
        import sqlalchemy as sa

        assert self._engine is not None
        loaded = getattr(self._engine.dialect, "loaded_dbapi", None)
        return isinstance(exc, sa.exc.SQLAlchemyError) or (
            loaded is not None and isinstance(exc, loaded.Error)
        )

    def _detail(self, exc: BaseException) -> str:
        """The first line of the driver's message, with any password hidden."""
        orig = getattr(exc, "orig", None) or exc
        detail = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
        detail = _scrub(detail)
        if self._url.password:
            detail = detail.replace(str(self._url.password), "***")
        return detail

    def _describe(self, action: str, exc: BaseException) -> str:
        orig = getattr(exc, "orig", None) or exc
        detail = self._detail(exc)
        lowered = detail.lower()
        if "database is locked" in lowered or "lock timeout" in lowered or "busy" in lowered:
            return (
                f"cannot {action} in {self._shown}: another process holds the lock "
                f"(waited {self._busy_timeout:g} s); try again ({detail})"
            )
        if self._sqlite and (why := _sqlschema.sqlite_reason(lowered, self._sqlite.target)):
            return f"cannot {action} in {self._shown}: {why} ({detail})"
        if self._is_lost(exc):
            # Only a commit writes; one that failed before COMMIT was sent wrote nothing (the
            # server rolls back a transaction whose client is gone). A failed COMMIT is settled.
            written = "; nothing was written" if action.startswith("commit") else ""
            return (
                f"cannot {action} in {self._shown}: the database cannot be reached or the "
                f"connection was lost{written} ({detail})"
            )
        return f"cannot {action} in {self._shown}: {type(orig).__name__}: {detail}"

    def _is_lost(self, exc: BaseException) -> bool:
        """Whether the database could not be reached, or the connection failed."""
        if isinstance(exc, sqlite3.Error):
            return isinstance(exc, sqlite3.OperationalError)
        import sqlalchemy as sa

        return isinstance(exc, sa.exc.DBAPIError) and (
            exc.connection_invalidated or isinstance(exc, sa.exc.OperationalError)
        )

    # -- schema --------------------------------------------------------------------------------

    def _ensure_schema(self) -> None:
        """Create the tables and the meta row on first use, once per repository."""
        if self._schema_ready:
            return
        with self._schema_lock:
            if self._schema_ready:
                return
            columns: set[str] = set()
            with self._transaction(write=False) as db:
                held = (
                    db.rows("SELECT schema_version FROM meta")
                    if _sqlio.has_table(db, "meta")
                    else None
                )
                if held:
                    columns = _sqlio.columns_of(db, "users")
            if held and int(held[0][0]) < SCHEMA_VERSION:
                self._upgrade()
            if not held:
                with self._transaction(write=True) as db:
                    _sqlio.create(db, _sqlschema.STORE_TABLES, store=self._shown)
                    if not db.rows("SELECT id FROM meta"):
                        self._made = True
                        db.run(
                            "INSERT INTO meta (id, version, schema_version) VALUES (?, ?, ?)",
                            (_META_ID, uuid.uuid4().hex, SCHEMA_VERSION),
                        )
                    # The plan secret too, in the same transaction: a new store costs one
                    # durable commit, not two (each is a sync to disk in SQLite).
                    if not db.rows("SELECT id FROM plan_secret"):
                        import secrets

                        db.run(
                            "INSERT INTO plan_secret (id, secret) VALUES (?, ?)",
                            (_META_ID, secrets.token_hex(32)),
                        )
            if self._declared:
                self._add_columns()
            # A column of users beyond the built-in ones that this schema does not declare
            # (another schema made it) is read and written as the attribute of that name,
            # never hidden behind a free attribute.
            others = sorted(columns - {*_sqlschema.USER_COLUMNS, *self._declared})
            self._declared = (*self._declared, *others)
            self._schema_ready = True

    def _add_columns(self) -> None:
        """
        Give ``users`` a column for each declared field it lacks, in one write transaction.

        A value the store held as a free attribute of that name moves into the column, and
        the store's version changes (a snapshot read before no longer matches).
        """
        with self._transaction(write=False) as db:
            held = _sqlio.columns_of(db, "users")
        if all(k in held for k in self._declared):
            return
        with self._transaction(write=True) as db:
            _sqlio.lock_schema(db)
            held = _sqlio.columns_of(db, "users")
            missing = [k for k in self._declared if k not in held]
            if not missing:  # another process added them meanwhile
                return
            value = (
                "SELECT attributes.value FROM attributes "
                'WHERE attributes.user_key = users."key" AND attributes.name = ?'
            )
            for key in missing:
                db.run(f"ALTER TABLE users ADD COLUMN {_quote(key)} TEXT")
                db.run(
                    f"UPDATE users SET {_quote(key)} = ({value}) WHERE EXISTS ({value})",
                    (key, key),
                )
                db.run("DELETE FROM attributes WHERE name = ?", (key,))
            db.run("UPDATE meta SET version = ? WHERE id = ?", (uuid.uuid4().hex, _META_ID))

    def _upgrade(self) -> None:
        """Bring a store made by an older userimport to :data:`SCHEMA_VERSION`, once."""
        with self._transaction(write=True) as db:
            query = "SELECT schema_version FROM meta WHERE id = ?"
            if self.dialect == "postgresql":
                query += " FOR UPDATE"
            held = db.rows(query, (_META_ID,))
            if not held:
                self._checked_meta(None)
            if int(held[0][0]) >= SCHEMA_VERSION:  # another process upgraded it meanwhile
                return
            _upgrade(db, self._shown)
            db.run(
                "UPDATE meta SET schema_version = ?, version = ? WHERE id = ?",
                (SCHEMA_VERSION, uuid.uuid4().hex, _META_ID),
            )

    def _read_meta(self, db: _Db, *, lock: bool) -> str:
        """Return the store's version, checking its schema version (and locking it if asked)."""
        query = "SELECT version, schema_version FROM meta WHERE id = ?"
        if lock and self.dialect == "postgresql":
            query += " FOR UPDATE"
        rows = db.rows(query, (_META_ID,))
        return self._checked_meta(rows[0] if rows else None)

    def _checked_meta(self, row: Sequence[Any] | None) -> str:
        """The version of a ``(version, schema_version)`` meta row, if this library can read it."""
        if row is None:
            raise RepositoryError(f"the store {self._shown} has no meta row; it is damaged")
        version, schema_version = row
        if int(schema_version) > SCHEMA_VERSION:
            raise RepositoryError(
                f"the store {self._shown} has schema version {schema_version}, made by a "
                f"newer userimport; this one knows up to {SCHEMA_VERSION}: upgrade userimport"
            )
        return str(version)

    # -- reading and writing -------------------------------------------------------------------

    def _read_snapshot(self, db: _Db, version: str) -> Snapshot:
        """Read the whole store with five set-based SELECTs, straight into a frame."""
        columns = {
            name: list(zip(*rows, strict=True)) if (rows := db.fetch(query)) else None
            for name, query in _store_queries(self.dialect, self._declared).items()
        }
        return _snapshot_of(version, columns)

    def _arrow_snapshot(self) -> Snapshot | None:
        """
        Read a SQLite file's store through ADBC, whose driver hands whole columns to Arrow
        instead of making a Python value per cell: twice as fast as the sqlite3 module.

        ``None`` without the ``sqlite-fast`` extra (or if writers kept changing the store
        while it was read). The reads run in one transaction, and the version is read again
        at the end: every commit changes it, so an unchanged version proves the reads saw one
        state.
        """
        dbapi = _adbc()
        if dbapi is None or self._file is None:
            return None
        queries = _store_queries(self.dialect, self._declared)
        meta = "SELECT version, schema_version FROM meta WHERE id = 1"
        try:
            with (
                contextlib.closing(dbapi.connect(self._file, autocommit=True)) as con,
                contextlib.closing(con.cursor()) as cursor,
            ):

                def fetch(sql: str) -> Any:
                    cursor.execute(sql)
                    return cursor.fetch_arrow_table()

                def read(version: str) -> Snapshot:
                    tables = {name: fetch(sql) for name, sql in queries.items()}
                    return _snapshot_of(
                        version,
                        {n: t.columns if t.num_rows else None for n, t in tables.items()},
                    )

                fetch(f"PRAGMA busy_timeout = {max(1, int(self._busy_timeout * 1000))}")
                for _ in range(3):
                    fetch("BEGIN DEFERRED")
                    try:
                        version = self._checked_meta(_first_row(fetch(meta)))
                        snap = self._cached_or(version, functools.partial(read, version))
                        if self._checked_meta(_first_row(fetch(meta))) == version:
                            return snap
                    finally:
                        fetch("ROLLBACK")
        except UserImportError:
            raise
        except Exception:  # ADBC could not read it (a lock, a value of another type...):
            pass  # the sqlite3 path reads it, or says why it cannot
        return None


def _rows_of(known: Snapshot, keys: set[str]) -> dict[str, int]:
    """Those of ``keys`` that are users of ``known``, each with its row in ``known.frame``."""
    import pandas as pd

    asked = list(keys)
    # The frame's index keeps its hash table: apply's check against the store made it.
    at = known.frame.index.get_indexer(pd.Index(asked, dtype=object)).tolist()
    return {k: i for k, i in zip(asked, at, strict=True) if i >= 0}

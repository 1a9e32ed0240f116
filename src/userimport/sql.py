"""
:class:`SqlUserRepository`: a :class:`~userimport.repository.UserRepository` over SQLAlchemy Core.

It stores users in SQLite (the embedded default, ``sqlite:///users.db``) or PostgreSQL
(``postgresql://user@host/db``, driven by psycopg 3). The tables are created on first use.
SQLAlchemy is imported only when a repository is made, so ``import userimport`` stays light.

Every ``commit`` checks the version and writes in one transaction that holds the store's write
lock: ``BEGIN IMMEDIATE`` on SQLite, ``SELECT ... FOR UPDATE`` of the meta row on PostgreSQL.
Every database failure becomes a :class:`~userimport.errors.RepositoryError` whose message
never shows the URL's password.
"""

from __future__ import annotations

import contextlib
import functools
import operator
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

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
#: Key of the PostgreSQL advisory lock that serialises creating the schema.
_SCHEMA_LOCK = 0x75736572696D70  # "userimp"

#: The helpers the repository calls, by the names it has always used (tests patch them here).
_store_queries = _sqlio.store_queries
_snapshot_of = _sqlio.snapshot_of
_first_row = _sqlio.first_row
_adbc = _sqlio.adbc
_fetch = _sqlio.fetch
_rows_where = _sqlio.rows_where
_sync = _sqlio.sync
_user_row = _sqlio.user_row
_insert = _sqlio.insert
_update = _sqlio.update
_delete = _sqlio.delete
_sqlite_connect = _sqlio.sqlite_connect
_sqlite_begin = _sqlio.sqlite_begin
_tables = _sqlschema.tables
_history_tables = _sqlschema.history_tables
_history_row = _sqlschema.history_row
_history_record = _sqlschema.history_record
_parse_url = _sqlschema.parse_url
_scrub = _sqlschema.scrub
_upgrade = _sqlschema.upgrade


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
        import sqlalchemy as sa

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
        self.dialect = self._url.get_backend_name()
        # In-memory SQLite lives in one connection; serialise its users instead of locking.
        self._memory_lock: threading.Lock | None = None
        kwargs: dict[str, Any] = {}
        #: A SQLite file that snapshots may read through ADBC (the ``sqlite-fast`` extra).
        self._file: str | None = None
        if self.dialect == "sqlite":
            kwargs["connect_args"] = {"timeout": self._busy_timeout}
            database = self._url.database or ""
            if database not in ("", ":memory:") and not self._url.query:
                self._file = None if database.startswith("file:") else database
            if self.in_memory:
                self._memory_lock = threading.Lock()
                kwargs["poolclass"] = sa.pool.StaticPool
                kwargs["connect_args"]["check_same_thread"] = False
        else:
            lock_ms = max(1, int(self._busy_timeout * 1000))
            options = self._url.query.get("options", "")
            if not isinstance(options, str):
                options = " ".join(options)
            kwargs["connect_args"] = {
                "connect_timeout": 10,
                "options": f"{options} -c lock_timeout={lock_ms}".strip(),
            }
            kwargs["pool_pre_ping"] = True
        try:
            self._engine = sa.create_engine(self._url, **kwargs)
        except ImportError as exc:
            raise RepositoryError(
                f"the database driver for {self._shown} is not installed ({exc.name}); "
                "install userimport[postgresql] for PostgreSQL"
            ) from exc
        except sa.exc.SQLAlchemyError as exc:
            raise RepositoryError(f"cannot use database {self._shown}: {exc}") from exc
        if self.dialect == "sqlite":
            sa.event.listen(self._engine, "connect", _sqlite_connect)
            sa.event.listen(self._engine, "begin", _sqlite_begin)

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
        """The SQLAlchemy engine, for an app's own queries and for instrumenting tests."""
        return self._engine

    def close(self) -> None:
        """Close the pooled connections; the repository reconnects if used again."""
        self._engine.dispose()

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
            fast = self._file is not None and not self._made
            snap = self._arrow_snapshot() if fast else None
            if snap is None:
                with self._transaction(write=False) as conn:
                    version = self._read_meta(conn, lock=False)
                    snap = self._cached_or(version, lambda: self._read_snapshot(conn, version))
        if self._cache:
            self._cached = (snap.version, lambda: snap)
        return snap

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
        import sqlalchemy as sa

        self._made = False  # the store may be large from now on: snapshots read it via ADBC
        # Chosen before the commit: if its reply is lost, the store's version tells the outcome.
        new_version = uuid.uuid4().hex
        committing = False
        try:
            with self._guard("commit the changes"):
                self._ensure_schema()
                with self._transaction(write=True) as conn:
                    current = self._read_meta(conn, lock=True)
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
                    t = _tables()
                    if changes.delete_groups or changes.delete_departments:
                        with bulk():
                            full = self._read_snapshot(conn, current)
                        check_changes(full, changes)
                        groups, departments = full.groups, full.departments
                    else:
                        # Checking a change set needs only the keys it touches, groups and
                        # departments: which of those keys exist is one indexed lookup.
                        touched = {email_key(e) for e in changes.delete}
                        touched.update(u.key for u in (*changes.update, *changes.create))
                        keys = {k for (k,) in _rows_where(conn, t.users, ["key"], "key", touched)}
                        groups = frozenset(conn.execute(sa.select(t.groups.c.name)).scalars())
                        departments = frozenset(
                            conn.execute(sa.select(t.departments.c.name)).scalars()
                        )
                        check_keys(keys, groups, departments, changes)
                    with bulk():
                        self._write(conn, groups, departments, changes)
                    conn.execute(
                        t.meta.update().where(t.meta.c.id == _META_ID).values(version=new_version)
                    )
                    # Leaving the block sends COMMIT: a failure from here on may be a lost reply.
                    committing = True
        except RepositoryError as exc:
            if not committing or isinstance(exc, CommitOutcomeUnknown):
                raise
            self._settle(exc, expected=current, version=new_version)
        # Committed. The store is now the snapshot it was at, with these changes: made
        # when next asked for, and only if nothing else has written in between.
        self._cached = None
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
        self._cached = None
        cause = failure.__cause__ or failure
        reason: BaseException = failure
        postgres = self.dialect == "postgresql"
        for delay in _SETTLE_DELAYS:
            time.sleep(delay)
            try:
                with self._guard("read the version"), self._transaction(write=postgres) as conn:
                    now = self._read_meta(conn, lock=postgres)
            except RepositoryError as exc:
                reason = exc
                continue
            if now == version:
                return
            if now == expected:
                raise RepositoryError(
                    f"cannot commit the changes in {self._shown}: the commit failed "
                    f"({self._detail(cause)}); checked after reconnecting: the store is still at "
                    f"version {expected}, so nothing was written"
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

        import sqlalchemy as sa

        table = _tables().plan_secret
        query = sa.select(table.c.secret).where(table.c.id == _META_ID)
        with self._transaction(write=False) as conn:
            if sa.inspect(conn).has_table(table.name):
                found = conn.execute(query).scalar_one_or_none()
                if found is not None:
                    return bytes.fromhex(found)
        with self._transaction(write=True) as conn:
            if self.dialect == "postgresql":
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_SCHEMA_LOCK)))
            table.create(conn, checkfirst=True)
            found = conn.execute(query).scalar_one_or_none()
            if found is None:
                found = secrets.token_hex(32)
                conn.execute(table.insert().values(id=_META_ID, secret=found))
        return bytes.fromhex(found)

    # -- import history (userimport.history.ImportHistory) ------------------------------------

    def add_import(self, record: ImportRecord) -> None:
        """
        Keep ``record`` in the table ``import_history`` (made on first use).

        Raises:
            RepositoryError: The database cannot be reached or written.
        """
        with self._guard("record the import"):
            table = self._history_table()
            with self._transaction(write=True) as conn:
                conn.execute(table.insert().values(**_history_row(record)))

    def list_imports(self, limit: int = 50) -> list[ImportRecord]:
        """
        The ``limit`` most recent imports into this store, newest first (``undo`` left empty).

        Raises:
            RepositoryError: The database cannot be read.
        """
        import sqlalchemy as sa

        with self._guard("read the import history"):
            table = self._history_table()
            columns = [c for c in table.c if c.name != "undo"]
            query = sa.select(*columns).order_by(table.c.at.desc()).limit(limit)
            with self._transaction(write=False) as conn:
                rows = conn.execute(query).mappings().all()
        return [_history_record({**dict(row), "undo": ""}) for row in rows]

    def get_import(self, id: str) -> ImportRecord | None:
        """
        The import record ``id`` with its undo plan, or ``None``.

        Raises:
            RepositoryError: The database cannot be read.
        """
        import sqlalchemy as sa

        with self._guard("read the import history"):
            table = self._history_table()
            with self._transaction(write=False) as conn:
                row = conn.execute(sa.select(table).where(table.c.id == id)).mappings().first()
        return None if row is None else _history_record(dict(row))

    def mark_import_undone(self, id: str, at: datetime) -> None:
        """
        Note that import ``id`` was undone at ``at``.

        Raises:
            RepositoryError: The database cannot be reached or written.
        """
        with self._guard("record the undo"):
            table = self._history_table()
            with self._transaction(write=True) as conn:
                conn.execute(
                    table.update()
                    .where(table.c.id == id)
                    .values(undone_at=at.astimezone(UTC).isoformat())
                )

    def _history_table(self) -> sa.Table:
        """The history table, created (``checkfirst``) once per repository."""
        import sqlalchemy as sa

        table = _history_tables()
        if not getattr(self, "_history_ready", False):
            self._ensure_schema()
            with self._transaction(write=True) as conn:
                if self.dialect == "postgresql":
                    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_SCHEMA_LOCK)))
                table.create(conn, checkfirst=True)
            self._history_ready = True
        return table

    # -- transactions and errors --------------------------------------------------------------

    @contextlib.contextmanager
    def _transaction(self, *, write: bool) -> Iterator[sa.Connection]:
        """Open a connection and a transaction: write ones take the write lock first."""
        with self._memory_lock or contextlib.nullcontext(), self._engine.connect() as conn:
            if self.dialect == "sqlite":
                conn.execution_options(userimport_begin="IMMEDIATE" if write else "DEFERRED")
            elif not write:
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    @contextlib.contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        """Turn every SQLAlchemy and driver error into a RepositoryError with a clear message."""
        import sqlalchemy as sa

        dbapi_error: type[BaseException] = sa.exc.SQLAlchemyError
        loaded = getattr(self._engine.dialect, "loaded_dbapi", None)
        if loaded is not None:
            dbapi_error = loaded.Error
        try:
            yield
        except UserImportError:
            raise
        except (sa.exc.SQLAlchemyError, dbapi_error) as exc:
            raise RepositoryError(self._describe(action, exc)) from exc

    def _detail(self, exc: BaseException) -> str:
        """The first line of the driver's message, with any password hidden."""
        orig = getattr(exc, "orig", None) or exc
        detail = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
        detail = _scrub(detail)
        if self._url.password:
            detail = detail.replace(str(self._url.password), "***")
        return detail

    def _describe(self, action: str, exc: BaseException) -> str:
        import sqlalchemy as sa

        orig = getattr(exc, "orig", None) or exc
        detail = self._detail(exc)
        lowered = detail.lower()
        if "database is locked" in lowered or "lock timeout" in lowered or "busy" in lowered:
            return (
                f"cannot {action} in {self._shown}: another process holds the lock "
                f"(waited {self._busy_timeout:g} s); try again ({detail})"
            )
        if isinstance(exc, sa.exc.DBAPIError) and (
            exc.connection_invalidated or isinstance(exc, sa.exc.OperationalError)
        ):
            # Only a commit writes; one that failed before COMMIT was sent wrote nothing (the
            # server rolls back a transaction whose client is gone). A failed COMMIT is settled.
            written = "; nothing was written" if action.startswith("commit") else ""
            return (
                f"cannot {action} in {self._shown}: the database cannot be reached or the "
                f"connection was lost{written} ({detail})"
            )
        return f"cannot {action} in {self._shown}: {type(orig).__name__}: {detail}"

    # -- schema --------------------------------------------------------------------------------

    def _ensure_schema(self) -> None:
        """Create the tables and the meta row on first use, once per repository."""
        if self._schema_ready:
            return
        import sqlalchemy as sa

        t = _tables()
        with self._schema_lock:
            if self._schema_ready:
                return
            with self._transaction(write=False) as conn:
                held = (
                    conn.execute(sa.select(t.meta.c.schema_version)).first()
                    if sa.inspect(conn).has_table("meta")
                    else None
                )
            ready = held is not None
            if held is not None and int(held[0]) < SCHEMA_VERSION:
                self._upgrade()
            if not ready:
                with self._transaction(write=True) as conn:
                    if self.dialect == "postgresql":
                        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_SCHEMA_LOCK)))
                    t.metadata.create_all(conn, checkfirst=True)
                    if conn.execute(sa.select(t.meta.c.id)).first() is None:
                        self._made = True
                        conn.execute(
                            t.meta.insert().values(
                                id=_META_ID,
                                version=uuid.uuid4().hex,
                                schema_version=SCHEMA_VERSION,
                            )
                        )
                    # The plan secret too, in the same transaction: a new store costs one
                    # durable commit, not two (each is a sync to disk in SQLite).
                    secret = t.plan_secret
                    if conn.execute(sa.select(secret.c.id)).first() is None:
                        import secrets

                        conn.execute(
                            secret.insert().values(id=_META_ID, secret=secrets.token_hex(32))
                        )
            if self._declared:
                self._add_columns()
            self._schema_ready = True

    def _add_columns(self) -> None:
        """
        Give ``users`` a column for each declared field it lacks, in one write transaction.

        A value the store held as a free attribute of that name moves into the column, and
        the store's version changes (a snapshot read before no longer matches).
        """
        import sqlalchemy as sa

        with self._transaction(write=False) as conn:
            held = {c["name"] for c in sa.inspect(conn).get_columns("users")}
        if all(k in held for k in self._declared):
            return
        t = _tables()
        with self._transaction(write=True) as conn:
            if self.dialect == "postgresql":
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_SCHEMA_LOCK)))
            held = {c["name"] for c in sa.inspect(conn).get_columns("users")}
            missing = [k for k in self._declared if k not in held]
            if not missing:  # another process added them meanwhile
                return
            quote = conn.dialect.identifier_preparer.quote
            a = t.attributes.c
            for key in missing:
                conn.exec_driver_sql(f"ALTER TABLE users ADD COLUMN {quote(key)} TEXT")
                users = sa.table("users", sa.column("key"), sa.column(key))
                value = sa.select(a.value).where(a.user_key == users.c.key, a.name == key)
                conn.execute(
                    users.update().values({key: value.scalar_subquery()}).where(sa.exists(value))
                )
                conn.execute(t.attributes.delete().where(a.name == key))
            conn.execute(
                t.meta.update().where(t.meta.c.id == _META_ID).values(version=uuid.uuid4().hex)
            )

    def _upgrade(self) -> None:
        """Bring a store made by an older userimport to :data:`SCHEMA_VERSION`, once."""
        import sqlalchemy as sa

        t = _tables()
        with self._transaction(write=True) as conn:
            query = sa.select(t.meta.c.schema_version).where(t.meta.c.id == _META_ID)
            if self.dialect == "postgresql":
                query = query.with_for_update()
            held = int(conn.execute(query).scalar_one())
            if held >= SCHEMA_VERSION:  # another process upgraded it meanwhile
                return
            _upgrade(conn, self._shown)
            conn.execute(
                t.meta.update()
                .where(t.meta.c.id == _META_ID)
                .values(schema_version=SCHEMA_VERSION, version=uuid.uuid4().hex)
            )

    def _read_meta(self, conn: sa.Connection, *, lock: bool) -> str:
        """Return the store's version, checking its schema version (and locking it if asked)."""
        import sqlalchemy as sa

        t = _tables()
        query = sa.select(t.meta.c.version, t.meta.c.schema_version).where(t.meta.c.id == _META_ID)
        if lock and self.dialect == "postgresql":
            query = query.with_for_update()
        return self._checked_meta(conn.execute(query).one_or_none())

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

    def _read_snapshot(self, conn: sa.Connection, version: str) -> Snapshot:
        """Read the whole store with five set-based SELECTs, straight into a frame."""
        columns = {
            name: list(zip(*rows, strict=True)) if (rows := _fetch(conn, query)) else None
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
        queries = {
            name: str(query.compile(dialect=self._engine.dialect))
            for name, query in _store_queries(self.dialect, self._declared).items()
        }
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

    def _write(
        self,
        conn: sa.Connection,
        groups: frozenset[str],
        departments: frozenset[str],
        changes: ChangeSet,
    ) -> None:
        """Apply a checked change set, in the order ChangeSet documents (COPY on PostgreSQL)."""

        t = _tables()
        _insert(conn, t.groups, [(g,) for g in sorted(changes.create_groups - groups)])
        new_departments = sorted(changes.create_departments - departments)
        _insert(conn, t.departments, [(d,) for d in new_departments])
        # Rows are written in key order: SQLite then walks its indexes in order, not at random.
        gone = sorted((email_key(e),) for e in changes.delete)
        for table in (t.memberships, t.attributes):
            _delete(conn, table, ["user_key"], gone)
        _delete(conn, t.users, ["key"], gone)
        # A user named twice: the last one counts, as in the in-memory store.
        update = sorted({u.key: u for u in changes.update}.items(), key=operator.itemgetter(0))
        create = sorted({u.key: u for u in changes.create}.items(), key=operator.itemgetter(0))
        _update(conn, t.users, [(k, *_user_row(u)) for k, u in update])
        _insert(conn, t.users, [(k, *_user_row(u)) for k, u in create])
        written = sorted((*update, *create), key=lambda ku: ku[0])
        updated = [k for k, _ in update]
        _sync(
            conn,
            t.memberships,
            updated,
            [(k, g) for k, u in written for g in sorted(u.groups)],
        )
        declared = self._declared
        _sync(
            conn,
            t.attributes,
            updated,
            [
                (k, *item)
                for k, u in written
                for item in sorted(u.attributes.items())
                if item[0] not in declared
            ],
        )
        if declared:
            import sqlalchemy as sa

            text = sa.Text()
            columns = [sa.column("key", text), *(sa.column(c, text) for c in declared)]
            _update(
                conn,
                cast("sa.Table", sa.table("users", *columns)),
                [(k, *(u.attributes.get(c) for c in declared)) for k, u in written],
            )
        _delete(conn, t.groups, ["name"], [(g,) for g in sorted(changes.delete_groups)])
        _delete(conn, t.departments, ["name"], [(d,) for d in sorted(changes.delete_departments)])

"""
How a :class:`~userimport.sql.SqlUserRepository` reads a whole store and writes a change set:
the connection of each dialect, the bulk SELECTs, ADBC, and the batched INSERT/UPDATE/DELETE
(or COPY) statements (split out of :mod:`userimport.sql`).

The statements are SQL text with ``?`` placeholders, one text for both dialects where they
agree. SQLite runs them on the :mod:`sqlite3` module alone (no SQLAlchemy: its import costs
more than a small command's work); PostgreSQL on SQLAlchemy's connection, driven by psycopg.
"""

from __future__ import annotations

import contextlib
import functools
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._sqlschema import COLUMNS, SQLITE_DDL, STORE_TABLES, USER_COLUMNS, Url, history_tables
from ._sqlschema import tables as store_tables
from .errors import RepositoryError
from .model import USER_VALUES, ChangeSet, Snapshot, email_key

if TYPE_CHECKING:
    import sqlite3
    import threading

    import sqlalchemy as sa


def quote(name: str) -> str:
    """An identifier quoted for either dialect (``"key"``)."""
    return '"' + name.replace('"', '""') + '"'


class SqliteDb:
    """A transaction on a :mod:`sqlite3` connection (see :class:`~userimport._sqlschema.Db`)."""

    dialect = "sqlite"

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.raw.execute(sql, params).fetchall()

    def run(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.raw.execute(sql, params)

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.raw.executemany(sql, rows)

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        return self.rows(sql)


class PostgresDb:
    """
    A transaction on a SQLAlchemy connection to PostgreSQL: statements go through
    ``exec_driver_sql``, so the engine's cursor events see them (tracing, the tests' faults).
    """

    dialect = "postgresql"

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.conn.exec_driver_sql(*self._sql(sql, params))]

    def run(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.conn.exec_driver_sql(*self._sql(sql, params))

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.conn.exec_driver_sql(sql.replace("?", "%s"), [tuple(r) for r in rows])

    @staticmethod
    def _sql(sql: str, params: Sequence[Any]) -> tuple[str, Any]:
        """psycopg's placeholders (no statement here holds a ``?`` or ``%`` of its own)."""
        return (sql.replace("?", "%s"), tuple(params)) if params else (sql, None)

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        """
        Every row of a parameterless SELECT as plain tuples, through the DBAPI cursor: that
        skips building a SQLAlchemy ``Row`` per record, which costs more than the query.
        """
        cursor = self.conn.connection.cursor()
        try:
            cursor.execute(sql)
            return list(cursor.fetchall())
        finally:
            cursor.close()


class SqliteConnections:
    """
    The connections of a repository to one SQLite store, made by :func:`sqlite_open`.

    A file's connections are kept while idle, for the next transaction (each keeps its page
    cache warm); an in-memory store is one connection (``shared``), which the caller uses
    under a lock of its own.
    """

    def __init__(self, target: str, kwargs: Mapping[str, Any], *, shared: bool) -> None:
        import os
        import threading

        self.target, self.kwargs, self.shared = target, kwargs, shared
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._parents: list[sqlite3.Connection] = []

    def one(self) -> sqlite3.Connection:
        """The shared connection, or an idle one, or a new one; give it back with ``release``."""
        import os

        with self._lock:
            if self._pid != os.getpid() and not self.shared:
                # A forked child: a file's connections stay the parent's (SQLite forbids
                # using them across fork), kept unclosed, as closing could drop its locks.
                self._parents, self._idle, self._pid = self._idle, [], os.getpid()
            if self.shared and self._idle:
                return self._idle[0]
            if self._idle:
                return self._idle.pop()
            raw = sqlite_open(self.target, self.kwargs)
            if self.shared:
                self._idle.append(raw)
            return raw

    def release(self, raw: sqlite3.Connection) -> None:
        if self.shared:
            return
        if raw.in_transaction:  # it could not even roll back: not to be used again
            raw.close()
            return
        with self._lock:
            self._idle.append(raw)

    @contextlib.contextmanager
    def transaction(self, *, write: bool) -> Iterator[SqliteDb]:
        """
        A transaction: ``BEGIN IMMEDIATE`` for writers (the write lock, taken now, waiting
        up to the busy timeout), ``DEFERRED`` for readers; committed at the end of the block,
        rolled back if it raises.
        """
        import sqlite3

        raw = self.one()
        try:
            raw.execute("BEGIN IMMEDIATE" if write else "BEGIN DEFERRED")
            yield SqliteDb(raw)
            raw.commit()
        except BaseException:
            if raw.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    raw.rollback()
            raise
        finally:
            self.release(raw)

    def close(self) -> None:
        """Close every connection not in use (the shared one too)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for raw in idle:
            raw.close()


def has_table(db: SqliteDb | PostgresDb, name: str) -> bool:
    if isinstance(db, SqliteDb):
        query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
        return bool(db.rows(query, (name,)))
    import sqlalchemy as sa

    return bool(sa.inspect(db.conn).has_table(name))


def columns_of(db: SqliteDb | PostgresDb, table: str) -> set[str]:
    if isinstance(db, SqliteDb):
        return {row[1] for row in db.rows(f"PRAGMA table_info({table})")}
    import sqlalchemy as sa

    return {c["name"] for c in sa.inspect(db.conn).get_columns(table)}


#: Key of the PostgreSQL advisory lock that serialises changes to the schema.
SCHEMA_LOCK = 0x75736572696D70  # "userimp"


def check_tables(db: SqliteDb | PostgresDb, shown: str) -> None:
    """
    Refuse a database whose tables of the store's names lack the store's columns (another
    app's ``users`` table), in the transaction that made the missing tables: nothing is left.

    Raises:
        RepositoryError: A table lacks a column; the message names both.
    """
    for table in STORE_TABLES:
        missing = set(COLUMNS[table]) - columns_of(db, table)
        if missing:
            raise RepositoryError(
                f"cannot use {shown}: it is not a userimport store (its table {table} has no "
                f"column {', '.join(sorted(missing))}); give the store's database, or a new file"
            )


def lock_schema(db: SqliteDb | PostgresDb) -> None:
    """On PostgreSQL, serialise changes to the schema (SQLite's writers are serial)."""
    if isinstance(db, PostgresDb):
        db.run("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK,))


def create(db: SqliteDb | PostgresDb, names: Iterable[str], *, store: str | None = None) -> None:
    """
    Make the tables (and indexes) ``names`` that are missing, in that order: from
    :data:`~userimport._sqlschema.SQLITE_DDL` on SQLite, from the SQLAlchemy tables under
    the schema lock on PostgreSQL; given the ``store``'s name (its URL as shown), then check
    the store's tables (:func:`check_tables`).

    Raises:
        RepositoryError: A table of the store's lacks a column (see :func:`check_tables`).
    """
    if store is not None:
        create(db, names)
        check_tables(db, store)
        return
    if isinstance(db, SqliteDb):
        held = {name for (name,) in db.rows("SELECT name FROM sqlite_master")}
        for name in names:
            if name not in held:
                db.run(SQLITE_DDL[name])
        return
    lock_schema(db)
    tables = {**store_tables().metadata.tables, "import_history": history_tables()}
    for name in names:
        if name in tables:
            tables[name].create(db.conn, checkfirst=True)


def store_queries(dialect: str, declared: tuple[str, ...] = ()) -> dict[str, str]:
    """The SELECTs that read a whole store, in the order :func:`snapshot_of` takes them."""
    # Sorted by code point (Python's order), so each user's groups come out sorted.
    binary = "C" if dialect == "postgresql" else "BINARY"
    # No NULL department: ADBC types a column by its first rows, NULL as a number.
    users = ", ".join(
        "coalesce(department, '')" if c == "department" else quote(c) for c in USER_COLUMNS
    )
    return {
        "users": f"SELECT {users} FROM users",
        "memberships": "SELECT user_key, group_name FROM memberships "
        f'ORDER BY user_key, group_name COLLATE "{binary}"',
        "attributes": "SELECT user_key, name, value FROM attributes ORDER BY user_key",
        "groups": "SELECT name FROM groups",
        "departments": "SELECT name FROM departments",
        # Each declared field's column: the users holding a value in it.
        **{
            f"field:{c}": f'SELECT "key", {quote(c)} FROM users WHERE {quote(c)} IS NOT NULL'
            for c in declared
        },
    }


def snapshot_of(version: str, columns: Mapping[str, Sequence[Any] | None]) -> Snapshot:
    """
    The snapshot of a store read by :func:`store_queries`: each query's result as its columns
    (Python sequences, or Arrow arrays from ADBC), ``None`` for no rows; a declared field's
    column (``field:<key>``) joins its users' attributes.
    """
    import itertools

    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    from . import _text

    def objects(column: Any) -> Any:
        """A column as an array of Python values (object for text)."""
        if isinstance(column, pa.ChunkedArray):
            return column.to_numpy()
        return np.array(column, dtype=object)

    def text(column: Any) -> Any:
        """A text column as one Arrow array."""
        if isinstance(column, pa.ChunkedArray):
            return column.combine_chunks().cast(pa.large_string())
        return pa.array(column, type=pa.large_string())

    texts: dict[str, Any] = {}  # the text columns read as Arrow, kept for planning

    def shared(name: str, column: Any) -> Any:
        """A text column that repeats: one Python string per distinct value, not per cell."""
        if not isinstance(column, pa.ChunkedArray):  # Python values already
            return objects(column)
        encoded = pc.dictionary_encode(texts.setdefault(name, text(column)), null_encoding="encode")
        distinct = np.array(encoded.dictionary.to_pylist(), dtype=object)
        return distinct[encoded.indices.to_numpy(zero_copy_only=False)]

    users = columns["users"] or [()] * len(USER_COLUMNS)
    key, email, first, last, department, is_admin = users
    key_array = text(key)
    keys = objects(key)
    emails = keys.copy() if isinstance(email, pa.ChunkedArray) else objects(email)
    if isinstance(email, pa.ChunkedArray):  # most emails are their key: those share its string
        other = pc.fill_null(pc.not_equal(key_array, email_array := text(email)), True)
        emails[other.to_numpy(zero_copy_only=False)] = email_array.filter(other).to_numpy(False)
    frame = pd.DataFrame(
        {
            "email": emails,
            "first_name": shared("first_name", first),
            "last_name": shared("last_name", last),
            "department": shared("department", department),
        },
        index=pd.Index(keys, name="key", dtype=object),
        dtype=object,  # kept as Python strings, as Snapshot.frame documents
    )
    member_keys, names = columns["memberships"] or ((), ())
    owner = pc.index_in(text(member_keys), value_set=key_array)
    # A membership of no user (a store written with foreign keys off) is no one's group.
    held_by = pc.is_valid(owner)
    held_names = text(names).filter(held_by)
    frame["groups"] = _text.tuples(
        owner.filter(held_by).to_numpy(zero_copy_only=False),
        held_names,
        len(frame),
    )
    frame["is_admin"] = objects(is_admin).astype(bool)
    rows = zip(*(objects(c) for c in columns["attributes"] or ((), (), ())), strict=True)
    held = {
        user: {name: value for _, name, value in pairs}
        for user, pairs in itertools.groupby(rows, key=operator.itemgetter(0))
    }
    for query, found in columns.items():
        if query.startswith("field:") and found is not None:
            name = query[len("field:") :]
            for owner, value in zip(*(objects(c).tolist() for c in found), strict=True):
                held[owner] = {**held.get(owner, {}), name: str(value)}
    # One empty dict for every user without custom properties: a frame is never mutated.
    none: dict[str, str] = {}
    per_user: list[Any] = [held.get(k, none) for k in keys.tolist()] if held else [none] * len(keys)
    frame["attributes"] = per_user
    groups, departments_held = (columns[n] or ((),) for n in ("groups", "departments"))
    # The groups and departments users hold, found in Arrow (not by walking the frame).
    named = pc.unique(held_names).to_pylist()
    used = pc.unique(texts["department"] if texts else text(department)).to_pylist()
    return Snapshot._from_complete_frame(
        frame,
        version=version,
        groups=frozenset(objects(groups[0]).tolist()).union(named),
        departments=frozenset(objects(departments_held[0]).tolist()).union(used) - {""},
        key_array=key_array,
        texts=texts or None,
    )


def first_row(table: Any) -> tuple[Any, ...] | None:
    """The first row of an Arrow table, or None."""
    rows = table.to_pylist()
    return tuple(rows[0].values()) if rows else None


@functools.cache
def adbc() -> Any:
    """ADBC's SQLite DB-API module (the ``sqlite-fast`` extra), or None."""
    try:
        import adbc_driver_sqlite.dbapi
    except ImportError:
        return None
    return adbc_driver_sqlite.dbapi


def rows_where(
    db: SqliteDb | PostgresDb,
    table: str,
    columns: Sequence[str],
    column: str,
    values: Iterable[str],
) -> list[tuple[Any, ...]]:
    """
    The rows (``columns``) of ``table`` whose ``column`` is one of ``values``.

    One indexed lookup per value: on SQLite as ``IN`` lists of the most parameters a statement
    may take, on PostgreSQL ``IN`` the values sent in bulk (see :func:`rows_of`).
    """
    select = f"SELECT {', '.join(map(quote, columns))} FROM {table} WHERE {quote(column)}"
    values = sorted(values)
    if isinstance(db, PostgresDb):
        cursor = db.conn.connection.cursor()
        try:
            with rows_of(db, table, [column], [(v,) for v in values]) as (source, params):
                cursor.execute(f"{select} IN (SELECT s.{quote(column)} FROM {source})", params)
                return list(cursor.fetchall())
        finally:
            cursor.close()
    import sqlite3

    limit = db.raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    rows: list[tuple[Any, ...]] = []
    for at in range(0, len(values), limit):
        chunk = values[at : at + limit]
        rows += db.rows(f"{select} IN ({', '.join('?' * len(chunk))})", chunk)
    return rows


def sync(
    db: SqliteDb | PostgresDb,
    table: str,
    updated: Sequence[str],
    wanted: list[tuple[Any, ...]],
    held: set[tuple[Any, ...]] | None = None,
) -> None:
    """
    Make the rows of ``table`` (the user's key first) of the users just written ``wanted``.

    Only what differs is written: the rows of updated users (keys ``updated``) that are no
    longer wanted are deleted, and the wanted rows not yet there inserted. An update that
    keeps a user's groups then writes none of them. ``held``, when given, is what ``table``
    holds for those users (known from a snapshot at the store's version); else it is read.
    """
    columns = COLUMNS[table]
    if held is None:
        held = set(rows_where(db, table, columns, "user_key", updated))
    # A row is identified by its primary key: the user's key and the next column.
    delete(db, table, columns[:2], sorted({row[:2] for row in held.difference(wanted)}))
    insert(db, table, columns, [row for row in wanted if row not in held])


#: The first value of a tuple (a user's key): what rows are sorted by.
_first = operator.itemgetter(0)


#: From this many rows on, PostgreSQL updates, deletes and lookups take their rows from a
#: temporary table filled by COPY (psycopg writes COPY rows in C, arrays in Python); fewer
#: go as one array per column, which spares the temporary table.
STAGE_FROM = 1000


def insert(
    db: SqliteDb | PostgresDb,
    table: str,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
) -> None:
    """
    Insert ``rows``, each a value for every one of ``columns`` of ``table``.

    On SQLite one executemany; on PostgreSQL the rows go in one ``COPY ... FROM STDIN``
    stream (psycopg 3), not a statement per row.
    """
    if not rows:
        return
    if isinstance(db, PostgresDb):
        copy(db, table, columns, rows)
        return
    names = ", ".join(map(quote, columns))
    db.many(f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})", rows)


def copy(db: PostgresDb, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """``COPY table (columns) FROM STDIN`` of ``rows``, in the connection's transaction."""
    conn = db.conn
    statement = f"COPY {quote(table)} ({', '.join(map(quote, columns))}) FROM STDIN"
    cursor: Any = conn.connection.cursor()
    try:
        # The engine's cursor events see the COPY too (tracing, the tests' injected faults).
        conn.dispatch.before_cursor_execute(conn, cursor, statement, (), None, False)
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        conn.dispatch.after_cursor_execute(conn, cursor, statement, (), None, False)
    finally:
        cursor.close()


@contextlib.contextmanager
def rows_of(
    db: PostgresDb, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """
    ``rows`` (values of ``table``'s ``columns``) as a PostgreSQL relation for a statement's
    ``FROM``: the SQL of a relation with those columns, and the statement's parameters.

    Up to :data:`STAGE_FROM` rows: ``unnest`` of one typed array per column. More: a
    temporary table of the same column types, filled by COPY and dropped afterwards.
    """
    names = ", ".join(map(quote, columns))
    if len(rows) < STAGE_FROM:
        # Every column written in bulk is text but the users' is_admin.
        types = ("BOOLEAN" if c == "is_admin" else "TEXT" for c in columns)
        arrays = ", ".join(f"%s::{t}[]" for t in types)
        params = tuple([row[i] for row in rows] for i in range(len(columns)))
        yield f"unnest({arrays}) AS s ({names})", params
        return
    stage = "userimport_rows"
    db.run(
        f"CREATE TEMPORARY TABLE {stage} ON COMMIT DROP AS "
        f"SELECT {names} FROM {quote(table)} WITH NO DATA"
    )
    copy(db, stage, columns, rows)
    db.run(f"ANALYZE {stage}")
    yield f"{stage} AS s", ()
    db.run(f"DROP TABLE {stage}")


def update(
    db: SqliteDb | PostgresDb,
    table: str,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
) -> None:
    """
    Set every one of ``columns`` of the rows of ``table`` whose primary key (the first
    column) is that of one of ``rows`` (each a value for every one of ``columns``).

    On PostgreSQL one ``UPDATE ... FROM`` the rows (see :func:`rows_of`); on SQLite one
    executemany.
    """
    if not rows:
        return
    key, *rest = map(quote, columns)
    if isinstance(db, SqliteDb):
        # ?NNN is the NNNth value of the row: the key first, as the rows hold it.
        sets = ", ".join(f"{c} = ?{i}" for i, c in enumerate(rest, start=2))
        db.many(f"UPDATE {table} SET {sets} WHERE {key} = ?1", rows)
        return
    sets = ", ".join(f"{c} = s.{c}" for c in rest)
    with rows_of(db, table, columns, rows) as (source, params):
        db.conn.exec_driver_sql(
            f"UPDATE {quote(table)} AS t SET {sets} FROM {source} WHERE t.{key} = s.{key}",
            params,
        )


def delete(
    db: SqliteDb | PostgresDb, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """
    Delete the rows of ``table`` whose ``columns`` hold one of ``rows``.

    On PostgreSQL one ``DELETE ... USING`` the rows (see :func:`rows_of`).
    """
    if not rows:
        return
    if isinstance(db, PostgresDb):
        match = " AND ".join(f"t.{quote(c)} = s.{quote(c)}" for c in columns)
        with rows_of(db, table, columns, rows) as (source, params):
            db.conn.exec_driver_sql(
                f"DELETE FROM {quote(table)} AS t USING {source} WHERE {match}", params
            )
        return
    where = " AND ".join(f"{quote(c)} = ?" for c in columns)
    db.many(f"DELETE FROM {table} WHERE {where}", rows)


def engine(
    url: Url,
    busy_timeout: float,
    shared: Callable[[], sqlite3.Connection] | None = None,
    lock: threading.RLock | None = None,
) -> sa.Engine:
    """
    A SQLAlchemy engine on ``url``: PostgreSQL's, with psycopg, lock and connect timeouts; or
    one on a SQLite store for an app's own queries, on the ``shared`` connection if given,
    beginning transactions as the repository does.

    The shared connection is the repository's too: an app's connection holds ``lock`` from
    checkout to checkin, so it never runs inside a repository's transaction (whose reset
    would roll it back half-way), nor the repository inside the app's.

    Raises:
        RepositoryError: The driver is not installed, or SQLAlchemy refuses the URL.
    """
    import sqlalchemy as sa

    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite":
        if shared is not None:
            made = sa.create_engine("sqlite://", creator=shared, poolclass=sa.pool.StaticPool)
            if lock is not None:
                sa.event.listen(made, "checkout", lambda *_: lock.acquire())
                sa.event.listen(made, "checkin", lambda *_: lock.release())
        else:
            made = sa.create_engine(url.to_sqlalchemy(), connect_args={"timeout": busy_timeout})
        sa.event.listen(made, "connect", sqlite_connect)
        sa.event.listen(made, "begin", sqlite_begin)
        if lock is not None:
            with lock, made.connect():  # SQLAlchemy's first queries, under the lock too
                pass
        return made
    lock_ms = max(1, int(busy_timeout * 1000))
    options = url.query.get("options", "")
    if not isinstance(options, str):
        options = " ".join(options)
    connect_args = {
        "connect_timeout": 10,
        "options": f"{options} -c lock_timeout={lock_ms}".strip(),
    }
    try:
        return sa.create_engine(url.to_sqlalchemy(), connect_args=connect_args, pool_pre_ping=True)
    except ImportError as exc:
        raise RepositoryError(
            f"the database driver for {shown} is not installed ({exc.name}); "
            "install userimport[postgresql] for PostgreSQL"
        ) from exc
    except sa.exc.SQLAlchemyError as exc:
        raise RepositoryError(f"cannot use database {shown}: {exc}") from exc


def sqlite_open(target: str, kwargs: Mapping[str, Any]) -> sqlite3.Connection:
    """
    Open a connection to a SQLite store (``target`` and ``kwargs`` as
    :func:`~userimport._sqlschema.sqlite_target` makes them), set up by :func:`sqlite_connect`.
    Every SQLite connection of a repository is made here (tests patch it to inject faults).
    """
    import sqlite3

    raw: sqlite3.Connection = sqlite3.connect(target, **kwargs)
    try:
        sqlite_connect(raw, None)
    except BaseException:
        raw.close()
        raise
    return raw


def sqlite_connect(dbapi_connection: Any, connection_record: Any) -> None:
    """We, not pysqlite, emit BEGIN; enforce foreign keys; durable commits; a larger page cache."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
        # A commit that returned is on disk, whatever this SQLite was built with: FULL syncs the
        # journal and the file at every commit (and the WAL, if another program set the file to
        # WAL mode). The rollback journal is kept: WAL was measured no faster here (the
        # checkpoint syncs the file at commit anyway); see docs/performance.md.
        cursor.execute("PRAGMA synchronous = FULL")
        # Up to 64 MiB of pages (the default is 2 MiB), taken only as pages are read: a
        # commit to a large store then finds its index pages cached instead of reading them.
        cursor.execute("PRAGMA cache_size = -65536")
    finally:
        cursor.close()


def sqlite_begin(conn: sa.Connection) -> None:
    """
    Begin IMMEDIATE for writers (takes the write lock now), DEFERRED for readers: on the
    engine :attr:`~userimport.sql.SqlUserRepository.engine` makes for an app's own queries.
    """
    mode = conn.get_execution_options().get("userimport_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def write(
    db: SqliteDb | PostgresDb,
    groups: frozenset[str],
    departments: frozenset[str],
    changes: ChangeSet,
    declared: tuple[str, ...],
    known: tuple[Snapshot, dict[str, int]] | None = None,
) -> None:
    """
    Apply a checked change set, in the order ChangeSet documents (COPY on PostgreSQL).

    ``known``: a snapshot of the store as it is now, if the repository holds one, and
    the row of each touched user in its frame: the updated users' memberships and
    attributes are then taken from it, not read.
    """

    insert(db, "groups", ["name"], [(g,) for g in sorted(changes.create_groups - groups)])
    new_departments = sorted(changes.create_departments - departments)
    insert(db, "departments", ["name"], [(d,) for d in new_departments])
    # Rows are written in key order: SQLite then walks its indexes in order, not at random.
    gone = sorted((email_key(e),) for e in changes.delete)
    for table in ("memberships", "attributes"):
        delete(db, table, ["user_key"], gone)
    delete(db, "users", ["key"], gone)
    # Each user's values in USER_VALUES order (a users row first), in key order: SQLite then
    # walks its indexes in order, not at random. A user named twice is there once, the last.
    updating, creating = (
        sorted(zip(*(getattr(part, c) for c in USER_VALUES), strict=True), key=_first)
        for part in reversed(changes.columns())
    )
    row = len(USER_COLUMNS)
    update(db, "users", USER_COLUMNS, [u[:row] for u in updating])
    insert(db, "users", USER_COLUMNS, [u[:row] for u in creating])
    written = sorted((*updating, *creating), key=_first)
    updated = [u[0] for u in updating]
    groups_at, attributes_at = USER_VALUES.index("groups"), USER_VALUES.index("attributes")
    held = None
    if known is None:
        sync(
            db,
            "memberships",
            updated,
            # Each user's rows in key order; a user's few groups need no order of their own.
            [(u[0], g) for u in written for g in u[groups_at]],
        )
    else:
        snap, rows = known
        held = _held(snap, [rows[k] for k in updated], updated, declared)
        left, joined = _membership_changes(
            snap, rows, [(u[0], u[groups_at]) for u in written], frozenset(updated)
        )
        delete(db, "memberships", COLUMNS["memberships"], left)
        insert(db, "memberships", COLUMNS["memberships"], joined)
    sync(
        db,
        "attributes",
        updated,
        [
            (u[0], *item)
            for u in written
            if u[attributes_at]  # most users have none: no items to ask for
            for item in u[attributes_at].items()
            if item[0] not in declared
        ],
        held,
    )
    if declared:
        update(
            db,
            "users",
            ("key", *declared),
            [(u[0], *(u[attributes_at].get(c) for c in declared)) for u in written],
        )
    delete(db, "groups", ["name"], [(g,) for g in sorted(changes.delete_groups)])
    delete(db, "departments", ["name"], [(d,) for d in sorted(changes.delete_departments)])


def _membership_changes(
    known: Snapshot,
    rows: dict[str, int],
    written: list[tuple[str, frozenset[str]]],
    updated: frozenset[str],
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """
    The memberships to delete and to insert so that the users ``written`` (key and groups, in
    key order) hold their groups: an updated user's are compared with what ``known`` (the
    store now) says it holds, so one that keeps its groups costs a comparison, not a row each.
    """
    stored = known.frame["groups"].to_numpy()
    gone: list[tuple[str, str]] = []
    added: list[tuple[str, str]] = []
    leave, join = gone.append, added.append
    # Plain loops: a comprehension per user would make a function object per user.
    for k, new in written:
        if k not in updated:
            for g in new:
                join((k, g))
            continue
        old = stored[rows[k]]  # a sorted tuple of distinct names
        if len(old) == len(new) and new.issuperset(old):
            continue
        for g in old:
            if g not in new:
                leave((k, g))
        for g in new:
            if g not in old:
                join((k, g))
    return gone, added


def _held(
    known: Snapshot, rows: list[int], keys: list[str], declared: tuple[str, ...]
) -> set[tuple[str, str, str]] | None:
    """
    The ``attributes`` rows ``known`` says the users ``keys`` (at ``rows`` of its frame)
    have; ``None`` when fields are declared (the snapshot merges their columns into the
    attributes, so they are read from the table instead).
    """
    if declared:
        return None
    attributes = known.frame["attributes"].to_numpy()[rows]
    return {(k, *item) for k, held in zip(keys, attributes, strict=True) for item in held.items()}

"""
How a :class:`~userimport.sql.SqlUserRepository` reads a whole store and writes a change set:
the bulk SELECTs, ADBC, and the batched INSERT/UPDATE/DELETE (or COPY) statements, and the
SQLite connection hooks (split out of :mod:`userimport.sql`).
"""

from __future__ import annotations

import contextlib
import functools
import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._sqlschema import USER_COLUMNS, tables
from .model import Snapshot, User

if TYPE_CHECKING:
    import sqlalchemy as sa


def store_queries(dialect: str, declared: tuple[str, ...] = ()) -> dict[str, sa.Select[Any]]:
    """The SELECTs that read a whole store, in the order :func:`snapshot_of` takes them."""
    import sqlalchemy as sa

    t = tables()
    m, a = t.memberships.c, t.attributes.c
    # Sorted by code point (Python's order), so each user's groups come out sorted.
    binary = "C" if dialect == "postgresql" else "BINARY"
    u = t.users.c
    return {
        # No NULL department: ADBC types a column by its first rows, NULL as a number.
        "users": sa.select(
            *(
                sa.func.coalesce(u[c], sa.literal_column("''")) if c == "department" else u[c]
                for c in USER_COLUMNS
            )
        ),
        "memberships": sa.select(m.user_key, m.group_name).order_by(
            m.user_key, m.group_name.collate(binary)
        ),
        "attributes": sa.select(a.user_key, a.name, a.value).order_by(a.user_key),
        "groups": sa.select(t.groups.c.name),
        "departments": sa.select(t.departments.c.name),
        # Each declared field's column: the users holding a value in it.
        **{
            f"field:{c}": sa.select(sa.column("key"), sa.column(c))
            .select_from(sa.table("users"))
            .where(sa.column(c).is_not(None))
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

    users = columns["users"] or [()] * len(USER_COLUMNS)
    key, email, first, last, department, is_admin = users
    keys = objects(key)
    frame = pd.DataFrame(
        {
            "email": objects(email),
            "first_name": objects(first),
            "last_name": objects(last),
            "department": objects(department),
        },
        index=pd.Index(keys, name="key", dtype=object),
        dtype=object,  # kept as Python strings, as Snapshot.frame documents
    )
    member_keys, names = columns["memberships"] or ((), ())
    owner = pc.index_in(text(member_keys), value_set=text(key))
    # A membership of no user (a store written with foreign keys off) is no one's group.
    held_by = pc.is_valid(owner)
    frame["groups"] = _text.tuples(
        owner.filter(held_by).to_numpy(zero_copy_only=False),
        text(names).filter(held_by),
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
    return Snapshot.from_frame(
        frame,
        version=version,
        groups=objects(groups[0]).tolist(),
        departments=objects(departments_held[0]).tolist(),
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


def fetch(conn: sa.Connection, query: sa.Select[Any]) -> list[tuple[Any, ...]]:
    """
    Every row of a parameterless SELECT as plain tuples, on the connection's transaction.

    Reading a whole store through the DBAPI cursor skips building a SQLAlchemy ``Row`` per
    record, which costs more than the query itself.
    """
    cursor = conn.connection.cursor()
    try:
        cursor.execute(str(query.compile(dialect=conn.dialect)))
        return list(cursor.fetchall())
    finally:
        cursor.close()


def rows_where(
    conn: sa.Connection,
    table: sa.Table,
    columns: Sequence[str],
    column: str,
    values: Iterable[str],
) -> list[tuple[Any, ...]]:
    """
    The rows (``columns``) of ``table`` whose ``column`` is one of ``values``.

    One indexed lookup per value: on SQLite as ``IN`` lists of the most parameters a statement
    may take, on PostgreSQL ``IN`` the values sent in bulk (see :func:`rows_of`); written as
    driver SQL because SQLAlchemy's expanding ``IN`` costs more to render than the query does
    to run.
    """
    quote = conn.dialect.identifier_preparer.quote
    select = (
        f"SELECT {', '.join(map(quote, columns))} FROM {quote(table.name)} WHERE {quote(column)}"
    )
    values = sorted(values)
    cursor = conn.connection.cursor()
    try:
        if conn.dialect.name == "postgresql":
            with rows_of(conn, table, [column], [(v,) for v in values]) as (source, params):
                cursor.execute(f"{select} IN (SELECT s.{quote(column)} FROM {source})", params)
                return list(cursor.fetchall())
        import sqlite3

        driver: Any = conn.connection.dbapi_connection
        limit = driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        rows: list[tuple[Any, ...]] = []
        for at in range(0, len(values), limit):
            chunk = values[at : at + limit]
            cursor.execute(f"{select} IN ({', '.join('?' * len(chunk))})", chunk)
            rows.extend(cursor.fetchall())
        return rows
    finally:
        cursor.close()


def sync(
    conn: sa.Connection,
    table: sa.Table,
    updated: Sequence[str],
    wanted: list[tuple[Any, ...]],
) -> None:
    """
    Make the rows of ``table`` (the user's key first) of the users just written ``wanted``.

    Only what differs is written: the rows of updated users (keys ``updated``) that are no
    longer wanted are deleted, and the wanted rows not yet there inserted. An update that
    keeps a user's groups then writes none of them.
    """
    columns = [c.name for c in table.columns]
    held = set(rows_where(conn, table, columns, "user_key", updated))
    # A row is identified by its primary key: the user's key and the next column.
    delete(conn, table, columns[:2], sorted({row[:2] for row in held.difference(wanted)}))
    insert(conn, table, [row for row in wanted if row not in held])


def user_row(user: User) -> tuple[Any, ...]:
    """The ``users`` columns after ``key``."""
    return (user.email, user.first_name, user.last_name, user.department, user.is_admin)


def executemany(
    conn: sa.Connection, statement: Any, names: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """
    Run ``statement`` once per row (the values of its parameters ``names``), in one DBAPI call.

    The parameters are still bound by the driver and the statement still goes through
    SQLAlchemy's execution events; as driver SQL it skips the per-row parameter processing,
    which costs more than the insert itself for the plain text and boolean columns here.
    """
    if not rows:
        return
    compiled = statement.compile(dialect=conn.dialect)
    params: Sequence[Any]
    if compiled.positional:
        order = [names.index(name) for name in compiled.positiontup or ()]
        if order == list(range(len(names))):
            params = rows
        else:
            params = [tuple(row[i] for i in order) for row in rows]
    else:
        params = [dict(zip(names, row, strict=True)) for row in rows]
    conn.exec_driver_sql(str(compiled), params)


#: From this many rows on, PostgreSQL updates, deletes and lookups take their rows from a
#: temporary table filled by COPY (psycopg writes COPY rows in C, arrays in Python); fewer
#: go as one array per column, which spares the temporary table.
STAGE_FROM = 1000


def insert(conn: sa.Connection, table: sa.Table, rows: Sequence[tuple[Any, ...]]) -> None:
    """
    Insert ``rows``, each a value for every column of ``table`` in order.

    On PostgreSQL the rows go in one ``COPY ... FROM STDIN`` stream (psycopg 3), not a
    statement per row; the column list is the table's own.
    """
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        executemany(conn, table.insert(), [c.name for c in table.columns], rows)
        return
    copy(conn, table.name, [c.name for c in table.columns], rows)


def copy(
    conn: sa.Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """``COPY table (columns) FROM STDIN`` of ``rows``, in the connection's transaction."""
    quote = conn.dialect.identifier_preparer.quote
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
    conn: sa.Connection, table: sa.Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """
    ``rows`` (values of ``table``'s ``columns``) as a PostgreSQL relation for a statement's
    ``FROM``: the SQL of a relation with those columns, and the statement's parameters.

    Up to :data:`STAGE_FROM` rows: ``unnest`` of one typed array per column. More: a
    temporary table of the same column types, filled by COPY and dropped afterwards.
    """
    quote = conn.dialect.identifier_preparer.quote
    names = ", ".join(map(quote, columns))
    if len(rows) < STAGE_FROM:
        types = (table.c[c].type.compile(dialect=conn.dialect) for c in columns)
        arrays = ", ".join(f"%s::{t}[]" for t in types)
        params = tuple([row[i] for row in rows] for i in range(len(columns)))
        yield f"unnest({arrays}) AS s ({names})", params
        return
    stage = "userimport_rows"
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {stage} ON COMMIT DROP AS "
        f"SELECT {names} FROM {quote(table.name)} WITH NO DATA"
    )
    copy(conn, stage, columns, rows)
    conn.exec_driver_sql(f"ANALYZE {stage}")
    yield f"{stage} AS s", ()
    conn.exec_driver_sql(f"DROP TABLE {stage}")


def update(conn: sa.Connection, table: sa.Table, rows: Sequence[tuple[Any, ...]]) -> None:
    """
    Set every column of the rows of ``table`` whose primary key (the first column) is that
    of one of ``rows`` (each a value for every column of ``table`` in order).

    On PostgreSQL one ``UPDATE ... FROM`` the rows (see :func:`rows_of`); on SQLite one
    executemany.
    """
    import sqlalchemy as sa

    if not rows:
        return
    key, *rest = table.columns
    if conn.dialect.name != "postgresql":
        statement = (
            table.update()
            .where(key == sa.bindparam(f"b_{key.name}"))
            .values({c.name: sa.bindparam(f"b_{c.name}") for c in rest})
        )
        executemany(conn, statement, [f"b_{c.name}" for c in table.columns], rows)
        return
    quote = conn.dialect.identifier_preparer.quote
    k = quote(key.name)
    sets = ", ".join(f"{quote(c.name)} = s.{quote(c.name)}" for c in rest)
    with rows_of(conn, table, [c.name for c in table.columns], rows) as (source, params):
        conn.exec_driver_sql(
            f"UPDATE {quote(table.name)} AS t SET {sets} FROM {source} WHERE t.{k} = s.{k}",
            params,
        )


def delete(
    conn: sa.Connection, table: sa.Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """
    Delete the rows of ``table`` whose ``columns`` hold one of ``rows``.

    On PostgreSQL one ``DELETE ... USING`` the rows (see :func:`rows_of`).
    """
    import sqlalchemy as sa

    if not rows:
        return
    if conn.dialect.name == "postgresql":
        quote = conn.dialect.identifier_preparer.quote
        match = " AND ".join(f"t.{quote(c)} = s.{quote(c)}" for c in columns)
        with rows_of(conn, table, columns, rows) as (source, params):
            conn.exec_driver_sql(
                f"DELETE FROM {quote(table.name)} AS t USING {source} WHERE {match}", params
            )
        return
    names = [f"b_{c}" for c in columns]
    where = sa.and_(*(table.c[c] == sa.bindparam(n) for c, n in zip(columns, names, strict=True)))
    executemany(conn, table.delete().where(where), names, rows)


def sqlite_connect(dbapi_connection: Any, connection_record: Any) -> None:
    """
    Let SQLAlchemy, not pysqlite, emit BEGIN; enforce foreign keys; durable commits; a larger
    page cache.
    """
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
    """Begin IMMEDIATE for writers (takes the write lock now), DEFERRED for readers."""
    mode = conn.get_execution_options().get("userimport_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")

"""
The tables of a :class:`~userimport.sql.SqlUserRepository` store, its URLs, and the upgrade of
stores made by earlier releases (split out of :mod:`userimport.sql`; no names of its own in the
public API).

The tables are declared twice, on purpose: as SQLAlchemy metadata (:func:`tables`, used on
PostgreSQL) and as SQLite's DDL text (:data:`SQLITE_DDL`), so that a SQLite store never loads
SQLAlchemy. ``tests/test_sql_sqlite.py`` checks that the two make the same tables.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol
from urllib.parse import parse_qsl, quote, quote_plus, unquote

from .errors import RepositoryError
from .history import ImportRecord
from .model import ImportSettings, email_key

if TYPE_CHECKING:
    import sqlalchemy as sa


class Tables(NamedTuple):
    metadata: sa.MetaData
    meta: sa.Table
    users: sa.Table
    groups: sa.Table
    departments: sa.Table
    memberships: sa.Table
    attributes: sa.Table
    plan_secret: sa.Table


_TABLES: Tables | None = None


def tables() -> Tables:
    """Build the table definitions once, on first use (SQLAlchemy is imported lazily)."""
    global _TABLES
    if _TABLES is None:
        import sqlalchemy as sa

        md = sa.MetaData()
        text = sa.Text
        meta = sa.Table(
            "meta",
            md,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("version", text, nullable=False),
            sa.Column("schema_version", sa.Integer, nullable=False),
        )
        groups = sa.Table("groups", md, sa.Column("name", text, primary_key=True))
        departments = sa.Table("departments", md, sa.Column("name", text, primary_key=True))
        users = sa.Table(
            "users",
            md,
            sa.Column("key", text, primary_key=True),
            sa.Column("email", text, nullable=False),
            sa.Column("first_name", text, nullable=False),
            sa.Column("last_name", text, nullable=False),
            sa.Column("department", text, sa.ForeignKey("departments.name"), nullable=True),
            sa.Column("is_admin", sa.Boolean, nullable=False),
        )
        memberships = sa.Table(
            "memberships",
            md,
            sa.Column(
                "user_key",
                text,
                sa.ForeignKey("users.key", ondelete="CASCADE"),
                primary_key=True,
            ),
            sa.Column("group_name", text, sa.ForeignKey("groups.name"), primary_key=True),
            # On SQLite the rows are the primary key's b-tree: no rowid table beside an index.
            sqlite_with_rowid=False,
        )
        attributes = sa.Table(
            "attributes",
            md,
            sa.Column(
                "user_key",
                text,
                sa.ForeignKey("users.key", ondelete="CASCADE"),
                primary_key=True,
            ),
            sa.Column("name", text, primary_key=True),
            sa.Column("value", text, nullable=False),
            sqlite_with_rowid=False,
        )
        # The key saved plans are signed with; a store made before it gains it on first use.
        plan_secret = sa.Table(
            "plan_secret",
            md,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("secret", text, nullable=False),
        )
        _TABLES = Tables(md, meta, users, groups, departments, memberships, attributes, plan_secret)
    return _TABLES


_HISTORY: sa.Table | None = None


def history_tables() -> sa.Table:
    """The import history's table (its own metadata: added without a schema-version bump)."""
    global _HISTORY
    if _HISTORY is None:
        import sqlalchemy as sa

        text = sa.Text
        _HISTORY = sa.Table(
            "import_history",
            sa.MetaData(),
            sa.Column("id", text, primary_key=True),
            sa.Column("at", text, nullable=False, index=True),
            sa.Column("filename", text, nullable=False),
            sa.Column("settings", text, nullable=False),
            sa.Column("created", sa.Integer, nullable=False),
            sa.Column("updated", sa.Integer, nullable=False),
            sa.Column("deleted", sa.Integer, nullable=False),
            sa.Column("version", text, nullable=False),
            sa.Column("undo", text, nullable=False),
            sa.Column("undone_at", text),
        )
    return _HISTORY


def history_row(record: ImportRecord) -> dict[str, Any]:
    """``record`` as a row: times in ISO 8601 UTC (sortable as text), settings as JSON."""
    import json

    done = record.undone_at
    return {
        "id": record.id,
        "at": record.at.astimezone(UTC).isoformat(),
        "filename": record.filename,
        "settings": json.dumps(record.settings.to_dict(), sort_keys=True),
        "created": record.created,
        "updated": record.updated,
        "deleted": record.deleted,
        "version": record.version,
        "undo": record.undo,
        "undone_at": None if done is None else done.astimezone(UTC).isoformat(),
    }


def history_record(row: Mapping[str, Any]) -> ImportRecord:
    import json

    done = row["undone_at"]
    return ImportRecord(
        **{
            **row,
            "at": datetime.fromisoformat(row["at"]),
            "undone_at": None if done is None else datetime.fromisoformat(done),
            "settings": ImportSettings.from_dict(json.loads(row["settings"])),
        }
    )


#: SQLAlchemy's URL syntax (``sqlalchemy.engine.url._parse_url``, MIT licence), so that a
#: SQLite URL is read without importing SQLAlchemy and reads as SQLAlchemy reads it.
_URL = re.compile(
    r"""
    (?P<name>[\w\+]+)://
    (?:(?P<username>[^:/]*)(?::(?P<password>[^@]*))?@)?
    (?:(?:\[(?P<ipv6host>[^/\?]+)\]|(?P<ipv4host>[^/:\?]+))?(?::(?P<port>[^/\?]*))?)?
    (?:/(?P<database>[^\?]*))?
    (?:\?(?P<query>.*))?
    """,
    re.X,
)


def _values(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else value


class Url(NamedTuple):
    """A database URL, read as :func:`sqlalchemy.engine.make_url` reads it (its attributes)."""

    drivername: str
    username: str | None
    password: str | None
    host: str | None
    port: int | None
    database: str | None
    #: Each parameter's value, or its values (a tuple) when it is given more than once.
    query: Mapping[str, str | tuple[str, ...]]

    def get_backend_name(self) -> str:
        return self.drivername.partition("+")[0]

    def render_as_string(self, hide_password: bool = True) -> str:
        """The URL as SQLAlchemy's ``URL.render_as_string`` writes it."""
        s = self.drivername + "://"
        if self.username is not None:
            s += quote(self.username, safe=" +")
            if self.password is not None:
                shown = "***" if hide_password else quote(self.password, safe=" +")
                s += ":" + shown
            s += "@"
        if self.host is not None:
            s += f"[{self.host}]" if ":" in self.host else self.host
        if self.port is not None:
            s += f":{self.port}"
        if self.database is not None:
            s += "/" + quote(self.database, safe=" +/")
        if self.query:
            s += "?" + "&".join(
                f"{quote_plus(k)}={quote_plus(v)}"
                for k in sorted(self.query)
                for v in _values(self.query[k])
            )
        return s

    def to_sqlalchemy(self) -> sa.URL:
        import sqlalchemy as sa

        return sa.URL.create(*self[:6], query=self.query)


def read_url(url: str) -> Url:
    """
    Read ``url`` as SQLAlchemy's ``make_url`` does.

    Raises:
        ValueError: It is not a URL.
    """
    found = _URL.match(url) if isinstance(url, str) else None
    if found is None:
        raise ValueError("Could not parse SQLAlchemy URL from given URL string")
    parts = found.groupdict()
    query: dict[str, str | tuple[str, ...]] = {}
    for key, value in parse_qsl(parts["query"] or ""):
        held = query.get(key)
        query[key] = (
            value if held is None else (*((held,) if isinstance(held, str) else held), value)
        )

    def text(name: str) -> str | None:
        return None if parts[name] is None else unquote(parts[name])

    return Url(
        parts["name"],
        text("username"),
        text("password"),
        parts["ipv4host"] or parts["ipv6host"],
        int(parts["port"]) if parts["port"] else None,
        text("database"),
        query,
    )


def parse_url(url: str) -> Url:
    """Parse ``url`` and pick psycopg 3 for PostgreSQL; raise RepositoryError if unusable."""
    if not isinstance(url, str) and hasattr(url, "render_as_string"):
        url = url.render_as_string(hide_password=False)  # a SQLAlchemy URL
    try:
        parsed = read_url(url)
    except (ValueError, TypeError) as exc:
        raise RepositoryError(
            f"not a database URL: {scrub(str(url))!r}; expected e.g. "
            "'sqlite:///users.db' or 'postgresql://user@host/dbname'"
        ) from exc
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "postgres":
        backend = "postgresql"
    if backend == "postgresql" and driver in ("", "psycopg"):
        return parsed._replace(drivername="postgresql+psycopg")
    if backend == "sqlite" and driver in ("", "pysqlite"):
        return parsed._replace(drivername="sqlite+pysqlite")
    shown = parsed.render_as_string(hide_password=True)
    raise RepositoryError(
        f"unsupported database URL {shown}: SqlUserRepository supports "
        "'sqlite:///path' and 'postgresql://...' (psycopg)"
    )


#: The arguments of :func:`sqlite3.connect` a SQLite URL's query may set, as SQLAlchemy's
#: pysqlite dialect reads them (``create_connect_args``); others go to a ``file:`` URI.
_SQLITE_ARGS: dict[str, Any] = {
    "uri": bool,
    "timeout": float,
    "isolation_level": str,
    "detect_types": int,
    "check_same_thread": bool,
    "cached_statements": int,
}


def _flag(value: str) -> bool:
    """A query parameter's truth, as SQLAlchemy's ``asbool`` reads it."""
    word = value.strip().lower()
    if word not in ("true", "yes", "on", "y", "t", "1", "false", "no", "off", "n", "f", "0"):
        raise ValueError(f"String is not true/false: {value!r}")
    return word in ("true", "yes", "on", "y", "t", "1")


def sqlite_target(url: Url) -> tuple[str, dict[str, Any]]:
    """
    What :func:`sqlite3.connect` opens for a SQLite URL, and its keyword arguments, as
    SQLAlchemy's pysqlite dialect makes them.

    Parameters it does not know are ignored with a warning (those of a ``file:`` URI need
    ``uri=true``), as SQLAlchemy does.

    Raises:
        ValueError: The URL names a user, password, host or port, or a parameter of the
            wrong type.
    """
    import os

    if url.username or url.password or url.host or url.port:
        raise ValueError(
            f"Invalid SQLite URL: {url.render_as_string()}; valid forms are "
            "sqlite:///:memory: (or sqlite://), sqlite:///relative/path/to/file.db and "
            "sqlite:////absolute/path/to/file.db"
        )
    kwargs: dict[str, Any] = {}
    for key, kind in _SQLITE_ARGS.items():
        if isinstance(value := url.query.get(key), str):
            kwargs[key] = _flag(value) if kind is bool else kind(value)
    if kwargs.get("uri"):
        rest = {k: v for k, v in url.query.items() if k not in _SQLITE_ARGS}
        target = (url.database or "") + (
            "?" + "&".join(f"{k}={rest[k]}" for k in sorted(rest)) if rest else ""
        )
    else:
        ignored = sorted(set(url.query) - set(_SQLITE_ARGS))
        if ignored:  # as SQLAlchemy does: a warning, and the store opens
            import warnings

            warnings.warn(
                f"the URL parameters {', '.join(ignored)} are not accepted by SQLite and are "
                "ignored; those of a file: URI need uri=true",
                RuntimeWarning,
                stacklevel=4,
            )
        target = url.database or ":memory:"
        if target != ":memory:":
            target = os.path.abspath(target)
    return target, kwargs


def sqlite_reason(lowered: str, target: str) -> str | None:
    """
    What a SQLite error (its message, lowered) on the store ``target`` means to the user, or
    None: SQLite has no connection to lose, so a read-only store, a file that cannot be opened
    or one that is not a store are said as such (the messages of SQLite's ``sqlite3.c``).
    """
    if "readonly" in lowered:
        return (
            "the store is read-only (the file, its folder, or the URL's mode=ro); "
            "nothing was written"
        )
    if "unable to open database file" in lowered:
        return (
            f"cannot open the file {target}: check that its folder exists and that the file "
            "and the folder can be written"
        )
    if "file is not a database" in lowered:
        return (
            f"{target} is not a SQLite database (a CSV or Excel file given as the store?); "
            "give the store's file, e.g. --db sqlite:///users.db"
        )
    if "no such table" in lowered or "no such column" in lowered:
        return "it is not a userimport store, or it is damaged"
    return None


def scrub(text: str) -> str:
    """Hide the password of anything that looks like a URL with credentials."""
    import re

    # user:password@ after "//", or at the start of a word (a URL without its scheme); the
    # password up to its "@", slashes included (typed unescaped).
    text = re.sub(r"(//[^:/@\s]*:)[^@\s]*@", r"\1***@", text)
    return re.sub(r"((?:^|(?<=[\s'\"]))[^:/@\s'\"]*:)(?!//)[^@\s]*@", r"\1***@", text)


USER_COLUMNS = ("key", "email", "first_name", "last_name", "department", "is_admin")

#: Every table's columns, in order (the SQLite DDL and :func:`tables` declare them too).
COLUMNS: dict[str, tuple[str, ...]] = {
    "meta": ("id", "version", "schema_version"),
    "groups": ("name",),
    "departments": ("name",),
    "users": USER_COLUMNS,
    "memberships": ("user_key", "group_name"),
    "attributes": ("user_key", "name", "value"),
    "plan_secret": ("id", "secret"),
    "import_history": (
        "id", "at", "filename", "settings", "created", "updated", "deleted", "version", "undo",
        "undone_at",
    ),
}  # fmt: skip

#: The store's tables, in the order they are made (the tables a table refers to first).
STORE_TABLES = (
    "departments", "groups", "meta", "plan_secret", "users", "attributes", "memberships",
)  # fmt: skip
#: The import history's table and its index, made when the history is first used.
HISTORY = ("import_history", "ix_import_history_at")

#: SQLite's DDL of each of :data:`STORE_TABLES` and :data:`HISTORY`: what SQLAlchemy emits
#: for :func:`tables` and :func:`history_tables`.
SQLITE_DDL: dict[str, str] = {
    "departments": """CREATE TABLE departments (
    name TEXT NOT NULL,
    PRIMARY KEY (name)
)""",
    "groups": """CREATE TABLE groups (
    name TEXT NOT NULL,
    PRIMARY KEY (name)
)""",
    "meta": """CREATE TABLE meta (
    id INTEGER NOT NULL,
    version TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    PRIMARY KEY (id)
)""",
    "plan_secret": """CREATE TABLE plan_secret (
    id INTEGER NOT NULL,
    secret TEXT NOT NULL,
    PRIMARY KEY (id)
)""",
    "users": """CREATE TABLE users (
    "key" TEXT NOT NULL,
    email TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    department TEXT,
    is_admin BOOLEAN NOT NULL,
    PRIMARY KEY ("key"),
    FOREIGN KEY(department) REFERENCES departments (name)
)""",
    "attributes": """CREATE TABLE attributes (
    user_key TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (user_key, name),
    FOREIGN KEY(user_key) REFERENCES users ("key") ON DELETE CASCADE
) WITHOUT ROWID""",
    "memberships": """CREATE TABLE memberships (
    user_key TEXT NOT NULL,
    group_name TEXT NOT NULL,
    PRIMARY KEY (user_key, group_name),
    FOREIGN KEY(user_key) REFERENCES users ("key") ON DELETE CASCADE,
    FOREIGN KEY(group_name) REFERENCES groups (name)
) WITHOUT ROWID""",
    "import_history": """CREATE TABLE import_history (
    id TEXT NOT NULL,
    at TEXT NOT NULL,
    filename TEXT NOT NULL,
    settings TEXT NOT NULL,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    deleted INTEGER NOT NULL,
    version TEXT NOT NULL,
    undo TEXT NOT NULL,
    undone_at TEXT,
    PRIMARY KEY (id)
)""",
    "ix_import_history_at": "CREATE INDEX ix_import_history_at ON import_history (at)",
}


class Db(Protocol):
    """One transaction of either dialect, running SQL text with ``?`` placeholders."""

    dialect: str

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a statement; its rows."""

    def run(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run a statement."""

    def many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run a statement once per row of parameters, in one driver call."""


def upgrade(db: Db, shown: str) -> None:
    """
    Upgrade a version 1 store in place (in the caller's transaction): every text in NFC, and
    every key :func:`~userimport.model.email_key` of its email.

    Version 1 case-folded keys (``straße@`` was keyed ``strasse@``) and kept text as typed
    (a decomposed ``München`` was another department). A group or department whose NFC name
    exists already is merged into it.

    Raises:
        RepositoryError: Two users of the store are one identity under the new rule (the
            same address typed composed and decomposed); the message names both.
    """
    import unicodedata

    def nfc(text: str) -> str:
        return unicodedata.normalize("NFC", text)

    for table in ("groups", "departments"):
        names = {name for (name,) in db.rows(f"SELECT name FROM {table}")}
        for old in sorted(n for n in names if nfc(n) != n):
            new = nfc(old)
            if new not in names:
                db.run(f"INSERT INTO {table} (name) VALUES (?)", (new,))
                names.add(new)
            if table == "groups":
                db.run(
                    "DELETE FROM memberships WHERE group_name = ? AND user_key IN "
                    "(SELECT user_key FROM memberships WHERE group_name = ?)",
                    (old, new),
                )
                db.run("UPDATE memberships SET group_name = ? WHERE group_name = ?", (new, old))
            else:
                db.run("UPDATE users SET department = ? WHERE department = ?", (new, old))
            db.run(f"DELETE FROM {table} WHERE name = ?", (old,))
    rows = db.rows('SELECT "key", email, first_name, last_name FROM users')
    owner = {key: email for key, email, *_ in rows}
    taken: dict[str, str] = {}
    for _key, email, _, _ in rows:
        other = taken.setdefault(email_key(email), email)
        if other != email or owner.get(email_key(email), email) != email:
            raise RepositoryError(
                f"cannot upgrade {shown}: the users {other!r} and {email!r} are one email "
                "address now (the same text, composed and decomposed); delete one with the "
                "userimport that made the store, then open it again"
            )
    rest = ", ".join(c for c in USER_COLUMNS if c != "key")
    for key, email, first, last in rows:
        new_key = email_key(email)
        text = (nfc(email), nfc(first), nfc(last))
        if text != (email, first, last):
            db.run(
                'UPDATE users SET email = ?, first_name = ?, last_name = ? WHERE "key" = ?',
                (*text, key),
            )
        if new_key != key:
            db.run(
                f'INSERT INTO users ("key", {rest}) '
                f'SELECT CAST(? AS TEXT), {rest} FROM users WHERE "key" = ?',
                (new_key, key),
            )
            for child in ("memberships", "attributes"):
                db.run(f"UPDATE {child} SET user_key = ? WHERE user_key = ?", (new_key, key))
            db.run('DELETE FROM users WHERE "key" = ?', (key,))
    for user_key, name, value in db.rows("SELECT user_key, name, value FROM attributes"):
        if (nfc(name), nfc(value)) != (name, value):
            db.run(
                "UPDATE attributes SET name = ?, value = ? WHERE user_key = ? AND name = ?",
                (nfc(name), nfc(value), user_key, name),
            )

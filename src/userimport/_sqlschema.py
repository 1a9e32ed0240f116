"""
The tables of a :class:`~userimport.sql.SqlUserRepository` store, its URLs, and the upgrade of
stores made by earlier releases (split out of :mod:`userimport.sql`; no names of its own in the
public API).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

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


def parse_url(url: str | sa.URL) -> sa.URL:
    """Parse ``url`` and pick psycopg 3 for PostgreSQL; raise RepositoryError if unusable."""
    import sqlalchemy as sa

    try:
        parsed = sa.make_url(url)
    except (sa.exc.ArgumentError, ValueError, TypeError) as exc:
        raise RepositoryError(
            f"not a database URL: {scrub(str(url))!r}; expected e.g. "
            "'sqlite:///users.db' or 'postgresql://user@host/dbname'"
        ) from exc
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "postgres":
        backend = "postgresql"
    if backend == "postgresql" and driver in ("", "psycopg"):
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite" and driver in ("", "pysqlite"):
        return parsed.set(drivername="sqlite+pysqlite")
    shown = parsed.render_as_string(hide_password=True)
    raise RepositoryError(
        f"unsupported database URL {shown}: SqlUserRepository supports "
        "'sqlite:///path' and 'postgresql://...' (psycopg)"
    )


def scrub(text: str) -> str:
    """Hide the password of anything that looks like a URL with credentials."""
    import re

    return re.sub(r"(//[^:/@\s]*:)[^@/\s]*@", r"\1***@", text)


USER_COLUMNS = ("key", "email", "first_name", "last_name", "department", "is_admin")


def upgrade(conn: sa.Connection, shown: str) -> None:
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

    import sqlalchemy as sa

    t = tables()

    def nfc(text: str) -> str:
        return unicodedata.normalize("NFC", text)

    for table, users_column in ((t.groups, None), (t.departments, t.users.c.department)):
        names = set(conn.execute(sa.select(table.c.name)).scalars())
        for old in sorted(n for n in names if nfc(n) != n):
            new = nfc(old)
            if new not in names:
                conn.execute(table.insert().values(name=new))
                names.add(new)
            if users_column is None:
                m = t.memberships.c
                both = sa.select(m.user_key).where(m.group_name == new)
                conn.execute(
                    t.memberships.delete().where(m.group_name == old, m.user_key.in_(both))
                )
                conn.execute(
                    t.memberships.update().where(m.group_name == old).values(group_name=new)
                )
            else:
                conn.execute(t.users.update().where(users_column == old).values(department=new))
            conn.execute(table.delete().where(table.c.name == old))
    u = t.users.c
    rows = conn.execute(sa.select(u.key, u.email, u.first_name, u.last_name)).all()
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
    for key, email, first, last in rows:
        new_key = email_key(email)
        text = (nfc(email), nfc(first), nfc(last))
        if text != (email, first, last):
            conn.execute(
                t.users.update()
                .where(u.key == key)
                .values(email=text[0], first_name=text[1], last_name=text[2])
            )
        if new_key != key:
            columns = [c for c in USER_COLUMNS if c != "key"]
            conn.execute(
                t.users.insert().from_select(
                    ["key", *columns],
                    sa.select(sa.literal(new_key), *(u[c] for c in columns)).where(u.key == key),
                )
            )
            for child in (t.memberships, t.attributes):
                conn.execute(child.update().where(child.c.user_key == key).values(user_key=new_key))
            conn.execute(t.users.delete().where(u.key == key))
    a = t.attributes.c
    for user_key, name, value in conn.execute(sa.select(a.user_key, a.name, a.value)).all():
        if (nfc(name), nfc(value)) != (name, value):
            conn.execute(
                t.attributes.update()
                .where(a.user_key == user_key, a.name == name)
                .values(name=nfc(name), value=nfc(value))
            )

"""The import history: the optional protocol and the stores that keep it (memory, SQLite, PG)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest

import userimport as ui
from tests.test_repository import postgres_url, reset_postgres
from userimport.history import (
    ImportHistory,
    ImportRecord,
    MemoryImportHistory,
    import_history,
)
from userimport.model import ImportSettings
from userimport.sql import SqlUserRepository

T0 = datetime(2026, 11, 30, 1, 2, 3, tzinfo=UTC)


def record(n: int, **changes: object) -> ImportRecord:
    made = ImportRecord(
        id=f"r{n}",
        at=T0 + timedelta(minutes=n),
        filename=f"staff-{n}.xlsx",
        settings=ImportSettings(delete_missing=True, max_deletes=None, groups="replace"),
        created=n,
        updated=2,
        deleted=1,
        version=f"v{n}",
        undo='{"plan": "json"}',
    )
    return attrs.evolve(made, **changes)


@pytest.fixture(params=["memory", "repo", "sqlite", "postgresql"])
def history(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ImportHistory]:
    """Every ImportHistory the library ships."""
    if request.param == "memory":
        yield MemoryImportHistory()
    elif request.param == "repo":
        yield ui.InMemoryUserRepository()
    else:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / 'store.db'}"
        else:
            url = postgres_url()
            reset_postgres(url)
        repo = SqlUserRepository(url)
        try:
            yield repo
        finally:
            repo.close()


def test_records_come_back_newest_first_with_their_fields(history: ImportHistory) -> None:
    """A record reads back equal; the list is newest first and honours the limit."""
    for n in (1, 3, 2):
        history.add_import(record(n))
    assert ["r3", "r2", "r1"] == [r.id for r in history.list_imports()]
    assert ["r3"] == [r.id for r in history.list_imports(limit=1)]
    assert record(2) == history.get_import("r2")
    listed = history.list_imports()[0]
    assert attrs.evolve(record(3), undo=listed.undo) == listed
    assert history.get_import("nope") is None


def test_an_undone_import_says_when(history: ImportHistory) -> None:
    """mark_import_undone keeps the time; the record can no longer be undone."""
    history.add_import(record(1))
    history.mark_import_undone("r1", T0 + timedelta(hours=1))
    found = history.get_import("r1")
    assert found is not None
    assert T0 + timedelta(hours=1) == found.undone_at
    assert False is found.can_undo("v1")


def test_undo_is_possible_only_at_the_version_the_import_left() -> None:
    """can_undo compares the store's version with the one after the import."""
    assert (True, False) == (record(1).can_undo("v1"), record(1).can_undo("v2"))


def test_the_stores_are_import_histories_and_the_protocol_stays_optional() -> None:
    """Both stores keep a history; a bare UserRepository is still one, without a history."""

    class Bare:
        def snapshot(self) -> ui.Snapshot:
            return ui.InMemoryUserRepository().snapshot()

        def commit(self, changes: ui.ChangeSet, *, expected_version: str) -> str:
            return expected_version

    repo = ui.InMemoryUserRepository()
    assert repo is import_history(repo)
    sql = SqlUserRepository("sqlite://")
    assert sql is import_history(sql)
    sql.close()
    assert isinstance(Bare(), ui.UserRepository)
    assert import_history(Bare()) is None


def test_the_sql_history_table_joins_an_existing_store_without_a_schema_bump(
    tmp_path: Path,
) -> None:
    """A store made before the history gains its table on first use; the schema version stays."""
    import sqlalchemy as sa

    from userimport.sql import SCHEMA_VERSION

    url = f"sqlite:///{tmp_path / 'old.db'}"
    repo = SqlUserRepository(url)
    version = repo.snapshot().version
    assert False is sa.inspect(repo.engine).has_table("import_history")
    repo.add_import(record(1))
    assert True is sa.inspect(repo.engine).has_table("import_history")
    repo.close()
    again = SqlUserRepository(url)
    assert ["r1"] == [r.id for r in again.list_imports()]
    assert version == again.snapshot().version
    with again.engine.connect() as conn:
        assert SCHEMA_VERSION == conn.execute(sa.text("select schema_version from meta")).scalar()
    again.close()

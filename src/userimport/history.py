"""
Import history: a record of each import applied, kept by the store when it can.

:class:`ImportHistory` is an *optional* protocol beside
:class:`~userimport.repository.UserRepository`: a store that also has its four methods keeps
its imports' history (the in-memory store in memory, the SQL store in its table
``import_history``). A store without them is still a ``UserRepository``; the web pages then
keep the history in a :class:`MemoryImportHistory` of their own, for as long as the process
lives, and say so.

An :class:`ImportRecord` holds what an admin looks at later: when, which file, the settings,
the counts, and the plan that undoes the import (as :meth:`Plan.to_json
<userimport.plan.Plan.to_json>` text). Undo is possible while the store is still at the
version the import left it at (:meth:`ImportRecord.can_undo`).
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Protocol, runtime_checkable

import attrs

from .model import ImportSettings

__all__ = ["ImportHistory", "ImportRecord", "MemoryImportHistory", "import_history"]

#: Records :meth:`ImportHistory.list_imports` returns by default.
DEFAULT_LIMIT = 50


@attrs.frozen(kw_only=True)
class ImportRecord:
    """
    One import applied to a store.

    Args:
        id: A random id (unique in the store).
        at: When it was applied (timezone-aware, UTC).
        filename: The name of the file imported (no folder).
        settings: The settings it was applied with.
        created: Users created.
        updated: Users updated.
        deleted: Users deleted.
        version: The store's version right after the import: undo is possible while the
            store is still at it.
        undo: The plan that undoes the import, as :meth:`Plan.to_json
            <userimport.plan.Plan.to_json>` text (signed with the store's plan secret).
        undone_at: When it was undone, or ``None``.
    """

    id: str
    at: datetime
    filename: str
    settings: ImportSettings
    created: int
    updated: int
    deleted: int
    version: str
    undo: str = attrs.field(repr=False)
    undone_at: datetime | None = None

    def can_undo(self, current_version: str) -> bool:
        """Whether undo is still possible on a store now at ``current_version``."""
        return self.undone_at is None and current_version == self.version


@runtime_checkable
class ImportHistory(Protocol):
    """
    A store that keeps the history of the imports applied to it (optional capability).

    Implementations must be safe to call from several threads (and, for a shared store, from
    several processes).
    """

    def add_import(self, record: ImportRecord) -> None:
        """Keep ``record``."""
        ...

    def list_imports(self, limit: int = DEFAULT_LIMIT) -> list[ImportRecord]:
        """The ``limit`` most recent records, newest first."""
        ...

    def get_import(self, id: str) -> ImportRecord | None:
        """The record with ``id``, or ``None``."""
        ...

    def mark_import_undone(self, id: str, at: datetime) -> None:
        """Note that import ``id`` was undone at ``at`` (nothing for an unknown id)."""
        ...


class MemoryImportHistory:
    """
    An :class:`ImportHistory` in memory (the in-memory store's, and the web's fallback).

    Thread-safe; forgotten when the process ends.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, ImportRecord] = {}

    def add_import(self, record: ImportRecord) -> None:
        """Keep ``record``."""
        with self._lock:
            self._records[record.id] = record

    def list_imports(self, limit: int = DEFAULT_LIMIT) -> list[ImportRecord]:
        """The ``limit`` most recent records, newest first."""
        with self._lock:
            records = sorted(self._records.values(), key=lambda r: r.at, reverse=True)
        return records[:limit]

    def get_import(self, id: str) -> ImportRecord | None:
        """The record with ``id``, or ``None``."""
        with self._lock:
            return self._records.get(id)

    def mark_import_undone(self, id: str, at: datetime) -> None:
        """Note that import ``id`` was undone at ``at``."""
        with self._lock:
            found = self._records.get(id)
            if found is not None:
                self._records[id] = attrs.evolve(found, undone_at=at)


def import_history(repository: object) -> ImportHistory | None:
    """``repository`` as an :class:`ImportHistory` if it keeps one, else ``None``."""
    return repository if isinstance(repository, ImportHistory) else None

"""Small named fixtures shared by the tests."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from aiosmtpd.controller import Controller
from hypothesis import HealthCheck, settings

from userimport import ColumnMapping, InMemoryUserRepository, RawTable, Review, validate
from userimport.testing import ADMIN, ANNA, OLE

settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=60
)
settings.register_profile("ci", parent=settings.get_profile("default"), max_examples=100)
settings.load_profile("ci" if os.environ.get("CI") else "default")

HEADER = ["First Name", "Last Name", "Email", "Department", "Groups"]
CORE = {0: "first_name", 1: "last_name", 2: "email", 3: "department", 4: "groups"}


DATA = Path(__file__).resolve().parent / "data"


def corpus_dir() -> Path:
    """The corpus of messy real-world files in tests/data (``USERIMPORT_CORPUS`` overrides it)."""
    env = os.environ.get("USERIMPORT_CORPUS")
    if env:
        return Path(env)
    return DATA / "corpus"


@pytest.fixture
def corpus() -> Path:
    """The corpus folder (the tests fail, not skip, when it is missing)."""
    path = corpus_dir()
    assert path.is_dir(), f"corpus not found at {path}; set USERIMPORT_CORPUS"
    return path


def make_table(rows: list[list[str]], *, path: str | None = "users.csv") -> RawTable:
    """A RawTable straight from cell texts (ragged rows padded)."""
    width = max(len(r) for r in rows)
    cells = [list(r) + [""] * (width - len(r)) for r in rows]
    return RawTable(rows=pd.DataFrame(cells, dtype=object), format="csv", path=path)


def make_review(
    rows: list[list[str]],
    *,
    header: list[str] | None = HEADER,
    columns: dict[int | str, str] | None = None,
    **mapping_options: object,
) -> Review:
    """Validate data rows (under ``header``) with the core five-column mapping by default."""
    table = make_table(([header] if header else []) + rows)
    mapping = ColumnMapping.from_columns(
        columns or CORE,
        headers=tuple(header or ()),
        width=table.rows.shape[1],
        **mapping_options,  # type: ignore[arg-type]
    )
    return validate(table, 0 if header else None, mapping)


@pytest.fixture
def review_of() -> Callable[..., Review]:
    """Build a review from data rows: ``review_of([[first, last, email, dept, groups], ...])``."""
    return make_review


@pytest.fixture
def empty_repo() -> InMemoryUserRepository:
    """A store with no users."""
    return InMemoryUserRepository()


@pytest.fixture
def seeded_repo() -> InMemoryUserRepository:
    """A store with Anna (Sales), an admin, and Ole (with a custom attribute)."""
    return InMemoryUserRepository([ANNA, ADMIN, OLE], groups={"Empty group"})


class Mailbox:
    """An aiosmtpd handler that keeps the messages and refuses chosen recipients."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: set[str] = set()
        self.drop_after: int | None = None

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.drop_after is not None and len(self.messages) >= self.drop_after:
            return "421 4.3.0 closing connection"
        msg = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server on 127.0.0.1, its mailbox and port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()

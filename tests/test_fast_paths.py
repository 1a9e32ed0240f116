"""
Inputs on which the #17 fast paths (Arrow's CSV reader, byte shortcuts, lazy change sets)
were held to the behaviour before them.
"""

from __future__ import annotations

import copy
import json
import pickle
import threading
from pathlib import Path
from typing import Literal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import userimport.sql
from userimport import (
    ApplyResult,
    ImportSettings,
    InMemoryUserRepository,
    SqlUserRepository,
    apply_plan,
    import_file,
)
from userimport.errors import FileFormatError
from userimport.model import ChangeSet, Permissions, User
from userimport.plan import Plan
from userimport.read import read_table

from .test_read import careful, outcome


@pytest.mark.parametrize(
    "data",
    [
        b'name,email\nBob,"bob@x.no\n',
        b'name,email\r\nBob,"bob@x.no\r\n',
        b'name|email\nBob|"bob@x.no\n',
        # The last line ends in a quote that is not a closing one (the careful path once
        # took any final '"' for one).
        b'name,email\nBob,"bob@x.no""\n',
        b'name,email\nBob,"\n',
        b'name,email\nBob,"""\n',
        b'name;email\r\nBob;"x\r\n""\r\n',
    ],
)
def test_open_quote_on_the_last_line_is_refused(data: bytes) -> None:
    """A quote left open on the last line is refused, not read as a cell ending in a break."""
    with pytest.raises(FileFormatError, match="is never closed"):
        read_table(data)


@pytest.mark.parametrize(
    ("data", "last"),
    [
        (b'name,email\nBob,"bob@x.no\n"\n', ["Bob", "bob@x.no\n"]),
        (b'name,email\nBob,"bob@x.no\n"', ["Bob", "bob@x.no\n"]),
        (b'name,email\nBob,"say ""hi""\n"\n', ["Bob", 'say "hi"\n']),
    ],
)
def test_a_closed_quote_after_a_line_break_is_read(data: bytes, last: list[str]) -> None:
    """A value ending in a line break, its quote closed alone on the last line, is kept."""
    assert last == read_table(data).rows.values.tolist()[-1]


def _plan_changeset() -> tuple[ChangeSet, ChangeSet]:
    """A plan's change set (made from columns) and the same change set made from users."""
    repo = InMemoryUserRepository()
    repo.commit(
        ChangeSet(
            create=(User(email="a@x.no", first_name="A", groups={"g"}),), create_groups={"g"}
        ),
        expected_version=repo.snapshot().version,
    )
    data = b"email,first_name,last_name,department,groups\nA@x.no,Ann,L,D,g;h\nc@x.no,Cy,L,D,\n"
    plan = import_file(data, repo)
    assert isinstance(plan, Plan)
    lazy = plan.changeset()
    eager = ChangeSet(
        create=lazy.create,
        update=lazy.update,
        delete=lazy.delete,
        create_groups=lazy.create_groups,
        create_departments=lazy.create_departments,
    )
    return plan.changeset(), eager


def test_changeset_fields_are_the_documented_ones() -> None:
    """attrs.asdict of a change set (an app's repository may log it) has only its seven parts."""
    lazy, eager = _plan_changeset()
    parts = [
        "create",
        "update",
        "delete",
        "create_groups",
        "create_departments",
        "delete_groups",
        "delete_departments",
    ]
    assert parts == [f.name for f in attrs.fields(ChangeSet)]
    assert parts == list(attrs.asdict(lazy, recurse=False))
    assert attrs.astuple(eager, recurse=False) == attrs.astuple(lazy, recurse=False)


def test_plan_changeset_behaves_as_one_made_of_users() -> None:
    """A plan's lazy change set equals, hashes, reprs, copies and evolves as an eager one."""
    lazy, eager = _plan_changeset()
    assert eager == lazy
    assert hash(eager) == hash(_plan_changeset()[0])
    assert repr(eager) == repr(_plan_changeset()[0])
    assert eager == copy.copy(_plan_changeset()[0])
    assert attrs.evolve(eager, delete=("x@x.no",)) == attrs.evolve(lazy, delete=("x@x.no",))
    fresh = _plan_changeset()[0]
    seen: list[tuple[User, ...]] = []
    threads = [threading.Thread(target=lambda: seen.append(fresh.create)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [eager.create] * 8 == seen


@pytest.mark.parametrize("blank", [63, 64, 65, 191, 192, 193])
@pytest.mark.parametrize("last", [None, 0, 62, 63, 64, 127, 128])
def test_trailing_blank_rows_dropped_as_the_csv_module_does(blank: int, last: int | None) -> None:
    """Rows of only delimiters and spaces at the end are dropped as before, wherever a cell is."""
    tail = [" ;\u00a0;" if i % 2 else ";;" for i in range(blank)]
    if last is not None and last < blank:
        tail[last] = ";;y"
    data = ("a;b;c\n1;2;3\n" + "\n".join(tail) + "\n").encode()
    assert careful(data, max_rows=None) == outcome(data, max_rows=None)


_CELLS = ["a", "", " ", '"', '"a', 'a"', '""', '"""', '"a""', '"a"b', 'a"b', '"a,b"', '"x\ny"', "é"]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from(_CELLS), min_size=2, max_size=2), max_size=3),
    st.sampled_from(_CELLS),
    st.sampled_from(['"a', '"', '"""', '"a""', '"a"', "a"]),
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.booleans(),
)
def test_unbalanced_quotes_read_as_the_csv_module_does(
    rows: list[list[str]], first: str, last: str, end: str, final: bool
) -> None:
    """Rows of one width with stray or open quotes: the fast path reads as the csv module."""
    lines = [["h1", "h2"], *rows, [first, last]]
    data = (end.join(",".join(cells) for cells in lines) + (end if final else "")).encode()
    assert careful(data) == outcome(data)


_STORED = (
    User(email="Anna@x.no", first_name="Anna", last_name="Berg", department="Sales", groups={"g1"}),
    User(email="bo@x.no", first_name="Bo", last_name="Ek", department="sales", groups={"G1", "g2"}),
    User(email="cy@x.no", first_name="Émile", last_name="Ø", groups={"Straße"}, is_admin=True),
    User(email="dy@x.no", first_name="Dy", last_name="Li", department="Sales"),
)
_FILE = (
    "email,first_name,last_name,department,groups\n"
    "anna@X.NO,anna,Berg,Sales,G1;g3\n"  # case-only differences
    " bo@x.no ,Bo,Ek,Sales,g2\n"
    "cy@x.no,E\u0301mile,Ø\u00a0,sales,strasse;Straße\n"  # decomposed accent, NBSP
    "new@x.no,New,One,Tech,g3\n"
)


@pytest.mark.parametrize("on_existing", ["update", "skip"])
@pytest.mark.parametrize("groups", ["add", "replace"])
@pytest.mark.parametrize("delete_missing", [False, True])
def test_a_plan_against_adbc_sqlite_equals_one_against_memory(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    on_existing: Literal["update", "skip"],
    groups: Literal["add", "replace"],
    delete_missing: bool,
) -> None:
    """Through ADBC's Arrow columns, a SQLite store plans, applies and undoes as memory does."""
    monkeypatch.setattr(userimport.sql, "ADBC_FROM", 0)
    settings = ImportSettings(
        on_existing=on_existing,
        groups=groups,
        delete_missing=delete_missing,
        max_delete_fraction=1.0,
    )
    seed = ChangeSet(
        create=_STORED,
        create_groups={"g1", "G1", "g2", "Straße"},
        create_departments={"Sales", "sales"},
    )
    outcomes = []
    for repo in (InMemoryUserRepository(), SqlUserRepository(f"sqlite:///{tmp_path / 'u.db'}")):
        repo.commit(seed, expected_version=repo.snapshot().version)
        before = repo.snapshot().state()
        plan = import_file(_FILE.encode(), repo, settings)
        assert isinstance(plan, Plan)
        done = import_file(_FILE.encode(), repo, settings, dry_run=False)
        assert isinstance(done, ApplyResult)
        after = repo.snapshot().state()
        again = import_file(_FILE.encode(), repo, settings)
        assert isinstance(again, Plan)
        apply_plan(done.undo, repo)
        outcomes.append(
            (
                {**json.loads(plan.to_json()), "base_version": None},
                after,
                {**json.loads(done.undo.to_json()), "base_version": None},
                again.summary(),
                before == repo.snapshot().state(),
            )
        )
    assert outcomes[0] == outcomes[1]
    assert (0, 0, 0, True) == (
        *(outcomes[1][3][k] for k in ("create", "update", "delete")),
        outcomes[1][4],
    )


def test_settings_pickle_under_the_module_that_always_held_them() -> None:
    """A pickled ImportSettings or Permissions names userimport.model, as before the split."""
    for value in (ImportSettings(groups="replace"), Permissions()):
        data = pickle.dumps(value)
        assert (b"userimport.model", False) == (
            b"userimport.model" if b"userimport.model" in data else data,
            b"_settings" in data,
        )
        assert value == pickle.loads(data)

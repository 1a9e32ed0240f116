"""Reading saved plans and recipes: any malformed file is a clear error, never a traceback."""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import ADMIN, ANNA, OLE, make_review
from userimport import (
    ImportSettings,
    InMemoryUserRepository,
    Plan,
    PlanError,
    UserImportError,
    apply_plan,
    plan_import,
)
from userimport.model import ChangeSet, Snapshot
from userimport.repository import check_changes

ROWS = [
    ["Kari", "Dahl", "kari@firma.no", "Sales", "Oslo, Newsroom"],
    ["Anne", "Berg", "anna.berg@firma.no", "Marketing", "Bergen"],
    ["", "", "broken", "", ""],
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


class Frozen:
    """A store without a plan secret that always holds one snapshot: commits are only checked."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snap = snapshot

    def snapshot(self) -> Snapshot:
        return self.snap

    def commit(self, changes: ChangeSet, *, expected_version: str) -> str:
        check_changes(self.snap, changes)
        return "next"


def seeded() -> InMemoryUserRepository:
    return InMemoryUserRepository([ANNA, ADMIN, OLE], groups={"Empty group"})


def valid_plan(repo: Any) -> dict[str, Any]:
    """A saved mirror-mode plan with every kind of entry, as parsed JSON."""
    settings = ImportSettings(delete_missing=True, max_delete_fraction=None)
    review = make_review(ROWS).skip(4)  # skipped on purpose: a broken row would hold mirror mode
    data: dict[str, Any] = json.loads(plan_import(review, repo, settings).to_json())
    return data


@functools.cache
def frozen_plan() -> tuple[Frozen, str]:
    """A store and a saved plan made against it, made once."""
    store = Frozen(seeded().snapshot())
    return store, json.dumps(valid_plan(store))


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value, as a path of keys and indexes."""
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, v in value.items():
            out += paths(v, (*prefix, key))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += paths(v, (*prefix, i))
    return out


def read_or_refuse(text: str | bytes) -> Plan | None:
    """Plan.from_json gives a plan or a PlanError; nothing else."""
    try:
        return Plan.from_json(text)
    except PlanError as e:
        if not str(e):
            raise AssertionError("a PlanError without a message") from e
        return None


@given(json_values)
def test_any_json_is_a_plan_or_a_plan_error(value: Any) -> None:
    """Arbitrary JSON, as a plan file or inside a plan's frame, reads or raises PlanError."""
    read_or_refuse(json.dumps(value))
    read_or_refuse(json.dumps({"format": "userimport.plan", "format_version": 1, "x": value}))


@given(st.data())
def test_any_change_to_a_saved_plan_reads_and_applies_or_is_refused(data: st.DataObject) -> None:
    """A saved plan with any value replaced or removed reads or is refused; applied, likewise."""
    repo, text = frozen_plan()
    changed = json.loads(text)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths(changed) or [("entries",)]))
        parent = changed
        for key in path[:-1]:
            parent = parent[key]
        if data.draw(st.booleans()) and isinstance(parent, dict):
            parent.pop(path[-1])
        else:
            parent[path[-1]] = data.draw(json_values)
    plan = read_or_refuse(json.dumps(changed))
    if plan is not None:
        try:
            apply_plan(plan, repo)
        except UserImportError as e:
            if not str(e):
                raise AssertionError("an error without a message") from e


@given(st.text(max_size=200) | st.binary(max_size=200))
def test_any_text_is_a_plan_or_a_plan_error(text: str | bytes) -> None:
    """Any text or bytes given as a plan file reads or raises PlanError."""
    read_or_refuse(text)


def mutate(path: tuple[Any, ...], value: Any) -> str:
    """A valid saved plan with the value at ``path`` set to ``value`` (a raw JSON text)."""
    data = valid_plan(seeded())
    parent: Any = data
    for key in path[:-1]:
        if isinstance(parent, list) and isinstance(key, str):  # the first entry of an action
            parent = next(e for e in parent if e["action"] == key)
        else:
            parent = parent[key]
    parent[path[-1]] = "@@HERE@@"
    return json.dumps(data).replace('"@@HERE@@"', value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("[" * 100_000 + "]" * 100_000, "nests too deep", id="deep nesting"),
        pytest.param(mutate(("entries", 0, "row"), '"abc"'), "row must be", id="row text"),
        pytest.param(mutate(("entries", 0, "row"), "true"), "row must be", id="row boolean"),
        pytest.param(mutate(("entries", 0, "row"), "-1"), "row must be", id="row negative"),
        pytest.param(mutate(("entries", 0, "row"), "1.5"), "row must be", id="row fraction"),
        pytest.param(mutate(("entries", 0, "row"), "9" * 30), "row must be", id="huge row"),
        pytest.param(mutate(("entries", 0, "row"), "9" * 5000), "cannot read", id="vast integer"),
        pytest.param(mutate(("store_users",), "Infinity"), "not a number", id="Infinity"),
        pytest.param(mutate(("store_users",), "NaN"), "not a number", id="NaN"),
        pytest.param(mutate(("store_users",), "1e999"), "too large", id="1e999"),
        pytest.param(
            mutate(("entries", "create", "after", "first_name"), '"\\ud800"'),
            "not valid Unicode",
            id="lone surrogate",
        ),
        pytest.param(
            mutate(("entries", "create", "after", "is_admin"), '"no"'),
            "true or false",
            id="admin text",
        ),
        pytest.param(
            mutate(("entries", "create", "after", "is_admin"), "1"),
            "true or false",
            id="admin number",
        ),
        pytest.param(
            mutate(("entries", "create", "after", "groups"), '"Oslo"'),
            "list of text",
            id="groups text",
        ),
        pytest.param(
            mutate(("entries", "create", "after", "groups"), "[1]"),
            "list of text",
            id="groups numbers",
        ),
        pytest.param(
            mutate(("entries", 0, "changed"), '["password"]'), "distinct fields", id="bad field"
        ),
        pytest.param(mutate(("entries", 0, "action"), '"grant"'), "must be one of", id="action"),
        pytest.param(mutate(("entries", 0, "extra"), "1"), "unknown key", id="unknown key"),
        pytest.param(mutate(("settings", "admin_rights"), '"yes"'), "true or false", id="setting"),
        pytest.param(mutate(("settings", "max_deletes"), '"none"'), "settings", id="limit text"),
        pytest.param(mutate(("undo",), '"yes"'), "true or false", id="undo text"),
        pytest.param(mutate(("digest",), '"xyz"'), "64 hexadecimal", id="digest"),
        pytest.param(mutate(("new_groups",), '"Oslo"'), "list of text", id="new groups"),
        pytest.param(mutate(("warnings",), '[{"code": 1}]'), "warning 1", id="warning"),
        pytest.param(b"\xff\xfe{}", "cannot read", id="bad utf-8"),
        pytest.param(mutate(("format_version",), "true"), "not supported", id="version true"),
    ],
)
def test_malformed_plan_files(text: str | bytes, message: str) -> None:
    """Each kind of malformed plan file is a PlanError naming what is wrong."""
    with pytest.raises(PlanError, match=message):
        Plan.from_json(text)


def test_a_create_needs_one_valid_address() -> None:
    """A create whose email is a list, has spaces or no domain is refused when read."""
    data = valid_plan(seeded())
    create = next(e for e in data["entries"] if e["action"] == "create")
    for email in ["kari@firma.no, spy@evil.example", "kari @firma.no", "kari@firma", ""]:
        create["email"] = create["after"]["email"] = email
        with pytest.raises(PlanError, match="not one valid email address"):
            Plan.from_json(json.dumps(data))


def test_shapes_of_entries_are_checked() -> None:
    """A delete with an after, a create with a before, a skip with only an after are refused."""
    data = valid_plan(seeded())
    entries = {e["action"]: e for e in data["entries"]}
    for action, side, value in [
        ("delete", "after", entries["delete"]["before"]),
        ("create", "before", entries["create"]["after"]),
        ("update", "after", None),
    ]:
        changed = copy.deepcopy(data)
        next(e for e in changed["entries"] if e["action"] == action)[side] = value
        with pytest.raises(PlanError, match=f"{side} (must be null|is needed) for {action}"):
            Plan.from_json(json.dumps(changed))


def test_changed_must_list_what_changes() -> None:
    """An update whose 'changed' hides a changed field is refused when read."""
    data = valid_plan(seeded())
    update = next(e for e in data["entries"] if e["action"] == "update")
    update["changed"] = update["changed"][1:]
    with pytest.raises(PlanError, match="must list the fields that change"):
        Plan.from_json(json.dumps(data))


def test_older_plans_without_undo_or_digest_still_read() -> None:
    """A plan saved without the undo flag, digest, holds or store_users reads as unsigned."""
    data = valid_plan(seeded())
    for key in ("undo", "holds", "store_users"):
        data.pop(key)
    plan = Plan.from_json(json.dumps(data))
    assert plan.saved is not None
    assert (False, None) == (plan.is_undo, plan.saved.digest)

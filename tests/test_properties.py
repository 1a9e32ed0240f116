"""The invariants of the pipeline, over generated stores, files and every settings combination."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests import strategies as s
from tests.conftest import make_review
from userimport import (
    ImportSettings,
    InMemoryUserRepository,
    Plan,
    PlanError,
    Review,
    StalePlanError,
    User,
    apply_plan,
    plan_import,
)
from userimport.model import USER_VALUES, ChangeSet, Permissions, UserColumns, email_key

HEADER = ["First", "Last", "Email", "Department", "Groups", "Title", "Admin"]
COLUMNS: dict[int | str, str] = {
    0: "first_name",
    1: "last_name",
    2: "email",
    3: "department",
    4: "groups",
    5: "attributes.title",
    6: "is_admin",
}


def review_of(rows: list[list[str]], department_as_group: bool = False) -> Review:
    return make_review(
        rows, header=HEADER, columns=COLUMNS, department_as_group=department_as_group
    )


def apply_unless_held(plan: Plan, repo: InMemoryUserRepository) -> bool:
    """Apply ``plan``; a held plan must instead be refused, changing nothing."""
    if not plan.holds:
        apply_plan(plan, repo)
        return True
    before = repo.snapshot()
    with pytest.raises(PlanError, match="held"):
        apply_plan(plan, repo)
    assert before is repo.snapshot()
    return False


@given(s.stores(), s.file_rows(), s.settings, st.booleans())
def test_apply_then_replan_is_empty(
    store: list[User], rows: list[list[str]], settings: ImportSettings, dept_group: bool
) -> None:
    """Applying a plan, then planning the same review again, gives an empty plan."""
    repo = InMemoryUserRepository(store)
    review = review_of(rows, dept_group)
    apply_unless_held(plan_import(review, repo, settings), repo)
    again = plan_import(review, repo, settings)
    assert again.is_empty, again.describe()


@given(s.stores(), s.file_rows(), s.settings)
def test_skip_never_changes_an_existing_user(
    store: list[User], rows: list[list[str]], settings: ImportSettings
) -> None:
    """With on_existing='skip', every user that stays in the store is exactly as before."""
    settings = ImportSettings(**{**settings.to_dict(), "on_existing": "skip"})
    repo = InMemoryUserRepository(store)
    before = repo.snapshot()
    apply_unless_held(plan_import(review_of(rows), repo, settings), repo)
    after = repo.snapshot()
    for user in before:
        now = after.get(user.email)
        if now is not None:
            assert user.to_dict() == now.to_dict()


@given(s.stores(), s.file_rows(), s.settings)
def test_mirror_mode_leaves_exactly_the_files_users(
    store: list[User], rows: list[list[str]], settings: ImportSettings
) -> None:
    """Mirror mode keeps the file's valid users, stored users in any row, and protected admins."""
    settings = ImportSettings(**{**settings.to_dict(), "delete_missing": True})
    repo = InMemoryUserRepository(store)
    review = review_of(rows)
    plan = plan_import(review, repo, settings)
    keys = review.rows["email"].str.casefold()
    valid = set(keys[review.rows["status"] == "valid"])
    if not apply_unless_held(plan, repo):  # only a file with no valid row is held here
        assert (set(), ()) == (valid, plan.changeset().delete)
        return
    present = set(keys[keys != ""])
    kept = {u.key for u in store if u.key in present}
    admins = {u.key for u in store if u.is_admin and not settings.delete_admins}
    assert valid | kept | admins == set(repo.snapshot().users)


@given(s.stores(), s.file_rows(), s.settings, st.data())
def test_mirror_mode_never_deletes_a_user_whose_row_has_a_typo(
    store: list[User], rows: list[list[str]], settings: ImportSettings, data: st.DataObject
) -> None:
    """A row whose email a typo broke keeps its stored user: the plan is held or deletes nobody."""
    settings = ImportSettings(**{**settings.to_dict(), "delete_missing": True})
    indexes = st.sets(st.integers(0, len(rows) - 1)) if rows else st.just(set())
    broken, skipped = data.draw(indexes), data.draw(indexes)
    meant = {i: rows[i][2] for i in broken}
    for i in broken:
        rows[i][2] = data.draw(s.broken_emails(rows[i][2]))
    review = review_of(rows).skip(*(r + 2 for r in skipped))
    repo = InMemoryUserRepository(store)
    plan = plan_import(review, repo, settings)
    issues = review.issues
    status = review.rows["status"]
    unreadable = set(
        issues.loc[
            (issues["field"] == "email")
            & (issues["severity"] == "error")
            & (issues["code"] != "duplicate_email"),
            "row",
        ]
    ) & set(status.index[status == "invalid"])
    deleted = {e.casefold() for e in plan.changeset().delete}
    if unreadable:
        assert set() == deleted
    held_back = {meant[i].casefold() for i in broken if i not in skipped}
    assert set() == deleted & held_back
    flagged = {w.email for w in plan.warnings if w.code == "deleted_looks_like_skipped"}
    for i in broken & skipped:
        user = repo.snapshot().get(meant[i])
        if user is not None and user.key in deleted:
            assert user.email in flagged
    apply_unless_held(plan, repo)
    after = repo.snapshot().users
    assert set() == {u.key for u in store if u.key in held_back and u.key not in after}


@given(s.stores(), s.file_rows(), s.settings)
def test_undo_restores_the_snapshot_exactly(
    store: list[User], rows: list[list[str]], settings: ImportSettings
) -> None:
    """Applying the undo plan of an import gives back the store's exact content."""
    repo = InMemoryUserRepository(store, groups={"Empty"}, departments={"Nobody"})
    before = repo.snapshot()
    plan = plan_import(review_of(rows, True), repo, settings)
    if plan.holds:  # refused, changing nothing: see apply_unless_held
        return
    result = apply_plan(plan, repo)
    apply_plan(result.undo, repo)
    assert before.state() == repo.snapshot().state()


@given(s.stores(), s.file_rows(), s.settings)
def test_plan_survives_json(
    store: list[User], rows: list[list[str]], settings: ImportSettings
) -> None:
    """A plan read back from JSON has the same entries and commits the same change set."""
    repo = InMemoryUserRepository(store)
    plan = plan_import(review_of(rows), repo, settings)
    back = Plan.from_json(plan.to_json())
    assert plan.entries == back.entries
    assert plan.changeset() == back.changeset()
    assert plan.summary() == back.summary()


@given(s.stores(), s.file_rows(), s.settings)
def test_admin_rights_never_change_unless_allowed(
    store: list[User], rows: list[list[str]], settings: ImportSettings
) -> None:
    """Without admin_rights no admin right changes, even with an admin column."""
    settings = ImportSettings(**{**settings.to_dict(), "admin_rights": False})
    repo = InMemoryUserRepository(store)
    before = {u.key: u.is_admin for u in store}
    apply_unless_held(plan_import(review_of(rows), repo, settings), repo)
    for user in repo.snapshot():
        assert before.get(user.key, False) == user.is_admin


@given(s.stores(), s.file_rows(), s.settings)
def test_stale_plan_is_refused_and_changes_nothing(
    store: list[User], rows: list[list[str]], settings: ImportSettings
) -> None:
    """A plan made before another commit is refused, and the store keeps the other commit only."""
    repo = InMemoryUserRepository(store)
    plan = plan_import(review_of(rows), repo, settings)
    other = User(email="someone.else@example.no", first_name="S", last_name="E")
    repo.commit(ChangeSet(create=[other]), expected_version=repo.snapshot().version)
    before = repo.snapshot()
    with pytest.raises(PlanError if plan.holds else StalePlanError):
        apply_plan(plan, repo)
    assert before.version == repo.snapshot().version
    assert before.state() == repo.snapshot().state()


@given(s.stores(), s.file_rows(), s.settings, s.permissions)
def test_a_saved_plan_does_no_more_than_the_applier_allows(
    store: list[User], rows: list[list[str]], settings: ImportSettings, allowed: Permissions
) -> None:
    """A signed plan read back is applied within the caller's permissions, or refused whole."""
    wide = ImportSettings(
        **{
            **settings.to_dict(),
            "delete_missing": True,
            "admin_rights": True,
            "delete_admins": True,
        }
    )
    repo = InMemoryUserRepository(store)
    before = repo.snapshot()
    plan = plan_import(review_of(rows), repo, wide)
    saved = Plan.from_json(plan.to_json(secret=repo.plan_secret()))
    try:
        result = apply_plan(saved, repo, permissions=allowed)
    except PlanError:
        assert before is repo.snapshot()
        return
    after = repo.snapshot()
    deleted = [u for u in before if u.key not in after.users]
    assert allowed.deletion_refusal(len(deleted), len(before)) is None
    assert len(deleted) == result.deleted
    if not allowed.delete_admins:
        assert not any(u.is_admin for u in deleted)
    if not allowed.admin_rights:
        was = {u.key: u.is_admin for u in before}
        assert all(was.get(u.key, False) == u.is_admin for u in after)


@given(s.stores(), s.file_rows(), s.settings)
def test_change_set_users_carry_their_email_key(
    store: list[User], rows: list[list[str]], settings: ImportSettings
) -> None:
    """A change set's users hold the plan's key, which is email_key of their email."""
    plan = plan_import(review_of(rows), InMemoryUserRepository(store), settings)
    changes = plan.changeset()
    users = [*changes.create, *changes.update, *plan.inverse(base_version="v").changeset().update]
    assert [email_key(u.email) for u in users] == [u.key for u in users]


@given(s.stores(), s.file_rows(), s.settings)
def test_a_plans_change_set_holds_the_users_its_entries_name(
    store: list[User], rows: list[list[str]], settings: ImportSettings
) -> None:
    """A plan's change set (users made on first use) is the one its entries' users make."""
    plan = plan_import(review_of(rows), InMemoryUserRepository(store), settings)
    changes = plan.changeset()
    made = {a: [e.after for e in plan.changes() if e.action == a] for a in ("create", "update")}
    expected = ChangeSet(
        create=made["create"],
        update=made["update"],
        delete=[e.email for e in plan.changes() if e.action == "delete"],
        create_groups=plan.new_groups,
        create_departments=plan.new_departments,
    )
    columns = changes.columns()
    assert expected.is_empty == changes.is_empty
    assert expected == changes
    for part, users in zip(columns, (expected.create, expected.update), strict=True):
        made_from_users = UserColumns.of(users)
        assert [getattr(made_from_users, c) for c in USER_VALUES] == [
            getattr(part, c) for c in USER_VALUES
        ]


@given(s.stores(), s.file_rows(), s.settings, st.booleans(), st.data())
def test_the_changes_planning_knows_are_the_fields_that_differ(
    store: list[User],
    rows: list[list[str]],
    settings: ImportSettings,
    dept_group: bool,
    data: st.DataObject,
) -> None:
    """
    The users ``updated`` reports changed are those whose field :func:`differs` after it, and
    the stored texts compared in Arrow give what the Python comparison gives.
    """
    import pyarrow as pa

    from userimport import _planparts, _planrules

    snap = InMemoryUserRepository(store).snapshot()
    review = review_of(rows, dept_group)
    found = _planparts.locate(review.checked.rows, snap)
    exists = found.valid & (found.at >= 0)
    old = review.checked.rows[exists].copy()
    for field in ("first_name", "last_name", "department"):  # an empty cell keeps the stored
        blank = data.draw(st.lists(st.booleans(), min_size=len(old), max_size=len(old)))
        old[field] = old[field].where(~pd.Series(blank, index=old.index, dtype=bool), "")
    before = _planrules.stored_rows(snap.frame, found.at[exists])
    after, known = _planrules.updated(old, before, settings=settings, groups_mapped=True)
    for field, flags in known.items():
        assert _planrules.differs(before[field], after[field]).tolist() == flags.tolist()
    texts = {  # as a snapshot read through ADBC holds them
        f: pa.array(snap.frame[f].tolist(), type=pa.large_string()).take(found.at[exists])
        for f in ("first_name", "last_name", "department")
    }
    arrow = _planrules.updated(old, before, settings=settings, groups_mapped=True, texts=texts)
    assert {f: v.tolist() for f, v in after.items()} == {f: v.tolist() for f, v in arrow[0].items()}
    assert {f: v.tolist() for f, v in known.items()} == {f: v.tolist() for f, v in arrow[1].items()}

"""Planning: the semantics of every import setting, and the ways to inspect a plan."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.conftest import ADMIN, ANNA, OLE, make_review
from tests.strategies import users
from userimport import (
    ImportSettings,
    InMemoryUserRepository,
    Plan,
    PlanError,
    Snapshot,
    SqlUserRepository,
    User,
    apply_plan,
    import_file,
    plan_import,
)

ANNA_ROW = ["Anna", "Berg", "anna.berg@firma.no", "Sales", "Oslo"]
OLE_ROW = ["Ole", "Hansen", "ole@firma.no", "Engineering", "Bergen, Tech"]
NEW_ROW = ["Kari", "Dahl", "kari@firma.no", "Sales", "Oslo"]


def settings(**kw) -> ImportSettings:  # type: ignore[no-untyped-def]
    return ImportSettings(**kw)


def entry(plan: Plan, email: str):  # type: ignore[no-untyped-def]
    found = plan.entry(email)
    assert found is not None
    return found


def test_new_user_is_created(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """A user not in the store is created with the file's fields."""
    plan = plan_import(make_review([NEW_ROW]), seeded_repo)
    e = entry(plan, "kari@firma.no")
    assert ("create", 2, None) == (e.action, e.row, e.before)
    assert (
        User(
            email="kari@firma.no",
            first_name="Kari",
            last_name="Dahl",
            department="Sales",
            groups={"Oslo"},
        )
        == e.after
    )
    assert (
        e.after.to_dict()
        == User(
            email="kari@firma.no",
            first_name="Kari",
            last_name="Dahl",
            department="Sales",
            groups={"Oslo"},
        ).to_dict()
    )


def test_same_data_is_unchanged(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """A user whose row says what the store says is unchanged, and the plan is empty."""
    plan = plan_import(make_review([ANNA_ROW, OLE_ROW]), seeded_repo)
    assert {"unchanged": 2} == {k: v for k, v in plan.summary().items() if v}
    assert plan.is_empty


def test_update_overwrites_fields_and_lists_them(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """on_existing='update': the file's non-empty cells overwrite, field by field."""
    plan = plan_import(
        make_review([["Anne", "Berg", "ANNA.BERG@firma.no", "Marketing", ""]]), seeded_repo
    )
    e = entry(plan, "anna.berg@firma.no")
    assert "update" == e.action
    assert ("first_name", "department") == e.changed
    assert {"first_name": ("Anna", "Anne"), "department": ("Sales", "Marketing")} == e.diff()
    assert "Anna.Berg@firma.no" == e.after.email, "the stored spelling of the email is kept"
    assert {"Marketing"} == plan.new_departments


def test_empty_optional_cell_never_erases(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """An empty groups or attribute cell leaves the stored value alone."""
    review = make_review(
        [["Ole", "Hansen", "ole@firma.no", "Engineering", "", ""]],
        header=["F", "L", "E", "D", "G", "Title"],
        columns={
            0: "first_name",
            1: "last_name",
            2: "email",
            3: "department",
            4: "groups",
            5: "attributes.title",
        },
    )
    e = entry(plan_import(review, seeded_repo), "ole@firma.no")
    assert "unchanged" == e.action
    assert {"Bergen", "Tech"} == e.after.groups
    assert {"title": "Engineer"} == dict(e.after.attributes)


def test_attributes_merge(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """A custom attribute in the file sets that attribute and keeps the others."""
    review = make_review(
        [["Ole", "Hansen", "ole@firma.no", "Engineering", "", "Lead", "Oslo"]],
        header=["F", "L", "E", "D", "G", "Title", "Office"],
        columns={
            0: "first_name",
            1: "last_name",
            2: "email",
            3: "department",
            5: "attributes.title",
            6: "attributes.office",
        },
    )
    e = entry(plan_import(review, seeded_repo), "ole@firma.no")
    assert ("attributes",) == e.changed
    assert {"title": "Lead", "office": "Oslo"} == dict(e.after.attributes)


def test_skip_existing_leaves_users_untouched(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """on_existing='skip': an existing user is untouched, groups included."""
    plan = plan_import(
        make_review([["X", "Y", "ole@firma.no", "HR", "Oslo"], NEW_ROW]),
        seeded_repo,
        settings(on_existing="skip", groups="replace"),
    )
    e = entry(plan, "ole@firma.no")
    assert ("skip", OLE, OLE) == (e.action, e.before, e.after)
    assert "on_existing" in e.reason
    assert 1 == plan.summary()["create"]
    assert frozenset() == plan.new_departments


def test_groups_add_is_a_union(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """groups='add': the user's groups become current ∪ file."""
    e = entry(plan_import(make_review([[*OLE_ROW[:4], "Oslo"]]), seeded_repo), "ole@firma.no")
    assert {"Bergen", "Oslo", "Tech"} == e.after.groups
    assert ("groups",) == e.changed


def test_groups_replace_is_exactly_the_files(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """groups='replace': the user's groups become exactly the file's, an empty cell meaning none."""
    plan = plan_import(
        make_review([[*OLE_ROW[:4], "Oslo"], [*ANNA_ROW[:4], ""]]),
        seeded_repo,
        settings(groups="replace"),
    )
    assert {"Oslo"} == entry(plan, "ole@firma.no").after.groups
    assert frozenset() == entry(plan, "anna.berg@firma.no").after.groups


def test_groups_replace_without_a_group_column_keeps_groups(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """With no column feeding groups, replace leaves groups alone: the file says nothing of them."""
    review = make_review(
        [OLE_ROW[:4]],
        header=["F", "L", "E", "D"],
        columns={0: "first_name", 1: "last_name", 2: "email", 3: "department"},
    )
    e = entry(plan_import(review, seeded_repo, settings(groups="replace")), "ole@firma.no")
    assert ("unchanged", {"Bergen", "Tech"}) == (e.action, set(e.after.groups))


def test_new_groups_and_departments_are_listed(empty_repo) -> None:  # type: ignore[no-untyped-def]
    """Groups and departments the file names that do not exist yet are created and listed."""
    plan = plan_import(make_review([NEW_ROW, OLE_ROW]), empty_repo)
    assert {"Oslo", "Bergen", "Tech"} == plan.new_groups
    assert {"Sales", "Engineering"} == plan.new_departments
    assert {"Oslo", "Bergen", "Tech"} == plan.changeset().create_groups


def test_mirror_mode_deletes_missing_users(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """delete_missing: users absent from the file are deleted; admins are kept by default."""
    plan = plan_import(make_review([ANNA_ROW]), seeded_repo, settings(delete_missing=True))
    assert "delete" == entry(plan, "ole@firma.no").action
    admin = entry(plan, "boss@firma.no")
    assert ("skip", "admin") == (admin.action, admin.reason[:5])
    assert ("ole@firma.no",) == plan.changeset().delete


def test_mirror_mode_can_delete_admins_when_allowed(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """delete_admins=True lets mirror mode delete an admin."""
    plan = plan_import(
        make_review([ANNA_ROW]), seeded_repo, settings(delete_missing=True, delete_admins=True)
    )
    assert {"ole@firma.no", "boss@firma.no"} == set(plan.changeset().delete)


def test_invalid_and_skipped_rows_still_count_as_present(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """A row with a typo, or a skipped row, never gets its user deleted in mirror mode."""
    review = make_review([["", "Hansen", "ole@firma.no", "Engineering", ""], ANNA_ROW]).skip(3)
    plan = plan_import(review, seeded_repo, settings(delete_missing=True))
    assert ("skip", "row has errors") == (
        entry(plan, "ole@firma.no").action,
        entry(plan, "ole@firma.no").reason,
    )
    assert ("skip", "skipped in review") == (
        entry(plan, "anna.berg@firma.no").action,
        entry(plan, "anna.berg@firma.no").reason,
    )
    assert () == plan.changeset().delete


def test_deletion_limit_blocks_the_plan() -> None:
    """More deletions than max_deletes: the plan says it is blocked, with a warning."""
    repo = InMemoryUserRepository(
        [User(email=f"u{i}@firma.no", first_name="U", last_name=str(i)) for i in range(5)]
    )
    mirror = settings(delete_missing=True, max_deletes=4, max_delete_fraction=None)
    plan = plan_import(make_review([NEW_ROW]), repo, mirror)
    assert 5 == plan.summary()["delete"]
    assert plan.blocked
    assert ["deletion_limit"] == [w.code for w in plan.warnings]
    ok = plan_import(make_review([NEW_ROW]), repo, attrs.evolve(mirror, max_deletes=5))
    assert () == ok.blocked


def test_default_deletion_limit_is_fifty() -> None:
    """The default max_deletes is 50, a safe default documented in docs/planning.md."""
    assert 50 == ImportSettings().max_deletes


def test_admin_column_is_ignored_without_admin_rights(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """Without admin_rights, an admin column changes nobody's rights, and the plan warns."""
    review = make_review(
        [
            [*ANNA_ROW[:4], "yes"],
            ["Bo", "Ss", "boss@firma.no", "Ledelse", "no"],
            [*NEW_ROW[:4], "yes"],
        ],
        header=["F", "L", "E", "D", "Admin"],
        columns={0: "first_name", 1: "last_name", 2: "email", 3: "department", 4: "is_admin"},
    )
    plan = plan_import(review, seeded_repo)
    assert not entry(plan, "anna.berg@firma.no").after.is_admin
    assert entry(plan, "boss@firma.no").after.is_admin
    assert not entry(plan, "kari@firma.no").after.is_admin
    ignored = [(w.code, w.email) for w in plan.warnings]
    expected = [
        ("admin_ignored", "kari@firma.no"),
        ("admin_ignored", "Anna.Berg@firma.no"),
        ("admin_ignored", "boss@firma.no"),
    ]
    assert expected == ignored
    allowed = plan_import(review, seeded_repo, settings(admin_rights=True))
    assert entry(allowed, "anna.berg@firma.no").after.is_admin
    assert not entry(allowed, "boss@firma.no").after.is_admin
    assert entry(allowed, "kari@firma.no").after.is_admin


def test_looks_renamed_warning(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """One user deleted and one created with the same name is flagged: email cannot change."""
    review = make_review([["Ole", "Hansen", "ole.hansen@firma.no", "Engineering", ""], ANNA_ROW])
    plan = plan_import(review, seeded_repo, settings(delete_missing=True))
    renamed = [w for w in plan.warnings if w.code == "looks_renamed"]
    assert [("ole.hansen@firma.no", "ole@firma.no")] == [(w.email, w.suggestion) for w in renamed]


@pytest.mark.parametrize(
    ("new", "existing"),
    [
        ("Slaes", "Sales"),
        ("sales", "Sales"),
        ("Okonomi", "Økonomi"),
        ("SalesNordic", "Sales Nordic"),
        ("Enginering", "Engineering"),
    ],
)
def test_similar_department_is_flagged(new: str, existing: str) -> None:
    """A new department close to an existing one (case, accents, spacing, typo) is flagged."""
    repo = InMemoryUserRepository(departments={existing})
    plan = plan_import(make_review([["A", "B", "a@b.no", new, ""]]), repo)
    flagged = [(w.code, w.name, w.suggestion) for w in plan.warnings]
    assert [("similar_name", " ".join(new.split()), existing)] == flagged


@pytest.mark.parametrize(
    ("new", "existing"), [("group-51", "group-50"), ("HR", "IT"), ("Oslo", "Bergen")]
)
def test_distinct_names_are_not_flagged(new: str, existing: str) -> None:
    """Names that differ in digits, short names and unrelated names are not flagged."""
    repo = InMemoryUserRepository(groups={existing})
    plan = plan_import(make_review([["A", "B", "a@b.no", "S", new]]), repo)
    assert [] == [w for w in plan.warnings if w.name == new]


def test_similar_group_is_flagged_against_other_new_groups(empty_repo) -> None:  # type: ignore[no-untyped-def]
    """Two new groups that differ only in case are flagged too."""
    plan = plan_import(
        make_review([["A", "B", "a@b.no", "S", "Tech, tech"], ["C", "D", "c@d.no", "S", "TECH"]]),
        empty_repo,
    )
    assert ["similar_name"] == [w.code for w in plan.warnings]


def test_plan_records_the_version_and_is_pure(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """The plan records the store's version, and planning changes nothing in the store."""
    before = seeded_repo.snapshot()
    plan = plan_import(make_review([NEW_ROW]), seeded_repo, settings(delete_missing=True))
    assert before.version == plan.base_version
    assert before is seeded_repo.snapshot()


def test_plan_against_a_snapshot(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """plan_import takes a snapshot as well as a repository."""
    plan = plan_import(make_review([NEW_ROW]), seeded_repo.snapshot())
    assert 1 == plan.summary()["create"]


def test_summary_lists_every_action(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """The summary counts every action, zero included, and the new groups and departments."""
    plan = plan_import(make_review([NEW_ROW]), seeded_repo)
    assert {
        "create": 1,
        "update": 0,
        "unchanged": 0,
        "skip": 0,
        "delete": 0,
        "new_groups": 0,
        "new_departments": 0,
    } == plan.summary()


def test_to_frame_is_tidy(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """to_frame has one row per user with before/after columns and readable groups."""
    plan = plan_import(make_review([[*ANNA_ROW[:4], "Bergen"], NEW_ROW]), seeded_repo)
    frame = plan.to_frame()
    assert ["update", "create"] == sorted(frame["action"], reverse=True)
    anna = frame[frame["email"] == "Anna.Berg@firma.no"].iloc[0]
    assert ("Oslo", "Bergen, Oslo", "groups") == (
        anna["before_groups"],
        anna["after_groups"],
        anna["changed"],
    )
    assert {"before_first_name", "after_attributes"} <= set(frame.columns)


def test_diff_is_per_field(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """diff gives one row per changed field of each update."""
    plan = plan_import(
        make_review([["Anne", "Berg", "anna.berg@firma.no", "Marketing", "Bergen"]]), seeded_repo
    )
    diff = plan.diff()
    assert [
        ("first_name", "Anna", "Anne"),
        ("department", "Sales", "Marketing"),
        ("groups", ["Oslo"], ["Bergen", "Oslo"]),
    ] == list(zip(diff["field"], diff["before"], diff["after"], strict=True))


def test_indented_json_has_one_entry_per_line(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """Indented, a saved plan is the same JSON, with each entry on a line of its own."""
    plan = plan_import(make_review([ANNA_ROW, NEW_ROW]), seeded_repo, settings(delete_missing=True))
    text = plan.to_json(indent=2)
    assert json.loads(plan.to_json()) == json.loads(text)
    entry_lines = [line for line in text.splitlines() if line.startswith('    {"action": ')]
    assert len(plan.entries) == len(entry_lines) > 2
    empty = plan_import(make_review([]), InMemoryUserRepository())
    assert json.loads(empty.to_json()) == json.loads(empty.to_json(indent=2))


def test_json_round_trip(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """A plan saved as JSON reads back with the same entries, settings and version."""
    plan = plan_import(make_review([ANNA_ROW, NEW_ROW]), seeded_repo, settings(delete_missing=True))
    back = Plan.from_json(plan.to_json(indent=2))
    assert plan.entries == back.entries
    assert (plan.settings, plan.base_version, plan.warnings) == (
        back.settings,
        back.base_version,
        back.warnings,
    )
    assert plan.to_frame().equals(back.to_frame())


def test_saved_entries_are_each_users_to_dict(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """The JSON is written from the frame, and says exactly what the entries' users say."""
    plan = plan_import(make_review([ANNA_ROW, NEW_ROW]), seeded_repo, settings(delete_missing=True))
    expected = [
        {
            "action": e.action,
            "email": e.email,
            "row": e.row,
            "reason": e.reason,
            "changed": list(e.changed),
            "before": e.before.to_dict() if e.before else None,
            "after": e.after.to_dict() if e.after else None,
        }
        for e in plan.entries
    ]
    assert expected == json.loads(plan.to_json())["entries"]


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "{}",
        json.dumps({"format": "userimport.plan", "format_version": 99}),
        json.dumps({"format": "userimport.plan", "format_version": 1}),
    ],
)
def test_bad_saved_plans(text: str) -> None:
    """Text that is not a saved plan gives a PlanError, never a KeyError or JSONDecodeError."""
    with pytest.raises(PlanError):
        Plan.from_json(text)


def test_html_and_text_views(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """The HTML repr and describe() show the summary, warnings and changes, escaped."""
    plan = plan_import(
        make_review([["<b>Anne</b>", "Berg", "anna.berg@firma.no", "Sales", ""]]), seeded_repo
    )
    html = plan._repr_html_()
    assert "&lt;b&gt;Anne&lt;/b&gt;" in html
    assert "<b>Anne" not in html
    assert "update 1" in plan.describe()


def test_store_admin_and_attributes_survive_an_update(empty_repo) -> None:  # type: ignore[no-untyped-def]
    """An update keeps what the file does not mention: admin rights and attributes."""
    repo = InMemoryUserRepository([ADMIN, ANNA])
    plan = plan_import(make_review([["Bo", "Ss", "boss@firma.no", "HR", ""]]), repo)
    e = entry(plan, "boss@firma.no")
    assert (True, {"Leaders"}) == (e.after.is_admin, set(e.after.groups))


# -- mirror mode never deletes someone because of a typo or a broken file (#11) ------------

MIRROR = ImportSettings(delete_missing=True)


def people(n: int) -> InMemoryUserRepository:
    """A store of ``n`` plain users, u0@firma.no ... (no admins)."""
    return InMemoryUserRepository(
        [User(email=f"u{i}@firma.no", first_name="U", last_name=f"N{i}") for i in range(n)]
    )


def rows_for(n: int) -> list[list[str]]:
    """File rows for the users u0 ... u(n-1) of :func:`people`."""
    return [["U", f"N{i}", f"u{i}@firma.no", "Sales", ""] for i in range(n)]


def test_plan_records_the_store_size(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """plan_import records how many users the store held, and the saved plan keeps it."""
    plan = plan_import(make_review([NEW_ROW]), seeded_repo)
    assert 3 == plan.store_users
    assert 3 == Plan.from_json(plan.to_json()).store_users


def test_relative_deletion_limit_blocks_the_plan() -> None:
    """Deleting more than 10 % of the store (by default) blocks the plan; raising it unblocks."""
    repo = people(20)
    plan = plan_import(make_review(rows_for(17)), repo, MIRROR)
    assert 3 == plan.summary()["delete"]
    assert 1 == len(plan.blocked)
    assert "max_delete_fraction" in plan.blocked[0]
    limit = [w for w in plan.warnings if w.code == "deletion_limit"]
    assert [plan.blocked[0]] == [w.message for w in limit]
    ok = plan_import(
        make_review(rows_for(17)), repo, attrs.evolve(MIRROR, max_delete_fraction=0.15)
    )
    assert ((), []) == (ok.blocked, [w for w in ok.warnings if w.code == "deletion_limit"])
    assert () == plan_import(make_review(rows_for(18)), repo, MIRROR).blocked


def test_relative_deletion_limit_rounds_up_and_allows_one_user() -> None:
    """The share is rounded up and never below one user, so a small store can lose one person."""
    assert () == plan_import(make_review(rows_for(2)), people(3), MIRROR).blocked
    assert plan_import(make_review(rows_for(1)), people(3), MIRROR).blocked
    assert () == plan_import(make_review(rows_for(9)), people(11), MIRROR).blocked  # 2 of 11


def test_relative_deletion_limit_can_be_turned_off() -> None:
    """max_delete_fraction=None leaves only the absolute limit."""
    off = attrs.evolve(MIRROR, max_delete_fraction=None)
    assert () == plan_import(make_review(rows_for(1)), people(10), off).blocked


def test_default_relative_limit_is_ten_percent() -> None:
    """The default max_delete_fraction is 0.1, documented in docs/planning.md."""
    assert 0.1 == ImportSettings().max_delete_fraction


def test_a_zero_width_space_in_an_email_neither_holds_nor_deletes(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """An email with a zero-width space inside is cleaned (with a warning): its user stays."""
    review = make_review([["Anna", "Berg", "anna.be\u200brg@firma.no", "Sales", ""], OLE_ROW])
    plan = plan_import(review, seeded_repo, MIRROR)
    assert ((), ()) == (plan.holds, plan.changeset().delete)
    assert "invisible_character" in set(review.issues["code"])


UNREADABLE = [
    pytest.param("anna.berg@firma", id="no-tld"),
    pytest.param("anna.bergfirma.no", id="no-at"),
    pytest.param("anna.berg@@firma.no", id="two-ats"),
    pytest.param("anna.berg@firma..no", id="double-dot"),
    pytest.param("anna berg@firma.no", id="space"),
    pytest.param("anna.berg@firma,no", id="comma"),
    pytest.param("", id="empty"),
]


@pytest.mark.parametrize("email", UNREADABLE)
def test_unreadable_email_holds_mirror_mode(seeded_repo, email: str) -> None:  # type: ignore[no-untyped-def]
    """A row whose email cannot be read holds mirror mode: nobody is deleted, the row is named."""
    review = make_review([["Anna", "Berg", email, "Sales", ""], OLE_ROW])
    plan = plan_import(review, seeded_repo, MIRROR)
    assert () == plan.changeset().delete
    assert 0 == plan.summary()["delete"]
    assert 1 == len(plan.holds)
    assert plan.holds == plan.blocked
    assert plan.holds[0].startswith("row 2: the email ")
    assert "Anna.Berg@firma.no (same name" in plan.holds[0]
    found = [(w.row, w.email, w.suggestion) for w in plan.warnings if w.code == "unreadable_email"]
    assert [(2, email, "Anna.Berg@firma.no")] == found
    kept = entry(plan, "anna.berg@firma.no")
    assert ("skip", None) == (kept.action, kept.after)


@pytest.mark.parametrize(
    ("email", "why"),
    [
        ("anna.berg@firma", "email cut short"),
        ("anna.bergfirma.no", "email 1 edit(s) away"),
        ("anna.berg@firma..no", "email 1 edit(s) away"),
        ("anna.berg @firma.no", "same email"),
        ("anna.berg@firma,no", "email 1 edit(s) away"),
    ],
)
def test_unreadable_email_finds_the_user_by_email(seeded_repo, email: str, why: str) -> None:  # type: ignore[no-untyped-def]
    """A row with another name is matched to a stored user by an email a small edit away."""
    review = make_review([["Someone", "Else", email, "Sales", ""], OLE_ROW])
    plan = plan_import(review, seeded_repo, MIRROR)
    found = [(w.suggestion, w.message) for w in plan.warnings if w.code == "unreadable_email"]
    assert ["Anna.Berg@firma.no"] == [s for s, _ in found]
    assert f"(may be: Anna.Berg@firma.no ({why}))" in plan.holds[0]


def test_unreadable_email_of_nobody_still_holds(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """A broken row that looks like no stored user still holds the plan: it may be anyone."""
    review = make_review([["Kari", "Dahl", "kari", "Sales", ""], ANNA_ROW, OLE_ROW])
    plan = plan_import(
        review, seeded_repo, attrs.evolve(MIRROR, delete_admins=True, max_delete_fraction=None)
    )
    assert () == plan.changeset().delete
    assert "(may be: none looks like it)" in plan.holds[0]
    found = [(w.code, w.row, w.suggestion) for w in plan.warnings]
    assert [("unreadable_email", 2, None)] == found


def test_unreadable_email_with_nobody_to_delete_does_not_hold(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """When mirror mode would delete nobody, a broken row is just left out, as in any mode."""
    review = make_review([["Kari", "Dahl", "kari@firma", "Sales", ""], ANNA_ROW, OLE_ROW])
    plan = plan_import(review, seeded_repo, MIRROR)
    assert ((), ()) == (plan.holds, plan.changeset().delete)


def test_unreadable_email_does_not_hold_without_mirror_mode(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """Without delete_missing nobody is deleted, so a broken row holds nothing."""
    plan = plan_import(make_review([["Anna", "Berg", "anna.berg@firma", "Sales", ""]]), seeded_repo)
    assert () == plan.holds


def test_duplicate_email_is_read_and_does_not_hold(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """A repeated email is still an address: its user is present and nothing is held."""
    plan = plan_import(make_review([ANNA_ROW, ANNA_ROW, NEW_ROW]), seeded_repo, MIRROR)
    assert () == plan.holds
    assert ("ole@firma.no",) == plan.changeset().delete


def test_fixing_the_row_unblocks(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """Editing the broken email in the review lifts the hold, and its user is kept."""
    review = make_review([["Anna", "Berg", "anna.berg@firma", "Sales", ""], NEW_ROW])
    assert plan_import(review, seeded_repo, MIRROR).holds
    fixed = review.edit(2, email="anna.berg@firma.no").revalidate()
    plan = plan_import(fixed, seeded_repo, attrs.evolve(MIRROR, max_delete_fraction=None))
    assert () == plan.blocked
    assert ("ole@firma.no",) == plan.changeset().delete


def test_skipping_the_row_unblocks_with_a_warning(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """Skipping the broken row on purpose lifts the hold; the look-alike's deletion is flagged."""
    review = make_review([["Anna", "Berg", "anna.berg@firma", "Sales", ""], OLE_ROW]).skip(2)
    plan = plan_import(review, seeded_repo, MIRROR)
    assert () == plan.blocked
    assert ("Anna.Berg@firma.no",) == plan.changeset().delete
    flagged = [(w.code, w.email, w.row) for w in plan.warnings]
    assert [("deleted_looks_like_skipped", "Anna.Berg@firma.no", 2)] == flagged
    assert "skipped in review" in plan.warnings[0].message


def test_deleting_a_user_like_an_invalid_row_is_flagged(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """A row left out for another error, whose email is near a deleted user's, is flagged too."""
    review = make_review([["", "Berg", "anna.bergg@firma.no", "Sales", ""], OLE_ROW])
    plan = plan_import(review, seeded_repo, MIRROR)
    assert () == plan.holds
    flagged = [(w.code, w.email, w.suggestion) for w in plan.warnings]
    assert [("deleted_looks_like_skipped", "Anna.Berg@firma.no", "anna.bergg@firma.no")] == flagged


def test_many_unreadable_rows_are_counted(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """Past the first 50, broken rows are counted in one hold rather than named."""
    broken = [["A", f"B{i}", f"a{i}", "Sales", ""] for i in range(60)]
    plan = plan_import(make_review([*broken, ANNA_ROW]), seeded_repo, MIRROR)
    assert 51 == len(plan.holds)
    assert "and 10 more rows whose email cannot be read as an address" == plan.holds[-1]
    assert 50 == len([w for w in plan.warnings if w.code == "unreadable_email"])


@pytest.mark.parametrize(
    "rows",
    [
        pytest.param([], id="header-only"),
        pytest.param(
            [["Anna", "Berg", "", "Sales", ""], ["Ole", "Hansen", "", "HR", ""]], id="no-emails"
        ),
        pytest.param([["", "Dahl", "kari@firma.no", "Sales", ""]], id="every-row-invalid"),
        pytest.param(
            [
                ["Berg", "anna.berg@firma.no", "Sales", "Oslo", ""],
                ["Hansen", "ole@firma.no", "HR", "", ""],
            ],
            id="columns-shifted",
        ),
    ],
)
def test_file_without_a_valid_row_holds_mirror_mode(seeded_repo, rows: list[list[str]]) -> None:  # type: ignore[no-untyped-def]
    """Mirror mode refuses a file with no valid row: nobody is deleted, and the hold says why."""
    plan = plan_import(make_review(rows), seeded_repo, MIRROR)
    assert () == plan.changeset().delete
    assert plan.holds[0].startswith("the file has no valid row")
    assert plan.holds == plan.blocked


def test_file_whose_rows_are_all_skipped_holds_mirror_mode(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """Skipping every row leaves no valid row: mirror mode is held too."""
    review = make_review([NEW_ROW]).skip(2)
    assert plan_import(review, seeded_repo, MIRROR).holds[0].startswith("the file has no valid row")


def test_holds_survive_json(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """A held plan saved and read back is still held, with its warnings' rows."""
    review = make_review([["Anna", "Berg", "anna.berg@firma", "Sales", ""], OLE_ROW])
    plan = plan_import(review, seeded_repo, MIRROR)
    back = Plan.from_json(plan.to_json())
    assert plan.holds == back.holds
    assert plan.warnings == back.warnings


def test_views_show_holds_and_candidates(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """describe() and the notebook view show why the plan is held and who the row may be."""
    review = make_review([["Anna", "Berg", "anna.berg@firma", "Sales", ""], OLE_ROW])
    plan = plan_import(review, seeded_repo, MIRROR)
    text, html = plan.describe(), plan._repr_html_()
    for shown in (text, html):
        assert "row 2: the email " in shown
        assert "anna.berg@firma" in shown
        assert "Anna.Berg@firma.no (same name" in shown
    assert "Blocked: row 2" in text


def test_admin_column_for_a_new_user_warns(empty_repo) -> None:  # type: ignore[no-untyped-def]
    """An admin 'yes' for a new user without admin_rights is ignored with a warning naming them."""
    review = make_review(
        [
            [*NEW_ROW[:4], "yes"],
            ["Per", "Lie", "per@firma.no", "HR", "no"],
            ["Liv", "Ås", "liv@firma.no", "HR", "Ja"],
        ],
        header=["F", "L", "E", "D", "Admin"],
        columns={0: "first_name", 1: "last_name", 2: "email", 3: "department", 4: "is_admin"},
    )
    plan = plan_import(review, empty_repo)
    flagged = [(w.code, w.email) for w in plan.warnings]
    assert [("admin_ignored", "kari@firma.no"), ("admin_ignored", "liv@firma.no")] == flagged
    assert "kari@firma.no" in plan.warnings[0].message
    assert not any(e.after.is_admin for e in plan.entries if e.after)
    assert () == plan_import(review, empty_repo, settings(admin_rights=True)).warnings


def test_views_show_at_most_limit_warnings_of_a_code(empty_repo) -> None:  # type: ignore[no-untyped-def]
    """An admin column flagging many users shows `limit` warnings and counts the rest."""
    rows = [["A", f"B{i}", f"a{i}@firma.no", "S", "yes"] for i in range(60)]
    review = make_review(
        rows,
        header=["F", "L", "E", "D", "Admin"],
        columns={0: "first_name", 1: "last_name", 2: "email", 3: "department", 4: "is_admin"},
    )
    plan = plan_import(review, empty_repo)
    assert 60 == len(plan.warnings)
    text = plan.describe(limit=5)
    assert 5 == text.count("Warning: the file would make")
    assert "... and 55 more admin_ignored warnings" in text
    assert "... and 10 more admin_ignored warnings" in plan._repr_html_()


DATA = Path(__file__).parent / "data"


def test_a_decomposed_file_of_a_composed_store_plans_nothing(tmp_path: Path) -> None:
    """The NFD copy of an imported NFC file (saved on a Mac) is unchanged: no user, no group."""
    repo = SqlUserRepository(f"sqlite:///{tmp_path / 'users.db'}")
    import_file(DATA / "identity_nfc.csv", repo, dry_run=False)
    plan = import_file(DATA / "identity_nfd.csv", repo)
    assert {"unchanged": 4} == {k: v for k, v in plan.summary().items() if v}
    assert (frozenset(), frozenset(), ()) == (plan.new_groups, plan.new_departments, plan.warnings)
    assert plan.is_empty
    repo.close()


def test_straße_and_strasse_are_two_users(empty_repo) -> None:  # type: ignore[no-untyped-def]
    """One file with straße@ and strasse@ creates two users; with one stored, the other is new."""
    rows = [["A", "B", "straße@firma.de", "S", ""], ["C", "D", "strasse@firma.de", "S", ""]]
    plan = plan_import(make_review(rows), empty_repo)
    assert ["create", "create"] == [e.action for e in plan.entries]
    apply_plan(plan_import(make_review(rows[:1]), empty_repo), empty_repo)
    again = plan_import(make_review(rows), empty_repo)
    assert ("unchanged", "create") == (
        entry(again, "STRAßE@firma.de").action,
        entry(again, "strasse@firma.de").action,
    )


def test_a_new_email_that_looks_like_a_stored_one_is_flagged(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """``оle@`` with a Cyrillic ``о`` is created, with a warning naming the stored ``ole@``."""
    plan = plan_import(make_review([["O", "H", "\u043ele@firma.no", "S", ""]]), seeded_repo)
    assert ["confusable_email"] == [w.code for w in plan.warnings]
    warning = plan.warnings[0]
    assert ("\u043ele@firma.no", "ole@firma.no") == (warning.email, warning.suggestion)


def test_a_new_ascii_email_that_looks_like_a_stored_one_is_flagged() -> None:
    """The other way round: a stored ``pаul@`` (Cyrillic ``а``) flags a new ASCII ``paul@``."""
    repo = InMemoryUserRepository([User(email="p\u0430ul@firma.no", first_name="P")])
    plan = plan_import(make_review([["P", "Q", "PAUL@firma.no", "S", ""]]), repo)
    assert [("confusable_email", "PAUL@firma.no", "p\u0430ul@firma.no")] == [
        (w.code, w.email, w.suggestion) for w in plan.warnings
    ]


def test_plain_new_emails_are_not_flagged(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """ASCII against ASCII is not a look-alike case (``0le@`` is a typo, not a homoglyph)."""
    plan = plan_import(make_review([["O", "H", "0le@firma.no", "S", ""]]), seeded_repo)
    assert [] == [w.code for w in plan.warnings if w.code == "confusable_email"]


ACCENTED = (
    st.lists(
        st.sampled_from([*"aeioun AEIOUN", "e\u0301", "u\u0308", "a\u030a", "n\u0303", "A\u0300"]),
        min_size=1,
        max_size=8,
    )
    .map("".join)
    .filter(lambda t: t.strip() and "  " not in t)
)


@hypothesis_settings(max_examples=40, deadline=None)
@given(ACCENTED, ACCENTED)
def test_nfc_and_nfd_spellings_are_one_identity_and_one_group(name: str, group: str) -> None:
    """A user and group stored composed are the same user and group in a decomposed file."""
    nfc, nfd = (unicodedata.normalize(f, name) for f in ("NFC", "NFD"))
    g_nfc, g_nfd = (unicodedata.normalize(f, group) for f in ("NFC", "NFD"))
    local = "".join(c for c in unicodedata.normalize("NFC", name) if c.isalpha()) or "x"
    repo = InMemoryUserRepository(
        [
            User(
                email=f"{local}@firma.no",
                first_name=nfc,
                last_name="L",
                department=g_nfc,
                groups={g_nfc},
            )
        ]
    )
    email = unicodedata.normalize("NFD", f"{local}@firma.no").upper()
    plan = plan_import(make_review([[nfd, "L", email, g_nfd, g_nfd]]), repo)
    assert {"unchanged": 1} == {k: v for k, v in plan.summary().items() if v}
    assert (frozenset(), frozenset()) == (plan.new_groups, plan.new_departments)


class OneSnapshotOnly(InMemoryUserRepository):
    """A store that counts its snapshots and refuses every other call."""

    def __init__(self, users: list[User]) -> None:
        super().__init__(users)
        self.snapshots = 0

    def snapshot(self) -> Snapshot:
        """The snapshot, counted."""
        self.snapshots += 1
        return super().snapshot()

    def commit(self, *args: object, **kwargs: object) -> str:
        """Planning never writes."""
        raise AssertionError("plan_import wrote to the store")


def test_plan_is_a_pure_function_of_review_snapshot_and_settings() -> None:
    """Given a snapshot, plan_import reads nothing else; given a store, one snapshot."""
    store = OneSnapshotOnly([ANNA, ADMIN, OLE])
    review = make_review([ANNA_ROW, NEW_ROW])
    snap = store.snapshot()
    from_snapshot = plan_import(review, snap, ImportSettings(delete_missing=True))
    assert 1 == store.snapshots
    from_store = plan_import(review, store, ImportSettings(delete_missing=True))
    assert 2 == store.snapshots
    assert from_snapshot.to_frame().equals(from_store.to_frame())
    assert from_snapshot.base_version == from_store.base_version
    again = plan_import(review, snap, ImportSettings(delete_missing=True))
    assert from_snapshot.to_json() == again.to_json()


@given(st.lists(st.tuples(users(index=0), users(index=0)), min_size=1, max_size=6))
@hypothesis_settings(max_examples=40, deadline=None)
def test_update_rule_is_one_for_imports_and_actions(pairs: list[tuple[User, User]]) -> None:
    """The column-wise rule plan_import uses and the single-user one agree on every user."""
    import numpy as np

    from userimport._planrules import compare, compare_users
    from userimport.plan import FIELDS

    def column(side: int) -> dict[str, object]:
        out = {}
        for field in FIELDS:
            values = np.empty(len(pairs), dtype=object)
            values[:] = [getattr(pair[side], field) for pair in pairs]
            out[field] = values
        return out

    actions, changed = compare(column(0), column(1))
    differ = [tuple(f for f in FIELDS if getattr(b, f) != getattr(a, f)) for b, a in pairs]
    expected = [("update" if fields else "unchanged", fields) for fields in differ]
    assert expected == [compare_users(before, after) for before, after in pairs]
    assert expected == list(zip(actions.tolist(), changed.tolist(), strict=True))


any_text = st.text(max_size=5)  # quotes, backslashes, control characters, any plane


@st.composite
def odd_users(draw: st.DrawFn, email: str) -> User:
    """A user whose every text may need escaping in JSON."""
    return User(
        email=email,
        first_name=draw(any_text),
        last_name=draw(any_text),
        department=draw(st.one_of(st.none(), any_text)),
        groups=draw(st.frozensets(any_text, max_size=3)),
        is_admin=draw(st.booleans()),
        attributes=draw(st.dictionaries(any_text, any_text, max_size=3)),
    )


@st.composite
def odd_plans(draw: st.DrawFn) -> Plan:
    """A plan of every action whose texts may need escaping in JSON."""
    from userimport.plan import FIELDS, PlanEntry

    emails = draw(st.lists(any_text.map(lambda t: f"{t}@x"), unique=True, max_size=8))
    entries = []
    for email in emails:
        action = draw(st.sampled_from(["create", "update", "unchanged", "skip", "delete"]))
        user, other = draw(odd_users(email)), draw(odd_users(email))
        entries.append(
            PlanEntry(
                action=action,
                email=email,
                row=draw(st.one_of(st.none(), st.integers(2, 10**6))),
                reason=draw(any_text),
                changed=tuple(f for f in FIELDS if getattr(user, f) != getattr(other, f))
                if action == "update"
                else (),
                before=None if action == "create" else user,
                after=None if action == "delete" else other if action == "update" else user,
            )
        )
    return Plan.from_entries(entries, base_version="v1")


@st.composite
def saved_plans(draw: st.DrawFn) -> Plan:
    """A plan of every action, with any text in its reasons and attributes."""
    from tests import strategies as ps
    from userimport.plan import PlanEntry

    any_text = st.text(max_size=6)
    entries = []
    for i, user in enumerate(draw(ps.stores())):
        user = attrs.evolve(user, attributes=draw(st.dictionaries(any_text, any_text, max_size=2)))
        other = attrs.evolve(user, first_name=draw(ps.names), department=None, groups=())
        action = draw(st.sampled_from(["create", "update", "unchanged", "skip", "delete"]))
        entries.append(
            PlanEntry(
                action=action,
                email=user.email,
                row=draw(st.one_of(st.none(), st.integers(2, 10**6))),
                reason=draw(any_text),
                changed=("first_name", "department", "groups") if action == "update" else (),
                before=None if action == "create" else user,
                after=None if action == "delete" else other if action == "update" else user,
            )
        )
        assert i < 20
    return Plan.from_entries(entries, base_version="v1", source=draw(any_text))


@given(plan=saved_plans(), signed=st.booleans(), indent=st.integers(1, 3))
@hypothesis_settings(max_examples=40, deadline=None)
def test_write_json_writes_to_json_text(plan: Plan, signed: bool, indent: int) -> None:
    """write_json writes the characters to_json gives, a few entries at a time."""
    import tempfile

    import userimport.plan as plan_module

    secret = b"k" * 32 if signed else None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "plan.json"
        saved, plan_module._SLICE = plan_module._SLICE, 3
        try:
            plan.write_json(path, indent=indent, secret=secret)
        finally:
            plan_module._SLICE = saved
        assert plan.to_json(indent=indent, secret=secret) == path.read_text(encoding="utf-8")


def reference_json(plan: Plan, indent: int | None, secret: bytes | None) -> str:
    """to_json as it was written before issue 17: json.dumps of every entry's dict."""
    from userimport._plansaved import saved_entries
    from userimport._saved import content_hash, seal

    head = plan._saved_head()
    entries = saved_entries(plan.frame)
    if secret is not None:
        head["digest"] = seal(secret, content_hash({**head, "entries": entries}))
    if indent is None or not entries:
        return json.dumps({**head, "entries": entries}, indent=indent, ensure_ascii=False)
    pad = " " * indent
    lines = ",\n".join(f"{pad}{pad}{json.dumps(e, ensure_ascii=False)}" for e in entries)
    opened = json.dumps(head, indent=indent, ensure_ascii=False).removesuffix("\n}")
    return f'{opened},\n{pad}"entries": [\n{lines}\n{pad}]\n}}'


@given(
    plan=st.one_of(odd_plans(), saved_plans()),
    signed=st.booleans(),
    indent=st.one_of(st.none(), st.integers(0, 3)),
)
@hypothesis_settings(max_examples=60, deadline=None)
def test_to_json_is_json_dumps_of_the_entries(plan: Plan, signed: bool, indent: int | None) -> None:
    """to_json, made column-wise, is the text json.dumps gives of every entry and its digest."""
    secret = b"k" * 32 if signed else None
    assert reference_json(plan, indent, secret) == plan.to_json(indent=indent, secret=secret)


def test_to_json_of_values_of_another_type() -> None:
    """A frame the Arrow encoder leaves to json still gives json.dumps's text."""
    plan = Plan.from_entries(
        [plan_entry("create", after=ANNA), plan_entry("delete", before=OLE)], base_version="v"
    )
    frame = plan.frame.copy()
    frame.loc[0, "after_first_name"] = 7
    odd = attrs.evolve(plan, frame=frame)
    for indent in (None, 1):
        assert reference_json(odd, indent, b"s" * 32) == odd.to_json(
            indent=indent, secret=b"s" * 32
        )


def test_write_json_of_values_of_another_type(tmp_path: Path) -> None:
    """A value of an unexpected type in the frame is written as json.dumps writes it."""
    plan = Plan.from_entries(
        [plan_entry("create", after=ANNA), plan_entry("delete", before=OLE)], base_version="v"
    )
    frame = plan.frame.copy()
    frame.loc[0, "after_first_name"] = 7  # not text: the fast encoder refuses, json decides
    odd = attrs.evolve(plan, frame=frame)
    odd.write_json(tmp_path / "p.json", secret=b"s" * 32)
    assert odd.to_json(indent=1, secret=b"s" * 32) == (tmp_path / "p.json").read_text("utf-8")


def test_write_json_leaves_the_collector_as_it_was(tmp_path: Path) -> None:
    """The garbage collector, held off while writing entries, runs again after, even on errors."""
    import gc

    plan = Plan.from_entries([plan_entry("create", after=ANNA)], base_version="v")
    bad = Plan.from_entries([plan_entry("create", after=ANNA, reason="\ud800")], base_version="v")
    assert gc.isenabled()
    plan.write_json(tmp_path / "p.json", secret=b"s" * 32)
    plan.to_json(secret=b"s" * 32)
    with pytest.raises(PlanError):
        bad.write_json(tmp_path / "q.json", secret=b"s" * 32)
    assert gc.isenabled()


def test_write_json_refuses_to_sign_a_lone_surrogate(tmp_path: Path) -> None:
    """Text that is not valid Unicode cannot be signed by write_json, as by to_json; no file."""
    plan = Plan.from_entries([plan_entry("create", after=ANNA, reason="\ud800")], base_version="v")
    with pytest.raises(PlanError, match="not valid Unicode"):
        plan.to_json(secret=b"s" * 32)
    with pytest.raises(PlanError, match="not valid Unicode"):
        plan.write_json(tmp_path / "p.json", secret=b"s" * 32)
    assert not (tmp_path / "p.json").exists()  # no partial plan left behind


@given(
    plan=st.one_of(odd_plans(), saved_plans()),
    indent=st.integers(1, 3),
    combinations=st.sampled_from([1, 4096]),
)
@hypothesis_settings(max_examples=60, deadline=None)
def test_saved_arrays_are_saved_lines(plan: Plan, indent: int, combinations: int) -> None:
    """Arrow's column-wise entries are byte for byte the ones written an entry at a time."""
    from userimport import _planwrite
    from userimport._plansaved import saved_lines
    from userimport._planwrite import array_bytes, saved_arrays

    gap = ",\n" + " " * 2 * indent
    saved, _planwrite._COMBINATIONS = _planwrite._COMBINATIONS, combinations
    try:
        arrays = saved_arrays(plan.frame, gap)
    finally:
        _planwrite._COMBINATIONS = saved
    assert arrays is not None
    spaced, canonical = saved_lines(plan.frame)
    assert "".join(gap + line for line in spaced) == bytes(array_bytes(arrays[0])).decode()
    assert "".join("," + line for line in canonical) == bytes(array_bytes(arrays[1])).decode()


def test_saved_arrays_of_values_as_saved_lines_reads_them() -> None:
    """Unsorted groups, an empty department and whole floats as rows are written as before."""
    from userimport._plansaved import saved_lines
    from userimport._planwrite import array_bytes, saved_arrays

    plan = Plan.from_entries(
        [plan_entry("delete", before=OLE, row=4), plan_entry("create", after=ANNA)],
        base_version="v",
    )
    frame = plan.frame.copy()
    frame["row"] = [4.0, float("nan")]
    frame.loc[0, "before_groups"] = ("Tech", "Bergen")
    frame.loc[0, "before_department"] = ""
    arrays = saved_arrays(frame, ",")
    assert arrays is not None
    spaced, _ = saved_lines(frame)
    assert "".join("," + line for line in spaced) == bytes(array_bytes(arrays[0])).decode()
    assert '"row": 4, ' in spaced[0]
    assert '"department": null, "groups": ["Bergen", "Tech"]' in spaced[0]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("after_first_name", 7),
        ("after_first_name", float("nan")),
        ("after_last_name", None),
        ("after_department", 0),
        ("after_groups", ["Oslo"]),
        ("after_groups", None),
        ("after_groups", "Oslo"),
        ("after_is_admin", None),
        ("after_is_admin", 1),
        ("after_is_admin", float("nan")),
        ("after_attributes", "title"),
        ("after_attributes", None),
        ("after_attributes", {"b": "1", "a": "\n"}),
        ("changed", None),
        ("changed", "ab"),
        ("row", 2.5),
        ("row", float("nan")),
        ("row", True),
        ("reason", None),
        ("action", 3),
        ("email", None),
    ],
)
def test_saved_arrays_of_values_of_another_type(column: str, value: object) -> None:
    """A value not of its column's type is written as saved_lines writes it, or left to it."""
    from userimport._plansaved import saved_lines
    from userimport._planwrite import array_bytes, saved_arrays

    plan = Plan.from_entries([plan_entry("create", after=ANNA, row=3)], base_version="v")
    frame = plan.frame.copy()
    frame[column] = frame[column].astype(object)
    frame.at[0, column] = value
    arrays = saved_arrays(frame, ",")
    try:
        spaced, canonical = saved_lines(frame)
    except TypeError:
        assert None is arrays
        return
    if arrays is not None:
        assert "," + spaced[0] == bytes(array_bytes(arrays[0])).decode()
        assert "," + canonical[0] == bytes(array_bytes(arrays[1])).decode()


@given(plan=saved_plans())
@hypothesis_settings(max_examples=30, deadline=None)
def test_is_empty_is_the_change_sets(plan: Plan) -> None:
    """is_empty says what the change set says, without making the change set."""
    assert plan.changeset().is_empty == plan.is_empty


def plan_entry(action: str, **kw):  # type: ignore[no-untyped-def]
    from userimport.plan import PlanEntry

    user = kw.get("after") or kw.get("before")
    return PlanEntry(action=action, email=user.email, **kw)  # type: ignore[arg-type]


@given(
    st.lists(
        st.tuples(
            st.frozensets(st.sampled_from(["Alfa", "Beta", "Gamma", "Delta"]), max_size=3),
            st.frozensets(st.sampled_from(["Alfa", "Beta", "Gamma", "Delta"]), max_size=3),
        ),
        min_size=1,
        max_size=6,
    )
)
@hypothesis_settings(max_examples=40, deadline=None)
def test_groups_add_is_the_union_for_every_user(
    groups: list[tuple[frozenset[str], frozenset[str]]],
) -> None:
    """groups='add', column-wise: each user's groups become stored ∪ file; the change set agrees."""
    emails = [f"u{i}@firma.no" for i in range(len(groups))]
    store = InMemoryUserRepository(
        [
            User(email=e, first_name="A", last_name="B", department="Sales", groups=g)
            for e, (g, _) in zip(emails, groups, strict=True)
        ]
    )
    files = [",".join(sorted(f)) for _, f in groups]
    rows = [["A", "B", e, "Sales", f] for e, f in zip(emails, files, strict=True)]
    plan = plan_import(make_review(rows), store)
    after = plan.frame.set_index("email")["after_groups"]
    assert [tuple(sorted(g | f)) for g, f in groups] == [after[e] for e in emails]
    changes = plan.changeset()
    adding = [e for e, (g, f) in zip(emails, groups, strict=True) if not f <= g]
    assert adding == [u.email for u in changes.update]
    assert [g | f for g, f in groups if not f <= g] == [u.groups for u in changes.update]


def test_change_set_keys_of_non_ascii_emails() -> None:
    """Keys the change set carries from the plan are email_key's, beyond ASCII too."""
    from userimport.model import email_key

    stored = User(email="\u00c5SE.Dahl@Firma.no", first_name="\u00c5se", last_name="Dahl")
    rows = [
        ["\u00c5se", "Dahl", "\u00e5se.dahl@firma.NO", "Sales", ""],
        ["Ida", "\u0130nce", "IDA.Ince@Firma.no", "Sales", ""],
    ]
    plan = plan_import(make_review(rows), InMemoryUserRepository([stored]))
    changes = plan.changeset()
    users = [*changes.create, *changes.update]
    assert 2 == len(users)
    assert [email_key(u.email) for u in users] == [u.key for u in users]

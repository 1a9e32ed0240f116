"""Applying plans: all or nothing, refusing stale plans, undo, guards and welcome emails."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import attrs
import pandas as pd
import pytest

from tests.conftest import ADMIN, ANNA, OLE, make_review
from userimport import (
    DeletionLimitError,
    ImportSettings,
    InMemoryUserRepository,
    Permissions,
    Plan,
    PlanError,
    RepositoryError,
    SettingsError,
    StalePlanError,
    User,
    apply_plan,
    plan_import,
)
from userimport.model import ChangeSet, Snapshot
from userimport.repository import plan_secret

NEW_ROW = ["Kari", "Dahl", "kari@firma.no", "Sales", "Oslo, Newsroom"]
ANNA_ROW = ["Anne", "Berg", "anna.berg@firma.no", "Marketing", "Bergen"]


class Recorder:
    """A notifier that records who it welcomed and fails for chosen addresses."""

    def __init__(self, fail: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.sent: list[str] = []
        self.fail = fail

    def send_welcome(self, user: User) -> None:
        if user.email in self.fail:
            raise ConnectionError("connection dropped")
        self.sent.append(user.email)


class FailingRepository:
    """Wraps a repository and fails every commit, after checking the version."""

    def __init__(self, inner: InMemoryUserRepository) -> None:
        self.inner = inner

    def snapshot(self) -> Snapshot:
        return self.inner.snapshot()

    def commit(self, changes: ChangeSet, *, expected_version: str) -> str:
        raise RepositoryError("disk full")


def test_apply_commits_the_plan(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """Applying creates, updates and deletes what the plan says, and returns counts and version."""
    plan = plan_import(
        make_review([NEW_ROW, ANNA_ROW]), seeded_repo, ImportSettings(delete_missing=True)
    )
    result = apply_plan(plan, seeded_repo)
    assert (1, 1, 1) == (result.created, result.updated, result.deleted)
    snap = seeded_repo.snapshot()
    assert result.version == snap.version != plan.base_version
    assert {"anna.berg@firma.no", "kari@firma.no", "boss@firma.no"} == set(snap.users)
    assert {"Newsroom", "Oslo", "Bergen"} <= snap.groups
    anna = snap.get("anna.berg@firma.no")
    assert anna is not None
    assert ("Anne", "Marketing", {"Bergen", "Oslo"}) == (
        anna.first_name,
        anna.department,
        set(anna.groups),
    )


def test_stale_plan_is_refused(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """A plan made before another change is refused with StalePlanError, and nothing changes."""
    plan = plan_import(make_review([NEW_ROW]), seeded_repo)
    apply_plan(plan_import(make_review([ANNA_ROW]), seeded_repo), seeded_repo)
    before = seeded_repo.snapshot()
    with pytest.raises(StalePlanError, match="plan again") as info:
        apply_plan(plan, seeded_repo)
    assert (plan.base_version, before.version) == (info.value.expected, info.value.actual)
    assert before is seeded_repo.snapshot()


def test_applying_twice_is_refused(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """The same plan cannot be applied twice: the first commit made it stale."""
    plan = plan_import(make_review([NEW_ROW]), seeded_repo)
    apply_plan(plan, seeded_repo)
    with pytest.raises(StalePlanError):
        apply_plan(plan, seeded_repo)


def test_undo_restores_the_store(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """The undo plan brings back deleted users with their groups and removes what was created."""
    before = seeded_repo.snapshot()
    plan = plan_import(
        make_review([NEW_ROW, ANNA_ROW]),
        seeded_repo,
        ImportSettings(
            delete_missing=True, delete_admins=True, groups="replace", max_delete_fraction=None
        ),
    )
    result = apply_plan(plan, seeded_repo)
    assert 2 == result.deleted
    apply_plan(result.undo, seeded_repo)
    assert before.state() == seeded_repo.snapshot().state()
    ole = seeded_repo.snapshot().get("ole@firma.no")
    assert ole is not None
    assert OLE.to_dict() == ole.to_dict()


def test_undo_survives_json(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """An undo plan saved to JSON and read back still restores the store."""
    before = seeded_repo.snapshot()
    result = apply_plan(plan_import(make_review([NEW_ROW]), seeded_repo), seeded_repo)
    saved = result.undo.to_json(secret=seeded_repo.plan_secret())
    apply_plan(Plan.from_json(saved), seeded_repo)
    assert before.state() == seeded_repo.snapshot().state()


def test_failing_commit_changes_nothing(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """A commit that fails leaves the store as it was, and no email goes out."""
    before = seeded_repo.snapshot()
    plan = plan_import(make_review([NEW_ROW]), seeded_repo, ImportSettings(send_welcome_email=True))
    notifier = Recorder()
    with pytest.raises(RepositoryError, match="disk full"):
        apply_plan(plan, FailingRepository(seeded_repo), notifier=notifier)
    assert before is seeded_repo.snapshot()
    assert [] == notifier.sent


def test_deletion_limit_refuses_to_apply() -> None:
    """A plan deleting more users than max_deletes raises DeletionLimitError and changes nothing."""
    repo = InMemoryUserRepository([User(email=f"u{i}@firma.no") for i in range(3)])
    plan = plan_import(
        make_review([NEW_ROW]), repo, ImportSettings(delete_missing=True, max_deletes=2)
    )
    with pytest.raises(DeletionLimitError) as info:
        apply_plan(plan, repo)
    assert (3, 2) == (info.value.deletes, info.value.limit)
    assert 3 == len(repo.snapshot())


def test_plan_made_here_is_applied_with_its_settings(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """A plan made in this process is applied with its settings as permissions: admin guard."""
    plan = plan_import(
        make_review([NEW_ROW]),
        seeded_repo,
        ImportSettings(delete_missing=True, delete_admins=True, max_delete_fraction=None),
    )
    tampered = attrs.evolve(
        plan, settings=ImportSettings(delete_missing=True, max_delete_fraction=None)
    )
    with pytest.raises(PlanError, match="admin"):
        apply_plan(tampered, seeded_repo)
    assert 3 == len(seeded_repo.snapshot())


def test_plan_made_here_grants_admin_only_if_its_settings_do(empty_repo) -> None:  # type: ignore[no-untyped-def]
    """A plan made here that grants admin rights is refused unless its settings allow it."""
    review = make_review(
        [[*NEW_ROW[:4], "yes"]],
        header=["F", "L", "E", "D", "Admin"],
        columns={0: "first_name", 1: "last_name", 2: "email", 3: "department", 4: "is_admin"},
    )
    plan = plan_import(review, empty_repo, ImportSettings(admin_rights=True))
    tampered = attrs.evolve(plan, settings=ImportSettings())
    with pytest.raises(PlanError, match="admin rights"):
        apply_plan(tampered, empty_repo)
    assert apply_plan(plan, empty_repo).created == 1
    kari = empty_repo.snapshot().get("kari@firma.no")
    assert kari is not None
    assert kari.is_admin


# -- saved plans are checked against the store, never trusted ------------------------------


class Unsigned:
    """A store without a plan secret: saved plans are checked against it, never signed."""

    def __init__(self, inner: InMemoryUserRepository) -> None:
        self.inner = inner

    def snapshot(self) -> Snapshot:
        return self.inner.snapshot()

    def commit(self, changes: ChangeSet, *, expected_version: str) -> str:
        return self.inner.commit(changes, expected_version=expected_version)


def saved(plan: Plan, repo: object, edit: Callable[[dict[str, Any]], object]) -> Plan:
    """``plan`` saved, edited as a text editor would, and read back."""
    data = json.loads(plan.to_json(secret=plan_secret(repo)))
    edit(data)
    return Plan.from_json(json.dumps(data))


def entry(data: dict[str, Any], email: str) -> dict[str, Any]:
    """The saved entry for ``email``."""
    found: dict[str, Any] = next(e for e in data["entries"] if e["email"] == email)
    return found


def grant_everything(data: dict[str, Any]) -> None:
    """Write every permission into a saved plan's settings."""
    data["settings"].update(
        admin_rights=True, delete_admins=True, max_deletes=None, max_delete_fraction=None
    )


def anna_update(repo: Any, **settings: Any) -> Plan:
    """A plan that renames Anna, made against ``repo``."""
    return plan_import(make_review([ANNA_ROW]), repo, ImportSettings(**settings))


def test_hand_edited_plan_cannot_grant_admin(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """A saved plan edited so that before and after say admin is refused: it is not the store."""
    store = Unsigned(seeded_repo)

    def both_sides(data: dict[str, Any]) -> None:
        e = entry(data, ANNA.email)
        e["before"]["is_admin"] = e["after"]["is_admin"] = True

    with pytest.raises(
        PlanError, match=r"before\.is_admin is True in the plan, False in the store"
    ):
        apply_plan(saved(anna_update(store), store, both_sides), store)

    def after_only(data: dict[str, Any]) -> None:
        entry(data, ANNA.email)["after"]["is_admin"] = True
        entry(data, ANNA.email)["changed"].append("is_admin")
        grant_everything(data)

    with pytest.raises(PlanError, match=r"grants admin rights of Anna.*--admin-rights"):
        apply_plan(saved(anna_update(store), store, after_only), store)
    anna = seeded_repo.snapshot().get(ANNA.email)
    assert anna is not None
    assert not anna.is_admin


def test_truthy_text_is_not_admin(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """'"is_admin": "no"' in a saved plan is a PlanError when read, not a truthy admin flag."""

    def text_flag(data: dict[str, Any]) -> None:
        entry(data, ANNA.email)["after"]["is_admin"] = "no"

    with pytest.raises(PlanError, match=r"after\.is_admin must be true or false, not 'no'"):
        saved(anna_update(seeded_repo), seeded_repo, text_flag)


def test_hand_edited_plan_cannot_delete_an_admin(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """A delete of an admin added by hand is refused, whatever its before says."""
    store = Unsigned(seeded_repo)
    stored = ADMIN.to_dict() | {"groups": sorted(ADMIN.groups)}
    cases = {
        "before is null": (None, r"before is needed for delete"),
        "before says not admin": (
            stored | {"is_admin": False},
            r"before\.is_admin is False in the plan, True in the store",
        ),
        "before is the truth": (stored, r"deletes admin boss@firma\.no.*--delete-admins"),
    }
    for before, message in cases.values():

        def add_delete(data: dict[str, Any], before: object = before) -> None:
            grant_everything(data)
            data["entries"].append(
                {
                    "action": "delete",
                    "email": ADMIN.email,
                    "row": None,
                    "reason": "",
                    "changed": [],
                    "before": before,
                    "after": None,
                }
            )

        with pytest.raises(PlanError, match=message):
            apply_plan(saved(anna_update(store), store, add_delete), store)
    assert ADMIN.email in seeded_repo.snapshot()


def test_permissions_in_the_plan_file_are_not_obeyed(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """admin_rights, delete_admins and max_deletes written into a saved plan grant nothing."""
    store = Unsigned(seeded_repo)
    everything = {"delete_admins": True, "max_deletes": None, "max_delete_fraction": None}
    plan = plan_import(
        make_review([NEW_ROW]), store, ImportSettings(delete_missing=True, **everything)
    )
    back = Plan.from_json(plan.to_json())
    assert back.settings.delete_admins
    with pytest.raises(PlanError, match="deletes admin"):
        apply_plan(back, store)
    with pytest.raises(DeletionLimitError, match="max_delete_fraction") as info:
        apply_plan(back, store, permissions=Permissions(delete_admins=True))
    assert (3, 1) == (info.value.deletes, info.value.limit)
    allowed = Permissions(delete_admins=True, max_delete_fraction=None)
    assert 3 == apply_plan(back, store, permissions=allowed).deleted


def test_the_relative_limit_counts_the_store_now(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """The relative deletion limit is judged on the store's size at apply, not the plan's."""
    plan = plan_import(
        make_review([NEW_ROW]), seeded_repo, ImportSettings(delete_missing=True, delete_admins=True)
    )
    tampered = attrs.evolve(plan, store_users=1000)
    with pytest.raises(DeletionLimitError, match="3 of the store's 3 users"):
        apply_plan(tampered, seeded_repo)


def test_an_entry_never_changes_an_email() -> None:
    """An update naming 'STRAßE@…' for stored 'strasse@…', or another after.email, is refused."""
    repo = InMemoryUserRepository([User(email="strasse@firma.no", first_name="S", last_name="T")])
    store = Unsigned(repo)
    plan = plan_import(make_review([["Sven", "T", "strasse@firma.no", "Sales", ""]]), store)

    def respell(data: dict[str, Any]) -> None:
        e = entry(data, "strasse@firma.no")
        e["email"] = e["before"]["email"] = e["after"]["email"] = "STRAßE@firma.no"

    with pytest.raises(PlanError, match=r"STRAßE@firma\.no"):
        apply_plan(saved(plan, store, respell), store)

    def one_side(data: dict[str, Any]) -> None:
        entry(data, "strasse@firma.no")["after"]["email"] = "spy@evil.example"

    with pytest.raises(PlanError, match="never changes an email"):
        saved(plan, store, one_side)
    assert ["strasse@firma.no"] == [u.email for u in repo.snapshot()]


def test_a_list_of_addresses_is_no_email(empty_repo) -> None:  # type: ignore[no-untyped-def]
    """A create of 'victim@…, spy@…' is refused when read, so no welcome email goes to both."""
    plan = plan_import(make_review([NEW_ROW]), empty_repo, ImportSettings(send_welcome_email=True))

    def two(data: dict[str, Any]) -> None:
        e = entry(data, "kari@firma.no")
        e["email"] = e["after"]["email"] = "kari@firma.no, spy@evil.example"

    with pytest.raises(PlanError, match="is not one valid email address"):
        saved(plan, empty_repo, two)


def test_update_of_a_stored_user_must_match_the_store(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """An update of a user not in the store, or a create of one who is, is refused by name."""
    store = Unsigned(seeded_repo)

    def rename(data: dict[str, Any]) -> None:
        e = entry(data, ANNA.email)
        e["email"] = e["before"]["email"] = e["after"]["email"] = "ghost@firma.no"

    with pytest.raises(PlanError, match=r"update of ghost@firma\.no names no user of the store"):
        apply_plan(saved(anna_update(store), store, rename), store)
    plan = plan_import(make_review([NEW_ROW]), store)

    def existing(data: dict[str, Any]) -> None:
        e = entry(data, "kari@firma.no")
        e["email"] = e["after"]["email"] = OLE.email

    with pytest.raises(PlanError, match=r"creates ole@firma\.no, but the store has a user"):
        apply_plan(saved(plan, store, existing), store)


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda d: d["entries"][0].update(reason="because"), id="reason"),
        pytest.param(lambda d: d.update(source="other.csv"), id="source"),
        pytest.param(lambda d: d.update(undo=True), id="undo flag"),
        pytest.param(lambda d: d.pop("digest"), id="digest removed"),
        pytest.param(lambda d: d.update(digest="0" * 64), id="digest replaced"),
        pytest.param(grant_everything, id="settings"),
    ],
)
def test_a_signed_plan_changed_after_it_was_made_is_refused(
    seeded_repo: InMemoryUserRepository, edit: Callable[[dict[str, Any]], object]
) -> None:
    """Any change to a signed plan, however harmless, is refused as edited; the store is kept."""
    before = seeded_repo.snapshot()
    with pytest.raises(PlanError, match=r"changed after it was made|carries no digest"):
        apply_plan(saved(anna_update(seeded_repo), seeded_repo, edit), seeded_repo)
    assert before is seeded_repo.snapshot()


def test_a_signed_plan_read_back_applies_with_the_callers_permissions(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """A plan saved signed and read back applies; its own settings do not count, the caller's do."""
    plan = plan_import(
        make_review([NEW_ROW]),
        seeded_repo,
        ImportSettings(delete_missing=True, delete_admins=True, max_delete_fraction=None),
    )
    back = Plan.from_json(plan.to_json(indent=1, secret=seeded_repo.plan_secret()))
    with pytest.raises(PlanError, match="delete_admins=True"):
        apply_plan(back, seeded_repo)
    allowed = Permissions(delete_admins=True, max_delete_fraction=None)
    assert 3 == apply_plan(back, seeded_repo, permissions=allowed).deleted


def test_a_plan_signed_for_another_store_is_refused(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """Each in-memory store has its own secret: a plan signed by another is refused."""
    other = InMemoryUserRepository.from_snapshot(seeded_repo.snapshot())
    plan = anna_update(seeded_repo)
    back = Plan.from_json(plan.to_json(secret=other.plan_secret()))
    with pytest.raises(PlanError, match="changed after it was made"):
        apply_plan(back, seeded_repo)


def test_only_an_undo_plan_deletes_groups(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """A plan that is not an undo plan cannot delete groups or departments."""
    plan = attrs.evolve(anna_update(seeded_repo), remove_groups={"Empty group"})
    with pytest.raises(PlanError, match="only an undo plan"):
        apply_plan(plan, seeded_repo)
    assert apply_plan(attrs.evolve(plan, is_undo=True), seeded_repo).updated == 1


def test_duplicate_entries_are_refused(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """Two entries for one user are refused, whatever they do."""
    plan = anna_update(seeded_repo)
    twice = attrs.evolve(plan, frame=pd.concat([plan.frame, plan.frame], ignore_index=True))
    with pytest.raises(PlanError, match=r"more than one entry for Anna\.Berg@firma\.no"):
        apply_plan(twice, seeded_repo)


def test_welcome_emails_go_to_created_users_only(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """send_welcome_email welcomes each created user after the commit, and nobody else."""
    notifier = Recorder()
    plan = plan_import(
        make_review([NEW_ROW, ANNA_ROW]), seeded_repo, ImportSettings(send_welcome_email=True)
    )
    result = apply_plan(plan, seeded_repo, notifier=notifier)
    assert ["kari@firma.no"] == notifier.sent
    assert [("kari@firma.no", True, None)] == [
        (n.email, n.sent, n.error) for n in result.notifications
    ]


def test_failed_welcome_email_never_rolls_back(empty_repo) -> None:  # type: ignore[no-untyped-def]
    """A notifier failure is reported per user; the import stands."""
    notifier = Recorder(fail={"kari@firma.no"})
    rows = [NEW_ROW, ["Per", "Lie", "per@firma.no", "HR", ""]]
    plan = plan_import(make_review(rows), empty_repo, ImportSettings(send_welcome_email=True))
    result = apply_plan(plan, empty_repo, notifier=notifier)
    assert 2 == len(empty_repo.snapshot())
    assert ("kari@firma.no",) == result.not_notified
    assert "ConnectionError: connection dropped" == result.notifications[0].error
    assert ["per@firma.no"] == notifier.sent


def test_welcome_emails_need_a_notifier(empty_repo) -> None:  # type: ignore[no-untyped-def]
    """Asking for welcome emails without a notifier fails before anything changes."""
    plan = plan_import(make_review([NEW_ROW]), empty_repo, ImportSettings(send_welcome_email=True))
    with pytest.raises(SettingsError, match="notifier"):
        apply_plan(plan, empty_repo)
    assert 0 == len(empty_repo.snapshot())


def test_no_welcome_emails_unless_asked(empty_repo) -> None:  # type: ignore[no-untyped-def]
    """Without send_welcome_email, a notifier given is not called."""
    notifier = Recorder()
    apply_plan(plan_import(make_review([NEW_ROW]), empty_repo), empty_repo, notifier=notifier)
    assert [] == notifier.sent


def test_empty_plan_keeps_the_version(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """Applying an empty plan changes nothing, not even the version."""
    version = seeded_repo.snapshot().version
    plan = plan_import(
        make_review([["Anna", "Berg", "anna.berg@firma.no", "Sales", "Oslo"]]), seeded_repo
    )
    assert plan.is_empty
    assert version == apply_plan(plan, seeded_repo).version


def test_admin_survives_mirror_mode(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """Mirror mode keeps the admin unless delete_admins is set."""
    apply_plan(
        plan_import(
            make_review([NEW_ROW]),
            seeded_repo,
            ImportSettings(delete_missing=True, max_delete_fraction=None),
        ),
        seeded_repo,
    )
    assert ADMIN.email in seeded_repo.snapshot()
    assert ANNA.email not in seeded_repo.snapshot()


def test_held_plan_is_refused(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """apply_plan refuses a plan with holds, with the hold's text, and changes nothing."""
    review = make_review([["Anna", "Berg", "anna.berg@firma", "Sales", ""]])
    plan = plan_import(review, seeded_repo, ImportSettings(delete_missing=True, delete_admins=True))
    assert plan.holds
    before = seeded_repo.snapshot()
    with pytest.raises(PlanError, match=re.escape("row 2: the email 'anna.berg@firma'")):
        apply_plan(plan, seeded_repo)
    with pytest.raises(PlanError, match="held"):
        apply_plan(Plan.from_json(plan.to_json()), seeded_repo)
    assert before is seeded_repo.snapshot()


def test_held_plan_is_refused_even_with_deletes_put_back(seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """Holds alone refuse a plan, whatever its entries (a hand-made delete included)."""
    plan = plan_import(make_review([]), seeded_repo, ImportSettings(delete_missing=True))
    frame = plan.frame.copy()
    frame.loc[frame["email"] == "ole@firma.no", "action"] = "delete"
    with pytest.raises(PlanError, match="no valid row"):
        apply_plan(attrs.evolve(plan, frame=frame), seeded_repo)
    assert 3 == len(seeded_repo.snapshot())


def test_a_30_user_result_and_plan_have_short_reprs() -> None:
    """ApplyResult and Plan reprs are a line of counts, not the frame (19,700 characters once)."""
    from userimport import InMemoryUserRepository, Plan, PlanEntry, User, apply_plan

    store = InMemoryUserRepository(departments=["Sales"])
    entries = [
        PlanEntry(
            action="create",
            email=f"p{i}@firma.no",
            after=User(email=f"p{i}@firma.no", first_name="P", last_name="Q", department="Sales"),
        )
        for i in range(30)
    ]
    plan = Plan.from_entries(entries, base_version=store.snapshot().version)
    result = apply_plan(plan, store)
    assert len(repr(result)) < 200
    assert repr(result).startswith("ApplyResult(created=30, updated=0, deleted=0, version=")
    assert len(repr(plan)) < 250
    assert "create=30" in repr(plan)


def test_notebook_plan_shows_who_in_colour_with_a_tail() -> None:
    """Plan's HTML names who is created, groups as text, left-aligned, '... and N more'."""
    from userimport import InMemoryUserRepository, Plan, PlanEntry, User

    store = InMemoryUserRepository(departments=["Sales"], groups=["Oslo", "Bergen"])
    entries = [
        PlanEntry(
            action="create",
            email=f"p{i}@firma.no",
            after=User(
                email=f"p{i}@firma.no",
                first_name="Per",
                last_name=f"Q{i}",
                department="Sales",
                groups={"Oslo", "Bergen"},
            ),
        )
        for i in range(60)
    ]
    page = Plan.from_entries(entries, base_version=store.snapshot().version)._repr_html_()
    assert "Per Q0; Sales; groups: Bergen, Oslo" in page
    assert "frozenset" not in page
    assert 'style="text-align:left"' in page
    assert "color:green" in page
    assert "... and 10 more changes" in page

"""Applying plans: all or nothing, refusing stale plans, undo, guards and welcome emails."""

from __future__ import annotations

import attrs
import pytest

from tests.conftest import ADMIN, ANNA, OLE, make_review
from userimport import (
    DeletionLimitError,
    ImportSettings,
    InMemoryUserRepository,
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
    """A plan made in this process that grants admin rights is refused unless its settings allow it."""
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

"""import_file: the whole pipeline in one call, with overrides routed to their stage."""

from __future__ import annotations

import io

import pytest

from userimport import (
    ApplyResult,
    ColumnMapping,
    ImportSettings,
    InMemoryUserRepository,
    Plan,
    RowLimitError,
    SettingsError,
    import_file,
)

CSV = (
    b"Staff list 2026\n"
    b"\n"
    b"First Name,Last Name,Email,Department,Usergroups\n"
    b'Anna,Berg,anna@firma.no,Sales,"Oslo, Bergen"\n'
    b"Ole,Hansen,ole@firma.no,HR,\n"
    b",Dahl,kari@firma.no,HR,\n"
)


def test_dry_run_returns_a_plan_and_changes_nothing(empty_repo) -> None:  # type: ignore[no-untyped-def]
    """The default dry run plans against the store and leaves it alone."""
    plan = import_file(CSV, empty_repo)
    assert isinstance(plan, Plan)
    assert (2, 1) == (plan.summary()["create"], plan.summary()["skip"])
    assert 0 == len(empty_repo.snapshot())


def test_apply_in_one_call(empty_repo) -> None:  # type: ignore[no-untyped-def]
    """dry_run=False applies the plan and returns the result with its undo."""
    result = import_file(io.BytesIO(CSV), empty_repo, ImportSettings(), dry_run=False)
    assert isinstance(result, ApplyResult)
    assert {"anna@firma.no", "ole@firma.no"} == set(empty_repo.snapshot().users)
    anna = empty_repo.snapshot().get("anna@firma.no")
    assert anna is not None
    assert {"Oslo", "Bergen"} == anna.groups
    again = import_file(CSV, empty_repo)
    assert isinstance(again, Plan)
    assert again.is_empty


def test_overrides_reach_their_stage(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """header_row, mapping, group_separator, department_as_group and skip_rows are honoured."""
    path = tmp_path / "staff.csv"
    path.write_text("a@firma.no;Anna;Berg;Sales;X|Y\nb@firma.no;Bo;Ek;HR;\n", encoding="utf-8")
    repo = InMemoryUserRepository()
    plan = import_file(
        path,
        repo,
        delimiter=";",
        header_row=None,
        mapping={0: "email", 1: "first_name", 2: "last_name", 3: "department", 4: "groups"},
        group_separator="|",
        department_as_group=True,
        skip_rows=[2],
    )
    assert isinstance(plan, Plan)
    anna = plan.entry("a@firma.no")
    assert anna is not None
    assert anna.after is not None
    assert {"X", "Y", "Sales"} == anna.after.groups
    b = plan.entry("b@firma.no")
    assert b is not None
    assert "skip" == b.action


def test_mapping_object_override(empty_repo) -> None:  # type: ignore[no-untyped-def]
    """A ColumnMapping given as override is used as it is."""
    mapping = ColumnMapping.from_columns(
        {0: "first_name", 1: "last_name", 2: "email", 3: "department"}, width=5
    )
    plan = import_file(CSV, empty_repo, header_row=2, mapping=mapping)
    assert isinstance(plan, Plan)
    assert 0 == len(plan.new_groups)


def test_max_rows_override(empty_repo) -> None:  # type: ignore[no-untyped-def]
    """max_rows reaches the reader: over the limit is a RowLimitError, None lifts it."""
    data = ("First Name,Last Name,Email,Department\n" + "A,B,a{}@b.no,S\n" * 3).encode()
    with pytest.raises(RowLimitError):
        import_file(data, empty_repo, max_rows=2)
    assert isinstance(import_file(data, empty_repo, max_rows=None), Plan)


def test_unknown_override_is_refused(empty_repo) -> None:  # type: ignore[no-untyped-def]
    """A misspelt override is an error naming it, not silently ignored."""
    with pytest.raises(SettingsError, match="delimeter"):
        import_file(CSV, empty_repo, delimeter=";")


def test_a_mapping_given_as_a_dict_leaves_the_footer_out() -> None:
    """import_file(mapping={...}) finds the footer rows as a suggested mapping does."""
    from userimport import InMemoryUserRepository, import_file

    text = b"First Name,Last Name,Email,Department\nAnna,Berg,anna@firma.no,Sales\nSide 1 av 1,,,\n"
    mapping = {0: "first_name", 1: "last_name", 2: "email", 3: "department"}
    plan = import_file(text, InMemoryUserRepository(), mapping=mapping)
    assert {"create": 1, "skip": 0} == {k: plan.summary()[k] for k in ("create", "skip")}

"""import_file: the whole pipeline in one call, with overrides routed to their stage."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from userimport import (
    ApplyResult,
    ColumnMapping,
    ImportOptions,
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


def test_options_as_one_typed_value(empty_repo) -> None:  # type: ignore[no-untyped-def]
    """ImportOptions gives import_file the same plan as the keyword overrides."""
    given = import_file(CSV, empty_repo, options=ImportOptions(header_row=2, skip_rows=[4]))
    keywords = import_file(CSV, empty_repo, header_row=2, skip_rows=[4])
    assert isinstance(given, Plan)
    assert isinstance(keywords, Plan)
    assert keywords.to_frame().equals(given.to_frame())
    assert (1, 2) == (given.summary()["create"], given.summary()["skip"])


@pytest.mark.parametrize(
    "bad",
    [
        {"max_rows": "5000"},
        {"max_rows": -1},
        {"header_row": "3"},
        {"header_row": True},
        {"mapping": ["email"]},
        {"department_as_group": "yes"},
        {"skip_rows": ["2"]},
        {"sheet": 1},
    ],
)
def test_options_of_the_wrong_type_are_refused(empty_repo, bad) -> None:  # type: ignore[no-untyped-def]
    """A wrong type is a SettingsError naming the option, as options or as a keyword."""
    name = next(iter(bad))
    with pytest.raises(SettingsError, match=name):
        ImportOptions(**bad)
    with pytest.raises(SettingsError, match=name):
        import_file(CSV, empty_repo, **bad)


def test_options_and_keywords_together_are_refused(empty_repo) -> None:  # type: ignore[no-untyped-def]
    """Options come one way: as ImportOptions or as keywords."""
    with pytest.raises(SettingsError, match="not both"):
        import_file(CSV, empty_repo, options=ImportOptions(), header_row=2)


def test_cli_recipes_and_demo_prepare_through_the_one_assembly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI's plan, a recipe's replay and the demo all read and review through prepare()."""
    from click.testing import CliRunner

    from userimport import pipeline
    from userimport.cli import cli
    from userimport.recipe import Recipe, replay

    calls: list[object] = []
    real = pipeline.prepare

    def spy(source: object, options: ImportOptions | None = None) -> pipeline.Prepared:
        calls.append(source)
        return real(source, options)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "prepare", spy)
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "staff.csv"
    path.write_bytes(CSV)
    url = f"sqlite:///{tmp_path / 'users.db'}"
    result = CliRunner().invoke(cli, ["--db", url, "plan", str(path), "--create"])
    assert 1 == result.exit_code, result.output  # a row has problems
    prepared = real(CSV)
    recipe = Recipe.from_review(prepared.review, prepared.table, prepared.header_row)
    assert 3 == len(replay(recipe, CSV).review.rows)
    demo_url = f"sqlite:///{tmp_path / 'demo.db'}"
    result = CliRunner().invoke(cli, ["demo", "--db", demo_url])
    assert 0 == result.exit_code, result.output
    assert [str(path), CSV] == calls[:2]
    assert 3 == len(calls)

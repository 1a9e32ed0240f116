"""Recipes: decisions saved and replayed on next month's file, with every drift reported."""

from __future__ import annotations

import json

import attrs
import pytest

from userimport import ImportSettings, SettingsError, UserImportError
from userimport.headers import detect_header
from userimport.mapping import suggest_mapping
from userimport.read import read_table
from userimport.recipe import Recipe, replay
from userimport.review import validate

JANUARY = (
    "Staff export\n"
    "Fornavn;Etternavn;Mail;Avdeling;Teams;Notes\n"
    "Anna;Berg;anna@firma.no;Sales;Oslo|Bergen;x\n"
    ";Hansen;ole@firma.no;HR;;y\n"
    "Kari;Dahl;kari@firma.no;Sales;;z\n"
)


def recipe_for(text: str) -> Recipe:
    """The decisions of January: mail mapped by hand, a separator, an edit and a skip."""
    table = read_table(text.encode(), delimiter=";")
    header_row = detect_header(table).row
    mapping = (
        suggest_mapping(table, header_row)
        .map("Mail", "email")
        .map("Teams", "groups")
        .map("Notes", "attributes.notes")
        .with_group_separator("|")
    )
    review = validate(table, header_row, mapping).edit(4, first_name="Ole").skip(5)
    return Recipe.from_review(review, table, header_row, ImportSettings(on_existing="skip"))


def test_recipe_round_trips_through_json() -> None:
    """A recipe saved as JSON reads back equal."""
    recipe = recipe_for(JANUARY)
    assert recipe == Recipe.from_json(recipe.to_json())
    assert {
        "Mail": "email",
        "Teams": "groups",
        "Notes": "attributes.notes",
    }.items() <= recipe.columns.items()
    assert [(4, False, {"first_name": "Ole"}), (5, True, {})] == [
        (r.row, r.skip, dict(r.values)) for r in recipe.rows
    ]


def test_replay_on_the_same_file_reproduces_the_review() -> None:
    """Replaying on the same file gives the same rows, edits and skips, and no drift."""
    recipe = recipe_for(JANUARY)
    replayed = replay(recipe, JANUARY.encode())
    assert () == replayed.drift
    rows = replayed.review.rows
    assert ["valid", "valid", "skipped"] == list(rows["status"])
    assert "Ole" == rows.loc[4, "first_name"]
    assert ("Bergen", "Oslo") == rows.loc[3, "groups"]
    assert "skip" == replayed.settings.on_existing


def test_reordered_columns_still_map() -> None:
    """Columns map by header text, so next month's reordered export maps the same."""
    reordered = (
        "Staff export\n"
        "Mail;Fornavn;Etternavn;Avdeling;Notes;Teams\n"
        "anna@firma.no;Anna;Berg;Sales;x;Oslo|Bergen\n"
    )
    replayed = replay(recipe_for(JANUARY), reordered.encode())
    assert ("Bergen", "Oslo") == replayed.review.rows.loc[3, "groups"]
    assert "anna@firma.no" == replayed.review.rows.loc[3, "email"]


def test_gone_new_and_renamed_columns_are_drift() -> None:
    """A gone, new or renamed column is reported and never silently re-guessed."""
    february = (
        "Staff export\n"
        "Fornavn;Etternavn;Mail;Avdeling;Grupper;Notes;Phone\n"
        "Anna;Berg;anna@firma.no;Sales;Oslo;x;123\n"
    )
    replayed = replay(recipe_for(JANUARY), february.encode())
    kinds = sorted((d.kind, d.column) for d in replayed.drift if d.kind.startswith("column"))
    assert [("column_new", "Phone"), ("column_renamed", "Grupper")] == kinds
    assert () == replayed.review.mapping.columns("groups")
    march = (
        "Staff export\nFornavn;Etternavn;Mail;Avdeling;Teams\nAnna;Berg;anna@firma.no;Sales;Oslo\n"
    )
    replayed = replay(recipe_for(JANUARY), march.encode())
    assert [("column_missing", "Notes")] == [
        (d.kind, d.column) for d in replayed.drift if d.kind.startswith("column")
    ]


def test_an_edit_never_lands_on_another_person() -> None:
    """A row whose content changed keeps its edit out, and a moved row takes its edit along."""
    changed = JANUARY.replace(";Hansen;ole@firma.no", ";Hansen;ole.h@firma.no")
    replayed = replay(recipe_for(JANUARY), changed.encode())
    assert [("row_changed", 4)] == [(d.kind, d.row) for d in replayed.drift]
    assert "invalid" == replayed.review.rows.loc[4, "status"]
    moved = JANUARY.replace("Staff export\n", "Staff export\nFebruary\n", 1)
    replayed = replay(recipe_for(JANUARY), moved.encode())
    assert {"header_moved", "row_moved"} == {d.kind for d in replayed.drift}
    assert "Ole" == replayed.review.rows.loc[5, "first_name"]
    assert "skipped" == replayed.review.rows.loc[6, "status"]


def test_bad_recipe_text() -> None:
    """Text that is not a saved recipe is a UserImportError."""
    with pytest.raises(UserImportError, match="recipe"):
        Recipe.from_json("{}")
    with pytest.raises(UserImportError, match="recipe"):
        Recipe.from_json("nope")


@pytest.mark.parametrize(
    "permission",
    [
        {"admin_rights": True},
        {"delete_admins": True},
        {"max_deletes": 51},
        {"max_deletes": None},
        {"max_delete_fraction": 0.5},
        {"max_delete_fraction": None},
    ],
)
def test_a_recipe_never_carries_permissions(permission: dict[str, object]) -> None:
    """A saved recipe asking for a permission is refused, naming it and its option."""
    recipe = recipe_for(JANUARY)
    data = json.loads(recipe.to_json())
    data["settings"].update(permission)
    (name,) = permission
    with pytest.raises(UserImportError, match=f"never carries permissions.*{name}.*--"):
        Recipe.from_json(json.dumps(data))
    with pytest.raises(SettingsError, match="never carries permissions"):
        attrs.evolve(recipe, settings=ImportSettings(**permission))  # type: ignore[arg-type]


def test_a_saved_recipe_leaves_permissions_out() -> None:
    """from_review drops permissions wider than the defaults and keeps stricter limits."""
    table = read_table(JANUARY.encode(), delimiter=";")
    review = validate(table, 1, suggest_mapping(table, 1).map("Mail", "email"))
    wide = ImportSettings(
        admin_rights=True, delete_admins=True, max_deletes=None, on_existing="skip"
    )
    settings = Recipe.from_review(review, table, 1, wide).settings
    assert ImportSettings(on_existing="skip") == settings
    strict = ImportSettings(max_deletes=3, max_delete_fraction=0.05)
    assert strict == Recipe.from_review(review, table, 1, strict).settings


WHOLE_NAMES = (
    "Navn;E-post;Avdeling\n"
    "Berg, Anna;anna@firma.no;Sales\n"
    "Dahl, Kari;kari@firma.no;HR\n"
    "Totalt: 2 ansatte;;\n"
)


def test_a_recipe_keeps_the_name_split_and_finds_the_footer_again() -> None:
    """A replayed recipe splits the whole-name column again and leaves the new file's footer out."""
    table = read_table(WHOLE_NAMES.encode(), delimiter=";")
    header_row = detect_header(table).row
    mapping = suggest_mapping(table, header_row)
    assert mapping.name_split is not None
    review = validate(table, header_row, mapping)
    recipe = Recipe.from_review(review, table, header_row)
    assert ("Navn", "last_comma_first") == recipe.name_split
    assert recipe == Recipe.from_json(recipe.to_json())
    march = WHOLE_NAMES.replace("Totalt: 2", "Ola;ola@firma.no;HR\nTotalt: 3")
    replayed = replay(Recipe.from_json(recipe.to_json()), march.encode())
    rows = replayed.review.rows
    assert ["Anna", "Kari", "Ola"] == list(rows["first_name"])
    assert ["valid", "valid", "invalid"] == list(rows["status"])  # 'Ola' has no comma
    assert {"name_not_split"} == set(replayed.review.issues["code"])


def test_a_recipe_whose_name_column_is_gone_says_so() -> None:
    """The whole-name column missing from next month's file is a MappingError, not a crash."""
    from userimport import MappingError

    table = read_table(WHOLE_NAMES.encode(), delimiter=";")
    header_row = detect_header(table).row
    review = validate(table, header_row, suggest_mapping(table, header_row))
    recipe = Recipe.from_review(review, table, header_row)
    renamed = WHOLE_NAMES.replace("Navn;", "Fullt navn;")
    with pytest.raises(MappingError, match="no column feeds first_name, last_name"):
        replay(recipe, renamed.encode())


def test_drift_names_the_target_and_remap_fixes_a_renamed_column() -> None:
    """A renamed column's drift names the property it fed; remap maps it before validation."""
    february = (
        "Staff export\n"
        "Fornavn;Etternavn;Mail;Avdeling;Grupper;Notes\n"
        "Anna;Berg;anna@firma.no;Sales;Oslo;x\n"
    )
    replayed = replay(recipe_for(JANUARY), february.encode())
    [renamed] = [d for d in replayed.drift if d.kind == "column_renamed"]
    assert ("Grupper", "groups") == (renamed.column, renamed.target)
    fixed = replay(
        recipe_for(JANUARY), february.encode(), remap=lambda m: m.map("Grupper", "groups")
    )
    assert ("Oslo",) == fixed.review.rows.iloc[0]["groups"]

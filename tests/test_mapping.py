"""Column mapping: synonyms in five languages, annotations, fuzzy names, content, competition."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import corpus_dir, make_table
from userimport import ColumnMapping, MappingError, detect_header, read_table, suggest_mapping

CASES = json.loads((corpus_dir() / "expected.json").read_text(encoding="utf-8"))
CORE = ("first_name", "last_name", "email", "department")


def mapped(mapping: ColumnMapping) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for prop in CORE:
        column = mapping.column(prop)
        if column is not None:
            out[prop] = mapping.headers[column] if mapping.headers else column
    return out


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["file"])
def test_corpus_mapping(case: dict[str, Any], corpus: Path) -> None:
    """Every corpus file maps its core properties and group columns with no hints."""
    table = read_table(corpus / case["file"])
    mapping = suggest_mapping(table, detect_header(table).row)
    assert case["mapping"] == mapped(mapping)
    groups = [mapping.headers[c] if mapping.headers else c for c in mapping.group_columns]
    assert case["groups"] == groups


def suggest(header: list[str], *rows: list[str]) -> ColumnMapping:
    return suggest_mapping(make_table([header, *rows]), 0)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (["Fornavn", "Etternavn", "E-post", "Avdeling", "Brukergrupper"], "no"),
        (["Förnamn", "Efternamn", "E-postadress", "Avdelning", "Användargrupper"], "sv"),
        (["Fornavn", "Efternavn", "E-mail", "Afdeling", "Brugergrupper"], "da"),
        (["Vorname", "Nachname", "E-Mail-Adresse", "Abteilung", "Gruppen"], "de"),
        (
            ["First name [givenName]", "*Last Name", "Email Address [Required]", "Dept.", "Teams"],
            "en",
        ),
    ],
)
def test_synonyms_in_five_languages(header: list[str], expected: str) -> None:
    """Headers in English, Norwegian, Swedish, Danish and German map, annotations stripped."""
    mapping = suggest(header, ["A", "B", "a@b.no", "S", "G"])
    assert {"first_name": 0, "last_name": 1, "email": 2, "department": 3} == {
        p: mapping.column(p) for p in CORE
    }
    assert (4,) == mapping.group_columns


def test_fuzzy_headers_with_scores() -> None:
    """Misspelt headers map fuzzily, and the match says so with its score."""
    mapping = suggest(["Frist name", "Lastname", "Emial", "Departmnet"], ["A", "B", "a@b.no", "S"])
    assert [0, 1, 2, 3] == [mapping.column(p) for p in CORE]
    first = mapping.matches[0]
    assert ("fuzzy", True) == (first.method, 0 < first.score < 1)
    assert "close to" in first.reason


def test_unrelated_headers_stay_unmapped() -> None:
    """Employee ID, Start Date, Notes and Password feed nothing."""
    mapping = suggest(
        ["Employee ID", "Start Date", "Notes", "Password", "Email"],
        ["1", "2020-01-01", "x", "", "a@b.no"],
    )
    assert (0, 1, 2, 3) == mapping.unmapped
    assert 4 == mapping.column("email")


def test_email_by_content_without_a_header() -> None:
    """With no header row, the column of addresses is the email, explained by its content."""
    table = make_table([["Anna", "Berg", "anna@firma.no"], ["Ole", "Hansen", "ole@firma.no"]])
    mapping = suggest_mapping(table, None)
    assert 2 == mapping.column("email")
    assert ("content", "100% of its cells are email addresses (100% distinct)") == (
        mapping.matches[0].method,
        mapping.matches[0].reason,
    )


def test_several_address_columns_pick_the_users_own() -> None:
    """Manager and private addresses lose to the user's own; the choice is explained."""
    mapping = suggest(
        ["Name", "Manager", "Private address", "Login"],
        ["A", "boss@firma.no", "a@gmail.com", "a@firma.no"],
        ["B", "boss@firma.no", "b@gmail.com", "b@firma.no"],
    )
    assert 3 == mapping.column("email")
    assert mapping.notes


def test_competing_columns_leave_the_weaker_out() -> None:
    """Two columns for one property: the stronger wins, the weaker is left out and reported."""
    mapping = suggest(["Email", "E-post", "Fornavn"], ["a@b.no", "a@b.no", "A"])
    assert 0 == mapping.column("email")
    assert (1,) == mapping.unmapped
    assert any("'E-post'" in n and "left out" in n for n in mapping.notes)


def test_explain_lists_every_column() -> None:
    """explain names each column, what it feeds and why, and what is not imported."""
    text = suggest(["Email", "Notes"], ["a@b.no", "x"]).explain()
    assert "'Email' (A) -> email" in text
    assert "'Notes' (B) -> not imported" in text


def test_map_unmap_and_custom_attributes() -> None:
    """A caller can map any column (by header, letter or position), also to attributes.<name>."""
    mapping = suggest(["Email", "Title", "G1"], ["a@b.no", "CTO", "x"])
    mapping = mapping.map("Title", "attributes.title").map("C", "groups").map(0, "email")
    assert {0: "email", 1: "attributes.title", 2: "groups"} == mapping.targets
    assert ("title",) == mapping.attribute_names
    assert {0: "email", 2: "groups"} == mapping.unmap("Title").targets
    moved = mapping.map("Title", "email")
    assert {1: "email", 2: "groups"} == moved.targets


@pytest.mark.parametrize(
    ("column", "target", "match"),
    [
        ("Email", "nickname", "unknown property"),
        ("Nope", "email", "no column named"),
        (9, "email", "no column 9"),
        ("Email", "attributes.", "unknown property"),
    ],
)
def test_mapping_errors(column: Any, target: str, match: str) -> None:
    """Unknown properties and columns are MappingErrors naming them."""
    with pytest.raises(MappingError, match=match):
        suggest(["Email"], ["a@b.no"]).map(column, target)


def test_round_trip_through_dict() -> None:
    """A mapping survives to_dict / from_dict."""
    mapping = suggest(["Email", "Fornavn", "Teams"], ["a@b.no", "A", "x"]).with_group_separator(";")
    back = ColumnMapping.from_dict(json.loads(json.dumps(mapping.to_dict())))
    assert mapping == back


def test_bad_separator() -> None:
    """A blank group separator is a MappingError."""
    with pytest.raises(MappingError):
        ColumnMapping(group_separator=" ")


@given(
    st.permutations(["Fornavn", "LAST NAME", "e-mail", "Avdeling", "Group 1", "Group 2"]),
    st.booleans(),
)
def test_random_order_and_case(header: list[str], upper: bool) -> None:
    """Headers in any order and case map to the same properties."""
    header = [h.upper() if upper else h for h in header]
    mapping = suggest(header, ["x"] * len(header))
    by_name = {h.casefold(): mapping.targets.get(i) for i, h in enumerate(header)}
    assert {
        "fornavn": "first_name", "last name": "last_name", "e-mail": "email",
        "avdeling": "department", "group 1": "groups", "group 2": "groups",
    } == by_name  # fmt: skip

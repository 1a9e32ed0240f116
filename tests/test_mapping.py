"""Column mapping: five languages, annotations, fuzzy names, content, competing columns."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import corpus_dir, make_table
from tests.test_headers import read_case
from userimport import (
    ColumnMapping,
    ColumnMatch,
    MappingError,
    RawTable,
    detect_header,
    suggest_mapping,
    validate,
)
from userimport.mapping import NameSplit

CASES = json.loads((corpus_dir() / "expected.json").read_text(encoding="utf-8"))
CORE = ("first_name", "last_name", "email", "department")


def mapped(mapping: ColumnMapping) -> dict[str, Any]:
    """Core property -> header text (or column position when there is no header)."""
    out: dict[str, Any] = {}
    for prop in CORE:
        column = mapping.column(prop)
        if column is not None:
            out[prop] = mapping.headers[column] if mapping.headers else column
    return out


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["file"])
def test_corpus_mapping(case: dict[str, Any], corpus: Path) -> None:
    """Every corpus file maps its core properties and its group columns with no hints."""
    table = read_case(case, corpus)
    mapping = suggest_mapping(table, detect_header(table).row)
    groups = [mapping.headers[c] if mapping.headers else c for c in mapping.group_columns]
    assert (case["mapping"], case["groups"]) == (mapped(mapping), groups)


def suggest(header: list[str], *rows: list[str]) -> ColumnMapping:
    """The suggested mapping of a table whose first row is ``header``."""
    return suggest_mapping(make_table([header, *rows]), 0)


def positions(mapping: ColumnMapping) -> dict[str, int | None]:
    """Core property -> column position."""
    return {p: mapping.column(p) for p in CORE}


ROW = ["Anna", "Berg", "anna@firma.no", "Sales", "Oslo"]


@pytest.mark.parametrize(
    "header",
    [
        ["First Name", "Surname", "E-mail address", "Dept", "User groups"],
        ["Given name", "Family name", "Work email", "Division", "Teams"],
        ["Fornavn", "Etternavn", "E-post", "Avdeling", "Brukergrupper"],
        ["Förnamn", "Efternamn", "E-postadress", "Avdelning", "Användargrupper"],
        ["Fornavn", "Efternavn", "E-mailadresse", "Afdeling", "Brugergrupper"],
        ["Vorname", "Nachname", "E-Mail-Adresse", "Abteilung", "Gruppen"],
    ],
    ids=["en", "en-2", "no", "sv", "da", "de"],
)
def test_synonyms_in_five_languages(header: list[str]) -> None:
    """Headers in English, Norwegian, Swedish, Danish and German map, and say their language."""
    mapping = suggest(header, ROW)
    assert ({"first_name": 0, "last_name": 1, "email": 2, "department": 3}, (4,)) == (
        positions(mapping),
        mapping.group_columns,
    )
    assert all(m.method in ("exact", "synonym") for m in mapping.matches)


def test_synonym_reason_names_the_language() -> None:
    """A synonym match says which languages the name comes from."""
    match = suggest(["Etternavn"], ["Berg"]).matches[0]
    assert ("synonym", "header 'Etternavn' is a known name for last_name (Norwegian)") == (
        match.method,
        match.reason,
    )


@pytest.mark.parametrize(
    "header",
    [
        ["First name [givenName]", "Last Name [familyName]", "Email Address [Required]"],
        ["*First name", "*Last name", "*Email"],
        ["First name (required)", "LAST_NAME", "Email (required)"],
        ["  first-name ", "Last name:", "E-MAIL"],
    ],
    ids=["brackets", "asterisks", "parentheses", "case-and-punctuation"],
)
def test_annotations_case_and_punctuation_are_ignored(header: list[str]) -> None:
    """Annotations, a leading *, case, spacing and punctuation do not stop a match."""
    mapping = suggest(header, ["Anna", "Berg", "anna@firma.no"])
    assert {0: "first_name", 1: "last_name", 2: "email"} == mapping.targets


def test_fuzzy_headers_with_scores() -> None:
    """Misspelt headers map fuzzily, and the match says so with its score."""
    mapping = suggest(["Frist name", "Lastnmae", "Emial", "Departmnet"], ["A", "B", "a@b.no", "S"])
    assert {"first_name": 0, "last_name": 1, "email": 2, "department": 3} == positions(mapping)
    first = mapping.matches[0]
    assert ("fuzzy", True, True) == (
        first.method,
        0 < first.score < 0.95,
        "close to" in first.reason,
    )


def test_fuzzy_never_takes_someone_elses_address_or_an_id() -> None:
    """Manager and recovery emails never beat a real email column; Employee ID maps to nothing."""
    mapping = suggest(
        ["Employee ID", "Manager Email", "Recovery Emial", "Email", "Employe ID"],
        ["1000", "boss@firma.no", "a@gmail.com", "a@firma.no", "1000"],
        ["1001", "boss@firma.no", "b@gmail.com", "b@firma.no", "1001"],
    )
    assert ({3: "email"}, (0, 1, 2, 4)) == (mapping.targets, mapping.unmapped)


@pytest.mark.parametrize(
    "header",
    [["Employee ID", "Start Date", "Notes", "Password", "Phone", "Title", "Roles", "Name"]],
)
def test_unrelated_headers_stay_unmapped(header: list[str]) -> None:
    """Common columns that feed no property stay unmapped, and are listed as such."""
    mapping = suggest([*header, "Email"], [*(["x"] * len(header)), "a@b.no"])
    assert ({len(header): "email"}, tuple(range(len(header)))) == (
        mapping.targets,
        mapping.unmapped,
    )


def test_admin_column() -> None:
    """An admin column maps to is_admin."""
    mapping = suggest(["Email", "Administrator"], ["a@b.no", "yes"])
    assert {0: "email", 1: "is_admin"} == mapping.targets


def test_email_by_content_without_a_header() -> None:
    """With no header row only the email is inferred, from the content, and explained so."""
    table = make_table([["Anna", "Berg", "anna@firma.no"], ["Ole", "Hansen", "ole@firma.no"]])
    mapping = suggest_mapping(table, None)
    assert ({2: "email"}, "content") == (mapping.targets, mapping.matches[0].method)
    assert "100% of its 2 sampled cells are email addresses, 100% distinct" == (
        mapping.matches[0].reason
    )


def test_content_finds_the_email_under_an_unknown_header() -> None:
    """A column of addresses under a header that names nothing is the email."""
    mapping = suggest(["Navn", "Kontakt"], ["Anna", "Anna Berg <anna@firma.no>"], ["Ole", "x@y.no"])
    assert ({1: "email"}, "content") == (mapping.targets, mapping.matches[0].method)


def test_content_beats_a_header_whose_cells_are_not_addresses() -> None:
    """When the column named email holds no addresses, the column of addresses wins."""
    mapping = suggest(["Username", "Contact"], ["anna", "anna@firma.no"], ["ole", "ole@firma.no"])
    assert {1: "email"} == mapping.targets
    assert ("its cells are not email addresses",) == tuple(m.reason for m in mapping.rejected)


def test_email_header_without_addresses_is_kept_with_a_warning() -> None:
    """With no addresses anywhere, the column named email still feeds it, and a note says so."""
    mapping = suggest(["Email", "Fornavn"], ["anna", "Anna"])
    assert (0, True) == (mapping.column("email"), mapping.matches[0].score < 0.5)
    assert any("check the mapping" in n for n in mapping.notes)


def test_several_address_columns_pick_the_users_own() -> None:
    """Header words decide: the login beats a manager's and a private address; all explained."""
    mapping = suggest(
        ["Name", "Manager", "Private address", "Login"],
        ["A", "boss@firma.no", "a@gmail.com", "a@firma.no"],
        ["B", "boss@firma.no", "b@gmail.com", "b@firma.no"],
    )
    assert 3 == mapping.column("email")
    assert {
        1: "its header says it holds someone else's address ('manager')",
        2: "its header says it holds a second address (private)",
    } == {m.column: m.reason for m in mapping.rejected}
    assert 2 == len([n for n in mapping.notes if "is left out" in n])


def test_address_columns_without_header_words() -> None:
    """Without telling headers, a repeated address and gmail-like addresses lose."""
    rows = [["boss@firma.no", f"user{i}@gmail.com", f"user{i}@firma.no", f"u{i}"] for i in range(5)]
    mapping = suggest_mapping(make_table(rows), None)
    assert 2 == mapping.column("email")
    reasons = {m.column: m.reason for m in mapping.rejected}
    assert reasons[0].startswith("its addresses repeat (20% distinct)")
    assert reasons[1].startswith("more of its addresses are at free mail providers (100%")


def test_a_private_address_is_the_email_when_it_is_the_only_one() -> None:
    """A column of private addresses is the email when no other column holds addresses."""
    mapping = suggest(["Name", "Private e-mail"], ["Anna", "anna@gmail.com"])
    assert 1 == mapping.column("email")
    assert "second address (private)" in mapping.matches[0].reason


def test_a_manager_address_is_never_the_email() -> None:
    """A column of someone else's addresses is left out even when it is the only one."""
    mapping = suggest(["Name", "Manager email"], ["Anna", "boss@firma.no"])
    assert (None, (1,)) == (mapping.column("email"), tuple(m.column for m in mapping.rejected))


def test_several_group_columns_all_feed_groups() -> None:
    """Group 1, Group 2, Usergroups and Teams all feed groups, in column order."""
    mapping = suggest(
        ["Email", "Group 1", "Group 2", "Usergroups", "Teams", "Gruppe 3"],
        ["a@b.no", "x", "y", "z", "w", "v"],
    )
    assert (1, 2, 3, 4, 5) == mapping.group_columns


def test_competing_columns_leave_the_weaker_out() -> None:
    """Two columns for one property: the stronger wins, the weaker is left out and reported."""
    mapping = suggest(
        ["Email", "E-post", "Fornavn", "Department", "Division"],
        ["a@b.no", "a@b.no", "A", "Sales", "Nordic"],
    )
    assert ({"email": 0, "department": 3}, (1, 4)) == (
        {p: mapping.column(p) for p in ("email", "department")},
        mapping.unmapped,
    )
    assert [
        "'E-post' (B) also looks like email, but is left out: 'Email' (A) is a stronger match "
        "(exact against synonym)",
        "'Division' (E) also looks like department, but is left out: 'Department' (D) is a "
        "stronger match (exact against synonym)",
    ] == list(mapping.notes)


def test_equal_claims_keep_the_first_column() -> None:
    """Two equally good claims on one property: the first column wins, the other is reported."""
    mapping = suggest(["Surname", "Family name"], ["Berg", "Berg"])
    assert ((0,), "'Surname' (A) names it too, and comes first") == (
        mapping.columns("last_name"),
        mapping.rejected[0].reason,
    )


def test_explain_lists_every_column() -> None:
    """explain names each column, what it feeds and why, and why the others are not imported."""
    text = suggest(["Email", "Notes", "Manager email"], ["a@b.no", "x", "boss@b.no"]).explain()
    assert [
        "'Email' (A) -> email (exact, 1.00): header 'Email' is the name of email; 100% of its "
        "1 sampled cells are email addresses, 100% distinct",
        "'Notes' (B) -> not imported: a known column that feeds no property ('notes')",
        "'Manager email' (C) -> not imported: looks like email, but its header says it holds "
        "someone else's address ('manager')",
        "group separator: ','",
    ] == text.splitlines()


def test_to_frame_and_html() -> None:
    """to_frame gives one row per column; the HTML view shows it with the notes."""
    mapping = suggest(["Email", "E-post"], ["a@b.no", "a@b.no"])
    frame = mapping.to_frame()
    assert ["email", ""] == frame["property"].tolist()
    assert ["A", "B"] == frame["letter"].tolist()
    assert frame["reason"][1].startswith("looks like email, but 'Email' (A) is a stronger match")
    html = mapping._repr_html_()
    assert "<table" in html
    assert "also looks like email" in html


def test_map_unmap_and_custom_attributes() -> None:
    """A caller can map any column (by header, letter or position), also to attributes.<name>."""
    mapping = suggest(["Email", "Title", "G1"], ["a@b.no", "CTO", "x"])
    mapping = mapping.map("Title", "attributes.title").map("C", "groups").map(0, "email")
    assert {0: "email", 1: "attributes.title", 2: "groups"} == mapping.targets
    assert ("title",) == mapping.attribute_names
    assert {0: "email", 2: "groups"} == mapping.unmap("Title").targets
    moved = mapping.map("title", "email")
    assert ({1: "email", 2: "groups"}, (0,)) == (moved.targets, moved.unmapped)


def test_mapping_a_rejected_column_clears_its_note() -> None:
    """Mapping a left-out column by hand drops it from rejected and from the notes."""
    mapping = suggest(["Email", "E-post"], ["a@b.no", "a@b.no"])
    changed = mapping.map("E-post", "attributes.norsk_epost")
    assert ((), ()) == (changed.rejected, changed.notes)


def test_resolve_columns() -> None:
    """Columns are found by position, header text (any case) or letter; duplicates need position."""
    mapping = ColumnMapping(headers=("Email", "Name", "Name"), width=4)
    assert [0, 0, 3, 2] == [
        mapping.resolve(0),
        mapping.resolve("email"),
        mapping.resolve("D"),
        mapping.resolve(2),
    ]
    with pytest.raises(MappingError, match="names 2 columns"):
        mapping.resolve("Name")


@pytest.mark.parametrize(
    ("column", "target", "match"),
    [
        ("Email", "nickname", "unknown property"),
        ("Email", "attributes.", "unknown property"),
        ("Nope", "email", "no column named"),
        (9, "email", "no column 9"),
        ("Z", "email", "no column named"),
    ],
)
def test_mapping_errors(column: Any, target: str, match: str) -> None:
    """Unknown properties and columns are MappingErrors naming them."""
    with pytest.raises(MappingError, match=match):
        suggest(["Email"], ["a@b.no"]).map(column, target)


def test_a_column_never_feeds_two_properties() -> None:
    """A mapping built with one column twice, or two columns for one property, is refused."""
    with pytest.raises(MappingError, match="mapped twice"):
        ColumnMapping(
            width=1,
            matches=[ColumnMatch(column=0, target="email"), ColumnMatch(column=0, target="groups")],
        )
    with pytest.raises(MappingError, match="two columns feed email"):
        ColumnMapping(
            width=2,
            matches=[ColumnMatch(column=0, target="email"), ColumnMatch(column=1, target="email")],
        )


def test_from_columns() -> None:
    """from_columns builds a mapping by hand from positions, headers or letters."""
    mapping = ColumnMapping.from_columns(
        {"Mail": "email", 1: "first_name", "C": "groups"}, headers=("Mail", "Navn", "G")
    )
    assert ({0: "email", 1: "first_name", 2: "groups"}, 3) == (mapping.targets, mapping.width)
    assert {"manual"} == {m.method for m in mapping.matches}


def test_round_trip_through_dict() -> None:
    """A mapping, its rejected columns and notes included, survives to_dict / from_dict."""
    mapping = (
        suggest(["Email", "E-post", "Fornavn", "Teams"], ["a@b.no", "a@b.no", "A", "x"])
        .with_group_separator(";")
        .with_department_as_group()
    )
    back = ColumnMapping.from_dict(json.loads(json.dumps(mapping.to_dict())))
    assert (mapping, 1) == (back, len(back.rejected))


def test_bad_separator() -> None:
    """A blank group separator is a MappingError."""
    with pytest.raises(MappingError):
        ColumnMapping(group_separator=" ")


def test_header_only_table_maps_by_header() -> None:
    """A header row with no data below maps by the header words alone."""
    mapping = suggest(["Fornavn", "E-post"])
    assert {0: "first_name", 1: "email"} == mapping.targets


SPELLINGS: dict[str, list[str]] = {
    "first_name": ["First name", "Given name", "Fornavn", "Förnamn", "Vorname", "Forename"],
    "last_name": ["Last name", "Surname", "Etternavn", "Efternamn", "Efternavn", "Nachname"],
    "email": ["Email", "E-mail address", "E-post", "E-Mail-Adresse", "Work email", "Mail"],
    "department": ["Department", "Dept", "Avdeling", "Avdelning", "Afdeling", "Abteilung"],
    "groups": ["Groups", "Usergroups", "Brukergrupper", "Användargrupper", "Gruppen", "Teams"],
    "is_admin": ["Admin", "Is admin", "Administrator"],
}
VALUES: dict[str, list[str]] = {
    "first_name": ["Anna", "Ole", "Kari", "Jürgen", "Zoë"],
    "last_name": ["Berg", "Hansen", "Ødegård", "O'Neil", "Lie"],
    "department": ["Sales", "HR", "Økonomi", "Engineering"],
    "groups": ["Oslo", "Bergen,Tech", "", "Leaders"],
    "is_admin": ["yes", "no", ""],
}


def styled(text: str, style: int) -> str:
    """The header as people write it: other case, underscores, a mark or an annotation."""
    return [
        text,
        text.upper(),
        text.lower().replace(" ", "_"),
        f"*{text}",
        f"{text} [Required]",
        f" {text}: ",
    ][style]


@st.composite
def tables(draw: Any) -> tuple[list[list[str]], int, dict[int, str]]:
    """A table with preamble rows, a header of random synonyms and data; where the header is."""
    props = draw(
        st.lists(st.sampled_from(sorted(SPELLINGS)), min_size=2, max_size=6, unique=True).filter(
            lambda p: "email" in p
        )
    )
    header = [styled(draw(st.sampled_from(SPELLINGS[p])), draw(st.integers(0, 5))) for p in props]
    width = len(header)
    preamble = draw(
        st.lists(
            st.sampled_from(
                [
                    [],
                    ["version:v1.0"],
                    ["Staff list — Acme AS"],
                    ["Staff list"] * width,
                    ["Exported 2026-03-01", "by HR"],
                ]
            ),
            max_size=3,
        )
    )
    data = []
    for i in range(draw(st.integers(1, 8))):
        row = [
            f"user{i}@firma.no" if p == "email" else draw(st.sampled_from(VALUES[p])) for p in props
        ]
        data.append(row)
    return [*preamble, header, *data], len(preamble), dict(enumerate(props))


@given(tables())
def test_random_tables_recover_header_and_mapping(
    case: tuple[list[list[str]], int, dict[int, str]],
) -> None:
    """Random synonyms in any style, under any preamble, over any data: header and mapping found."""
    rows, header_row, expected = case
    table = make_table(rows)
    found = detect_header(table).row
    assert header_row == found
    assert expected == suggest_mapping(table, found).targets


# -- issue 14: real exports ------------------------------------------------------------------

MORE_LANGUAGES = {
    "fi": ["Etunimi", "Sukunimi", "Sähköposti", "Osasto", "Käyttäjäryhmät"],
    "fi-2": ["Etunimet", "Sukunimi", "Sähköpostiosoite", "Yksikkö", "Ryhmät"],
    "is": ["Fornafn", "Eftirnafn", "Netfang", "Deild", "Hópar"],
    "nl": ["Voornaam", "Achternaam", "E-mailadres", "Afdeling", "Groepen"],
    "nl-2": ["Roepnaam", "Achternaam", "E-mail werk", "Afdeling", "Gebruikersgroepen"],
    "fr": ["Prénom", "Nom", "Adresse e-mail", "Service", "Groupes"],
    "fr-2": ["Prénom", "Nom de famille", "Courriel", "Département", "Équipes"],
    "es": ["Nombre", "Apellidos", "Correo electrónico", "Departamento", "Grupos"],
    "it": ["Nome", "Cognome", "Indirizzo email", "Reparto", "Gruppi"],
    "pl": ["Imię", "Nazwisko", "Adres e-mail", "Dział", "Grupy"],
    "pl-2": ["Imię", "Nazwisko", "Email służbowy", "Departament", "Zespoły"],
    "pt": ["Nome", "Apelido", "Endereço de e-mail", "Departamento", "Grupos"],
    "pt-2": ["Primeiro nome", "Sobrenome", "E-mail", "Setor", "Equipes"],
}
LANGUAGE_NAMES = {
    "fi": "Finnish",
    "is": "Icelandic",
    "nl": "Dutch",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "pl": "Polish",
    "pt": "Portuguese",
}


@pytest.mark.parametrize("language", sorted(MORE_LANGUAGES))
def test_synonyms_in_more_languages(language: str) -> None:
    """Finnish, Icelandic, Dutch, French, Spanish, Italian, Polish, Portuguese headers map."""
    mapping = suggest(MORE_LANGUAGES[language], ROW)
    assert ({"first_name": 0, "last_name": 1, "email": 2, "department": 3}, (4,)) == (
        positions(mapping),
        mapping.group_columns,
    )
    name = LANGUAGE_NAMES[language.split("-")[0]]
    assert [] == [m.reason for m in mapping.matches if name not in m.reason and m.method != "exact"]


def test_tussenvoegsel_is_never_the_last_name() -> None:
    """A Dutch name prefix stays apart from the last name, with a note saying why."""
    mapping = suggest(
        ["Voornaam", "Tussenvoegsel", "Achternaam", "E-mailadres"],
        ["Sanne", "van der", "Berg", "sanne@firma.nl"],
    )
    assert (2, 1) == (mapping.column("last_name"), mapping.unmapped[0])
    assert any("'Tussenvoegsel' (B) holds a name prefix" in n for n in mapping.notes)
    alone = suggest(["Voornaam", "Tussenvoegsel", "E-mail"], ["Sanne", "van", "s@firma.nl"])
    assert None is alone.column("last_name")


@pytest.mark.parametrize(
    ("question", "target"),
    [
        ("Hvilken avdeling jobber du i?", "department"),
        ("Hvilke grupper vil du være med i?", "groups"),
        ("Vilken avdelning arbetar du på?", "department"),
        ("Which teams would you like to join?", "groups"),
        ("In welke afdeling werk je?", "department"),
        ("Mikä on etunimesi?", "first_name"),
        ("Missä osastossa työskentelet?", "department"),
        ("Í hvaða deild vinnur þú?", "department"),
        ("Quel est votre service ?", "department"),
        ("¿En qué departamento trabajas?", "department"),
        ("A quali gruppi vuoi aderire?", "groups"),
        ("W jakim dziale pracujesz?", "department"),
        ("Em que departamento trabalha?", "department"),
        ("Welche Abteilung?", "department"),
        ("Hva er e-postadressen din?", "email"),
    ],
)
def test_question_headers(question: str, target: str) -> None:
    """A property's word inside a form's question maps, weaker, and says so."""
    values = {"email": "kari@firma.no", "groups": "Oslo"}
    mapping = suggest(["Tidsmerke", question], ["01.03.2026 08:00:00", values.get(target, "Kari")])
    [match] = mapping.matches
    assert (1, target, "partial", 0.6) == (match.column, match.target, match.method, match.score)
    assert "inside a longer text such as a question" in match.reason


def test_a_question_loses_to_a_name() -> None:
    """A department named by its header beats a question that mentions departments."""
    mapping = suggest(
        ["Department", "Which department did you work in before?"], ["Sales", "Support"]
    )
    assert 0 == mapping.column("department")
    assert "stronger match (synonym against partial)" in mapping.rejected[0].reason.replace(
        "exact", "synonym"
    )


def test_technical_names_are_not_questions() -> None:
    """``legalAgeGroupClassification`` and ``Email Usage [READ ONLY]`` feed nothing."""
    mapping = suggest(["legalAgeGroupClassification", "Email Usage [READ ONLY]"], ["Adult", "1 GB"])
    assert () == mapping.matches


@pytest.mark.parametrize(
    ("sign_in", "mailbox"),
    [
        ("userPrincipalName", "mail"),
        ("UserPrincipalName", "EmailAddress"),
        ("User principal name", "Email"),
        ("Username", "E-post"),
        ("Brukernavn", "E-postadresse"),
        ("Login", "Work email"),
    ],
)
def test_mailbox_beats_sign_in_name(sign_in: str, mailbox: str) -> None:
    """The mailbox column is the email even when emptier; the sign-in name loses, with why."""
    rows = [[f"u{i}@corp.example", f"u{i}@corp.example" if i % 3 else ""] for i in range(9)]
    mapping = suggest([sign_in, mailbox], *rows)
    assert 1 == mapping.column("email")
    [lost] = mapping.rejected
    assert f"its header {sign_in!r} names a sign-in name, not a mailbox" in lost.reason
    assert "a row without a mailbox address is a problem to fix" in lost.reason


@pytest.mark.parametrize(
    "signed_in",
    [
        "anna_partner.no#EXT#@corp.onmicrosoft.com",
        "anna@corp.local",
        "anna@corp.onmicrosoft.com",
    ],
)
def test_sign_in_addresses_by_content(signed_in: str) -> None:
    """Under headers that say nothing, addresses that look like sign-in names lose."""
    rows = [[signed_in.replace("anna", f"u{i}"), f"u{i}@corp.no"] for i in range(6)]
    mapping = suggest(["Konto", "Adresse"], *rows)
    assert 1 == mapping.column("email")
    assert "look like sign-in names (#EXT#, .local, onmicrosoft.com)" in mapping.rejected[0].reason


def test_a_sign_in_name_alone_is_taken_and_says_so() -> None:
    """With no mailbox column, the sign-in name holding addresses is the email, explained."""
    mapping = suggest(["User principal name", "Display name"], ["anna@corp.no", "Anna Berg"])
    assert 0 == mapping.column("email")
    assert "no column names a mailbox, so the sign-in name is taken" in mapping.matches[0].reason


def test_a_sign_in_name_that_is_no_address_is_never_the_email() -> None:
    """``SamAccountName`` holding ``jdoe`` never feeds the email."""
    mapping = suggest(["SamAccountName", "Name"], ["jdoe", "J Doe"])
    assert None is mapping.column("email")
    assert "its cells are not email addresses" in mapping.rejected[0].reason


NAMES = ["van der Berg, Anne-Lise", "Ní Bhriain, Aoife", "山田, 花子", "Haugen, Kari", "Lie, Ola"]


@pytest.mark.parametrize("header", ["Navn", "Name", "Full name", "Etternavn, fornavn", "Ansatt"])
def test_surname_comma_given_names_feeds_both(header: str) -> None:
    """A whole-name column of ``Surname, Given names`` feeds last and first name, noted."""
    rows = [[name, f"u{i}@firma.no", "IT"] for i, name in enumerate(NAMES)]
    mapping = suggest([header, "E-post", "Avdeling"], *rows)
    assert (0, 0) == (mapping.column("first_name"), mapping.column("last_name"))
    assert NameSplit(column=0, rule="last_comma_first", reason=mapping.name_split.reason) == (
        mapping.name_split
    )
    assert any("feeds last_name and first_name" in n for n in mapping.notes)
    assert "last_name and first_name, read as 'Surname, Given names'" in mapping.explain()
    assert "last_name+first_name" == mapping.to_frame()["property"][0]


def test_a_name_without_the_comma_is_a_problem_on_its_row() -> None:
    """Split names land in both fields; a cell without the comma is ``name_not_split``."""
    rows = [[name, f"u{i}@firma.no", "IT"] for i, name in enumerate([*NAMES, "Ola Nordmann"])]
    table = make_table([["Navn", "E-post", "Avdeling"], *rows])
    review = validate(table, 0, suggest_mapping(table, 0))
    assert ["Anne-Lise", "Aoife", "花子", "Kari", "Ola"] == review.rows["first_name"].tolist()[:5]
    assert ["van der Berg", "Ní Bhriain", "山田"] == review.rows["last_name"].tolist()[:3]
    issue = review.issues.iloc[0]
    assert (7, "name_not_split", "line 7, column 1") == (issue["row"], issue["code"], issue["cell"])
    assert "the name 'Ola Nordmann' cannot be split" in issue["message"]
    assert review.edit(7, first_name="Ola", last_name="Nordmann").is_valid


@pytest.mark.parametrize("header", ["Full name", "Name", "fullname", "Navn"])
def test_given_surname_without_comma_suggests_nothing(header: str) -> None:
    """``Given Surname`` with no comma: no first or last name, and a note says why."""
    mapping = suggest([header, "Email"], ["Anna Berg", "a@b.no"], ["Mary Ann Smith", "m@b.no"])
    assert (None, None, None) == (
        mapping.column("first_name"),
        mapping.column("last_name"),
        mapping.name_split,
    )
    assert any("is a person's choice" in n and "split_name" in n for n in mapping.notes)


@pytest.mark.parametrize(
    ("rule", "name", "expected"),
    [
        ("first_last", "Anna Marie Berg", ("Anna Marie", "Berg")),
        ("first_rest", "Anne van der Berg", ("Anne", "van der Berg")),
        ("last_comma_first", "Berg, Anna", ("Anna", "Berg")),
    ],
)
def test_split_name_rules(rule: Any, name: str, expected: tuple[str, str]) -> None:
    """An explicit split rule splits every cell column-wise; one word is a problem."""
    table = make_table(
        [["Full name", "Email", "Dept"], [name, "a@b.no", "IT"], ["Cher", "c@b.no", "IT"]]
    )
    mapping = suggest_mapping(table, 0).split_name("Full name", rule)
    review = validate(table, 0, mapping)
    row = review.rows.loc[2]
    assert expected == (row["first_name"], row["last_name"])
    assert [3] == sorted(review.report.error_rows())


def test_name_split_survives_and_yields() -> None:
    """A split survives to_dict/from_dict, yields to a hand mapping, and checks its rule."""
    mapping = ColumnMapping.from_columns({1: "email"}, headers=("Navn", "E-post")).split_name(0)
    assert mapping == ColumnMapping.from_dict(mapping.to_dict())
    assert None is mapping.map(0, "first_name").name_split
    with pytest.raises(MappingError, match="unknown name split rule"):
        mapping.split_name(0, "middle")  # type: ignore[arg-type]
    with pytest.raises(MappingError, match="only one may feed it"):
        ColumnMapping(
            headers=("Navn", "Fornavn"),
            width=2,
            matches=[ColumnMatch(column=1, target="first_name")],
            name_split=NameSplit(column=0),
        )


@pytest.mark.parametrize(
    ("cells", "separator"),
    [
        (["Oslo;Drift", "Bergen; Salg", "Oslo"], ";"),
        (["Oslo|Drift", "Bergen | Salg", "Oslo"], "|"),
        (["Oslo / Drift", "Bergen / Salg", "HR/Lønn"], " / "),
        (["Oslo\nDrift", "Bergen\nSalg", "Oslo"], "\n"),
        (["Oslo, Drift", "Bergen, Salg", "Oslo"], ","),
        (["Oslo", "Bergen", "Drift"], ","),
    ],
)
def test_group_separator_from_the_cells(cells: list[str], separator: str) -> None:
    """The separator the group cells hold is suggested, and the notes say why."""
    rows = [[f"u{i}@firma.no", cell] for i, cell in enumerate(cells)]
    mapping = suggest(["E-post", "Grupper"], *rows)
    assert separator == mapping.group_separator
    said = [n for n in mapping.notes if "group cells of 'Grupper' (B) are split on" in n]
    assert len(said) == (1 if any(separator in c for c in cells) else 0)


def test_a_group_name_holding_a_likely_separator_is_warned() -> None:
    """A group name that holds another likely separator gets a warning note naming its row."""
    rows = [["a@b.no", "Oslo, Norge;Drift"], ["c@b.no", "Salg;Drift"]]
    mapping = suggest(["Email", "Groups"], *rows)
    assert ";" == mapping.group_separator
    assert any("'Oslo, Norge' (row 2) holds ','" in n for n in mapping.notes)


@pytest.mark.parametrize(
    "footer",
    [
        [["Totalt: 3 ansatte"], ["Dette dokumentet er konfidensielt"], ["Side 1 av 1"]],
        [["Total", "", "3"], ["Page 1 of 1"]],
        [["Summe: 3 Mitarbeiter"], ["Vertraulich – nur für den internen Gebrauch"]],
        [["Yhteensä 3 työntekijää"], ["Sivu 1/1"]],
        [["Generated by SAP SuccessFactors on 2026-03-01 by an administrator"]],
    ],
)
def test_footer_rows_are_left_out(footer: list[list[str]]) -> None:
    """Totals, confidentiality lines and page numbers under the table are not users."""
    data = [[f"Kari{i}", "Lie", f"k{i}@firma.no", "IT"] for i in range(3)]
    table = make_table([["Fornavn", "Etternavn", "E-post", "Avdeling"], *data, [], *footer])
    mapping = suggest_mapping(table, 0)
    review = validate(table, 0, mapping)
    assert list(range(5, 5 + len(footer))) == list(mapping.footer_rows)
    assert (3, 0) == (review.overview().valid, review.overview().invalid)
    assert any("under the table" in n and "neither valid nor invalid" in n for n in mapping.notes)


def test_a_last_user_without_email_is_not_a_footer() -> None:
    """A last row that is a person missing an address stays, as a problem row."""
    table = make_table(
        [
            ["Fornavn", "Etternavn", "E-post", "Avdeling"],
            ["Kari", "Lie", "k@f.no", "IT"],
            ["Ola", "Nordmann", "", "IT"],
        ]
    )
    mapping = suggest_mapping(table, 0)
    assert ((), [3]) == (
        mapping.footer_rows,
        sorted(validate(table, 0, mapping).report.error_rows()),
    )


def test_suggestion_reads_a_sample_of_a_long_table() -> None:
    """Mapping 100,000 rows costs about what mapping a few hundred does (a sample, no row loop)."""
    import time

    body = [[f"Kari{i}", "Lie", f"k{i}@firma.no", "IT", "Oslo;Drift"] for i in range(300)]
    small = make_table([["Fornavn", "Etternavn", "E-post", "Avdeling", "Grupper"], *body])
    big = RawTable(rows=pd.concat([small.rows] * 334, ignore_index=True), format="csv")
    timings = []
    for table in (small, big):
        start = time.perf_counter()
        suggest_mapping(table, 0)
        timings.append(time.perf_counter() - start)
    assert timings[1] < 5 * timings[0] + 0.2


NAME_PART = st.text(
    alphabet=st.characters(categories=["L"], exclude_characters=",，"), min_size=1, max_size=8
).map(str.strip)
GROUP = st.text(alphabet="abcdefghijklmnopqrstuvwxyzæøåÄÖ-", min_size=1, max_size=10)


@given(st.lists(st.tuples(NAME_PART, st.lists(NAME_PART, min_size=1, max_size=3)), min_size=1))
def test_comma_names_split_back_into_their_parts(names: list[tuple[str, list[str]]]) -> None:
    """``Surname, Given names`` always splits back into the surname and the given names."""
    cells = pd.Series([f"{last}, {' '.join(given)}" for last, given in names], dtype="str")
    first, last, bad = NameSplit(column=0).apply(cells)
    expected = ([" ".join(g) for _, g in names], [s for s, _ in names], [False] * len(names))
    assert expected == (first.tolist(), last.tolist(), bad.tolist())


@given(
    st.sampled_from([";", "|", " / ", "\n", ","]),
    st.lists(st.lists(GROUP, min_size=2, max_size=3), min_size=2, max_size=8),
)
def test_the_separator_joining_group_names_is_found(separator: str, cells: list[list[str]]) -> None:
    """Group names joined by any likely separator give that separator back."""
    rows = [[f"u{i}@firma.no", separator.join(names)] for i, names in enumerate(cells)]
    assert separator == suggest(["Email", "Groups"], *rows).group_separator


def test_a_powershell_type_name_is_no_group() -> None:
    """``MemberOf`` holding Export-Csv's type name feeds no groups, and says how to fix it."""
    junk = "Microsoft.ActiveDirectory.Management.ADPropertyValueCollection"
    mapping = suggest(["EmailAddress", "MemberOf"], ["a@b.no", junk], ["c@b.no", junk])
    assert () == mapping.group_columns
    assert "PowerShell's type name" in mapping.rejected[0].reason


def test_every_group_name_holding_a_separator_is_warned_in_the_review() -> None:
    """Validation warns on each row whose group name holds another likely separator."""
    rows = [["a@b.no", "A", "B", "IT", "Oslo, Norge;Drift"], ["c@b.no", "C", "D", "IT", "Salg;HR"]]
    table = make_table([["Email", "First", "Last", "Dept", "Groups"], *rows])
    review = validate(table, 0, suggest_mapping(table, 0))
    warned = review.issues[review.issues["code"] == "group_name_separator"]
    assert ([2], ["warning"], True) == (
        warned["row"].tolist(),
        warned["severity"].tolist(),
        review.is_valid,
    )


def test_an_empty_mailbox_column_yields_to_addresses() -> None:
    """``EmailAddress`` left empty (not asked of Get-ADUser) yields to the sign-in name, noted."""
    rows = [[f"u{i}@corp.local", ""] for i in range(4)]
    mapping = suggest(["UserPrincipalName", "EmailAddress"], *rows)
    assert 0 == mapping.column("email")
    reason = mapping.matches[0].reason
    assert "the mailbox column 'EmailAddress' is empty" in reason
    assert "check that mail reaches them" in reason


@given(st.text(max_size=30) | st.text(alphabet="AaßØæÉé_ -Kİ\u0301\u212a", max_size=12))
def test_fold_takes_its_ascii_shortcut_without_changing_a_result(text: str) -> None:
    """fold gives what the full Unicode folding gives, whether or not its text is ASCII."""
    import re
    import unicodedata

    from userimport import _synonyms

    full = unicodedata.normalize(
        "NFKD", re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text).casefold().translate(_synonyms._FOLD)
    )
    full = "".join(c for c in full if not unicodedata.combining(c))
    assert re.sub(r"[^a-z0-9]+", " ", full).strip() == _synonyms.fold(text)


@given(st.text(max_size=30) | st.text(alphabet="Aa[]()_ -ZzØé1\u212a", max_size=12))
def test_normalise_takes_its_ascii_shortcut_without_changing_a_result(text: str) -> None:
    """normalise gives fold's result without its spaces, whether or not its text is ASCII."""
    import re

    from userimport import _synonyms

    annotation = r"\[[^\]]*\]|\([^)]*\)|\{[^}]*\}"
    assert _synonyms.fold(re.sub(annotation, " ", text)).replace(" ", "") == _synonyms.normalise(
        text
    )

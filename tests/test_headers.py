"""Header-row detection: preambles, titles, blank rows, odd header cells, no header at all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import corpus_dir, make_table
from userimport import HeaderError, RawTable, detect_header, read_table
from userimport.headers import SCAN_ROWS, THRESHOLD, HeaderGuess, header_names

CASES = json.loads((corpus_dir() / "expected.json").read_text(encoding="utf-8"))
HEADER = ["First name", "Last name", "Email", "Department"]
DATA = [
    ["Anna", "Berg", "anna@firma.no", "Sales"],
    ["Ole", "Hansen", "ole@firma.no", "HR"],
    ["Kari", "Lie", "kari@firma.no", "Sales"],
]


def read_case(case: dict[str, Any], corpus: Path) -> RawTable:
    """Read a corpus file, passing what expected.json says reading should find."""
    hints = {k: case[k] for k in ("encoding", "delimiter", "sheet") if k in case}
    return read_table(corpus / case["file"], **hints)


def header_cells(table: RawTable, guess: HeaderGuess) -> list[str] | None:
    """The cells of the guessed header row, trailing empty cells left out."""
    if guess.row is None:
        return None
    cells = list(header_names(table, guess.row))
    while cells and not cells[-1]:
        cells.pop()
    return cells


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["file"])
def test_corpus_header_rows(case: dict[str, Any], corpus: Path) -> None:
    """The header row of every corpus file is found with no hints, or none when it has none."""
    table = read_case(case, corpus)
    assert case["header"] == header_cells(table, detect_header(table))


@pytest.mark.parametrize(
    "above",
    [
        [["version:v1.0"]],
        [["Staff list — Acme AS"], ["Exported 2026-03-01 by HR"], []],
        [[], [], []],
        [[], ["Report", "", "", ""], []],
        [["Staff list 2026"] * 4],
        [["Exported by", "HR"], ["Date:", "2026-03-01"]],
        [["Note: fill in one user per row. Email is required and cannot change later."]],
    ],
    ids=[
        "preamble",
        "title-and-date",
        "blank-rows",
        "title-between-blanks",
        "merged-title",
        "key-value-lines",
        "long-note",
    ],
)
def test_header_below_preamble(above: list[list[str]]) -> None:
    """A preamble, a title (also merged across the columns) and blank rows are passed over."""
    table = make_table([*above, HEADER, *DATA])
    assert len(above) == detect_header(table).row


def test_merged_title_is_explained() -> None:
    """A title repeated across the columns, as a merged cell may be read, is named as a title."""
    guess = detect_header(make_table([["Staff"] * 4, HEADER, *DATA]))
    title = next(c for c in guess.candidates if c.row == 0)
    assert any("merged across the columns" in r for r in title.reasons)


def test_no_header() -> None:
    """A file whose first row already holds emails has no header row."""
    guess = detect_header(make_table(DATA))
    assert None is guess.row
    assert guess.confidence > 0.5
    assert any("data row" in r for c in guess.candidates for r in c.reasons)


def test_no_header_when_the_first_row_lacks_its_email() -> None:
    """A first data row with an empty email cell is still data, not a header."""
    guess = detect_header(make_table([["Anna", "Berg", "", "Sales"], *DATA]))
    assert None is guess.row


def test_a_data_row_below_data_is_not_a_header() -> None:
    """A row without addresses inside the data (a typo) is not taken for the header."""
    rows = [*DATA, ["Per", "Berg", "not-an-email", "HR"], *DATA]
    assert None is detect_header(make_table(rows)).row


@pytest.mark.parametrize(
    "header",
    [
        ["Email", "", "Email", "Name"],
        ["First name", "First name", "Email", ""],
        ["", "Last name", "Email", "Department"],
    ],
    ids=["duplicate-and-blank", "duplicate", "leading-blank"],
)
def test_duplicate_and_blank_header_cells(header: list[str]) -> None:
    """Blank and duplicate header cells do not stop the header from being found."""
    assert 0 == detect_header(make_table([header, *DATA])).row


def test_unknown_words_above_emails_are_a_header() -> None:
    """Text cells above rows of addresses are a header even when no word is known."""
    table = make_table([["Kolonne A", "Kolonne B"], ["a@b.no", "x"], ["c@d.no", "y"]])
    assert 0 == detect_header(table).row


def test_header_over_numbers_and_dates() -> None:
    """Text above columns of numbers and dates is a header; the rows of numbers are data."""
    rows = [
        ["Employee ID", "Start Date", "Email"],
        ["1000", "2020-01-01", "a@b.no"],
        ["1001", "2020-02-07", "c@b.no"],
    ]
    guess = detect_header(make_table(rows))
    assert 0 == guess.row
    best = guess.candidates[0]
    assert any("differ in kind from the column below" in r for r in best.reasons)


def test_header_of_a_file_with_no_data() -> None:
    """A template with a header row and no users yet has that header row."""
    assert 0 == detect_header(make_table([HEADER])).row


def test_headers_in_other_languages() -> None:
    """Header words in Norwegian, Swedish, Danish and German count as header words."""
    for header in (
        ["Fornavn", "Etternavn", "E-post", "Avdeling"],
        ["Förnamn", "Efternamn", "E-postadress", "Avdelning"],
        ["Fornavn", "Efternavn", "E-mail", "Afdeling"],
        ["Vorname", "Nachname", "E-Mail-Adresse", "Abteilung"],
    ):
        guess = detect_header(make_table([["Brukerliste"], header, *DATA]))
        assert (1, True) == (guess.row, "4 of 4 cells are known" in guess.candidates[0].reasons[0])


def test_candidates_are_ranked_with_reasons() -> None:
    """The guess lists the non-blank rows considered, best first, each with its reasons."""
    guess = detect_header(make_table([["Title"], [], HEADER, *DATA]))
    scores = [c.score for c in guess.candidates]
    assert sorted(scores, reverse=True) == scores
    assert [0, 2, 3, 4, 5] == sorted(c.row for c in guess.candidates)
    assert 2 == guess.candidates[0].row
    assert all(c.reasons and 0 <= c.score <= 1 for c in guess.candidates)
    assert 0 <= guess.confidence <= 1
    assert guess.candidates[0].score >= THRESHOLD


def test_explain_names_the_row_and_the_reasons() -> None:
    """HeaderGuess.explain names the row found and why the best rows scored as they did."""
    text = detect_header(make_table([["Title"], HEADER, *DATA])).explain()
    assert text.startswith("header row 1 (0-based), confidence")
    assert "row 0: score" in text
    assert "a title" in text


def test_only_the_first_rows_are_scanned() -> None:
    """Rows past SCAN_ROWS are never candidates, however long the table."""
    rows = [["x@y.no", "1"]] * 5000 + [["Email", "Name"]]
    guess = detect_header(make_table(rows))
    assert None is guess.row
    assert max(c.row for c in guess.candidates) < SCAN_ROWS


def test_empty_table() -> None:
    """A table with no cells has no header row, and no candidates."""
    table = RawTable(rows=pd.DataFrame(), format="csv")
    assert HeaderGuess(row=None, confidence=1.0) == detect_header(table)


def test_header_names() -> None:
    """header_names gives every column's header text, stripped, blanks as ''."""
    table = make_table([[" Email ", "", "Name"], ["a@b.no", "x", "A"]])
    assert ("Email", "", "Name") == header_names(table, 0)
    assert () == header_names(table, None)


@pytest.mark.parametrize("row", [9, -1])
def test_header_names_errors(row: int) -> None:
    """Asking for a header row outside the table is a HeaderError naming the row."""
    with pytest.raises(HeaderError, match=f"no row {row}"):
        header_names(make_table(DATA), row)


PREAMBLES = st.sampled_from(
    [
        [],
        ["version:v1.0"],
        ["Staff", "Staff", "Staff", "Staff"],
        ["Export 2026-03-01"],
        ["Confidential", "", "", ""],
        ["Exported by:", "HR"],
    ]
)


@given(
    st.lists(PREAMBLES, max_size=4),
    st.lists(
        st.sampled_from(["first name", "Fornavn", "LAST NAME", "Etternavn", "Avdeling", "Team"]),
        min_size=2,
        max_size=4,
        unique=True,
    ),
    st.sampled_from(["Email", "E-post", "E-mail address", "Mail", "*Email [Required]"]),
    st.integers(0, 4),
)
def test_header_found_under_random_preamble(
    titles: list[list[str]], words: list[str], email: str, n_rows: int
) -> None:
    """Known header words in any case, under any preamble, are found."""
    header = [email, *words]
    data = [[f"u{i}@firma.no", *(f"v{i}{j}" for j in range(len(words)))] for i in range(n_rows)]
    table = make_table([*titles, header, *data])
    assert len(titles) == detect_header(table).row


# -- issue 14: real exports ------------------------------------------------------------------

TWO_ROW = ["Fornavn", "Etternavn", "E-post", "Mobil", "Avdeling", "Grupper"]
TWO_ROW_DATA = [[f"Kari{i}", "Lie", f"k{i}@f.no", "+47 900", "IT", "Oslo"] for i in range(6)]


@pytest.mark.parametrize(
    "band",
    [
        # As openpyxl reads merges: the value in the top-left cell only.
        [["Navn", "", "Kontakt", "", "Avdeling", "Grupper"], [*TWO_ROW[:4], "", ""]],
        # As a reader that gives every cell of a merge its value.
        [["Navn", "Navn", "Kontakt", "Kontakt", "Avdeling", "Grupper"], TWO_ROW],
    ],
    ids=["top-left", "filled"],
)
def test_two_row_header_keeps_the_names_merged_down(band: list[list[str]]) -> None:
    """The lower header row is the header, with the names merged down over both rows."""
    table = make_table([["Ansattoversikt"], [], *band, *TWO_ROW_DATA])
    guess = detect_header(table)
    assert (3, TWO_ROW) == (guess.row, list(header_names(table, 3)))


def test_a_title_above_never_names_a_blank_header_cell() -> None:
    """A title row (one cell, or merged across) does not fill the header's blank cells."""
    for title in (["Staff list"], ["Staff list"] * 4):
        table = make_table([title, ["Email", "Name", "", "Dept"], ["a@b.no", "A", "x", "IT"]])
        assert ("Email", "Name", "", "Dept") == header_names(table, 1)


def test_form_questions_are_a_header_row() -> None:
    """A Google Forms answer sheet's question row is its header."""
    header = ["Tidsmerke", "E-postadresse", "Hvilken avdeling jobber du i?", "Hvilke grupper?"]
    data = [[f"0{i}.03.2026 08:00:00", f"k{i}@f.no", "IT", "Oslo, Drift"] for i in range(1, 6)]
    guess = detect_header(make_table([header, *data]))
    assert 0 == guess.row
    assert "(department, email, groups)" in guess.explain()


def test_a_powershell_type_line_is_passed_over() -> None:
    """Export-Csv's ``#TYPE`` line above the header is not the header."""
    rows = [
        ["#TYPE Selected.Microsoft.ActiveDirectory.Management.ADUser"],
        ["GivenName", "Surname", "SamAccountName", "UserPrincipalName", "EmailAddress"],
        *[[f"K{i}", "Lie", f"klie{i}", f"klie{i}@corp.local", f"k{i}@corp.no"] for i in range(5)],
    ]
    assert 1 == detect_header(make_table(rows)).row


def test_two_row_header_with_many_names_merged_down() -> None:
    """With more names merged down than split, the lower row is still the header."""
    band = ["Ansattnr", "Navn", "", "Kontakt", "", "Avdeling", "Grupper", "Startdato"]
    lower = ["", "Fornavn", "Etternavn", "E-post", "Mobil", "", "", ""]
    data = [[f"{i}", f"K{i}", "Lie", f"k{i}@f.no", "+47", "IT", "Oslo", "2024"] for i in range(8)]
    table = make_table([["Ansattoversikt"], [], band, lower, *data])
    guess = detect_header(table)
    assert 3 == guess.row
    assert "the upper row of a two-row header" in guess.explain()
    expected = ("Ansattnr", "Fornavn", "Etternavn", "E-post", "Mobil", "Avdeling", "Grupper")
    assert (*expected, "Startdato") == header_names(table, 3)

"""Header-row detection: title lines, blank rows, no header at all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import corpus_dir, make_table
from userimport import HeaderError, detect_header, read_table
from userimport._synonyms import SYNONYMS
from userimport.headers import header_names

CASES = json.loads((corpus_dir() / "expected.json").read_text(encoding="utf-8"))
DATA = [["Anna", "Berg", "anna@firma.no", "Sales"], ["Ole", "Hansen", "ole@firma.no", "HR"]]
HEADER = ["First name", "Last name", "Email", "Department"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["file"])
def test_corpus_headers(case: dict[str, Any], corpus: Path) -> None:
    """The header row of every corpus file is found with no hints (or none, when it has none)."""
    table = read_table(corpus / case["file"])
    guess = detect_header(table)
    if case["header"] is None:
        assert guess.row is None
        return
    assert guess.row is not None
    cells = list(header_names(table, guess.row))
    while cells and not cells[-1]:
        cells.pop()
    assert case["header"] == cells


@pytest.mark.parametrize(
    "above",
    [
        [["version:v1.0"]],
        [["Staff list — Acme AS"], ["Exported 2026-03-01 by HR"], []],
        [[], [], ["Report", "", "", ""]],
        [["Note: fill in one user per row. Email is required and cannot change later."]],
    ],
    ids=["preamble", "title-and-date", "blank-rows", "long-note"],
)
def test_header_below_titles(above: list[list[str]]) -> None:
    """A preamble, a report title and blank rows above the header are passed over."""
    table = make_table([*above, HEADER, *DATA])
    assert len(above) == detect_header(table).row


def test_no_header() -> None:
    """A file whose first row already holds emails has no header row."""
    guess = detect_header(make_table(DATA))
    assert guess.row is None
    assert guess.confidence > 0.5
    assert any("data row" in r for c in guess.candidates for r in c.reasons)


def test_duplicate_and_blank_header_cells() -> None:
    """Blank and duplicate header cells do not stop the header from being found."""
    table = make_table([["Email", "", "Email", "Name"], ["a@b.no", "x", "a@b.no", "A"]])
    assert 0 == detect_header(table).row


def test_unknown_words_above_emails_are_a_header() -> None:
    """Text cells above rows of addresses are a header even when no word is known."""
    table = make_table([["Kolonne A", "Kolonne B"], ["a@b.no", "x"], ["c@d.no", "y"]])
    assert 0 == detect_header(table).row


def test_candidates_are_ranked_with_reasons() -> None:
    """The guess lists the rows considered, best first, each with its reasons."""
    guess = detect_header(make_table([["Title"], HEADER, *DATA]))
    scores = [c.score for c in guess.candidates]
    assert sorted(scores, reverse=True) == scores
    assert 1 == guess.candidates[0].row
    assert all(c.reasons for c in guess.candidates)
    assert 0 <= guess.confidence <= 1


def test_header_names_errors() -> None:
    """Asking for a header row outside the table is a HeaderError."""
    with pytest.raises(HeaderError, match="no row 9"):
        header_names(make_table(DATA), 9)
    assert () == header_names(make_table(DATA), None)


WORDS = sorted(k for k, v in SYNONYMS.items() if v in ("first_name", "last_name", "department"))


@given(
    st.lists(st.sampled_from(["Staff", "Export 2026", "", "Confidential"]), max_size=4),
    st.lists(
        st.sampled_from(["first name", "Fornavn", "LAST NAME", "Etternavn", "Avdeling"]),
        min_size=2,
        max_size=4,
        unique=True,
    ),
    st.sampled_from(["Email", "E-post", "E-mail address", "Mail"]),
)
def test_header_found_under_random_preamble(
    titles: list[str], words: list[str], email: str
) -> None:
    """Known header words in any case, under any preamble, are found."""
    header = [email, *words]
    rows = [[t] if t else [] for t in titles]
    data = [[f"u{i}@firma.no", *(["x"] * len(words))] for i in range(3)]
    table = make_table([*rows, header, *data])
    assert len(titles) == detect_header(table).row

"""Review & correct: views, edits, skips and revalidation, each returning a new review."""

from __future__ import annotations

import pytest

from tests.conftest import make_review
from userimport import MappingError, ReviewError

ROWS = [
    ["Anna", "Berg", "anna@firma.no", "Sales", "Oslo"],
    ["", "Hansen", "ole@firma.no", "HR", ""],
    ["Kari", "Dahl", "anna@firma.no", "Sales", ""],
    ["Per", "Lie", "per@firma.no", "", "Bergen"],
]


@pytest.fixture
def review():  # type: ignore[no-untyped-def]
    """Four rows: one valid, a missing first name, a duplicate email, a missing department."""
    return make_review(ROWS)


def test_overview_counts(review) -> None:  # type: ignore[no-untyped-def]
    """The overview counts valid, invalid and skipped rows and issues per code."""
    overview = review.overview()
    assert (4, 0, 4, 0) == (overview.total, overview.valid, overview.invalid, overview.skipped)
    assert {"duplicate_email": 2, "required": 2} == dict(overview.issues)
    assert overview.actions is None


def test_overview_with_a_repository_says_what_will_happen(review, seeded_repo) -> None:  # type: ignore[no-untyped-def]
    """Given a store, the overview includes the plan's summary."""
    fixed = review.edit(4, email="kari@firma.no").edit(5, department="HR")
    overview = fixed.overview(seeded_repo)
    assert overview.actions is not None
    assert {"create": 3, "skip": 1, "new_departments": 1} == {
        k: v for k, v in overview.actions.items() if v
    }


def test_only_errors_is_a_view(review) -> None:  # type: ignore[no-untyped-def]
    """only_errors shows rows with errors; the data behind stays whole."""
    fixed = review.edit(3, first_name="Ole").edit(4, email="kari@firma.no")
    view = fixed.only_errors()
    assert [5] == list(view.rows.index)
    assert {5} == set(view.issues["row"])
    assert 4 == view.overview().total
    assert [2, 3, 4, 5] == list(view.all_rows().rows.index)


def test_search_matches_any_cell_in_any_case(review) -> None:  # type: ignore[no-untyped-def]
    """search finds rows where any mapped cell contains the text, ignoring case."""
    assert [2, 4] == list(review.search("ANNA@").rows.index)
    assert [5] == list(review.search("bergen").rows.index)
    assert [] == list(review.search("nobody").rows.index)


def test_edit_rechecks_the_row(review) -> None:  # type: ignore[no-untyped-def]
    """Editing a missing first name makes the row valid, and the old review is unchanged."""
    fixed = review.edit(3, first_name="Ole")
    assert "valid" == fixed.rows.loc[3, "status"]
    assert "Ole" == fixed.rows.loc[3, "first_name"]
    assert "invalid" == review.rows.loc[3, "status"]
    assert {3} == fixed.edited


def test_edit_rechecks_across_rows(review) -> None:  # type: ignore[no-untyped-def]
    """Fixing one of two duplicate emails makes both rows valid again."""
    fixed = review.edit(4, email="kari@firma.no")
    assert ["valid", "valid"] == list(fixed.rows.loc[[2, 4], "status"])


def test_edit_can_create_a_duplicate(review) -> None:  # type: ignore[no-untyped-def]
    """Editing an email into one already used flags both rows."""
    broken = review.edit(5, email="ANNA@firma.no", department="HR")
    assert {2, 4, 5} == set(broken.issues.loc[broken.issues["code"] == "duplicate_email", "row"])


def test_edit_groups_as_list_or_text(review) -> None:  # type: ignore[no-untyped-def]
    """Groups can be edited as a list of names or as separated text."""
    assert ("A", "B") == review.edit(2, groups=["B", "A"]).rows.loc[2, "groups"]
    assert ("A", "B") == review.edit(2, groups="A, B").rows.loc[2, "groups"]


def test_edit_custom_attributes(review) -> None:  # type: ignore[no-untyped-def]
    """attributes={...} edits custom properties, adding the column if needed."""
    edited = review.edit(2, attributes={"title": "CTO"})
    assert "CTO" == edited.rows.loc[2, "attributes.title"]
    assert "" == edited.rows.loc[3, "attributes.title"]


def test_edit_clears_extra_cells() -> None:
    """An edit of a row longer than the header clears its extra cells: the person has fixed it."""
    review = make_review([["Anna", "Berg", "anna@firma.no", "Sales", "Oslo", "oops"]])
    assert not review.is_valid
    assert review.edit(2, first_name="Anna").is_valid


def test_edit_errors(review) -> None:  # type: ignore[no-untyped-def]
    """Editing a row that does not exist or an unknown property is a clear error."""
    with pytest.raises(ReviewError, match="no data row 99"):
        review.edit(99, first_name="X")
    with pytest.raises(MappingError, match="unknown property 'nickname'"):
        review.edit(2, nickname="X")


def test_skip_and_unskip(review) -> None:  # type: ignore[no-untyped-def]
    """Skipped rows are not imported, leave duplicate checks, and come back with unskip."""
    skipped = review.skip(4)
    assert "skipped" == skipped.rows.loc[4, "status"]
    assert "valid" == skipped.rows.loc[2, "status"]
    assert 1 == skipped.overview().skipped
    back = skipped.unskip(4)
    assert "invalid" == back.rows.loc[4, "status"]
    with pytest.raises(ReviewError):
        review.skip(1)


def test_is_valid_ignores_skipped_rows(review) -> None:  # type: ignore[no-untyped-def]
    """A review whose only bad rows are skipped is valid."""
    assert review.skip(3, 4, 5).is_valid


def test_revalidate_is_stable(review) -> None:  # type: ignore[no-untyped-def]
    """Revalidating gives the same rows and issues, edits and skips kept."""
    changed = review.edit(3, first_name="Ole").skip(5)
    again = changed.revalidate()
    assert changed.rows.equals(again.rows)
    assert changed.issues.equals(again.issues)
    assert (changed.skipped, changed.edited) == (again.skipped, again.edited)


def test_views_survive_edits(review) -> None:  # type: ignore[no-untyped-def]
    """Editing inside a filtered view keeps the same rows in view, the fixed one included."""
    view = review.only_errors().edit(3, first_name="Ole")
    assert 4 == len(view.all_rows().rows)
    assert [2, 3, 4, 5] == sorted(view.rows.index)
    assert "valid" == view.rows.loc[3, "status"]


def test_html_view_shows_counts_and_escaped_issues() -> None:
    """In a notebook a review shows its counts and its issues, with values escaped."""
    review = make_review([["<i>A</i>", "B", "not-an-email", "S", ""]])
    html = review._repr_html_()
    assert "<b>1</b> rows" in html
    assert "not a valid email address" in html
    assert "not-an-email" in html
    clean = make_review([["A", "B", "a@b.no", "S", ""]])._repr_html_()
    assert "<table>" not in clean


def test_search_finds_decomposed_and_folded_text() -> None:
    """A composed search finds a decomposed cell, and ``strasse`` finds ``Straße``."""
    review = make_review(
        [
            ["Jose\u0301", "Stra\u00dfe", "jose@firma.no", "Sales", ""],
            ["Ole", "Hansen", "ole@firma.no", "HR", ""],
        ]
    )
    assert [2] == list(review.search("josé").rows.index)
    assert [2] == list(review.search("STRASSE").rows.index)


def test_notebook_review_shows_the_matching_rows_and_who_has_a_problem() -> None:
    """Review's HTML shows the rows search() matched and the person beside each problem."""
    from userimport import detect_header, read_table, suggest_mapping, validate

    text = (
        "First Name,Last Name,Email,Department\n"
        "Anna,Berg,anna@firma.no,Sales\nBo,Ek,not-an-email,HR\nCe,Fa,ce@firma.no,Sales\n"
    )
    table = read_table(text.encode())
    header = detect_header(table).row
    review = validate(table, header, suggest_mapping(table, header))
    page = review.search("Sales")._repr_html_()
    assert "anna@firma.no" in page
    assert "ce@firma.no" in page
    assert "Bo" not in page.split("Problems")[0]
    page = review._repr_html_()
    problems = page.split("Problems (1)")[1]
    assert "Bo Ek" in problems
    assert "the email &#x27;not-an-email&#x27; is not a valid email address" in problems
    assert "not-an-email" in problems


def test_overview_repr_is_short() -> None:
    """Overview's repr is one short line of counts."""
    from userimport import Overview

    o = Overview(total=30, valid=28, invalid=1, skipped=1, warnings=0, issues={"invalid_email": 1})
    expected = (
        "Overview(total=30, valid=28, invalid=1, skipped=1, warnings=0, issues: invalid_email 1)"
    )
    assert expected == repr(o)

"""Mirror mode's guard (``userimport._mirror``): which rows are unreadable, who a row may be."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import make_review
from userimport._mirror import _folded, _shown, unreadable_rows
from userimport._namecheck import fold


@given(st.lists(st.text(max_size=12), max_size=20))
def test_names_are_folded_column_wise_as_one_by_one(names: list[str]) -> None:
    """The column-wise folding of names gives exactly what fold() gives name by name."""
    assert [fold(n) for n in names] == _folded(names)


def test_every_email_error_but_a_duplicate_is_unreadable() -> None:
    """Empty, malformed and too long emails are unreadable; a repeated valid one is not."""
    review = make_review(
        [
            ["A", "B", "", "S", ""],
            ["A", "B", "a@b", "S", ""],
            ["A", "B", "a" * 250 + "@firma.no", "S", ""],
            ["A", "B", "dup@firma.no", "S", ""],
            ["A", "B", "dup@firma.no", "S", ""],
            ["", "B", "ok@firma.no", "S", ""],
        ]
    )
    assert [2, 3, 4] == unreadable_rows(review.rows, review.report.frame).tolist()


def test_messages_show_what_a_person_cannot_see() -> None:
    """Invisible characters and a decomposed accent are written out in messages, not hidden."""
    assert "'an\\u200bna@firma.no'" == _shown("an\u200bna@firma.no")
    assert "'rene\\u0301@firma.no'" == _shown("rene\u0301@firma.no")
    assert "'anna berg@firma.no'" == _shown("anna berg@firma.no")
    assert "'ren\u00e9@firma.no'" == _shown("ren\u00e9@firma.no")
    assert "(empty)" == _shown("")

"""Validation: normalised candidate users and every problem as a value tied to row and field."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import HEADER, make_review, make_table
from userimport import ColumnMapping, IssueCode, MappingError, ValidationFailed, validate
from userimport.validation import EMAIL_PATTERN

GOOD = ["Anna", "Berg", "anna@firma.no", "Sales", "Oslo"]


def codes(review, row):  # type: ignore[no-untyped-def]
    issues = review.issues
    return sorted(issues.loc[issues["row"] == row, "code"])


def test_rows_are_indexed_by_spreadsheet_row() -> None:
    """The header is row 1, so the first data row is row 2."""
    review = make_review([GOOD, ["Ole", "Hansen", "ole@firma.no", "HR", ""]])
    assert [2, 3] == list(review.rows.index)
    assert ["valid", "valid"] == list(review.rows["status"])


def test_title_rows_above_the_header_shift_row_numbers() -> None:
    """Rows above the header are left out, and row numbers still match the spreadsheet."""
    table = make_table([["Staff list"], [], HEADER, GOOD])
    mapping = ColumnMapping.from_columns(
        {0: "first_name", 1: "last_name", 2: "email", 3: "department"}, headers=tuple(HEADER)
    )
    review = validate(table, 2, mapping)
    assert [4] == list(review.rows.index)


def test_required_fields() -> None:
    """First name, last name, email and department are required, each reported on its field."""
    review = make_review([["", " ", "", "", "Oslo"]])
    issues = review.issues
    assert {"first_name", "last_name", "email", "department"} == set(issues["field"])
    assert {"required"} == set(issues["code"])
    assert not review.is_valid


def test_whitespace_is_trimmed_and_folded() -> None:
    """Leading, trailing and repeated blanks (NBSP, zero-width) are trimmed and folded."""
    review = make_review([["  Anna\u00a0 Marie ", "Berg\u200b", " anna@firma.no ", " Sales ", ""]])
    row = review.rows.loc[2]
    assert ("Anna Marie", "Berg", "anna@firma.no", "Sales") == (
        row["first_name"],
        row["last_name"],
        row["email"],
        row["department"],
    )
    assert review.is_valid


@pytest.mark.parametrize(
    "email",
    ["anna@firma.no", "a.b+tag@sub.firma.co.uk", "jürgen@müller.de", "o'neil@firma.no"],
)
def test_valid_emails(email: str) -> None:
    """Ordinary, tagged, sub-domain, international and apostrophe addresses pass."""
    assert [] == codes(make_review([["A", "B", email, "S", ""]]), 2)


@pytest.mark.parametrize(
    "email",
    [
        "not-an-email",
        "kari@@firma.no",
        "kari@firma",
        "kari.@firma.no",
        "ka ri@firma.no",
        "@firma.no",
    ],
)
def test_invalid_emails(email: str) -> None:
    """Addresses without a domain, with two @, a dot before @ or a blank inside are invalid."""
    assert ["invalid_email"] == codes(make_review([["A", "B", email, "S", ""]]), 2)


@pytest.mark.parametrize(
    ("typed", "cleaned"),
    [
        ("Anna Berg <anna@firma.no>", "anna@firma.no"),
        ("mailto:anna@firma.no", "anna@firma.no"),
        ("\u00a0anna@firma.no\u200b", "anna@firma.no"),
        ("<anna@firma.no>", "anna@firma.no"),
    ],
)
def test_pasted_emails_are_cleaned_with_a_warning(typed: str, cleaned: str) -> None:
    """An address pasted with a display name or mailto: is cleaned, and the row stays valid."""
    review = make_review([["A", "B", typed, "S", ""]])
    assert cleaned == review.rows.loc[2, "email"]
    assert review.is_valid
    issues = review.issues
    if typed.strip() != cleaned:
        # An invisible character has its own warning, which says where it was.
        expected = ["invisible_character"] if "\u200b" in typed else ["email_cleaned"]
        assert expected == list(issues["code"])
        assert ["warning"] == list(issues["severity"])


def test_duplicate_emails_flag_every_row_involved() -> None:
    """The same email twice, in any case, flags both rows, and the message names both rows."""
    review = make_review(
        [GOOD, ["Ole", "Hansen", "ole@firma.no", "HR", ""], ["A", "B", "ANNA@Firma.no", "S", ""]]
    )
    dupes = review.issues[review.issues["code"] == "duplicate_email"]
    assert [2, 4] == list(dupes["row"])
    assert all("rows 2, 4" in m for m in dupes["message"])
    assert ["invalid", "valid", "invalid"] == list(review.rows["status"])


def test_each_duplicate_names_the_rows_of_its_own_email() -> None:
    """Several duplicated emails: every message lists exactly the rows sharing that email."""
    emails = ["a@firma.no", "b@firma.no", "A@firma.no", "c@firma.no", "B@FIRMA.no", "a@firma.no"]
    review = make_review([["X", "Y", e, "S", ""] for e in emails])
    dupes = review.issues[review.issues["code"] == "duplicate_email"]
    shared = {2: "2, 4, 7", 3: "3, 6", 4: "2, 4, 7", 6: "3, 6", 7: "2, 4, 7"}
    assert list(shared) == list(dupes["row"])
    for row, message in zip(dupes["row"], dupes["message"], strict=True):
        assert message.endswith(f"appears on rows {shared[row]}")


def test_groups_are_split_trimmed_deduplicated() -> None:
    """Group cells are split on the separator, trimmed, empty pieces dropped, duplicates removed."""
    review = make_review([["A", "B", "a@b.no", "S", " Oslo ,, Bergen,oslo , Bergen "]])
    assert ("Bergen", "Oslo") == review.rows.loc[2, "groups"]


def test_several_group_columns_and_a_custom_separator() -> None:
    """Several columns feed groups, each cell split on the chosen separator."""
    header = ["First", "Last", "Email", "Dept", "G1", "G2"]
    review = make_review(
        [["A", "B", "a@b.no", "S", "Oslo; Bergen", "Tech"], ["C", "D", "c@d.no", "S", "", ""]],
        header=header,
        columns={
            0: "first_name",
            1: "last_name",
            2: "email",
            3: "department",
            4: "groups",
            5: "groups",
        },
        group_separator=";",
    )
    assert ("Bergen", "Oslo", "Tech") == review.rows.loc[2, "groups"]
    assert () == review.rows.loc[3, "groups"]


def test_department_as_group() -> None:
    """With department_as_group, the department is also one of the user's groups."""
    review = make_review([["A", "B", "a@b.no", "Sales", "Oslo"]], department_as_group=True)
    assert ("Oslo", "Sales") == review.rows.loc[2, "groups"]


def test_memberships_are_long_form() -> None:
    """The review's memberships list one (row, group) pair per membership."""
    review = make_review(
        [["A", "B", "a@b.no", "S", "Oslo,Bergen"], ["C", "D", "c@d.no", "S", "Oslo"]]
    )
    pairs = list(review.memberships.itertuples(index=False, name=None))
    assert [(2, "Bergen"), (2, "Oslo"), (3, "Oslo")] == pairs


def test_blank_rows_are_left_out() -> None:
    """Fully blank rows are neither users nor problems, and later rows keep their numbers."""
    review = make_review([GOOD, ["", "", "", "", ""], ["Ole", "Hansen", "ole@firma.no", "HR", ""]])
    assert [2, 4] == list(review.rows.index)
    assert review.is_valid


def test_a_row_longer_than_the_header_is_an_issue() -> None:
    """Cells beyond the last header column are reported on that row, never dropped silently."""
    review = make_review([[*GOOD, "stray"], ["Ole", "Hansen", "ole@firma.no", "HR", ""]])
    issue = review.issues.iloc[0]
    assert (2, "extra_cells", "stray") == (issue["row"], issue["code"], issue["value"])
    assert ["invalid", "valid"] == list(review.rows["status"])


def test_too_long_values() -> None:
    """A value over 255 characters, also a group name, is an error."""
    review = make_review([["A" * 256, "B", "a@b.no", "S", "G" * 300]])
    assert [("first_name", "too_long"), ("groups", "too_long")] == sorted(
        zip(review.issues["field"], review.issues["code"], strict=True)
    )


def test_admin_column_yes_no() -> None:
    """An admin column reads yes/no words in several languages; anything else is an issue."""
    header = ["First", "Last", "Email", "Dept", "Admin"]
    columns: dict[int | str, str] = {
        0: "first_name",
        1: "last_name",
        2: "email",
        3: "department",
        4: "is_admin",
    }
    review = make_review(
        [
            ["A", "B", "a@b.no", "S", "Ja"],
            ["C", "D", "c@d.no", "S", ""],
            ["E", "F", "e@f.no", "S", "maybe"],
        ],
        header=header,
        columns=columns,
    )
    assert [True, False, False] == list(review.rows["is_admin"])
    assert ["invalid_boolean"] == codes(review, 4)


def test_custom_attributes() -> None:
    """A column mapped to attributes.<name> is validated as text and kept."""
    review = make_review(
        [["A", "B", "a@b.no", "S", "", " CTO "]],
        header=[*HEADER, "Title"],
        columns={
            0: "first_name",
            1: "last_name",
            2: "email",
            3: "department",
            5: "attributes.title",
        },
    )
    assert "CTO" == review.rows.loc[2, "attributes.title"]


def test_messages_name_file_row_and_column() -> None:
    """Every message names the file, the row and the column, and echoes only the cell."""
    review = make_review([["", "Berg", "anna@firma.no", "Sales", ""]])
    message = review.issues["message"].iloc[0]
    assert message.startswith("users.csv, row 2, column 'First Name' (A): ")
    assert "Berg" not in message


def test_issue_values_round_trip_through_issue_objects() -> None:
    """The report gives the same issues as frozen Issue values, with stable codes."""
    review = make_review([["", "Berg", "bad", "Sales", ""]])
    issues = review.report.issues
    assert [IssueCode.REQUIRED, IssueCode.INVALID_EMAIL] == sorted(
        (i.code for i in issues), key=lambda c: c.value, reverse=True
    )
    assert {"invalid_email": 1, "required": 1} == review.report.counts()


def test_missing_required_mapping_is_a_mapping_error() -> None:
    """Validating without a column for a required property names what is missing and the file."""
    table = make_table([HEADER, ["A", "B", "a@b.no", "S", ""]])
    mapping = ColumnMapping.from_columns({0: "first_name", 2: "email"}, headers=tuple(HEADER))
    with pytest.raises(MappingError, match=r"users\.csv: no column feeds last_name, department"):
        validate(table, 0, mapping)


def test_strict_raises_with_the_report() -> None:
    """strict=True raises ValidationFailed carrying every issue."""
    table = make_table([HEADER, ["", "B", "bad", "S", ""]])
    mapping = ColumnMapping.from_columns(
        {0: "first_name", 1: "last_name", 2: "email", 3: "department"}, headers=tuple(HEADER)
    )
    with pytest.raises(ValidationFailed) as info:
        validate(table, 0, mapping, strict=True)
    assert 2 == len(info.value.report)


def test_only_headers_gives_an_empty_valid_review() -> None:
    """A file with only a header row has no users and no issues."""
    review = make_review([])
    assert (0, 0) == (len(review.rows), len(review.issues))
    assert review.is_valid


def test_the_table_is_never_mutated() -> None:
    """Validation derives new frames and leaves the table's cells as they were."""
    table = make_table([HEADER, ["  Anna ", "B", "Anna <a@b.no>", "S", ""]])
    before = table.rows.copy()
    mapping = ColumnMapping.from_columns(
        {0: "first_name", 1: "last_name", 2: "email", 3: "department"}, headers=tuple(HEADER)
    )
    validate(table, 0, mapping)
    pd.testing.assert_frame_equal(before, table.rows)


def test_email_pattern_is_anchored_by_fullmatch() -> None:
    """The pattern is used with fullmatch, so trailing junk fails."""
    s = pd.Series(["a@b.no", "a@b.no junk"])
    assert [True, False] == list(s.str.fullmatch(EMAIL_PATTERN))


def test_validation_is_vectorised_enough() -> None:
    """Ten thousand rows validate in well under a few seconds (no per-row pandera calls)."""
    import time

    rows = [[f"F{i}", f"L{i}", f"u{i}@firma.no", "Sales", "Oslo, Bergen"] for i in range(10_000)]
    start = time.perf_counter()
    review = make_review(rows)
    assert review.is_valid
    assert time.perf_counter() - start < 5


def test_neutralised_formulas_are_read_back() -> None:
    """An exported cell like '=SUM(1) (apostrophe before a formula sign) imports as typed."""
    review = make_review([["'=Anna", "'-Berg", "a@b.no", "'@Sales", "'+Oslo"]])
    row = review.rows.loc[2]
    assert ("=Anna", "-Berg", "@Sales", ("+Oslo",)) == (
        row["first_name"],
        row["last_name"],
        row["department"],
        row["groups"],
    )
    assert "'Tis" == make_review([["'Tis", "B", "a@b.no", "S", ""]]).rows.loc[2, "first_name"]


def test_issues_name_the_cell_in_a_csv() -> None:
    """In a CSV an issue names the physical line and column, also after a multi-line value."""
    from userimport import detect_header, read_table, suggest_mapping

    data = b'First Name,Last Name,Email,Department\n"Anna\nMarie",Berg,a@b.no,S\n,Dahl,k@b.no,S\n'
    table = read_table(data)
    header = detect_header(table).row
    review = validate(table, header, suggest_mapping(table, header))
    assert [(3, "line 4, column 1")] == list(
        zip(review.issues["row"], review.issues["cell"], strict=True)
    )


def test_issues_name_the_cell_in_a_workbook() -> None:
    """In a workbook an issue names the sheet and cell, as Excel shows it."""
    import io

    import openpyxl

    from userimport import detect_header, read_table, suggest_mapping

    book = openpyxl.Workbook()
    book.active.title = "Users"
    for row in [
        ["Staff"],
        ["First Name", "Last Name", "Email", "Department"],
        ["A", "B", "bad", "S"],
    ]:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    table = read_table(out.getvalue())
    header = detect_header(table).row
    review = validate(table, header, suggest_mapping(table, header))
    assert ["Users!C3"] == list(review.issues["cell"])
    assert "Users!C3" == review.report.issues[0].cell


def test_a_column_of_one_email_lists_ten_rows_per_message() -> None:
    """Thousands of rows sharing one email (a shifted column): each message lists ten rows."""
    review = make_review([["X", "Y", "Sales", "S", ""] for _ in range(2000)])
    dupes = review.issues[review.issues["code"] == "duplicate_email"]
    assert 2000 == len(dupes)
    assert (
        dupes["message"]
        .iloc[0]
        .endswith("appears on rows 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 1990 more")
    )


def issue(review, code):  # type: ignore[no-untyped-def]
    """The one issue of ``code``, as a dict."""
    found = review.issues[review.issues["code"] == code]
    assert 1 == len(found)
    return found.iloc[0].to_dict()


def test_zero_width_space_in_a_name_is_removed_with_a_warning() -> None:
    """``Ann\\u200bika`` becomes ``Annika`` (not ``Ann ika``), with a warning naming where."""
    review = make_review([["Ann\u200bika", "Berg", "anna@firma.no", "Sales", ""]])
    assert "Annika" == review.rows.loc[2, "first_name"]
    assert review.is_valid
    found = issue(review, "invisible_character")
    assert ("first_name", "warning") == (found["field"], found["severity"])
    assert "column 'First Name'" in found["message"]
    assert "U+200B ZERO WIDTH SPACE at position 4" in found["message"]


@pytest.mark.parametrize("mark", ["\u200b", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e"])
def test_invisible_characters_in_an_email_are_removed_with_a_warning(mark: str) -> None:
    """Zero-width, joiner, BOM, soft hyphen and bidi characters leave the email, with a warning."""
    review = make_review([["A", "B", f"an{mark}na@firma.no", "Sales", ""]])
    assert "anna@firma.no" == review.rows.loc[2, "email"]
    assert review.is_valid
    found = issue(review, "invisible_character")
    assert ("email", "warning") == (found["field"], found["severity"])
    assert f"U+{ord(mark):04X}" in found["message"]
    assert "at position 3" in found["message"]


def test_a_joiner_inside_persian_text_is_kept_with_a_warning() -> None:
    """A ZWNJ between two Persian letters shapes the word: kept in a name, but still reported."""
    name = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647"
    review = make_review([[name, "B", "a@firma.no", "Sales", f"Ann\u200cika, {name}"]])
    assert name == review.rows.loc[2, "first_name"]
    assert ("Annika", name) == review.rows.loc[2, "groups"]
    messages = review.issues.loc[review.issues["code"] == "invisible_character", "message"]
    assert 2 == len(messages)
    assert any("kept joiner" in m for m in messages)
    assert any("removed" in m for m in messages)


def test_decomposed_text_is_composed_without_a_warning() -> None:
    """A cell typed with a combining accent (as macOS saves) is read in NFC, silently."""
    review = make_review(
        [["Jose\u0301", "Mu\u0308ller", "jose\u0301@firma.no", "Re\u0301seau", ""]]
    )
    row = review.rows.loc[2]
    assert ("José", "Müller", "josé@firma.no", "Réseau") == (
        row["first_name"],
        row["last_name"],
        row["email"],
        row["department"],
    )
    assert [] == codes(review, 2)


def test_a_cyrillic_letter_in_a_latin_address_is_a_warning() -> None:
    """``pаul@`` with a Cyrillic ``а`` stays valid, with look-alike and mixed-script warnings."""
    review = make_review([["P", "Q", "p\u0430ul@firma.no", "Sales", ""]])
    assert review.is_valid
    assert ["confusable_email", "mixed_script_email"] == codes(review, 2)
    assert "paul@firma.no" in issue(review, "confusable_email")["message"]
    assert "CYRILLIC and LATIN" in issue(review, "mixed_script_email")["message"]


def test_fullwidth_letters_in_an_address_are_a_warning() -> None:
    """Fullwidth letters are one script (Latin) but look like ASCII: a look-alike warning."""
    review = make_review([["P", "Q", "ｐaul@firma.no", "Sales", ""]])
    assert ["confusable_email"] == codes(review, 2)


@pytest.mark.parametrize(
    "email", ["user@пример.рф", "user@example.xn--p1ai", "δοκιμή@παράδειγμα.δοκιμή"]
)
def test_internationalised_addresses_pass_validation(email: str) -> None:
    """Unicode domains and local parts, and punycode top-level domains, are valid rows."""
    assert [] == codes(make_review([["A", "B", email, "S", ""]]), 2)


def test_an_invalid_email_says_why_and_where() -> None:
    """The message names the file, row and column, and the reason email-validator gives."""
    review = make_review([["A", "B", "anna@firma.test", "S", ""]])
    found = issue(review, "invalid_email")
    assert found["message"].startswith(
        "users.csv, row 2, column 'Email' (C): the email 'anna@firma.test' is not a valid"
    )
    assert "special-use or reserved name" in found["message"]


def test_straße_and_strasse_are_two_addresses() -> None:
    """Emails differing by ß and ss are no duplicates (``str.lower``, not ``casefold``)."""
    review = make_review(
        [["A", "B", "straße@firma.de", "S", ""], ["C", "D", "STRASSE@firma.de", "S", ""]]
    )
    assert review.is_valid


@pytest.mark.parametrize(
    "twin",
    ["jose\u0301@firma.no", "JOSÉ@firma.no", "jo\u200bsé@firma.no", "\ufeffjosé@firma.no"],
)
def test_spellings_of_one_address_are_duplicates(twin: str) -> None:
    """Decomposed, upper-case and invisibly marked spellings of one address are one identity."""
    review = make_review([["A", "B", "josé@firma.no", "S", ""], ["C", "D", twin, "S", ""]])
    dupes = review.issues[review.issues["code"] == "duplicate_email"]
    assert [2, 3] == list(dupes["row"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=" '=+-@a\t\u00a0\u200b\n", max_size=8), max_size=6))
def test_cleaning_cells_with_one_scan_is_cleaning_them_in_full(cells: list[str]) -> None:
    """Hypothesis: cleaning with one scan first gives what trim, fold and unneutralise give."""
    from userimport import _text, validation

    text = pd.Series(pd.array(cells, dtype="str"))
    full = _text.unneutralise(_text.collapse_blanks(text))
    assert full.tolist() == validation._clean(text).tolist()


GROUP_NAMES = st.sampled_from(
    ["", "a", "A", "b", "B", "Straße", "STRASSE", "strasse", "\u0130", "i\u0307", "ø"]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(2, 6), GROUP_NAMES), max_size=25), st.booleans())
def test_distinct_sorted_by_codes_is_distinct_sorted_by_text(
    pieces: list[tuple[int, str]], in_order: bool
) -> None:
    """Hypothesis: the long form found by codes is the one found by comparing texts."""
    from userimport import validation

    if in_order:
        pieces = sorted(pieces, key=lambda p: p[0])
    groups = pd.Series(
        pd.array([p[1] for p in pieces], dtype="str"),
        index=pd.Index([p[0] for p in pieces], dtype="int64"),
    )
    expected = validation._distinct_sorted_text(groups)
    actual, codes = validation._distinct_sorted_coded(groups)
    pd.testing.assert_frame_equal(expected, actual)
    assert expected.equals(validation._distinct_sorted(groups))
    index = pd.Index(range(2, 7), dtype="int64")
    by_text = validation._tuples(expected, index).tolist()
    assert by_text == validation._tuples(actual, index, codes).tolist()

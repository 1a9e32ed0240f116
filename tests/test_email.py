"""Email addresses: the fast path agrees with email-validator, and look-alikes are found."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from userimport import _email
from userimport.validation import email_problem, is_valid_email

# Letters of several scripts, look-alikes (Cyrillic а, fullwidth ｐ, ligature ﬁ), digits, the
# characters an address may hold and a few it may not.
PIECES = st.sampled_from(
    list("abcxyzAQ019-_.+'!#%&*/=?^`{|}~@\"(),:;<>[]\\ ")
    + list("æøåßüéа\u0435ｐﬁς日本пример\u0301")
    + ["xn--", "xn--p1ai", ".no", ".test", ".local", "localhost", "--", ".."]
)
TEXT = st.lists(PIECES, max_size=12).map("".join)
ADDRESSES = (
    st.from_regex(_email.ASCII_EMAIL, fullmatch=True)
    | st.builds(lambda a, b: f"{a}@{b}", TEXT, TEXT)
    | st.builds(
        lambda a, b, c: f"{a}@{b}.{c}", TEXT, TEXT, st.sampled_from(["no", "xn--p1ai", "рф"])
    )
)


@settings(max_examples=120)
@given(st.lists(ADDRESSES, max_size=10))
def test_column_check_is_the_reference(cells: list[str]) -> None:
    """For ASCII and Unicode addresses alike, the column check says what email-validator says."""
    column = pd.Series(cells, dtype="str", index=range(2, 2 + len(cells)))
    expected = {
        row: problem
        for row, cell in zip(column.index, cells, strict=True)
        if cell and (problem := email_problem(cell)) is not None
    }
    assert expected == _email.problems(column)


@settings(max_examples=120)
@given(st.from_regex(_email.ASCII_EMAIL, fullmatch=True))
def test_fast_path_accepts_only_valid_addresses(address: str) -> None:
    """Every address the fast path accepts (all but the kinds it leaves out) is valid."""
    fast = _email._fast(pa.array([address])).to_pylist()[0]
    special = address.lower().endswith(_email._special_use())
    assert fast == (len(address) <= _email._FAST_LENGTH and not special)
    if fast:
        assert email_problem(address) is None


@pytest.mark.parametrize(
    "address",
    [
        "user@пример.рф",
        "user@example.xn--p1ai",
        "jürgen@müller.de",
        "δοκιμή@παράδειγμα.δοκιμή",
        "用户@例子.广告",
        "straße@firma.de",
    ],
)
def test_internationalised_addresses_are_valid(address: str) -> None:
    """Unicode domains, punycode top-level domains and Unicode local parts are valid."""
    assert is_valid_email(address)


@pytest.mark.parametrize(
    "address",
    ["anna@firma", "anna@firma.test", "anna@xn--zz.no", "anna@ab--cd.no", "a..b@firma.no"],
)
def test_invalid_addresses_say_why(address: str) -> None:
    """No dot in the domain, a special-use domain, bad punycode, '--' labels: each has a reason."""
    assert email_problem(address)


SKELETON_TEXT = st.text(st.sampled_from(list('abm01Il|%`"@.пра\u0430ｐﬁ\u0301éß')), max_size=12)


@given(st.lists(SKELETON_TEXT, max_size=20))
def test_skeleton_column_is_skeleton_of_each_cell(cells: list[str]) -> None:
    """The column-wise skeletons (Arrow for ASCII cells) are the per-cell Python skeletons."""
    column = pd.Series(cells, dtype="str")
    assert [_email.skeleton(c) for c in cells] == _email.skeletons(column).tolist()


@given(SKELETON_TEXT)
def test_skeleton_is_its_own_skeleton(text: str) -> None:
    """A skeleton does not change when taken again (equal skeletons stay equal)."""
    assert _email.skeleton(text) == _email.skeleton(_email.skeleton(text))


def test_look_alikes() -> None:
    """A Cyrillic а and fullwidth letters look like ASCII; accents and ß do not."""
    assert "paul@firma.no" == _email.ascii_lookalike("p\u0430ul@firma.no")
    assert "paul@firma.no" == _email.ascii_lookalike("ｐaul@firma.no")
    assert None is _email.ascii_lookalike("josé@firma.no")
    assert None is _email.ascii_lookalike("straße@firma.no")
    assert [("p\u0430ul", ["CYRILLIC", "LATIN"])] == _email.mixed_script_parts("p\u0430ul@x.no")
    assert [] == _email.mixed_script_parts("user@пример.рф")


def test_the_special_use_copy_is_the_references_list() -> None:
    """The fast path's special-use endings are email-validator's own list, as installed."""
    import email_validator

    assert tuple(email_validator.SPECIAL_USE_DOMAIN_NAMES) == _email.SPECIAL_USE_DOMAIN_NAMES


ENDINGS = st.sampled_from(
    [".test", ".TEST", ".Local", ".onion", ".arpa", ".localhost", ".INVALID", ".com", ".net", ""]
)


ENDED = st.builds(str.__add__, st.from_regex(_email.ASCII_EMAIL, fullmatch=True), ENDINGS)


@settings(max_examples=150)
@given(st.lists(ADDRESSES | ENDED, max_size=8))
def test_fast_path_is_its_one_regex_per_cell_definition(cells: list[str]) -> None:
    """The fast path (byte checks before the regexes) accepts what its per-cell regexes accept."""
    import pyarrow.compute as pc

    arr = pa.array(cells, type=pa.large_string())
    names = "|".join(e[1:] for e in _email._special_use())
    expected = pc.and_(
        pc.and_(
            pc.match_substring_regex(arr, f"^(?:{_email.ASCII_EMAIL})$"),
            pc.less_equal(pc.utf8_length(arr), _email._FAST_LENGTH),
        ),
        pc.invert(pc.match_substring_regex(arr, rf"(?i)\.(?:{names})$")),
    )
    assert expected.to_pylist() == _email._fast(arr).to_pylist()

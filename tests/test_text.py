"""The vectorised text operations give exactly what Python's ``str`` methods give, cell by cell."""

from __future__ import annotations

import itertools
import re
import sys
import unicodedata

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from userimport import _text
from userimport.validation import _ASCII_EMAIL, EMAIL_PATTERN, NEUTRALISED

# Blanks of every kind, letters whose case folding is special, and the characters the
# email pattern and the formula neutralisation care about.
ALPHABET = st.sampled_from(
    list(" \t\n\r\x0b\x0c\x1c\x85\xa0\u2000\u200b\u2060\ufeff\u3000")
    + list("aZ09_-.@'=+<>:;,ßẞİıΣσﬁKÅøÆ\u200c\u200d\u0301\u00ad\u202eیа")
    + ["\U0001f600"]
)
CELLS = st.lists(st.text(ALPHABET, max_size=12), max_size=30)
ANY_CHARS = st.text(st.characters(codec="utf-8"), max_size=12) | st.text(ALPHABET, max_size=12)


def series(cells: list[str]) -> pd.Series:
    return pd.Series(cells, dtype="str", index=range(10, 10 + len(cells)))


@given(CELLS)
def test_collapse_blanks_is_split_and_join(cells: list[str]) -> None:
    """Every run of blanks becomes one space, and the ends are trimmed."""
    blank = re.compile("[" + _text.BLANKS + "]+")
    expected = [blank.sub(" ", c).strip(" ") for c in cells]
    assert expected == _text.collapse_blanks(series(cells)).tolist()


@given(CELLS)
def test_casefold_is_str_casefold(cells: list[str]) -> None:
    """Case folding matches ``str.casefold``, also for ß, İ and Σ."""
    assert [c.casefold() for c in cells] == _text.casefold(series(cells)).tolist()


@given(st.lists(ANY_CHARS, max_size=30))
def test_lower_is_str_lower(cells: list[str]) -> None:
    """Lower-casing (email identity) matches ``str.lower`` for any text: ß stays ß, Σ and İ too."""
    assert [c.lower() for c in cells] == _text.lower(series(cells)).tolist()


@given(CELLS)
def test_strip_and_is_blank_are_str_strip(cells: list[str]) -> None:
    """Trimming and blank cells follow ``str.strip`` (zero-width characters are not blank)."""
    s = series(cells)
    assert [c.strip() for c in cells] == _text.strip(s).tolist()
    assert [not c.strip() for c in cells] == _text.is_blank(s).tolist()


@given(CELLS)
def test_unneutralise_is_the_lookahead_regex(cells: list[str]) -> None:
    """The apostrophe before a formula is dropped exactly where the Python regex drops it."""
    assert [re.sub(NEUTRALISED, "", c) for c in cells] == _text.unneutralise(series(cells)).tolist()


@given(st.lists(st.from_regex(EMAIL_PATTERN, fullmatch=True) | st.text(ALPHABET), max_size=20))
def test_email_fullmatch_is_python_re(cells: list[str]) -> None:
    """The RE2 spelling of the email pattern accepts exactly what Python's accepts."""
    expected = [re.fullmatch(EMAIL_PATTERN, c) is not None for c in cells]
    assert expected == _text.fullmatch(series(cells), EMAIL_PATTERN, _ASCII_EMAIL).tolist()


@given(CELLS, st.sampled_from([",", ";", " | ", "ø"]))
def test_split_long_is_split_and_explode(cells: list[str], separator: str) -> None:
    """The long form has every piece, in order, on its row's index."""
    s = series(cells)
    expected = s.str.split(separator, regex=False).explode()
    actual = _text.split_long(s, separator)
    assert expected.index.tolist() == actual.index.tolist()
    assert [str(v) for v in expected.tolist()] == actual.tolist()


@given(CELLS)
def test_repeated_is_duplicated_keep_false(cells: list[str]) -> None:
    """Cells that occur more than once are flagged, every occurrence of them."""
    s = series(cells)
    assert s.duplicated(keep=False).tolist() == _text.repeated(s).tolist()


@given(CELLS)
def test_objects_are_the_cells_sharing_strings(cells: list[str]) -> None:
    """The object array holds the cells, one string object per distinct value."""
    values = _text.objects(series(cells))
    assert cells == values.tolist()
    assert len({id(v) for v in values}) == len(set(cells))


@given(CELLS, st.sampled_from([" ", " \"'<>;,", "aZ"]))
def test_trim_is_str_strip(cells: list[str], characters: str) -> None:
    """Trimming given characters matches ``str.strip(characters)``."""
    assert [c.strip(characters) for c in cells] == _text.trim(series(cells), characters).tolist()


def test_spaces_are_every_character_python_calls_whitespace() -> None:
    """The listed whitespace is exactly what ``str.isspace`` accepts, in this Python."""
    import sys

    every = "".join(chr(i) for i in range(sys.maxunicode + 1) if chr(i).isspace())
    assert every == _text.SPACES


def reference_visible(value: str, *, joiners: bool) -> str:
    """Format characters (Cf) out, but joiners between two non-ASCII letters; then NFC."""
    out = []
    for i, c in enumerate(value):
        if unicodedata.category(c) == "Cf":
            around = value[i - 1 : i] + value[i + 1 : i + 2]
            inside = (
                len(around) == 2
                and i > 0
                and all(not a.isascii() and unicodedata.category(a)[0] in "LMNS" for a in around)
            )
            if not (joiners and c in "\u200c\u200d" and inside):
                continue
        out.append(c)
    return unicodedata.normalize("NFC", "".join(out))


def reference_clean(value: str, *, joiners: bool = True) -> str:
    """Validation's cleaning of one cell, written with Python's ``re`` and ``str`` only."""
    value = reference_visible(value, joiners=joiners)
    if re.search(r"[^\S ]|\s\s", value):
        value = re.sub(r"\s+", " ", value)
    return re.sub(NEUTRALISED, "", value.strip())


def reference_clean_email(value: str) -> str:
    """Validation's cleaning of one email cell, with Python's ``re`` and ``str`` only."""
    value = reference_clean(value, joiners=False)
    inner = re.search(r"<\s*([^<>\s]+@[^<>\s]+?)\s*>", value)
    value = re.sub(r"^\s*mailto:\s*", "", inner.group(1) if inner else value, flags=re.I)
    return value.strip(" \"'<>;,")


ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=15) | st.text(ALPHABET)


@given(st.lists(ANY_TEXT, max_size=30))
def test_cleaning_columns_is_cleaning_each_cell(cells: list[str]) -> None:
    """Column-wise cleaning gives, for any Unicode text, what the per-cell Python code gives."""
    from userimport.validation import _clean, _clean_email

    names, _ = _text.visible(series(cells), keep_joiners=True)
    emails, _ = _text.visible(series(cells), keep_joiners=False)
    assert [reference_clean(c) for c in cells] == _clean(names).tolist()
    assert [reference_clean_email(c) for c in cells] == _clean_email(emails).tolist()


@given(
    st.lists(
        st.lists(st.sampled_from(["", "a", "b", "a\x00", "\x00b", "ø"]), max_size=3), max_size=12
    ),
    st.sampled_from(["string", "large_string"]),
)
def test_tuples_are_each_owners_names(lists: list[list[str]], kind: str) -> None:
    """Each owner gets the tuple of its names, in order, and equal tuples are one object."""
    owner = np.array([i for i, names in enumerate(lists) for _ in names], dtype=np.int64)
    names = pa.array([n for names in lists for n in names], type=getattr(pa, kind)())
    made = _text.tuples(owner, names, len(lists) + 1).tolist()
    assert [tuple(names) for names in lists] + [()] == made
    codes = _text.codes(_text.series(names))
    assert made == _text.tuples(owner, names, len(lists) + 1, codes=codes).tolist()
    if not any("\x00" in n for names in lists for n in names):
        assert len({id(t) for t in made}) == len(set(made))
    # Interned: a store's tuples and a file's hold the same string objects.
    assert [] == [n for t in made for n in t if n is not sys.intern(n)]


@given(
    st.lists(st.sampled_from(["", "a", "bø", "a\x00", "\x00"]), max_size=8),
    st.integers(0, 8),
    st.integers(0, 8),
    st.sampled_from(["string", "large_string"]),
)
def test_a_nul_is_found_in_the_names_of_any_slice(
    names: list[str], start: int, stop: int, kind: str
) -> None:
    """The NUL check of :func:`_text.tuples` reads a slice's own bytes only, and all of them."""
    sliced = pa.array(names, type=getattr(pa, kind)())[start:stop]
    assert any("\x00" in n for n in names[start:stop]) == _text._has_nul(sliced)


def test_re2_knows_every_format_character() -> None:
    """Arrow's ``\\p{Cf}`` matches every character this Python calls Cf (so none is missed)."""
    import sys

    every = [chr(i) for i in range(sys.maxunicode + 1) if unicodedata.category(chr(i)) == "Cf"]
    marked = pc.match_substring_regex(pa.array(every), r"\p{Cf}").to_pylist()
    assert [] == [f"U+{ord(c):04X}" for c, m in zip(every, marked, strict=True) if not m]


@given(CELLS, st.booleans())
def test_visible_is_visible_cell_of_each_cell(cells: list[str], joiners: bool) -> None:
    """Column-wise removal of format characters and NFC equal the per-cell Python function."""
    expected = [_text.visible_cell(c, keep_joiners=joiners) for c in cells]
    text, found = _text.visible(series(cells), keep_joiners=joiners)
    assert [e[0] for e in expected] == text.tolist()
    assert {10 + i: e[1] for i, e in enumerate(expected) if e[1]} == found


@given(st.text(st.characters(codec="utf-8"), max_size=8))
def test_arrow_nfc_changes_every_cell_python_nfc_changes(text: str) -> None:
    """Arrow's NFC flags every cell Python's NFC changes (so the fast path misses none)."""
    composed = pc.utf8_normalize(pa.array([text]), form="NFC").to_pylist()[0]
    if unicodedata.normalize("NFC", text) != text:
        assert text != composed


def test_arrow_nfc_changes_every_decomposable_character() -> None:
    """Every character with a canonical decomposition, decomposed, is flagged by Arrow's NFC."""
    import sys

    decomposed = [
        unicodedata.normalize("NFD", chr(i))
        for i in range(sys.maxunicode + 1)
        if unicodedata.decomposition(chr(i))
        and not unicodedata.decomposition(chr(i)).startswith("<")
    ]
    changes = [d for d in decomposed if unicodedata.normalize("NFC", d) != d]
    arrow_nfc = pc.utf8_normalize(pa.array(changes), form="NFC").to_pylist()
    assert [] == [d for d, a in zip(changes, arrow_nfc, strict=True) if a == d]


@given(
    st.lists(st.none() | ANY_CHARS, max_size=20),
    st.sampled_from(["string", "large_string"]),
    st.integers(0, 5),
)
def test_utf8_holds_each_cells_bytes(cells: list[str | None], kind: str, skip: int) -> None:
    """The byte view of a (sliced) string array gives each cell's UTF-8, cell after cell."""
    arr = pa.array(cells, type=getattr(pa, kind)()).slice(skip)
    layout = _text.utf8(arr)
    assert layout is not None
    ends, data = layout
    actual = [data[a:b].tobytes() for a, b in itertools.pairwise(ends)]
    assert [(c or "").encode() for c in cells[skip:]] == actual


def test_utf8_of_another_type_is_none() -> None:
    """An array that is not a string array has no byte view."""
    assert None is _text.utf8(pa.array([b"a"], type=pa.binary()))


@given(CELLS | st.lists(st.text(st.sampled_from(list("a '=-@+\t\xa0é")), max_size=6), max_size=9))
def test_spaces_only_means_the_full_scan_finds_nothing(cells: list[str]) -> None:
    """Where the bytes say spaces only, no cell needs folding or unneutralising."""
    from userimport.validation import _MORE_THAN_SPACES

    if _text.spaces_only(_text.arrow(series(cells))):
        assert [] == [c for c in cells if re.search(_MORE_THAN_SPACES, c)]


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (["Anna Maria", "O'Neil", "x@y.no", "Ærø", "", " a "], True),
        (["a  b"], False),
        (["'=1"], False),
        (["a\tb"], False),
        (["a\xa0b"], False),
        (["a\u3000b"], False),
    ],
)
def test_spaces_only_passes_plain_columns(cells: list[str], expected: bool) -> None:
    """Plain text (names with one space, apostrophes in names, letters) needs no full scan."""
    assert expected == _text.spaces_only(_text.arrow(series(cells)))


@given(CELLS, st.sampled_from(["<", ":", " / ", ";", "ø", "\u200b", "aa"]))
def test_contains_any_is_in(cells: list[str], literal: str) -> None:
    """A literal is found in exactly the cells holding it."""
    assert [literal in c for c in cells] == _text.contains_any(series(cells), literal).tolist()


@given(st.lists(ANY_CHARS, max_size=20))
def test_non_ascii_is_not_isascii(cells: list[str]) -> None:
    """The cells beyond ASCII are the ones ``str.isascii`` refuses."""
    assert [not c.isascii() for c in cells] == _text.non_ascii(series(cells)).tolist()


@given(st.lists(st.integers(0, 6), max_size=30), st.booleans())
def test_first_of_each_is_numpys_unique(which: list[int], renumber: bool) -> None:
    """Where each code first occurs, in one pass or not, is what ``np.unique`` says."""
    if renumber:  # numbered in the order of first appearance, as Arrow numbers them
        which = [list(dict.fromkeys(which)).index(w) for w in which]
    expected = np.unique(np.array(which, dtype=np.int64), return_index=True)[1]
    assert expected.tolist() == _text._first_of_each(np.array(which, dtype=np.int64)).tolist()


@given(st.lists(st.tuples(st.sampled_from(["", "a", "Z", "é", " ", "\t", "\xa0"]), ANY_CHARS)))
def test_is_blank_is_not_strip_whatever_the_first_character(cells: list[tuple[str, str]]) -> None:
    """Blank cells are found alike when every first byte decides and when some do not."""
    texts = [first + rest if first else "" for first, rest in cells]
    assert [not c.strip() for c in texts] == _text.is_blank(series(texts)).tolist()
    plain = [c for c in texts if not c or c[0] in "aZ"]
    assert [not c.strip() for c in plain] == _text.is_blank(series(plain)).tolist()


@given(st.lists(st.text(st.sampled_from(list("abz09 .@_-AZ\t")), max_size=8), max_size=20))
def test_lower_and_casefold_of_ascii_columns_are_str_methods(cells: list[str]) -> None:
    """ASCII columns, lower-case already or not, lower-case and fold as ``str`` does."""
    s = series(cells)
    assert ([c.lower() for c in cells], "str") == (_text.lower(s).tolist(), _text.lower(s).dtype)
    assert [c.casefold() for c in cells] == _text.casefold(s).tolist()
    assert list(s.index) == list(_text.lower(s).index)

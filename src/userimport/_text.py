"""
Vectorised text operations on whole columns, with exactly Python's ``str`` semantics.

pandas runs a string method in Python, one cell at a time, whenever Arrow's regex engine (RE2)
could disagree with Python's ``re`` (``\\s``, ``\\w`` on non-ASCII text, lookaheads). Each
function here does the common case with an Arrow kernel and hands only the cells where the two
could differ to Python, so the result is what a loop of ``str`` calls would give, at the speed
of a column operation.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

#: Every character ``str.isspace`` accepts (a test checks the list against Python's). The
#: zero-width characters people paste from web pages and Word are format characters (Unicode
#: category Cf), taken out before blanks are folded: see :func:`visible`.
SPACES = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
BLANKS = SPACES
_BLANK_RUN = "[" + BLANKS + "]+"
_NEEDS_FOLDING = "[" + BLANKS.replace(" ", "") + "]|  "
#: The joiners (ZWNJ, ZWJ) that :func:`visible` may keep: they change how Persian, Indic and
#: emoji text is written.
JOINERS = "\u200c\u200d"


def arrow(text: pd.Series) -> Any:
    """The cells as one contiguous Arrow string array (no copy when they already are one)."""
    import pyarrow as pa

    arr = pa.array(text.astype("str") if text.dtype != "str" else text)
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def series(values: Any) -> pd.Series:
    """Text values as a Series of ``str`` dtype (positions as its index)."""
    import pandas as pd

    return pd.Series(pd.array(values, dtype="str"))


def _series(values: Any, like: pd.Series) -> pd.Series:
    import pandas as pd

    return pd.Series(pd.array(values, dtype="str"), index=like.index, name=like.name)


def patch(
    text: pd.Series, where: Any, fn: Callable[[str], str], *, source: pd.Series | None = None
) -> pd.Series:
    """``text``, where ``where`` is true replaced by ``fn`` (in Python) of ``source``'s cell."""
    import numpy as np

    mask = np.asarray(where, dtype=bool)
    if not mask.any():
        return text
    out = text.copy()
    out[mask] = [fn(v) for v in (text if source is None else source)[mask].tolist()]
    return out


def collapse_blanks(text: pd.Series) -> pd.Series:
    """
    Trim, and fold every run of blanks (any whitespace, NBSP, zero-width) into one space.

    The same as ``" ".join(...)`` of the non-blank pieces, cell by cell.
    """
    import pyarrow.compute as pc

    arr = arrow(text)
    if pc.any(pc.match_substring_regex(arr, _NEEDS_FOLDING)).as_py():
        return _series(pc.utf8_trim(pc.replace_substring_regex(arr, _BLANK_RUN, " "), " "), text)
    return trim(text, " ")


def trim(text: pd.Series, characters: str) -> pd.Series:
    """
    ``str.strip(characters)`` of every cell; ``text`` itself when no cell changes, so a clean
    column keeps its buffers instead of being copied.
    """
    import pyarrow.compute as pc

    arr = arrow(text)
    if not _may_trim(arr, characters):
        return text
    trimmed = pc.utf8_trim(arr, characters)
    if _same_size(arr, trimmed):
        return text  # trimming only removes: nothing removed, nothing changed
    return _series(trimmed, text)


def utf8(arr: Any) -> tuple[Any, Any] | None:
    """
    The cells of an Arrow string array as bytes: each cell's start (and, one past the last,
    the end) in ``data``, and ``data``, the UTF-8 of every cell end to end, as numpy views of
    Arrow's buffers (no copy). ``None`` for an array of another type.

    A byte (or sequence of bytes) found nowhere in ``data`` is in no cell; the converse does
    not hold (a sequence may span two cells, or lie in a null cell's slot), so the functions
    here use it only to learn that a scan would find nothing.
    """
    import numpy as np
    import pyarrow as pa

    if pa.types.is_large_string(arr.type):
        width: Any = np.int64
    elif pa.types.is_string(arr.type):
        width = np.int32
    else:
        return None
    _, offsets, data = arr.buffers()
    if not len(arr) or data is None:
        return np.zeros(len(arr) + 1, dtype=np.int64), np.zeros(0, dtype=np.uint8)
    size = np.dtype(width).itemsize
    ends = np.frombuffer(offsets, dtype=width, count=len(arr) + 1, offset=arr.offset * size)
    start = int(ends[0])
    bytes_ = np.frombuffer(data, dtype=np.uint8)[start : int(ends[-1])]
    return ends.astype(np.int64) - start, bytes_


def _all_ascii(arr: Any) -> bool:
    """Whether every cell of an Arrow string array is ASCII, by its bytes (``False``: maybe not)."""
    layout = utf8(arr)
    return layout is not None and (not len(layout[1]) or int(layout[1].max()) < 0x80)


def _ascii_lower(arr: Any) -> bool:
    """Whether every cell is ASCII with no upper-case letter, by its bytes (``False``: maybe)."""
    layout = utf8(arr)
    if layout is None:
        return False
    data = layout[1]
    return not len(data) or (
        int(data.max()) < 0x80 and not bool(((data >= ord("A")) & (data <= ord("Z"))).any())
    )


def _may_trim(arr: Any, characters: str) -> bool:
    """
    Whether ``utf8_trim(arr, characters)`` may change a cell: ``False`` when no cell starts or
    ends with a byte of an ASCII character of ``characters``, nor (if ``characters`` holds
    others) with a byte beyond ASCII. An ASCII byte in UTF-8 is always that character.
    """
    import numpy as np

    layout = utf8(arr)
    if layout is None:
        return True
    ends, data = layout
    full = ends[1:] > ends[:-1]
    edges = np.concatenate([data[ends[:-1][full]], data[ends[1:][full] - 1]])
    if not len(edges):
        return False
    if not characters.isascii() and int(edges.max()) >= 0x80:
        return True
    return any(bool((edges == ord(c)).any()) for c in set(characters) if c.isascii())


#: The ASCII blanks other than a space (all control characters), and the first UTF-8 byte of
#: every other blank: a cell whose bytes hold none of them holds no blank but spaces.
_ASCII_BLANKS = frozenset(ord(c) for c in BLANKS if c.isascii() and c != " ")
_BLANK_LEADS = frozenset(c.encode()[0] for c in BLANKS if not c.isascii())
#: The bytes of the ASCII whitespace (space included).
_ASCII_SPACES = sorted(ord(c) for c in SPACES if c.isascii())


def spaces_only(arr: Any) -> bool:
    """
    Whether, by its bytes alone, no cell of an Arrow string array holds a blank other than a
    space, two spaces in a row, or an apostrophe before ``=``, ``+``, ``-`` or ``@``
    (``False``: a cell may). A few passes over the bytes, instead of a regex per cell.
    """
    import numpy as np

    layout = utf8(arr)
    if layout is None:
        return False
    data = layout[1]
    if not len(data):
        return True
    if int(data.min()) <= max(_ASCII_BLANKS) or (
        int(data.max()) >= 0x80 and any(bool((data == b).any()) for b in _BLANK_LEADS)
    ):
        return False
    raw = data.tobytes()
    if b"'" in raw and any(b"'" + c.encode() in raw for c in "=+-@"):
        return False
    spaces = np.flatnonzero(data == ord(" "))
    return not bool((spaces[1:] - spaces[:-1] == 1).any())


def _same_size(a: Any, b: Any) -> bool:
    """Whether two string arrays hold as many bytes (a trim that removed nothing)."""
    import pyarrow.compute as pc

    return bool(pc.sum(pc.binary_length(a)).as_py() == pc.sum(pc.binary_length(b)).as_py())


def casefold(text: pd.Series) -> pd.Series:
    """``str.casefold`` of every cell (Arrow's lower-casing for ASCII, Python for the rest)."""
    return _lowered(text, str.casefold)


def lower(text: pd.Series) -> pd.Series:
    """``str.lower`` of every cell (Arrow's lower-casing for ASCII, Python for the rest)."""
    return _lowered(text, str.lower)


def _lowered(text: pd.Series, fn: Callable[[str], str]) -> pd.Series:
    """``fn`` of every cell: Arrow's ``utf8_lower`` where it is the same (ASCII), else ``fn``."""
    import pyarrow.compute as pc

    arr = arrow(text)
    if text.dtype == "str" and _ascii_lower(arr):  # no letter to change (most email columns)
        return text
    lowered = _series(pc.utf8_lower(arr), text)
    return patch(lowered, non_ascii(text), fn, source=text)


def non_ascii(text: pd.Series) -> Any:
    """A boolean array: which cells hold a character beyond ASCII."""
    import numpy as np
    import pyarrow.compute as pc

    arr = arrow(text)
    if not arr.null_count and _all_ascii(arr):  # one pass over the bytes, not a check per cell
        return np.zeros(len(arr), dtype=bool)
    return pc.invert(pc.string_is_ascii(arr)).to_numpy(zero_copy_only=False)


def nfc(value: str) -> str:
    """``value`` in Unicode normal form C (composed: ``e`` + U+0301 is ``é``)."""
    return unicodedata.normalize("NFC", value)


#: One invisible character found in a cell: 1-based position in the cell, the character, and
#: whether it was kept (a joiner inside non-ASCII text).
Found = tuple[int, str, bool]


def _joined(value: str, at: int) -> bool:
    """Whether the joiner at ``at`` stands between two visible non-ASCII characters."""
    if at == 0 or at == len(value) - 1:
        return False
    before, after = value[at - 1], value[at + 1]
    return all(ord(c) > 127 and unicodedata.category(c)[0] in "LMNS" for c in (before, after))


def visible_cell(value: str, *, keep_joiners: bool) -> tuple[str, list[Found]]:
    """
    One cell without its invisible format characters (Unicode category Cf), in NFC.

    Every Cf character is removed (zero-width space, word joiner, BOM, soft hyphen, bidi
    marks and embeddings, invisible operators, tags...), except, with ``keep_joiners``, a ZWNJ
    or ZWJ between two visible non-ASCII characters.

    Returns:
        The cleaned text, and each invisible character found (see :data:`Found`).
    """
    found: list[Found] = []
    kept: list[str] = []
    for at, c in enumerate(value):
        if unicodedata.category(c) == "Cf":
            keep = keep_joiners and c in JOINERS and _joined(value, at)
            found.append((at + 1, c, keep))
            if not keep:
                continue
        kept.append(c)
    return nfc("".join(kept) if found else value), found


def visible(text: pd.Series, *, keep_joiners: bool) -> tuple[pd.Series, dict[Any, list[Found]]]:
    """
    :func:`visible_cell` of every cell, and ``text`` itself when no cell changes.

    Only cells that need it go through Python: those where RE2's ``\\p{Cf}`` finds a format
    character (a test checks that RE2 knows every character this Python calls Cf), or that
    Arrow's NFC changes (Arrow's Unicode is not older than Python's, so, by Unicode's
    normalization stability, it changes every cell Python would; a property test checks it).
    ASCII cells never need it.

    Returns:
        The cells, and for each cell (by index label) where invisible characters were found,
        what was found.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    found: dict[Any, list[Found]] = {}
    other = non_ascii(text)
    if not other.any():
        return text, found
    # Names, departments and groups repeat: each distinct text is looked at once.
    encoded = pc.dictionary_encode(arrow(text).filter(pa.array(other)))
    distinct = encoded.dictionary
    marked = pc.match_substring_regex(distinct, r"\p{Cf}")
    composed = pc.not_equal(pc.utf8_normalize(distinct, form="NFC"), distinct)
    needed = pc.or_(marked, composed)
    if not pc.any(needed).as_py():
        return text, found
    need = np.asarray(needed.take(encoded.indices).to_numpy(zero_copy_only=False), dtype=bool)
    where = np.flatnonzero(other)[need]
    picked = text.iloc[where]
    values = picked.tolist()
    cleaned = []
    for label, value in zip(picked.index.tolist(), values, strict=True):
        out_text, seen = visible_cell(value, keep_joiners=keep_joiners)
        cleaned.append(out_text)
        if seen:
            found[label] = seen
    if cleaned == values:
        return text, found
    out = text.copy()
    mask = np.zeros(len(text), dtype=bool)
    mask[where] = True
    out[mask] = np.asarray(cleaned, dtype=object)
    return out, found


def unneutralise(text: pd.Series) -> pd.Series:
    """Drop the apostrophe an export put before a value a spreadsheet would run as a formula."""
    import pyarrow.compute as pc

    arr = arrow(text)
    marked = pc.match_substring_regex(arr, r"^'+[=+\-@]")
    if not pc.any(marked).as_py():
        return text
    return _series(pc.if_else(marked, pc.utf8_slice_codeunits(arr, 1), arr), text)


def fullmatch(text: pd.Series, pattern: str, ascii_pattern: str) -> pd.Series:
    """
    Whether each cell matches ``pattern`` (Python syntax) as a whole.

    ``ascii_pattern`` is the same pattern written for RE2 on ASCII text (``\\w`` spelled
    ``[A-Za-z0-9_]`` and so on); cells that are not ASCII are matched by Python's ``re``.
    """
    import numpy as np
    import pandas as pd
    import pyarrow.compute as pc

    arr = arrow(text)
    matched = pc.match_substring_regex(arr, f"^(?:{ascii_pattern})$").to_numpy(zero_copy_only=False)
    other = ~pc.string_is_ascii(arr).to_numpy(zero_copy_only=False)
    result = np.asarray(matched, dtype=bool).copy()
    if other.any():
        compiled = re.compile(pattern)
        result[other] = [compiled.fullmatch(v) is not None for v in text[other].tolist()]
    return pd.Series(result, index=text.index)


def contains_any(text: pd.Series, literal: str) -> Any:
    """A boolean array: which cells contain ``literal``."""
    import numpy as np
    import pyarrow.compute as pc

    arr = arrow(text)
    layout = utf8(arr) if not arr.null_count else None
    if layout is not None and literal.encode() not in layout[1].tobytes():
        return np.zeros(len(arr), dtype=bool)  # in no cell: one search of the bytes says so
    return pc.match_substring(arr, literal).to_numpy(zero_copy_only=False)


def split_long(text: pd.Series, separator: str) -> pd.Series:
    """
    Each cell split on ``separator``, one piece per row of the result, indexed like ``text``.

    The same pieces, in the same order, as ``text.str.split(separator).explode()``.
    """
    import pandas as pd
    import pyarrow.compute as pc

    lists = pc.split_pattern(arrow(text), separator)
    pieces = pc.list_flatten(lists)
    parents = pc.list_parent_indices(lists).to_numpy()
    return pd.Series(pd.array(pieces, dtype="str"), index=text.index[parents], name=text.name)


def is_blank(text: pd.Series) -> Any:
    """A boolean array: which cells are empty or hold only whitespace (``not s.strip()``)."""
    import numpy as np
    import pyarrow.compute as pc

    arr = arrow(text)
    layout = utf8(arr) if not arr.null_count else None
    if layout is not None:
        # An empty cell is blank; one starting with an ASCII byte that is not a space is not.
        # When every cell is one or the other, the bytes decide without the regex.
        ends, data = layout
        empty = ends[1:] == ends[:-1]
        first = data[ends[:-1][~empty]]
        if not len(first) or (int(first.max()) < 0x80 and not np.isin(first, _ASCII_SPACES).any()):
            return empty
    blank = pc.match_substring_regex(arr, "^[" + SPACES + "]*$")
    return blank.to_numpy(zero_copy_only=False)


def strip(text: pd.Series) -> pd.Series:
    """``str.strip()`` of every cell (leading and trailing whitespace as Python sees it)."""
    return trim(text, SPACES)


def codes(text: pd.Series) -> Any:
    """Integer codes of the cells (equal cells, equal codes), by Arrow's hash table."""
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(arrow(text))
    return encoded.indices.to_numpy(zero_copy_only=False).astype("int64")


def repeated(text: pd.Series) -> Any:
    """A boolean array: which cells occur more than once (``duplicated(keep=False)``)."""
    import numpy as np

    found = codes(text)
    return np.bincount(found)[found] > 1 if len(found) else np.zeros(0, dtype=bool)


def objects(text: pd.Series) -> Any:
    """
    The cells as an object array of Python strings, one string object per distinct value.

    For columns that repeat (departments, group and first names), sharing the strings saves
    most of the memory and the time of making one per cell.
    """
    import numpy as np
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(arrow(text))
    distinct = np.empty(len(encoded.dictionary), dtype=object)
    distinct[:] = encoded.dictionary.to_pylist()
    return distinct[encoded.indices.to_numpy(zero_copy_only=False)]


def tuples(owner: Any, names: Any, n: int, *, codes: Any = None) -> Any:
    """
    For each of ``n`` owners, the tuple of its names (``()`` for an owner with none).

    ``owner`` (ints in ``range(n)``) says whose each of ``names`` (an Arrow string array) is;
    each owner's names must be adjacent, in the order wanted. Equal tuples are one object: a
    store whose users share a few combinations of groups holds a few tuples, not one per user,
    and only those few are made in Python. Equal names are one interned string (``sys.intern``),
    here and in every other call: a file's tuples and a store's then hold the same strings, so
    comparing them compares pointers, not text.

    ``codes``, when given, are integer codes of ``names`` (equal names, equal codes: see
    :func:`codes`), so that they need not be found again.
    """
    import numpy as np

    out = np.empty(n, dtype=object)
    out.fill(())
    owner = np.asarray(owner)
    if not len(owner):
        return out
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    bounds = np.r_[starts, len(owner)]
    which = _same_lists(bounds, names, codes)
    first = _first_of_each(which)
    # The names of one owner per distinct list, fetched from Arrow in one go per length, and
    # cut into tuples of that length by zip (no Python loop per list).
    lengths = bounds[first + 1] - bounds[first]
    made = np.empty(len(first), dtype=object)
    for length in np.unique(lengths).tolist():
        picked = np.flatnonzero(lengths == length)
        at = (bounds[first[picked]][:, None] + np.arange(length)).ravel()
        text = _interned(names.take(at))
        cut = zip(*[iter(text)] * length, strict=True)
        made[picked] = np.fromiter(cut, dtype=object, count=len(picked))
    out[owner[starts]] = made[which]
    return out


def _same_lists(bounds: Any, names: Any, codes: Any) -> Any:
    """
    Integer codes of the lists ``names[bounds[i]:bounds[i + 1]]`` (equal lists, equal codes),
    numbered in the order of their first appearance.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if names.null_count:  # no code for a missing name: the lists' joined texts are compared
        if pc.any(pc.match_substring(names, "\x00")).as_py():  # the separator: no sharing
            return np.arange(len(bounds) - 1)
        lists = pa.ListArray.from_arrays(pa.array(bounds, type=pa.int64()), names)
        joined = pc.binary_join(lists, pa.scalar("\x00", type=names.type))
        return pc.dictionary_encode(joined).indices.to_numpy(zero_copy_only=False)
    if codes is None:
        codes = pc.dictionary_encode(names).indices.to_numpy(zero_copy_only=False)
    # Each list as the bytes of its names' codes, side by side: equal lists, equal bytes.
    fixed = np.ascontiguousarray(codes, dtype=np.int64)
    offsets = pa.py_buffer(np.asarray(bounds, dtype=np.int64) * fixed.itemsize)
    lists = pa.Array.from_buffers(
        pa.large_binary(), len(bounds) - 1, [None, offsets, pa.py_buffer(fixed)]
    )
    return pc.dictionary_encode(lists).indices.to_numpy(zero_copy_only=False)


def _first_of_each(which: Any) -> Any:
    """
    Where each code of ``which`` first occurs, by code (``np.unique(which,
    return_index=True)[1]``). Codes numbered in the order of their first appearance (as
    Arrow's dictionary encoding numbers them) are found in one pass, without sorting.
    """
    import numpy as np

    which = np.asarray(which)
    if not len(which) or which.dtype.kind not in "iu":
        return np.unique(which, return_index=True)[1]
    highest = np.maximum.accumulate(which)
    first = np.flatnonzero(np.r_[True, highest[1:] > highest[:-1]])
    if (
        which[0] == 0
        and np.array_equal(which[first], np.arange(len(first)))
        and (int(highest[-1]) + 1 == len(first))
    ):
        return first
    return np.unique(which, return_index=True)[1]


def _interned(names: Any) -> list[Any]:
    """An Arrow string array as a list of interned strings, made once per distinct name."""
    import sys

    import numpy as np
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(names, null_encoding="encode")
    distinct = np.empty(len(encoded.dictionary), dtype=object)
    distinct[:] = [n if n is None else sys.intern(n) for n in encoded.dictionary.to_pylist()]
    return list(distinct[encoded.indices.to_numpy(zero_copy_only=False)].tolist())

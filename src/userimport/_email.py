"""
Email addresses: which are valid, and which look like another.

Validity is decided by ``email-validator`` (RFC 5321/5322, and RFC 6531/6532 for Unicode
local parts and domains, IDNA 2008 for punycode), without asking DNS. A column is checked
with an Arrow regex first: an ASCII address the regex accepts is valid (a property test proves
that the reference accepts every one of them); every other non-empty cell is judged by the
reference itself, so the verdict is always the reference's.

Look-alikes are judged with the Unicode confusables data (UTS #39) that
``confusable-homoglyphs`` ships; see :func:`skeleton`.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ASCII_EMAIL",
    "ascii_lookalike",
    "email_problem",
    "mixed_script_parts",
    "problems",
    "skeleton",
    "skeletons",
]

_ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
# No "--" in a label (IDNA 2008 reserves "ab--" labels): such domains go to the reference.
# No length limit either: the fast path takes addresses of up to 64 characters in all.
_LABEL = "[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*"
#: The fast path (RE2 and Python syntax alike): a plain ASCII address with an alphabetic
#: top-level domain. A match of at most 64 characters whose domain is not special-use is
#: valid; anything else is asked of the reference.
ASCII_EMAIL = rf"{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+[A-Za-z]{{2,63}}"


#: The longest address the fast path judges: longer ones go to the reference.
_FAST_LENGTH = 64


#: The endings the reference refuses although :data:`ASCII_EMAIL` matches: email-validator's
#: ``SPECIAL_USE_DOMAIN_NAMES`` (2.x), copied so that a column whose cells all take the fast
#: path is checked without importing email-validator (its import compiles dozens of regexes:
#: tens of milliseconds at start-up). A test keeps the copy equal to the installed list.
SPECIAL_USE_DOMAIN_NAMES = ("arpa", "invalid", "local", "localhost", "onion", "test")


def _special_use() -> tuple[str, ...]:
    """The special-use endings as ``.name``."""
    return tuple(f".{name}" for name in SPECIAL_USE_DOMAIN_NAMES)


def _fast(arr: Any) -> Any:
    """A boolean array: which cells of an Arrow string array the fast path finds valid."""
    import pyarrow.compute as pc

    names = "|".join(e[1:] for e in _special_use())
    # A cell the pattern matches is ASCII: its length in characters is its length in bytes.
    ok = pc.and_(
        pc.match_substring_regex(arr, f"^(?:{ASCII_EMAIL})$"),
        pc.less_equal(pc.binary_length(arr), _FAST_LENGTH),
    )
    if not _may_end_special(arr):
        return ok
    return pc.and_(ok, pc.invert(pc.match_substring_regex(arr, rf"(?i)\.(?:{names})$")))


def _may_end_special(arr: Any) -> bool:
    """
    Whether a cell may end in a special-use name: ``False`` when no cell's last byte is the
    last letter of one, in either case (``.com`` ends in ``m``), so no regex need look.
    """
    import numpy as np

    from . import _text

    layout = _text.utf8(arr)
    if layout is None:
        return True
    ends, data = layout
    last = data[ends[1:][ends[1:] > ends[:-1]] - 1]
    letters = {ord(c) for name in SPECIAL_USE_DOMAIN_NAMES for c in (name[-1], name[-1].upper())}
    return bool(np.isin(last, sorted(letters)).any())


def email_problem(text: str) -> str | None:
    """
    Why ``text`` is not a valid email address, or ``None`` when it is one.

    The reference is ``email-validator`` (no DNS lookup): dot-atom local parts, Unicode
    local parts and domains (RFC 6531/6532), punycode labels (``xn--p1ai``), no quoted local
    parts, IP literals or special-use domains (``.test``, ``.local``).
    """
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        return str(exc)
    return None


def problems(text: pd.Series) -> dict[Any, str]:
    """
    For each cell (by index label) that is not empty and not a valid address, why not.

    Column-wise: the ASCII cells the fast pattern accepts are valid without a Python call.
    """
    import numpy as np

    from . import _text

    fast = _fast(_text.arrow(text))
    ask = ~np.asarray(fast.to_numpy(zero_copy_only=False), dtype=bool) & (text != "").to_numpy()
    out: dict[Any, str] = {}
    if ask.any():
        picked = text[ask]
        for label, value in zip(picked.index.tolist(), picked.tolist(), strict=True):
            problem = email_problem(value)
            if problem is not None:
                out[label] = problem
    return out


# -- look-alikes ----------------------------------------------------------------------------


@functools.cache
def _prototypes() -> Mapping[str, str]:
    """
    Each confusable character's prototype, as UTS #39's confusables.txt maps it.

    ``confusable-homoglyphs`` stores that file both ways (each source lists its prototype,
    each prototype lists its sources), so the direction is read back from it: a character
    listing a sequence of several characters, or one character that lists others, maps to
    it; a character listing others is a prototype. A pair that lists only each other maps to
    the smaller of the two, which keeps equal skeletons equal.
    """
    from confusable_homoglyphs.confusables import confusables_data

    def plain(text: str) -> str:
        # The data file's comments wrap right-to-left characters in LRM marks.
        return text.replace("\u200e", "") or text

    data: dict[str, list[str]] = {}
    for key, found in confusables_data.items():
        data.setdefault(plain(key), []).extend(plain(d["c"]) for d in found)
    out: dict[str, str] = {}
    for key, targets in data.items():
        if len(key) != 1:
            continue
        longer = [t for t in targets if len(t) > 1]
        if longer:
            out[key] = longer[0]
        elif len(targets) == 1:
            (other,) = targets
            if len(data.get(other, ())) > 1 or other < key:
                out[key] = other
    return {k: unicodedata.normalize("NFD", v) for k, v in out.items() if v != k}


def skeleton(text: str) -> str:
    """
    The UTS #39 skeleton of ``text``: NFD, each character replaced by its prototype, NFD.

    Two strings with the same skeleton look alike (``pаypal`` with a Cyrillic ``а`` and
    ``paypal``; ``ｐaypal`` in fullwidth letters). The replacement is repeated until nothing
    changes (at most a few rounds): the data as the library ships it has a few prototypes
    that have prototypes themselves, and a skeleton must be its own skeleton.

    >>> skeleton("p\\u0430ypal") == skeleton("paypal")
    True
    """
    table = _prototypes()
    out = unicodedata.normalize("NFD", text)
    for _ in range(8):
        mapped = unicodedata.normalize("NFD", "".join([table.get(c, c) for c in out]))
        if mapped == out:
            break
        out = mapped
    return out


@functools.cache
def _ascii_table() -> dict[str, str]:
    """The prototypes of the ASCII characters that have one (``1`` -> ``l``, ``m`` -> ``rn``)."""
    return {c: p for c in map(chr, range(128)) if (p := skeleton(c)) != c}


def skeletons(text: pd.Series) -> pd.Series:
    """
    :func:`skeleton` of every cell: ASCII cells with Arrow (each character's skeleton put in
    one character at a time: a skeleton holds no character that maps, so no replacement
    touches another's output), the others in Python.
    """
    import pandas as pd
    import pyarrow.compute as pc

    from . import _text

    if not len(text):  # the table behind the skeletons loads a large data file
        return text.copy()
    arr = _text.arrow(text)
    for char, proto in _ascii_table().items():
        arr = pc.replace_substring(arr, char, proto)
    out = pd.Series(pd.array(arr, dtype="str"), index=text.index, name=text.name)
    return _text.patch(out, _text.non_ascii(text), skeleton, source=text)


def ascii_lookalike(text: str) -> str | None:
    """
    The ASCII text ``text`` can pass for, or ``None``: each non-ASCII character replaced by
    its skeleton (``pаul`` with a Cyrillic ``а`` and ``ｐaul`` are ``paul``), when that
    leaves only ASCII and ``text`` is not ASCII itself.
    """
    if text.isascii():
        return None
    out = "".join([c if c.isascii() else skeleton(c) for c in text])
    return out if out.isascii() else None


def mixed_script_parts(email: str) -> list[tuple[str, list[str]]]:
    """
    The parts of an address (local part, each domain label) that mix scripts, with the
    scripts (``LATIN``, ``CYRILLIC``...), as ``confusable-homoglyphs`` names them.
    """
    from confusable_homoglyphs import categories, confusables

    local, _, domain = email.rpartition("@")
    out = []
    for part in [local, *domain.split(".")]:
        if not part.isascii() and confusables.is_mixed_script(part):
            out.append((part, sorted(categories.unique_aliases(part) - {"COMMON"})))
    return out

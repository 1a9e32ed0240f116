"""
The recognition of header words, shared by header detection and column mapping; the words,
in thirteen languages, are in :mod:`userimport._headerwords`.

A header is folded (annotations such as ``[Required]``, case, accents, spacing and punctuation
away) and then recognised, best first: a known name of a property, a numbered group or email
column (``Group 2``), a known column that feeds no property (``Employee ID``), a fuzzy match
of a known name (rapidfuzz), or a property's name inside a longer header such as a form's
question (``Hvilken avdeling jobber du i?``). Words that say an address is someone else's
(``Manager Email``) or a second one (``Recovery Email``) give an email header its :data:`Role`;
a sign-in name (``userPrincipalName``), a whole name (``Full name``) and a name prefix
(``Tussenvoegsel``) are told apart by their :data:`Kind`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Literal

import attrs

from ._headerwords import (
    AT_WORK,
    FULL_NAME,
    LANGUAGES,
    NAME_PREFIX,
    OTHER,
    OTHER_PERSON,
    SECONDARY,
    SIGN_IN,
    WORDS,
)

__all__ = [
    "CANONICAL",
    "FUZZY_CUTOFF",
    "LANGUAGES",
    "PARTIAL_SCORE",
    "SYNONYMS",
    "Kind",
    "Recognised",
    "Role",
    "fold",
    "lookup",
    "normalise",
    "recognise",
    "recognise_all",
    "role_of",
]

#: Whose address an email column holds: the user's own, a second one of theirs, or someone else's.
Role = Literal["own", "secondary", "other_person"]
Method = Literal["exact", "synonym", "fuzzy", "partial"]
#: What else a header says: a sign-in name (not a mailbox), a whole name, a name prefix.
Kind = Literal["", "sign_in", "full_name", "name_prefix"]

#: The name that makes a match ``exact`` rather than ``synonym``, per property.
CANONICAL = {
    "first_name": "first name",
    "last_name": "last name",
    "email": "email",
    "department": "department",
    "groups": "groups",
    "is_admin": "is admin",
}

#: A fuzzy match needs at least this rapidfuzz ``fuzz.ratio`` (0-100) against a known name.
FUZZY_CUTOFF = 80.0
_FUZZY_MIN_LENGTH = 5

#: The score of a property word found inside a longer header (a question).
PARTIAL_SCORE = 0.6
# A word found inside a longer header: at least this long, and never the admin flag.
_PARTIAL_MIN_LENGTH = 5
# The longest ending an inflected word may add (``avdelingen``, ``osastossa``).
_INFLECTION = 5


def _words(text: str) -> list[str]:
    return [w for w in text.split("|") if w]


_QUALIFIERS: list[tuple[str, Role]] = []  # filled below, once fold() exists

_FOLD = str.maketrans(
    {"ø": "o", "æ": "ae", "ß": "ss", "đ": "d", "ð": "d", "ł": "l", "œ": "oe", "þ": "th"}
)
_ANNOTATION = re.compile(r"\[[^\]]*\]|\([^)]*\)|\{[^}]*\}")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_NUMBERED = re.compile(r"^(.*?[a-z])(\d{1,2})$")


def fold(text: str) -> str:
    """
    Fold case and accents, keeping word breaks as single spaces.

    >>> fold("  Förnamn_Ærlig  (Required) "), fold("givenName")
    ('fornamn aerlig required', 'given name')
    """
    text = _CAMEL.sub(" ", text).casefold()
    if not text.isascii():  # ASCII has nothing to fold but case
        text = unicodedata.normalize("NFKD", text.translate(_FOLD))
        text = "".join(c for c in text if not unicodedata.combining(c))
    return _NOT_ALNUM.sub(" ", text).strip()


def normalise(header: str) -> str:
    """
    Fold a header for comparison: annotations, case, accents, spacing and punctuation away.

    >>> normalise("*E-mail Address [Required]"), normalise("Förnamn"), normalise("Group 2")
    ('emailaddress', 'fornamn', 'group2')
    """
    text = _ANNOTATION.sub(" ", header)
    if text.isascii():  # fold's word breaks are dropped here: only case is left to fold
        return _NOT_ALNUM.sub("", text.lower())
    return fold(text).replace(" ", "")


@attrs.frozen(kw_only=True)
class _Known:
    target: str | None
    word: str
    languages: tuple[str, ...]
    kind: Kind = ""


def _table() -> dict[str, _Known]:
    """Normalised name -> what it names; a property's own names first, then the rest."""
    table: dict[str, _Known] = {}

    def add(key_word: str, target: str | None, language: str, kind: Kind = "") -> None:
        key = normalise(key_word)
        before = table.get(key)
        if before is None:
            table[key] = _Known(
                target=target, word=key_word, languages=(language,) if language else (), kind=kind
            )
        elif language and language not in before.languages and before.target == target:
            table[key] = attrs.evolve(before, languages=(*before.languages, language))

    for target, by_language in WORDS.items():
        for language, words in by_language.items():
            for word in _words(words):
                add(word, target, language)
    for language, words in SIGN_IN.items():
        for word in _words(words):
            add(word, "email", language, "sign_in")
    for language, words in FULL_NAME.items():
        for word in _words(words):
            add(word, None, language, "full_name")
    for word in _words(NAME_PREFIX):
        add(word, None, "", "name_prefix")
    for language, words in OTHER.items():
        for word in _words(words):
            add(word, None, language)
    return table


_KNOWN = _table()

#: Normalised known name -> property (known headers that feed no property left out).
SYNONYMS: dict[str, str] = {k: v.target for k, v in _KNOWN.items() if v.target is not None}

_QUALIFIERS.extend(
    sorted(
        [(fold(w), "secondary") for w in _words(SECONDARY)]
        + [(fold(w), "other_person") for w in _words(OTHER_PERSON)],
        key=lambda item: -len(item[0]),
    )
)
# Property names that may be found inside a longer header (a form's question).
_PARTIAL = {
    k: v
    for k, v in _KNOWN.items()
    if v.target not in (None, "is_admin") and len(k) >= _PARTIAL_MIN_LENGTH
}

_FUZZY_CHOICES = tuple(k for k in _KNOWN if len(k) >= _FUZZY_MIN_LENGTH)


@attrs.frozen(kw_only=True)
class Recognised:
    """
    What a header names.

    Args:
        target: The property it names, or ``None`` for a known column that feeds none.
        method: ``exact`` (the property's own name), ``synonym``, ``fuzzy``, or ``partial``
            (the name inside a longer header, such as a form's question).
        score: How sure, in [0, 1].
        word: The known name it matched.
        languages: The languages of that name (codes of ``LANGUAGES``).
        role: For an email header, whose address it holds.
        similarity: For a fuzzy match, rapidfuzz's ratio (0-100).
        kind: ``sign_in`` for a sign-in name (``userPrincipalName``, ``Username``),
            ``full_name`` for a whole name (``Full name``, ``Navn``), ``name_prefix`` for a
            name prefix (``Tussenvoegsel``), else ``""``.
    """

    target: str | None
    method: Method
    score: float
    word: str
    languages: tuple[str, ...] = ()
    role: Role = "own"
    similarity: float = 100.0
    kind: Kind = ""

    def describe(self, header: str) -> str:
        """Say why ``header`` names :attr:`target`, for a person."""
        names = ", ".join(LANGUAGES[code] for code in self.languages)
        if self.method == "fuzzy":
            text = f"header {header!r} is close to {self.word!r} ({self.similarity:.0f}%)"
        elif self.method == "exact":
            text = f"header {header!r} is the name of {self.target}"
        elif self.method == "partial":
            text = (
                f"header {header!r} holds the word {self.word!r} ({names}), a name for "
                f"{self.target}, inside a longer text such as a question: a weaker match"
            )
        else:
            text = f"header {header!r} is a known name for {self.target} ({names})"
        if self.kind == "sign_in":
            text += "; it names a sign-in name, not a mailbox"
        return text


def role_of(header: str) -> tuple[Role, str]:
    """
    Whose address a column with this header holds, and the word that says so.

    >>> role_of("Manager Email"), role_of("E-mail (privat)"), role_of("Work email")
    (('other_person', 'manager'), ('secondary', 'privat'), ('own', ''))
    """
    for token in fold(header).split():
        for word, role in _QUALIFIERS:
            if token.startswith(word):
                return role, word
    return "own", ""


def _strip_qualifiers(header: str) -> str:
    """The normalised header without the words that say whose address it is."""
    tokens = []
    for token in fold(_ANNOTATION.sub(" ", header)).split():
        for word, _ in _QUALIFIERS:
            if token.startswith(word):
                token = token[len(word) :]
                break
        tokens.append(token)
    return "".join(tokens)


_AT_WORK = frozenset(fold(w) for w in _words(AT_WORK))


def _without_work_words(header: str) -> str:
    """The normalised header without the words that say it is the work one (``E-mail werk``)."""
    tokens = fold(_ANNOTATION.sub(" ", header)).split()
    kept = [t for t in tokens if t not in _AT_WORK]
    return "".join(kept) if kept and len(kept) < len(tokens) else ""


def _exact(key: str) -> tuple[_Known, str] | None:
    """A known name for ``key``, also as a numbered group or email column (``Group 2``)."""
    known = _KNOWN.get(key)
    if known is not None:
        return known, ""
    numbered = _NUMBERED.match(key)
    if numbered:
        known = _KNOWN.get(numbered.group(1))
        if known is not None and known.target in ("groups", "email"):
            return known, numbered.group(2)
    return None


def _recognise_exactly(header: str) -> Recognised | None:
    """A known name, with no fuzzy matching."""
    key = normalise(header)
    if not key:
        return None
    role, _ = role_of(header)
    hit = _exact(key)
    if hit is None and _without_work_words(header):
        hit = _exact(_without_work_words(header))
    if hit is None and role != "own":
        hit = _exact(_strip_qualifiers(header))
        if hit is None or hit[0].target != "email":
            # "Manager first name" names nothing we import, whatever "first name" says.
            return None
    if hit is None:
        return None
    known, number = hit
    if known.target != "email":
        role = "own"
    elif number not in ("", "1") and role == "own":
        role = "secondary"
    exact = known.target is not None and key == normalise(CANONICAL[known.target])
    return Recognised(
        target=known.target,
        method="exact" if exact else "synonym",
        # A two-letter abbreviation (LDAP's ``sn``) yields to a spelled-out name (``Surname``).
        score=1.0 if exact else (0.95 if len(key) > 2 else 0.9),
        word=known.word,
        languages=known.languages,
        role=role,
        kind=known.kind,
    )


def _inflected(token: str, longest: int = _INFLECTION) -> _Known | None:
    """
    A property's name that ``token`` is, or inflects with an ending of at most ``longest``
    letters (``avdelingen``, ``osastossa``; ``etunimesi`` and ``ryhmiin``, whose stems change
    their last vowel).
    """
    known = _PARTIAL.get(token)
    for cut in range(1, min(longest, _INFLECTION) + 1):
        stem = token[:-cut]
        if known is not None or len(stem) < _PARTIAL_MIN_LENGTH - 1:
            break
        known = _PARTIAL.get(stem) if len(stem) >= _PARTIAL_MIN_LENGTH else None
        known = known or next(
            (_PARTIAL[k] for k in (stem + "i", stem + "a", stem + "e") if k in _PARTIAL), None
        )
    return known


def _recognise_inside(header: str) -> Recognised | None:
    """
    A property's name inside a longer header (three words or more, or a question).

    Two-word and three-word names are looked for first (``first name``); a header holding
    names of two properties names none, except a first and a last name together, which is a
    whole name (``Etternavn, fornavn``).
    """
    text = _ANNOTATION.sub(" ", header).strip()
    tokens = fold(text).split()
    # A technical name (``legalAgeGroupClassification``) is not a question.
    if len(tokens) < 2 or not re.search(r"[\s,?:]", text):
        return None
    hits: list[_Known] = []
    used: set[int] = set()
    for size in (3, 2, 1):
        for i in range(len(tokens) - size + 1):
            span = set(range(i, i + size))
            if span & used:
                continue
            joined = "".join(tokens[i : i + size])
            known = _KNOWN.get(joined) if size > 1 else None
            if known is None or known.target == "is_admin":
                # Only the last word of a name inflects (``e-postadressen``).
                known = _inflected(joined, longest=len(tokens[i + size - 1]) - 1)
            if known is not None:
                hits.append(known)
                used |= span
    targets = {h.target for h in hits if h.target is not None}
    if {"first_name", "last_name"} <= targets and len(targets) == 2:
        names = [h for h in hits if h.target is not None]
        return Recognised(
            target=None,
            method="partial",
            score=PARTIAL_SCORE,
            word=" + ".join(h.word for h in names),
            languages=names[0].languages,
            kind="full_name",
        )
    question = len(tokens) >= 3 or header.rstrip().endswith("?")
    if not question or len(targets) != 1 or any(h.target is None for h in hits):
        return None
    known = next(h for h in hits if h.target is not None)
    role, _ = role_of(header)
    if role != "own" and known.target != "email":
        return None
    return Recognised(
        target=known.target,
        method="partial",
        score=PARTIAL_SCORE,
        word=known.word,
        languages=known.languages,
        role=role,
        kind=known.kind,
    )


def recognise(header: str) -> Recognised | None:
    """
    What ``header`` names, or ``None`` when it is not a known name, nor close to one.

    >>> recognise("Etternavn").target, recognise("Group 3").target, recognise("Frist name").method
    ('last_name', 'groups', 'fuzzy')
    >>> recognise("Manager Email").role, recognise("Employee ID").target is None
    ('other_person', True)
    >>> recognise("Hvilken avdeling jobber du i?").target, recognise("upn").kind
    ('department', 'sign_in')
    """
    return recognise_all([header])[0]


def recognise_all(headers: Sequence[str]) -> list[Recognised | None]:
    """
    :func:`recognise` for many headers, with one fuzzy pass (rapidfuzz ``cdist``) for all.
    """
    from rapidfuzz import fuzz, process

    found = [_recognise_exactly(h) for h in headers]
    misses = [
        i
        for i, h in enumerate(headers)
        if found[i] is None and len(normalise(h)) >= _FUZZY_MIN_LENGTH and role_of(h)[0] == "own"
    ]
    if misses:
        scores = process.cdist(
            [normalise(headers[i]) for i in misses],
            _FUZZY_CHOICES,
            scorer=fuzz.ratio,
            score_cutoff=FUZZY_CUTOFF,
        )
        for row, i in enumerate(misses):
            best = int(scores[row].argmax())
            similarity = float(scores[row][best])
            known = _KNOWN[_FUZZY_CHOICES[best]]
            if similarity < FUZZY_CUTOFF or known.target is None:
                continue
            found[i] = Recognised(
                target=known.target,
                method="fuzzy",
                score=round(0.9 * similarity / 100, 2),
                word=known.word,
                languages=known.languages,
                similarity=round(similarity, 1),
                kind=known.kind,
            )
    return [
        f if f is not None else _recognise_inside(h) for f, h in zip(found, headers, strict=True)
    ]


def lookup(header: str) -> str | None:
    """
    The property a header names exactly (after :func:`normalise`), or ``None``.

    >>> lookup("E-postadresse"), lookup("Gruppe 2"), lookup("Manager email"), lookup("Notes")
    ('email', 'groups', None, None)
    """
    found = _recognise_exactly(header)
    if found is None or found.role != "own":
        return None
    return found.target

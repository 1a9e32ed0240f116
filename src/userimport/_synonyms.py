"""
Header words for every property, in English, Norwegian, Swedish, Danish and German, and the
recognition shared by header detection and column mapping.

A header is folded (annotations such as ``[Required]``, case, accents, spacing and punctuation
away) and then recognised, best first: a known name of a property, a numbered group or email
column (``Group 2``), a known column that feeds no property (``Employee ID``), or a fuzzy match
of a known name (rapidfuzz). Words that say an address is someone else's (``Manager Email``)
or a second one (``Recovery Email``) give an email header its :data:`Role`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Literal

import attrs

__all__ = [
    "CANONICAL",
    "FUZZY_CUTOFF",
    "LANGUAGES",
    "SYNONYMS",
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
Method = Literal["exact", "synonym", "fuzzy"]

#: The languages of the synonyms, for explanations.
LANGUAGES = {"en": "English", "no": "Norwegian", "sv": "Swedish", "da": "Danish", "de": "German"}

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

# Known names per property and language, "|" between names.
_WORDS: dict[str, dict[str, str]] = {
    "first_name": {
        "en": "first name|firstname|first|given name|forename|fname",
        "no": "fornavn",
        "sv": "förnamn|tilltalsnamn",
        "da": "fornavn",
        "de": "vorname|rufname",
    },
    "last_name": {
        "en": "last name|lastname|last|surname|family name|lname",
        "no": "etternavn|slektsnavn",
        "sv": "efternamn",
        "da": "efternavn",
        "de": "nachname|familienname|zuname",
    },
    "email": {
        "en": (
            "email|e-mail|mail|email address|e-mail address|mail address|work email"
            "|business email|primary email|user email|login|login email|sign-in email"
            "|username|user name|user principal name|upn"
        ),
        "no": "e-post|epost|e-postadresse|jobb e-post|brukernavn|innlogging",
        "sv": "e-post|e-postadress|mejl|mejladress|användarnamn",
        "da": "e-mail|e-mailadresse|mailadresse|brugernavn",
        "de": (
            "e-mail|e-mail-adresse|mailadresse|arbeits-e-mail|geschäftliche e-mail"
            "|benutzername|anmeldename"
        ),
    },
    "department": {
        "en": (
            "department|dept|division|department name|business unit|org unit"
            "|organizational unit|organisational unit"
        ),
        "no": "avdeling|avd|enhet|seksjon",
        "sv": "avdelning|enhet",
        "da": "afdeling|afd",
        "de": "abteilung|abt|bereich|organisationseinheit",
    },
    "groups": {
        "en": "groups|group|user groups|usergroups|user group|teams|team|member of",
        "no": "grupper|gruppe|brukergrupper|brukergruppe",
        "sv": "grupper|grupp|användargrupper|användargrupp",
        "da": "grupper|gruppe|brugergrupper|brugergruppe",
        "de": "gruppen|gruppe|benutzergruppen|benutzergruppe",
    },
    "is_admin": {
        "en": "admin|is admin|administrator|admin rights|is administrator",
        "no": "administrator|er admin|adminrettigheter",
        "sv": "administratör|är admin|adminbehörighet",
        "da": "administrator|er admin",
        "de": "administrator|ist admin|adminrechte",
    },
}

# Common headers that feed no property: they still tell a header row from data, and they are
# never fuzzily taken for a property (``Employee ID`` is not ``email``).
_OTHER = (
    "id", "employee id", "employee number", "employee no", "staff id", "user id", "person id",
    "ansattnummer", "ansattnr", "anställningsnummer", "medarbejdernummer", "personalnummer",
    "password", "passord", "lösenord", "adgangskode", "passwort", "phone", "phone number",
    "mobile", "mobile phone", "telephone", "telefon", "mobil", "mobilnummer", "title",
    "job title", "employee title", "position", "stilling", "stillingstittel", "titel",
    "befattning", "jobbtitel", "start date", "end date", "hire date", "startdato", "sluttdato",
    "startdatum", "eintrittsdatum", "manager", "supervisor", "leder", "chef", "vorgesetzter",
    "notes", "note", "comment", "comments", "kommentar", "merknad", "anmerkung", "bemerkung",
    "location", "office", "kontor", "city", "country", "land", "address", "adresse",
    "name", "full name", "display name", "navn", "namn", "fullt navn", "status", "active",
    "enabled", "language", "locale", "time zone", "org unit path", "cost center",
    "cost centre", "company", "firma", "birth date", "date of birth", "fødselsdato",
    "role", "roles", "rolle", "roller", "roll", "rollen",
)  # fmt: skip

# Words (a header's word, or the start of one) that make an email header name a second address
# of the user's, or someone else's address.
_SECONDARY = (
    "recovery", "private", "privat", "personal", "personlig", "secondary", "backup",
    "alternate", "alternative", "other", "home", "hjem", "hem", "gmail", "annen", "andra",
)  # fmt: skip
_OTHER_PERSON = (
    "managers", "manager", "supervisors", "supervisor", "boss", "leaders", "leader", "leders",
    "leder", "chefs", "chef", "vorgesetzten", "vorgesetzter", "approver", "sponsor",
    "assistant", "parent", "guardian", "foresatt",
)  # fmt: skip
_QUALIFIERS: list[tuple[str, Role]] = sorted(
    [(w, "secondary") for w in _SECONDARY] + [(w, "other_person") for w in _OTHER_PERSON],
    key=lambda item: -len(item[0]),
)

_FOLD = str.maketrans({"ø": "o", "æ": "ae", "ß": "ss", "đ": "d", "ł": "l", "œ": "oe", "þ": "th"})
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
    text = unicodedata.normalize("NFKD", _CAMEL.sub(" ", text).casefold().translate(_FOLD))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return _NOT_ALNUM.sub(" ", text).strip()


def normalise(header: str) -> str:
    """
    Fold a header for comparison: annotations, case, accents, spacing and punctuation away.

    >>> normalise("*E-mail Address [Required]"), normalise("Förnamn"), normalise("Group 2")
    ('emailaddress', 'fornamn', 'group2')
    """
    return fold(_ANNOTATION.sub(" ", header)).replace(" ", "")


@attrs.frozen(kw_only=True)
class _Known:
    target: str | None
    word: str
    languages: tuple[str, ...]


def _table() -> dict[str, _Known]:
    table: dict[str, _Known] = {}
    for target, by_language in _WORDS.items():
        for language, words in by_language.items():
            for word in words.split("|"):
                key = normalise(word)
                before = table.get(key)
                if before is None:
                    table[key] = _Known(target=target, word=word, languages=(language,))
                elif language not in before.languages:
                    table[key] = attrs.evolve(before, languages=(*before.languages, language))
    for word in _OTHER:
        table.setdefault(normalise(word), _Known(target=None, word=word, languages=()))
    return table


_KNOWN = _table()

#: Normalised known name -> property (known headers that feed no property left out).
SYNONYMS: dict[str, str] = {k: v.target for k, v in _KNOWN.items() if v.target is not None}

_FUZZY_CHOICES = tuple(k for k in _KNOWN if len(k) >= _FUZZY_MIN_LENGTH)


@attrs.frozen(kw_only=True)
class Recognised:
    """
    What a header names.

    Args:
        target: The property it names, or ``None`` for a known column that feeds none.
        method: ``exact`` (the property's own name), ``synonym`` or ``fuzzy``.
        score: How sure, in [0, 1].
        word: The known name it matched.
        languages: The languages of that name (``en``, ``no``, ``sv``, ``da``, ``de``).
        role: For an email header, whose address it holds.
        similarity: For a fuzzy match, rapidfuzz's ratio (0-100).
    """

    target: str | None
    method: Method
    score: float
    word: str
    languages: tuple[str, ...] = ()
    role: Role = "own"
    similarity: float = 100.0

    def describe(self, header: str) -> str:
        """Say why ``header`` names :attr:`target`, for a person."""
        if self.method == "fuzzy":
            return f"header {header!r} is close to {self.word!r} ({self.similarity:.0f}%)"
        if self.method == "exact":
            return f"header {header!r} is the name of {self.target}"
        names = ", ".join(LANGUAGES[code] for code in self.languages)
        return f"header {header!r} is a known name for {self.target} ({names})"


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
        score=1.0 if exact else 0.95,
        word=known.word,
        languages=known.languages,
        role=role,
    )


def recognise(header: str) -> Recognised | None:
    """
    What ``header`` names, or ``None`` when it is not a known name, nor close to one.

    >>> recognise("Etternavn").target, recognise("Group 3").target, recognise("Frist name").method
    ('last_name', 'groups', 'fuzzy')
    >>> recognise("Manager Email").role, recognise("Employee ID").target is None
    ('other_person', True)
    """
    return recognise_all([header])[0]


def recognise_all(headers: Sequence[str]) -> list[Recognised | None]:
    """:func:`recognise` for many headers, with one fuzzy pass (rapidfuzz ``cdist``) for all."""
    from rapidfuzz import fuzz, process

    found = [_recognise_exactly(h) for h in headers]
    misses = [
        i
        for i, h in enumerate(headers)
        if found[i] is None and len(normalise(h)) >= _FUZZY_MIN_LENGTH and role_of(h)[0] == "own"
    ]
    if not misses:
        return found
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
        )
    return found


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

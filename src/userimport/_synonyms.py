"""
Header words for every property, in English, Norwegian, Swedish, Danish and German, and the
normalisation that makes ``E-post``, ``*Email Address [Required]`` and ``e_mail`` comparable.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["EMAIL_LIKE", "SYNONYMS", "lookup", "normalise"]

_FOLD = str.maketrans({"ø": "o", "æ": "ae", "ß": "ss", "đ": "d", "ł": "l", "œ": "oe", "þ": "th"})
_ANNOTATION = re.compile(r"\[[^\]]*\]|\([^)]*\)|\{[^}]*\}")

#: Normalised header -> property.
SYNONYMS: dict[str, str] = {}

_WORDS = {
    "first_name": [
        "first name",
        "firstname",
        "first",
        "given name",
        "givenname",
        "forename",
        "fname",
        "fornavn",
        "förnamn",
        "tilltalsnamn",
        "vorname",
        "prénom",
        "nombre",
    ],
    "last_name": [
        "last name",
        "lastname",
        "last",
        "surname",
        "family name",
        "familyname",
        "lname",
        "etternavn",
        "efternavn",
        "efternamn",
        "nachname",
        "familienname",
        "nom",
        "apellido",
    ],
    "email": [
        "email",
        "e-mail",
        "email address",
        "e-mail address",
        "mail",
        "mail address",
        "emailadresse",
        "e-mail-adresse",
        "e-post",
        "epost",
        "e-postadresse",
        "e-postadress",
        "e-mailadresse",
        "mailadresse",
        "work email",
        "business email",
        "primary email",
        "user email",
        "email (work)",
        "login",
        "login email",
        "username",
        "user name",
        "user principal name",
        "userprincipalname",
        "upn",
        "arbeits-e-mail",
        "jobb e-post",
    ],
    "department": [
        "department",
        "dept",
        "division",
        "avdeling",
        "avdelning",
        "afdeling",
        "abteilung",
        "department name",
        "business unit",
        "enhet",
        "seksjon",
    ],
    "groups": [
        "groups",
        "group",
        "user groups",
        "usergroups",
        "user group",
        "usergroup",
        "brukergrupper",
        "brukergruppe",
        "grupper",
        "gruppe",
        "grupp",
        "användargrupper",
        "brugergrupper",
        "gruppen",
        "benutzergruppen",
        "teams",
        "team",
        "member of",
        "memberof",
    ],
    "is_admin": ["admin", "is admin", "isadmin", "administrator", "admin rights", "role admin"],
}

#: Header words that say a column of addresses is someone else's or a second address.
EMAIL_LIKE = (
    "manager", "leder", "chef", "vorgesetzt", "recovery", "private", "privat", "personal",
    "secondary", "backup", "alternate", "alternative", "other", "cc", "home", "hjem",
)  # fmt: skip

_GROUP_NUMBERED = re.compile(r"^(user)?(groups?|gruppe[rn]?|grupp|team|teams)\d+$")


def normalise(header: str) -> str:
    """
    Fold a header for comparison: annotations, case, accents, spacing and punctuation away.

    >>> normalise("*E-mail Address [Required]"), normalise("Förnamn"), normalise("Group 2")
    ('emailaddress', 'fornamn', 'group2')
    """
    text = _ANNOTATION.sub(" ", header).casefold().translate(_FOLD)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]", "", text)


for _target, _words in _WORDS.items():
    for _word in _words:
        SYNONYMS[normalise(_word)] = _target


def lookup(header: str) -> str | None:
    """The property a header names exactly (after :func:`normalise`), or ``None``."""
    key = normalise(header)
    if not key:
        return None
    if key in SYNONYMS:
        return SYNONYMS[key]
    if _GROUP_NUMBERED.match(key):
        return "groups"
    return None

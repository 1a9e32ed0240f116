"""
The pages' language: one gettext catalogue (domain ``userimport``), English and Norwegian bokmål.

The messages are written in English in the templates and in ``app.py``; English needs no
catalogue. ``locale/nb/LC_MESSAGES/userimport.po`` holds the bokmål translation and the
compiled ``userimport.mo`` beside it is committed (``tests/test_web_i18n.py`` checks that
it is compiled from the ``.po`` as it is, and that every message has a translation), so a
fresh clone or an installed wheel has it without Babel or a network. Only the standard
library's :mod:`gettext` reads it at run time.

The language is chosen from the request's ``Accept-Language`` (RFC 9110, section 12.5.4):
the supported language with the highest weight; ``nb``, ``no`` and ``nn`` read bokmål
(a Nynorsk reader reads bokmål more easily than English); anything else, English.
"""

from __future__ import annotations

import functools
import gettext
from pathlib import Path

__all__ = ["DOMAIN", "LANGUAGES", "N_", "choose_language", "translations"]

#: The gettext domain of the catalogue.
DOMAIN = "userimport"
#: The languages the pages are written in; the first is the default.
LANGUAGES = ("en", "nb")
#: Language tags (their primary subtag) read as each supported language.
_ALIASES = {"en": "en", "nb": "nb", "no": "nb", "nn": "nb"}
LOCALE_DIR = Path(__file__).with_name("locale")


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue without translating it here (gettext_noop)."""
    return message


def choose_language(header: str | None) -> str:
    """
    The supported language an ``Accept-Language`` header prefers most.

    Args:
        header: The header's value (``"nb-NO,nb;q=0.9,en;q=0.8"``), or ``None``.

    Returns:
        One of :data:`LANGUAGES`; English when the header names none of them (or is
        malformed). Between equal weights the one listed first wins.
    """
    best, best_q = LANGUAGES[0], 0.0
    for part in (header or "").split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().split("-")[0].casefold()
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().casefold() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        language = _ALIASES.get(primary)
        if language is not None and 0 < q <= 1 and q > best_q:
            best, best_q = language, q
    return best


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """
    The catalogue for ``language`` (English: the messages as written).

    Raises:
        FileNotFoundError: The compiled catalogue of a supported language is missing from
            the package (a broken install).
    """
    if language == LANGUAGES[0]:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[language])

"""
Reading typed cells column-wise: each declared kind turns cleaned cell texts into the text the
store keeps, and says which cells it cannot read.

Every reader takes trimmed texts and returns ``(values, bad)``: the normalised texts (a cell that
cannot be read keeps its text) and a boolean array, true where a non-empty cell is not a value
of the kind. Empty cells are never bad here (``required`` is checked apart). All kinds run as
column operations except ``phone``, which asks ``phonenumbers`` once per distinct number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from .fields import Field

__all__ = ["EXPECTED", "FALSE_WORDS", "TRUE_WORDS", "read"]

#: Boolean cells read as true and as false (compared case-insensitively).
TRUE_WORDS = frozenset({"1", "true", "yes", "y", "x", "ja", "j", "sant", "wahr", "oui", "si"})
FALSE_WORDS = frozenset({"0", "false", "no", "n", "nei", "nej", "falsk", "nein", "non", "-"})

#: What a cell of each kind must look like, for the problem's message.
EXPECTED = {
    "email": "is not a valid email address",
    "phone": "is not a phone number (write it with its country code, +47 912 34 567)",
    "date": "is not a date: write 2025-12-31 or 31.12.2025 (day.month.year)",
    "boolean": "is neither yes nor no (write yes/no, ja/nei, true/false, 1/0 or x)",
    "integer": "is not a whole number",
    "choice": "is not one of the allowed values",
}

# ISO dates, and day.month.year with dots (a form no locale reads month first); an Excel date
# cell reaches us as an ISO date (with a midnight time when the cell holds one).
_ISO = r"^(\d{4})-(\d{2})-(\d{2})(?: 00:00(?::00)?)?$"
_DOTTED = r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$"
_INTEGER = r"^([+-]?)(\d+)(?:\.0+)?$"
# Blanks people put in numbers: space, no-break, thin and narrow no-break space, apostrophe.
_DIGIT_GROUPS = "[ \u00a0\u2009\u202f']"


def read(field: Field, values: pd.Series) -> tuple[pd.Series, Any]:
    """
    Read ``values`` (trimmed texts) as ``field``'s kind.

    Args:
        field: The declared field.
        values: The cleaned cell texts of its column.

    Returns:
        The normalised texts (same index) and a boolean array of the cells that are not a value
        of the kind.
    """
    import numpy as np

    reader = _READERS.get(field.kind)
    if reader is None:
        return values, np.zeros(len(values), dtype=bool)
    return reader(field, values)


def _date(field: Field, values: pd.Series) -> tuple[pd.Series, Any]:
    import pandas as pd

    text = values.astype("str")
    iso = text.str.extract(_ISO)
    dotted = text.str.extract(_DOTTED)
    year = iso[0].fillna(dotted[2])
    month = iso[1].fillna(dotted[1])
    day = iso[2].fillna(dotted[0])
    parts = pd.DataFrame(
        {
            "year": pd.to_numeric(year, errors="coerce"),
            "month": pd.to_numeric(month, errors="coerce"),
            "day": pd.to_numeric(day, errors="coerce"),
        }
    )
    ok = parts.notna().all(axis=1).to_numpy()
    dates = pd.Series(pd.NaT, index=values.index, dtype="datetime64[s]")
    if ok.any():
        dates[ok] = pd.to_datetime(parts[ok].astype("int64"), errors="coerce")
    good = dates.notna().to_numpy()
    out = values.where(~good, dates.dt.strftime("%Y-%m-%d"))
    return out.astype("str"), (text != "").to_numpy() & ~good


def _boolean(field: Field, values: pd.Series) -> tuple[pd.Series, Any]:
    import numpy as np

    from . import _text

    folded = _text.casefold(values.astype("str"))
    true = folded.isin(TRUE_WORDS).to_numpy()
    false = folded.isin(FALSE_WORDS).to_numpy()
    out = values.astype("str").copy()
    out[true] = "true"
    out[false] = "false"
    return out, (folded != "").to_numpy() & ~(true | false) & np.ones(len(values), dtype=bool)


def _integer(field: Field, values: pd.Series) -> tuple[pd.Series, Any]:
    text = values.astype("str").str.replace(_DIGIT_GROUPS, "", regex=True)
    parts = text.str.extract(_INTEGER)
    good = parts[1].notna().to_numpy()
    digits = parts[1].str.lstrip("0").replace("", "0")
    sign = parts[0].where((parts[0] == "-") & (digits != "0"), "")
    out = values.astype("str").where(~good, sign + digits)
    return out.astype("str"), (text != "").to_numpy() & ~good


def _choice(field: Field, values: pd.Series) -> tuple[pd.Series, Any]:
    from . import _text

    declared = {c.casefold(): c for c in field.choices}
    folded = _text.casefold(values.astype("str"))
    found = folded.map(declared)
    good = found.notna().to_numpy()
    out = values.astype("str").where(~good, found)
    return out.astype("str"), (folded != "").to_numpy() & ~good


def _phone(field: Field, values: pd.Series) -> tuple[pd.Series, Any]:
    import phonenumbers

    def e164(text: str) -> str | None:
        try:
            number = phonenumbers.parse(text, field.region)
        except phonenumbers.NumberParseException:
            return None
        if not phonenumbers.is_valid_number(number):
            return None
        return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))

    text = values.astype("str")
    distinct = text[text != ""].unique()
    read = {t: e164(t) for t in distinct}
    found = text.map(read)
    good = found.notna().to_numpy()
    out = text.where(~good, found)
    return out.astype("str"), (text != "").to_numpy() & ~good


def _email(field: Field, values: pd.Series) -> tuple[pd.Series, Any]:
    import numpy as np

    from . import _email as email

    bad = email.problems(values.astype("str"))
    return values, values.index.isin(list(bad)) & np.ones(len(values), dtype=bool)


_READERS = {
    "date": _date,
    "boolean": _boolean,
    "integer": _integer,
    "choice": _choice,
    "phone": _phone,
    "email": _email,
}

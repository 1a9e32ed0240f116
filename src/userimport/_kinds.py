"""
Reading typed cells column-wise: each declared kind turns cleaned cell texts into the text the
store keeps, and says which cells it cannot read.

Every reader takes trimmed texts and returns ``(values, bad)``: the normalised texts (a cell that
cannot be read keeps its text) and a boolean array, true where a non-empty cell is not a value
of the kind. Empty cells are never bad here (``required`` is checked apart). All kinds run as
column operations except ``phone``, which asks ``phonenumbers`` once per distinct number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pandas as pd


class Field(Protocol):
    """What a reader needs of a declared field (:class:`userimport.fields.Field` has it)."""

    @property
    def kind(self) -> str: ...
    @property
    def choices(self) -> tuple[str, ...]: ...
    @property
    def region(self) -> str | None: ...


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
_DATE = (
    r"^(?:(?P<y1>\d{4})-(?P<m1>\d{2})-(?P<d1>\d{2})"
    r"|(?P<d2>\d{1,2})\.(?P<m2>\d{1,2})\.(?P<y2>\d{4}))$"
)
_MIDNIGHT = r"^(\d{4}-\d{2}-\d{2}) 00:00(?::00)?$"
#: Days in each month of a common year.
_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
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
    """Dates, in Arrow kernels and NumPy: one RE2 pass finds the parts, arithmetic checks them."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from . import _text

    text = values.astype("str")
    found = pc.extract_regex(pc.replace_substring_regex(_text.arrow(text), _MIDNIGHT, r"\1"), _DATE)
    matched = found.is_valid().to_numpy(zero_copy_only=False)

    def part(*names: str) -> Any:
        """The first non-empty of the named groups, as integers (0 where there is none)."""
        picked = pc.coalesce(
            *(pc.if_else(pc.equal(found.field(n), ""), None, found.field(n)) for n in names)
        )
        return pc.fill_null(pc.cast(pc.fill_null(picked, "0"), pa.int64()), 0).to_numpy()

    year, month, day = part("y1", "y2"), part("m1", "m2"), part("d1", "d2")
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    days = np.array(_DAYS)[np.clip(month, 1, 12) - 1] + ((month == 2) & leap)
    ok = matched & (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= days)
    iso = pc.binary_join_element_wise(
        *(
            pc.utf8_lpad(pc.cast(pa.array(n), pa.string()), width, "0")
            for n, width in ((year, 4), (month, 2), (day, 2))
        ),
        "-",
    )
    out = text.where(~ok, _text.series(iso).set_axis(text.index))
    return out.astype("str"), (text != "").to_numpy() & ~ok


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

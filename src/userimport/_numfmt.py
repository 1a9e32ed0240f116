"""
Cells as a spreadsheet program shows them: a value, in the number format of its cell.

``cell_text`` gives a value as General shows it (``12`` not ``12.0``, ISO dates); ``shown``
follows a number format (``00417``, ``25%``, ``17.05.2024``). Both XLSX engines use them, so a
cell reads the same whichever engine reads it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

__all__ = ["cell_text", "shown"]


def cell_text(value: Any) -> str:
    """
    The text a person sees in a cell.

    >>> cell_text(12.0), cell_text(0.1), cell_text(True), cell_text(None)
    ('12', '0.1', 'TRUE', '')
    >>> cell_text(dt.datetime(2020, 1, 1)), cell_text(dt.datetime(2020, 1, 1, 13, 45))
    ('2020-01-01', '2020-01-01 13:45:00')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value)


#: Parts of a number format that print nothing a person reads as the value (colours,
#: conditions, locale tags, padding) or print themselves (quoted text, escaped characters).
_FORMAT_NOISE = re.compile(r'\[\$([^\]-]*)[^\]]*\]|\[[^\]]*\]|_.|\*.|"([^"]*)"|\\(.)')
_DATE_TOKEN = re.compile(
    r"yyyy|yy|mmmmm|mmmm|mmm|mm|m|dddd|ddd|dd|d|hh|h|ss|s|am/pm|a/p|\.0+", re.I
)
_NUMBER_PART = re.compile(r"(?:[#0?,]*[#0?](?:[.][#0?]*)?|[.][#0?]+),*")


#: Formats shown as the cell's value reads by default: General, text, and Excel's built-in
#: date and time formats (14-22, 45-47), which Excel shows in the reader's locale, so that
#: ``mm-dd-yy`` (14) is 02.01.2020 in Norway: a date in one of them reads as an ISO date;
#: so does one in ``yyyy-mm-dd h:mm:ss``, the format openpyxl gives every datetime it writes
#: (the time only when it is not midnight).
_PLAIN_FORMATS = frozenset(
    {
        "General",
        "@",
        "yyyy-mm-dd h:mm:ss",
        "mm-dd-yy",
        "d-mmm-yy",
        "d-mmm",
        "mmm-yy",
        "h:mm AM/PM",
        "h:mm:ss AM/PM",
    }
    | {"h:mm", "h:mm:ss", "m/d/yy h:mm", "mm:ss", "[h]:mm:ss", "mmss.0"}
)


def _date_shown(value: dt.datetime | dt.date | dt.time, section: str) -> str | None:
    """A date or time in an Excel date format (``dd.mm.yyyy``, ``d/m/yy h:mm``...)."""
    if isinstance(value, dt.time):
        value = dt.datetime.combine(dt.date(1899, 12, 31), value)
    elif not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(0))
    literals: list[str] = []  # quoted text and escapes, kept out of the tokens ("at" h:mm)

    def literal(match: re.Match[str]) -> str:
        literals.append(match[1] or match[2] or match[3] or "")
        return chr(0xE000 + len(literals) - 1)

    text = _FORMAT_NOISE.sub(literal, section)
    tokens = list(_DATE_TOKEN.finditer(text))
    twelve = any(t[0].lower() in ("am/pm", "a/p") for t in tokens)
    out, at = [], 0
    for i, token in enumerate(tokens):
        out.append(text[at : token.start()])
        at = token.end()
        word, low = token[0], token[0].lower()
        minutes = low in ("m", "mm") and (
            (i and tokens[i - 1][0].lower() in ("h", "hh"))
            or (i + 1 < len(tokens) and tokens[i + 1][0].lower() in ("s", "ss"))
        )
        hour = value.hour % 12 or 12 if twelve else value.hour
        parts = {
            "yyyy": f"{value.year:04d}", "yy": f"{value.year % 100:02d}",
            "mmmmm": value.strftime("%B")[0], "mmmm": value.strftime("%B"),
            "mmm": value.strftime("%b"), "mm": f"{value.month:02d}", "m": str(value.month),
            "dddd": value.strftime("%A"), "ddd": value.strftime("%a"),
            "dd": f"{value.day:02d}", "d": str(value.day),
            "hh": f"{hour:02d}", "h": str(hour), "ss": f"{value.second:02d}",
            "s": str(value.second), "am/pm": "AM" if value.hour < 12 else "PM",
            "a/p": "A" if value.hour < 12 else "P",
        }  # fmt: skip
        if minutes:
            out.append(f"{value.minute:02d}" if low == "mm" else str(value.minute))
        elif low.startswith("."):
            digits = f"{value.microsecond:06d}"[: len(word) - 1]
            out.append("." + digits)
        else:
            out.append(parts[low])
    out.append(text[at:])
    shown = "".join(out)
    for i, text in enumerate(literals):
        shown = shown.replace(chr(0xE000 + i), text)
    return shown if tokens else None


def _number_shown(value: float, section: str, negative: bool) -> str | None:
    """A number in an Excel number format (``00000``, ``0.00``, ``#,##0``, ``0%``)."""
    import decimal

    text = _FORMAT_NOISE.sub(lambda m: "\0" + (m[1] or m[2] or m[3] or "") + "\1", section)
    plain = re.sub("\0[^\1]*\1", "", text)
    if re.search(r"[eE][+-]|/|@", plain):
        return None  # scientific, fractions and text sections: the value as General shows it
    found = _NUMBER_PART.search(plain)
    if found is None:
        return None
    pattern = found[0]
    whole, _, fraction = pattern.rstrip(",").partition(".")
    if "%" in plain:
        value *= 100 ** plain.count("%")
    value /= 1000 ** (len(pattern) - len(pattern.rstrip(",")))  # each trailing comma: /1,000
    shown = decimal.Decimal(repr(abs(value))).quantize(
        decimal.Decimal(1).scaleb(-len(fraction)), rounding=decimal.ROUND_HALF_UP
    )
    integer, _, digits = f"{shown:f}".partition(".")
    digits = digits[: len(fraction)]
    keep = len(fraction.rstrip("#?"))
    while len(digits) > keep and digits.endswith("0"):
        digits = digits[:-1]
    integer = integer.zfill(whole.count("0"))
    if integer.strip("0") == "" and whole.count("0") == 0:
        integer = ""
    if "," in whole:
        integer = f"{int(integer or 0):,}".zfill(len(integer)) if integer else integer
    number = integer + ("." + digits if digits or (fraction and keep) else "")
    if negative and float(shown):
        number = "-" + number
    before = text[: text.find(pattern)] if pattern in text else ""
    after = text[text.find(pattern) + len(pattern) :] if pattern in text else ""
    return (re.sub("[\0\1]", "", before) + number + re.sub("[\0\1]", "", after)).replace("\\", "")


def shown(value: Any, number_format: str | None) -> str:
    """
    The text a person sees in a cell with ``number_format``: ``417`` in ``00000`` is
    ``00417``, ``0.25`` in ``0%`` is ``25%``, a date in ``dd.mm.yyyy`` is ``17.05.2024``. A
    format this does not follow (scientific, fractions, conditions) gives :func:`cell_text`.

    >>> shown(417.0, "00000"), shown(0.125, "0.0%"), shown(1234.5, "#,##0.00")
    ('00417', '12.5%', '1,234.50')
    >>> shown(dt.datetime(2024, 5, 17), "dd.mm.yyyy"), shown(3.0, "General")
    ('17.05.2024', '3')
    """
    if (
        number_format is None
        or number_format in _PLAIN_FORMATS
        or isinstance(value, bool | str)
        or value is None
    ):
        return cell_text(value)
    sections = number_format.split(";")
    try:
        if isinstance(value, dt.datetime | dt.date | dt.time):
            text = _date_shown(value, sections[0])
        elif isinstance(value, int | float):
            negative = value < 0
            section = sections[1] if negative and len(sections) > 1 and sections[1] else sections[0]
            if negative and len(sections) > 1 and sections[1]:
                value, negative = abs(value), False
            elif value == 0 and len(sections) > 2:
                if not sections[2]:
                    return ""  # a zero section left empty: the cell shows nothing
                section = sections[2]
            text = _number_shown(float(value), section, negative)
        else:
            text = None
    except (ValueError, ArithmeticError, KeyError, IndexError):
        text = None
    return cell_text(value) if text is None else text

"""_numfmt: a cell's value as its number format shows it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from userimport._numfmt import shown


@pytest.mark.parametrize(
    ("value", "code", "expected"),
    [
        (417, "00000", "00417"),
        (417.0, "0", "417"),
        (-3.5, "0.00;(0.00)", "(3.50)"),
        (0, "0;-0;;@", ""),
        (0.125, "0.0%", "12.5%"),
        (1234567.0, "#,##0", "1,234,567"),
        (1e6, "#,##0,", "1,000"),
        (123.456, "0.0#", "123.46"),
        (1234.5, "[$€-2] #,##0.00", "€ 1,234.50"),
        (1234.5, '0.00 "kr"', "1234.50 kr"),
        (0.1, "0.00E+00", "0.1"),  # scientific: as General
        (dt.datetime(2024, 1, 2, 9, 5), 'd/m/yyyy "at" h:mm', "2/1/2024 at 9:05"),
        (dt.datetime(2024, 1, 2), "[$-414]d. mmmm yyyy", "2. January 2024"),
        (dt.datetime(2024, 5, 17, 14, 0), "h:mm AM/PM", "2024-05-17 14:00:00"),  # built-in
        (dt.datetime(2024, 5, 17, 14, 0), "hh:mm AM/PM", "02:00 PM"),
        (dt.time(9, 5, 3), "hh:mm:ss", "09:05:03"),
        (True, "0", "TRUE"),
    ],
)
def test_number_formats_as_excel_shows_them(value: Any, code: str, expected: str) -> None:
    """Digits, sections, percent, scaling, currency tags, quoted text, date and time tokens."""
    assert expected == shown(value, code)

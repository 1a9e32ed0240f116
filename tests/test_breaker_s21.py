"""
Inputs on which the #17 fast paths (Arrow's CSV reader, byte shortcuts, lazy change sets)
were held to the behaviour before them.
"""

from __future__ import annotations

import pytest

from userimport.errors import FileFormatError
from userimport.read import read_table


@pytest.mark.parametrize(
    "data",
    [
        b'name,email\nBob,"bob@x.no\n',
        b'name,email\r\nBob,"bob@x.no\r\n',
        b'name|email\nBob|"bob@x.no\n',
    ],
)
def test_open_quote_on_the_last_line_is_refused(data: bytes) -> None:
    """A quote left open on the last line is refused, not read as a cell ending in a break."""
    with pytest.raises(FileFormatError, match="is never closed"):
        read_table(data)

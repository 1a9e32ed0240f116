"""
Stage 2: find the row that holds the column headers, or decide that there is none.
"""

from __future__ import annotations

import re

import attrs

from .errors import HeaderError
from .read import RawTable

__all__ = ["HeaderCandidate", "HeaderGuess", "detect_header", "header_names"]

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_KNOWN = {
    "firstname", "lastname", "email", "emailaddress", "department", "groups", "usergroups",
    "fornavn", "etternavn", "epost", "avdeling", "brukergrupper", "name", "surname",
}  # fmt: skip


@attrs.frozen(kw_only=True)
class HeaderCandidate:
    """
    One row considered as the header row.

    Args:
        row: 0-based index into ``RawTable.rows``.
        score: How header-like the row is, in [0, 1].
        reasons: Why it scored so, one short phrase each.
    """

    row: int
    score: float
    reasons: tuple[str, ...] = attrs.field(default=(), converter=tuple)


@attrs.frozen(kw_only=True)
class HeaderGuess:
    """
    Where the header row is.

    Args:
        row: 0-based index into ``RawTable.rows`` of the header row, or ``None`` when the
            table has no header row.
        confidence: How sure the guess is, in [0, 1].
        candidates: The rows considered, best first.
    """

    row: int | None
    confidence: float
    candidates: tuple[HeaderCandidate, ...] = attrs.field(default=(), converter=tuple)


def _norm(cell: str) -> str:
    return re.sub(r"[^a-z]", "", cell.casefold())


def detect_header(table: RawTable) -> HeaderGuess:
    """
    Guess which row of ``table`` holds the headers.

    Args:
        table: The table read by :func:`~userimport.read.read_table`.

    Returns:
        The best row (or ``None`` for no header row), a confidence and the ranked candidates.
    """
    candidates = []
    for i in range(min(30, len(table.rows))):
        cells = [str(c).strip() for c in table.rows.iloc[i].tolist()]
        filled = [c for c in cells if c]
        if not filled:
            continue
        known = sum(_norm(c) in _KNOWN for c in filled)
        emails = sum(bool(_EMAIL.fullmatch(c)) for c in filled)
        score = known / len(filled) if not emails else 0.0
        reasons = (f"{known} of {len(filled)} cells are known header words",)
        candidates.append(HeaderCandidate(row=i, score=score, reasons=reasons))
    candidates.sort(key=lambda c: -c.score)
    if not candidates or candidates[0].score == 0:
        return HeaderGuess(row=None, confidence=0.5, candidates=candidates)
    return HeaderGuess(row=candidates[0].row, confidence=candidates[0].score, candidates=candidates)


def header_names(table: RawTable, header_row: int | None) -> tuple[str, ...]:
    """
    Return the header text of every column (``""`` for a blank header cell).

    Args:
        table: The table.
        header_row: 0-based index of the header row, or ``None`` for no header (returns ``()``).

    Raises:
        HeaderError: ``header_row`` is outside the table.
    """
    if header_row is None:
        return ()
    if not 0 <= header_row < len(table.rows):
        raise HeaderError(
            f"{table.name}: there is no row {header_row} to use as the header "
            f"(the table has {len(table.rows)} rows)",
            path=table.path,
        )
    return tuple(str(c).strip() for c in table.rows.iloc[header_row].tolist())

"""
Stage 2: find the row that holds the column headers, or decide that there is none.

The first rows are scored for being a header: cells that are known header words count most,
then text-likeness, distinct values, fill, and the rows below looking like data. A row that
holds email addresses is data, so a file that starts with users has no header row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import attrs

from ._synonyms import lookup
from .errors import HeaderError
from .read import RawTable

__all__ = ["SCAN_ROWS", "HeaderCandidate", "HeaderGuess", "detect_header", "header_names"]

#: How many of the first rows are considered.
SCAN_ROWS = 30

#: A best score below this means the table has no header row.
THRESHOLD = 0.35

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_NUMBER_OR_DATE = re.compile(r"[-+]?[\d\s.,:/]+%?|\d{4}-\d\d-\d\d.*")


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(str(v) for v in value)


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
    reasons: tuple[str, ...] = attrs.field(default=(), converter=_strings)


def _candidates(value: Iterable[HeaderCandidate]) -> tuple[HeaderCandidate, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class HeaderGuess:
    """
    Where the header row is.

    Args:
        row: 0-based index into ``RawTable.rows`` of the header row, or ``None`` when the
            table has no header row.
        confidence: How sure the guess is, in [0, 1].
        candidates: The rows considered, best first, each with its reasons.
    """

    row: int | None
    confidence: float
    candidates: tuple[HeaderCandidate, ...] = attrs.field(default=(), converter=_candidates)


def _score(cells: list[str], width: int, below_emails: bool, index: int) -> tuple[float, list[str]]:
    filled = [c for c in cells if c]
    n = len(filled)
    emails = sum(bool(_EMAIL.fullmatch(c)) for c in filled)
    known = sum(lookup(c) is not None for c in filled)
    texty = sum(not _NUMBER_OR_DATE.fullmatch(c) and not _EMAIL.fullmatch(c) for c in filled)
    distinct = len({c.casefold() for c in filled})
    score = (
        0.6 * known / n
        + 0.15 * texty / n
        + 0.05 * distinct / n
        + 0.1 * min(1.0, n / max(width, 1))
        + (0.1 if below_emails else 0.0)
    )
    reasons = [
        f"{known} of {n} cells are known header words",
        f"{texty} of {n} cells are text",
        f"{n} of {width} columns filled",
    ]
    if below_emails:
        reasons.append("rows below hold email addresses")
    if emails:
        score *= 0.2
        reasons.append(f"{emails} cells are email addresses: a data row")
    if n == 1 and width > 2:
        score *= 0.3
        reasons.append("a single filled cell: a title")
    if known == 0 and any(len(c) > 60 for c in filled):
        score *= 0.5
        reasons.append("long text: a note, not headers")
    return round(min(score, 1.0), 4), reasons


def detect_header(table: RawTable) -> HeaderGuess:
    """
    Guess which row of ``table`` holds the headers.

    Args:
        table: The table read by :func:`~userimport.read.read_table`.

    Returns:
        The best row (or ``None`` when the table has no header row), a confidence and the
        ranked candidates with the reasons for each score.
    """
    rows = table.rows.iloc[: SCAN_ROWS + 10]
    width = table.rows.shape[1]
    texts = [[str(c).strip() for c in r] for r in rows.itertuples(index=False, name=None)]
    has_email = [any(_EMAIL.fullmatch(c) for c in r) for r in texts]
    candidates = []
    for i, cells in enumerate(texts[:SCAN_ROWS]):
        if not any(cells):
            continue
        below = any(has_email[i + 1 : i + 4])
        score, reasons = _score(cells, width, below, i)
        candidates.append(HeaderCandidate(row=i, score=score, reasons=reasons))
    candidates.sort(key=lambda c: (-c.score, c.row))
    if not candidates or candidates[0].score < THRESHOLD:
        top = candidates[0].score if candidates else 0.0
        return HeaderGuess(row=None, confidence=round(1.0 - top, 4), candidates=candidates)
    best = candidates[0]
    runner_up = candidates[1].score if len(candidates) > 1 else 0.0
    confidence = round(min(1.0, best.score * 0.5 + (best.score - runner_up) + 0.25), 4)
    return HeaderGuess(row=best.row, confidence=max(0.0, confidence), candidates=candidates)


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

"""
Stage 2: find the row that holds the column headers, or decide that there is none.

The first :data:`SCAN_ROWS` rows are scored for being a header: cells that are known header
words count most (the synonyms the mapping uses), then how the cells differ in kind from the
column below them (text above addresses, numbers or dates), text-likeness, distinct values,
fill, and whether the rows below hold email addresses, as data does. A row holding addresses is
data, and so is a row below one: a file that starts with users has no header row.

Only the first rows and the :data:`BELOW` rows under each are looked at, as arrays, so the cost
does not grow with the table.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import attrs

from ._table import RawTable
from .errors import HeaderError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from ._synonyms import Recognised

__all__ = [
    "BELOW",
    "EMAIL",
    "NUMBER",
    "SCAN_ROWS",
    "THRESHOLD",
    "HeaderCandidate",
    "HeaderGuess",
    "detect_header",
    "header_names",
]

#: How many of the first rows are considered.
SCAN_ROWS = 30

#: How many rows below a candidate are compared with it.
BELOW = 10

#: A best score below this means the table has no header row.
THRESHOLD = 0.4

#: A loose email address, as people paste them (also ``Name <a@b.no>`` and ``mailto:a@b.no``).
EMAIL = r"(?:mailto:)?[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+|[^<>]*<[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+>"

#: Numbers, dates and times: digits with separators, or an ISO date and time.
NUMBER = r"[-+(]?\d[\d\s.,:/()-]*%?|\d{4}-\d\d-\d\d[T ][\d:.]+Z?"

_KEY_VALUE = r"[^:]{1,30}:\s*\S.*"
_LONG_TEXT = 60

# The score is a weighted sum of shares in [0, 1]; known header words count most.
_WEIGHTS = {"known": 0.45, "contrast": 0.15, "text": 0.10, "distinct": 0.05, "fill": 0.10}
_BELOW_WEIGHT = 0.15
# How much a known cell counts: a property's name, a column that feeds none, a near miss, a
# property's name inside a question.
_KNOWN_WEIGHT = {"property": 1.0, "other": 0.8, "fuzzy": 0.7, "partial": 0.6}


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

    def explain(self, limit: int = 3) -> str:
        """
        Describe the guess and the best ``limit`` candidates, one line each.

        Args:
            limit: How many candidates to describe.
        """
        found = "no header row" if self.row is None else f"header row {self.row} (0-based)"
        lines = [f"{found}, confidence {self.confidence:.2f}"]
        lines += [
            f"row {c.row}: score {c.score:.2f}: " + "; ".join(c.reasons)
            for c in self.candidates[:limit]
        ]
        return "\n".join(lines)


@attrs.frozen(kw_only=True)
class _Features:
    """The measures of each scanned row (arrays with one value per row)."""

    filled: npt.NDArray[Any]
    known: npt.NDArray[Any]
    text: npt.NDArray[Any]
    emails: npt.NDArray[Any]
    numbers: npt.NDArray[Any]
    distinct: npt.NDArray[Any]
    long: npt.NDArray[Any]
    key_value: npt.NDArray[Any]
    contrast: npt.NDArray[Any]
    compared: npt.NDArray[Any]
    covered: npt.NDArray[Any]
    data_columns: npt.NDArray[Any]
    below: npt.NDArray[Any]
    below_rows: npt.NDArray[Any]
    above_emails: npt.NDArray[Any]
    repeats: npt.NDArray[Any]
    band: npt.NDArray[Any]
    width: int
    words: tuple[tuple[str, ...], ...]


def flat_cells(frame: Any) -> Any:
    """The cells of ``frame`` row by row as one Series of stripped text (``""`` when empty)."""
    import pandas as pd

    cells = pd.Series(frame.to_numpy(dtype=object).ravel(), dtype=object)
    return cells.str.strip().fillna("")


def _weight(found: Recognised | None) -> float:
    if found is None:
        return 0.0
    if found.method in ("fuzzy", "partial"):
        return _KNOWN_WEIGHT[found.method]
    if found.target is None or found.role != "own":
        return _KNOWN_WEIGHT["other"]
    return _KNOWN_WEIGHT["property"]


def _features(rows: Any) -> _Features:
    """Measure the first rows of ``rows`` (a DataFrame of text) with array operations."""
    import numpy as np
    import pandas as pd

    from ._synonyms import recognise_all

    head = rows.iloc[: SCAN_ROWS + BELOW]
    n_rows, width = head.shape
    scan = min(SCAN_ROWS, n_rows)
    flat = flat_cells(head)
    filled = (flat != "").to_numpy(dtype=bool)
    email = flat.str.fullmatch(EMAIL).to_numpy(dtype=bool) & filled
    number = flat.str.fullmatch(NUMBER).to_numpy(dtype=bool) & filled & ~email
    # Kind of each cell: 0 blank, 1 text, 2 email address, 3 number or date.
    kinds = np.where(~filled, 0, np.where(email, 2, np.where(number, 3, 1))).reshape(n_rows, width)
    lengths = flat.str.len().to_numpy(dtype=int).reshape(n_rows, width)
    own = kinds[:scan]

    # Header words: each distinct short text of the scanned rows is recognised once.
    scanned = flat.iloc[: scan * width]
    short_text = (own.ravel() == 1) & (lengths[:scan].ravel() <= 2 * _LONG_TEXT)
    values = list(pd.unique(scanned[short_text]))
    found = dict(zip(values, recognise_all(values), strict=True))
    weights = {v: _weight(r) for v, r in found.items() if r is not None}
    names = {v: r.target or "other" for v, r in found.items() if r is not None}
    known = scanned.map(weights).fillna(0.0).to_numpy(dtype=float).reshape(scan, width)
    words = scanned.map(names).to_numpy(dtype=object).reshape(scan, width)

    folded = flat.str.casefold().to_numpy(dtype=object).reshape(n_rows, width)
    row_of = np.repeat(np.arange(n_rows), width)
    pairs = pd.DataFrame({"row": row_of[filled], "value": folded.ravel()[filled]})
    distinct = pairs.drop_duplicates()["row"].value_counts().reindex(range(scan), fill_value=0)

    # The BELOW rows under each candidate, from cumulative counts of each kind per column.
    onehot = (kinds[:, :, None] == np.arange(1, 4)).astype(int)
    totals = np.concatenate([np.zeros((1, width, 3), dtype=int), onehot.cumsum(axis=0)])
    lo = np.arange(scan) + 1
    hi = np.minimum(lo + BELOW, n_rows)
    window = totals[hi] - totals[lo]
    data_columns = window.sum(axis=2) > 0
    mode = window.argmax(axis=2) + 1
    compared = (own > 0) & data_columns
    row_email = np.concatenate([[0], (kinds == 2).any(axis=1).cumsum()])
    row_filled = np.concatenate([[0], (kinds > 0).any(axis=1).cumsum()])

    # A value that recurs in its column just below is a data value (a department, a group).
    padded = np.full((n_rows + BELOW, width), None, dtype=object)
    padded[:n_rows] = np.where(kinds > 0, folded, None)
    recurs = np.zeros((scan, width), dtype=bool)
    for k in range(1, BELOW + 1):
        recurs |= padded[:scan] == padded[k : k + scan]
    key_value = scanned.str.fullmatch(_KEY_VALUE).to_numpy(dtype=bool).reshape(scan, width)

    # A two-row header: the upper row names cells of the row below and, merged down, cells
    # the row below leaves blank; those count in the lower row, and the upper is no header.
    names, below_filled = own[:-1] == 1, own[1:] > 0
    band = (
        (distinct.to_numpy(dtype=int)[:-1] >= 2)
        & (names & below_filled).any(axis=1)
        & (names & ~below_filled).any(axis=1)
        & ~(own[:-1] == 2).any(axis=1)
        # ... over a row of header words too, not over data.
        & ~(own[1:] == 2).any(axis=1)
        & ((own[1:] == 1).sum(axis=1) >= 0.8 * below_filled.sum(axis=1))
        & ((known[1:] > 0).sum(axis=1) >= 2)
    )
    merged = np.zeros((scan, width), dtype=bool)
    merged[1:] = names & ~below_filled & band[:, None]
    merged_known = np.zeros(scan)
    merged_known[1:] = (known[:-1] * merged[1:]).sum(axis=1)
    return _Features(
        filled=(own > 0).sum(axis=1) + merged.sum(axis=1),
        known=known.sum(axis=1) + merged_known,
        text=(own == 1).sum(axis=1) + merged.sum(axis=1),
        emails=(own == 2).sum(axis=1),
        numbers=(own == 3).sum(axis=1),
        distinct=distinct.to_numpy(dtype=int),
        long=(lengths[:scan] > _LONG_TEXT).any(axis=1),
        key_value=(key_value & (own == 1)).any(axis=1),
        contrast=(compared & (own != mode)).sum(axis=1),
        compared=compared.sum(axis=1),
        covered=(((own > 0) | merged) & data_columns).sum(axis=1),
        data_columns=data_columns.sum(axis=1),
        below=row_email[hi] - row_email[lo],
        below_rows=row_filled[hi] - row_filled[lo],
        above_emails=row_email[:scan] > 0,
        repeats=(recurs & (own > 0)).sum(axis=1),
        band=np.r_[band, False],
        width=int((kinds > 0).any(axis=0).sum()),
        words=tuple(tuple(w for w in r if isinstance(w, str)) for r in words),
    )


def _scores(f: _Features) -> tuple[npt.NDArray[np.float64], list[list[str]]]:
    """Each scanned row's score in [0, 1], and the reasons for it."""
    import numpy as np

    n = np.maximum(f.filled, 1)
    parts = {
        "known": np.minimum(f.known / n, 1.0),
        "contrast": f.contrast / np.maximum(f.compared, 1),
        "text": f.text / n,
        "distinct": f.distinct / n,
        "fill": np.where(f.data_columns > 0, f.covered / np.maximum(f.data_columns, 1), 1.0),
    }
    score = _BELOW_WEIGHT * f.below / np.maximum(f.below_rows, 1)
    for part, weight in _WEIGHTS.items():
        score = score + weight * parts[part]
    penalties = [
        (f.emails > 0, 0.1, "it holds email addresses ({emails}): a data row"),
        (f.above_emails, 0.3, "rows above it hold email addresses: it is inside the data"),
        (
            (f.filled == 1) & (f.width >= 3),
            0.3,
            "a single filled cell in a table {width} columns wide: a title",
        ),
        (
            (f.filled >= 3) & (f.distinct == 1),
            0.3,
            "the same text across {filled} cells: a title merged across the columns",
        ),
        ((f.filled <= 2) & f.key_value, 0.4, "a 'name: value' line: a preamble"),
        (f.long & (parts["known"] < 0.5), 0.5, "long text: a note, not headers"),
        (f.numbers * 2 > f.filled, 0.5, "mostly numbers or dates: data"),
        (
            f.band,
            0.6,
            "it names cells of the row below and, merged down, cells that row leaves blank: "
            "the upper row of a two-row header",
        ),
    ]
    for mask, factor, _ in penalties:
        score = np.where(mask, score * factor, score)
    score = score * (1 - 0.6 * f.repeats / n)
    reasons: list[list[str]] = []
    for i, filled in enumerate(f.filled.tolist()):
        named = sorted({w for w in f.words[i] if w != "other"})
        row = [
            f"{len(f.words[i])} of {filled} cells are known header words"
            + (f" ({', '.join(named)})" if named else ""),
            f"{f.text[i]} of {filled} cells are text",
            f"{f.distinct[i]} distinct values",
            f"fills {f.covered[i]} of the {f.data_columns[i]} columns that hold data below",
        ]
        if f.contrast[i]:
            row.append(f"{f.contrast[i]} of its cells differ in kind from the column below")
        if f.below[i]:
            row.append(f"{f.below[i]} of the {f.below_rows[i]} rows below hold email addresses")
        if f.repeats[i]:
            row.append(f"{f.repeats[i]} of its values recur in the rows below, as data does")
        values = {"emails": int(f.emails[i]), "width": f.width, "filled": filled}
        row += [text.format(**values) for mask, _, text in penalties if mask[i]]
        reasons.append(row)
    return np.clip(np.round(score, 4), 0.0, 1.0), reasons


def detect_header(table: RawTable) -> HeaderGuess:
    """
    Guess which row of ``table`` holds the headers.

    Args:
        table: The table read by :func:`~userimport.read.read_table`.

    Returns:
        The best row (or ``None`` when the table has no header row), a confidence and the
        ranked candidates (the non-blank rows among the first :data:`SCAN_ROWS`) with the
        reasons for each score.
    """
    global _last
    if table.rows.shape[0] == 0 or table.rows.shape[1] == 0:
        return HeaderGuess(row=None, confidence=1.0)
    seen, known = _last
    if seen() is table.rows:
        return known
    guess = _detect(table)
    _last = (weakref.ref(table.rows), guess)
    return guess


def _nothing() -> None:
    return None


#: The last table's rows (never mutated, see RawTable) and their guess: read_table guesses
#: the header of a file at its row limit, and its caller asks again at once.
_last: tuple[Callable[[], object], HeaderGuess] = (_nothing, HeaderGuess(row=None, confidence=1.0))


def _detect(table: RawTable) -> HeaderGuess:
    features = _features(table.rows)
    scores, reasons = _scores(features)
    candidates = sorted(
        (
            HeaderCandidate(row=i, score=float(scores[i]), reasons=reasons[i])
            for i in range(len(scores))
            if features.filled[i]
        ),
        key=lambda c: (-c.score, c.row),
    )
    best = candidates[0].score if candidates else 0.0
    if best < THRESHOLD:
        confidence = 1.0 - 0.5 * best / THRESHOLD
        return HeaderGuess(row=None, confidence=round(confidence, 4), candidates=candidates)
    runner_up = candidates[1].score if len(candidates) > 1 else 0.0
    confidence = min(1.0, 0.6 * best + min(best - runner_up, 0.4))
    return HeaderGuess(
        row=candidates[0].row, confidence=round(confidence, 4), candidates=candidates
    )


def header_names(table: RawTable, header_row: int | None) -> tuple[str, ...]:
    """
    Return the header text of every column (``""`` for a blank header cell).

    In a two-row header (``Navn`` over ``Fornavn`` and ``Etternavn``, with ``Avdeling`` merged
    down over both rows), a blank cell of the lower row takes the name above it, so the
    columns merged down are not lost.

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
    cells = [str(c).strip() for c in table.rows.iloc[header_row].tolist()]
    if header_row > 0 and "" in cells:
        above = [str(c).strip() for c in table.rows.iloc[header_row - 1].tolist()]
        if _is_band(above, cells):
            cells = [cell or over for cell, over in zip(cells, above, strict=True)]
    return tuple(cells)


def _is_band(above: list[str], cells: list[str]) -> bool:
    """
    Whether ``above`` is the upper row of a two-row header over ``cells``: names spanning
    sub-headers (``Navn`` over ``Fornavn``, ``Etternavn``) beside names merged down over both
    rows, which a spreadsheet leaves blank in the lower row; the lower row holds at least two
    known header words.
    """
    from ._synonyms import recognise_all

    named = {a for a in above if a}
    over_names = any(a and c for a, c in zip(above, cells, strict=True))
    over_blanks = any(a and not c for a, c in zip(above, cells, strict=True))
    if len(named) < 2 or not over_names or not over_blanks:
        return False
    return sum(r is not None for r in recognise_all([c for c in cells if c])) >= 2

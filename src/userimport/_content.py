"""
What the cells of a table say about its mapping: the group separator, a whole-name column's
order, footer rows under the table, and sign-in names among addresses.

Each function looks at a sample (the first data rows, or the last few rows of the table), so
the cost does not grow with the table.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    import pandas as pd

    from .read import RawTable

__all__ = [
    "FOOTER_ROWS",
    "SEPARATORS",
    "SIGN_IN_ADDRESS",
    "Footer",
    "Separator",
    "comma_names",
    "find_footer",
    "find_separator",
    "table_footer",
]

#: How many rows at the end of a table are looked at for footer rows.
FOOTER_ROWS = 12

#: Separators looked for inside group cells, strongest first: a line break (Alt+Enter in a
#: spreadsheet cell), ``;``, ``|``, `` / `` and ``,`` (a form's checkbox answers: ``a, b``).
SEPARATORS: tuple[tuple[str, str], ...] = (
    ("\n", "a line break"),
    (";", "';'"),
    ("|", "'|'"),
    (" / ", "' / '"),
    (",", "','"),
)

#: An address that is a sign-in name rather than a mailbox: an Entra guest (``#EXT#``), a
#: tenant's initial domain (``onmicrosoft.com``) or an internal Active Directory domain.
SIGN_IN_ADDRESS = (
    r"#ext#@|@[^@\s]*onmicrosoft\.com>?$"
    r"|\.(?:local|lan|internal|intern|corp|localdomain|ad|home\.arpa)>?$"
)

# Folded text (see _synonyms.fold) of a footer line, by what it is; in the thirteen languages
# of the header words.
_FOOTERS = {
    "a total": (
        r"^(?:grand )?(?:total|totalt|totaal|totale|totaux|sum|summa|summe|gesamt|i alt"
        r"|yhteensa|samtals|alls|razem|suma|antal|antall|anzahl|aantal|lukumaara|fjoldi"
        r"|liczba|count|number of|nombre de|numero de|numero di|numero total)\b"
        r"|\b(?:totalt?|total|i alt|insgesamt|yhteensa|samtals|totaal|razem)\b.*\d"
        r"|\d.*\b(?:totalt?|total|i alt|insgesamt|yhteensa|samtals|totaal|razem)$"
    ),
    "a page number": (
        r"\b(?:page|side|sida|seite|sivu|pagina|strona|bladsida|bls|pag|p) \d+ "
        r"(?:(?:of|av|af|ud af|von|van|de|di|sur|z|fra|\w{1,3}) )?\d+$"
    ),
    "a confidentiality line": (
        r"konfidensiel|konfidentiel|confidenti|fortrolig|vertraulich|luottamuksellinen"
        r"|vertrouwelijk|confidencial|riservat|poufn|trunadar|internal use|intern bruk"
        r"|internt bruk|for internal|nur fur den internen|personopplysning|personuppgift"
    ),
    "a report line": (
        r"^(?:generated|printed|exported|created|run|report generated|utskrevet|generert"
        r"|eksportert|utskriven|utskrivet|skapad|udskrevet|genereret|gedruckt|erstellt"
        r"|exportiert|tulostettu|luotu|afgedrukt|gegenereerd|geexporteerd|imprime|genere"
        r"|exporte|impreso|generado|exportado|stampato|generato|esportato|wydrukowano"
        r"|wygenerowano|impresso|gerado|prentad|buid til)\b|^end of (?:report|list)"
        r"|^slutt pa rapport|^(?:report|rapport|bericht|raportti|skyrsla|verslag|rapporto"
        r"|informe|raport|relatorio)\b.*\d|^(?:kilde|source|quelle|kalla|lahde|bron|fonte"
        r"|fuente|zrodlo|heimild)\b|^(?:last updated|sist oppdatert|senast uppdaterad"
        r"|zuletzt aktualisiert|sidst opdateret|paivitetty|laatst bijgewerkt|mis a jour"
        r"|actualizado|aggiornato|zaktualizowano|atualizado)\b"
    ),
}
_SENTENCE_WORDS = 5


@attrs.frozen(kw_only=True)
class Separator:
    """The separator found in group cells, and why."""

    separator: str
    notes: tuple[str, ...]


@attrs.frozen(kw_only=True)
class Footer:
    """Rows under the table that are not users, with the text of each and why."""

    rows: tuple[int, ...]
    notes: tuple[str, ...]


def find_separator(cells: pd.Series, labels: str) -> Separator:
    """
    The separator inside the group cells ``cells`` (filled cells of the sampled rows, one
    Series for every group column), with a note saying why, and notes for group names that
    hold another likely separator.

    The separator that most cells hold wins (ties: the stronger, in :data:`SEPARATORS`
    order); with none, ``,`` stays.
    """
    filled = cells[cells.str.strip() != ""]
    counts = {sep: int(filled.str.contains(sep, regex=False).sum()) for sep, _ in SEPARATORS}
    best = max(SEPARATORS, key=lambda s: counts[s[0]])
    if not len(filled) or counts[best[0]] == 0:
        return Separator(separator=",", notes=())
    sep, name = best
    others = [f"{counts[s]} hold {n}" for s, n in SEPARATORS if s != sep and counts[s]]
    note = (
        f"group cells of {labels} are split on {name}: {counts[sep]} of the {len(filled)} "
        "sampled group cells hold it" + (f" ({', '.join(others)})" if others else "")
    )
    notes = [note]
    pieces = filled.str.split(sep, regex=False).explode().str.strip()
    for other, other_name in SEPARATORS:
        if other == sep or other == "\n":
            continue
        holding = pieces[pieces.str.contains(other, regex=False)]
        for row, piece in list(holding.drop_duplicates().items())[:3]:
            notes.append(
                f"warning: the group {piece!r} (row {row}) holds {other_name}, which often "
                f"separates groups: check the separator ({name} is used)"
            )
    return Separator(separator=sep, notes=tuple(notes))


def comma_names(cells: pd.Series) -> tuple[float, str, str]:
    """
    For a column of whole names: the share of filled cells written ``Surname, Given names``
    (one comma with a name on each side), an example of such a cell and one of another.
    """
    filled = cells[cells.str.strip() != ""]
    if not len(filled):
        return 0.0, "", ""
    comma = filled.str.fullmatch(r"\s*[^,，、@\d]*\S[^,，、@\d]*[,，、]\s*\S[^,，、@\d]*", na=False)
    with_comma = filled[comma.to_numpy(dtype=bool)]
    without = filled[~comma.to_numpy(dtype=bool)]
    return (
        len(with_comma) / len(filled),
        str(with_comma.iloc[0]) if len(with_comma) else "",
        str(without.iloc[0]) if len(without) else "",
    )


def _why_footer(cells: list[str]) -> str | None:
    """Why a row of few filled ``cells`` is a footer line, or ``None``."""
    from ._synonyms import fold

    for cell in cells:
        # Compiled on first use (re's cache): most tables end in a row of data, never asking.
        for what, pattern in _FOOTERS.items():
            if re.search(pattern, fold(cell)):
                return what
    if len(cells) == 1 and len(cells[0].split()) >= _SENTENCE_WORDS:
        return "a sentence in a single cell"
    return None


def table_footer(table: RawTable, header_row: int | None) -> Footer:
    """The footer rows of ``table`` under its data (see :func:`find_footer`)."""
    from .headers import EMAIL

    start = 0 if header_row is None else header_row + 1
    return find_footer(table.rows, start, table.first_row, EMAIL)


def find_footer(rows: pd.DataFrame, start: int, first_row: int, email: str) -> Footer:
    """
    The footer rows at the end of ``rows`` (data from ``start``): the last non-blank rows
    that fill few cells, hold no address, and read as a total, a page number, a
    confidentiality or "generated by" line, or a sentence in one cell.

    Args:
        rows: The table's cells.
        start: The first data row (0-based).
        first_row: The spreadsheet row number of ``rows.iloc[0]``.
        email: The regular expression of an address.
    """
    tail = rows.iloc[max(start, len(rows) - FOOTER_ROWS) :]
    width = max(rows.shape[1], 1)
    found: list[int] = []
    notes: list[str] = []
    # A few rows, bottom up: a Python loop is fine here.
    for index in reversed(range(len(tail))):
        cells = [str(c).strip() for c in tail.iloc[index].tolist()]
        filled = [c for c in cells if c]
        if not filled:
            continue
        if len(filled) > max(3, width // 2) or any(re.fullmatch(email, c) for c in filled):
            break
        why = _why_footer(filled)
        if why is None or (len(filled) > max(2, width // 3) and why.startswith("a sentence")):
            break
        position = int(tail.index[index])
        found.append(position)
        text = " | ".join(filled)
        notes.append(f"row {position + first_row} ({text!r}) is {why}")
    if not found:
        return Footer(rows=(), notes=())
    rows_text = ", ".join(str(r + first_row) for r in sorted(found))
    summary = (
        f"row{'s' if len(found) > 1 else ''} {rows_text} under the table "
        f"{'are' if len(found) > 1 else 'is'} left out, "
        "neither valid nor invalid: " + "; ".join(reversed(notes))
    )
    return Footer(rows=tuple(sorted(found)), notes=(summary,))

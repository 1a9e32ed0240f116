"""
The parts of a :class:`~userimport.mapping.ColumnMapping`: which property a column feeds and why
(:class:`ColumnMatch`), and how a whole-name column splits (:class:`NameSplit`). Below both
:mod:`userimport.mapping` and the suggestion work in :mod:`userimport._suggest`, which build them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import attrs

from ._table import column_letter
from .errors import MappingError
from .model import PROPERTIES

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "SAMPLE_ROWS",
    "ColumnMatch",
    "Method",
    "NameSplit",
    "SplitRule",
    "check_property",
    "column_label",
    "left_out_note",
]

Method = Literal["exact", "synonym", "fuzzy", "partial", "content", "position", "manual"]


#: How a whole-name column splits: ``last_comma_first`` (``Berg, Anna Marie``: before the
#: comma is the last name), ``first_last`` (``Anna Marie Berg``: the last word is the last
#: name), ``first_rest`` (``Anna van der Berg``: the first word is the first name).
SplitRule = Literal["last_comma_first", "first_last", "first_rest"]


#: How many data rows (the first ones, blank rows left out) the content checks look at.
SAMPLE_ROWS = 200


def check_property(name: str) -> str:
    """
    Return ``name`` if it is a property a column can feed, else raise :class:`MappingError`.

    Properties: ``first_name``, ``last_name``, ``email``, ``department``, ``groups``,
    ``is_admin`` and ``attributes.<name>``.

    >>> check_property("attributes.title")
    'attributes.title'
    """
    if name in PROPERTIES:
        return name
    if name.startswith("attributes.") and name[len("attributes.") :].strip():
        return name
    raise MappingError(
        f"unknown property {name!r}: use one of {', '.join(PROPERTIES)} or attributes.<name>"
    )


@attrs.frozen(kw_only=True)
class ColumnMatch:
    """
    One source column feeding one property, and why.

    Args:
        column: 0-based position of the source column.
        target: The property it feeds.
        method: How the match was found: ``exact``, ``synonym``, ``fuzzy``, ``content``,
            ``position`` or ``manual``.
        score: How sure the match is, in [0, 1].
        reason: A short explanation for a person.
    """

    column: int
    target: str = attrs.field(converter=check_property)
    method: Method = "manual"
    score: float = 1.0
    reason: str = ""


@attrs.frozen(kw_only=True)
class NameSplit:
    """
    One source column holding whole names, split into ``first_name`` and ``last_name``.

    A cell that the rule cannot split (no comma for ``last_comma_first``, a single word for
    the others) is a problem on its row (``name_not_split``), never a guess. The full-width
    ``，`` and ideographic ``、`` commas count as commas.

    Args:
        column: 0-based position of the source column.
        rule: How the names are written (see ``SplitRule``).
        reason: Why, for a person.
    """

    column: int
    rule: SplitRule = attrs.field(default="last_comma_first")
    reason: str = ""

    @rule.validator
    def _check_rule(self, attribute: Any, value: str) -> None:
        if value not in ("last_comma_first", "first_last", "first_rest"):
            raise MappingError(
                f"unknown name split rule {value!r}: use last_comma_first, first_last or first_rest"
            )

    def describe(self) -> str:
        """How the cells are read, for a person."""
        return {
            "last_comma_first": "'Surname, Given names': before the comma is the last name",
            "first_last": "'Given names Surname': the last word is the last name",
            "first_rest": "'Given name Surname(s)': the first word is the first name",
        }[self.rule]

    def apply(self, names: pd.Series) -> tuple[pd.Series, pd.Series, Any]:
        """
        Split ``names`` (text), column-wise.

        Returns:
            The first names, the last names (both trimmed; the whole cell when it cannot be
            split), and a boolean array of the filled cells that could not be split.
        """
        text = names.astype("str").str.strip()
        if self.rule == "last_comma_first":
            parts = text.str.replace(r"[，、]", ",", regex=True).str.partition(",")
            last, first = parts[0].str.strip(), parts[2].str.strip()
        elif self.rule == "first_last":
            parts = text.str.rpartition(" ")
            first, last = parts[0].str.strip(), parts[2].str.strip()
        else:
            parts = text.str.partition(" ")
            first, last = parts[0].str.strip(), parts[2].str.strip()
        bad = ((first == "") | (last == "")).to_numpy(dtype=bool) & (text != "").to_numpy(
            dtype=bool
        )
        first = first.where(~bad, text)
        last = last.where(~bad, text)
        return first, last, bad


def left_out_note(headers: tuple[str, ...], m: ColumnMatch) -> str:
    """The note that says a column was left out, and why."""
    return (
        f"{column_label(headers, m.column)} also looks like {m.target}, but is left out: {m.reason}"
    )


def column_label(headers: tuple[str, ...], column: int) -> str:
    header = headers[column] if column < len(headers) else ""
    letter = column_letter(column)
    return f"{header!r} ({letter})" if header else f"column {letter}"

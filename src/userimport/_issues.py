"""
The issues validation finds: their codes, the :class:`Issue` value, the
:class:`ValidationReport`, and the issues frame made from pandera's failure cases and the other
findings (each issue's cell, value and message).

The public names are re-exported by :mod:`userimport.validation`, where they are documented.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

import attrs

from . import _text

if TYPE_CHECKING:
    import pandas as pd

    from .mapping import ColumnMapping

__all__ = [
    "ISSUE_COLUMNS",
    "MAX_LENGTH",
    "TEXTS",
    "WARNINGS",
    "Issue",
    "IssueCode",
    "Note",
    "Severity",
    "ValidationReport",
    "cells",
    "issue_frame",
    "labels",
]

#: Longest text accepted in one field (and for one group name).
MAX_LENGTH = 255

#: Columns of :attr:`ValidationReport.frame` and ``Review.issues``.
ISSUE_COLUMNS: tuple[str, ...] = (
    "row",
    "field",
    "column",
    "cell",
    "code",
    "severity",
    "value",
    "message",
)


Severity = Literal["error", "warning"]


class IssueCode(enum.StrEnum):
    """Stable snake_case codes of the problems validation finds."""

    #: A required field is empty.
    REQUIRED = "required"
    #: The email address is not a valid address.
    INVALID_EMAIL = "invalid_email"
    #: The same email (in any case) appears on several rows; every row involved is flagged.
    DUPLICATE_EMAIL = "duplicate_email"
    #: The row has cells beyond the last header column (often a delimiter inside a value).
    EXTRA_CELLS = "extra_cells"
    #: A value is longer than 255 characters.
    TOO_LONG = "too_long"
    #: An admin cell that is neither a yes nor a no.
    INVALID_BOOLEAN = "invalid_boolean"
    #: Warning: the email was cleaned (``Name <a@b.no>``, ``mailto:``, stray blanks).
    EMAIL_CLEANED = "email_cleaned"
    #: A whole name that the mapping's name split cannot split (``Anna Berg`` with no comma).
    NAME_NOT_SPLIT = "name_not_split"
    #: Warning: a group name holds a likely separator other than the mapping's
    #: (``Oslo, Norge`` when ``;`` separates groups): check the group separator.
    GROUP_NAME_SEPARATOR = "group_name_separator"
    #: Warning: an invisible format character (zero-width space, BOM, soft hyphen, bidi
    #: mark...) was removed from the cell, or kept as a joiner; the message says where.
    INVISIBLE_CHARACTER = "invisible_character"
    #: Warning: the email is not ASCII but looks like an ASCII address (Cyrillic ``а``,
    #: fullwidth letters...): its confusable skeleton is ASCII.
    CONFUSABLE_EMAIL = "confusable_email"
    #: Warning: a part of the email (local part or a domain label) mixes scripts.
    MIXED_SCRIPT_EMAIL = "mixed_script_email"
    #: The cell holds a formula whose value was never saved (a workbook written by a script).
    FORMULA_NOT_CALCULATED = "formula_not_calculated"
    #: Warning: the file's encoding was guessed with doubt, and this cell reads differently in
    #: the runner-up encoding (``Håkon`` in Windows-1252 is ``HŒkon`` in Mac Roman).
    ENCODING_UNCERTAIN = "encoding_uncertain"
    #: A declared field's cell is not a value of its kind (a date, a phone number...).
    INVALID_VALUE = "invalid_value"
    #: A declared ``choice`` field's cell is not one of its allowed values.
    NOT_ALLOWED = "not_allowed"
    #: A declared field's value does not match the field's pattern.
    PATTERN_MISMATCH = "pattern_mismatch"
    #: A declared unique field holds the same value on several rows; every row is flagged.
    DUPLICATE_VALUE = "duplicate_value"
    #: A declared field's own check refused the value.
    CHECK_FAILED = "check_failed"


WARNINGS = frozenset(
    {
        IssueCode.EMAIL_CLEANED.value,
        IssueCode.GROUP_NAME_SEPARATOR.value,
        IssueCode.INVISIBLE_CHARACTER.value,
        IssueCode.CONFUSABLE_EMAIL.value,
        IssueCode.MIXED_SCRIPT_EMAIL.value,
        IssueCode.ENCODING_UNCERTAIN.value,
    }
)


@attrs.frozen(kw_only=True)
class Issue:
    """
    One problem in the data, tied to the row a person sees and the field it concerns.

    Args:
        code: What kind of problem.
        row: The spreadsheet row number (1-based; the header, if any, is above it).
        field: The property concerned (``email``, ``groups``, ``attributes.title``, ...).
        column: The source column, as a person names it (header text and letter).
        cell: The cell as a person finds it: ``Users!C17`` in a workbook, ``line 17, column 3``
            in a CSV.
        value: The cell's text as read.
        message: A sentence for a person, naming the file, row and column.
        severity: ``"error"`` keeps the row out of the import; ``"warning"`` does not.
    """

    code: IssueCode = attrs.field(converter=IssueCode)
    row: int
    field: str
    column: str
    cell: str
    value: str
    message: str
    severity: Severity = "error"


@attrs.frozen(kw_only=True, eq=False)
class ValidationReport:
    """
    Every issue found, as a DataFrame with one row per issue.

    Args:
        frame: Columns ``row``, ``field``, ``column``, ``code``, ``severity``, ``value``,
            ``message``; sorted by row. Never mutated.
    """

    frame: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """Return a copy of the issues as a DataFrame."""
        return self.frame.copy()

    @property
    def issues(self) -> tuple[Issue, ...]:
        """The issues as :class:`Issue` values (made on each call: use for a few rows)."""
        return tuple(
            Issue(**{str(k): v for k, v in rec.items()}) for rec in self.frame.to_dict("records")
        )

    def __iter__(self) -> Iterator[Issue]:
        return iter(self.issues)

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def errors(self) -> int:
        """How many issues are errors."""
        return int((self.frame["severity"] == "error").sum())

    def counts(self) -> dict[str, int]:
        """How many issues there are of each code."""
        return {str(k): int(v) for k, v in self.frame["code"].value_counts().sort_index().items()}

    def error_rows(self) -> frozenset[int]:
        """The rows with at least one error."""
        rows = self.frame.loc[self.frame["severity"] == "error", "row"]
        return frozenset(int(r) for r in rows.unique())


#: Findings that make issues: their code, field, and for each row the message after
#: ``row N, column X: ``.
Note = tuple[IssueCode, str, dict[Any, str]]


def labels(mapping: ColumnMapping) -> dict[str, str]:
    labels: dict[str, str] = {}
    for m in mapping.matches:
        label = mapping.label(m.column)
        labels[m.target] = f"{labels[m.target]}, {label}" if m.target in labels else label
    if mapping.name_split is not None:
        labels["first_name"] = labels["last_name"] = mapping.label(mapping.name_split.column)
    return labels


def cells(
    out: pd.DataFrame, source: pd.DataFrame, mapping: ColumnMapping, sheet: str | None
) -> pd.Series:
    """Each issue's cell as a person finds it: ``Users!C17``, or ``line 17, column 3``."""
    from .read import column_letter

    first: dict[str, int] = {}
    for m in mapping.matches:
        first.setdefault(m.target, m.column)
    if mapping.name_split is not None:
        first["first_name"] = first["last_name"] = mapping.name_split.column
    position = out["field"].map({f: first.get(f, -1) for f in out["field"].unique()})
    position = position.astype("int64")
    rows = out["row"].astype(str)
    if sheet is not None:
        letters = position.map({p: column_letter(p) if p >= 0 else "" for p in position.unique()})
        return (sheet + "!" + letters + rows).where(position >= 0, sheet + " row " + rows)
    line = (
        source["_line"].reindex(out["row"]).astype(str).to_numpy()
        if "_line" in source
        else rows.to_numpy()
    )
    text = "line " + _series(line, out.index)
    return (text + ", column " + (position + 1).astype(str)).where(position >= 0, text)


def _series(values: Any, index: pd.Index) -> pd.Series:
    """A Series of ``values`` on ``index`` (keeps the cell arithmetic above readable)."""
    import pandas as pd

    return pd.Series(values, index=index, dtype=object)


TEXTS = {
    IssueCode.REQUIRED: "is empty; every user needs one",
    IssueCode.INVALID_EMAIL: "is not a valid email address",
    IssueCode.TOO_LONG: f"is longer than {MAX_LENGTH} characters",
    IssueCode.EXTRA_CELLS: "has cells beyond the last header column (a delimiter inside a value?)",
    IssueCode.INVALID_BOOLEAN: "is neither yes nor no",
    IssueCode.GROUP_NAME_SEPARATOR: (
        "hold a group name with ';', '|', ',' or ' / ' inside, which often separates "
        "groups: check the group separator"
    ),
    IssueCode.FORMULA_NOT_CALCULATED: "holds a formula whose value was never saved; open and "
    "save the file in a spreadsheet program",
    IssueCode.INVALID_VALUE: "is not a value of its kind",
    IssueCode.NOT_ALLOWED: "is not one of the allowed values",
    IssueCode.PATTERN_MISMATCH: "does not have the expected form",
    IssueCode.DUPLICATE_VALUE: "holds a value another row holds too; it must be unique",
    IssueCode.CHECK_FAILED: "is not accepted",
}


#: Rows a duplicate_email message lists; more are counted (a whole column of one value would
#: otherwise make every message as long as the file: quadratic memory).
_SHARED_SHOWN = 10


def _rows_sharing(dupes: pd.Series) -> pd.Series:
    """
    For each row of ``dupes`` (row -> email key), the rows with its key: ``"2, 7, 9"``, or the
    first ten and ``"and 990 more"``.
    """
    import numpy as np
    import pandas as pd

    rows = dupes.index.to_numpy()
    codes = _text.codes(dupes)
    order = np.lexsort((rows, codes))
    ordered, texts = codes[order], rows[order].astype(str).tolist()
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    spans = zip(starts.tolist(), np.r_[starts[1:], len(ordered)].tolist(), strict=True)
    by_code = np.empty(int(codes.max()) + 1, dtype=object)
    by_code[ordered[starts]] = [
        ", ".join(texts[a : min(b, a + _SHARED_SHOWN)])
        + (f" and {b - a - _SHARED_SHOWN} more" if b - a > _SHARED_SHOWN else "")
        for a, b in spans
    ]
    return pd.Series(by_code[codes], index=dupes.index)


def issue_frame(
    *,
    failures: pd.DataFrame,
    group_long: pd.DataFrame,
    source: pd.DataFrame,
    separator_held: pd.Index | None = None,
    norm: pd.DataFrame,
    cleaned: pd.Series | None,
    notes: list[Note],
    bad_emails: dict[Any, str],
    dupes: pd.Series,
    mapping: ColumnMapping,
    path: str | None,
    sheet: str | None = None,
) -> pd.DataFrame:
    """Turn pandera's failure cases (and the other findings) into the issues frame."""
    import numpy as np
    import pandas as pd

    names = labels(mapping)
    frames = []
    if len(failures):
        f = failures.rename(columns={"column": "field", "check": "code", "index": "row"})
        f = f.assign(
            field=f["field"].replace(
                {"_email_key": "email", "_extra": "row", "_unsplit": "last_name"}
            ),
            row=f["row"].astype("int64"),
        )
        frames.append(f)
    if len(group_long):
        frames.append(
            pd.DataFrame(
                {"row": group_long["row"], "field": "groups", "code": IssueCode.TOO_LONG.value}
            )
        )
    if separator_held is not None and len(separator_held):
        frames.append(
            pd.DataFrame(
                {
                    "row": separator_held,
                    "field": "groups",
                    "code": IssueCode.GROUP_NAME_SEPARATOR.value,
                }
            )
        )
    for code, field, details in notes:
        frames.append(pd.DataFrame({"row": list(details), "field": field, "code": code.value}))
    if cleaned is not None and cleaned.any():
        rows = norm.index[cleaned & (norm["email"] != "")]
        frames.append(
            pd.DataFrame({"row": rows, "field": "email", "code": IssueCode.EMAIL_CLEANED.value})
        )
    if "_formula" in source:
        formula = source["_formula"][source["_formula"] != ""]
        pairs = [(r, f) for r, fields in formula.items() for f in str(fields).split(",")]
        if pairs:
            found = pd.DataFrame(pairs, columns=["row", "field"])
            found["code"] = IssueCode.FORMULA_NOT_CALCULATED.value
            frames.append(found)
            empty = {(r, f, IssueCode.REQUIRED.value) for r, f in pairs}
            frames = [  # not "empty": the formula is the problem
                f[[k not in empty for k in zip(f["row"], f["field"], f["code"], strict=True)]]
                for f in frames
            ]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ISSUE_COLUMNS}).astype(
            {"row": "int64"}
        )
    out = pd.concat(frames, ignore_index=True).drop_duplicates(["row", "field", "code"])
    out["row"] = out["row"].astype("int64")
    out["severity"] = np.where(out["code"].isin(list(WARNINGS)), "warning", "error")

    # The cell's text: normalised for the mapped fields, the raw extra cells for a long row.
    values = pd.Series("", index=out.index, dtype=object)
    for field in out["field"].unique():
        where = out["field"] == field
        if field == "row":
            col = source["_extra"].astype(str)
        elif field == "email":
            col = _text.strip(source["email"])
        elif field in source:
            col = source[field].astype("str")
        else:
            continue
        values[where] = col.reindex(out.loc[where, "row"]).to_numpy()
    out["value"] = values
    out["column"] = out["field"].map(
        {f: names.get(f, "beyond the header" if f == "row" else f) for f in out["field"].unique()}
    )

    out["cell"] = cells(out, source, mapping, sheet)
    prefix = f"{path}, row " if path else "row "
    where_text = prefix + out["row"].astype(str) + ", column " + out["column"].astype(str) + ": "
    text = out["code"].map({c.value: t for c, t in TEXTS.items()}).fillna("")
    what = out["field"].where(out["field"] != "row", "the row")
    out["message"] = where_text + what + " " + text
    if len(dupes):
        is_dup = out["code"] == IssueCode.DUPLICATE_EMAIL.value
        out.loc[is_dup, "message"] = (
            where_text[is_dup]
            + "the email "
            + out.loc[is_dup, "value"]
            + " appears on rows "
            + _rows_sharing(dupes).reindex(out.loc[is_dup, "row"]).to_numpy()
        )
    unsplit = out["code"] == IssueCode.NAME_NOT_SPLIT.value
    if unsplit.any() and mapping.name_split is not None:
        out.loc[unsplit, "message"] = (
            where_text[unsplit]
            + "the name "
            + out.loc[unsplit, "value"].map(repr)
            + " cannot be split into a last and a first name, read as "
            + mapping.name_split.describe()
        )
    for code, field, details in notes:
        at = (out["code"] == code.value) & (out["field"] == field)
        out.loc[at, "message"] = where_text[at] + out.loc[at, "row"].map(details)
    is_bad = (out["code"] == IssueCode.INVALID_EMAIL.value) & (out["value"] != "")
    if is_bad.any():  # quote what the cell holds: "#N/A" from a failed lookup says it all
        out.loc[is_bad, "message"] = (
            where_text[is_bad]
            + "the email "
            + out.loc[is_bad, "value"].map(repr)
            + " is not a valid email address"
        )
    is_bad = out["code"] == IssueCode.INVALID_EMAIL.value
    if bad_emails and is_bad.any():
        reason = out.loc[is_bad, "row"].map(bad_emails)
        known = reason.notna()
        out.loc[is_bad & known.reindex(out.index, fill_value=False), "message"] = (
            out.loc[is_bad, "message"][known] + ": " + reason[known].astype(str)
        )
    is_clean = out["code"] == IssueCode.EMAIL_CLEANED.value
    if is_clean.any():
        cleaned_to = norm["email"].reindex(out.loc[is_clean, "row"]).to_numpy()
        out.loc[is_clean, "message"] = (
            where_text[is_clean]
            + "the email "
            + out.loc[is_clean, "value"].map(repr)
            + " was read as "
            + cleaned_to
        )
    return (
        out[list(ISSUE_COLUMNS)]
        .sort_values(["row", "field", "code"], kind="stable")
        .reset_index(drop=True)
    )

"""
Stage 4: turn the mapped cells into normalised candidate users, and every problem into an
:class:`Issue` tied to its row and field.

The checks run as one pandera schema over whole columns (no Python loop per row). Problems in
the data are values gathered in a :class:`ValidationReport`. The entry point,
:func:`~userimport.review.validate` (``userimport.validate``), wraps the outcome in a
:class:`~userimport.review.Review`; it raises only for a mapping that cannot work, or when
asked to be strict.
"""

from __future__ import annotations

import re
import threading
import unicodedata
import weakref
from typing import TYPE_CHECKING, Any

import attrs

from . import _email, _kinds, _text
from ._issues import (
    ISSUE_COLUMNS,
    MAX_LENGTH,
    TEXTS,
    Issue,
    IssueCode,
    Note,
    Severity,
    ValidationReport,
    issue_frame,
)
from .fields import DEFAULT_SCHEMA, UserSchema
from .headers import header_names
from .mapping import ColumnMapping
from .model import bulk
from .read import RawTable

if TYPE_CHECKING:
    import pandas as pd

    from .fields import Field

__all__ = [
    "EMAIL_PATTERN",
    "ISSUE_COLUMNS",
    "MAX_LENGTH",
    "NEUTRALISED",
    "REQUIRED",
    "Issue",
    "IssueCode",
    "Severity",
    "ValidationReport",
    "email_is_valid",
    "email_problem",
    "is_valid_email",
]

#: Properties every row must have: the required fields of the default schema.
REQUIRED: tuple[str, ...] = DEFAULT_SCHEMA.required


#: Columns of a review's source that are bookkeeping, not properties.
HIDDEN = frozenset({"_encodings", "_extra", "_formula", "_line", "_unsplit"})


#: The fast path of the email check, for RE2 and Python alike: a plain ASCII address with an
#: alphabetic top-level domain. A full match is a valid address (a property test proves that
#: ``email-validator`` accepts each); validity itself is :func:`email_problem`'s verdict.
EMAIL_PATTERN = _email.ASCII_EMAIL
_ASCII_EMAIL = EMAIL_PATTERN


def email_is_valid(emails: pd.Series) -> pd.Series:
    """
    Whether each text is one email address, by the rule :func:`~userimport.review.validate`
    checks emails with.

    Column-wise: ASCII addresses the fast pattern accepts need no Python call; every other
    cell gets :func:`email_problem`'s verdict. Saved plans are checked with it too.

    Args:
        emails: Email texts, already trimmed.

    Returns:
        A boolean Series on the same index (an empty text is not valid).
    """
    import pandas as pd

    bad = _email.problems(emails)
    return pd.Series((emails != "").to_numpy() & ~emails.index.isin(list(bad)), index=emails.index)


#: The apostrophe an export puts before a value a spreadsheet would run as a formula.
NEUTRALISED = r"^'(?='*[=+\-@])"

_TRUE = frozenset(
    {"1", "true", "yes", "y", "x", "ja", "j", "sant", "admin", "administrator", "wahr"}
)
_FALSE = frozenset({"", "0", "false", "no", "n", "nei", "nej", "falsk", "nein", "-"})


# Separators people put between groups; a group name holding another one is warned about.
_LIKELY_SEPARATORS = (";", "|", ",", " / ")


def email_problem(text: str) -> str | None:
    """
    Why ``text`` is not a valid email address, or ``None`` when it is one.

    The rule validation applies to every email cell (after cleaning): ``email-validator``'s,
    without a DNS lookup. Internationalised addresses are valid (Unicode local parts and
    domains, RFC 6531/6532; punycode labels such as ``xn--p1ai``); quoted local parts, IP
    literals and special-use domains (``.test``, ``.local``, ``localhost``) are not.

    >>> email_problem("user@example.xn--p1ai") is None
    True
    >>> email_problem("anna@firma") is not None
    True
    """
    return _email.email_problem(text)


def is_valid_email(text: str) -> bool:
    """Whether ``text`` is a valid email address (see :func:`email_problem`)."""
    return _email.email_problem(text) is None


@attrs.frozen(kw_only=True, eq=False)
class Checked:
    """What one validation pass makes of the input (internal to ``validate`` and ``Review``)."""

    rows: pd.DataFrame
    memberships: pd.DataFrame
    report: ValidationReport


def _clean(text: pd.Series) -> pd.Series:
    """
    Trim, and fold every run of blanks (NBSP, zero-width, newlines) into one space.

    A cell that an export neutralised against formula injection (``'=SUM(1)``: an apostrophe
    before ``=``, ``+``, ``-`` or ``@``) is read back as it was typed.
    """
    import pyarrow.compute as pc

    # One scan finds whether any cell needs more than trimming spaces: a blank to fold, or
    # (spaces aside) an export's apostrophe. Most columns need neither, and most show it by
    # their bytes alone, without the regex.
    arr = _text.arrow(text)
    if (
        _text.spaces_only(arr)
        or not pc.any(pc.match_substring_regex(arr, _MORE_THAN_SPACES)).as_py()
    ):
        return _text.trim(text, " ")
    return _text.unneutralise(_text.collapse_blanks(text))


#: A cell :func:`_clean` must do more to than trim spaces: a blank other than a space, two
#: spaces, or an apostrophe before a formula's first character after leading spaces.
_MORE_THAN_SPACES = "[" + _text.BLANKS.replace(" ", "") + "]|  |^ *'+[=+\\-@]"


_ANGLED = re.compile(r"<\s*([^<>\s]+@[^<>\s]+?)\s*>")
_MAILTO = re.compile(r"^\s*mailto:\s*", re.IGNORECASE)


def _unwrap_email(text: str) -> str:
    """``Name <a@b.no>`` and ``mailto:a@b.no`` as ``a@b.no`` (one cell)."""
    inner = _ANGLED.search(text)
    return _MAILTO.sub("", inner.group(1) if inner else text)


def _clean_email(text: pd.Series) -> pd.Series:
    """Take the address out of ``Name <a@b.no>`` and ``mailto:a@b.no``; drop stray blanks."""
    text = _clean(text)
    # Only cells with a '<' or a ':' can hold either form: the rest skip the Python step.
    wrapped = _text.contains_any(text, "<") | _text.contains_any(text, ":")
    text = _text.patch(text, wrapped, _unwrap_email)
    return _text.trim(text, " \"'<>;,")


def _describe(found: list[_text.Found]) -> str:
    """What :func:`_text.visible` found in one cell, for a person."""
    removed = [f for f in found if not f[2]]
    kept = [f for f in found if f[2]]

    def names(items: list[_text.Found]) -> str:
        return ", ".join(
            f"U+{ord(c):04X} {unicodedata.name(c, 'FORMAT CHARACTER')} at position {at}"
            for at, c, _ in items
        )

    parts = []
    if removed:
        parts.append(f"removed invisible character(s) {names(removed)}")
    if kept:
        parts.append(f"kept joiner(s) {names(kept)} (inside non-ASCII text, they shape it)")
    return "; ".join(parts)


def _visible(source: pd.DataFrame) -> tuple[pd.DataFrame, list[Note]]:
    """
    The mapped cells without invisible format characters and in NFC, and a note for each cell
    that had such characters (positions are in the cell as read).

    Emails lose every one; other fields keep a ZWNJ or ZWJ between two non-ASCII letters
    (Persian, Indic and emoji text need them): see :func:`_text.visible_cell`.
    """
    out = {}
    notes: list[Note] = []
    for field in source.columns:
        if field in HIDDEN:
            out[field] = source[field]
            continue
        text, found = _text.visible(source[field].astype("str"), keep_joiners=field != "email")
        out[field] = text
        if found:
            details = {row: _describe(items) for row, items in found.items()}
            notes.append((IssueCode.INVISIBLE_CHARACTER, field, details))
    return source.assign(**out), notes


def _misread(prepared: pd.DataFrame, encodings: str) -> list[Note]:
    """
    Warnings for the cells that read differently in the runner-up encoding.

    ``encodings`` is ``"<used> <runner-up>"`` (``RawTable.encoding`` and
    ``RawTable.encoding_runner_up``). Only cells with non-ASCII text can differ, so only those
    are decoded again; a cell edited into text the used encoding cannot write is left alone.
    """
    used, runner = encodings.split(" ")
    notes: list[Note] = []
    for field in prepared.columns:
        if field in HIDDEN:
            continue
        cells = prepared[field].astype("str")
        details = {}
        for row, text in cells[_text.non_ascii(cells)].items():
            try:
                other = text.encode(used).decode(runner)
            except UnicodeError:
                continue
            if other != text:
                details[row] = (
                    f"the file's encoding is uncertain: {text!r} (read as {used}) would be "
                    f"{other!r} in {runner}; if that is right, read the file again with "
                    f"encoding={runner!r}"
                )
        if details:
            notes.append((IssueCode.ENCODING_UNCERTAIN, field, details))
    return notes


def _lookalikes(emails: pd.Series, bad: dict[Any, str]) -> list[Note]:
    """Warnings for the valid non-ASCII emails that look like ASCII ones or mix scripts."""
    notes: list[Note] = []
    other = _text.non_ascii(emails)
    if not other.any():
        return notes
    confusable: dict[Any, str] = {}
    mixed: dict[Any, str] = {}
    picked = emails[other]
    for row, email in zip(picked.index.tolist(), picked.tolist(), strict=True):
        if row in bad:
            continue
        lookalike = _email.ascii_lookalike(email)
        if lookalike is not None:
            confusable[row] = (
                f"the email {email} looks like the ASCII address {lookalike} (it holds "
                "characters that look like others); check it is the one meant"
            )
        parts = _email.mixed_script_parts(email)
        if parts:
            mixed[row] = f"the email {email} mixes scripts: " + "; ".join(
                f"{part!r} is {' and '.join(scripts)}" for part, scripts in parts
            )
    if confusable:
        notes.append((IssueCode.CONFUSABLE_EMAIL, "email", confusable))
    if mixed:
        notes.append((IssueCode.MIXED_SCRIPT_EMAIL, "email", mixed))
    return notes


def mapped_cells(table: RawTable, header_row: int | None, mapping: ColumnMapping) -> pd.DataFrame:
    """The mapped cells as text, one column per property, indexed by spreadsheet row."""
    import numpy as np
    import pandas as pd

    start = 0 if header_row is None else header_row + 1
    data = table.rows.iloc[start:]
    width = data.shape[1]
    cells = [data.iloc[:, pos].astype("str") for pos in range(width)]
    nonblank = np.zeros(len(data), dtype=bool)
    for col in cells:
        nonblank |= ~_text.is_blank(col)
        if nonblank.all():  # every row has a value: the other columns cannot change that
            break
    # Footer lines under the table (totals, page numbers) are not users: left out.
    nonblank &= ~data.index.isin(mapping.footer_rows)
    if not nonblank.all():
        cells = [col[nonblank] for col in cells]
    index = pd.Index(data.index[nonblank] + table.first_row, name="row", dtype="int64")
    source: dict[str, Any] = {}
    for m in mapping.matches:
        if m.target != "groups" and m.column < width:
            source[m.target] = cells[m.column].array
    split = mapping.name_split
    if split is not None and split.column < width:
        first, last, bad = split.apply(cells[split.column])
        source["first_name"], source["last_name"] = first.array, last.array
        source["_unsplit"] = np.where(bad, "x", "")
    group_columns = [c for c in mapping.group_columns if c < width]
    if group_columns:
        joined = cells[group_columns[0]]
        for c in group_columns[1:]:
            joined = joined.str.cat(cells[c], sep=mapping.group_separator)
        source["groups"] = joined.array
    # Cells beyond the last header cell: a longer row is kept and flagged, never cut.
    extra: Any = ""
    if header_row is not None:
        headers = header_names(table, header_row)
        used = max((i + 1 for i, h in enumerate(headers) if h), default=0)
        used = max([used, *(m.column + 1 for m in mapping.matches)])
        if used < width:
            beyond = _text.strip(cells[used])
            for col in cells[used + 1 :]:
                beyond = beyond.str.cat(_text.strip(col), sep=" | ")
            extra = beyond.str.strip(" |").array
    source["_extra"] = extra
    if table.encoding_runner_up is not None:
        source["_encodings"] = f"{table.encoding} {table.encoding_runner_up}"
    if table.uncalculated:  # the few cells holding a formula never calculated: their fields
        fields = {m.column: m.target for m in mapping.matches if m.target != "groups"}
        fields.update(dict.fromkeys(mapping.group_columns, "groups"))
        formula = pd.Series("", index=index, dtype=object)
        for row, column in sorted(table.uncalculated):
            where = row + table.first_row
            if column in fields and where in formula.index and row >= start:
                formula[where] = ",".join(filter(None, [formula[where], fields[column]]))
        source["_formula"] = formula.to_numpy()
    # Where each row starts in the file, so an issue can name the cell (line N in a CSV).
    lines = table.lines
    source["_line"] = (
        np.asarray(lines, dtype="int64")[data.index[nonblank].to_numpy()]
        if lines is not None
        else index.to_numpy()
    )
    return pd.DataFrame(source, index=index).astype({"_extra": "str"})


def check_source(
    source: pd.DataFrame,
    mapping: ColumnMapping,
    *,
    skipped: frozenset[int] = frozenset(),
    path: str | None = None,
    sheet: str | None = None,
    schema: UserSchema = DEFAULT_SCHEMA,
) -> Checked:
    """Normalise ``source`` and find every issue (vectorised, one pandera schema)."""
    import pandas as pd
    from pandera.errors import SchemaErrors

    is_skipped = source.index.isin(list(skipped))
    prepared, notes = _visible(source)
    if "_encodings" in source and len(source):
        notes += _misread(prepared, str(source["_encodings"].iloc[0]))
    norm = pd.DataFrame(index=source.index)
    for field in prepared.columns:
        if field == "groups" or field in HIDDEN:
            continue
        values = prepared[field]
        norm[field] = _clean_email(values) if field == "email" else _clean(values)
    for field in REQUIRED:
        if field not in norm:
            norm[field] = ""
    declared = [f for f in schema.extra if f.target in norm or f.required]
    bad_cells: dict[str, Any] = {}
    for f in declared:
        if f.target not in norm:
            norm[f.target] = ""
        norm[f.target], bad_cells[f.target] = _kinds.read(f, norm[f.target])
    bad_emails = _email.problems(norm["email"])
    notes += _lookalikes(norm["email"], bad_emails)
    # email_key of each row (the emails are trimmed and in NFC).
    keys = _text.lower(norm["email"])
    counted = keys.where((keys != "") & ~is_skipped, "")
    dupes = counted[counted != ""]
    dupes = dupes[_text.repeated(dupes)]
    checks = norm.assign(
        _extra=source.get("_extra", ""),
        _email_valid=~norm.index.isin(list(bad_emails)),
        _email_unique=~norm.index.isin(dupes.index),
        _unsplit=source.get("_unsplit", ""),
    )
    for f in declared:
        values, bad = norm[f.target], bad_cells[f.target]
        checks[f.target] = values.where(values != "", None).astype(object)
        checks[f"_readable:{f.target}"] = ~bad
        if f.unique:
            keys = values if f.compare == "exact" else _text.casefold(values)
            keys = keys[(values != "").to_numpy() & ~is_skipped & ~bad]
            checks[f"_unique:{f.target}"] = ~values.index.isin(keys.index[_text.repeated(keys)])
        if f.check is not None:
            checks[f"_checked:{f.target}"] = checks[f.target].where(~bad, None)

    built = pandera_schema(schema)
    failures = pd.DataFrame(columns=["column", "check", "index"])
    try:
        built.schema.validate(checks, lazy=True)
    except SchemaErrors as e:
        failures = e.failure_cases[["column", "check", "index"]]
        failures = failures.assign(
            check=failures["check"].replace(built.codes),
            column=failures["column"].replace(built.fields),
        )
        broken = e.failure_cases[e.failure_cases["index"].isna()]
        if len(broken):  # a declared field's own check raised: the app's bug, not the file's
            first = broken.iloc[0]
            column = built.fields.get(first["column"], first["column"])
            raise ValueError(f"the check of {column} failed: {first['failure_case']}") from None

    # Groups: split, trim, drop empty pieces, de-duplicate (case-insensitively) per row.
    group_parts = []
    held: pd.Index = pd.Index([], dtype="int64")
    if "groups" in source:
        pieces = _clean(_text.split_long(prepared["groups"], mapping.group_separator))
        group_parts.append(pieces)
        held = _separator_held(pieces, mapping.group_separator)
    if mapping.department_as_group:
        group_parts.append(norm["department"])
    codes = None
    if group_parts:
        long, codes = _distinct_sorted_coded(pd.concat(group_parts))
    else:
        long = pd.DataFrame({"row": pd.Series(dtype="int64"), "group": pd.Series(dtype="str")})
    group_long_fail = long[long["group"].str.len() > MAX_LENGTH]

    cleaned = norm["email"] != _text.strip(prepared["email"]) if "email" in prepared else None
    issues = issue_frame(
        failures=failures,
        group_long=group_long_fail,
        separator_held=held,
        source=source,
        norm=norm,
        cleaned=cleaned,
        notes=notes,
        bad_emails=bad_emails,
        dupes=dupes,
        mapping=mapping,
        path=path,
        sheet=sheet,
    )
    if declared:
        issues = _declared_messages(issues, declared)
    rows = norm.copy()
    with bulk():
        rows["groups"] = _tuples(long, rows.index, codes)
    if "is_admin" in rows:
        rows["is_admin"] = _text.casefold(rows["is_admin"]).isin(_TRUE)
    errors = issues.loc[issues["severity"] == "error", "row"].unique()
    rows["status"] = "valid"
    rows.loc[rows.index.isin(errors), "status"] = "invalid"
    rows.loc[is_skipped, "status"] = "skipped"
    return Checked(rows=rows, memberships=long, report=ValidationReport(frame=issues))


@attrs.frozen(kw_only=True, eq=False)
class Built:
    """
    The pandera schema of one :class:`~userimport.fields.UserSchema`, and how to read its
    failures.

    Args:
        schema: The ``pandera.DataFrameSchema``. The per-file findings it checks (invalid and
            duplicate emails, unreadable and duplicate values of declared fields) reach it as
            columns of the frame, ``True`` where a row is fine, so it holds nothing of one file.
        codes: The issue code of each pandera built-in check, by the check's name.
        fields: The field each helper column is about (``_email_valid`` is ``email``).
    """

    schema: Any
    codes: dict[str, str]
    fields: dict[str, str]


# The pandera schema of each UserSchema value (by identity: a field's ``check`` does not take
# part in equality), dropped with the schema.
_BUILT: dict[int, tuple[weakref.ref[UserSchema], Built]] = {}
_BUILDING = threading.Lock()


def pandera_schema(schema: UserSchema) -> Built:
    """
    The pandera schema of ``schema``, built on its first use and kept as long as ``schema``.

    Every validation with one schema value (``DEFAULT_SCHEMA``, or an app's) reuses it; the
    columns a file lacks are not required by it (``required=False``).
    """
    with _BUILDING:
        found = _BUILT.get(id(schema))
        if found is not None and found[0]() is schema:
            return found[1]
        built = _build(schema)
        key = id(schema)
        _BUILT[key] = (weakref.ref(schema, lambda _: _BUILT.pop(key, None)), built)
        return built


def _build(schema: UserSchema) -> Built:
    """Build the pandera schema of ``schema`` (see :func:`pandera_schema`)."""
    import pandera.pandas as pa

    def check(code: IssueCode, test: Any) -> pa.Check:
        return pa.Check(test, name=code.value)

    def fine(code: IssueCode) -> pa.Check:  # a mask column: True where the row is fine
        return check(code, lambda s: s.astype(bool))

    required = check(IssueCode.REQUIRED, lambda s: s != "")
    too_long = pa.Check.str_length(max_value=MAX_LENGTH)
    codes = {str(too_long.error): IssueCode.TOO_LONG.value, "not_nullable": "required"}
    fields = {"_email_valid": "email", "_email_unique": "email"}
    columns: dict[str, pa.Column] = {
        field: pa.Column(checks=[required, too_long], required=False)
        for field in REQUIRED
        if field != "email"
    }
    columns["email"] = pa.Column(checks=[required, too_long], required=False)
    columns["_email_valid"] = pa.Column(checks=[fine(IssueCode.INVALID_EMAIL)], required=False)
    columns["_email_unique"] = pa.Column(checks=[fine(IssueCode.DUPLICATE_EMAIL)], required=False)
    columns["_extra"] = pa.Column(
        checks=[check(IssueCode.EXTRA_CELLS, lambda s: s == "")], required=False
    )
    columns["_unsplit"] = pa.Column(
        checks=[check(IssueCode.NAME_NOT_SPLIT, lambda s: s == "")], required=False
    )
    words = _TRUE | _FALSE
    columns["is_admin"] = pa.Column(
        checks=[check(IssueCode.INVALID_BOOLEAN, lambda s: _text.casefold(s).isin(words))],
        required=False,
    )
    for f in schema.extra:
        columns.update(_declared_columns(f, codes))
        fields.update({f"_{what}:{f.target}": f.target for what in _HELPERS})
    # Every other property (an undeclared ``attributes.<name>``): at most MAX_LENGTH.
    named = "|".join(re.escape(c) for c in columns)
    columns[f"^(?!_)(?!(?:{named})$)"] = pa.Column(checks=[too_long], regex=True, required=False)
    return Built(schema=pa.DataFrameSchema(columns), codes=codes, fields=fields)


# The helper columns of a declared field: ``_readable:<target>`` and so on.
_HELPERS = ("readable", "unique", "checked")


def _declared_columns(field: Field, codes: dict[str, str]) -> dict[str, Any]:
    """
    The pandera columns of a declared field (its values, and its helper columns), adding the
    issue code of each built-in check's name to ``codes``.

    Empty cells reach the value column as missing values, which pandera's built-in checks pass
    by (``ignore_na``); ``required`` is the column not being nullable.
    """
    import pandas as pd
    import pandera.pandas as pa

    checks: list[pa.Check] = []

    def builtin(made: pa.Check, code: IssueCode) -> None:
        checks.append(made)
        codes[str(made.error)] = code.value

    def fine(code: IssueCode) -> pa.Column:  # a mask column: True where the row is fine
        test = pa.Check(lambda s: s.astype(bool), name=code.value)
        return pa.Column(checks=[test], required=False)

    if field.max_length is not None:
        builtin(pa.Check.str_length(max_value=field.max_length), IssueCode.TOO_LONG)
    if field.kind == "choice":
        builtin(pa.Check.isin(list(field.choices)), IssueCode.NOT_ALLOWED)
    if field.pattern is not None:
        builtin(
            pa.Check.str_matches(f"(?:{field.pattern})\\Z"),
            IssueCode.PATTERN_MISMATCH,
        )
    target = field.target
    columns = {target: pa.Column(nullable=not field.required, checks=checks, required=False)}
    if field.kind != "choice":
        columns[f"_readable:{target}"] = fine(IssueCode.INVALID_VALUE)
    if field.unique:
        columns[f"_unique:{target}"] = fine(IssueCode.DUPLICATE_VALUE)
    own = field.check
    if own is not None:

        def extra(s: pd.Series) -> pd.Series:
            out = pd.Series(True, index=s.index)
            given = s.notna()
            if given.any():
                out[given] = own(s[given].astype("str")).to_numpy(dtype=bool)
            return out

        columns[f"_checked:{target}"] = pa.Column(
            nullable=True,
            checks=[pa.Check(extra, name=IssueCode.CHECK_FAILED.value)],
            required=False,
        )
    return columns


def _declared_messages(issues: pd.DataFrame, declared: list[Field]) -> pd.DataFrame:
    """The messages of declared fields' problems, saying what the field expects."""
    texts = {c.value: t for c, t in TEXTS.items()}
    for f in declared:
        specific = {
            IssueCode.INVALID_VALUE.value: _kinds.EXPECTED.get(f.kind, "is not valid"),
            IssueCode.NOT_ALLOWED.value: "is not one of " + ", ".join(f.choices),
            IssueCode.PATTERN_MISMATCH.value: f"does not match the pattern {f.pattern}",
            IssueCode.CHECK_FAILED.value: f.check_message,
            IssueCode.TOO_LONG.value: f"is longer than {f.max_length} characters",
        }
        for code, text in specific.items():
            at = (issues["field"] == f.target) & (issues["code"] == code)
            if at.any():
                head = issues.loc[at, "message"].str.slice(stop=-len(texts[code]))
                issues.loc[at, "message"] = head + text
    return issues


def _separator_held(pieces: pd.Series, separator: str) -> pd.Index:
    """The rows with a group name holding a likely separator other than ``separator``."""
    import numpy as np

    hit = np.zeros(len(pieces), dtype=bool)
    for likely in _LIKELY_SEPARATORS:
        if likely.strip() != separator.strip():
            hit |= _text.contains_any(pieces, likely)
    return pieces.index[hit].unique()


def _distinct_sorted(groups: pd.Series) -> pd.DataFrame:
    """
    The long form ``row``, ``group`` of cleaned group names indexed by row: empty names
    dropped, the first spelling of each name kept per row (case-insensitively, by
    ``str.lower``: ``Straße`` and ``Strasse`` are two), sorted by row and then by name in
    Python's order (code points).
    """
    return _distinct_sorted_coded(groups)[0]


def _distinct_sorted_coded(groups: pd.Series) -> tuple[pd.DataFrame, Any]:
    """
    :func:`_distinct_sorted`, and integer codes of its names (equal names, equal codes; see
    :func:`_text.tuples`), or ``None``.

    Names repeat (a few groups shared by many users): each distinct spelling is lower-cased
    and placed in order once, and rows are then compared by integers, not by text.
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = _text.arrow(groups)
    if arr.null_count:  # a missing cell is kept, as before
        return _distinct_sorted_text(groups), None
    nonempty = pc.not_equal(arr, "")
    rows = groups.index.to_numpy(dtype="int64")
    if not pc.all(nonempty).as_py():
        arr = arr.filter(nonempty)
        rows = rows[nonempty.to_numpy(zero_copy_only=False)]
    encoded = pc.dictionary_encode(arr)
    spelled = encoded.indices.to_numpy(zero_copy_only=False).astype("int64")
    distinct = encoded.dictionary
    # Equal lower-case spellings, equal codes; the place of each spelling in Arrow's order
    # (UTF-8 bytes, which orders strings by code point, as Python does).
    folded = _text.codes(_text.lower(_text.series(distinct)))
    place = np.empty(len(distinct), dtype="int64")
    place[pc.sort_indices(distinct).to_numpy()] = np.arange(len(distinct))
    if len(distinct) and int(folded.max()) + 1 < len(distinct):  # two spellings of one name
        pair = rows * (int(folded.max()) + 1) + folded[spelled]
        first = ~pd.Series(pair).duplicated().to_numpy()
        rows, arr, spelled = rows[first], arr.filter(pa.array(first)), spelled[first]
    key = rows * len(distinct) + place[spelled]
    order = np.argsort(key, kind="stable")  # rows come in order: a cheap sort
    if int(folded.max(initial=0)) + 1 == len(distinct):
        # One spelling per lower-case name: a repeated name is a repeated key, now adjacent.
        ordered = key[order]
        order = order[np.r_[True, ordered[1:] != ordered[:-1]]]
    frame = pd.DataFrame(
        {"row": rows[order], "group": pd.array(arr.take(order), dtype="str")},
        index=np.arange(len(order)),
    )
    return frame, spelled[order]


def _distinct_sorted_text(groups: pd.Series) -> pd.DataFrame:
    """:func:`_distinct_sorted` by comparing texts (a column with missing cells)."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    # Compared in Arrow: no Python string made per piece (a missing cell is kept, as before).
    empty = pc.fill_null(pc.equal(_text.arrow(groups), ""), False)
    groups = groups[~empty.to_numpy(zero_copy_only=False)]
    rows = groups.index.to_numpy(dtype="int64")
    codes = _text.codes(_text.lower(groups))
    pair = rows * (int(codes.max(initial=0)) + 1) + codes
    first = ~pd.Series(pair).duplicated().to_numpy()
    rows, names = rows[first], _text.arrow(groups).filter(pa.array(first))
    # Arrow compares UTF-8 bytes, which orders strings by code point, as Python does.
    order = pc.sort_indices(
        pa.table({"row": rows, "group": names}),
        sort_keys=[("row", "ascending"), ("group", "ascending")],
    ).to_numpy()
    return pd.DataFrame(
        {"row": rows[order], "group": pd.array(names.take(order), dtype="str")},
        index=np.arange(len(order)),
    )


def _tuples(long: pd.DataFrame, index: pd.Index, codes: Any = None) -> pd.Series:
    """
    Each row's groups as a sorted tuple, from the long form sorted by row and group (and
    ``codes`` of its names, if known: see :func:`_text.tuples`).
    """
    import pandas as pd

    owner = index.get_indexer(pd.Index(long["row"].to_numpy()))
    groups = _text.tuples(owner, _text.arrow(long["group"]), len(index), codes=codes)
    return pd.Series(groups, index=index, dtype=object)

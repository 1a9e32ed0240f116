"""
How the command line shows things: the mapping, the problems, a plan, a result; and the
rejects file. Rendering only; no decisions are made here.

Text from files and from the store is shown as text, never as rich markup: every string the
console renders (printed lines, table cells, titles, the status line) passes through
:meth:`PlainConsole.render_str`, which makes a plain :class:`rich.text.Text` of it, with no
markup, emoji codes or highlighting, and with control characters shown as escapes. So a group
named ``[/]`` or ``[red]Sales[/red]``, a ``[link=...]`` or an ANSI escape sequence in a cell
is printed as the characters it is. Styling, if ever wanted, is given as ``Text`` objects.
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd

    from .apply import ApplyResult
    from .mapping import ColumnMapping
    from .model import User
    from .plan import Plan
    from .read import RawTable
    from .review import Review

__all__ = [
    "PlainConsole",
    "console",
    "kept_issues",
    "person",
    "plain",
    "problem_text",
    "set_quiet",
    "show_issues",
    "show_mapping",
    "show_plan",
    "show_read",
    "show_result",
    "show_users",
    "status",
    "styled",
    "visible",
    "who",
    "write_rejects",
]

#: C0 and C1 control characters but tab and newline, and the bidirectional overrides and
#: isolates, which can make a terminal show text other than what the file holds.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """
    ``text`` with every control character written as its Python escape (``\\x1b``).

    Tab and newline are kept; so is every other character, markup brackets included.
    """
    return _CONTROL.sub(lambda m: ascii(m.group())[1:-1], text)


class PlainConsole(Console):
    """A rich console that renders every string as plain text: see the module docstring."""

    def render_str(self, text: str, **options: Any) -> Text:
        """Make ``text`` a plain Text: no markup, emoji or highlighting; controls escaped."""
        keep = {k: options[k] for k in ("style", "justify", "overflow") if k in options}
        return Text(visible(text), **keep)


#: Whether the command runs quietly (``-q`` or ``--json``): set once per command.
_QUIET = [False]


def set_quiet(quiet: bool) -> None:
    """Make every console made from now on print nothing (``-q``, ``--json``), or print again."""
    _QUIET[0] = quiet


def console(*, stderr: bool = False) -> Console:
    """
    The console for output (plain when not a terminal, so pipes and tests read text).

    Strings given to it are shown literally, never read as markup (see :class:`PlainConsole`).
    It prints nothing while the command runs quietly (:func:`set_quiet`).
    """
    return PlainConsole(
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=True,
        stderr=stderr,
        quiet=_QUIET[0],
    )


def status(out: Console, text: str) -> AbstractContextManager[Any]:
    """
    A spinner with ``text`` while a step runs, on a terminal only.

    Printed to a pipe or a file, rich's status shows nothing (it is transient), so it is not
    made there: that spares loading rich's live display, spinners and emoji table.
    """
    return out.status(text) if out.is_terminal and not out.quiet else nullcontext()


def show_mapping(out: Console, mapping: ColumnMapping) -> None:
    """Print which column feeds which property, and why."""
    table = Table(title="Mapping", show_lines=False)
    for name in ("column", "property", "why"):
        table.add_column(name)
    for m in mapping.matches:
        table.add_row(mapping.label(m.column), m.target, f"{m.method} ({m.score:.2f}): {m.reason}")
    split = mapping.name_split
    if split is not None:
        table.add_row(
            mapping.label(split.column), "last_name, first_name", f"read as {split.describe()}"
        )
    for column in mapping.unmapped:
        table.add_row(mapping.label(column), "-", "not imported")
    out.print(table)
    extras = [f"group separator {mapping.group_separator!r}"]
    if mapping.department_as_group:
        extras.append("department also added as a group")
    out.print("; ".join(extras) + ".")
    for note in mapping.notes:
        out.print(f"Note: {note}")


def kept_issues(review: Review) -> pd.DataFrame:
    """The issues of rows not skipped: a skipped row's problems are no one's errors."""
    issues = review.issues
    skipped = review.rows.index[review.rows["status"] == "skipped"]
    return issues[~issues["row"].isin(skipped)] if len(skipped) else issues


def problem_text(record: Any) -> str:
    """An issue's message without its file/row prefix, in command-line words."""
    from .review import problem_text as text

    return plain(text(record))


def person(review: Review, row: int) -> str:
    """The person on a spreadsheet row: their name, else their email."""
    rows = review.rows
    if row not in rows.index:
        return ""
    r = rows.loc[row]
    name = f"{r.get('first_name', '') or ''} {r.get('last_name', '') or ''}".strip()
    return name or str(r.get("email", "") or "")


def show_issues(out: Console, review: Review, *, limit: int = 50) -> None:
    """
    Print the problems of the rows not skipped: the spreadsheet row, the person on it, the
    column (as headed in the file), the cell's value and the problem.
    """
    issues = kept_issues(review)
    if not len(issues):
        out.print("No problems found.")
        return
    table = Table(title=f"Problems ({len(issues)})")
    for name in ("row", "person", "column", "value", "problem"):
        table.add_column(name)
    for record in issues.head(limit).itertuples():
        value = _json_value(record.value)
        table.add_row(
            str(record.row),
            person(review, int(str(record.row))),
            str(record.column),
            "" if value is None else str(value),
            styled(problem_text(record), "error" if record.severity == "error" else "warning"),
        )
    out.print(table)
    if len(issues) > limit:
        out.print(f"... and {len(issues) - limit} more.")


#: The style of each action, and of what needs a second look (rich styles; shown only on a
#: colour terminal, never with NO_COLOR or when the output is not a terminal).
STYLES = {
    "create": "green",
    "update": "yellow",
    "delete": "bold red",
    "skip": "dim",
    "admin": "bold magenta",
    "error": "bold red",
    "warning": "yellow",
    "blocked": "bold red",
}

#: Library words in messages, and what a person running the command line reads instead.
_PLAIN = (
    ("since admin_rights=False", "since --admin-rights was not given"),
    ("(delete_admins=False)", "(--delete-admins was not given)"),
    ("delete_admins=True (--delete-admins)", "--delete-admins"),
    ("admin_rights=True (--admin-rights)", "--admin-rights"),
    (" (max_deletes); raise max_deletes", "; raise --max-deletes"),
    (" (max_delete_fraction); raise max_delete_fraction", "; raise --max-delete-fraction"),
    ("raise the limit (max_rows=None for none)", "raise it with --max-rows N or none"),
    ("max_rows=None", "--max-rows none"),
    ("delete_admins=False", "without --delete-admins"),
    ("admin_rights=False", "without --admin-rights"),
    ("sqlite+pysqlite:", "sqlite:"),
    ("postgresql+psycopg:", "postgresql:"),
    ("postgresql+psycopg2:", "postgresql:"),
)


def plain(text: str) -> str:
    """``text`` with library names (``delete_admins=False``...) put in command-line words."""
    for old, new in _PLAIN:
        text = text.replace(old, new)
    return text


def styled(text: str, style: str) -> Text:
    """``text`` as plain characters (see :func:`visible`) in a rich ``style``."""
    return Text(visible(text), style=STYLES.get(style, style))


def show_read(out: Console, table: RawTable, header_row: int | None) -> None:
    """Print what was read: the file, sheet, encoding, delimiter, header row and the notes."""
    where = [f"{len(table.rows)} rows"]
    if table.sheet is not None:
        where.append(f"sheet {table.sheet!r}")
    if table.encoding is not None:
        where.append(f"encoding {table.encoding}")
    if table.delimiter is not None:
        where.append(f"delimiter {table.delimiter!r}")
    where.append(
        "no header row" if header_row is None else f"headers on row {table.row_number(header_row)}"
    )
    out.print(f"Read {table.name}: " + ", ".join(where) + ".")
    for note in table.notes:
        out.print(f"Read: {plain(note)}")


def who(user: Any) -> str:
    """A user as a person reads it: name, department and groups (see :func:`plan.who`)."""
    from .plan import who as described

    return described(user)


def show_plan(out: Console, plan: Plan, *, limit: int = 50) -> None:
    """
    Print the summary, warnings, what blocks it, every change (who is created or deleted,
    field: old -> new for updates), and the skipped rows and kept users with their reason.

    Each list stops at ``limit`` and ends with "... and N more".
    """
    summary = plan.summary()
    out.print("Summary: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in summary.items()))
    if plan.new_groups:
        out.print("New groups: " + ", ".join(sorted(plan.new_groups)))
    if plan.new_departments:
        out.print("New departments: " + ", ".join(sorted(plan.new_departments)))
    seen: dict[str, int] = {}
    for warning in plan.warnings:  # at most ``limit`` of each code: a column can flag every row
        seen[warning.code] = seen.get(warning.code, 0) + 1
        if seen[warning.code] <= limit:
            style = "admin" if warning.code == "admin_ignored" else "warning"
            out.print(styled(f"Warning: {plain(warning.message)}", style))
    for code, n in seen.items():
        if n > limit:
            out.print(f"... and {n - limit} more {code} warnings.")
    for reason in plan.blocked:
        out.print(styled(f"Blocked: {plain(reason)}", "blocked"))
    skipped = plan.frame[plan.frame["action"] == "skip"]
    if len(skipped):
        table = Table(title=f"Skipped and kept ({len(skipped)})")
        for name in ("row", "email", "who", "why"):
            table.add_column(name)
        for entry in _entries_of(skipped.head(limit)):
            table.add_row(
                "-" if entry.row is None else str(entry.row),
                entry.email,
                who(entry.before or entry.after),
                plain(entry.reason),
            )
        out.print(table)
        if len(skipped) > limit:
            out.print(f"... and {len(skipped) - limit} more.")
    # Only the entries shown are made: a plan of a million creates shows fifty.
    changing = plan.frame[plan.frame["action"].isin(("create", "update", "delete"))]
    if not len(changing):
        out.print(
            "Nothing can change while the plan is held." if plan.holds else "Nothing to change."
        )
        return
    table = Table(title=f"Changes ({len(changing)})")
    from ._planframe import split_diff

    labels = {f.key: f.label for f in plan.schema.extra}
    for name in ("action", "email", "changes"):
        table.add_column(name)
    for entry in _entries_of(changing.head(limit)):
        style = entry.action
        if entry.action == "update":
            diff = split_diff(entry.diff(), plan.schema.extra)
            detail = "; ".join(
                f"{labels.get(k, k)}: {_text(v[0])} -> {_text(v[1])}" for k, v in diff.items()
            )
            if "is_admin" in diff:
                style = "admin"
        elif entry.action == "create":
            detail = who(entry.after)
            if entry.after is not None and entry.after.is_admin:
                style = "admin"
        else:
            detail = who(entry.before)
            if entry.before is not None and entry.before.is_admin:
                style = "admin"
        table.add_row(styled(entry.action, style), entry.email, detail)
    out.print(table)
    if len(changing) > limit:
        out.print(f"... and {len(changing) - limit} more.")


def _entries_of(frame: Any) -> tuple[Any, ...]:
    from ._planframe import entries

    return entries(frame)


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "(none)"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "(none)"
    return "(none)" if value in (None, "") else str(value)


def write_rejects(path: str, table: RawTable, header_row: int | None, review: Review) -> int:
    """
    Write the rows with errors (not the skipped ones), as read, plus a ``Problems`` column and
    an ``Original row`` column (the row's number in the file read); return how many.
    """
    import csv

    issues = kept_issues(review)
    issues = issues[issues["severity"] == "error"]
    rows = sorted({int(r) for r in issues["row"]})
    problems = {
        row: " | ".join(problem_text(r) for r in group.itertuples())
        for row, group in issues.groupby("row")
    }
    width = table.rows.shape[1]
    header = (
        [str(c) for c in table.rows.iloc[header_row]]
        if header_row is not None
        else [f"Column {i + 1}" for i in range(width)]
    )
    records = [[*header, "Problems", "Original row"]]
    for row in rows:
        cells = [str(c) for c in table.rows.iloc[row - table.first_row]]
        records.append([*cells, str(problems.get(row, "")), str(row)])
    with open(path, "w", newline="", encoding="utf-8-sig") as f:
        csv.writer(f).writerows(records)
    return len(rows)


def show_result(out: Console, result: ApplyResult, undo: Path | None) -> None:
    """Print what applying did, who was not welcomed, and where the undo plan is."""
    out.print(
        f"Applied: {result.created} created, {result.updated} updated, {result.deleted} deleted."
    )
    sent = sum(n.sent for n in result.notifications)
    if result.notifications:
        out.print(f"Welcome emails: {sent} sent, {len(result.not_notified)} failed.")
        for n in result.notifications:
            if not n.sent:
                out.print(f"  not sent to {n.email}: {n.error}")
    if undo is not None:
        out.print(f"Undo plan: {undo}  (userimport undo {undo})")


def show_users(out: Console, users: Sequence[User], *, total: int, limit: int = 50) -> None:
    """Print users (email, name, department, groups, admin), ending with "... and N more"."""
    if not users:
        out.print(f"No users found (the store has {total}).")
        return
    table = Table(title=f"Users ({len(users)} of {total})")
    for name in ("email", "name", "department", "groups", "admin"):
        table.add_column(name)
    for u in users[:limit]:
        table.add_row(
            u.email,
            f"{u.first_name} {u.last_name}".strip(),
            u.department or "",
            ", ".join(sorted(u.groups)),
            "admin" if u.is_admin else "",
        )
    out.print(table)
    if len(users) > limit:
        out.print(f"... and {len(users) - limit} more.")


def issues_json(review: Review) -> list[dict[str, Any]]:
    """The review's issues as JSON-ready records (row: the spreadsheet row)."""
    frame = kept_issues(review)
    keep = [c for c in ("row", "column", "field", "cell", "code", "severity", "value", "message")
            if c in frame.columns]  # fmt: skip
    return [
        {str(k): _json_value(v) for k, v in record.items()}
        for record in frame[keep].to_dict("records")
    ]


def _json_value(value: Any) -> Any:
    """A cell as JSON: text as is, a missing value as None, a numpy scalar as Python's."""
    import pandas as pd

    if value is None or isinstance(value, str):
        return value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value.item() if hasattr(value, "item") else value


def plan_json(plan: Plan) -> dict[str, Any]:
    """The plan as JSON-ready data: summary, warnings, blocked, holds and every entry."""
    import attrs

    return {
        "summary": plan.summary(),
        "new_groups": sorted(plan.new_groups),
        "new_departments": sorted(plan.new_departments),
        "warnings": [attrs.asdict(w) for w in plan.warnings],
        "blocked": list(plan.blocked),
        "holds": list(plan.holds),
        "entries": [
            {
                "action": e.action,
                "email": e.email,
                "row": e.row,
                "reason": e.reason,
                "changed": list(e.changed),
                "before": None if e.before is None else e.before.to_dict(),
                "after": None if e.after is None else e.after.to_dict(),
            }
            for e in _entries_of(plan.frame[plan.frame["action"] != "unchanged"])
        ],
    }


def result_json(result: ApplyResult, undo: Path | None) -> dict[str, Any]:
    """What applying did, as JSON-ready data."""
    return {
        "created": result.created,
        "updated": result.updated,
        "deleted": result.deleted,
        "undo_file": None if undo is None else str(undo),
        "welcome_emails": [
            {"email": n.email, "sent": n.sent, "error": n.error} for n in result.notifications
        ],
    }

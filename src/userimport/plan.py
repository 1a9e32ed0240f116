"""
Stage 5: compare the reviewed file with the store and plan every change, before any is made.

:func:`plan_import` is a pure function of the review, a store snapshot and the settings. The
:class:`Plan` it returns can be inspected (summary, entries, per-field diff, DataFrame, JSON,
HTML) and applied later by :func:`~userimport.apply.apply_plan`.
"""

from __future__ import annotations

import functools
import hashlib
import html
import itertools
import json
import os
import re
from collections.abc import Iterable, Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import attrs

from . import _mirror, _text
from ._namecheck import renamed, similar_names
from ._saved import Reader, content_hash, saved_json, seal
from .errors import PlanError, SettingsError
from .model import (
    USER_COLUMNS,
    ChangeSet,
    ImportSettings,
    Snapshot,
    User,
    _clean_user,
    bulk,
    email_key,
)

if TYPE_CHECKING:
    import pandas as pd

    from .repository import UserRepository
    from .review import Review

__all__ = [
    "ACTIONS",
    "FIELDS",
    "Plan",
    "PlanEntry",
    "PlanWarning",
    "SavedPlan",
    "plan_import",
    "who",
]

Action = Literal["create", "update", "unchanged", "skip", "delete"]

#: Every action a plan entry can have, in the order summaries list them.
ACTIONS: tuple[Action, ...] = ("create", "update", "unchanged", "skip", "delete")

#: The fields of a user an import compares (the email is the identity and never changes).
FIELDS: tuple[str, ...] = USER_COLUMNS[1:]

_FORMAT = "userimport.plan"
_FORMAT_VERSION = 1

#: How many entries :meth:`Plan.write_json` encodes at a time.
_SLICE = 20_000


@attrs.frozen(kw_only=True)
class PlanWarning:
    """
    Something a person should look at before applying.

    Args:
        code: ``similar_name``, ``looks_renamed``, ``admin_ignored``, ``deletion_limit``,
            ``unreadable_email``, ``deleted_looks_like_skipped`` or ``confusable_email`` (a new
            email looks like a stored one; ``suggestion`` is it); see ``docs/planning.md``.
        message: A sentence for a person.
        email: The user concerned, if one (for ``unreadable_email``, the email as written).
        name: The group or department name concerned, if one.
        suggestion: The existing name, or stored user's email, that was probably meant.
        row: The spreadsheet row concerned, if one.

    .. versionchanged:: unreleased
        ``row`` added.
    """

    code: str
    message: str
    email: str | None = None
    name: str | None = None
    suggestion: str | None = None
    row: int | None = None


@attrs.frozen(kw_only=True)
class PlanEntry:
    """
    What the plan does to one user.

    Args:
        action: ``create``, ``update``, ``unchanged``, ``skip`` or ``delete``.
        email: The user's email (the stored spelling for an existing user).
        row: The spreadsheet row the user comes from, or ``None`` (a user only in the store).
        reason: Why, for ``skip`` (and a note for the others).
        changed: The fields that change.
        before: The user as stored now (``None`` for ``create``).
        after: The user after the import (``None`` for ``delete`` and for a skipped row that
            is not in the store).
    """

    action: Action
    email: str
    row: int | None = None
    reason: str = ""
    changed: tuple[str, ...] = ()
    before: User | None = None
    after: User | None = None

    def diff(self) -> dict[str, tuple[Any, Any]]:
        """Field to ``(before, after)`` for each changed field."""
        out: dict[str, tuple[Any, Any]] = {}
        for field in self.changed:
            old = getattr(self.before, field) if self.before else None
            new = getattr(self.after, field) if self.after else None
            out[field] = (_plain(old), _plain(new))
        return out


#: What each action looks like in a notebook: the command line's colours (see cli.md).
_COLOURS = {
    "create": "green",
    "update": "#b58900",
    "delete": "#c00",
    "skip": "gray",
    "admin": "darkmagenta",
    "warning": "#b58900",
}


def _shown(value: Any) -> str:
    """A field's value as text: groups as comma-separated names, nothing as (none)."""
    if isinstance(value, list | tuple | frozenset | set):
        return ", ".join(map(str, value)) or "(none)"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "(none)"
    return "(none)" if value in (None, "") else str(value)


def who(user: User | None) -> str:
    """
    A user as a person reads it: ``Anna Berg; Sales; groups: Oslo; admin``.

    Args:
        user: The user, or ``None`` (then the empty string).
    """
    if user is None:
        return ""
    name = f"{user.first_name} {user.last_name}".strip() or "(no name)"
    parts = [name, user.department or "no department"]
    parts.append("groups: " + (", ".join(sorted(user.groups)) or "none"))
    if user.is_admin:
        parts.append("admin")
    return "; ".join(parts)


def _capped(warnings: Iterable[PlanWarning], limit: int) -> list[str]:
    """The warnings' messages, at most ``limit`` of each code, then one line per code cut."""
    seen: dict[str, int] = {}
    out = []
    for w in warnings:
        seen[w.code] = seen.get(w.code, 0) + 1
        if seen[w.code] <= limit:
            out.append(w.message)
    out += [f"... and {n - limit} more {code} warnings" for code, n in seen.items() if n > limit]
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, frozenset | set | tuple):
        return sorted(value)
    if isinstance(value, Mapping):
        return dict(sorted(value.items()))
    return value


@attrs.frozen(kw_only=True)
class SavedPlan:
    """
    How a plan read by :meth:`Plan.from_json` was saved.

    Args:
        content: The SHA-256 of the saved plan's canonical JSON, its digest left out.
        digest: The HMAC-SHA256 digest the file carried (hex), or ``None``: an unsigned file.
    """

    content: bytes
    digest: str | None = None


def _names(value: Iterable[str]) -> frozenset[str]:
    return frozenset(value)


def _texts(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _warnings(value: Iterable[PlanWarning]) -> tuple[PlanWarning, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True, eq=False)
class Plan:
    """
    Every change an import will make, ready to inspect and apply.

    Args:
        base_version: The store version the plan was made against; applying it to a store at
            another version raises :class:`~userimport.errors.StalePlanError`.
        settings: The settings it was made with.
        frame: One row per user concerned (see :meth:`to_frame`). Never mutated.
        new_groups: Groups the plan creates.
        new_departments: Departments the plan creates.
        remove_groups: Groups the plan deletes (only an undo plan does this).
        remove_departments: Departments the plan deletes (only an undo plan does this).
        warnings: What a person should look at first.
        source: The file the plan comes from, if any.
        holds: Why the file itself forbids applying the plan, whatever the limits (mirror mode
            with an unreadable email, or with no valid row); part of :attr:`blocked`.
        store_users: How many users the store held when the plan was made (``None``: not
            known, as for a plan made from entries); the relative deletion limit counts on it.
        is_undo: The plan undoes an applied one (:meth:`inverse` made it); ``userimport
            undo`` applies only such plans, ``userimport apply`` never.
        store: The store the plan was made for, as a person names it (a URL without its
            password), or ``None``; saved in the file and covered by its digest.
        store_id: A stable id of that store (the command line uses a digest of the store's
            plan secret), or ``None``; saved in the file and covered by its digest.
        saved: Set by :meth:`from_json`: the plan came from a file, so
            :func:`~userimport.apply.apply_plan` checks its digest and never takes its
            settings as permissions. ``None`` for a plan made in this process.
    """

    base_version: str
    settings: ImportSettings
    frame: pd.DataFrame
    new_groups: frozenset[str] = attrs.field(factory=frozenset, converter=_names)
    new_departments: frozenset[str] = attrs.field(factory=frozenset, converter=_names)
    remove_groups: frozenset[str] = attrs.field(factory=frozenset, converter=_names)
    remove_departments: frozenset[str] = attrs.field(factory=frozenset, converter=_names)
    warnings: tuple[PlanWarning, ...] = attrs.field(default=(), converter=_warnings)
    source: str | None = None
    holds: tuple[str, ...] = attrs.field(default=(), converter=_texts)
    store_users: int | None = None
    is_undo: bool = False
    store: str | None = None
    store_id: str | None = None
    saved: SavedPlan | None = None

    # -- counts --------------------------------------------------------------------------

    def summary(self) -> dict[str, int]:
        """How many users each action concerns, and how many groups and departments are new."""
        counts = self.frame["action"].value_counts()
        out: dict[str, int] = {a: int(counts.get(a, 0)) for a in ACTIONS}
        out["new_groups"] = len(self.new_groups)
        out["new_departments"] = len(self.new_departments)
        return out

    @property
    def is_empty(self) -> bool:
        """True when applying the plan would change nothing."""
        # What changeset().is_empty says, without making a User for every change.
        return not (
            self.frame["action"].isin(("create", "update", "delete")).any()
            or self.new_groups
            or self.new_departments
            or self.remove_groups
            or self.remove_departments
        )

    @property
    def blocked(self) -> tuple[str, ...]:
        """Why the plan must not be applied as it is (empty when it may)."""
        reasons = list(self.holds)
        deletes = int((self.frame["action"] == "delete").sum())
        limits = self.settings
        if self.store_users is None:  # no store size: only the absolute limit can be judged
            limits = attrs.evolve(limits, max_delete_fraction=None)
        refusal = limits.deletion_refusal(deletes, self.store_users or 0)
        if refusal:
            reasons.append(refusal)
        return tuple(reasons)

    # -- entries -------------------------------------------------------------------------

    @cached_property
    def entries(self) -> tuple[PlanEntry, ...]:
        """
        Every entry as a :class:`PlanEntry`, made on first use.

        Prefer :meth:`to_frame` for many thousands of entries.
        """
        return _entries(self.frame)

    def changes(self) -> tuple[PlanEntry, ...]:
        """The entries that change the store: ``create``, ``update`` and ``delete``."""
        return self._changes

    @cached_property
    def _changes(self) -> tuple[PlanEntry, ...]:
        f = self.frame
        return _entries(f[f["action"].isin(["create", "update", "delete"])])

    def entry(self, email: str) -> PlanEntry | None:
        """The entry for ``email`` (any case), or ``None``."""
        hits = self.frame.index[self.frame["key"] == email_key(email)]
        if not len(hits):
            return None
        return _entry(self.frame.loc[hits[0]].to_dict())

    def changeset(self) -> ChangeSet:
        """The :class:`~userimport.model.ChangeSet` that applying this plan commits."""
        f = self.frame
        action = f["action"].to_numpy()
        with bulk():
            create = _users(f[action == "create"], "after")
            update = _users(f[action == "update"], "after")
        return ChangeSet(
            create=create,
            update=update,
            delete=tuple(f.loc[action == "delete", "email"]),
            create_groups=self.new_groups,
            create_departments=self.new_departments,
            delete_groups=self.remove_groups,
            delete_departments=self.remove_departments,
        )

    # -- views ---------------------------------------------------------------------------

    def to_frame(self) -> pd.DataFrame:
        """
        The plan as a tidy DataFrame, one row per user.

        Columns: ``action``, ``email``, ``row``, ``reason``, ``changed`` (comma-separated),
        then ``before_<field>`` and ``after_<field>`` for each compared field (groups as
        comma-separated sorted names).
        """
        f = self.frame.drop(columns=["key"]).copy()
        f["changed"] = f["changed"].map(", ".join)
        for side in ("before", "after"):
            col = f"{side}_groups"
            f[col] = f[col].map(lambda g: None if g is None else ", ".join(g))
        return f.reset_index(drop=True)

    def diff(self) -> pd.DataFrame:
        """The per-user field diff: ``email``, ``action``, ``field``, ``before``, ``after``."""
        import pandas as pd

        records = []
        for e in self.entries:
            if e.action == "update":
                fields: Iterable[str] = e.changed
            elif e.action == "create":
                fields = [f for f in FIELDS if getattr(e.after, f)]
            elif e.action == "delete":
                fields = [f for f in FIELDS if getattr(e.before, f)]
            else:
                continue
            for field in fields:
                old = getattr(e.before, field) if e.before else None
                new = getattr(e.after, field) if e.after else None
                records.append(
                    {
                        "email": e.email,
                        "action": e.action,
                        "field": field,
                        "before": _plain(old),
                        "after": _plain(new),
                    }
                )
        return pd.DataFrame(records, columns=["email", "action", "field", "before", "after"])

    def describe(self, *, limit: int = 50) -> str:
        """A plain-text account of the plan: summary, warnings and up to ``limit`` changes."""
        s = self.summary()
        lines = [
            "Plan: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in s.items() if v),
        ]
        if self.new_groups:
            lines.append("New groups: " + ", ".join(sorted(self.new_groups)))
        if self.new_departments:
            lines.append("New departments: " + ", ".join(sorted(self.new_departments)))
        lines += [f"Warning: {w}" for w in _capped(self.warnings, limit)]
        lines += [f"Blocked: {b}" for b in self.blocked]
        for e in self.changes()[:limit]:
            detail = "; ".join(f"{k}: {v[0]!r} -> {v[1]!r}" for k, v in e.diff().items())
            lines.append(f"{e.action:>7} {e.email}" + (f"  ({detail})" if detail else ""))
        more = len(self.changes()) - limit
        if more > 0:
            lines.append(f"... and {more} more changes")
        return "\n".join(lines)

    def __repr__(self) -> str:
        """A short summary: the counts, what is new, warnings, and whether it is blocked."""
        counts = ", ".join(f"{k}={v}" for k, v in self.summary().items())
        parts = [f"source={self.source!r}"] if self.source else []
        parts += [counts, f"warnings={len(self.warnings)}"]
        if self.blocked:
            parts.append(f"blocked={len(self.blocked)}")
        if self.is_undo:
            parts.append("undo")
        return f"Plan({', '.join(parts)})"

    def _repr_html_(self) -> str:
        """
        The plan in a notebook: summary, warnings, blocked, every change (who is created or
        deleted; field: old -> new), the skipped and kept users with their reason; each list
        stops at 50 with "... and N more". Colours mean what they mean in the command line.
        """
        left = ' style="text-align:left"'
        s = self.summary()
        head = "".join(f"<th{left}>{html.escape(k.replace('_', ' '))}</th>" for k in s)
        cells = "".join(f"<td{left}>{v}</td>" for v in s.values())
        parts = [f"<table><tr>{head}</tr><tr>{cells}</tr></table>"]
        parts += [
            f'<p style="color:{_COLOURS["warning"]}"><b>Warning:</b> {html.escape(w)}</p>'
            for w in _capped(self.warnings, 50)
        ]
        parts += [
            f'<p style="color:{_COLOURS["delete"]}"><b>Blocked:</b> {html.escape(b)}</p>'
            for b in self.blocked
        ]
        changes = self.changes()
        rows = []
        for e in changes[:50]:
            colour = _COLOURS[e.action]
            if e.action == "update":
                diff = e.diff()
                detail = "<br>".join(
                    f"{html.escape(k)}: <del>{html.escape(_shown(v[0]))}</del> → "
                    f"<ins>{html.escape(_shown(v[1]))}</ins>"
                    for k, v in diff.items()
                )
                admin = "is_admin" in diff
            else:
                user = e.after if e.action == "create" else e.before
                detail = html.escape(who(user))
                admin = user is not None and user.is_admin
            colour = _COLOURS["admin"] if admin else colour
            rows.append(
                f'<tr><td{left}><span style="color:{colour}"><b>{e.action}</b></span></td>'
                f"<td{left}>{html.escape(e.email)}</td><td{left}>{detail}</td></tr>"
            )
        if rows:
            parts.append(
                f"<table><tr><th{left}>action</th><th{left}>email</th><th{left}>who / changes"
                "</th></tr>" + "".join(rows) + "</table>"
            )
            if len(changes) > 50:
                parts.append(f"<p>... and {len(changes) - 50} more changes</p>")
        skipped = self.frame[self.frame["action"] == "skip"]
        if len(skipped):
            kept = [
                f"<tr><td{left}>{'' if e.row is None else e.row}</td>"
                f"<td{left}>{html.escape(e.email)}</td>"
                f"<td{left}>{html.escape(who(e.before or e.after))}</td>"
                f"<td{left}>{html.escape(e.reason)}</td></tr>"
                for e in _entries(skipped.head(50))
            ]
            parts.append(
                f"<p><b>Skipped and kept ({len(skipped)})</b></p><table><tr><th{left}>row</th>"
                f"<th{left}>email</th><th{left}>who</th><th{left}>why</th></tr>"
                + "".join(kept)
                + "</table>"
            )
            if len(skipped) > 50:
                parts.append(f"<p>... and {len(skipped) - 50} more</p>")
        return "\n".join(parts)

    @classmethod
    def from_entries(
        cls,
        entries: Iterable[PlanEntry],
        *,
        base_version: str,
        settings: ImportSettings | None = None,
        new_groups: Iterable[str] = (),
        new_departments: Iterable[str] = (),
        warnings: Iterable[PlanWarning] = (),
        source: str | None = None,
    ) -> Plan:
        """
        Build a plan from entries made by hand (the single-user actions do this).

        Args:
            entries: What to do to each user.
            base_version: The store version the entries were worked out against.
            settings: The settings the plan is checked against when applied.
            new_groups: Groups to create.
            new_departments: Departments to create.
            warnings: What a person should look at first.
            source: Where the plan comes from, for a person.
        """
        return cls(
            base_version=base_version,
            settings=settings or ImportSettings(),
            frame=_frame(entries),
            new_groups=new_groups,
            new_departments=new_departments,
            warnings=warnings,
            source=source,
        )

    # -- saving --------------------------------------------------------------------------

    def to_json(self, *, indent: int | None = None, secret: bytes | None = None) -> str:
        """
        Serialise the plan; :meth:`from_json` reads it back.

        With ``indent``, the plan's settings are indented and each entry is one line.

        Args:
            indent: Spaces per level, or ``None`` for one line.
            secret: The store's plan secret (:func:`~userimport.repository.plan_secret`):
                the plan then carries a ``digest``, HMAC-SHA256 of its canonical JSON, and
                :func:`~userimport.apply.apply_plan` refuses it if anything in it changes.
                Without it the plan is unsigned, and a store that keeps a secret refuses it.

        Raises:
            PlanError: ``secret`` is given and the plan holds text that is not valid Unicode.
        """
        head = self._saved_head()
        entries = _saved_entries(self.frame)
        if secret is not None:
            try:
                head["digest"] = seal(secret, content_hash({**head, "entries": entries}))
            except ValueError as e:
                raise PlanError(f"cannot sign the plan: {e}") from e
        if indent is None or not entries:
            return json.dumps({**head, "entries": entries}, indent=indent, ensure_ascii=False)
        # The entries go through json's C encoder, one per line: with an indent, json.dumps
        # runs in Python, ten times slower for a plan of many users.
        encode = json.JSONEncoder(ensure_ascii=False).encode
        pad = " " * indent
        lines = ",\n".join(f"{pad}{pad}{encode(e)}" for e in entries)
        opened = json.dumps(head, indent=indent, ensure_ascii=False).removesuffix("\n}")
        return f'{opened},\n{pad}"entries": [\n{lines}\n{pad}]\n}}'

    def write_json(
        self, path: str | os.PathLike[str], *, indent: int = 1, secret: bytes | None = None
    ) -> None:
        """
        Write :meth:`to_json`'s text to the file ``path``, a slice of the entries at a time.

        The file holds the same characters as ``to_json(indent=indent, secret=secret)``
        (UTF-8), but the whole text is never in memory: a plan of a million users is written
        in the memory of its frame and a few thousand entries. The digest, which covers every
        entry, is written in its place at the end.

        Raises:
            PlanError: ``secret`` is given and the plan holds text that is not valid Unicode.
            OSError: The file cannot be written.

        On an error the file is removed: no partial plan is left behind.
        """
        if not len(self.frame):
            Path(path).write_text(self.to_json(indent=indent, secret=secret), encoding="utf-8")
            return
        try:
            self._write_slices(path, indent, secret)
        except BaseException:
            Path(path).unlink(missing_ok=True)
            raise

    def _write_slices(
        self, path: str | os.PathLike[str], indent: int, secret: bytes | None
    ) -> None:
        """:meth:`write_json`'s writing, a slice of entries at a time."""
        head = self._saved_head()
        # The canonical JSON that the digest covers, around its entries.
        canonical = functools.partial(
            json.dumps, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
        before, _, after = canonical({**head, "entries": []}).partition('"entries":[]')
        hasher = hashlib.sha256(f'{before}"entries":['.encode())
        if secret is not None:
            head["digest"] = "0" * 64  # a place of the digest's length, filled in at the end
        pad = " " * indent
        opened = json.dumps(head, indent=indent, ensure_ascii=False).removesuffix("\n}")
        encode = json.JSONEncoder(ensure_ascii=False).encode
        with open(path, "wb") as f:
            f.write(f'{opened},\n{pad}"entries": [\n'.encode())
            digest_at = len(opened.encode()) - 65
            for start in range(0, len(self.frame), _SLICE):
                part = self.frame.iloc[start : start + _SLICE]
                try:
                    spaced, sealed = _saved_lines(part)
                except TypeError:  # a value of another type: json says how it is written
                    entries = _saved_entries(part)
                    spaced, sealed = [encode(e) for e in entries], [canonical(e) for e in entries]
                sep, gap = ("," if start else ""), (",\n" if start else "")
                if secret is not None:
                    try:
                        hasher.update((sep + ",".join(sealed)).encode())
                    except UnicodeEncodeError as e:
                        raise PlanError(
                            "cannot sign the plan: it holds text that is not valid Unicode "
                            "(a lone surrogate)"
                        ) from e
                lines = f",\n{pad}{pad}".join(spaced)
                f.write(f"{gap}{pad}{pad}{lines}".encode())
            f.write(f"\n{pad}]\n}}".encode())
            if secret is not None:
                hasher.update(f"]{after}".encode())
                f.seek(digest_at)
                f.write(seal(secret, hasher.digest()).encode())

    def _saved_head(self) -> dict[str, Any]:
        """Everything :meth:`to_json` writes but the entries and the digest."""
        head: dict[str, Any] = {
            "format": _FORMAT,
            "format_version": _FORMAT_VERSION,
            "base_version": self.base_version,
            "undo": self.is_undo,
            "source": self.source,
            "settings": self.settings.to_dict(),
            "new_groups": sorted(self.new_groups),
            "new_departments": sorted(self.new_departments),
            "remove_groups": sorted(self.remove_groups),
            "remove_departments": sorted(self.remove_departments),
            "warnings": [attrs.asdict(w) for w in self.warnings],
            "holds": list(self.holds),
            "store_users": self.store_users,
        }
        # Written only when known, so plans made without them read as before.
        if self.store is not None:
            head["store"] = self.store
        if self.store_id is not None:
            head["store_id"] = self.store_id
        return head

    @classmethod
    def from_json(cls, text: str | bytes) -> Plan:
        """
        Read a plan saved by :meth:`to_json`, checking every value's type strictly.

        Booleans must be JSON booleans, numbers finite whole numbers where a count or row is
        meant, lists lists of text; an entry's ``before`` and ``after`` carry the entry's own
        email (an entry never changes an email); a ``create`` names one valid address (the
        rule :func:`~userimport.validation.validate` applies); ``changed`` lists exactly the
        fields an ``update`` changes. Whether ``before`` is the user as stored, and whether
        the digest is right, is checked by :func:`~userimport.apply.apply_plan`, which has the
        store. See ``docs/applying.md``.

        Raises:
            PlanError: The text is not a saved plan, or any value in it is malformed (the
                message names the entry and the field).
        """
        import pandas as pd

        data = saved_json(text, kind="plan", fmt=_FORMAT, version=_FORMAT_VERSION, error=PlanError)
        r = Reader(PlanError, "plan")
        r.object(data, "the plan", _HEAD, _OPTIONAL)
        digest = r.maybe_text(data.pop("digest", None), "digest")
        if digest is not None and not _HEX64.fullmatch(digest):
            r.fail("digest", "must be 64 hexadecimal digits")
        try:
            content = content_hash(data)
        except ValueError as e:
            raise PlanError(f"cannot read the saved plan: {e}") from e
        warnings = [
            _read_warning(r, w, f"warning {i + 1}")
            for i, w in enumerate(_list(r, data["warnings"], "warnings"))
        ]
        columns = _read_entries(r, data["entries"])
        with bulk():
            frame = pd.DataFrame(columns, columns=list(_COLUMNS), dtype=object)
        return cls(
            base_version=r.text(data["base_version"], "base_version"),
            settings=_read_settings(r, data["settings"]),
            frame=frame,
            new_groups=r.texts(data["new_groups"], "new_groups"),
            new_departments=r.texts(data["new_departments"], "new_departments"),
            remove_groups=r.texts(data["remove_groups"], "remove_groups"),
            remove_departments=r.texts(data["remove_departments"], "remove_departments"),
            warnings=warnings,
            source=r.maybe_text(data.get("source"), "source"),
            holds=r.texts(data.get("holds", []), "holds"),
            store_users=r.maybe_whole(data.get("store_users"), "store_users"),
            is_undo=r.flag(data.get("undo", False), "undo"),
            store=r.maybe_text(data.get("store"), "store"),
            store_id=r.maybe_text(data.get("store_id"), "store_id"),
            saved=SavedPlan(content=content, digest=digest),
        )

    def inverse(self, *, base_version: str) -> Plan:
        """
        The plan that undoes this one once it has been applied (the store at ``base_version``).

        Created users are deleted, updated ones get their old fields back, deleted ones come
        back with their groups, and groups and departments the plan created are removed.
        """
        action = self.frame["action"].to_numpy()
        f = self.frame[(action == "create") | (action == "update") | (action == "delete")]
        sides = {"before_": "after_", "after_": "before_"}
        flipped = f.rename(
            columns={f"{a}{field}": f"{b}{field}" for a, b in sides.items() for field in FIELDS}
        )[list(_COLUMNS)]
        flipped["action"] = f["action"].map(
            {"create": "delete", "delete": "create", "update": "update"}
        )
        flipped["reason"] = "undo"
        undo_settings = attrs.evolve(
            self.settings,
            max_deletes=None,
            max_delete_fraction=None,
            delete_admins=True,
            admin_rights=True,
            send_welcome_email=False,
        )
        return Plan(
            base_version=base_version,
            settings=undo_settings,
            frame=flipped.reset_index(drop=True),
            new_groups=self.remove_groups,
            new_departments=self.remove_departments,
            remove_groups=self.new_groups,
            remove_departments=self.new_departments,
            source=f"undo of {self.source}" if self.source else "undo",
            is_undo=True,
        )


# -- the frame behind a plan -----------------------------------------------------------

_COLUMNS = (
    "action",
    "email",
    "key",
    "row",
    "reason",
    "changed",
    *(f"{side}_{f}" for side in ("before", "after") for f in FIELDS),
)


# -- reading a saved plan --------------------------------------------------------------

#: The keys every saved plan has, and those a plan may have (older files lack some).
_HEAD = (
    "format",
    "format_version",
    "base_version",
    "settings",
    "new_groups",
    "new_departments",
    "remove_groups",
    "remove_departments",
    "warnings",
    "entries",
)
_OPTIONAL = ("source", "holds", "store_users", "undo", "digest", "store", "store_id")
_ENTRY = frozenset(("action", "email", "row", "reason", "changed", "before", "after"))
_HEX64 = re.compile("[0-9a-f]{64}")
#: Per action, whether an entry has a ``before`` and an ``after`` (``None``: either way).
_SHAPES: dict[str, tuple[bool | None, bool | None]] = {
    "create": (False, True),
    "update": (True, True),
    "delete": (True, False),
    "unchanged": (True, True),
    "skip": (None, None),
}


def _list(r: Reader, value: Any, where: str) -> list[Any]:
    if type(value) is not list:
        r.fail(where, "must be a list")
    return value


def _read_warning(r: Reader, value: Any, where: str) -> PlanWarning:
    """A saved warning: PlanWarning's fields, text where the field is text."""
    fields = attrs.fields(PlanWarning)
    required = [a.name for a in fields if a.default is attrs.NOTHING]
    data = r.object(value, where, required, [a.name for a in fields])
    for a in fields:
        kind = str(a.type)  # an annotation string, under postponed evaluation
        if a.name in data and kind in ("str", "str | None"):
            check = r.text if kind == "str" else r.maybe_text
            check(data[a.name], f"{where}.{a.name}")
    try:
        return PlanWarning(**data)
    except (TypeError, ValueError) as e:
        r.fail(where, f"is wrong: {e}")


def _read_settings(r: Reader, value: Any) -> ImportSettings:
    """The plan's settings: known names only, booleans as JSON booleans."""
    fields = attrs.fields(ImportSettings)
    data = r.object(value, "settings", (), [a.name for a in fields])
    for a in fields:
        if a.name in data and isinstance(a.default, bool):
            r.flag(data[a.name], f"settings.{a.name}")
    try:
        return ImportSettings.from_dict(data)
    except SettingsError as e:
        r.fail("settings", f"are wrong: {e}")


def _read_entries(r: Reader, value: Any) -> dict[str, list[Any]]:
    """The plan frame's columns from saved entries, each value checked (see from_json)."""
    import pandas as pd

    from .validation import email_is_valid

    entries = _list(r, value, "entries")
    n = len(entries)
    cols: dict[str, list[Any]] = {c: [None] * n for c in _COLUMNS}
    action_col, email_col, key_col = cols["action"], cols["email"], cols["key"]
    row_col, reason_col, changed_col = cols["row"], cols["reason"], cols["changed"]
    sides = [[cols[f"{side}_{f}"] for f in FIELDS] for side in ("before", "after")]
    known = frozenset(FIELDS)
    creates: list[int] = []
    for i, e in enumerate(entries):
        where = f"entry {i + 1}"
        if type(e) is not dict or e.keys() != _ENTRY:
            r.object(e, where, _ENTRY)
        action, email = e["action"], e["email"]
        if type(action) is not str or action not in _SHAPES:
            r.fail(f"{where}.action", f"must be one of {', '.join(ACTIONS)}")
        if type(email) is not str:
            r.text(email, f"{where}.email")
        where = f"entry {i + 1} ({action} {email[:60]!r})"
        changed = r.texts(e["changed"], f"{where}.changed")
        if not known.issuperset(changed) or len(set(changed)) != len(changed):
            r.fail(f"{where}.changed", f"must name distinct fields of {', '.join(FIELDS)}")
        users: list[tuple[Any, ...] | None] = []
        for side, values, needed in zip(("before", "after"), sides, _SHAPES[action], strict=True):
            raw = e[side]
            if raw is None:
                if needed:
                    r.fail(f"{where}.{side}", f"is needed for {action}")
                users.append(None)
                continue
            if needed is False:
                r.fail(f"{where}.{side}", f"must be null for {action}")
            user = r.user(raw, f"{where}.{side}", email)
            for column, v in zip(values, user, strict=True):
                column[i] = v
            users.append(user)
        before, after = users
        if action == "skip" and after is not None and before is None:
            r.fail(f"{where}.after", "must be null for a skip of a user not in the store")
        if action == "update":
            assert before is not None
            assert after is not None
            differ = [f for f, b, a in zip(FIELDS, before, after, strict=True) if b != a]
            if changed != differ:
                r.fail(f"{where}.changed", f"must list the fields that change: {differ}")
        elif changed:
            r.fail(f"{where}.changed", f"must be empty for {action}")
        elif action == "create":
            creates.append(i)
        action_col[i] = action
        email_col[i] = email
        key_col[i] = email_key(email)
        row_col[i] = r.maybe_whole(e["row"], f"{where}.row")
        reason_col[i] = r.text(e["reason"], f"{where}.reason")
        changed_col[i] = tuple(changed)
    if creates:
        new = pd.Series([email_col[i] for i in creates], dtype=object)
        bad = ~email_is_valid(new).to_numpy(dtype=bool)
        if bad.any():
            i = creates[int(bad.argmax())]
            r.fail(
                f"entry {i + 1} (create).email",
                f"{email_col[i][:80]!r} is not one valid email address",
            )
    return cols


def _user_at(rec: Mapping[str, Any], side: str, email: str) -> User | None:
    """The user on one side of a plan row (its values are in normal form), or ``None``."""
    if rec[f"{side}_first_name"] is None:
        return None
    return _clean_user(email, *(rec[f"{side}_{f}"] for f in FIELDS))


def _saved_entries(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The entries as :meth:`Plan.to_json` writes them (``User.to_dict`` for each side)."""
    cols = list(_COLUMNS)
    n = len(FIELDS)

    def user(email: str, values: tuple[Any, ...]) -> dict[str, Any] | None:
        first, last, department, groups, is_admin, attributes = values
        if first is None:
            return None
        return {
            "email": email,
            "first_name": first,
            "last_name": last,
            "department": department or None,
            "groups": sorted(groups),
            "is_admin": bool(is_admin),
            "attributes": dict(sorted(attributes.items())),
        }

    with bulk():
        return [
            {
                "action": row[0],
                "email": row[1],
                "row": None if row[3] is None or row[3] != row[3] else int(row[3]),
                "reason": row[4],
                "changed": list(row[5]),
                "before": user(row[1], row[6 : 6 + n]),
                "after": user(row[1], row[6 + n :]),
            }
            for row in frame[cols].itertuples(index=False, name=None)
        ]


def _saved_lines(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """
    The entries of :func:`_saved_entries` as JSON text, made straight from the columns: each
    as :meth:`Plan.to_json` writes it, and in canonical form (sorted keys, no spaces).

    The same characters as json.dumps of those entries (a property test holds them to it),
    at a fraction of the cost: no dict per entry, each value encoded by json's C string
    encoder, repeated groups once. (Joining the pieces with NumPy, a column at a time, was
    slower: each join copies every string made so far.)

    Raises:
        TypeError: A value that is not of its column's type (the caller then encodes the
            entries with json).
    """
    text = json.encoder.encode_basestring  # json.dumps(str, ensure_ascii=False), in C
    seen: dict[Any, tuple[str, str]] = {}

    def names(value: tuple[str, ...]) -> tuple[str, str]:
        """A tuple of names as a JSON list (sorted), spaced and canonical."""
        found = seen.get(value)
        if found is None:
            items = [text(v) for v in sorted(value)]
            found = seen[value] = (f"[{', '.join(items)}]", f"[{','.join(items)}]")
        return found

    def mapping(value: dict[str, str]) -> tuple[str, str]:
        if not value:
            return "{}", "{}"
        items = sorted(value.items())
        return (
            "{" + ", ".join(f"{text(k)}: {text(v)}" for k, v in items) + "}",
            "{" + ",".join(f"{text(k)}:{text(v)}" for k, v in items) + "}",
        )

    def user(
        email: str, first: Any, last: Any, dep: Any, groups: Any, admin: Any, attrs_: Any
    ) -> tuple[str, str]:
        if first is None:
            return "null", "null"
        e, f, la = text(email), text(first), text(last)
        d = text(dep) if dep else "null"
        g, gc = names(groups)
        a = "true" if admin else "false"
        t, tc = mapping(attributes_of(attrs_))
        return (
            f'{{"email": {e}, "first_name": {f}, "last_name": {la}, "department": {d}, '
            f'"groups": {g}, "is_admin": {a}, "attributes": {t}}}',
            f'{{"attributes":{tc},"department":{d},"email":{e},"first_name":{f},'
            f'"groups":{gc},"is_admin":{a},"last_name":{la}}}',
        )

    def attributes_of(value: Any) -> dict[str, str]:
        if not isinstance(value, dict):
            raise TypeError(f"attributes {value!r} are not a dict")
        return value

    n = len(FIELDS)
    none = ("null", "null")
    spaced, canonical = [], []
    columns = [frame[c].to_numpy(dtype=object) for c in _COLUMNS]
    for row in zip(*columns, strict=True):
        action, email, reason = text(row[0]), text(row[1]), text(row[4])
        number = row[3]
        r = "null" if number is None or number != number else str(int(number))
        changed = [text(v) for v in row[5]]
        c, cc = f"[{', '.join(changed)}]", f"[{','.join(changed)}]"
        b, bc = none if row[6] is None else user(row[1], *row[6 : 6 + n])
        a, ac = none if row[6 + n] is None else user(row[1], *row[6 + n :])
        spaced.append(
            f'{{"action": {action}, "email": {email}, "row": {r}, "reason": {reason}, '
            f'"changed": {c}, "before": {b}, "after": {a}}}'
        )
        canonical.append(
            f'{{"action":{action},"after":{ac},"before":{bc},"changed":{cc},"email":{email},'
            f'"reason":{reason},"row":{r}}}'
        )
    return spaced, canonical


def _entries(frame: pd.DataFrame) -> tuple[PlanEntry, ...]:
    """The rows of a plan frame as entries."""
    cols = list(_COLUMNS)
    rows = frame[cols].itertuples(index=False, name=None)
    with bulk():
        return tuple(_entry(dict(zip(cols, row, strict=True))) for row in rows)


def _entry(rec: Mapping[str, Any]) -> PlanEntry:
    row = rec["row"]
    return PlanEntry(
        action=rec["action"],
        email=rec["email"],
        row=None if row is None or row != row else int(row),
        reason=rec["reason"],
        changed=tuple(rec["changed"]),
        before=_user_at(rec, "before", rec["email"]),
        after=_user_at(rec, "after", rec["email"]),
    )


def _users(frame: pd.DataFrame, side: str) -> tuple[User, ...]:
    """The users of one side of ``frame`` (rows without that side left out)."""
    cols = ["email", *(f"{side}_{f}" for f in FIELDS)]
    rows = frame[cols].itertuples(index=False, name=None)
    return tuple(_clean_user(*row) for row in rows if row[1] is not None)


def _frame(entries: Iterable[PlanEntry]) -> pd.DataFrame:
    """Build a plan frame from entries (used by ``from_json``)."""
    import pandas as pd

    records = []
    for e in entries:
        rec: dict[str, Any] = {
            "action": e.action,
            "email": e.email,
            "key": email_key(e.email),
            "row": e.row,
            "reason": e.reason,
            "changed": e.changed,
        }
        for side, user in (("before", e.before), ("after", e.after)):
            for field in FIELDS:
                value: Any = getattr(user, field) if user else None
                if field == "groups" and user:
                    value = tuple(sorted(user.groups))
                elif field == "attributes" and user:
                    value = dict(user.attributes)
                rec[f"{side}_{field}"] = value
        records.append(rec)
    return pd.DataFrame(records, columns=list(_COLUMNS), dtype=object)


# -- planning --------------------------------------------------------------------------


def _attributes(frame: pd.DataFrame) -> list[dict[str, str]] | None:
    """Each row's non-empty ``attributes.*`` cells as a dict; ``None`` when none are mapped."""
    cols = [c for c in frame.columns if c.startswith("attributes.")]
    if not cols:
        return None
    names = [c[len("attributes.") :] for c in cols]
    values = frame[cols].to_numpy(dtype=object)
    return [{n: v for n, v in zip(names, row, strict=True) if v} for row in values]


def _objects(values: Any, n: int) -> Any:
    """A plan column: an object array of ``n`` values (tuples and dicts kept whole)."""
    import numpy as np

    if values is None:
        return np.full(n, None, dtype=object)
    if hasattr(values, "to_numpy"):
        return values.to_numpy(dtype=object)
    if isinstance(values, str | bool | np.bool_):
        return np.full(n, values, dtype=object)
    if isinstance(values, np.ndarray):
        return values.astype(object, copy=False)
    return np.fromiter(values, dtype=object, count=n)


def _changed_fields(flags: Any) -> Any:
    """Each row's changed fields as a tuple, from a rows x FIELDS boolean matrix."""
    import numpy as np

    codes = flags.astype(np.int64) @ (1 << np.arange(len(FIELDS), dtype=np.int64))
    unique, inverse = np.unique(codes, return_inverse=True)
    names = np.empty(len(unique), dtype=object)
    for i, code in enumerate(unique.tolist()):
        names[i] = tuple(f for bit, f in enumerate(FIELDS) if code >> bit & 1)
    return names[inverse.reshape(-1)]


def plan_import(
    review: Review,
    repository: UserRepository | Snapshot,
    settings: ImportSettings | None = None,
) -> Plan:
    """
    Plan the import of ``review`` into the store, changing nothing.

    Rows with errors and skipped rows are not imported, but their emails count as present in
    the file, so mirror mode never deletes those users. In mirror mode, a row that is not
    skipped whose email cannot be read, or a file with no valid row, holds the plan: it deletes
    nobody, :attr:`Plan.holds` says why (naming the stored users a broken row may be), and
    :func:`~userimport.apply.apply_plan` refuses it. The semantics of every setting are in
    ``docs/planning.md``.

    Args:
        review: The reviewed file.
        repository: The store (its snapshot is taken once), or a snapshot.
        settings: The import settings (default settings when ``None``).

    Returns:
        The plan, recording the store version it was made against and the store's size
        (:attr:`Plan.store_users`, for the relative deletion limit).
    """
    import numpy as np
    import pandas as pd
    import pyarrow.compute as pc

    settings = settings or ImportSettings()
    snap = repository if isinstance(repository, Snapshot) else repository.snapshot()
    store = snap.frame
    rows = review.checked.rows
    mapping = review.mapping
    # email_key of each row: validation left the emails trimmed and in NFC.
    folded = _text.lower(rows["email"])
    # Where each row's user is in the store (-1: not there): one hash join, in Arrow.
    found = pc.index_in(_text.arrow(folded), value_set=snap._key_array)
    at = np.where((folded != "").to_numpy(), pc.fill_null(found, -1).to_numpy(), -1)
    at = at.astype("int64")
    stored_keys = store.index.to_numpy(dtype=object)

    def keys(flag: Any) -> Any:
        """The keys of the flagged rows: the store's own strings for users it holds."""
        out = folded[flag].to_numpy(dtype=object)
        known = at[flag] >= 0
        out[known] = stored_keys[at[flag][known]]
        return out

    status = rows["status"].to_numpy(dtype=object)

    parts: list[dict[str, Any]] = []

    def part(
        action: Any,
        *,
        email: Any,
        key: Any,
        row: Any,
        reason: Any,
        before: pd.DataFrame | None,
        after: Mapping[str, Any] | pd.DataFrame | None,
        changed: Any = None,
    ) -> None:
        n = len(email)
        if n == 0:
            return
        data: dict[str, Any] = {
            "action": _objects(action, n),
            "email": _objects(email, n),
            "key": _objects(key, n),
            "row": _objects(pd.Series(row), n),
            "reason": _objects(reason, n),
            "changed": _objects(itertools.repeat((), n) if changed is None else changed, n),
        }
        for side, src in (("before", before), ("after", after)):
            for field in FIELDS:
                data[f"{side}_{field}"] = _objects(None if src is None else src[field], n)
        parts.append(data)

    # Rows not imported: errors, or skipped by the reviewer.
    not_valid = status != "valid"
    for in_store in (True, False) if not_valid.any() else ():
        flag = not_valid & ((at >= 0) == in_store)
        sel = rows[flag]
        before = _normalise(store.take(at[flag])) if in_store else None
        part(
            "skip",
            email=before["email"] if before is not None else sel["email"],
            key=keys(flag),
            row=sel.index,
            reason=np.where(sel["status"] == "skipped", "skipped in review", "row has errors"),
            before=before,
            after=None,
        )

    valid = status == "valid"
    exists = valid & (at >= 0)
    admin_mapped = "is_admin" in rows.columns
    groups_mapped = bool(mapping.group_columns) or mapping.department_as_group
    warnings: list[PlanWarning] = []
    holds: list[str] = []

    # New users.
    creating = valid & (at < 0)
    new = rows[creating]
    file_admin = new["is_admin"] if admin_mapped and settings.admin_rights else False
    if admin_mapped and not settings.admin_rights:
        warnings += _admin_ignored(new["email"][new["is_admin"].to_numpy(dtype=bool)], "grant")
    part(
        "create",
        email=new["email"],
        key=folded[creating],
        row=new.index,
        reason="",
        before=None,
        after={
            "first_name": _text.objects(new["first_name"]),
            "last_name": _text.objects(new["last_name"]),
            "department": _text.objects(new["department"]),
            "groups": new["groups"],
            "is_admin": np.broadcast_to(np.asarray(file_admin, dtype=bool), len(new)).copy(),
            "attributes": _attributes(new) or [{} for _ in range(len(new))],
        },
    )

    warnings += _lookalikes(new["email"], folded[creating], snap)

    # Existing users.
    old = rows[exists]
    before = _normalise(store.take(at[exists]))
    if settings.on_existing == "skip":
        part(
            "skip",
            email=before["email"],
            key=stored_keys[at[exists]],
            row=old.index,
            reason="exists (on_existing='skip')",
            before=before,
            after=before,
        )
    elif len(old):
        after = _updated(old, before, settings=settings, groups_mapped=groups_mapped)
        if admin_mapped and not settings.admin_rights:
            wanted = old["is_admin"].to_numpy(dtype=bool)
            stored = before["is_admin"].to_numpy(dtype=bool)
            warnings += _admin_ignored(before["email"][wanted & ~stored], "grant")
            warnings += _admin_ignored(before["email"][~wanted & stored], "revoke")
        flags = np.column_stack([_differs(before[f], after[f]) for f in FIELDS])
        part(
            np.where(flags.any(axis=1), "update", "unchanged"),
            email=before["email"],
            key=stored_keys[at[exists]],
            row=old.index,
            reason="",
            before=before,
            after=after,
            changed=_changed_fields(flags),
        )

    # Users of the store missing from the file (mirror mode).
    if settings.delete_missing:
        absent = np.ones(len(store), dtype=bool)
        absent[at[at >= 0]] = False
        missing = _normalise(store[absent])
        protected = missing["is_admin"].to_numpy(dtype=bool) & (not settings.delete_admins)
        holds, found = _mirror.guard(rows, review.report.frame, missing[~protected])
        warnings += found
        for flag, action, reason in (
            (~protected, "skip", "not in the file: kept, the plan is held (see plan.blocked)")
            if holds
            else (~protected, "delete", "not in the file (delete_missing=True)"),
            (protected, "skip", "admin, not in the file: kept (delete_admins=False)"),
        ):
            sel = missing[flag]
            part(
                action,
                email=sel["email"],
                key=sel.index,
                row=[None] * len(sel),
                reason=reason,
                before=sel,
                after=None,
            )

    frame = (
        # One copy of every column into the frame: no frame per part, no concat of frames.
        pd.DataFrame(
            {c: np.concatenate([p[c] for p in parts]) for c in _COLUMNS},
            columns=list(_COLUMNS),
            dtype=object,
            copy=False,
        )
        if parts
        else pd.DataFrame({c: pd.Series(dtype=object) for c in _COLUMNS})
    )
    actions = frame["action"].to_numpy()
    touched = (actions == "create") | (actions == "update")
    named_groups = set(itertools.chain.from_iterable(frame["after_groups"].to_numpy()[touched]))
    new_groups = frozenset(named_groups - snap.groups)
    named_departments = set(frame["after_department"].to_numpy()[touched].tolist()) - {"", None}
    new_departments = frozenset(named_departments - snap.departments)
    warnings += similar_names(new_groups, snap.groups, "group")
    warnings += similar_names(new_departments, snap.departments, "department")
    warnings += renamed(frame)
    refusal = settings.deletion_refusal(int((actions == "delete").sum()), len(snap))
    if refusal:
        warnings.append(PlanWarning(code="deletion_limit", message=refusal))
    return Plan(
        base_version=snap.version,
        settings=settings,
        frame=frame,
        new_groups=new_groups,
        new_departments=new_departments,
        warnings=warnings,
        source=review.path,
        holds=holds,
        store_users=len(snap),
    )


def _admin_ignored(emails: pd.Series, change: str) -> list[PlanWarning]:
    """One ``admin_ignored`` warning per user whose admin rights the file would change."""
    what = "make {} an admin" if change == "grant" else "take admin rights from {}"
    return [
        PlanWarning(
            code="admin_ignored",
            message=f"the file would {what.format(email)}; ignored, since admin_rights=False",
            email=email,
        )
        for email in emails.tolist()
    ]


def _lookalikes(emails: pd.Series, keys: pd.Series, snap: Snapshot) -> list[PlanWarning]:
    """
    A warning for each new email whose confusable skeleton (UTS #39) is a stored user's, when
    one of the two is not ASCII (``pаul@`` with a Cyrillic ``а`` against a stored ``paul@``,
    or the other way round).

    Cheap for plain files: skeletons are made only for new emails that are not ASCII (held
    against every stored key) and, when the store holds keys that are not ASCII, for the new
    emails held against those few.
    """
    from . import _email

    if not len(keys):
        return []
    import numpy as np
    import pyarrow.compute as pc

    found: dict[int, str] = {}  # position among the new rows -> stored key

    def match(at: Any, query: Any, stored: tuple[Any, Any]) -> None:
        """Record, for the new rows ``at``, the stored key whose skeleton is ``query``'s."""
        hit = pc.index_in(_text.arrow(query), value_set=stored[1])
        where = pc.is_valid(hit).to_numpy(zero_copy_only=False)
        if where.any():
            held = stored[0].take(hit.filter(pc.is_valid(hit))).to_pylist()
            for i, key in zip(np.asarray(at)[where].tolist(), held, strict=True):
                found.setdefault(i, key)

    mine = _text.non_ascii(keys)
    if mine.any():  # new keys that are not ASCII, against every stored key
        match(mine.nonzero()[0], _email.skeletons(keys[mine]), snap._skeletons)
    if len(snap._foreign_skeletons[0]):  # every new key against stored keys not ASCII
        match(np.arange(len(keys)), _email.skeletons(keys), snap._foreign_skeletons)
    out = []
    for at, key in sorted(found.items()):
        email = str(emails.iloc[at])
        existing = str(snap.frame.at[key, "email"])
        out.append(
            PlanWarning(
                code="confusable_email",
                message=f"the new email {email} looks like the stored {existing} (their "
                "letters look alike); check it is not the same person before creating it",
                email=email,
                suggestion=existing,
            )
        )
    return out


def _normalise(store: pd.DataFrame | None) -> Any:
    """Store rows in plan form: department ``None`` when empty."""
    if store is None:
        return None
    return store.assign(department=store["department"].where(store["department"] != "", None))


def _differs(before: Any, after: Any) -> Any:
    """Element-wise ``!=`` of two object columns (tuples and dicts compare by value)."""
    import numpy as np

    return np.asarray(_array(before) != _array(after), dtype=bool)


def _array(values: Any) -> Any:
    """The values of a column as a NumPy array (object for text), without copying one."""
    import numpy as np

    return values.to_numpy() if hasattr(values, "to_numpy") else np.asarray(values)


def _updated(
    old: pd.DataFrame,
    before: pd.DataFrame,
    *,
    settings: ImportSettings,
    groups_mapped: bool,
) -> dict[str, Any]:
    """The after-state of existing users (column arrays) from the file's non-empty cells."""
    import numpy as np

    after = {f: _array(before[f]) for f in FIELDS}
    for field in ("first_name", "last_name", "department"):
        file = _text.objects(old[field])
        stored = after[field]
        take = (file != "") & (file != stored)
        if take.any():  # else the stored column is shared, not copied
            changed = stored.copy()
            changed[take] = file[take]
            after[field] = changed
    if groups_mapped:
        file_groups = old["groups"].to_numpy(dtype=object)
        if settings.groups == "replace":
            after["groups"] = file_groups
        else:
            # Both sides are sorted tuples: only users whose groups differ need the union.
            stored = after["groups"]
            merged = stored.copy()
            for i in np.flatnonzero(file_groups != stored).tolist():
                f, b = set(file_groups[i]), set(stored[i])
                if not f <= b:
                    merged[i] = tuple(sorted(b | f))
            after["groups"] = merged
    if "is_admin" in old.columns and settings.admin_rights:
        after["is_admin"] = old["is_admin"].to_numpy(dtype=bool)
    file_attrs = _attributes(old)
    if file_attrs is not None and any(file_attrs):
        merged_attrs = np.empty(len(old), dtype=object)
        merged_attrs[:] = [
            {**b, **f} if f else b for f, b in zip(file_attrs, after["attributes"], strict=True)
        ]
        after["attributes"] = merged_attrs
    return after

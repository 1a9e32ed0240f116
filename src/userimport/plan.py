"""
Stage 5: compare the reviewed file with the store and plan every change, before any is made.

:func:`plan_import` is a pure function of the review, a store snapshot and the settings. The
:class:`Plan` it returns can be inspected (summary, entries, per-field diff, DataFrame, JSON,
HTML) and applied later by :func:`~userimport.apply.apply_plan`.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from . import _planparts
from ._namecheck import renamed, similar_names
from ._planframe import (
    ACTIONS,
    COLUMNS,
    FIELDS,
    PlanEntry,
    PlanWarning,
    declared_columns,
    entries,
    entry,
    frame_of,
    plain,
    split_diff,
    user_columns,
)
from ._plansaved import (
    HEAD,
    HEX64,
    OPTIONAL,
    as_list,
    read_entries,
    read_settings,
    read_warning,
)
from ._planwrite import hashing, slice_json
from ._saved import Reader, content_hash, saved_json, seal
from .errors import PlanError
from .fields import DEFAULT_SCHEMA, UserSchema
from .model import ChangeSet, ImportSettings, Snapshot, User, bulk, email_key

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

_FORMAT = "userimport.plan"
_FORMAT_VERSION = 1

#: How many entries :meth:`Plan.write_json` encodes at a time.
_SLICE = 20_000


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
        schema: The user fields (:mod:`userimport.fields`): each declared field is a diff
            column of its own in :meth:`to_frame`, :meth:`diff` and the HTML view. Not saved
            (a declared field's value is kept in ``attributes``): :meth:`from_json` takes it.
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
    schema: UserSchema = attrs.field(default=DEFAULT_SCHEMA, repr=False)

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
        return entries(self.frame)

    def changes(self) -> tuple[PlanEntry, ...]:
        """The entries that change the store: ``create``, ``update`` and ``delete``."""
        return self._changes

    @cached_property
    def _changes(self) -> tuple[PlanEntry, ...]:
        f = self.frame
        return entries(f[f["action"].isin(["create", "update", "delete"])])

    def entry(self, email: str) -> PlanEntry | None:
        """The entry for ``email`` (any case), or ``None``."""
        hits = self.frame.index[self.frame["key"] == email_key(email)]
        if not len(hits):
            return None
        return entry(self.frame.loc[hits[0]].to_dict())

    def changeset(self) -> ChangeSet:
        """The :class:`~userimport.model.ChangeSet` that applying this plan commits."""
        f = self.frame
        action = f["action"].to_numpy()
        # Column by column: a User for each row is made only if someone asks for one (a
        # store that writes in bulk reads the columns).
        return ChangeSet._from_columns(
            user_columns(f, action == "create"),
            user_columns(f, action == "update"),
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
        comma-separated sorted names), then ``before_<key>`` and ``after_<key>`` for each
        field declared in :attr:`schema` (its value, also in the ``attributes`` columns).
        ``changed`` names a declared field by its key, and ``attributes`` only when an
        undeclared attribute changes.
        """
        f = declared_columns(self.frame.drop(columns=["key"]).copy(), self.schema.extra)
        f["changed"] = f["changed"].map(", ".join)
        for side in ("before", "after"):
            col = f"{side}_groups"
            f[col] = f[col].map(lambda g: None if g is None else ", ".join(g))
        return f.reset_index(drop=True)

    def diff(self) -> pd.DataFrame:
        """
        The per-user field diff: ``email``, ``action``, ``field``, ``before``, ``after``.

        A field declared in :attr:`schema` is a ``field`` of its own (its key); ``attributes``
        holds only the undeclared attributes.
        """
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
            diff = {
                field: (
                    plain(getattr(e.before, field) if e.before else None),
                    plain(getattr(e.after, field) if e.after else None),
                )
                for field in fields
            }
            for field, (old, new) in split_diff(diff, self.schema.extra).items():
                records.append(
                    {
                        "email": e.email,
                        "action": e.action,
                        "field": field,
                        "before": old,
                        "after": new,
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
            diff = split_diff(e.diff(), self.schema.extra)
            detail = "; ".join(f"{k}: {v[0]!r} -> {v[1]!r}" for k, v in diff.items())
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
        import html

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
                diff = split_diff(e.diff(), self.schema.extra)
                labels = {f.key: f.label for f in self.schema.extra}
                detail = "<br>".join(
                    f"{html.escape(labels.get(k, k))}: <del>{html.escape(_shown(v[0]))}</del> → "
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
                for e in entries(skipped.head(50))
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
            frame=frame_of(entries),
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
        if not len(self.frame):
            if secret is not None:
                try:
                    head["digest"] = seal(secret, content_hash({**head, "entries": []}))
                except ValueError as e:
                    raise PlanError(f"cannot sign the plan: {e}") from e
            return json.dumps({**head, "entries": []}, indent=indent, ensure_ascii=False)
        pad = " " * (indent or 0)
        gap = ", " if indent is None else f",\n{pad}{pad}"
        hasher, closing = hashing(head) if secret is not None else (None, b"")
        with bulk():  # see write_json
            lines = "".join(
                part if isinstance(part, str) else bytes(part).decode()
                for part in self._entries_json(gap, hasher)
            )
        if secret is not None:
            assert hasher is not None
            hasher.update(closing)
            head["digest"] = seal(secret, hasher.digest())
        if indent is None:
            return f'{json.dumps(head, ensure_ascii=False)[:-1]}, "entries": [{lines}]}}'
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
            # Without the collector's pauses: each would walk every object of the process.
            with bulk():
                self._write_entries(path, indent, secret)
        except BaseException:
            Path(path).unlink(missing_ok=True)
            raise

    def _write_entries(
        self, path: str | os.PathLike[str], indent: int, secret: bytes | None
    ) -> None:
        """:meth:`write_json`'s writing, a slice of entries at a time."""
        head = self._saved_head()
        hasher, closing = hashing(head) if secret is not None else (None, b"")
        if secret is not None:
            head["digest"] = "0" * 64  # a place of the digest's length, filled in at the end
        pad = " " * indent
        opened = json.dumps(head, indent=indent, ensure_ascii=False).removesuffix("\n}")
        with open(path, "wb") as f:
            f.write(f'{opened},\n{pad}"entries": [\n'.encode())
            for part in self._entries_json(f",\n{pad}{pad}", hasher):
                f.write(part.encode() if isinstance(part, str) else part)
            f.write(f"\n{pad}]\n}}".encode())
            if hasher is not None:
                assert secret is not None
                hasher.update(closing)
                f.seek(len(opened.encode()) - 65)
                f.write(seal(secret, hasher.digest()).encode())

    def _entries_json(self, gap: str, hasher: Any) -> Iterator[str | memoryview]:
        """
        The entries as :meth:`to_json` writes them, a slice at a time, each after ``gap``
        but the first, which is after ``gap`` less its two first characters (``",\\n"`` or
        ``", "``); their canonical JSON, each after a comma but the first, goes to ``hasher``
        (if not ``None``).

        Each slice is made column-wise by Arrow and comes as its UTF-8 bytes, or, with a
        value of another type than its column's, entry by entry as text.

        Raises:
            PlanError: ``hasher`` is given and the plan holds text that is not valid Unicode.
        """
        for start in range(0, len(self.frame), _SLICE):
            part = self.frame.iloc[start : start + _SLICE]
            yield slice_json(part, gap, hasher, first=not start)

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
    def from_json(cls, text: str | bytes, *, schema: UserSchema = DEFAULT_SCHEMA) -> Plan:
        """
        Read a plan saved by :meth:`to_json`, checking every value's type strictly.

        Booleans must be JSON booleans, numbers finite whole numbers where a count or row is
        meant, lists lists of text; an entry's ``before`` and ``after`` carry the entry's own
        email (an entry never changes an email); a ``create`` names one valid address (the
        rule :func:`~userimport.review.validate` applies); ``changed`` lists exactly the
        fields an ``update`` changes. Whether ``before`` is the user as stored, and whether
        the digest is right, is checked by :func:`~userimport.apply.apply_plan`, which has the
        store. See ``docs/applying.md``.

        Args:
            text: The saved plan.
            schema: The user fields to show the plan with (:attr:`schema`); the saved form
                does not hold them.

        Raises:
            PlanError: The text is not a saved plan, or any value in it is malformed (the
                message names the entry and the field).
        """
        import pandas as pd

        data = saved_json(text, kind="plan", fmt=_FORMAT, version=_FORMAT_VERSION, error=PlanError)
        r = Reader(PlanError, "plan")
        r.object(data, "the plan", HEAD, OPTIONAL)
        digest = r.maybe_text(data.pop("digest", None), "digest")
        if digest is not None and not HEX64.fullmatch(digest):
            r.fail("digest", "must be 64 hexadecimal digits")
        try:
            content = content_hash(data)
        except ValueError as e:
            raise PlanError(f"cannot read the saved plan: {e}") from e
        warnings = [
            read_warning(r, w, f"warning {i + 1}")
            for i, w in enumerate(as_list(r, data["warnings"], "warnings"))
        ]
        columns = read_entries(r, data["entries"])
        with bulk():
            frame = pd.DataFrame(columns, columns=list(COLUMNS), dtype=object)
        return cls(
            base_version=r.text(data["base_version"], "base_version"),
            settings=read_settings(r, data["settings"]),
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
            schema=schema,
        )

    def inverse(self, *, base_version: str) -> Plan:
        """
        The plan that undoes this one once it has been applied (the store at ``base_version``).

        Created users are deleted, updated ones get their old fields back, deleted ones come
        back with their groups, and groups and departments the plan created are removed.
        """
        import numpy as np

        f = self.frame[self.frame["action"].isin(("create", "update", "delete")).to_numpy()]
        sides = {"before_": "after_", "after_": "before_"}
        flipped = f.rename(
            columns={f"{a}{field}": f"{b}{field}" for a, b in sides.items() for field in FIELDS}
        )[list(COLUMNS)]
        action = f["action"].to_numpy(dtype=object)
        flipped["action"] = np.where(
            action == "create", "delete", np.where(action == "delete", "create", action)
        ).astype(object)
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
            schema=self.schema,
        )


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
    settings = settings or ImportSettings()
    snap = repository if isinstance(repository, Snapshot) else repository.snapshot()
    return _plan(review, snap, settings)


def _importable(rows: pd.DataFrame, schema: UserSchema) -> pd.DataFrame:
    """``rows`` without the declared fields an import may not change (``importable=False``)."""
    kept = [f.target for f in schema.extra if not f.importable and f.target in rows.columns]
    return rows.drop(columns=kept) if kept else rows


def _plan(review: Review, snap: Snapshot, settings: ImportSettings) -> Plan:
    """:func:`plan_import` proper: a pure function of the review, the snapshot and settings."""
    import numpy as np

    rows = _importable(review.checked.rows, review.schema)
    mapping = review.mapping
    found = _planparts.locate(rows, snap)
    parts = _planparts.not_imported(rows, found, snap)
    new, warnings = _planparts.created(rows, found, snap, settings)
    old, more = _planparts.existing(
        rows,
        found,
        snap,
        settings,
        groups_mapped=bool(mapping.group_columns) or mapping.department_as_group,
        casefold=frozenset(f.key for f in review.schema.extra if f.compare == "casefold"),
    )
    parts += new + old
    warnings += more
    holds: list[str] = []
    if settings.delete_missing:
        gone, more, holds = _planparts.missing(rows, review.report.frame, found, snap, settings)
        parts += gone
        warnings += more
    frame = _planparts.frame(parts)
    actions = frame["action"].to_numpy()
    touched = (actions == "create") | (actions == "update")
    named_groups = set(itertools.chain.from_iterable(frame["after_groups"].to_numpy()[touched]))
    new_groups = frozenset(named_groups - snap.groups)
    named_departments = set(frame["after_department"].to_numpy()[touched].tolist()) - {"", None}
    new_departments = frozenset(named_departments - snap.departments)
    warnings += similar_names(new_groups, snap.groups, "group")
    warnings += similar_names(new_departments, snap.departments, "department")
    warnings += renamed(frame)
    # Only mirror mode deletes (see _planparts.missing).
    deletes = int(np.count_nonzero(actions == "delete")) if settings.delete_missing else 0
    refusal = settings.deletion_refusal(deletes, len(snap))
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
        schema=review.schema,
    )

"""The import wizard: upload, header row, columns, settings, review, overview, start, done."""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from ..apply import apply_plan
from ..errors import StalePlanError, UserImportError
from ..headers import detect_header
from ..history import ImportRecord
from ..mapping import ColumnMapping, suggest_mapping
from ..model import PROPERTIES, ImportSettings
from ..plan import PlanEntry, plan_import
from ..read import read_table
from ..repository import plan_secret
from ..review import Review, validate
from ._base import PAGE_SIZE, SHOWN_CHANGES, SUFFIXES, WebBase, safe_name, to_int
from ._sessions import Import, new_id

__all__ = ["Wizard"]


class Wizard(WebBase):
    """The import wizard's pages, one per stage of the library."""

    # -- the import wizard ------------------------------------------------------------------

    def upload_page(self, request: Request) -> Response:
        return self.render(request, "upload.html", max_rows=self.max_rows, message="")

    def upload(self, request: Request, form: FormData) -> Response:
        file = form.get("file")
        if not isinstance(file, UploadFile) or not file.filename:
            return self.render(
                request,
                "upload.html",
                400,
                max_rows=self.max_rows,
                message=self.t(request, "Choose a file."),
            )
        name = safe_name(file.filename)
        if not name.lower().endswith(SUFFIXES):
            message = self.t(
                request,
                "%(name)s is not a CSV or XLSX file (its name ends neither in .csv nor .xlsx).",
                name=name,
            )
            return self.render(request, "upload.html", 400, max_rows=self.max_rows, message=message)
        sheet = str(form.get("sheet", "")).strip() or None
        with tempfile.TemporaryDirectory(prefix="userimport-web-") as folder:
            path = Path(folder) / name
            with path.open("wb") as out:
                shutil.copyfileobj(file.file, out)
            try:
                table = read_table(path, sheet=sheet, max_rows=self.max_rows)
            except UserImportError as e:
                return self.render(
                    request, "upload.html", 400, max_rows=self.max_rows, message=str(e)
                )
        table = attrs.evolve(table, path=name)
        guess = detect_header(table)
        sid = new_id()
        self.sessions.add(
            Import(
                id=sid,
                filename=name,
                table=table,
                guess=guess,
                header_row=guess.row,
                used=time.monotonic(),
            )
        )
        return self.go(request, f"/import/{sid}/header")

    def header_page(self, request: Request, imp: Import) -> Response:
        reasons = {c.row: c.reasons for c in imp.guess.candidates}
        rows = imp.table.rows.head(max(12, (imp.guess.row or 0) + 4))
        return self.render(
            request,
            "header.html",
            imp=imp,
            grid=[
                (int(i), [str(v) for v in r])
                for i, r in zip(rows.index, rows.to_numpy(), strict=True)
            ],
            reasons=reasons,
        )

    def header(self, request: Request, imp: Import, form: FormData) -> Response:
        choice = str(form.get("header_row", ""))
        imp.header_row = None if choice == "none" else to_int(choice, imp.guess.row or 0)
        imp.mapping = suggest_mapping(imp.table, imp.header_row, schema=self.schema)
        imp.review = imp.plan = None
        return self.go(request, f"/import/{imp.id}/mapping")

    def _mapping_page(self, request: Request, imp: Import, message: str = "") -> Response:
        mapping = imp.mapping or suggest_mapping(imp.table, imp.header_row, schema=self.schema)
        imp.mapping = mapping
        start = 0 if imp.header_row is None else imp.header_row + 1
        body = imp.table.rows.iloc[start:]
        targets = mapping.targets
        reasons = {m.column: m.reason for m in mapping.matches}
        split = mapping.name_split
        columns = []
        for i in range(mapping.width):
            cells = body.iloc[:, i]
            samples = [str(v) for v in cells[cells.astype(str).str.strip() != ""].head(3)]
            target = targets.get(i, "")
            if split is not None and split.column == i:
                target, reasons[i] = "__split__", split.describe()
            header = mapping.headers[i] if i < len(mapping.headers) else ""
            custom = re.sub(r"\W+", "_", header.casefold()).strip("_") or f"column_{i + 1}"
            columns.append(
                (i, mapping.label(i), samples, target, reasons.get(i, ""), f"attributes.{custom}")
            )
        options = list(PROPERTIES)
        return self.render(
            request,
            "mapping.html",
            400 if message else 200,
            imp=imp,
            mapping=mapping,
            columns=columns,
            options=options,
            message=message,
        )

    def mapping_page(self, request: Request, imp: Import) -> Response:
        return self._mapping_page(request, imp)

    def mapping(self, request: Request, imp: Import, form: FormData) -> Response:
        mapping = imp.mapping or suggest_mapping(imp.table, imp.header_row, schema=self.schema)
        now = mapping.targets
        chosen = {i: str(form.get(f"col{i}", "")) for i in range(mapping.width)}
        taken = [t for t in chosen.values() if t and t not in ("groups", "__split__")]
        twice = sorted({t for t in taken if taken.count(t) > 1})
        if twice:
            imp.mapping = mapping
            return self._mapping_page(
                request,
                imp,
                self.t(
                    request,
                    "%(names)s: only one column can feed each property.",
                    names=", ".join(twice),
                ),
            )
        changed = {i: t for i, t in chosen.items() if t != "__split__" and t != now.get(i, "")}
        try:
            for i in changed:
                mapping = mapping.unmap(i)
            for i, t in changed.items():
                if t:
                    mapping = mapping.map(i, t)
            separator = str(form.get("group_separator", ",")) or ","
            mapping = mapping.with_group_separator(separator).with_department_as_group(
                form.get("department_as_group") == "on"
            )
            imp.mapping = mapping
            imp.review = validate(imp.table, imp.header_row, mapping, schema=self.schema)
        except UserImportError as e:
            return self._mapping_page(request, imp, str(e))
        imp.plan = None
        return self.go(request, f"/import/{imp.id}/settings")

    def settings_page(self, request: Request, imp: Import) -> Response:
        return self.render(request, "settings.html", imp=imp, s=imp.settings, message="")

    def settings(self, request: Request, imp: Import, form: FormData) -> Response:
        limit = str(form.get("max_deletes", "")).strip()
        fraction = str(form.get("max_delete_percent", "")).strip()
        try:
            imp.settings = ImportSettings(
                on_existing=str(form.get("on_existing", "update")),  # type: ignore[arg-type]
                groups=str(form.get("groups", "add")),  # type: ignore[arg-type]
                delete_missing=form.get("delete_missing") == "on",
                send_welcome_email=form.get("send_welcome_email") == "on",
                max_deletes=int(limit) if limit else None,
                max_delete_fraction=float(fraction) / 100 if fraction else None,
                delete_admins=form.get("delete_admins") == "on",
            )
        except (UserImportError, ValueError) as e:
            return self.render(
                request, "settings.html", 400, imp=imp, s=imp.settings, message=str(e)
            )
        imp.plan = None
        return self.go(request, f"/import/{imp.id}/review")

    def _review(self, imp: Import) -> Review:
        if imp.review is None:
            imp.mapping = imp.mapping or suggest_mapping(
                imp.table, imp.header_row, schema=self.schema
            )
            imp.review = validate(imp.table, imp.header_row, imp.mapping, schema=self.schema)
        return imp.review

    def review_page(self, request: Request, imp: Import) -> Response:
        review = self._review(imp)
        errors = request.query_params.get("errors") == "1"
        q = request.query_params.get("q", "").strip()
        view = review.only_errors() if errors else review
        if q:
            view = view.search(q) if view.view is None else _both(view, review.search(q))
        rows = view.rows
        pages = max(1, -(-len(rows) // PAGE_SIZE))
        page = min(max(1, to_int(request.query_params.get("page", 1), 1)), pages)
        shown = rows.iloc[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        fields = [c for c in review.source.columns if not c.startswith("_")]
        source = review.source.loc[shown.index, fields]
        issues = review.issues
        issues = issues[issues["row"].isin(shown.index)]
        problems: dict[tuple[int, str], list[str]] = {}
        for row, field, message in zip(
            issues["row"], issues["field"], issues["message"], strict=True
        ):
            problems.setdefault((int(row), str(field)), []).append(str(message))
        grid = [
            (int(r), status, [str(v) for v in values])
            for r, status, values in zip(
                shown.index, shown["status"], source.to_numpy(), strict=True
            )
        ]
        return self.render(
            request,
            "review.html",
            imp=imp,
            fields=fields,
            labels=[_label(review.mapping, f) for f in fields],
            grid=grid,
            problems=problems,
            counts=review.overview(),
            shown=len(rows),
            page=page,
            pages=pages,
            errors=errors,
            q=q,
        )

    def row_page(self, request: Request, imp: Import) -> Response:
        review = self._review(imp)
        row = to_int(request.path_params["row"], -1)
        if row not in review.source.index:
            return self.problem(
                request, 404, self.t(request, "The file has no data row %(row)s.", row=row)
            )
        fields = [c for c in review.source.columns if not c.startswith("_")]
        issues = review.issues
        return self.render(
            request,
            "row.html",
            imp=imp,
            row=row,
            cells=[(f, _label(review.mapping, f), str(review.source.at[row, f])) for f in fields],
            issues=issues[issues["row"] == row]["message"].tolist(),
            back=_back(request),
            nav={k: request.query_params.get(k, "") for k in ("page", "errors", "q")},
        )

    def row_edit(self, request: Request, imp: Import, form: FormData) -> Response:
        review = self._review(imp)
        row = to_int(request.path_params["row"], -1)
        fields = [c for c in review.source.columns if not c.startswith("_")]
        values = {f: str(form.get(f, "")) for f in fields if f in form}
        attributes = {f.removeprefix("attributes."): v for f, v in values.items() if "." in f}
        plain = {f: v for f, v in values.items() if "." not in f}
        try:
            imp.review = review.edit(row, **plain, attributes=attributes)
        except UserImportError as e:
            return self.problem(request, 400, str(e))
        imp.plan = None
        return self.go(request, f"/import/{imp.id}/review{_back(request, form)}")

    def row_action(self, request: Request, imp: Import, form: FormData) -> Response:
        review = self._review(imp)
        row = to_int(request.path_params["row"], -1)
        action = str(form.get("action", ""))
        try:
            if action == "skip":
                imp.review = review.skip(row)
            elif action == "unskip":
                imp.review = review.unskip(row)
            else:
                imp.review = review.revalidate()
        except UserImportError as e:
            return self.problem(request, 400, str(e))
        imp.plan = None
        return self.go(request, f"/import/{imp.id}/review{_back(request, form)}")

    def _why(self, request: Request, reason: str) -> str:
        """A blocked plan's reason, with the setting that would allow it."""
        lowered = reason.lower()
        if "max_delete_fraction" in lowered or "fraction" in lowered or "%" in lowered:
            hint = self.t(
                request, "Settings: raise or clear 'at most this share of the users deleted'."
            )
        elif "max_deletes" in lowered or "delet" in lowered:
            hint = self.t(request, "Settings: raise or clear 'at most this many users deleted'.")
        else:
            return reason
        return f"{reason} ({hint})"

    def overview(self, request: Request, imp: Import) -> Response:
        if imp.result is not None:
            return self.go(request, f"/import/{imp.id}/done")
        review = self._review(imp)
        try:
            imp.plan = plan_import(review, self.repository, imp.settings)
            imp.plan_id = secrets.token_urlsafe(12)
        except UserImportError as e:
            return self.problem(request, 400, str(e))
        return self.render(
            request,
            "overview.html",
            imp=imp,
            plan=imp.plan,
            counts=review.overview(),
            changes=[r for e in imp.plan.changes()[:SHOWN_CHANGES] for r in _change_rows(e)],
            more=max(0, len(imp.plan.changes()) - SHOWN_CHANGES),
            blocked=[self._why(request, reason) for reason in imp.plan.blocked],
            settings=imp.settings,
        )

    def start(self, request: Request, imp: Import, form: FormData) -> Response:
        plan = imp.plan
        if imp.result is not None:
            return self.go(request, f"/import/{imp.id}/done")
        if plan is None or form.get("plan") != imp.plan_id:
            return self.problem(
                request,
                409,
                self.t(
                    request,
                    "This overview is out of date: the file, the settings or the corrections "
                    "changed after it was shown. Look at the overview again before starting "
                    "the import.",
                ),
            )
        if plan.blocked:
            return self.problem(
                request,
                409,
                self.t(request, "This import is blocked: %(why)s", why=" ".join(plan.blocked)),
            )
        try:
            imp.result = apply_plan(plan, self.repository, notifier=self.notifier)
        except StalePlanError:
            imp.plan = None
            return self.problem(
                request,
                409,
                self.t(
                    request,
                    "The user store changed after this overview was made (someone added, "
                    "changed or deleted users), so nothing was imported. Look at the overview "
                    "again: it is made afresh from the store as it is now.",
                ),
            )
        except UserImportError as e:
            return self.problem(request, 409, str(e))
        result = imp.result
        record = ImportRecord(
            id=secrets.token_urlsafe(12),
            at=datetime.now(UTC),
            filename=imp.filename,
            settings=plan.settings,
            created=result.created,
            updated=result.updated,
            deleted=result.deleted,
            version=result.version,
            undo=result.undo.to_json(secret=plan_secret(self.repository)),
        )
        imp.record_id = record.id
        try:
            self.history.add_import(record)
        except UserImportError as e:
            # The import is applied: say so, and keep its undo in this process instead.
            self.spare_history.add_import(record)
            imp.history_error = str(e)
        return self.go(request, f"/import/{imp.id}/done")

    def done(self, request: Request, imp: Import) -> Response:
        if imp.result is None:
            return self.go(request, f"/import/{imp.id}/overview")
        record = self._record(imp.record_id)
        version = self.repository.snapshot().version
        return self.render(
            request, "done.html", imp=imp, result=imp.result, record=record, version=version
        )

    def undo(self, request: Request, imp: Import, form: FormData) -> Response:
        if imp.result is None:
            return self.problem(
                request, 409, self.t(request, "There is nothing to undo in this import.")
            )
        return self._undo(request, imp.record_id)


def _both(view: Review, other: Review) -> Review:
    """``view`` narrowed to the rows ``other`` shows too."""
    return attrs.evolve(view, view=(view.view or frozenset()) & (other.view or frozenset()))


def _label(mapping: ColumnMapping, field: str) -> str:
    columns = mapping.columns(field)
    if columns:
        return f"{field} ({', '.join(mapping.label(c) for c in columns)})"
    return field


def _back(request: Request, form: FormData | None = None) -> str:
    """The review grid's page, filter and search, as a query string to go back to."""
    source: Any = form if form is not None else request.query_params
    page = to_int(source.get("page", 1), 1)
    errors = "1" if source.get("errors") == "1" else ""
    q = str(source.get("q", ""))
    from urllib.parse import urlencode

    return "?" + urlencode({"page": page, "errors": errors, "q": q})


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, frozenset | set | tuple | list):
        return ", ".join(sorted(str(v) for v in value))
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in sorted(value.items()))
    return str(value)


def _change_rows(entry: PlanEntry) -> list[tuple[str, str, str, str, str, str]]:
    """One row per changed field of ``entry``: action, email, row, field, old, new."""
    row = "" if entry.row is None else str(entry.row)
    diff = entry.diff()
    if not diff:
        user = entry.after if entry.after is not None else entry.before
        values = user.to_dict() if user is not None else {}
        new = entry.action != "delete"
        diff = {
            k: (None, v) if new else (v, None)
            for k, v in values.items()
            if v not in ("", None, [], {})
        }
    return [
        (entry.action, entry.email, row, field, _text(old), _text(new))
        for field, (old, new) in diff.items()
    ] or [(entry.action, entry.email, row, "", "", "")]

"""
The users pages (list, add, edit, admin rights, welcome email, delete, export) and History.

The fields the store's schema declares (``userimport.fields``) are columns of the list and
inputs of the add and edit forms, each read by its :meth:`~userimport.Field.parse`.
"""

from __future__ import annotations

import io
from typing import Literal

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from ..actions import UserFields, add_user, delete_user, edit_user, send_welcome_email, set_admin
from ..errors import UserImportError, UserNotFoundError
from ..export import export_users, write_template
from ..model import User, email_key
from ._base import DONE, PAGE_SIZE, WebBase, download, to_int

__all__ = ["UsersPages"]


class UsersPages(WebBase):
    """The users pages and the import history."""

    # -- users ------------------------------------------------------------------------------

    def home(self, request: Request) -> Response:
        return self.go(request, "/users")

    def users(
        self,
        request: Request,
        message: str = "",
        status: int = 200,
        entered: dict[str, str] | None = None,
    ) -> Response:
        snapshot = self.repository.snapshot()
        q = request.query_params.get("q", "").strip()
        users = sorted(snapshot.users.values(), key=lambda u: u.key)
        if q:
            needle = q.casefold()
            keys = [f.key for f in self.schema.extra]
            users = [
                u
                for u in users
                if needle
                in "\n".join(
                    [u.email, f"{u.first_name} {u.last_name}", u.department or ""]
                    + [u.attributes.get(k, "") for k in keys]
                ).casefold()
            ]
        pages = max(1, -(-len(users) // PAGE_SIZE))
        page = min(max(1, to_int(request.query_params.get("page", 1), 1)), pages)
        shown = users[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        done = DONE.get(request.query_params.get("done", ""), "")
        done = self.t(request, done) if done else ""
        return self.render(
            request,
            "users.html",
            status,
            users=shown,
            total=len(users),
            q=q,
            page=page,
            pages=pages,
            departments=sorted(snapshot.departments),
            groups=sorted(snapshot.groups),
            message=message,
            done=done,
            fields=self.schema.extra,
            entered=entered or {},
        )

    def _declared(self, request: Request, form: FormData) -> tuple[dict[str, str | None], str]:
        """
        The declared fields' values in ``form`` (``attributes.<key>``), each read by its
        :meth:`~userimport.Field.parse`: ``None`` for an empty one; and the problems in words.
        """
        values: dict[str, str | None] = {}
        problems = []
        for field in self.schema.extra:
            text = str(form.get(field.target, "")).strip()
            try:
                values[field.key] = field.parse(text) if text else None
            except ValueError as e:
                problems.append(f"{field.label}: {e}")
            if not text and field.required:
                problems.append(self.t(request, "%(label)s is required.", label=field.label))
        return values, " ".join(problems)

    def user_add(self, request: Request, form: FormData) -> Response:
        entered = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf"}
        values, problems = self._declared(request, form)
        if problems:
            return self.users(request, problems, 400, entered)
        try:
            user = User(
                email=str(form.get("email", "")),
                first_name=str(form.get("first_name", "")),
                last_name=str(form.get("last_name", "")),
                department=str(form.get("department", "")) or None,
                groups=[g.strip() for g in str(form.get("groups", "")).split(",")],
                is_admin=form.get("is_admin") == "on",
                attributes={k: v for k, v in values.items() if v is not None},
            )
            add_user(
                self.repository,
                user,
                send_welcome_email=form.get("welcome") == "on",
                notifier=self.notifier,
            )
        except UserImportError as e:
            return self.users(request, str(e), 400, entered)
        return self.go(request, "/users?done=added")

    def user_edit_page(
        self,
        request: Request,
        email: str | None = None,
        message: str = "",
        entered: dict[str, str] | None = None,
    ) -> Response:
        snapshot = self.repository.snapshot()
        email = request.query_params.get("email", "") if email is None else email
        user = snapshot.users.get(email_key(email))
        if user is None:
            return self.problem(
                request, 404, self.t(request, "There is no user %(email)s.", email=email)
            )
        shown = {
            "first_name": user.first_name,
            "last_name": user.last_name,
            "department": user.department or "",
            "groups": ", ".join(sorted(user.groups)),
        }
        shown |= {f.target: user.attributes.get(f.key, "") for f in self.schema.extra}
        return self.render(
            request,
            "user_edit.html",
            400 if message else 200,
            user=user,
            departments=sorted(snapshot.departments),
            message=message,
            fields=self.schema.extra,
            entered=shown | (entered or {}),
        )

    def user_edit(self, request: Request, form: FormData) -> Response:
        email = str(form.get("email", ""))
        entered = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf"}
        values, problems = self._declared(request, form)
        if problems:
            return self.user_edit_page(request, email, problems, entered)
        change: UserFields = {
            "first_name": str(form.get("first_name", "")),
            "last_name": str(form.get("last_name", "")),
            "department": str(form.get("department", "")),
            "groups": [g.strip() for g in str(form.get("groups", "")).split(",") if g.strip()],
        }
        if values:
            change["attributes"] = values  # an emptied field is removed
        try:
            edit_user(self.repository, email, **change)
        except UserNotFoundError as e:
            return self.problem(request, 404, str(e))
        except UserImportError as e:
            return self.user_edit_page(request, email, str(e), entered)
        return self.go(request, "/users?done=edited")

    def user_admin(self, request: Request, form: FormData) -> Response:
        grant = form.get("grant") == "1"
        try:
            set_admin(self.repository, str(form.get("email", "")), grant)
        except UserImportError as e:
            return self.problem(request, 400, str(e))
        return self.go(request, "/users?done=" + ("granted" if grant else "revoked"))

    def user_welcome(self, request: Request, form: FormData) -> Response:
        if self.notifier is None:
            return self.problem(
                request, 400, self.t(request, "No email sender is configured for this app.")
            )
        try:
            note = send_welcome_email(self.repository, str(form.get("email", "")), self.notifier)
        except UserImportError as e:
            return self.problem(request, 400, str(e))
        if note.error:
            return self.problem(
                request,
                502,
                self.t(request, "The welcome email was not sent: %(error)s", error=note.error),
            )
        return self.go(request, "/users?done=welcomed")

    def user_delete_page(self, request: Request) -> Response:
        email = request.query_params.get("email", "")
        user = self.repository.snapshot().users.get(email_key(email))
        if user is None:
            return self.problem(
                request, 404, self.t(request, "There is no user %(email)s.", email=email)
            )
        return self.render(request, "user_delete.html", user=user)

    def user_delete(self, request: Request, form: FormData) -> Response:
        try:
            delete_user(self.repository, str(form.get("email", "")))
        except UserImportError as e:
            return self.problem(request, 400, str(e))
        return self.go(request, "/users?done=deleted")

    def export(self, request: Request) -> Response:
        fmt: Literal["csv", "xlsx"] = (
            "xlsx" if request.query_params.get("format") == "xlsx" else "csv"
        )
        out = io.BytesIO()
        export_users(self.repository, out, format=fmt)
        return download(out.getvalue(), f"users.{fmt}")

    def template(self, request: Request) -> Response:
        fmt: Literal["csv", "xlsx"] = (
            "xlsx" if request.query_params.get("format") == "xlsx" else "csv"
        )
        out = io.BytesIO()
        write_template(out, format=fmt, schema=self.schema)
        return download(out.getvalue(), f"import-template.{fmt}")

    def history_page(self, request: Request) -> Response:
        records = self.history.list_imports()
        version = self.repository.snapshot().version
        done = DONE.get(request.query_params.get("done", ""), "")
        done = self.t(request, done) if done else ""
        return self.render(
            request,
            "history.html",
            records=records,
            version=version,
            in_store=self.history_in_store,
            done=done,
        )

    def history_undo(self, request: Request, form: FormData) -> Response:
        return self._undo(request, request.path_params["rid"])

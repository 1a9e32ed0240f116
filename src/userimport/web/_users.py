"""The users pages (list, add, edit, admin rights, welcome email, delete, export) and History."""

from __future__ import annotations

import io
from typing import Literal

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from ..actions import add_user, delete_user, edit_user, send_welcome_email, set_admin
from ..errors import UserImportError
from ..export import export_users, write_template
from ..model import User, email_key
from ._base import DONE, PAGE_SIZE, WebBase, download, to_int

__all__ = ["UsersPages"]


class UsersPages(WebBase):
    """The users pages and the import history."""

    # -- users ------------------------------------------------------------------------------

    def home(self, request: Request) -> Response:
        return self.go(request, "/users")

    def users(self, request: Request, message: str = "", status: int = 200) -> Response:
        snapshot = self.repository.snapshot()
        q = request.query_params.get("q", "").strip()
        users = sorted(snapshot.users.values(), key=lambda u: u.key)
        if q:
            needle = q.casefold()
            users = [
                u
                for u in users
                if needle
                in f"{u.email}\n{u.first_name} {u.last_name}\n{u.department or ''}".casefold()
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
        )

    def user_add(self, request: Request, form: FormData) -> Response:
        try:
            user = User(
                email=str(form.get("email", "")),
                first_name=str(form.get("first_name", "")),
                last_name=str(form.get("last_name", "")),
                department=str(form.get("department", "")) or None,
                groups=[g.strip() for g in str(form.get("groups", "")).split(",")],
                is_admin=form.get("is_admin") == "on",
            )
            add_user(
                self.repository,
                user,
                send_welcome_email=form.get("welcome") == "on",
                notifier=self.notifier,
            )
        except UserImportError as e:
            return self.users(request, str(e), 400)
        return self.go(request, "/users?done=added")

    def user_edit_page(self, request: Request) -> Response:
        snapshot = self.repository.snapshot()
        email = request.query_params.get("email", "")
        user = snapshot.users.get(email_key(email))
        if user is None:
            return self.problem(
                request, 404, self.t(request, "There is no user %(email)s.", email=email)
            )
        return self.render(
            request,
            "user_edit.html",
            user=user,
            departments=sorted(snapshot.departments),
            message="",
        )

    def user_edit(self, request: Request, form: FormData) -> Response:
        email = str(form.get("email", ""))
        try:
            edit_user(
                self.repository,
                email,
                first_name=str(form.get("first_name", "")),
                last_name=str(form.get("last_name", "")),
                department=str(form.get("department", "")),
                groups=[g.strip() for g in str(form.get("groups", "")).split(",") if g.strip()],
            )
        except UserImportError as e:
            return self.problem(request, 400, str(e))
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

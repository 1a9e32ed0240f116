"""
The ``userimport user`` commands: show, add, edit, delete, grant admin rights to and welcome
one user (split out of :mod:`userimport.cli`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

try:
    import click
    import rich  # noqa: F401
except ImportError as e:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "the userimport command line needs the 'cli' extra: pip install 'userimport[cli]'"
    ) from e

from ._cliopts import (
    Failed,
    confirm,
    library_errors,
    notifier_from,
    repository,
    require_mail_server,
    smtp_options,
    store_options,
    yes_option,
)
from ._display import (
    console,
    show_result,
    visible,
)

if TYPE_CHECKING:
    from .sql import SqlUserRepository

# -- single-user actions --------------------------------------------------------------------


@click.group()
def user() -> None:
    """
    Act on one user: add, edit, delete, grant or revoke admin, send the welcome email.

    \b
    Example:
        userimport user add kari@firma.no --first-name Kari --last-name Dahl --department Sales
    """


@user.command(name="show")
@click.argument("email")
@store_options
@click.pass_context
def user_show(ctx: click.Context, email: str) -> None:
    """
    Show one user: name, department, groups, admin rights and attributes.

    \b
    Example:
        userimport user show kari@firma.no
    """
    from .model import email_key

    with library_errors():
        found = repository(ctx).snapshot().users.get(email_key(email))
    if found is None:
        raise click.UsageError(f"no user has the email {visible(email)}")
    out = console()
    out.print(f"Email: {found.email}")
    out.print(f"Name: {found.first_name} {found.last_name}".rstrip())
    out.print(f"Department: {found.department or '(none)'}")
    out.print(f"Groups: {', '.join(sorted(found.groups)) or '(none)'}")
    out.print(f"Admin: {'yes' if found.is_admin else 'no'}")
    for name, value in sorted(found.attributes.items()):
        out.print(f"{name}: {value}")


def declared_values(store: SqlUserRepository, given: tuple[str, ...]) -> dict[str, str]:
    """The ``--set FIELD=VALUE`` options, read by the store's schema (``USERIMPORT_SCHEMA``)."""
    pairs: dict[str, str] = {}
    for item in given:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r}: write FIELD=VALUE", param_hint="'--set'")
        pairs[key.strip()] = value
    try:
        return store.schema.values(pairs)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--set'") from exc


#: A declared field's value on ``user add`` and ``user edit``.
set_option = click.option(
    "--set",
    "declared",
    multiple=True,
    metavar="FIELD=VALUE",
    help="A field declared in the schema USERIMPORT_SCHEMA names (module:NAME), read by its "
    "kind, e.g. --set phone='+47 912 34 567'. Repeatable.",
)


@user.command(name="add")
@click.argument("email")
@click.option("--first-name", required=True)
@click.option("--last-name", required=True)
@click.option("--department", required=True, help="An existing department.")
@click.option("--group", "groups", multiple=True, help="A group (created if new). Repeatable.")
@set_option
@click.option("--welcome-email", is_flag=True, help="Send the welcome email.")
@smtp_options
@store_options
@click.pass_context
def user_add(
    ctx: click.Context,
    /,
    email: str,
    first_name: str,
    last_name: str,
    department: str,
    groups: tuple[str, ...],
    declared: tuple[str, ...],
    welcome_email: bool,
    **options: Any,
) -> None:
    """
    Add one user.

    \b
    Example:
        userimport user add kari@firma.no --first-name Kari --last-name Dahl --department Sales
    """
    from .actions import add_user
    from .model import User

    if welcome_email:
        require_mail_server(options)
    store = repository(ctx)
    attributes = declared_values(store, declared)
    missing = [f.key for f in store.schema.extra if f.required and f.key not in attributes]
    if missing:
        raise click.UsageError(f"every user needs {', '.join(missing)}: give --set FIELD=VALUE")
    new = User(
        email=email, first_name=first_name, last_name=last_name, department=department,
        groups=groups, attributes=attributes,
    )  # fmt: skip
    with library_errors():
        result = add_user(
            store,
            new,
            send_welcome_email=welcome_email,
            notifier=notifier_from(options) if welcome_email else None,
        )
    show_result(console(), result, None)


@user.command(name="edit")
@click.argument("email")
@click.option("--first-name")
@click.option("--last-name")
@click.option("--department", help="An existing department.")
@click.option("--group", "groups", multiple=True, help="The user's groups (replaces). Repeatable.")
@click.option("--add-group", "add_groups", multiple=True, help="Add a group. Repeatable.")
@click.option("--remove-group", "remove_groups", multiple=True, help="Remove a group. Repeatable.")
@set_option
@store_options
@click.pass_context
def user_edit(
    ctx: click.Context,
    email: str,
    first_name: str | None,
    last_name: str | None,
    department: str | None,
    groups: tuple[str, ...],
    add_groups: tuple[str, ...],
    remove_groups: tuple[str, ...],
    declared: tuple[str, ...],
) -> None:
    """
    Edit one user (the email cannot change).

    A change is made to the user as stored when it commits: if another writer changes the
    store meanwhile, the edit is made again on top of that change, so neither is lost.

    \b
    Example:
        userimport user edit kari@firma.no --department Marketing --add-group Oslo
    """
    from .actions import edit_user

    fields: dict[str, Any] = {
        k: v
        for k, v in {
            "first_name": first_name,
            "last_name": last_name,
            "department": department,
        }.items()
        if v is not None
    }
    if groups:
        fields["groups"] = frozenset(groups)
    if add_groups:
        fields["add_groups"] = frozenset(add_groups)
    if remove_groups:
        fields["remove_groups"] = frozenset(remove_groups)
    store = repository(ctx) if declared else None
    if store is not None:
        fields["attributes"] = declared_values(store, declared)
    if not fields:
        raise click.UsageError(
            "nothing to change: give --first-name, --last-name, --department, --group, "
            "--add-group, --remove-group or --set"
        )
    with library_errors():
        result = edit_user(store or repository(ctx), email, **fields)
    show_result(console(), result, None)


@user.command(name="delete")
@click.argument("email")
@yes_option
@store_options
@click.pass_context
def user_delete(ctx: click.Context, email: str, yes: bool) -> None:
    """
    Delete one user.

    \b
    Example:
        userimport user delete kari@firma.no --yes
    """
    from .actions import delete_user

    confirm(yes, f"Delete {email}?")
    with library_errors():
        result = delete_user(repository(ctx), email)
    show_result(console(), result, None)


@user.command(name="admin")
@click.argument("email")
@click.option("--grant/--revoke", required=True, help="Grant or revoke admin rights.")
@store_options
@click.pass_context
def user_admin(ctx: click.Context, email: str, grant: bool) -> None:
    """
    Grant or revoke admin rights.

    \b
    Example:
        userimport user admin kari@firma.no --grant
    """
    from .actions import set_admin

    with library_errors():
        set_admin(repository(ctx), email, grant)
    console().print(f"{email} is {'now' if grant else 'no longer'} an admin.")


@user.command(name="welcome")
@click.argument("email", required=False)
@click.option(
    "--retry",
    type=click.Path(exists=True, dir_okay=False),
    help="Send again the welcome emails an import could not send (the file it saved).",
)
@smtp_options
@store_options
@click.pass_context
def user_welcome(
    ctx: click.Context, /, email: str | None, retry: str | None, **options: Any
) -> None:
    """
    Send the welcome email to one user, or again to those an import could not reach.

    With --retry FILE, the file keeps only the emails still not sent (it is removed when
    all were sent), and the command exits with 4 while any are left.

    \b
    Example:
        userimport user welcome kari@firma.no --smtp-host mail.firma.no --sender it@firma.no
        userimport user welcome --retry userimport-unsent-20261124-101500.json --smtp-host mail
    """
    from .actions import send_welcome_email

    if (email is None) == (retry is None):
        raise click.UsageError("give either EMAIL or --retry FILE")
    if retry is not None:
        try:
            document = json.loads(Path(retry).read_text(encoding="utf-8"))
            emails = [str(e) for e in document["emails"]]
        except (ValueError, KeyError, TypeError) as e:
            raise click.BadParameter(
                f"{visible(retry)} is not a file of unsent welcome emails", param_hint="--retry"
            ) from e
    else:
        assert email is not None
        emails = [email]
    require_mail_server(options)
    store = repository(ctx)
    notifier = notifier_from(options)
    failed: list[str] = []
    out = console()
    for address in emails:
        with library_errors():
            note = send_welcome_email(store, address, notifier)
        if note.sent:
            out.print(f"Sent the welcome email to {address}.")
        else:
            failed.append(address)
            out.print(f"Not sent to {address}: {note.error}")
    if retry is not None:
        if failed:
            document["emails"] = failed
            Path(retry).write_text(json.dumps(document, indent=1, ensure_ascii=False), "utf-8")
        else:
            Path(retry).unlink()
    if failed:
        again = f"; try again with: userimport user welcome --retry {retry}" if retry else ""
        raise Failed(visible(f"{len(failed)} welcome emails were not sent{again}"))


# -- the web pages ---------------------------------------------------------------------------

"""
The ``userimport`` command line: a thin click layer over the public API.

Each command parses its options, calls one or two library functions and renders the result.
A :class:`~userimport.errors.UserImportError` becomes a one-line message and an exit code
here, and only here.

Exit codes:

- 0: done, no problems;
- 1: done, but some rows had problems (they were left out);
- 2: bad usage (unknown option, missing file, a mapping to an unknown property);
- 3: refused or blocked (a stale plan, a held plan, the deletion limits, an admin guard, or no
  confirmation), also from ``plan``;
- 4: failed (the file or the store could not be read or written).
"""

from __future__ import annotations

import datetime as dt
import json
from contextlib import suppress
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
    CREATE_KEY,
    DB_KEY,
    DEFAULT_DB,
    DEMO_DB,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_REFUSED,
    EXIT_USAGE,
    LOADS_PANDERA,
    F,
    Failed,
    Refused,
    check_store,
    confirm,
    emit,
    json_errors,
    library_errors,
    mapping_options,
    notifier_from,
    output_options,
    permission_options,
    permissions_from,
    prepare_with_recipe,
    read_options,
    read_plan,
    recipe_options,
    release_collector,
    remember,
    repository,
    require_mail_server,
    save_undo,
    save_unsent,
    settings_options,
    shown_url,
    smtp_options,
    stamped,
    store_label,
    store_options,
    store_url,
    yes_option,
)
from ._cliuser import user
from ._display import (
    console,
    issues_json,
    plain,
    plan_json,
    result_json,
    set_quiet,
    show_issues,
    show_mapping,
    show_plan,
    show_read,
    show_result,
    status,
    visible,
    write_rejects,
)
from .errors import (
    StalePlanError,
)
from .fields import schema_from_environment

if TYPE_CHECKING:
    from .model import Permissions
    from .plan import Plan
    from .read import RawTable
    from .repository import UserRepository
    from .review import Review

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_PROBLEMS",
    "EXIT_REFUSED",
    "EXIT_USAGE",
    "cli",
    "main",
]

# -- commands -------------------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--db",
    envvar="USERIMPORT_DB",
    default=DEFAULT_DB,
    show_default=True,
    help="The user store (also USERIMPORT_DB): sqlite:///FILE or postgresql://...",
)
@click.option(
    "--create",
    is_flag=True,
    expose_value=False,
    callback=remember(CREATE_KEY),
    help="Make the store if it does not exist yet (refused otherwise).",
)
@click.version_option(package_name="userimport")
def cli(db: str) -> None:
    """
    Bulk-import users from CSV and Excel files into the user store.

    \b
    Example:
        userimport template staff.xlsx
        userimport plan staff.xlsx --out plan.json
        userimport apply plan.json
    """
    set_quiet(False)
    if click.get_current_context().invoked_subcommand not in LOADS_PANDERA:
        release_collector()


def force_option(f: F) -> F:
    """``--force``: overwrite an existing file."""
    return click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")(f)


def refuse_overwrite(file: str, force: bool) -> None:
    """Refuse to replace an existing file unless ``--force`` was given."""
    if not force and Path(file).exists():
        raise Refused(f"{visible(file)} exists and was left as it is; pass --force to overwrite it")


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@force_option
def template(file: str, force: bool) -> None:
    """
    Write an import template (CSV or XLSX, by the file's suffix).

    An existing FILE is left as it is unless --force is given.

    \b
    Example:
        userimport template staff.xlsx
    """
    from .export import write_template

    refuse_overwrite(file, force)
    with library_errors():
        path = write_template(file, schema=schema_from_environment())
    console().print(f"Wrote the template to {path}.")


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@click.option("--separator", default=",", show_default=True, help="Between groups in a cell.")
@force_option
@store_options
@click.pass_context
def export(ctx: click.Context, file: str, separator: str, force: bool) -> None:
    """
    Export every user of the store (CSV or XLSX, by the file's suffix).

    An existing FILE is left as it is unless --force is given.

    \b
    Example:
        userimport --db sqlite:///users.db export users.csv
    """
    from .export import export_users

    refuse_overwrite(file, force)
    with library_errors():
        path = export_users(repository(ctx), file, separator=separator)
    console().print(f"Exported the users to {path}.")


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@read_options
@mapping_options
@settings_options
@recipe_options
@click.option("--out", type=click.Path(dir_okay=False), help="Save the plan to this JSON file.")
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False),
    help="Write the rows with errors, plus Problems and Original row columns, to this CSV file.",
)
@output_options
@store_options
@click.pass_context
def plan(
    ctx: click.Context, /, file: str, out: str | None, rejects: str | None, **options: Any
) -> None:
    """
    Plan an import: show the mapping, the problems and every change, and change nothing.

    Exits with 1 when some rows have problems (they are left out of the plan), and with 3 when
    the plan is blocked (it says why); the saved plan then says it is blocked.

    \b
    Example:
        userimport plan staff.csv --delete-missing --out plan.json --rejects fix-me.csv
    """
    doc: dict[str, Any] | None = {"command": "plan", "file": file} if options["as_json"] else None
    with json_errors(doc):
        _plan(ctx, file, out, rejects, options, doc)


def read_json(table: RawTable, header_row: int | None) -> dict[str, Any]:
    """What was read, for ``--json``."""
    return {
        "rows": len(table.rows),
        "sheet": table.sheet,
        "encoding": table.encoding,
        "delimiter": table.delimiter,
        "header_row": None if header_row is None else table.row_number(header_row),
        "notes": [plain(n) for n in table.notes],
    }


def _planned(
    ctx: click.Context, file: str, options: dict[str, Any], doc: dict[str, Any] | None
) -> tuple[UserRepository, RawTable, int | None, Review, Plan]:
    """Open the store, read, review and plan ``file``, show it all (and fill ``doc``)."""
    from .plan import plan_import

    console_ = console()
    store = repository(ctx)
    with library_errors():
        table, header_row, review, settings = prepare_with_recipe(file, options)
        show_read(console_, table, header_row)
        show_mapping(console_, review.mapping)
        show_issues(console_, review)
        the_plan = plan_import(review, store, settings)
    show_plan(console_, the_plan)
    if doc is not None:
        doc["store"] = store_label(store)
        doc["read"] = read_json(table, header_row)
        doc["valid"] = review.is_valid
        doc["issues"] = issues_json(review)
        doc.update(plan_json(the_plan))
    return store, table, header_row, review, the_plan


def _plan(
    ctx: click.Context,
    file: str,
    out: str | None,
    rejects: str | None,
    options: dict[str, Any],
    doc: dict[str, Any] | None,
) -> None:
    from .repository import plan_secret

    console_ = console()
    store, table, header_row, review, the_plan = _planned(ctx, file, options, doc)
    if out:
        with library_errors():
            secret = plan_secret(store)
            text = stamped(the_plan, store, secret).to_json(indent=1, secret=secret)
        Path(out).write_text(text, encoding="utf-8")
        if the_plan.blocked:
            console_.print(
                f"Saved the plan to {out}; it is blocked and cannot be applied as it is."
            )
        else:
            console_.print(f"Saved the plan to {out}; apply it with: userimport apply {out}")
    if rejects:
        count = write_rejects(rejects, table, header_row, review)
        console_.print(f"Wrote {count} rows with problems to {rejects}.")
    code = EXIT_REFUSED if the_plan.blocked else EXIT_OK if review.is_valid else EXIT_PROBLEMS
    if doc is not None:
        doc["plan_file"] = out
        doc["rejects_file"] = rejects
        emit(doc, code)
    ctx.exit(code)


def _applied_file(path: str) -> Path:
    return Path(f"{path}.applied.json")


def record_applied(path: str, store: UserRepository, undo: Path) -> None:
    """Note beside a plan file when and where it was applied, for a later refusal to say."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    document = {"applied_at": stamp, "store": store_label(store), "undo_file": str(undo)}
    # Only a note: the store itself is what says a plan was applied.
    with suppress(OSError):
        _applied_file(path).write_text(json.dumps(document, ensure_ascii=False), "utf-8")


def applied_when(path: str | None) -> str:
    """`` on <time> to <store> (its undo: <file>)`` from the note beside ``path``, if any."""
    if path is None:
        return ""
    try:
        note = json.loads(_applied_file(path).read_text(encoding="utf-8"))
        text = f" on {note['applied_at']} to {note['store']}"
        return text + (f" (its undo: {note['undo_file']})" if note.get("undo_file") else "")
    except (OSError, ValueError, KeyError, TypeError):
        return ""


def explain_stale(the_plan: Plan, store: UserRepository, path: str | None) -> str:
    """
    Say in words why a plan no longer fits the store: already applied, or who changed.

    An undo (or a plan) whose every change is already what the store holds was applied
    before; otherwise the users no longer as the plan found them are named.
    """
    from .model import email_key

    users = store.snapshot().users
    changing = the_plan.changes()
    name = path or ("the undo plan" if the_plan.is_undo else "the plan")
    kind = "this undo" if the_plan.is_undo else "this plan"
    if all(users.get(email_key(e.email)) == e.after for e in changing):
        return (
            f"{kind} was already applied{applied_when(path)}: the store already holds what "
            f"{name} would make ({len(changing)} users); nothing was changed"
        )
    moved = [e.email for e in changing if users.get(email_key(e.email)) != e.before]
    if not moved:
        return (
            f"the store changed since {name} was made (other users, groups or departments "
            "were changed by another import or edit); nothing was changed: plan again"
        )
    shown = ", ".join(moved[:5]) + (f" ... and {len(moved) - 5} more" if len(moved) > 5 else "")
    return (
        f"the store changed since {name} was made: {len(moved)} of its users are no longer "
        f"as it found them ({shown}); nothing was changed: plan again"
    )


def _apply_saved(
    ctx: click.Context,
    path: str,
    *,
    undo: bool,
    yes: bool,
    undo_out: str | None,
    options: dict[str, Any],
) -> None:
    """Read a saved plan (an undo plan for ``undo``), show it, and apply it after asking."""
    json_needs_yes(options, yes)
    doc: dict[str, Any] | None = (
        {"command": "undo" if undo else "apply", "file": path} if options["as_json"] else None
    )
    with json_errors(doc):
        permissions = permissions_from(options)
        the_plan = read_plan(path, undo=undo, permissions=permissions)
        show_plan(console(), the_plan)
        if doc is not None:
            doc["store"] = shown_url(store_url(ctx))
            doc.update(plan_json(the_plan))
        _apply(
            ctx,
            the_plan,
            yes=yes,
            undo_out=undo_out,
            options={} if undo else options,
            permissions=permissions,
            path=path,
            doc=doc,
        )


def _apply(
    ctx: click.Context,
    the_plan: Plan,
    *,
    yes: bool,
    undo_out: str | None,
    options: dict[str, Any],
    permissions: Permissions | None = None,
    path: str | None = None,
    doc: dict[str, Any] | None = None,
    code: int = EXIT_OK,
) -> None:
    """Ask, apply, save the undo plan and the unsent emails, report, and exit with ``code``."""
    from .apply import apply_plan

    console_ = console()
    if the_plan.holds:  # refused before asking: no answer can make it applicable
        raise Refused("the plan is held: " + "; ".join(the_plan.holds))
    if the_plan.is_empty:
        console_.print("Nothing to change.")
        if doc is not None:
            doc["result"] = None
            emit(doc, code)
        ctx.exit(code)
    welcome = the_plan.settings.send_welcome_email and the_plan.summary().get("create", 0) > 0
    if welcome:
        require_mail_server(options)
    store = repository(ctx)
    if path is not None and the_plan.saved is not None:
        check_store(the_plan, store, path)
    counts = the_plan.summary()
    confirm(
        yes,
        f"Apply these changes to {shown_url(store_url(ctx))}: {counts['create']} to create, "
        f"{counts['update']} to update, {counts['delete']} to delete?",
    )
    notifier = notifier_from(options) if welcome else None
    try:
        with library_errors(), status(console_, "Applying…"):
            result = apply_plan(the_plan, store, notifier=notifier, permissions=permissions)
    except Refused as e:
        if isinstance(e.__cause__, StalePlanError):
            raise Refused(explain_stale(the_plan, store, path)) from e
        raise
    undo = save_undo(result, undo_out, store)
    if path is not None:
        record_applied(path, store, undo)
    show_result(console_, result, undo)
    unsent = save_unsent(result, store)
    if doc is not None:
        doc["result"] = result_json(result, undo)
        doc["unsent_file"] = None if unsent is None else str(unsent)
    if unsent is not None:
        raise Failed(
            f"{len(result.not_notified)} welcome emails were not sent (the import itself was "
            f"applied); send them again with: userimport user welcome --retry {unsent}"
        )
    if doc is not None:
        emit(doc, code)
    ctx.exit(code)


def json_needs_yes(options: dict[str, Any], yes: bool) -> None:
    """``--json`` output cannot hold a question: it needs ``--yes``."""
    if options.get("as_json") and not yes:
        raise click.UsageError(
            "--json needs --yes: the JSON document cannot ask for a confirmation"
        )


@cli.command(name="apply")
@click.argument("plan_file", metavar="PLAN", type=click.Path(exists=True, dir_okay=False))
@yes_option
@click.option("--undo-out", type=click.Path(dir_okay=False), help="Where to save the undo plan.")
@permission_options
@smtp_options
@output_options
@store_options
@click.pass_context
def apply_command(
    ctx: click.Context, /, plan_file: str, yes: bool, undo_out: str | None, **options: Any
) -> None:
    """
    Apply a saved plan, checked against the store and signed by it.

    Refused if the store changed since the plan was made, if the file was changed after it
    was made, or if it needs more than the permission options given here allow (the
    settings written in the file are never taken as permissions).

    \b
    Example:
        userimport apply plan.json --yes
        userimport apply plan.json --delete-admins --max-deletes 200
    """
    _apply_saved(ctx, plan_file, undo=False, yes=yes, undo_out=undo_out, options=options)


@cli.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@read_options
@mapping_options
@settings_options
@recipe_options
@yes_option
@click.option("--undo-out", type=click.Path(dir_okay=False), help="Where to save the undo plan.")
@smtp_options
@output_options
@store_options
@click.pass_context
def import_command(
    ctx: click.Context, /, file: str, yes: bool, undo_out: str | None, **options: Any
) -> None:
    """
    Plan an import, show it, ask, apply it, and save the plan that undoes it.

    Exits with 1 when some rows had problems (they were left out).

    \b
    Example:
        userimport import staff.xlsx --on-existing skip --yes
    """
    json_needs_yes(options, yes)
    if options["welcome_email"]:
        require_mail_server(options)
    doc: dict[str, Any] | None = {"command": "import", "file": file} if options["as_json"] else None
    with json_errors(doc):
        _, _, _, review, the_plan = _planned(ctx, file, options, doc)
        code = EXIT_OK if review.is_valid else EXIT_PROBLEMS
        _apply(ctx, the_plan, yes=yes, undo_out=undo_out, options=options, doc=doc, code=code)


@cli.command()
@click.argument("undo_file", metavar="UNDO", type=click.Path(exists=True, dir_okay=False))
@yes_option
@permission_options
@output_options
@store_options
@click.pass_context
def undo(ctx: click.Context, /, undo_file: str, yes: bool, **options: Any) -> None:
    """
    Undo an import with the undo plan it saved (and nothing but an undo plan).

    Undoing needs the permissions the import needed: an import that created 80 users is
    undone with --max-deletes 80, one that granted admin rights with --admin-rights.

    \b
    Example:
        userimport undo userimport-undo-20261124-101500.json --yes
    """
    _apply_saved(ctx, undo_file, undo=True, yes=yes, undo_out=None, options=options)


@cli.command()
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False))
@store_options
@click.pass_context
def demo(ctx: click.Context, file: str | None) -> None:
    """
    Import the sample file shipped with userimport (or FILE) into a demo store, and show it.

    The demo store is demo.db in the current folder, never the store of USERIMPORT_DB or
    users.db: only a --db given on this command line is used instead.

    \b
    Example:
        userimport demo
        userimport demo --db sqlite:///try.db
    """
    from importlib import resources

    from .apply import apply_plan
    from .pipeline import prepare as prepare_file
    from .plan import plan_import

    console_ = console()
    source = file or str(resources.files("userimport").joinpath("data/sample_users.csv"))
    root = ctx.find_root()
    url = root.meta.get(DB_KEY)
    if url is None and root.get_parameter_source("db") == click.core.ParameterSource.COMMANDLINE:
        url = root.params["db"]
    url = url or DEMO_DB
    store = repository(ctx, url=url, create=True, quiet=True)
    console_.print(f"Importing {source} into the demo store {shown_url(url)}")
    with library_errors():
        prepared = prepare_file(source)
        table, header_row, review = prepared.table, prepared.header_row, prepared.review
        show_read(console_, table, header_row)
        show_mapping(console_, review.mapping)
        show_issues(console_, review)
        the_plan = plan_import(review, store)
        show_plan(console_, the_plan)
        if not the_plan.is_empty:
            result = apply_plan(the_plan, store)
            show_result(console_, result, None)
        again = plan_import(review, store)
    console_.print(
        "Planning the same file again: "
        + ("nothing to do." if again.is_empty else str(again.summary()))
    )
    console_.print(
        f"The demo users are in {shown_url(url)}; list them with: "
        f"userimport users --db {shown_url(url)}"
    )


@cli.command()
@click.option("--search", help="Only users whose email, name, department or a group has TEXT.")
@click.option("--limit", default=50, show_default=True, help="Show at most this many users.")
@store_options
@click.pass_context
def users(ctx: click.Context, search: str | None, limit: int) -> None:
    """
    List the users of the store (email, name, department, groups, admin).

    \b
    Example:
        userimport users --search sales
    """
    from ._display import show_users

    with library_errors():
        snapshot = repository(ctx).snapshot()
    found = sorted(snapshot.users.values(), key=lambda u: u.key)
    if search:
        needle = search.casefold()
        found = [
            u
            for u in found
            if any(
                needle in text.casefold()
                for text in (u.email, u.first_name, u.last_name, u.department or "", *u.groups)
            )
        ]
    show_users(console(), found, total=len(snapshot.users), limit=limit)


cli.add_command(user)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to bind.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--token", envvar="USERIMPORT_TOKEN", help="Require this token (also USERIMPORT_TOKEN)."
)
@click.option("--behind-auth", is_flag=True, help="A proxy in front authenticates every request.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes; they share the imports in progress through --session-dir.",
)
@click.option(
    "--session-dir",
    type=click.Path(file_okay=False),
    help="Keep imports in progress in this folder (default: in memory with one worker, a "
    "private temporary folder with several).",
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    token: str | None,
    behind_auth: bool,
    workers: int,
    session_dir: str | None,
) -> None:
    """
    Serve the import wizard and the users pages in a browser (needs the web extra).

    Binds 127.0.0.1 unless told otherwise; another address needs --token or --behind-auth.

    \b
    Example:
        userimport serve --port 8000
        userimport serve --workers 2
    """
    try:
        from .web.serve import check_host, run
    except ImportError as e:
        raise click.UsageError("serve needs the web extra: pip install 'userimport[web]'") from e
    with library_errors():
        check_host(host, token=token, behind_auth=behind_auth)  # before the store is opened
        run(
            repository(ctx),
            host=host,
            port=port,
            token=token,
            behind_auth=behind_auth,
            workers=workers,
            session_dir=session_dir,
            url=store_url(ctx),
        )


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return its exit code."""
    try:
        code = cli.main(args=argv, prog_name="userimport", standalone_mode=False)
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return EXIT_REFUSED
    return code if isinstance(code, int) else EXIT_OK

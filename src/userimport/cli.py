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
import os
import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

try:
    import click
    import rich  # noqa: F401
except ImportError as e:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "the userimport command line needs the 'cli' extra: pip install 'userimport[cli]'"
    ) from e

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
    visible,
    write_rejects,
)
from .errors import (
    HeaderError,
    MappingError,
    PlanError,
    ReviewError,
    SettingsError,
    StalePlanError,
    UserImportError,
)
from .fields import load_schema

if TYPE_CHECKING:
    from .apply import ApplyResult
    from .mapping import ColumnMapping
    from .model import ImportSettings, Permissions
    from .notify import SmtpNotifier
    from .plan import Plan
    from .read import RawTable
    from .recipe import Drift
    from .repository import UserRepository
    from .review import Review
    from .sql import SqlUserRepository

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_PROBLEMS",
    "EXIT_REFUSED",
    "EXIT_USAGE",
    "cli",
    "main",
]

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3
EXIT_FAILED = 4

DEFAULT_DB = "sqlite:///users.db"

#: Where ``demo`` imports, unless a ``--db`` is given on its command line.
DEMO_DB = "sqlite:///demo.db"

F = TypeVar("F", bound=Callable[..., Any])


class Refused(click.ClickException):
    """The library refused to go on (stale plan, deletion limit, declined)."""

    exit_code = EXIT_REFUSED


class Failed(click.ClickException):
    """A file or the store could not be read or written."""

    exit_code = EXIT_FAILED


@contextmanager
def library_errors() -> Iterator[None]:
    """Turn library errors into click errors with the documented exit codes."""
    try:
        yield
    except PlanError as e:
        raise Refused(visible(plain(str(e)))) from e
    except (MappingError, SettingsError, HeaderError, ReviewError) as e:
        raise click.UsageError(visible(plain(str(e)))) from e
    except UserImportError as e:
        raise Failed(visible(plain(str(e)))) from e


#: Where ``--db`` and ``--create`` given after a subcommand are kept (on the root context).
_DB_KEY = "userimport.db"
_CREATE_KEY = "userimport.create"
_STORE_KEY = "userimport.store"


def _remember(key: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        if value:
            ctx.find_root().meta[key] = value

    return callback


def store_url(ctx: click.Context) -> str:
    """The store URL: ``--db`` after the subcommand, else before it, else USERIMPORT_DB."""
    root = ctx.find_root()
    return str(root.meta.get(_DB_KEY) or root.params["db"])


def shown_url(url: str) -> str:
    """``url`` as the person gave it, with any password hidden."""
    import sqlalchemy as sa

    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url


def _sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, or None for another database (or an in-memory one)."""
    import sqlalchemy as sa

    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if database.startswith("file:"):
        database = database[5:].partition("?")[0]
    return None if database in ("", ":memory:") else Path(database)


def store_exists(url: str, store: UserRepository) -> bool:
    """Whether the store holds userimport's tables (a SQLite file: whether the file exists)."""
    import sqlalchemy as sa

    from .sql import SqlUserRepository

    path = _sqlite_path(url)
    if path is not None:
        return path.exists()
    assert isinstance(store, SqlUserRepository)
    with store.engine.connect() as conn:
        return bool(sa.inspect(conn).has_table("meta"))


def repository(
    ctx: click.Context, *, url: str | None = None, create: bool = False, quiet: bool = False
) -> SqlUserRepository:
    """
    The store named by ``--db`` / ``USERIMPORT_DB``, named on the output.

    A store that does not exist yet (a SQLite file that is not there, a database without
    userimport's tables) is refused unless ``--create`` was given (or ``create``): a typo in
    ``--db`` must not make a new, empty store that a plan then fills. An in-memory SQLite
    database is refused: it would live for one command only, so a saved plan would always
    look stale (as if another writer had changed the store) and nothing applied would be kept.
    """
    from .sql import SqlUserRepository

    url = url or store_url(ctx)
    opened = ctx.find_root().meta.get(_STORE_KEY)
    if opened is not None and opened[0] == url:
        return opened[1]  # type: ignore[no-any-return]
    create = create or bool(ctx.find_root().meta.get(_CREATE_KEY))
    with library_errors():
        store = SqlUserRepository(url, schema=load_schema(os.environ.get("USERIMPORT_SCHEMA")))
    if store.in_memory:
        store.close()
        raise click.BadParameter(
            f"{visible(store.url)} is an in-memory SQLite database, which lives only while one "
            "command runs: nothing would be kept, and a saved plan would always look stale; "
            "give a file, e.g. --db sqlite:///users.db",
            param_hint="'--db' / USERIMPORT_DB",
        )
    ctx.call_on_close(store.close)
    with library_errors():
        exists = store_exists(url, store)
    if not exists and not create:
        raise click.UsageError(
            f"there is no user store at {visible(shown_url(url))}; check --db (or USERIMPORT_DB), "
            "or pass --create to make a new, empty store there"
        )
    ctx.find_root().meta[_STORE_KEY] = (url, store)
    if not quiet:
        console(stderr=True).print(
            f"Store: {visible(shown_url(url))}" + ("" if exists else " (new: created empty)")
        )
    return store


# -- shared options -------------------------------------------------------------------------


def _stack(*options: Callable[[F], F]) -> Callable[[F], F]:
    """One decorator applying several click options, in the order they are listed."""

    def apply(f: F) -> F:
        for option in reversed(options):
            f = option(f)
        return f

    return apply


#: ``--db`` and ``--create``, accepted after the subcommand as well as before it.
store_options = _stack(
    click.option(
        "--db",
        "_db",
        metavar="URL",
        expose_value=False,
        callback=_remember(_DB_KEY),
        help="The user store (as before the command; this one wins).",
    ),
    click.option(
        "--create",
        "_create",
        is_flag=True,
        expose_value=False,
        callback=_remember(_CREATE_KEY),
        help="Make the store if it does not exist yet (refused otherwise).",
    ),
)


def _quiet(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value:
        set_quiet(True)
    return value


#: ``--json`` (one JSON document on standard output, nothing else) and ``-q``.
output_options = _stack(
    click.option(
        "--json",
        "as_json",
        is_flag=True,
        callback=_quiet,
        help="Print one JSON document (summary, issues, entries, warnings, blocked, result) "
        "on standard output, and nothing else; errors too are in it.",
    ),
    click.option("-q", "--quiet", is_flag=True, callback=_quiet, help="Print nothing but errors."),
)


def emit(doc: dict[str, Any], code: int) -> None:
    """Print the ``--json`` document with its exit code."""
    doc["exit_code"] = code
    click.echo(json.dumps(doc, ensure_ascii=False, default=str))


@contextmanager
def json_errors(doc: dict[str, Any] | None) -> Iterator[None]:
    """With ``--json``, an error ends the document too (``error``, ``exit_code``)."""
    try:
        yield
    except click.ClickException as e:
        if doc is not None:
            doc["error"] = e.format_message()
            emit(doc, e.exit_code)
        raise


#: Options of reading and header detection.
read_options = _stack(
    click.option("--sheet", help="The worksheet to read (XLSX); default: the user table."),
    click.option("--encoding", help="The text encoding (CSV); default: detected."),
    click.option("--delimiter", help="The field delimiter (CSV); default: detected."),
    click.option(
        "--header-row",
        default="auto",
        show_default=True,
        help="The spreadsheet row (1 = first) holding the headers, 'none', or 'auto'.",
    ),
    click.option(
        "--max-rows",
        default="5000",
        show_default=True,
        help="Refuse files with more data rows; 'none' for no limit.",
    ),
)


#: Options of column mapping and review.
mapping_options = _stack(
    click.option(
        "--map",
        "maps",
        multiple=True,
        metavar="COLUMN=PROPERTY",
        help="Map a column (header text or letter) to a property, e.g. 'Mail=email', "
        "'F=attributes.title', 'Notes=' to leave it out. Repeatable.",
    ),
    click.option(
        "--group-columns",
        metavar="COLUMNS",
        help="Comma-separated columns that all feed user groups.",
    ),
    click.option("--group-separator", help="The separator between groups in one cell."),
    click.option(
        "--department-as-group",
        is_flag=True,
        default=None,
        help="Also add each user's department as a group.",
    ),
    click.option(
        "--skip-row",
        "skip_rows",
        multiple=True,
        type=int,
        metavar="N",
        help="Leave spreadsheet row N out of the import. Repeatable.",
    ),
)


#: What the person running the command allows: the settings that are permissions.
permission_options = _stack(
    click.option(
        "--max-deletes",
        default="50",
        show_default=True,
        help="Refuse to delete more users than this; 'none' for no limit.",
    ),
    click.option(
        "--max-delete-fraction",
        default="0.1",
        show_default=True,
        help="Refuse to delete more than this share of the store's users (0.1 or 10%); "
        "'none' for no limit.",
    ),
    click.option("--delete-admins", is_flag=True, help="Let the import delete admins."),
    click.option(
        "--admin-rights", is_flag=True, help="Let the import grant or revoke admin rights."
    ),
)

#: The permission options, by the parameter names click gives them.
PERMISSION_PARAMS = ("max_deletes", "max_delete_fraction", "delete_admins", "admin_rights")

#: The import settings.
settings_options = _stack(
    click.option(
        "--on-existing",
        type=click.Choice(["update", "skip"]),
        default="update",
        show_default=True,
        help="What to do with users that already exist.",
    ),
    click.option(
        "--groups",
        "groups_mode",
        type=click.Choice(["add", "replace"]),
        default="add",
        show_default=True,
        help="Add the file's groups to a user's, or replace them.",
    ),
    click.option(
        "--delete-missing",
        is_flag=True,
        help="Delete users that are not in the file (mirror mode).",
    ),
    permission_options,
    click.option("--welcome-email", is_flag=True, help="Send a welcome email to created users."),
)


#: Where welcome emails are sent from (also from USERIMPORT_SMTP_* variables).
smtp_options = _stack(
    click.option(
        "--smtp-host",
        envvar="USERIMPORT_SMTP_HOST",
        help="The mail server of welcome emails (also USERIMPORT_SMTP_HOST); none by default, "
        "and welcome emails are refused without one.",
    ),
    click.option("--smtp-port", envvar="USERIMPORT_SMTP_PORT", default=25, type=int),
    click.option("--smtp-user", envvar="USERIMPORT_SMTP_USER"),
    click.option("--smtp-password", envvar="USERIMPORT_SMTP_PASSWORD"),
    click.option("--smtp-starttls", envvar="USERIMPORT_SMTP_STARTTLS", is_flag=True),
    click.option(
        "--sender",
        envvar="USERIMPORT_SENDER",
        default="noreply@localhost",
        help="The From address of welcome emails.",
    ),
    click.option("--app-name", envvar="USERIMPORT_APP_NAME", default="the app"),
    click.option(
        "--login-url",
        envvar="USERIMPORT_LOGIN_URL",
        default="",
        help="Where to sign in, linked from the welcome email.",
    ),
    click.option(
        "--welcome-language",
        envvar="USERIMPORT_WELCOME_LANGUAGE",
        type=click.Choice(["en", "nb"]),
        default="en",
        show_default=True,
        help="The language of the built-in welcome email.",
    ),
    click.option(
        "--welcome-subject",
        envvar="USERIMPORT_WELCOME_SUBJECT",
        help="The welcome email's subject ($first_name, $last_name, $email, $app_name, "
        "$login_url); default: the language's.",
    ),
    click.option(
        "--welcome-text",
        envvar="USERIMPORT_WELCOME_TEXT",
        type=click.Path(exists=True, dir_okay=False),
        help="A file holding the plain-text body (the subject's fields and $login_line).",
    ),
    click.option(
        "--welcome-html",
        envvar="USERIMPORT_WELCOME_HTML",
        type=click.Path(exists=True, dir_okay=False),
        help="A file holding the HTML body (values are escaped); with --welcome-text only, "
        "the email is plain text.",
    ),
)


def recipe_options(f: F) -> F:
    """``--recipe`` to replay saved decisions, ``--save-recipe`` to save them."""
    f = click.option(
        "--save-recipe",
        type=click.Path(dir_okay=False),
        help="Save every decision made for this file, to replay on the next one.",
    )(f)
    return click.option(
        "--recipe",
        type=click.Path(exists=True, dir_okay=False),
        help="Replay a saved recipe: its reading options, mapping, row edits and settings "
        "replace the options given here (--map and the group options change its mapping); "
        "every drift is reported.",
    )(f)


def yes_option(f: F) -> F:
    """``--yes``: do not ask for confirmation."""
    return click.option("--yes", "-y", is_flag=True, help="Apply without asking.")(f)


def _limit(value: str, name: str) -> int | None:
    if value.strip().lower() == "none":
        return None
    try:
        return int(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a whole number or 'none'", param_hint=name
        ) from None


def _fraction(value: str, name: str) -> float | None:
    text = value.strip().lower()
    if text == "none":
        return None
    try:
        number = float(text.removesuffix("%")) / (100 if text.endswith("%") else 1)
    except ValueError:
        number = -1.0
    if not 0 <= number <= 1:
        raise click.BadParameter(
            f"{value!r} is not a share from 0 to 1 (or 0% to 100%), or 'none'", param_hint=name
        )
    return number


def permissions_from(options: dict[str, Any]) -> Permissions:
    """Permissions from the ``permission_options``."""
    from .model import Permissions

    return Permissions(
        admin_rights=options["admin_rights"],
        delete_admins=options["delete_admins"],
        max_deletes=_limit(options["max_deletes"], "--max-deletes"),
        max_delete_fraction=_fraction(options["max_delete_fraction"], "--max-delete-fraction"),
    )


def notifier_from(options: dict[str, Any]) -> SmtpNotifier:
    """An SMTP notifier from the ``smtp_options``."""
    from .notify import SmtpNotifier

    def read(name: str) -> str | None:
        path = options.get(name)
        return None if path is None else Path(path).read_text(encoding="utf-8")

    text, page = read("welcome_text"), read("welcome_html")
    if text is not None and page is None:
        page = ""  # a body given as text only: no built-in HTML part saying something else
    with library_errors():
        return SmtpNotifier(
            options["smtp_host"],
            options["smtp_port"],
            sender=options["sender"],
            app_name=options["app_name"],
            login_url=options["login_url"],
            username=options["smtp_user"],
            password=options["smtp_password"],
            starttls=options["smtp_starttls"],
            subject=options["welcome_subject"],
            text_template=text,
            html_template=page,
            language=options["welcome_language"],
        )


def require_mail_server(options: dict[str, Any]) -> None:
    """Refuse welcome emails, before anything changes, when no mail server is configured."""
    if not options.get("smtp_host"):
        raise click.UsageError(
            "welcome emails need a mail server, and none is configured: give --smtp-host HOST "
            "(or set USERIMPORT_SMTP_HOST), or leave out --welcome-email; nothing was changed"
        )


def save_unsent(result: ApplyResult, store: UserRepository) -> Path | None:
    """Save the emails of the welcome emails not sent, for ``user welcome --retry``."""
    if not result.not_notified:
        return None
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    target = Path(f"userimport-unsent-{stamp}.json")
    document = {"store": store_label(store), "emails": list(result.not_notified)}
    target.write_text(json.dumps(document, indent=1, ensure_ascii=False), encoding="utf-8")
    return target


def store_label(store: UserRepository) -> str:
    """The store's URL without its password (or its repr for a store that is not SQL)."""
    return str(getattr(store, "url", repr(store))).replace("sqlite+pysqlite:", "sqlite:")


def settings_from(options: dict[str, Any]) -> ImportSettings:
    """ImportSettings from the ``settings_options``."""
    from .model import ImportSettings

    settings = ImportSettings(
        on_existing=options["on_existing"],
        groups=options["groups_mode"],
        delete_missing=options["delete_missing"],
        send_welcome_email=options["welcome_email"],
    )
    return permissions_from(options).to_settings(settings)


# -- the pipeline up to a review ------------------------------------------------------------


def load_pandera() -> None:
    """
    Import pandera for validation without hypothesis, unless something loaded hypothesis.

    pandera imports hypothesis, when it is installed, for the data synthesis no command uses
    (a fifth of a second at start-up); a command that validates loads pandera through here
    first, with hypothesis held off for that import only.
    """
    if "hypothesis" in sys.modules or "pandera.strategies.pandas_strategies" in sys.modules:
        return
    sys.modules["hypothesis"] = None  # type: ignore[assignment]  # makes the import fail
    try:
        import pandera.backends.pandas.builtin_checks  # noqa: F401  # loads the strategies
    finally:
        del sys.modules["hypothesis"]


def prepare(file: str, options: dict[str, Any]) -> tuple[RawTable, int | None, Review]:
    """Read, find the header, map and validate, honouring every option given."""
    from .pipeline import ImportOptions
    from .pipeline import prepare as prepare_file

    load_pandera()
    header_option = str(options["header_row"]).strip().lower()

    def header_row(table: RawTable) -> int | None:
        if header_option == "none":
            return None
        number = _limit(header_option, "--header-row")
        if number is None or number < table.first_row:
            raise click.BadParameter(
                "give a row number, 'none' or 'auto'", param_hint="--header-row"
            )
        return number - table.first_row

    chosen = ImportOptions(
        sheet=options["sheet"],
        encoding=options["encoding"],
        delimiter=options["delimiter"],
        max_rows=_limit(options["max_rows"], "--max-rows"),
        header_row="auto" if header_option == "auto" else header_row,
        remap=lambda mapping: apply_mapping_options(mapping, options),
        skip_rows=options["skip_rows"] or (),
        schema=load_schema(os.environ.get("USERIMPORT_SCHEMA")),
    )
    with console().status("Reading and checking…"):
        prepared = prepare_file(file, chosen)
    return prepared.table, prepared.header_row, prepared.review


def prepare_with_recipe(
    file: str, options: dict[str, Any]
) -> tuple[RawTable, int | None, Review, ImportSettings]:
    """Prepare the review from a recipe (reporting drift) or from the options; save a recipe."""
    if options.get("recipe"):
        from .recipe import Recipe, replay

        load_pandera()
        recipe = Recipe.from_json(Path(options["recipe"]).read_text(encoding="utf-8"))
        replayed = replay(
            recipe,
            file,
            max_rows=_limit(options["max_rows"], "--max-rows"),
            remap=lambda mapping: apply_mapping_options(mapping, options),
            schema=load_schema(os.environ.get("USERIMPORT_SCHEMA")),
        )
        out = console()
        mapped = {item.partition("=")[0].strip() for item in options["maps"]}
        for drift in replayed.drift:
            out.print(f"Drift: {drift.message}{drift_hint(drift, mapped)}")
        table, header_row, review = replayed.table, replayed.header_row, replayed.review
        # A recipe carries no permissions: those given on the command line win over it.
        ctx = click.get_current_context()
        given = {
            name
            for name in PERMISSION_PARAMS
            if ctx.get_parameter_source(name) not in (None, click.core.ParameterSource.DEFAULT)
        }
        chosen = attrs.asdict(permissions_from(options))
        settings = attrs.evolve(replayed.settings, **{n: chosen[n] for n in given})
    else:
        table, header_row, review = prepare(file, options)
        settings = settings_from(options)
    if options.get("save_recipe"):
        from .recipe import Recipe

        recipe = Recipe.from_review(review, table, header_row, settings)
        Path(options["save_recipe"]).write_text(recipe.to_json(), encoding="utf-8")
        console().print(f"Saved the recipe to {options['save_recipe']}.")
    return table, header_row, review, settings


def drift_hint(drift: Drift, mapped: set[str]) -> str:
    """How to fix a column drift from the command line (nothing if ``--map`` already did)."""
    if drift.target is None:
        return ""
    if drift.kind == "column_renamed" and drift.column is not None:
        if drift.column in mapped:
            return f"; mapped to {drift.target} by --map"
        return f"; if it is, fix it with: --map {shlex.quote(f'{drift.column}={drift.target}')}"
    if drift.kind == "column_missing":
        return f"; if another column holds it now: --map 'COLUMN={drift.target}'"
    return ""


def apply_mapping_options(mapping: ColumnMapping, options: dict[str, Any]) -> ColumnMapping:
    """The suggested mapping changed by ``--map``, ``--group-columns`` and friends."""
    for item in options["maps"]:
        column, sep, target = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r} is not COLUMN=PROPERTY", param_hint="--map")
        mapping = mapping.map(column.strip(), target.strip() or None)
    if options["group_columns"]:
        for column in options["group_columns"].split(","):
            if column.strip():
                mapping = mapping.map(column.strip(), "groups")
    if options["group_separator"]:
        mapping = mapping.with_group_separator(options["group_separator"])
    if options["department_as_group"]:
        mapping = mapping.with_department_as_group(True)
    return mapping


def confirm(yes: bool, question: str) -> None:
    """Ask before changing the store, unless ``--yes``; refuse without a terminal."""
    if yes:
        return
    if not sys.stdin.isatty() and not os.environ.get("USERIMPORT_ASSUME_TTY"):
        raise Refused("not applied: pass --yes to apply without a terminal to confirm at")
    if not click.confirm(visible(question), default=False):
        console().print("Not applied: nothing was changed.")
        click.get_current_context().exit(EXIT_REFUSED)


def store_id(secret: bytes | None) -> str | None:
    """A stable id of a store: a digest of its plan secret (which it does not reveal)."""
    if secret is None:
        return None
    import hashlib
    import hmac

    return hmac.new(secret, b"userimport store id", hashlib.sha256).hexdigest()[:16]


def stamped(the_plan: Plan, store: UserRepository, secret: bytes | None) -> Plan:
    """``the_plan`` naming the store it belongs to (URL without password, and its id)."""
    return attrs.evolve(the_plan, store=store_label(store), store_id=store_id(secret))


def check_store(the_plan: Plan, store: UserRepository, path: str) -> None:
    """Refuse, in words, a plan file made for another store than the one given."""
    from .repository import plan_secret

    if the_plan.store_id is None:
        return
    with library_errors():
        here = store_id(plan_secret(store))
    if here != the_plan.store_id:
        raise Refused(
            f"{visible(path)} was made for the store {visible(the_plan.store or '?')} "
            f"(id {the_plan.store_id}), not for {visible(store_label(store))}"
            + (f" (id {here})" if here else "")
            + "; give that store with --db, or plan again for this one; nothing was changed"
        )


def save_undo(result: ApplyResult, path: str | None, store: UserRepository) -> Path:
    """Save the undo plan, signed with the store's secret, and return where."""
    from .repository import plan_secret

    if path is None:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        path = f"userimport-undo-{stamp}.json"
    target = Path(path)
    with library_errors():
        secret = plan_secret(store)
        stamped(result.undo, store, secret).write_json(target, indent=1, secret=secret)
    return target


def read_plan(path: str, *, undo: bool, permissions: Permissions) -> Plan:
    """
    Read a saved plan for ``apply`` (``undo=False``) or ``undo`` (``undo=True``).

    Its settings show the ``permissions`` given here instead of the file's, so that what is
    shown as blocked before asking is what applying will refuse.
    """
    from .plan import Plan

    with library_errors():
        the_plan = Plan.from_json(Path(path).read_text(encoding="utf-8"))
    if undo and not the_plan.is_undo:
        raise Refused(
            f"{path} is not an undo plan (undo applies only the plans an apply saved to undo "
            f"it); apply it with: userimport apply {path}"
        )
    if not undo and the_plan.is_undo:
        raise Refused(f"{path} is an undo plan; apply it with: userimport undo {path}")
    return attrs.evolve(the_plan, settings=permissions.to_settings(the_plan.settings))


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
    callback=_remember(_CREATE_KEY),
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
        path = write_template(file, schema=load_schema(os.environ.get("USERIMPORT_SCHEMA")))
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
        with library_errors(), console_.status("Applying…"):
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
    url = root.meta.get(_DB_KEY)
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


# -- single-user actions --------------------------------------------------------------------


@cli.group()
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

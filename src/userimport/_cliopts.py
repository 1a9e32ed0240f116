"""
What the ``userimport`` commands share: exit codes and errors, the store named by ``--db``,
the option groups, reading and checking a file up to its review, confirmations, and saved
plans (split out of :mod:`userimport.cli`).
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    plain,
    set_quiet,
    status,
    visible,
)
from .errors import (
    HeaderError,
    MappingError,
    PlanError,
    ReviewError,
    SettingsError,
    UserImportError,
)
from .fields import schema_from_environment

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
DB_KEY = "userimport.db"
CREATE_KEY = "userimport.create"
_STORE_KEY = "userimport.store"


def remember(key: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        if value:
            ctx.find_root().meta[key] = value

    return callback


def store_url(ctx: click.Context) -> str:
    """The store URL: ``--db`` after the subcommand, else before it, else USERIMPORT_DB."""
    root = ctx.find_root()
    return str(root.meta.get(DB_KEY) or root.params["db"])


def shown_url(url: str) -> str:
    """``url`` as the person gave it, with any password hidden."""
    from ._sqlschema import read_url

    try:
        return read_url(url).render_as_string(hide_password=True)
    except ValueError:
        return url


def _sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, or None for another database (or an in-memory one)."""
    from ._sqlschema import read_url

    parsed = read_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if database.startswith("file:"):
        database = database[5:].partition("?")[0]
    return None if database in ("", ":memory:") else Path(database)


def store_exists(url: str, store: UserRepository) -> bool:
    """Whether the store holds userimport's tables (a SQLite file: whether the file exists)."""
    from .sql import SqlUserRepository

    path = _sqlite_path(url)
    if path is not None:
        return path.exists()
    import sqlalchemy as sa

    assert isinstance(store, SqlUserRepository)
    # The repository's own wording of a failure: the password hidden, no traceback.
    with store._guard("reach the store"), store.engine.connect() as conn:
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
    create = create or bool(ctx.find_root().meta.get(CREATE_KEY))
    with library_errors():
        store = SqlUserRepository(url, schema=schema_from_environment())
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
        callback=remember(DB_KEY),
        help="The user store (as before the command; this one wins).",
    ),
    click.option(
        "--create",
        "_create",
        is_flag=True,
        expose_value=False,
        callback=remember(CREATE_KEY),
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


# -- the cyclic garbage collector while a command starts ------------------------------------

#: Whether :func:`hold_collector` turned the collector off and nothing turned it back on yet.
_held = [False]
#: The commands whose libraries are all loaded only once :func:`load_pandera` has run.
LOADS_PANDERA = frozenset({"plan", "import"})


def hold_collector() -> None:
    """
    Turn the cyclic garbage collector off while the command's libraries load.

    Loading pandas, pandera and the rest makes hundreds of thousands of objects that live as
    long as the process and no garbage, and each full collection during that start walks all
    of them again (a tenth of a second for ``plan``). The ``userimport`` script holds the
    collector from its first import; :func:`release_collector` turns it back on once the
    libraries are loaded, before any data is read. The library never does this.
    """
    gc.disable()
    _held[0] = True


def release_collector() -> None:
    """
    Turn the collector back on after :func:`hold_collector`, with what start-up made frozen.

    ``gc.freeze`` moves every object alive (modules, classes, functions) to the permanent
    generation, which later collections skip: they then walk only what the command made.
    """
    if _held[0]:
        _held[0] = False
        gc.freeze()
        gc.enable()


def load_pandera() -> None:
    """
    Import pandera for validation without hypothesis, unless something loaded hypothesis.

    pandera imports hypothesis, when it is installed, for the data synthesis no command uses
    (a fifth of a second at start-up); a command that validates loads pandera through here
    first, with hypothesis held off for that import only. Then every library a command that
    validates uses is loaded, and the collector held at start-up runs again
    (:func:`release_collector`).
    """
    loaded = "hypothesis" in sys.modules or "pandera.strategies.pandas_strategies" in sys.modules
    if not loaded:
        sys.modules["hypothesis"] = None  # type: ignore[assignment]  # makes the import fail
        try:
            import pandera.backends.pandas.builtin_checks  # noqa: F401  # loads the strategies
        finally:
            del sys.modules["hypothesis"]
    release_collector()


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
        schema=schema_from_environment(),
    )
    with status(console(), "Reading and checking…"):
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
            schema=schema_from_environment(),
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
        text = Path(path).read_text(encoding="utf-8")
        the_plan = Plan.from_json(text, schema=schema_from_environment())
    if undo and not the_plan.is_undo:
        raise Refused(
            f"{path} is not an undo plan (undo applies only the plans an apply saved to undo "
            f"it); apply it with: userimport apply {path}"
        )
    if not undo and the_plan.is_undo:
        raise Refused(f"{path} is an undo plan; apply it with: userimport undo {path}")
    return attrs.evolve(the_plan, settings=permissions.to_settings(the_plan.settings))

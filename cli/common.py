"""Shared pieces of the CLI: the Typer app, settings, the store, error printing."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from api.settings import Settings
from geodata.errors import GeodataError
from stations.errors import FieldError, StationsError, ValidationFailed, geodata_message
from stations.i18n import both
from stations.store.base import StationStore

if TYPE_CHECKING:  # building them imports the web stack: only when a command needs it
    from api.services import Services
    from stations.orgs.scope import ReadScope

__all__ = [
    "JsonFlag",
    "ReadAsOpt",
    "StationIdArg",
    "UserArg",
    "app",
    "console",
    "err_console",
    "field_line",
    "open_configured_store",
    "command_group",
    "open_services",
    "print_error",
    "progress_bar",
    "read_scope_as",
    "settings",
]

app = typer.Typer(
    name="stations",
    help="暖心驿站地图 Warm Stations — 户外劳动者驿站管理与查询 / rest-station registry and maps.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def command_group(name: str, help: str, **options: Any) -> typer.Typer:
    """A sub-command group (``stations NAME …``) added to the app: one place that says how
    groups behave (bare ``stations NAME`` prints the group's help unless told otherwise)."""
    group = typer.Typer(help=help, **{"no_args_is_help": True, **options})
    app.add_typer(group, name=name)
    return group


def _flag_shows_no_type(option: typer.core.TyperOption, ctx: Any) -> str | None:
    """A flag takes no value, so its help row shows ``--json``, not ``--json <bool>``.

    Typer draws every option's type column, flags (``--help`` included) too; one hook here
    covers every command instead of ``metavar=""`` on each flag."""
    if option.is_flag:
        return None
    return _typer_display_type_rich(option, ctx)


_typer_display_type_rich = typer.core.TyperOption.display_type_rich
typer.core.TyperOption.display_type_rich = _flag_shows_no_type  # type: ignore[method-assign,assignment]

#: The ``--json`` switch of the listing commands, one wording everywhere.
JsonFlag = Annotated[bool, typer.Option("--json", help="以 JSON 输出 / print JSON")]


def dry_run_flag(help: str) -> Any:
    """The ``--dry-run`` switch of a command that writes; ``help`` says what it leaves undone
    (``dry_run: Annotated[bool, dry_run_flag("…")] = False``)."""
    return typer.Option("--dry-run", is_flag=True, metavar="", help=help)


#: A station named by its id on the command line.
StationIdArg = Annotated[int, typer.Argument(help="驿站 id / station id")]
#: A staff user named by login name.
UserArg = Annotated[str, typer.Argument(help="用户登录名 / login name")]

#: ``--as USER`` on a command that reads (analysis, reports): that user's view.
ReadAsOpt = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="按该工作人员的视角：其所属机构及下级的驿站（默认全网）/ "
        "as this staff user: their organisation and everything below (default: the network)",
    ),
]

console = Console()
err_console = Console(stderr=True)


def settings() -> Settings:
    return Settings()


def _command_settings() -> Settings:
    """The service's settings with the command line's own statement limit.

    The service holds each statement to ``db_statement_timeout_s`` so a stalled database
    answers 503 instead of hanging riders; a command is run by an operator at a terminal
    (Ctrl-C stops it), and a national import or a year's report takes minutes, so commands
    wait ``cli_statement_timeout_s`` instead.
    """
    cfg = settings()
    limit = max(cfg.db_statement_timeout_s, cfg.cli_statement_timeout_s)
    return cfg.model_copy(update={"db_statement_timeout_s": limit})


@contextmanager
def open_services() -> Iterator[Services]:
    """The configured service's stores and clients, built by the same function as the app's
    (``api.services.build_services``), closed when the command is done."""
    from api.services import build_services

    services = build_services(_command_settings())
    try:
        yield services
    finally:
        services.close()


def open_configured_store() -> StationStore:
    """The store at STATIONS_DATABASE_URL (migrated on open), for commands that need no more.

    Opened with the same limits as ``build_services`` opens it."""
    from stations.store import open_store

    cfg = _command_settings()
    return open_store(cfg.database_url, cfg.store_limits())


def read_scope_as(store: StationStore, as_user: str | None) -> ReadScope:
    """The stations a command reads for ``--as USER``: that user's organisation and below,
    as the service shows them (``SqlOrgStore.read_scope``, the same rule as the API's).

    Without ``--as`` the command line reads the whole network: it has the database, so no
    scope could hold it back. An unknown user is an error, not silently the whole network.
    """
    from stations.orgs.scope import EVERYWHERE
    from stations.store.orgs import SqlOrgStore

    if as_user is None:
        return EVERYWHERE
    orgs = SqlOrgStore.beside(store)
    orgs.user_org(as_user)  # NotFound for an unknown user
    return orgs.read_scope(as_user)


def field_line(item: FieldError) -> str:
    """One field error as staff read it: Chinese (row, field, reason), then the English."""
    zh = item.text("zh-CN")
    if zh == item.message:
        return str(item)
    where = f"第 {item.row} 行 " if item.row is not None else ""
    return f"{where}{item.field}：{zh}  ({item})"


def print_error(exc: BaseException) -> None:
    """One line per problem on stderr: "错误 error: …", Chinese first."""
    if isinstance(exc, ValidationFailed):
        err_console.print(
            f"[bold red]错误 error[/]: {both(exc.title)}: {len(exc.errors)} 处问题 problem(s)",
            highlight=False,
            markup=True,
        )
        for item in exc.errors:
            err_console.print(
                f"  {field_line(item)}", highlight=False, markup=False, soft_wrap=True
            )
        return
    message = str(exc) or exc.__class__.__name__
    zh = None
    if isinstance(exc, StationsError):
        zh = exc.text("zh-CN")
    elif isinstance(exc, GeodataError) and (geodata := geodata_message(exc)) is not None:
        zh = geodata.text("zh-CN")
    if zh and zh != message:
        message = f"{zh} / {message}"
    print(f"错误 error: {message}", file=sys.stderr)


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress callback that draws a bar only once the work has taken over a second."""
    from rich.progress import Progress

    started = time.monotonic()
    progress: Progress | None = None
    task = None

    def update(done: int, total: int) -> None:
        nonlocal progress, task
        if progress is None:
            if time.monotonic() - started < 1.0:
                return
            progress = Progress(console=err_console, transient=True)
            progress.start()
            task = progress.add_task(label, total=total)
        assert task is not None
        progress.update(task, completed=done, total=total)

    try:
        yield update
    finally:
        if progress is not None:
            progress.stop()

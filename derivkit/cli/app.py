"""The root Typer app: global options, their hoisting, and the per-invocation state.

Global options may stand before or after the command (``derivkit --json balance`` and
``derivkit balance --json``): :class:`HoistingGroup` moves them in front before parsing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from derivkit import __version__
from derivkit.settings import option_help, setting

if TYPE_CHECKING:
    from derivkit.settings import Settings

__all__ = ["CliState", "app", "examples", "hoist_global_options", "settings"]

GLOBAL_FLAGS = frozenset({"--json", "--sim", "-v", "--verbose"})
GLOBAL_VALUED = frozenset({"--endpoint", "--token", "--app-id"})
# Sub-apps whose own options share a valued global option's name (``sim serve --token``): only
# the global flags (--json, -v) move out of them.
NOT_HOISTED = frozenset({"sim"})
GLOBALS_EPILOG = (
    "Global options (--json, --sim, --token, --endpoint, --app-id, -v) may also follow the command."
)


#: ``--csv`` on a listing command: the raw values as CSV on stdout (``Output.csv``).
CsvFlag = Annotated[
    bool, typer.Option("--csv", help="CSV on stdout (raw values), for spreadsheets and scripts.")
]


def examples(*lines: str) -> str:
    """A command's epilog: example command lines, then the note on global options."""
    return "Examples:\n\n" + "".join(f"  {line}\n\n" for line in lines) + GLOBALS_EPILOG


def hoist_global_options(args: list[str]) -> list[str]:
    """Move global options found after the command name in front of it."""
    position = 0
    while position < len(args):
        arg = args[position]
        if arg in GLOBAL_VALUED:
            position += 2
        elif arg.startswith("-"):
            position += 1
        else:
            break
    if position >= len(args):
        return args
    head, command, tail = args[:position], args[position], args[position + 1 :]
    valued = frozenset() if command in NOT_HOISTED else GLOBAL_VALUED  # flags still move
    moved: list[str] = []
    kept: list[str] = []
    index = 0
    while index < len(tail):
        arg = tail[index]
        if arg == "--":
            kept.extend(tail[index:])
            break
        if arg in GLOBAL_FLAGS or arg.split("=", 1)[0] in valued and "=" in arg:
            moved.append(arg)
        elif arg in valued and index + 1 < len(tail):
            moved.extend(tail[index : index + 2])
            index += 1
        else:
            kept.append(arg)
        index += 1
    return [*head, *moved, command, *kept]


class HoistingGroup(TyperGroup):
    """The root command: hoists global options, and gives every parameter of every command a
    plain metavar where it has none, so that no Typer version shows its internal type names
    (``{symbol}``, ``<float range>``) in ``--help``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _plain_metavars(self)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if ctx.parent is None:
            args = hoist_global_options(list(args))
        return super().parse_args(ctx, args)


def _plain_metavars(command: Any) -> None:
    """Name each value after its parameter (``--max-open MAX_OPEN``, ``SYMBOL``) where the code
    gave no metavar; flags take no value and get none. An argument shows its metavar as it is,
    in the usage line and the argument list alike (recent Typer would add ``{...}`` and a
    ``<type>``; older versions have no such hooks and show the metavar anyway)."""
    for param in getattr(command, "params", []):
        if getattr(param, "is_flag", False) or not param.name:
            continue
        if param.metavar is None:
            name = param.name.upper()
            if param.param_type_name == "argument":
                name = name if param.required else f"[{name}]"
                name = f"{name}..." if param.nargs != 1 else name
            param.metavar = name
        if param.param_type_name == "argument":
            if hasattr(param, "_usage_display_name"):
                param._usage_display_name = partial(getattr, param, "metavar")
            if hasattr(param, "display_type_rich"):
                param.display_type_rich = lambda ctx: None
    for sub in getattr(command, "commands", {}).values():
        _plain_metavars(sub)


@dataclass(frozen=True)
class CliState:
    """The global options as typed, before resolution against env and config."""

    endpoint: str | None = None
    app_id: int | None = None
    token: str | None = None
    sim: bool = False
    json: bool = False
    verbose: bool = False


app = typer.Typer(
    name="derivkit",
    cls=HoistingGroup,
    no_args_is_help=True,
    help="Deriv API v3 from the terminal: quotes, trades and an offline simulator.",
    epilog=GLOBALS_EPILOG,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"derivkit {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    endpoint: Annotated[
        str | None, typer.Option(help=option_help("endpoint"), show_default=False)
    ] = None,
    app_id: Annotated[int | None, typer.Option(help=option_help("app_id"))] = None,
    token: Annotated[
        str | None, typer.Option(help=option_help("token"), show_default=False)
    ] = None,
    sim: Annotated[bool, typer.Option("--sim", help=option_help("sim"))] = False,
    json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
    verbose: Annotated[
        bool, typer.Option("-v", "--verbose", help="Log details and tracebacks to stderr.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Deriv API v3 from the terminal: quotes, trades and an offline simulator."""
    ctx.obj = CliState(endpoint, app_id, token, sim, json, verbose)


def settings(ctx: typer.Context, *, with_stored_token: bool = True) -> Settings:
    """The resolved settings of this invocation.

    ``with_stored_token=False`` skips decrypting the stored token, for commands that use none.
    """
    from derivkit.settings import resolve_settings

    state = ctx.find_root().obj
    if not isinstance(state, CliState):
        state = CliState()
    stored = None
    token_env = setting("token").env or ""
    if with_stored_token and not state.token and not os.environ.get(token_env):
        from derivkit.tokenstore import TokenStore

        stored = TokenStore.default().load()
    return resolve_settings(
        endpoint=state.endpoint,
        app_id=state.app_id,
        token=state.token,
        sim=state.sim,
        json=state.json,
        verbose=state.verbose,
        stored_token=stored,
    )

"""``derivkit dashboard``: the live dashboard (Textual; the ``tui`` extra).

The connection is made before the dashboard starts, so a bad token or an unreachable endpoint ends
in the usual one-line error and exit code. Textual is imported only when the command runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from derivkit.cli.app import GLOBALS_EPILOG, app
from derivkit.cli.app import settings as resolve_settings
from derivkit.cli.completion import complete_symbol
from derivkit.cli.errors import EXIT_USAGE, CommandError, reported
from derivkit.cli.output import Output
from derivkit.cli.runner import open_session, output_for

if TYPE_CHECKING:
    from textual.app import App

    from derivkit.settings import Settings

__all__ = ["dashboard_command", "open_dashboard"]

Launcher = Callable[["App[Any]"], Awaitable[object]]
INSTALL_HINT = "the dashboard needs Textual: pip install 'derivkit[tui]'"


async def run_app(dashboard: App[Any]) -> None:
    """The default launcher: run the app full-screen until the user quits."""
    await dashboard.run_async()


async def open_dashboard(
    settings: Settings, out: Output, symbols: Sequence[str], launch: Launcher | None = None
) -> None:
    """Connect (with the token if one is configured, or under ``--sim``; else market data
    only), check the symbols (any case; an unknown one fails here, with a suggestion), then hand
    the client to the dashboard app and ``launch`` it (default: :func:`run_app`; tests pass one
    that drives the app with a Pilot)."""
    from derivkit.tui import DerivDashboard, StateRelay

    relay = StateRelay()
    with_token = settings.sim or bool(settings.token)
    async with open_session(
        settings, out, needs_token=with_token, on_state_change=relay
    ) as session:
        watched = [(await session.symbol(symbol)).symbol for symbol in symbols]
        await (launch or run_app)(DerivDashboard(session.api, watched, relay=relay))


@app.command("dashboard", epilog=GLOBALS_EPILOG)
def dashboard_command(
    ctx: typer.Context,
    symbols: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[SYMBOL]...",
            help="Symbols to watch, any case (default: R_100 R_50 1HZ100V stpRNG BOOM1000).",
            autocompletion=complete_symbol,
            show_default=False,
        ),
    ] = None,
) -> None:
    """Live watchlist, ticks and balance (needs derivkit[tui]).

    A watchlist with the selected symbol's price and recent ticks, your balance and open
    contracts if a token is configured (otherwise market data only), and the connection's
    state. Keys: a add a symbol, d remove the selected one, ctrl+p commands, q quit.
    """
    out = output_for(ctx)
    if out.json_mode:
        raise typer.BadParameter(
            "the dashboard is interactive; it has no JSON output", param_hint="--json"
        )
    with reported(out):
        try:
            import derivkit.tui  # noqa: F401  (imports Textual)
        except ImportError as error:
            if (error.name or "").split(".")[0] != "textual":
                raise
            raise CommandError(INSTALL_HINT, EXIT_USAGE) from None
        settings = resolve_settings(ctx)
        asyncio.run(open_dashboard(settings, out, symbols or ()))

"""``derivkit dashboard``: the live dashboard (Textual; the ``tui`` extra).

The connections are made before the dashboard starts, so a bad token or an unreachable endpoint
ends in the usual one-line error and exit code: one unauthenticated client for market data, and,
with a token, an :class:`~derivkit.tui.AccountLink` for the account (so a token refused later
never stops the prices). Textual is imported only when the command runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import replace
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
    settings: Settings,
    out: Output,
    symbols: Sequence[str],
    launch: Launcher | None = None,
    *,
    real_money: bool = False,
    token_source: Callable[[], str | None] | None = None,
) -> None:
    """Connect for market data, and for the account with the token if one is configured (or
    under ``--sim``; else market data only), check the symbols (any case; an unknown one fails
    here, with a suggestion), then hand both to the dashboard app and ``launch`` it (default:
    :func:`run_app`; tests pass one that drives the app with a Pilot). ``token_source``
    re-reads the token when the user retries a refused one."""
    from derivkit.settings import config_dir
    from derivkit.strategy.registry import RunRegistry
    from derivkit.tui import AccountLink, DerivDashboard
    from derivkit.tui.state import STATE_FILE

    async with AsyncExitStack() as stack:
        if settings.sim:  # the embedded simulator; its demo token for the account
            from derivkit.sim import Simulator

            async with out.waiting("Starting the simulator"):
                sim = await stack.enter_async_context(Simulator())
            settings = replace(settings, sim=False, endpoint=sim.url, token=sim.token)
            token_source = None
        session = await stack.enter_async_context(
            # no stderr notices under the app: the dashboard listens to the state itself
            open_session(settings, out, needs_token=False, on_state_change=_ignore_state)
        )
        watched = [(await session.symbol(symbol)).symbol for symbol in symbols]
        link = None
        if settings.token:
            link = AccountLink(session.api.url, token_source or settings.token)
            stack.push_async_callback(link.aclose)
            async with out.waiting("Logging in"):
                await link.open()
        dashboard = DerivDashboard(
            session.api,
            watched,
            account=link,
            real_money=real_money,
            state_path=config_dir() / STATE_FILE,
            runs=RunRegistry(),
        )
        await (launch or run_app)(dashboard)


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
    real_money: Annotated[
        bool, typer.Option("--real-money", help="Allow trading on a real-money account.")
    ] = False,
) -> None:
    """Live watchlist, chart, last digits, balance, contracts and trading (needs derivkit[tui]).

    A watchlist with the selected symbol's price, chart and last-digit statistics; with a token
    (or --sim) your balance and contracts, a trade ticket and sell; the strategies running on
    this machine (`derivkit run`). Without symbols, the watchlist of last time. Keys: a add,
    d remove, t trade, s sell, c cancel, u update, g timeframe, n digit window, v chart/digits,
    x stop a strategy, r retry the account, ctrl+p commands, q quit.
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
        asyncio.run(
            open_dashboard(
                settings,
                out,
                symbols or (),
                real_money=real_money,
                token_source=lambda: resolve_settings(ctx).token,
            )
        )


def _ignore_state(state: str) -> None:
    """The session's state hook while the dashboard runs (it adds a listener of its own)."""

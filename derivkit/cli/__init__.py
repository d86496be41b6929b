"""The ``derivkit`` command line (Typer). Commands import heavy modules lazily, so that
``derivkit --help`` stays fast and never loads the dashboard or bot libraries."""

from __future__ import annotations

from derivkit.cli import (
    account,
    dashboard,
    journal,
    market,
    products,
    status,
    strategy,
    trade,
)
from derivkit.cli.app import app
from derivkit.cli.bot import bot_app
from derivkit.cli.config import config_app
from derivkit.cli.limits import limits_app
from derivkit.cli.sim import sim_app

__all__ = ["app", "main"]

app.add_typer(config_app, name="config")
app.add_typer(sim_app, name="sim")
app.add_typer(bot_app, name="bot")
app.add_typer(limits_app, name="limits")
_COMMAND_MODULES = (account, dashboard, journal, market, products, status, strategy, trade)


def main() -> None:
    """Console-script entry point."""
    app()

"""``derivkit run``: a trading strategy live on the account (or the simulator), with a live view.

Ctrl-C once: no new purchases, wait for open contracts to settle. Ctrl-C twice: leave them
running on the account and say so. ``derivkit.strategy`` is imported when the command runs.
"""

from __future__ import annotations

import asyncio
import signal
from contextlib import suppress
from typing import TYPE_CHECKING, Annotated, Any

import typer

from derivkit.cli.app import GLOBALS_EPILOG, app
from derivkit.cli.runner import Session, fail, output_for, run
from derivkit.formatting import money

if TYPE_CHECKING:
    from derivkit.strategy.live import LiveEvent, LiveRun

STRATEGY_HELP = (
    "A built-in strategy (martingale, dalembert, oscars-grind, reverse-martingale, "
    "reverse-dalembert, 1-3-2-6, flat) or a path to a Python file defining a Strategy subclass."
)
PARAM_HELP = (
    "name=value, repeatable: stake, max_stake, take_profit, loss_threshold, max_runs, "
    "max_consecutive_losses, daily_loss, the money management's (multiplier, unit) and the "
    "strategy's own (contract_type, duration, duration_unit, barrier for the built-ins)."
)


class _Interrupts:
    """SIGINT once sets ``stop``; twice sets ``abandon``. Installed for the run only."""

    def __init__(self) -> None:
        self.stop = asyncio.Event()
        self.abandon = asyncio.Event()

    def __enter__(self) -> _Interrupts:
        loop = asyncio.get_running_loop()
        with suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGINT, self._on_interrupt)
            loop.add_signal_handler(signal.SIGTERM, self._on_interrupt)
        return self

    def __exit__(self, *exc: object) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signum)

    def _on_interrupt(self) -> None:
        if self.stop.is_set():
            self.abandon.set()
        self.stop.set()


class _View:
    """What the user sees: a JSON line per event under --json, else lines (piped) or a live
    panel (terminal)."""

    runner: LiveRun

    def __init__(self, session: Session) -> None:
        self.out = session.out
        self.recent: list[str] = []
        self.live: Any = None

    def __call__(self, event: LiveEvent) -> None:
        out = self.out
        if out.json_mode:
            out.stream_item({"event": event.kind, **event.data}, "")
            return
        line = self._line(event)
        if line:
            self.recent = [*self.recent[-7:], line]
        if self.live is not None:
            self.live.update(self._panel())
        elif line:
            out.note(line)

    def _line(self, event: LiveEvent) -> str:
        data, currency = event.data, self.runner.currency
        kind = event.kind
        if kind == "bought":
            return (
                f"Bought {data['contract_type']} {data['contract_id']} for "
                f"{money(data['buy_price'], currency)}"
            )
        if kind == "settled":
            verdict = "won" if data["won"] else "lost"
            return (
                f"{data['contract_id']} {verdict} {money(data['profit'], currency)}; "
                f"total {money(data['total_profit'], currency)}, next stake "
                f"{money(data['next_stake'], currency)}"
            )
        if kind == "refused":
            return f"Refused: {data['message']} ({data['code']})"
        if kind == "unknown":
            return "A purchase's reply was lost; checking the account before deciding again"
        if kind == "resolved":
            found = data["contract_id"]
            return (
                f"The lost purchase bought {found}" if found else "The lost purchase bought nothing"
            )
        if kind == "stopping":
            return f"Stopping ({data['reason']}); waiting for {data['open']} open contract(s)"
        return ""

    def _panel(self) -> Any:
        from rich.console import Group
        from rich.panel import Panel
        from rich.table import Table

        engine = self.runner.engine
        results, currency = engine.results, self.runner.currency
        table = Table.grid(padding=(0, 2))
        table.add_row("Runs", str(results.runs), "Won", str(results.won), "Lost", str(results.lost))
        table.add_row(
            "P/L",
            money(results.profit, currency),
            "Stake",
            money(engine.rule.stake, currency),
            "Open",
            str(len(engine.view.positions)),
        )
        title = f"{self.runner.plan.name} on {self.runner.symbol} - {engine.state}"
        return Panel(Group(table, *self.recent), title=title, title_align="left")


def _summary_text(summary: dict[str, Any], currency: str) -> str:
    return (
        f"{summary['runs']} runs: {summary['won']} won, {summary['lost']} lost "
        f"({summary['win_rate'] * 100:.1f} %); P/L {money(summary['profit'], currency)}; "
        f"max drawdown {money(summary['max_drawdown'], currency)}; longest losing streak "
        f"{summary['longest_losing_streak']}; largest stake {money(summary['max_stake'], currency)}"
    )


@app.command("run", epilog=GLOBALS_EPILOG)
def run_command(
    ctx: typer.Context,
    strategy: Annotated[str, typer.Argument(help=STRATEGY_HELP, show_default=False)],
    symbol: Annotated[str, typer.Option("--symbol", "-s", help="Symbol to trade.")] = "R_100",
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help=PARAM_HELP, show_default=False)
    ] = None,
    real_money: Annotated[
        bool, typer.Option("--real-money", help="Allow running on a real-money account.")
    ] = False,
) -> None:
    """Run a strategy on your account (or --sim) until a stop condition or Ctrl-C.

    Example: derivkit --sim run martingale -p stake=1 -p max_stake=16 -p max_runs=20
    """
    from derivkit.core import UsageError
    from derivkit.strategy import load_plan, parse_params

    try:
        plan = load_plan(strategy, parse_params(param or []))
    except UsageError as error:
        fail(output_for(ctx), error)

    async def body(session: Session) -> None:
        from derivkit.strategy.live import LiveRun

        account = session.api.account
        if account is not None and not account.is_virtual and not real_money:
            session.out.error(
                f"{account.loginid} is a real-money account; add --real-money to run on it"
            )
            raise typer.Exit(2)
        view = _View(session)
        runner = LiveRun(session.api, plan, symbol, on_event=view)
        view.runner = runner
        with _Interrupts() as interrupts:
            if session.out.console.is_terminal and not session.out.json_mode:
                from rich.live import Live

                with Live(view._panel(), console=session.out.console, transient=False) as live:
                    view.live = live
                    engine = await runner.run(interrupts.stop, interrupts.abandon)
                    view.live = None
            else:
                engine = await runner.run(interrupts.stop, interrupts.abandon)
        _report(session, runner, engine)
        if interrupts.stop.is_set():
            raise typer.Exit(130)

    run(ctx, body, needs_token=True)


def _report(session: Session, runner: LiveRun, engine: Any) -> None:
    """The run's summary (human output), and what was left open (always, on stderr)."""
    if not session.out.json_mode:
        summary = engine.results.summary()
        session.out.console.print(_summary_text(summary, runner.currency), markup=False)
        if engine.stop_reason:
            session.out.note(f"Stopped: {engine.stop_reason}")
    if runner.left_open:
        session.out.warn(
            f"left {len(runner.left_open)} contract(s) open on the account: "
            + ", ".join(map(str, runner.left_open))
        )

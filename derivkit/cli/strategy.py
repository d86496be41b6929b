"""``derivkit run``: a trading strategy live on the account (or the simulator), with a live view.

Ctrl-C once: no new purchases, wait for open contracts to settle. Ctrl-C twice: leave them
running on the account and say so. ``derivkit.strategy`` is imported when the command runs.
"""

from __future__ import annotations

import asyncio
import os
import signal
from contextlib import suppress
from typing import TYPE_CHECKING, Annotated, Any

import typer

from derivkit.cli.app import GLOBALS_EPILOG, app
from derivkit.cli.completion import complete_symbol
from derivkit.cli.errors import EXIT_INTERRUPTED, EXIT_USAGE, CommandError, reported
from derivkit.cli.runner import Session, output_for, run
from derivkit.formatting import money

if TYPE_CHECKING:
    from derivkit.strategy.live import LiveEvent, LiveRun
    from derivkit.strategy.registry import RunRecord, RunRegistry

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
    """SIGINT once sets ``stop``, twice ``abandon``; SIGTERM (``derivkit stop``) only ever sets
    ``stop``. Installed for the run only."""

    def __init__(self) -> None:
        self.stop = asyncio.Event()
        self.abandon = asyncio.Event()
        self.interrupted = False

    def __enter__(self) -> _Interrupts:
        loop = asyncio.get_running_loop()
        with suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGINT, self._on_interrupt)
            loop.add_signal_handler(signal.SIGTERM, self.stop.set)
        return self

    def __exit__(self, *exc: object) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signum)

    def _on_interrupt(self) -> None:
        if self.interrupted:
            self.abandon.set()
        self.interrupted = True
        self.stop.set()


class _View:
    """What the user sees: a JSON line per event under --json, else lines (piped) or a live
    panel (terminal)."""

    runner: LiveRun

    def __init__(self, session: Session, registry: RunRegistry, record: RunRecord) -> None:
        self.out = session.out
        self.registry = registry
        self.record = record
        self.recent: list[str] = []
        self.live: Any = None

    def __call__(self, event: LiveEvent) -> None:
        self._publish()
        out = self.out
        if out.json_mode:
            out.stream_item({"event": event.kind, **event.data}, "")
            return
        line = self._line(event)
        if line:
            self.recent = [*self.recent[-7:], line]
        if self.live is not None:
            self.live.update(self.panel())
        elif line:
            out.note(line)

    def _publish(self) -> None:
        """Tell other processes (``derivkit strategies``, the dashboard, the bot) how it goes."""
        engine, record = self.runner.engine, self.record
        results = engine.results
        record.state = engine.state
        record.runs, record.won, record.lost = results.runs, results.won, results.lost
        record.profit, record.stake = results.profit, engine.rule.stake
        record.open = len(engine.view.positions)
        try:
            self.registry.publish(record)
        except OSError as error:
            self.out.warn(f"cannot publish the run's status: {error}")

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

    def panel(self) -> Any:
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
    symbol: Annotated[
        str,
        typer.Option(
            "--symbol", "-s", help="Symbol to trade (any case).", autocompletion=complete_symbol
        ),
    ] = "R_100",
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
    from derivkit.strategy import load_plan, parse_params

    with reported(output_for(ctx)):
        plan = load_plan(strategy, parse_params(param or []))

    async def body(session: Session) -> None:
        from derivkit.strategy.live import LiveRun
        from derivkit.strategy.registry import RunRecord, RunRegistry

        account = session.api.account
        if account is not None and not account.is_virtual and not real_money:
            raise CommandError(
                f"{account.loginid} is a real-money account; add --real-money to run on it",
                EXIT_USAGE,
            )
        traded = (await session.symbol(symbol)).symbol
        registry = RunRegistry()
        record = RunRecord(
            RunRegistry.new_run_id(),
            os.getpid(),
            plan.name,
            traded,
            loginid=account.loginid if account else "",
        )
        view = _View(session, registry, record)
        runner = LiveRun(session.api, plan, traded, on_event=view)
        view.runner = runner
        try:
            with _Interrupts() as interrupts:
                engine = await _watch(session, runner, view, interrupts)
        finally:
            registry.remove(record.run_id)
        _report(session, runner, engine)
        if interrupts.interrupted:
            raise typer.Exit(EXIT_INTERRUPTED)

    run(ctx, body, needs_token=True)


async def _watch(session: Session, runner: LiveRun, view: _View, interrupts: _Interrupts) -> Any:
    """Run with a live panel on a terminal, else with event lines."""
    if not session.out.console.is_terminal or session.out.json_mode:
        return await runner.run(interrupts.stop, interrupts.abandon)
    from rich.live import Live

    with Live(view.panel(), console=session.out.console, transient=False) as live:
        view.live = live
        try:
            return await runner.run(interrupts.stop, interrupts.abandon)
        finally:
            view.live = None


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


@app.command("strategies", epilog=GLOBALS_EPILOG)
def strategies_command(ctx: typer.Context) -> None:
    """Strategies running on this machine (started with `derivkit run`)."""
    from derivkit.cli.output import Column
    from derivkit.strategy.registry import RunRegistry

    out = output_for(ctx)
    records = RunRegistry().running()
    rows = [
        {
            "run_id": r.run_id,
            "pid": r.pid,
            "strategy": r.strategy,
            "symbol": r.symbol,
            "loginid": r.loginid,
            "state": r.state,
            "runs": r.runs,
            "won": r.won,
            "lost": r.lost,
            "profit": r.profit,
            "stake": r.stake,
            "open": r.open,
        }
        for r in records
    ]
    columns = [
        Column("run_id", "Run"),
        Column("strategy"),
        Column("symbol"),
        Column("state"),
        Column("runs", numeric=True),
        Column("profit", "P/L", numeric=True),
        Column("stake", numeric=True),
        Column("open", numeric=True),
    ]
    out.table(rows, columns, empty="No strategy is running.")


@app.command("stop", epilog=GLOBALS_EPILOG)
def stop_command(
    ctx: typer.Context,
    run_id: Annotated[
        str | None, typer.Argument(help="One run (see `derivkit strategies`); default: all.")
    ] = None,
) -> None:
    """Stop running strategies buying; each waits for its open contracts to settle."""
    from derivkit.strategy.registry import RunRegistry

    out = output_for(ctx)
    asked = RunRegistry().request_stop(run_id)
    payload = [{"run_id": r.run_id, "strategy": r.strategy, "pid": r.pid} for r in asked]
    if out.json_mode:
        out.data(payload)
    elif asked:
        for record in asked:
            out.note(f"Asked {record.strategy} ({record.run_id}) to stop buying.")
    else:
        out.note(f"No running strategy {run_id}." if run_id else "No strategy is running.")
    if run_id and not asked:
        raise typer.Exit(1)

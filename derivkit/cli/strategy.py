"""``derivkit run``: a trading strategy live on the account (or the simulator), with a live view.

Ctrl-C once: no new purchases, wait for open contracts to settle. Ctrl-C twice: leave them
running on the account and say so. ``derivkit.strategy`` is imported when the command runs.
"""

from __future__ import annotations

import asyncio
import os
import signal
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from derivkit.cli.app import GLOBALS_EPILOG, app, examples
from derivkit.cli.completion import complete_symbol
from derivkit.cli.errors import EXIT_AUTH, EXIT_INTERRUPTED, EXIT_USAGE, CommandError, reported
from derivkit.cli.journal import DatabaseOption, opened_journal
from derivkit.cli.runner import Session, output_for, run
from derivkit.formatting import money

if TYPE_CHECKING:
    from derivkit.core.models import AccountInfo
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
    database: DatabaseOption = None,
) -> None:
    """Run a strategy on your account (or --sim) until a stop condition or Ctrl-C.

    Every order is recorded in the trade journal before it is sent (`derivkit journal`,
    `derivkit stats --by strategy`).

    Example: derivkit --sim run martingale -p stake=1 -p max_stake=16 -p max_runs=20
    """
    from derivkit.strategy import load_plan, parse_params

    with reported(output_for(ctx)):
        from derivkit.settings import resolve_run_limits

        params = parse_params(param or [])
        daily_loss = resolve_run_limits()  # `derivkit limits set --daily-loss`
        if daily_loss is not None and "daily_loss" not in params:
            params["daily_loss"] = str(daily_loss)
        plan = load_plan(strategy, params)

    async def body(session: Session) -> None:
        from derivkit.strategy.journal import RunJournal
        from derivkit.strategy.live import LiveRun
        from derivkit.strategy.registry import RunRecord, RunRegistry

        account = session.api.account
        if account is not None and not account.is_virtual and not real_money:
            raise CommandError(
                f"{account.loginid} is a real-money account; add --real-money to run on it",
                EXIT_USAGE,
            )
        _check_scopes(account)
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
        async with opened_journal(database) as storage:
            journal = None
            if account is not None:
                journal = RunJournal(storage, account, run_id=record.run_id, strategy=plan.name)
            runner = LiveRun(session.api, plan, traded, on_event=view, journal=journal)
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


def _check_scopes(account: AccountInfo | None) -> None:
    """A run buys (``trade``) and follows its contracts and its account (``read``, or
    ``trading_information``): refuse a token that cannot do both before anything is bought."""
    if account is None or not account.scopes:
        return  # nothing said about scopes: the server will
    scopes = set(account.scopes)
    missing = []
    if "trade" not in scopes:
        missing.append("trade")
    if not scopes & {"read", "trading_information"}:
        missing.append("read")
    if missing:
        raise CommandError(
            f"this token for {account.loginid} lacks the {' and '.join(missing)} scope"
            f"{'s' if len(missing) > 1 else ''} a strategy run needs (it buys, then follows "
            "its contracts and the statement); make a token with read and trade",
            EXIT_AUTH,
        )


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


BACKTEST_EXAMPLES = examples(
    "derivkit backtest martingale --symbol R_100 --ticks 100000 --seed 1",
    "derivkit backtest dalembert -p stake=2 --sweep unit=1,2,3 --sweep max_stake=20,50 --json",
    "derivkit history R_100 -n 5000 --csv > r100.csv && derivkit backtest flat --history r100.csv",
)


@app.command("backtest", epilog=BACKTEST_EXAMPLES)
def backtest_command(
    ctx: typer.Context,
    strategy: Annotated[str, typer.Argument(help=STRATEGY_HELP, show_default=False)],
    symbol: Annotated[
        str,
        typer.Option("--symbol", "-s", help="Symbol (any case).", autocompletion=complete_symbol),
    ] = "R_100",
    ticks: Annotated[
        int, typer.Option("--ticks", min=1, metavar="N", help="Ticks to run over (at most).")
    ] = 10_000,
    seed: Annotated[
        str, typer.Option("--seed", help="The simulator's seed: the same seed, the same ticks.")
    ] = "1",
    start: Annotated[
        int | None,
        typer.Option("--start", metavar="EPOCH", help="Simulated start (default 2026-01-01)."),
    ] = None,
    history: Annotated[
        Path | None,
        typer.Option(
            "--history",
            metavar="FILE",
            help="Recorded ticks (CSV with epoch,quote; `derivkit history --csv`) instead of "
            "the simulator's.",
        ),
    ] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help=PARAM_HELP, show_default=False)
    ] = None,
    sweep_over: Annotated[
        list[str] | None,
        typer.Option(
            "--sweep",
            metavar="NAME=A,B,...",
            help="Backtest every combination of these values (repeatable), on all CPU cores.",
            show_default=False,
        ),
    ] = None,
    balance: Annotated[float, typer.Option("--balance", min=1, help="Starting balance.")] = 10_000,
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot", metavar="FILE.png", help="Equity curve and drawdown (needs derivkit[plot])."
        ),
    ] = None,
) -> None:
    """Run a strategy over simulated or recorded ticks at full speed, with the simulator's
    own pricing and settlement, and report runs, win rate, P/L, drawdown and streaks."""
    from derivkit.strategy import load_plan, parse_params
    from derivkit.strategy.backtest import read_ticks, run_backtest, sweep

    out = output_for(ctx)
    with reported(out):
        params = parse_params(param or [])
        name = _sim_symbol(symbol)
        recorded = read_ticks(history) if history is not None else None
        if sweep_over:
            if plot is not None:
                raise CommandError("--plot draws one backtest, not a --sweep", EXIT_USAGE)
            grid = _sweep_grid(sweep_over)
            reports = list(
                sweep(
                    strategy,
                    params,
                    grid,
                    name,
                    ticks=ticks,
                    seed=seed,
                    start=start,
                    recorded=recorded,
                )
            )
            _show_sweep(out, reports, list(grid))
            return
        plan = load_plan(strategy, params)
        report = run_backtest(
            plan,
            name,
            ticks=ticks,
            seed=seed,
            start=start,
            recorded=recorded,
            balance=balance,
            keep_equity=plot is not None,
        )
        if plot is not None:
            _plot_equity(report, plot)
        payload = report.as_dict()
        out.data(payload, _backtest_text(payload))
        if plot is not None:
            out.note(f"Equity curve written to {plot}")


def _sim_symbol(symbol: str) -> str:
    """The simulator's spelling of ``symbol`` (any case), or a usage error naming the known."""
    from derivkit.sim.symbols import SYMBOLS

    known = {name.lower(): name for name in SYMBOLS}
    found = known.get(symbol.lower())
    if found is None:
        raise CommandError(
            f"the simulator has no symbol {symbol!r}; it has {', '.join(SYMBOLS)}", EXIT_USAGE
        )
    return found


def _sweep_grid(pairs: list[str]) -> dict[str, list[str]]:
    grid: dict[str, list[str]] = {}
    for pair in pairs:
        name, sep, values = pair.partition("=")
        choices = [value.strip() for value in values.split(",") if value.strip()]
        if not sep or not name.strip() or not choices:
            raise CommandError(f"--sweep takes name=a,b,c; got {pair!r}", EXIT_USAGE)
        grid[name.strip().replace("-", "_")] = choices
    return grid


def _backtest_text(report: dict[str, Any]) -> str:
    money_fields = ("profit", "max_drawdown", "max_stake", "required_balance")
    shown = {key: f"{report[key]:,.2f}" for key in money_fields}
    lines = [
        f"{report['strategy']} on {report['symbol']}: {report['ticks']:,} ticks in "
        f"{report['seconds']:.2f} s ({report['contracts_per_second'] or 0:,.0f} contracts/s)",
        f"  Runs:              {report['runs']:,} ({report['won']:,} won, {report['lost']:,} "
        f"lost, win rate {report['win_rate'] * 100:.2f} %)",
        f"  P/L:               {shown['profit']}",
        f"  Max drawdown:      {shown['max_drawdown']}",
        f"  Longest losing streak: {report['longest_losing_streak']}",
        f"  Largest stake:     {shown['max_stake']}",
        f"  Balance needed:    {shown['required_balance']} (to pay every stake of this run)",
    ]
    if report["stop_reason"]:
        lines.append(f"  Stopped:           {report['stop_reason']}")
    if report["open_at_end"]:
        lines.append(f"  Open at the end:   {report['open_at_end']} (not counted)")
    return "\n".join(lines)


def _show_sweep(out: Any, reports: list[dict[str, Any]], names: list[str]) -> None:
    from derivkit.cli.output import Column

    rows = [{**{name: r["params"][name] for name in names}, **r} for r in reports]
    columns = [
        *(Column(name) for name in names),
        Column("runs", numeric=True),
        Column("win_rate", "Win rate", numeric=True),
        Column("profit", "P/L", numeric=True),
        Column("max_drawdown", "Drawdown", numeric=True),
        Column("longest_losing_streak", "Streak", numeric=True),
        Column("max_stake", "Max stake", numeric=True),
        Column("required_balance", "Balance needed", numeric=True),
    ]
    out.table(rows, columns, payload=reports, title="Backtest sweep")


def _plot_equity(report: Any, path: Path) -> None:
    try:
        import matplotlib
    except ImportError:
        raise CommandError(
            "--plot needs matplotlib: pip install 'derivkit[plot]'", EXIT_USAGE
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    equity = report.equity
    peak, drawdown = 0.0, []
    for value in equity:
        peak = max(peak, value)
        drawdown.append(value - peak)
    figure, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(10, 6), height_ratios=(3, 1))
    top.plot(range(1, len(equity) + 1), equity, linewidth=0.8)
    top.set_ylabel("P/L")
    top.set_title(f"{report.strategy} on {report.symbol}: {len(equity):,} contracts")
    bottom.fill_between(range(1, len(drawdown) + 1), drawdown, 0, color="tab:red", alpha=0.5)
    bottom.set_ylabel("Drawdown")
    bottom.set_xlabel("Contract")
    figure.tight_layout()
    try:
        figure.savefig(path, dpi=100)
    except OSError as error:
        raise CommandError(f"cannot write {path}: {error.strerror}", EXIT_USAGE) from None
    finally:
        plt.close(figure)

"""Backtests: a strategy's :class:`Engine` on the simulator's own market and contract engine, on
a virtual clock that jumps from one tick to the next (no waiting).

The ticks are the simulator's (a seed gives the same path as ``derivkit sim serve --seed`` from
the same start) or recorded ones (``derivkit history SYMBOL --count N --csv``). Each order is
priced, bought and settled by the simulator's broker exactly as over the API, and the events
reach the engine in the order a live run sees them: a tick first, then what settled on it. So a
backtest and a live run on the simulator with the same seed make the same decisions.

Synchronous and single-threaded; a sweep runs one backtest per process.
"""

from __future__ import annotations

import csv
import itertools
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from derivkit.core.exceptions import UsageError
from derivkit.sim.account import Account, Broker, Transaction
from derivkit.sim.clock import ManualClock
from derivkit.sim.errors import ApiError
from derivkit.sim.feed import Market
from derivkit.sim.feed import Tick as SimTick
from derivkit.sim.handlers.common import feed_context
from derivkit.sim.products.registry import product_for
from derivkit.sim.symbols import SYMBOLS
from derivkit.strategy.base import Tick
from derivkit.strategy.engine import Engine, Order
from derivkit.strategy.loading import RunPlan, load_plan

__all__ = ["BacktestReport", "read_ticks", "run_backtest", "sweep"]

#: A realistic default start: 2026-01-01 00:00:00 UTC.
DEFAULT_START = 1_767_225_600


@dataclass
class BacktestReport:
    """What a backtest found: the run's figures plus how long it took."""

    strategy: str
    symbol: str
    params: dict[str, Any]
    summary: dict[str, Any]
    ticks: int
    seconds: float
    stop_reason: str | None
    refused: int
    open_at_end: int
    equity: list[float] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, Any]:
        settled = self.summary["runs"]
        return {
            "strategy": self.strategy,
            "symbol": self.symbol,
            "params": self.params,
            **self.summary,
            "ticks": self.ticks,
            "seconds": round(self.seconds, 3),
            "contracts_per_second": round(settled / self.seconds, 1) if self.seconds else None,
            "stop_reason": self.stop_reason,
            "refused": self.refused,
            "open_at_end": self.open_at_end,
        }


def read_ticks(path: Path) -> list[tuple[int, float]]:
    """Recorded ticks from a CSV with ``epoch`` and ``quote`` columns (the ``history --csv``
    format), in epoch order."""
    try:
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None
    ticks = []
    for number, row in enumerate(rows, start=2):
        try:
            ticks.append((int(row["epoch"]), float(row["quote"])))
        except (KeyError, TypeError, ValueError):
            raise UsageError(
                f"{path}:{number}: need 'epoch' and 'quote' columns with numbers"
            ) from None
    if not ticks:
        raise UsageError(f"{path} holds no ticks")
    return sorted(ticks)


class _Run:
    """One backtest's wiring: the simulator's market and broker, one account, the engine."""

    def __init__(
        self,
        plan: RunPlan,
        symbol: str,
        *,
        seed: str,
        start: int,
        begin: int | None,
        balance: float,
        currency: str,
        recorded: Sequence[tuple[int, float]] | None,
        keep_equity: bool,
    ) -> None:
        if symbol not in SYMBOLS:
            raise UsageError(f"unknown symbol {symbol!r} (the simulator's: {', '.join(SYMBOLS)})")
        anchor = recorded[0][0] - 1 if recorded else start
        if recorded and begin is None:
            begin = recorded[0][0]  # a recording starts at its own first tick
        self.clock = ManualClock(anchor)
        self.market = Market(seed, self.clock, anchor, pumps=False)
        self.feed = self.market.replay(symbol, recorded) if recorded else self.market.feed(symbol)
        self.broker = Broker(self.market, self.clock)
        self.account = Account("VRTC0000001", "backtest", True, currency, balance)
        self.currency = currency
        self.symbol = symbol
        self.engine = Engine(
            plan.strategy,
            plan.rule,
            plan.stops,
            symbol=symbol,
            currency=currency,
            params=plan.params,
            keep_equity=keep_equity,
        )
        self.error: BaseException | None = None
        if begin is not None and begin > anchor:  # ticks before the run's first are history
            self.clock.set(begin)
            self.feed.advance(begin)
        self.feed.add_listener(self._on_tick)  # first: a run sees a tick, then what settled
        self.account.subscribe(self._on_account)

    def run(self, ticks: int) -> int:
        """Like a live run, which starts with the tick current when it subscribes: that tick,
        then each next one, ``ticks`` in all."""
        engine, feed, clock = self.engine, self.feed, self.clock
        engine.start(clock.now(), balance=self.account.balance)
        self._on_tick(feed.latest())
        if self.error is not None:
            raise self.error
        seen = 1
        while seen < ticks and engine.state != "stopped":
            epoch = feed.next_epoch
            if epoch >= 2**62:  # a recording that has run out
                break
            clock.set(epoch)
            feed.advance(epoch)
            seen += 1
            if self.error is not None:
                raise self.error
        return seen

    # -- the market's callbacks ---------------------------------------------------------------

    def _on_tick(self, tick: SimTick) -> None:
        try:
            order = self.engine.on_tick(Tick(tick.epoch, tick.quote, tick.pip_size))
            if order is not None:
                self._buy(order)
        except BaseException as error:  # the feed would only log it: stop the run instead
            self.error = error

    def _buy(self, order: Order) -> None:
        trade = order.trade
        params: dict[str, Any] = {
            "contract_type": trade.contract_type,
            "symbol": order.symbol,
            "amount": order.stake,
            "basis": "stake",
            "currency": self.currency,
            "duration": trade.duration,
            "duration_unit": trade.duration_unit,
        }
        if trade.barrier is not None:
            params["barrier"] = trade.barrier
        try:
            product = product_for(trade.contract_type)
            context = feed_context(self.feed, self.clock.now())
            terms = product.parse(params, self.feed.spec, context)
            contract, _ = self.broker.buy(
                self.account, product, terms, order.stake, context, by_parameters=True
            )
        except ApiError as error:  # on a virtual clock a refusal would only repeat: stop
            self.engine.refused_order(order, f"{error.message} ({error.code})", fatal=True)
            return
        self.engine.bought(order, contract.contract_id, contract.buy_price)

    def _on_account(self, kind: str, obj: Any) -> None:
        if kind != "transaction" or not isinstance(obj, Transaction):
            return
        if obj.action_type != "sell" or obj.contract is None:
            return
        contract_id = obj.contract.contract_id
        try:
            self.engine.settled(contract_id, obj.amount, self.clock.now())
        except BaseException as error:
            self.error = error
        # A backtest's account keeps no history: memory stays flat over any number of ticks.
        self.account.contracts.pop(contract_id, None)
        self.account.transactions.clear()


def run_backtest(
    plan: RunPlan,
    symbol: str,
    *,
    ticks: int,
    seed: int | str | None = 1,
    start: int | None = None,
    begin: int | None = None,
    recorded: Sequence[tuple[int, float]] | None = None,
    balance: float = 10_000.0,
    currency: str = "USD",
    keep_equity: bool = False,
) -> BacktestReport:
    """Run ``plan`` over ``ticks`` ticks of ``symbol`` and report.

    The ticks are the simulator's for ``seed`` with its clock starting at ``start`` (as
    ``Simulator(seed=, start_epoch=)``), the first one the run sees being the latest at
    ``begin`` (default: at ``start``); or ``recorded`` ones. The same arguments give the same
    report."""
    if ticks <= 0:
        raise UsageError("a backtest needs at least one tick")
    began = time.perf_counter()
    run = _Run(
        plan,
        symbol,
        seed=str(seed if seed is not None else 1),
        start=start if start is not None else DEFAULT_START,
        begin=begin,
        balance=balance,
        currency=currency,
        recorded=recorded,
        keep_equity=keep_equity,
    )
    seen = run.run(ticks)
    engine = run.engine
    return BacktestReport(
        strategy=plan.name,
        symbol=symbol,
        params=dict(plan.params),
        summary=engine.results.summary(),
        ticks=seen,
        seconds=time.perf_counter() - began,
        stop_reason=engine.stop_reason,
        refused=engine.refused,
        open_at_end=len(engine.view.positions),
        equity=list(engine.results.equity),
    )


# -- sweeps -------------------------------------------------------------------------------------


def grid(sweeps: Mapping[str, Sequence[str]]) -> list[dict[str, str]]:
    """Every combination of the swept parameters' values."""
    names = list(sweeps)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*sweeps.values())]


def _one(job: tuple[str, dict[str, Any], str, int, str | None, int | None, Any]) -> dict[str, Any]:
    source, params, symbol, ticks, seed, start, recorded = job
    plan = load_plan(source, params)
    report = run_backtest(plan, symbol, ticks=ticks, seed=seed, start=start, recorded=recorded)
    return report.as_dict()


def sweep(
    source: str,
    base: Mapping[str, Any],
    sweeps: Mapping[str, Sequence[str]],
    symbol: str,
    *,
    ticks: int,
    seed: str | None = "1",
    start: int | None = None,
    recorded: Sequence[tuple[int, float]] | None = None,
    workers: int | None = None,
) -> Iterator[dict[str, Any]]:
    """One backtest per combination of ``sweeps`` (over ``base``), spread over a process pool of
    ``workers`` (default: the CPU count); yields the reports in grid order."""
    combos = grid(sweeps)
    for combo in combos:  # refuse a bad combination before starting any process
        load_plan(source, {**base, **combo})
    jobs: Iterable[Any] = (
        (source, {**base, **combo}, symbol, ticks, seed, start, recorded) for combo in combos
    )
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(_one, jobs)

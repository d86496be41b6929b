"""The decision engine of a strategy run, with no I/O: ticks and purchase outcomes in, orders out.

The live driver (a Deriv connection) and the backtest driver (the simulator's contract engine on a
virtual clock) feed the same :class:`Engine`, so a strategy behaves identically in both. The
engine enforces the run's rules: one order in flight at a time, at most ``max_open`` contracts
open, stop conditions checked before every buy, and no decision at all while the outcome of a
purchase is unknown (a lost reply): the driver must first find out whether it executed.

States: ``running`` (may buy), ``stopping`` (no new purchases; open contracts still settle),
``stopped`` (nothing open). Not thread-safe: one event loop drives it.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from derivkit.core.exceptions import UsageError
from derivkit.strategy.base import Position, Settlement, Strategy, Tick, Trade, View
from derivkit.strategy.money import StakeRule
from derivkit.strategy.results import Results
from derivkit.strategy.stops import StopConditions

__all__ = ["Engine", "EngineState", "Order"]

EngineState = Literal["running", "stopping", "stopped"]
_order_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Order:
    """A purchase the driver must make exactly once: ``trade`` at ``stake`` on ``symbol``."""

    order_id: int
    symbol: str
    trade: Trade
    stake: float
    created_at: float


class Engine:
    """One strategy run's bookkeeping and rules.

    Args:
        strategy: the hooks to call.
        rule: the money management giving each stake.
        stops: stop conditions, checked before every buy.
        symbol / currency: what is traded, and in which money.
        params: the strategy's parameters (shown to it in its view).
        max_open: contracts of this run open at once (Deriv's bot builder: one).
        history: ticks kept in the view.
    """

    def __init__(
        self,
        strategy: Strategy,
        rule: StakeRule,
        stops: StopConditions,
        *,
        symbol: str,
        currency: str = "USD",
        params: Mapping[str, Any] | None = None,
        max_open: int = 1,
        history: int = 1000,
        keep_equity: bool = True,
    ) -> None:
        if max_open < 1:
            raise UsageError("max_open must be at least 1")
        self.strategy = strategy
        self.rule = rule
        self.stops = stops
        self.max_open = max_open
        self.results = Results(keep_equity=keep_equity)
        self.view = View(
            symbol=symbol, currency=currency, params=dict(params or {}), results=self.results
        )
        self.view.ticks = type(self.view.ticks)(maxlen=history)
        self.view.next_stake = rule.stake
        self.state: EngineState = "running"
        self.stop_reason: str | None = None
        self.in_flight: Order | None = None
        self.unknown: Order | None = None
        self.refused = 0
        self._started = False

    def __repr__(self) -> str:
        return (
            f"<Engine {self.strategy.name} {self.state} runs={self.results.runs} "
            f"open={len(self.view.positions)}>"
        )

    # -- inputs from the driver ---------------------------------------------------------------

    def start(self, now: float, *, balance: float | None = None) -> None:
        self.view.now = now
        self.view.balance = balance
        if not self._started:
            self._started = True
            self.strategy.on_start(self.view)

    def on_tick(self, tick: Tick) -> Order | None:
        """Feed one tick; returns an order to place now, or None."""
        view = self.view
        view.now = float(tick.epoch)
        view.ticks.append(tick)
        self.strategy.on_tick(view, tick)
        return self._decide()

    def bought(self, order: Order, contract_id: int, buy_price: float) -> Position:
        """The order executed: ``contract_id`` is open at ``buy_price``."""
        self._finish(order)
        return self._open(order, contract_id, buy_price)

    def _open(self, order: Order, contract_id: int, buy_price: float) -> Position:
        position = Position(contract_id, order.trade, order.stake, buy_price, self.view.now)
        self.view.positions[contract_id] = position
        if self.view.balance is not None:
            self.view.balance = round(self.view.balance - buy_price, 2)
        return position

    def refused_order(self, order: Order, reason: str, *, fatal: bool) -> None:
        """The server refused the order: nothing was bought. A fatal refusal (no money, a bad
        contract, a revoked token) stops the run; otherwise the engine decides again later."""
        self._finish(order)
        self.refused += 1
        if fatal:
            self.stop(f"the server refused a purchase: {reason}")

    def outcome_unknown(self, order: Order) -> None:
        """The order was sent but its reply was lost: no decision until :meth:`resolve`."""
        self._finish(order)
        self.unknown = order

    def resolve(self, order: Order, contract_id: int | None, buy_price: float | None) -> None:
        """What became of an unknown order: bought (``contract_id``) or not (None)."""
        if self.unknown is not order:
            raise UsageError("resolve() takes the order whose outcome is unknown")
        self.unknown = None
        if contract_id is None:
            self.refused += 1
        else:
            self._open(order, contract_id, buy_price if buy_price is not None else order.stake)
        self._maybe_stopped()

    def settled(self, contract_id: int, sell_price: float, epoch: float) -> Settlement | None:
        """A position has settled (None for a contract that is not this run's)."""
        position = self.view.positions.pop(contract_id, None)
        if position is None:
            return None
        settlement = Settlement(position, sell_price, epoch)
        self.results.record(profit=settlement.profit, epoch=epoch)
        self.rule.settle(settlement.won, position.stake, settlement.profit)
        self.view.next_stake = self.rule.stake
        if self.view.balance is not None:
            self.view.balance = round(self.view.balance + sell_price, 2)
        self.strategy.after_settlement(self.view, settlement)
        self._maybe_stopped()
        return settlement

    def stop(self, reason: str) -> None:
        """No new purchases from now on; open contracts still settle."""
        if self.state != "running":
            return
        self.state = "stopping"
        self.stop_reason = reason
        self.strategy.on_stop(self.view, reason)
        self._maybe_stopped()

    # -- state -------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """An order is in flight or unresolved, or a contract is open."""
        return bool(self.in_flight or self.unknown or self.view.positions)

    def _finish(self, order: Order) -> None:
        if self.in_flight is not order:
            raise UsageError("that order is not the one in flight")
        self.in_flight = None

    def _maybe_stopped(self) -> None:
        if self.state == "stopping" and not self.busy:
            self.state = "stopped"

    def _decide(self) -> Order | None:
        if self.state != "running" or self.in_flight or self.unknown:
            return None
        if len(self.view.positions) >= self.max_open:
            return None
        trade = self.strategy.before_purchase(self.view)
        if trade is None:
            return None
        stake = round(trade.stake if trade.stake is not None else self.rule.stake, 2)
        reason = self.stops.reason(self.results, next_stake=stake, now=self.view.now)
        if reason is not None:
            self.stop(reason)
            return None
        self.results.before_buy(stake)
        order = Order(next(_order_ids), self.view.symbol, trade, stake, self.view.now)
        self.in_flight = order
        return order

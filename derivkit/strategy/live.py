"""The live driver: a strategy's :class:`Engine` on a Deriv connection (the real API or the
simulator).

One task reads the symbol's ticks and asks the engine for decisions; each order is bought exactly
once (``buy`` with the contract's parameters, the stake as the highest price accepted) and then
followed to settlement on its ``proposal_open_contract`` stream. The connection heals itself; a buy
whose reply is lost (``OutcomeUnknown``) stops all decisions until the driver has found out, once
the link is back, whether the contract exists (the account's statement, through
:mod:`derivkit.purchases`). With a :class:`~derivkit.strategy.journal.RunJournal`, every order
is recorded before it is sent and followed there to its end; an order that cannot be recorded is
not sent (the run stops).

Concurrency: everything runs on one event loop in one TaskGroup; engine calls never interleave.
Cancellation: :meth:`LiveRun.run` returns when the engine has stopped (``stop`` set, and every open
contract settled) or at once when ``abandon`` is set, leaving open contracts running on the
account (reported by :attr:`LiveRun.left_open`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from derivkit.core.exceptions import APIError, DerivError, OutcomeUnknown, RequestTimeout
from derivkit.purchases import LostBuy, find_purchase
from derivkit.strategy.base import Position, Settlement, Tick
from derivkit.strategy.engine import Engine, Order
from derivkit.strategy.loading import RunPlan

if TYPE_CHECKING:
    from derivkit.core import DerivClient
    from derivkit.strategy.journal import RunJournal

__all__ = ["LiveEvent", "LiveRun"]

logger = logging.getLogger("derivkit.strategy")

_RESOLVE_BACKOFF = (0.5, 1.0, 2.0, 5.0)


@dataclass(frozen=True)
class LiveEvent:
    """Something the user should see: ``kind`` is started, bought, settled, refused, unknown,
    resolved, stopping or stopped; ``data`` the details (JSON-ready)."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)


def _params(order: Order, currency: str) -> dict[str, Any]:
    trade = order.trade
    params: dict[str, Any] = {
        "contract_type": trade.contract_type,
        "symbol": order.symbol,
        "amount": order.stake,
        "basis": "stake",
        "currency": currency,
        "duration": trade.duration,
        "duration_unit": trade.duration_unit,
    }
    if trade.barrier is not None:
        params["barrier"] = trade.barrier
    return params


class LiveRun:
    """Run ``plan`` on ``symbol`` over an authorized ``api``; report through ``on_event``."""

    def __init__(
        self,
        api: DerivClient,
        plan: RunPlan,
        symbol: str,
        *,
        on_event: Callable[[LiveEvent], None] | None = None,
        max_open: int = 1,
        journal: RunJournal | None = None,
    ) -> None:
        self.api = api
        self.plan = plan
        self.symbol = symbol
        self.currency = api.account.currency if api.account and api.account.currency else "USD"
        self.engine = Engine(
            plan.strategy,
            plan.rule,
            plan.stops,
            symbol=symbol,
            currency=self.currency,
            params=plan.params,
            max_open=max_open,
        )
        self.left_open: list[int] = []
        self._on_event = on_event or (lambda event: None)
        self._known: set[int] = set()
        self._journal = journal
        self._entries: dict[int, int] = {}  # order id -> journal entry id
        self._changed = asyncio.Event()

    def _emit(self, kind: str, **data: Any) -> None:
        self._on_event(LiveEvent(kind, data))

    async def run(self, stop: asyncio.Event, abandon: asyncio.Event) -> Engine:
        """Trade until the engine stops (a stop condition, ``stop``), or ``abandon`` is set."""
        engine = self.engine
        balance = await self.api.balance()
        engine.start(await self.api.server_time(), balance=balance.balance)
        self._emit("started", strategy=self.plan.name, symbol=self.symbol, balance=balance.balance)
        try:
            async with asyncio.TaskGroup() as group:
                ticks = group.create_task(self._read_ticks(group))
                await self._wait_until_done(stop, abandon)
                ticks.cancel()
                if abandon.is_set():
                    self.left_open = sorted(engine.view.positions)
                    raise _Abandoned
        except* _Abandoned:
            pass
        self._emit(
            "stopped",
            reason=engine.stop_reason,
            left_open=self.left_open,
            **engine.results.summary(),
        )
        return engine

    async def _wait_until_done(self, stop: asyncio.Event, abandon: asyncio.Event) -> None:
        engine = self.engine
        while True:
            if abandon.is_set():
                return
            if stop.is_set() and engine.state == "running":
                engine.stop("stopped by the user")
                self._emit("stopping", reason=engine.stop_reason, open=len(engine.view.positions))
            if engine.state == "stopped":
                return
            self._changed.clear()
            waiters = [
                asyncio.ensure_future(self._changed.wait()),
                asyncio.ensure_future(stop.wait()),
                asyncio.ensure_future(abandon.wait()),
            ]
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()

    def _notify(self) -> None:
        self._changed.set()

    # -- ticks and decisions -------------------------------------------------------------------

    async def _read_ticks(self, group: asyncio.TaskGroup) -> None:
        async with await self.api.ticks(self.symbol) as stream:
            async for tick in stream:
                order = self.engine.on_tick(
                    Tick(tick.epoch, tick.quote, tick.pip_size if tick.pip_size is not None else 2)
                )
                self._notify()
                if order is not None:
                    group.create_task(self._buy(order))

    # -- one order -----------------------------------------------------------------------------

    async def _buy(self, order: Order) -> None:
        engine = self.engine
        payload = {"buy": "1", "price": order.stake, "parameters": _params(order, self.currency)}
        if not await self._journal_sending(order, payload):
            return
        try:
            reply = await self.api.request(payload)
        except (OutcomeUnknown, RequestTimeout) as error:
            engine.outcome_unknown(order)
            self._emit("unknown", order=order.order_id, stake=order.stake)
            self._notify()
            await self._record(order, "unknown", str(error))
            await self._resolve(order)
            return
        except APIError as error:
            reason = f"{error.message} ({error.code})"
            engine.refused_order(order, reason, fatal=not error.retryable)
            self._emit("refused", code=error.code, message=error.message, stake=order.stake)
            self._notify()
            await self._record(order, "refused", reason)
            return
        except DerivError as error:  # not sent at all (e.g. connection lost before sending)
            engine.refused_order(order, str(error), fatal=False)
            self._emit("refused", code=type(error).__name__, message=str(error))
            self._notify()
            await self._record(order, "refused", str(error))
            return
        receipt = reply["buy"]
        position = engine.bought(order, int(receipt["contract_id"]), float(receipt["buy_price"]))
        self._known.add(position.contract_id)
        self._emit("bought", **_position_data(position))
        self._notify()
        await self._record(order, "bought", receipt)
        await self._follow(position)

    async def _follow(self, position: Position) -> None:
        """Wait for the contract to settle (the stream re-subscribes itself after reconnects)."""
        async with await self.api.open_contract(position.contract_id) as states:
            async for state in states:
                if state.is_sold:
                    await self._settle(
                        position.contract_id, state.sell_price or 0.0, state.sell_time
                    )
                    return

    async def _settle(self, contract_id: int, sell_price: float, epoch: float | None) -> None:
        settlement = self.engine.settled(contract_id, sell_price, epoch or self.engine.view.now)
        self._notify()
        if settlement is None:
            return
        self._emit("settled", **_settlement_data(settlement, self.engine))
        if self._journal is not None:
            await self._journal_write(
                self._journal.settled(
                    contract_id,
                    sell_price=sell_price,
                    profit=settlement.profit,
                    at=settlement.epoch,
                )
            )

    # -- the journal ---------------------------------------------------------------------------

    async def _journal_sending(self, order: Order, payload: dict[str, Any]) -> bool:
        """Record the order before it is sent; False (and the run stopped) if that fails."""
        if self._journal is None:
            return True
        try:
            self._entries[order.order_id] = await self._journal.sending(order, payload)
        except Exception as error:  # the database, whatever its driver raises
            logger.error("cannot record the order in the journal: %s", error)
            self.engine.refused_order(order, f"the journal cannot record it: {error}", fatal=True)
            self._emit("refused", code="JournalError", message=str(error), stake=order.stake)
            self._notify()
            return False
        return True

    async def _record(self, order: Order, what: str, detail: Any) -> None:
        """The order's outcome in its journal entry (if it has one)."""
        entry = self._entries.get(order.order_id)
        if self._journal is None or entry is None:
            return
        journal = self._journal
        if what == "bought":
            await self._journal_write(journal.bought(entry, dict(detail)))
        elif what == "refused":
            await self._journal_write(journal.refused(entry, str(detail)))
        else:
            await self._journal_write(journal.unknown(entry, str(detail)))

    async def _journal_write(self, write: Awaitable[None]) -> None:
        """A journal update after the fact: a failure is logged and shown, never fatal (the
        trade itself is already on screen and on the account)."""
        try:
            await write
        except Exception as error:  # the database, whatever its driver raises
            logger.error("cannot update the journal: %s", error)
            self._emit("journal_error", message=str(error))

    # -- an order whose reply was lost ---------------------------------------------------------

    async def _resolve(self, order: Order) -> None:
        """Find out, once the link is back, whether the lost order bought a contract (the
        account's statement), then follow it like any other."""
        lost = LostBuy(order.trade.contract_type, order.symbol, order.stake, order.created_at)
        attempt = 0
        while True:
            try:
                found = await find_purchase(self.api, lost, known=self._known)
                break
            except DerivError as error:
                delay = _RESOLVE_BACKOFF[min(attempt, len(_RESOLVE_BACKOFF) - 1)]
                attempt += 1
                logger.info("cannot check the lost order yet (%s); again in %gs", error, delay)
                await asyncio.sleep(delay)
        contract_id = found.contract_id if found else None
        buy_price = found.buy_price if found else None
        self.engine.resolve(order, contract_id, buy_price)
        self._emit(
            "resolved", order=order.order_id, contract_id=contract_id, bought=bool(contract_id)
        )
        self._notify()
        entry = self._entries.get(order.order_id)
        if self._journal is not None and entry is not None:
            await self._journal_write(
                self._journal.resolved(entry, contract_id, buy_price or order.stake)
            )
        if contract_id is None:
            return
        self._known.add(contract_id)
        await self._follow(self.engine.view.positions[contract_id])


class _Abandoned(Exception):
    """Internal: leave the TaskGroup at once, open contracts left running."""


def _position_data(position: Position) -> dict[str, Any]:
    return {
        "contract_id": position.contract_id,
        "contract_type": position.trade.contract_type,
        "stake": position.stake,
        "buy_price": position.buy_price,
    }


def _settlement_data(settlement: Settlement, engine: Engine) -> dict[str, Any]:
    results = engine.results
    return {
        "contract_id": settlement.position.contract_id,
        "profit": settlement.profit,
        "won": settlement.won,
        "runs": results.runs,
        "total_profit": results.profit,
        "next_stake": engine.rule.stake,
    }

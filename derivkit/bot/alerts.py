"""Price alerts: "tell me when R_100 goes above 1500" (or below, or moves by 2 %).

An alert fires once, or (``repeat``) every time its condition becomes true again, at most once
per ``cooldown`` seconds: a level alert re-arms when the price has gone back to the other side,
a move alert measures its next move from the price it fired at. Alerts are stored
(:class:`~derivkit.storage.Storage`), so they outlive a restart; all users' alerts on a symbol
listen to that symbol's one shared tick stream (:class:`~derivkit.bot.marketdata.MarketData`),
which is released when the symbol has no alerts left.

Ticks are checked synchronously as they arrive; the store is updated and the user told in a
task, after the alert's in-memory state has changed, so a tick can never fire one alert twice.
In a fleet (``fleet``: :class:`~derivkit.bot.fleet.Fleet`) each symbol's alerts are a leased
duty (``alerts:SYMBOL``): only the instance holding the lease listens to the symbol and fires
its alerts (:meth:`PriceAlerts.take_symbol`, re-read every scan by :meth:`PriceAlerts.refresh`),
and a firing is recorded by one conditional ``UPDATE`` before the user is told, so an alert is
told once even if two instances briefly both believe they hold its symbol. With an ``outbox``
(:class:`~derivkit.bot.delivery.Outbox`) the notice is queued in that same transaction and
sent from the outbox, so an instance that dies after the firing leaves the notice to another.
A user's own alerts (for /alerts) are read from the database when their update starts
(:meth:`load_user`).

Use from the bot's event loop; :meth:`PriceAlerts.close` cancels the pending work.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from derivkit.bot.marketdata import MarketData
from derivkit.core import DerivError, Tick
from derivkit.storage import AlertRecord, NewAlert, Storage
from derivkit.storage.notices import NewNotice
from derivkit.storage.records import AlertKind

__all__ = ["MAX_ALERTS_PER_USER", "AlertRefused", "LiveAlert", "PriceAlerts"]

logger = logging.getLogger("derivkit.bot.alerts")

MAX_ALERTS_PER_USER = 10
RELISTEN_AFTER = 5.0


class AlertRefused(Exception):
    """An alert that cannot be set (the message says why)."""


@dataclass
class LiveAlert:
    record: AlertRecord
    armed: bool = True
    last_fired: float | None = None  # clock() of the last firing (monotonic)

    @property
    def id(self) -> int:
        return self.record.id

    def condition(self, quote: float) -> bool:
        record = self.record
        if record.kind == "above":
            return quote >= record.level
        if record.kind == "below":
            return quote <= record.level
        reference = record.reference or 0.0
        return bool(reference) and abs(quote - reference) / reference * 100 >= record.level


Notify = Callable[[AlertRecord, Tick], Awaitable[None]]


class PriceAlerts:
    """Every active alert, by symbol; see the module docstring."""

    def __init__(
        self,
        market: MarketData,
        storage: Storage,
        notify: Notify,
        *,
        clock: Callable[[], float] = time.monotonic,
        fleet: Any = None,
        outbox: Any = None,
        render: Callable[[AlertRecord, Tick], str] | None = None,
    ) -> None:
        self._market = market
        self._storage = storage
        self._notify = notify
        self._clock = clock
        self.fleet = fleet
        #: With an outbox (derivkit.bot.delivery.Outbox) a firing and its notice (``render``'s
        #: text) are one transaction, and the notice is sent from the outbox.
        self.outbox = outbox
        self._render = render
        self._user_alerts: dict[int, list[AlertRecord]] = {}  # a fleet: read per update
        self._by_symbol: dict[str, dict[int, LiveAlert]] = {}
        self._stops: dict[str, Callable[[], None]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    def of(self, user_id: int) -> list[AlertRecord]:
        if self.fleet is not None:
            return list(self._user_alerts.get(user_id, []))
        return sorted(
            (
                live.record
                for alerts in self._by_symbol.values()
                for live in alerts.values()
                if live.record.telegram_id == user_id
            ),
            key=lambda record: record.id,
        )

    def __len__(self) -> int:
        return sum(len(alerts) for alerts in self._by_symbol.values())

    async def start(self) -> None:
        """Load the stored alerts and listen to their symbols (a symbol that fails is retried).
        In a fleet nothing: the symbols come with their leases (:meth:`take_symbol`)."""
        if self.fleet is not None:
            return
        for record in await self._storage.active_alerts():
            self._by_symbol.setdefault(record.symbol, {})[record.id] = LiveAlert(record)
        for symbol in list(self._by_symbol):
            await self._listen_or_retry(symbol)

    async def add(
        self,
        *,
        user_id: int,
        chat_id: int,
        symbol: str,
        kind: AlertKind,
        level: float,
        repeat: bool = False,
        cooldown: float = 0.0,
    ) -> tuple[AlertRecord, Tick]:
        """Set an alert; returns it and the current tick.

        Raises:
            AlertRefused: too many alerts, or the price is already past the level.
            APIError: the symbol is unknown (or the server refused the stream).
        """
        if len(self.of(user_id)) >= MAX_ALERTS_PER_USER:
            raise AlertRefused(f"you have {MAX_ALERTS_PER_USER} alerts already; delete one first")
        current = await self._market.tick(symbol)
        reference = current.quote if kind == "move" else None
        probe = LiveAlert(
            AlertRecord(
                telegram_id=user_id,
                chat_id=chat_id,
                symbol=symbol,
                kind=kind,
                level=level,
                reference=reference,
            )
        )
        if kind != "move" and probe.condition(current.quote):
            raise AlertRefused(f"{symbol} is already {kind} that")
        record = await self._storage.add_alert(
            NewAlert(
                telegram_id=user_id,
                chat_id=chat_id,
                symbol=symbol,
                kind=kind,
                level=level,
                reference=reference,
                pip_size=current.pip_size,
                repeat=repeat,
                cooldown=cooldown,
            )
        )
        if self.fleet is not None:
            self._user_alerts.setdefault(user_id, []).append(record)
            name = f"alerts:{symbol}"
            if self.fleet.holds(name) or await self.fleet.own(name):
                await self.take_symbol(symbol)
            return record, current  # else its holder reads it within a scan
        self._by_symbol.setdefault(symbol, {})[record.id] = LiveAlert(record)
        if symbol not in self._stops:
            try:
                self._stops[symbol] = await self._market.listen(symbol, self._on_tick, self._ended)
            except BaseException:
                self._by_symbol[symbol].pop(record.id, None)
                await self._storage.delete_alert(record.id, user_id)
                raise
        return record, current

    async def remove(self, alert_id: int, user_id: int) -> AlertRecord | None:
        """Delete one of ``user_id``'s alerts; None if it is not theirs (or gone)."""
        removed = await self._storage.delete_alert(alert_id, user_id)
        if removed is None:
            return None
        self._discard(removed.symbol, alert_id)
        if user_id in self._user_alerts:
            self._user_alerts[user_id] = [a for a in self._user_alerts[user_id] if a.id != alert_id]
        return removed

    # -- a fleet -----------------------------------------------------------------------------

    async def load_user(self, user_id: int) -> None:
        """Read the user's alerts (their update is starting, on any instance)."""
        self._user_alerts[user_id] = await self._storage.active_alerts(user_id)

    def forget_user(self, user_id: int) -> None:
        self._user_alerts.pop(user_id, None)

    def symbols(self) -> set[str]:
        """The symbols whose alerts this instance fires."""
        return set(self._by_symbol)

    async def take_symbol(self, symbol: str) -> None:
        """This instance now fires ``symbol``'s alerts: read them and listen."""
        await self.refresh({symbol})

    async def refresh(self, symbols: set[str]) -> None:
        """Re-read the alerts of ``symbols`` (new ones join, deleted or fired ones leave; a
        live alert keeps its state) and listen to each symbol that has some."""
        if not symbols:
            return
        stored: dict[str, dict[int, AlertRecord]] = {symbol: {} for symbol in symbols}
        for record in await self._storage.symbol_alerts(symbols):
            stored[record.symbol][record.id] = record
        for symbol, records in stored.items():
            live = self._by_symbol.get(symbol, {})
            for alert_id in [i for i in live if i not in records]:
                self._discard(symbol, alert_id)
            if not records:
                continue
            live = self._by_symbol.setdefault(symbol, {})
            for alert_id, record in records.items():
                if alert_id not in live:
                    live[alert_id] = LiveAlert(record)
            await self._listen_or_retry(symbol)

    def drop_symbol(self, symbol: str) -> None:
        """Another instance fires ``symbol``'s alerts now: stop listening."""
        self._by_symbol.pop(symbol, None)
        stop = self._stops.pop(symbol, None)
        if stop is not None:
            stop()

    def _discard(self, symbol: str, alert_id: int) -> None:
        alerts = self._by_symbol.get(symbol)
        if alerts is None:
            return
        alerts.pop(alert_id, None)
        if not alerts:
            del self._by_symbol[symbol]
            stop = self._stops.pop(symbol, None)
            if stop is not None:
                stop()

    def _on_tick(self, tick: Tick) -> None:
        alerts = self._by_symbol.get(tick.symbol)
        if not alerts:
            return
        now = self._clock()
        for live in list(alerts.values()):
            record = live.record
            if not live.condition(tick.quote):
                if record.kind != "move":
                    live.armed = True  # back on the other side: a repeat may fire again
                continue
            if not live.armed:
                continue
            if live.last_fired is not None and now - live.last_fired < record.cooldown:
                continue
            live.last_fired = now
            if record.repeat:
                live.armed = record.kind == "move"
                if record.kind == "move":
                    live.record = dataclasses.replace(record, reference=tick.quote)
            else:
                self._discard(record.symbol, record.id)  # once, before anything is awaited
            self._spawn(self._fire(record, tick, still_active=record.repeat))

    async def _fire(self, record: AlertRecord, tick: Tick, *, still_active: bool) -> None:
        if self.outbox is not None and self._render is not None:
            notice = NewNotice(
                record.telegram_id, record.chat_id, "alert", self._render(record, tick)
            )
            try:
                queued = await self.outbox.store.alert_fired(
                    record.id,
                    time.time(),
                    active=still_active,
                    reference=tick.quote if record.kind == "move" else None,
                    notice=notice,
                    holder=self.outbox.holder,
                    lease=self.outbox.lease,
                )
            except Exception:
                logger.exception("recording that alert %s fired failed", record.id)
                if self.fleet is not None:
                    return  # a fleet: never twice
                queued = None  # one process: tell it anyway, straight away
                await self._tell(record, tick)
            if queued is not None:
                await self.outbox.send(queued)
            return
        try:
            claimed = await self._storage.alert_fired(
                record.id,
                time.time(),
                active=still_active,
                reference=tick.quote if record.kind == "move" else None,
            )
        except Exception:
            logger.exception("recording that alert %s fired failed", record.id)
            claimed = self.fleet is None  # one process: tell anyway; a fleet: never twice
        if not claimed and self.fleet is not None:
            return  # fired (or deleted) already, by whichever instance
        await self._tell(record, tick)

    async def _tell(self, record: AlertRecord, tick: Tick) -> None:
        try:
            await self._notify(record, tick)
        except Exception as error:  # one chat's failure must not end the others' alerts
            logger.warning(
                "alert %s for user %s not delivered: %s", record.id, record.telegram_id, error
            )

    def _ended(self, symbol: str, error: BaseException | None) -> None:
        self._stops.pop(symbol, None)
        if symbol in self._by_symbol:
            self._spawn(self._relisten(symbol))

    async def _relisten(self, symbol: str) -> None:
        await asyncio.sleep(RELISTEN_AFTER)
        await self._listen_or_retry(symbol)

    async def _listen_or_retry(self, symbol: str) -> None:
        if symbol in self._stops or symbol not in self._by_symbol:
            return
        try:
            self._stops[symbol] = await self._market.listen(symbol, self._on_tick, self._ended)
        except DerivError as error:
            logger.warning("alerts on %s wait for their stream: %s", symbol, error)
            self._spawn(self._relisten(symbol))

    def _spawn(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for stop in self._stops.values():
            stop()
        self._stops.clear()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

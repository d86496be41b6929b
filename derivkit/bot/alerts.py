"""Price alerts: "tell me when R_100 goes above 1500". Each alert fires once.

All users' alerts on a symbol share one tick stream, read by one task per symbol; the task ends
(and the stream is forgotten) when the symbol has no alerts left. Alerts live in memory: they end
with the bot. Use from the bot's event loop only; :meth:`PriceAlerts.close` cancels the readers.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from derivkit.core import DerivClient, DerivError, Subscription, Tick

__all__ = ["MAX_ALERTS_PER_USER", "Alert", "AlertRefused", "PriceAlerts"]

logger = logging.getLogger("derivkit.bot.alerts")

MAX_ALERTS_PER_USER = 10


class AlertRefused(Exception):
    """An alert that cannot be set (the message says why)."""


@dataclass(frozen=True)
class Alert:
    id: int
    user_id: int
    chat_id: int
    symbol: str
    above: bool
    level: float
    pip_size: int | None

    def crossed(self, quote: float) -> bool:
        return quote >= self.level if self.above else quote <= self.level


Notify = Callable[[Alert, Tick], Awaitable[None]]


class PriceAlerts:
    """Every user's alerts, and one reader task per symbol with alerts."""

    def __init__(self, client: DerivClient, notify: Notify) -> None:
        self._client = client
        self._notify = notify
        self._alerts: dict[int, Alert] = {}
        self._readers: dict[str, asyncio.Task[None]] = {}
        self._ids = itertools.count(1)

    def of(self, user_id: int) -> list[Alert]:
        return [alert for alert in self._alerts.values() if alert.user_id == user_id]

    async def add(
        self, user_id: int, chat_id: int, symbol: str, above: bool, level: float
    ) -> tuple[Alert, Tick]:
        """Set an alert; returns it and the current tick.

        Raises:
            AlertRefused: too many alerts, or the price is already past the level.
            APIError: the symbol is unknown (or the server refused the stream).
        """
        if len(self.of(user_id)) >= MAX_ALERTS_PER_USER:
            raise AlertRefused(f"you have {MAX_ALERTS_PER_USER} alerts already; delete one first")
        ticks = await self._client.ticks(symbol)
        try:
            current = await anext(ticks)
        except BaseException:
            await ticks.aclose()
            raise
        alert = Alert(next(self._ids), user_id, chat_id, symbol, above, level, current.pip_size)
        if alert.crossed(current.quote):
            await ticks.aclose()
            raise AlertRefused(f"{symbol} is already {'above' if above else 'below'} that")
        self._alerts[alert.id] = alert
        if symbol in self._readers:
            await ticks.aclose()  # the reader's stream is the same upstream one
        else:
            self._readers[symbol] = asyncio.create_task(
                self._read(symbol, ticks), name=f"alerts-{symbol}"
            )
        return alert, current

    def remove(self, alert_id: int, user_id: int) -> Alert | None:
        """Delete one of ``user_id``'s alerts (its symbol's reader stops at its next tick if
        nothing else is watched there)."""
        alert = self._alerts.get(alert_id)
        if alert is None or alert.user_id != user_id:
            return None
        return self._alerts.pop(alert_id)

    async def _read(self, symbol: str, ticks: Subscription[Tick]) -> None:
        try:
            async with ticks:
                async for tick in ticks:
                    fired = [
                        alert
                        for alert in self._alerts.values()
                        if alert.symbol == symbol and alert.crossed(tick.quote)
                    ]
                    for alert in fired:
                        del self._alerts[alert.id]  # once, before anything is awaited
                    for alert in fired:
                        await self._tell(alert, tick)
                    if not any(a.symbol == symbol for a in self._alerts.values()):
                        self._readers.pop(symbol, None)  # now: a new alert starts a new reader
                        return
        except DerivError as error:
            logger.warning("alerts on %s stopped: %s", symbol, error)
            self._readers.pop(symbol, None)
            for alert in [a for a in self._alerts.values() if a.symbol == symbol]:
                del self._alerts[alert.id]
        except Exception:
            logger.exception("alerts on %s failed", symbol)
            self._readers.pop(symbol, None)

    async def _tell(self, alert: Alert, tick: Tick) -> None:
        try:
            await self._notify(alert, tick)
        except Exception as error:  # one chat's failure must not end the others' alerts
            logger.warning("alert %s for user %s not delivered: %s", alert.id, alert.user_id, error)

    async def close(self) -> None:
        """Cancel every reader and wait for them to end."""
        readers = list(self._readers.values())
        self._readers.clear()
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)

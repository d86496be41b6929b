"""What every handler shares, one :class:`BotRuntime` per application, kept in
``application.bot_data``: the settings, the storage, the shared market data, the users' Deriv
sessions, the trade desk, delivery, buttons, pending orders, alerts, flood limits and the machine's
strategy runs.

Everything lives on the bot's event loop. Updates of different users run concurrently, those of
one user one at a time (:class:`~derivkit.bot.updates.PerUserUpdateProcessor`), so per-user
state needs no lock; shared state is only changed between awaits.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from derivkit.bot.alerts import PriceAlerts
from derivkit.bot.buttons import Buttons
from derivkit.bot.delivery import Delivery
from derivkit.bot.limits import UserRateLimits
from derivkit.bot.marketdata import MarketData
from derivkit.bot.orders import PendingOrders
from derivkit.bot.sessions import AccountSession, AccountSessions
from derivkit.bot.trades import TradeDesk
from derivkit.settings import BotSettings
from derivkit.storage import Storage, UserRecord
from derivkit.strategy.registry import RunRegistry

__all__ = ["RUNTIME_KEY", "BotRuntime", "TradingLimits", "runtime"]

RUNTIME_KEY = "derivkit"
TOKEN_WAIT = 120.0  # how long "/connect" waits for the token message (seconds)


@dataclass(frozen=True)
class TradingLimits:
    """The limits a user's buys must pass: theirs, within the operator's caps."""

    max_stake: float
    max_open: int
    daily_loss: float | None


@dataclass
class BotRuntime:
    settings: BotSettings
    storage: Storage
    market: MarketData
    sessions: AccountSessions
    desk: TradeDesk
    delivery: Delivery
    orders: PendingOrders
    alerts: PriceAlerts
    buttons: Buttons = field(default_factory=Buttons)
    limits: UserRateLimits = field(default_factory=UserRateLimits)
    #: Users whose next private text message is their Deriv token, until a monotonic time.
    awaiting_token: dict[int, float] = field(default_factory=dict)
    #: PTB's JobQueue (order expiry), when the application has one.
    job_queue: Any = None
    #: A fleet's coordination (derivkit.bot.fleet.Fleet) when instances share PostgreSQL.
    fleet: Any = None
    #: Settlement and alert notices, queued in the database (derivkit.bot.delivery.Outbox).
    outbox: Any = None
    #: The strategies running on this machine (``derivkit run``), for /strategies.
    runs: RunRegistry = field(default_factory=RunRegistry)
    _users: dict[int, UserRecord] = field(default_factory=dict)

    async def user(self, user_id: int) -> UserRecord:
        """The user's stored record (created if new), cached."""
        found = self._users.get(user_id)
        if found is None:
            found = await self.storage.ensure_user(user_id)
            self._users[user_id] = found
        return found

    def forget_user(self, user_id: int) -> None:
        """Drop what is cached of the user (another instance may have changed it)."""
        self._users.pop(user_id, None)
        self.delivery.forget_levels(user_id)

    def remember(self, record: UserRecord) -> UserRecord:
        """Keep a record just written to the storage."""
        self._users[record.telegram_id] = record
        return record

    async def session(self, user_id: int) -> AccountSession:
        """The Deriv session commands of ``user_id`` use (see :class:`AccountSessions`)."""
        return await self.sessions.get(user_id)

    async def trading_limits(self, user_id: int) -> TradingLimits:
        settings = self.settings
        record = await self.user(user_id)

        def within(own: float | None, cap: float | None) -> float | None:
            if own is None:
                return cap
            return own if cap is None else min(own, cap)

        stake = within(record.max_stake, settings.max_stake)
        opened = within(record.max_open, settings.max_open)
        assert stake is not None and opened is not None
        return TradingLimits(stake, int(opened), within(record.daily_loss, settings.daily_loss))

    def expect_token(self, user_id: int) -> None:
        self.awaiting_token[user_id] = time.monotonic() + TOKEN_WAIT

    def takes_token(self, user_id: int) -> bool:
        """Whether this user's next text is a token (and stop waiting for it)."""
        until = self.awaiting_token.pop(user_id, None)
        return until is not None and time.monotonic() < until


def runtime(context: Any) -> BotRuntime:
    """The runtime from a handler's ``context`` (or an ``Application``)."""
    application = getattr(context, "application", context)
    found = application.bot_data.get(RUNTIME_KEY)
    if not isinstance(found, BotRuntime):
        raise RuntimeError("the Deriv core is not attached to this bot (attach_core)")
    return found

"""What every handler shares: the Deriv client, the bot's settings, pending orders, watches,
price alerts and flood limits. One :class:`BotRuntime` per application, kept in
``application.bot_data``.

Everything here lives on the bot's event loop; handlers run one update at a time
(``concurrent_updates`` stays off), so no locking is needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from derivkit.bot.alerts import PriceAlerts
from derivkit.bot.limits import UserRateLimits
from derivkit.bot.orders import PendingOrders
from derivkit.bot.watchers import ContractWatchers
from derivkit.core import DerivClient
from derivkit.settings import BotSettings

__all__ = ["RUNTIME_KEY", "BotRuntime", "runtime"]

RUNTIME_KEY = "derivkit"


@dataclass
class BotRuntime:
    client: DerivClient
    settings: BotSettings
    orders: PendingOrders
    watchers: ContractWatchers
    alerts: PriceAlerts
    limits: UserRateLimits

    @property
    def currency(self) -> str:
        account = self.client.account
        return account.currency if account and account.currency else "USD"

    @property
    def real_money(self) -> bool:
        """Whether the connection trades a real-money account."""
        account = self.client.account
        return account is not None and not account.is_virtual


def runtime(context: Any) -> BotRuntime:
    """The runtime from a handler's ``context`` (or an ``Application``)."""
    application = getattr(context, "application", context)
    found = application.bot_data.get(RUNTIME_KEY)
    if not isinstance(found, BotRuntime):
        raise RuntimeError("the Deriv core is not attached to this bot (attach_core)")
    return found

"""What the storage hands out: plain frozen dataclasses, no database objects, no secrets.

A :class:`UserRecord` says whether a token is stored (``has_token``) but never holds it; the token
is read with :meth:`derivkit.storage.Storage.token_of` when a connection is opened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "NOTIFICATION_EVENTS",
    "NOTIFICATION_LEVELS",
    "AlertKind",
    "AlertRecord",
    "ConnectedAccount",
    "JournalEntry",
    "JournalStatus",
    "NewAlert",
    "NewTrade",
    "UserRecord",
]

AlertKind = Literal["above", "below", "move"]
JournalStatus = Literal["sending", "bought", "failed", "unknown", "not_bought", "settled"]
#: Events a user can be notified of, and the level of each: on, silent (no sound) or off.
NOTIFICATION_EVENTS = ("settlement", "alert", "connection")
NOTIFICATION_LEVELS = ("on", "silent", "off")


@dataclass(frozen=True)
class ConnectedAccount:
    """The Deriv account behind a stored token, as ``authorize`` described it."""

    loginid: str
    is_virtual: bool
    currency: str
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class UserRecord:
    telegram_id: int
    role: str = "user"
    created_at: float = 0.0
    account: ConnectedAccount | None = None  # None: no token stored
    connected_at: float | None = None
    paused: bool = False
    max_stake: float | None = None
    max_open: int | None = None
    daily_loss: float | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def has_token(self) -> bool:
        return self.account is not None


@dataclass(frozen=True)
class NewAlert:
    telegram_id: int
    chat_id: int
    symbol: str
    kind: AlertKind
    level: float  # a price, or for "move" a percentage
    reference: float | None = None  # "move": the price it is measured from
    pip_size: int | None = None
    repeat: bool = False
    cooldown: float = 0.0


@dataclass(frozen=True)
class AlertRecord(NewAlert):
    id: int = 0
    created_at: float = 0.0
    last_fired_at: float | None = None
    active: bool = True


@dataclass(frozen=True)
class NewTrade:
    """A buy about to be sent: what was asked for and what it was quoted at."""

    loginid: str
    is_virtual: bool
    currency: str
    symbol: str
    contract_type: str
    stake: float
    max_price: float
    request: dict[str, Any]
    quote: dict[str, Any] | None = None
    telegram_id: int | None = None
    chat_id: int | None = None
    origin: str = "bot"
    run_id: str | None = None
    strategy: str | None = None
    order_nonce: str | None = None  # the bot's pending order (its Confirm card) that sent it


@dataclass(frozen=True)
class JournalEntry(NewTrade):
    id: int = 0
    status: JournalStatus = "sending"
    requested_at: float = 0.0
    contract_id: int | None = None
    transaction_id: int | None = None
    buy_price: float | None = None
    payout: float | None = None
    reply: dict[str, Any] | None = None
    bought_at: float | None = None
    sell_price: float | None = None
    profit: float | None = None
    settled_at: float | None = None
    notified: bool = False
    error: str | None = None

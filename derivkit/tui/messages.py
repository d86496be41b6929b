"""Messages from the dashboard's stream workers and connection relay to the main screen.

Workers post; the main screen handles. None of these bubble. High-rate messages coalesce: a queued
:class:`TickReceived` is superseded by a newer one for the same stream (latest wins), so a slow
repaint never builds a backlog; so is a :class:`PositionUpdated` by a newer one for the same
contract. Counters travel inside the message (``received``, ``gaps``), so coalescing loses
intermediate prices, never counts; a contract's last (settled) update is never superseded.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from derivkit.tui.positions import ContractUpdate
from derivkit.tui.watchlist import SymbolInfo

__all__ = [
    "BalanceChanged",
    "BalanceFailed",
    "ConnectionStateChanged",
    "ContractBought",
    "HistoryLoaded",
    "PortfolioLoaded",
    "PositionFailed",
    "PositionUpdated",
    "PositionsFailed",
    "StreamFailed",
    "SymbolsLoaded",
    "TickReceived",
]


@dataclass
class TickReceived(Message, bubble=False):
    """One tick of a watched symbol. ``stream`` tells a re-added symbol's stream from its
    predecessor's; ``received`` counts the stream's ticks so far; ``gaps`` its reconnect gaps."""

    symbol: str
    quote: float
    epoch: int
    pip_size: int | None
    received: int
    gaps: int
    stream: int

    def can_replace(self, message: Message) -> bool:
        return (
            isinstance(message, TickReceived)
            and message.symbol == self.symbol
            and message.stream == self.stream
        )


@dataclass
class HistoryLoaded(Message, bubble=False):
    """Recent prices of a watched symbol, up to ``epoch``, to start its sparkline with."""

    symbol: str
    prices: list[float]
    epoch: int
    pip_size: int | None
    stream: int


@dataclass
class StreamFailed(Message, bubble=False):
    """A symbol's stream ended with an error; ``rejected`` if the server refused the symbol."""

    symbol: str
    reason: str
    rejected: bool
    stream: int


@dataclass
class BalanceChanged(Message, bubble=False):
    balance: float
    currency: str
    gaps: int

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, BalanceChanged)


@dataclass
class BalanceFailed(Message, bubble=False):
    """The balance stream ended with an error."""

    reason: str


@dataclass
class ConnectionStateChanged(Message, bubble=False):
    """The client's connection state: connecting, connected, reconnecting or closed."""

    state: str


@dataclass
class SymbolsLoaded(Message, bubble=False):
    """The server's active symbols, by symbol; empty, with ``error``, if they are unavailable."""

    symbols: dict[str, SymbolInfo]
    error: str | None = None


@dataclass
class PortfolioLoaded(Message, bubble=False):
    """The contracts open when the dashboard started (their ids); empty, with ``error``, if the
    portfolio is unavailable."""

    contract_ids: list[int]
    error: str | None = None


@dataclass
class ContractBought(Message, bubble=False):
    """A contract was bought on the account (by any client) after the portfolio was read."""

    contract_id: int


@dataclass
class PositionsFailed(Message, bubble=False):
    """The account's transaction stream ended with an error: new contracts are not seen."""

    reason: str


@dataclass
class PositionUpdated(Message, bubble=False):
    """A followed contract's latest state; its last one has ``update.settled``."""

    update: ContractUpdate

    def can_replace(self, message: Message) -> bool:
        return (
            isinstance(message, PositionUpdated)
            and message.update.contract_id == self.update.contract_id
        )


@dataclass
class PositionFailed(Message, bubble=False):
    """A followed contract's stream ended (with an error, or unsettled): no more updates."""

    contract_id: int
    reason: str

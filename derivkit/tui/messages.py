"""Messages from the dashboard's stream workers and connection state listener to the main screen.

Workers post; the main screen handles. None of these bubble. High-rate messages coalesce: a queued
:class:`TickReceived` is superseded by a newer one for the same stream (latest wins), so a slow
repaint never builds a backlog; so is a :class:`PositionUpdated` by a newer one for the same
contract. Counters travel inside the message (``received``, ``gaps``), so coalescing loses
intermediate prices, never counts; a contract's last (settled) update is never superseded.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from derivkit.tui.candles import Bar
from derivkit.tui.positions import ContractUpdate
from derivkit.tui.watchlist import SymbolInfo

__all__ = [
    "AccountReopened",
    "AccountStateChanged",
    "BalanceChanged",
    "BuyFinished",
    "BuyResolved",
    "CandlesReceived",
    "CandlesFailed",
    "QuoteFailed",
    "QuoteReceived",
    "SellFinished",
    "ServerClock",
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
    """Recent ticks of a watched symbol (``times`` and ``prices``, oldest first), up to
    ``epoch``, to start its chart and digit statistics with."""

    symbol: str
    prices: list[float]
    times: list[int]
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
    """The balance stream ended with an error; ``rejected`` if the token was refused."""

    reason: str
    rejected: bool = False


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


@dataclass
class AccountStateChanged(Message, bubble=False):
    """The account client's connection state; ``serial`` tells which of the link's clients."""

    state: str
    serial: int


@dataclass
class AccountReopened(Message, bubble=False):
    """A retry of the account connection ended: ``error`` is None if it is back."""

    error: str | None
    rejected: bool = False


@dataclass
class ServerClock(Message, bubble=False):
    """One ping: round-trip ``latency`` (s) and the server's clock (epoch) when it answered;
    ``error`` if the ping failed."""

    latency: float | None
    server_epoch: int | None
    error: str | None = None

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ServerClock)


@dataclass
class CandlesReceived(Message, bubble=False):
    """Candles of the chart's symbol at ``granularity``: the history, then each update."""

    symbol: str
    granularity: int
    bars: list[Bar]
    stream: int

    def can_replace(self, message: Message) -> bool:
        # an update of the same forming candle supersedes the queued one; a history never goes
        return (
            isinstance(message, CandlesReceived)
            and message.stream == self.stream
            and len(message.bars) == len(self.bars) == 1
            and message.bars[0].epoch == self.bars[0].epoch
        )


@dataclass
class CandlesFailed(Message, bubble=False):
    symbol: str
    granularity: int
    reason: str
    stream: int


@dataclass
class QuoteReceived(Message, bubble=False):
    """The ticket's live price; ``quote`` is the core's Proposal (opaque to widgets)."""

    quote: object
    serial: int

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, QuoteReceived) and message.serial == self.serial


@dataclass
class QuoteFailed(Message, bubble=False):
    reason: str
    serial: int


@dataclass
class BuyFinished(Message, bubble=False):
    """A buy from the ticket ended: ``contract_id`` if bought, else ``error``; ``unknown`` if the
    reply was lost (the buy may or may not have happened; it was not re-sent)."""

    order: object
    contract_id: int | None = None
    buy_price: float | None = None
    balance_after: float | None = None
    error: str | None = None
    unknown: bool = False


@dataclass
class BuyResolved(Message, bubble=False):
    """An outcome-unknown buy, looked up after the reconnect: bought as ``contract_id``, or not
    found (None); ``error`` if the look-up failed."""

    order: object
    contract_id: int | None
    error: str | None = None


@dataclass
class SellFinished(Message, bubble=False):
    contract_id: int
    sold_for: float | None = None
    error: str | None = None
    unknown: bool = False

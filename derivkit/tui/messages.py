"""Messages from the dashboard's stream workers and connection state listener to the main screen.

Workers post; the main screen handles. None of these bubble. Ticks, tick history and candles are
not messages:
their workers hand them to the screen's models directly (:mod:`derivkit.tui.streams`). The
messages that can come often coalesce: a queued :class:`PositionUpdated` is superseded by a newer
one for the same contract (a contract's last, settled, update never is), a quote by a newer quote,
a balance by a newer balance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual.message import Message

from derivkit.strategy.registry import RunRecord
from derivkit.tui.positions import ContractUpdate
from derivkit.tui.watchlist import SymbolInfo

__all__ = [
    "AccountReopened",
    "AccountStateChanged",
    "BalanceChanged",
    "BuyFinished",
    "BuyResolved",
    "CancelFinished",
    "CandlesFailed",
    "QuoteFailed",
    "QuoteReceived",
    "SellFinished",
    "ServerClock",
    "StrategiesLoaded",
    "StrategyStopAsked",
    "BalanceFailed",
    "ConnectionStateChanged",
    "ContractBought",
    "OffersLoaded",
    "PortfolioLoaded",
    "PositionFailed",
    "PositionUpdated",
    "PositionsFailed",
    "StreamFailed",
    "SymbolsLoaded",
    "UpdateFinished",
]


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
class CandlesFailed(Message, bubble=False):
    symbol: str
    granularity: int
    reason: str
    stream: int


@dataclass
class OffersLoaded(Message, bubble=False):
    """What the ticket's symbol offers (``contracts_for``: core ContractOffer objects, opaque
    here); empty, with ``error``, if it could not be read."""

    symbol: str
    offers: Sequence[object]
    error: str | None = None


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
    """A sell ended: ``sold_for`` if sold, else ``error``; ``unknown`` if the reply was lost."""

    contract_id: int
    sold_for: float | None = None
    error: str | None = None
    unknown: bool = False


@dataclass
class CancelFinished(Message, bubble=False):
    """A deal cancellation ended: ``sold_for`` (the stake back) if cancelled, else ``error``;
    ``unknown`` if the reply was lost (it was not re-sent)."""

    contract_id: int
    sold_for: float | None = None
    error: str | None = None
    unknown: bool = False


@dataclass
class UpdateFinished(Message, bubble=False):
    """A take profit / stop loss update ended. ``changes`` is what was asked (an amount, or
    None to remove); ``take_profit``/``stop_loss`` what the server now has (None: not set);
    ``error`` if refused; ``unknown`` if the reply was lost (it was not re-sent)."""

    contract_id: int
    changes: dict[str, float | None]
    take_profit: float | None = None
    stop_loss: float | None = None
    error: str | None = None
    unknown: bool = False


@dataclass
class StrategiesLoaded(Message, bubble=False):
    """The strategies running on this machine, oldest first, as the registry lists them now;
    ``error`` (and the last list kept) if it could not be read."""

    records: list[RunRecord]
    error: str | None = None

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, StrategiesLoaded)


@dataclass
class StrategyStopAsked(Message, bubble=False):
    """The dashboard asked run ``run_id`` to stop buying: ``asked`` if the run got the request,
    False if it was no longer running; ``error`` if the request could not be made."""

    run_id: str
    asked: bool
    error: str | None = None

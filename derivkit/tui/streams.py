"""The dashboard's I/O: coroutines that read the client and post what they get, run as workers.

Each takes the connected client and ``post`` (a message pump's ``post_message``), knows no widget,
and ends in a message instead of an exception for any derivkit error. They run until cancelled;
cancelling is safe at any await, and a stream's ``async with`` forgets it on the way out.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.message import Message

from derivkit.core import APIError, DerivClient, DerivError
from derivkit.tui.messages import (
    BalanceChanged,
    BalanceFailed,
    HistoryLoaded,
    StreamFailed,
    SymbolsLoaded,
    TickReceived,
)
from derivkit.tui.watchlist import HISTORY, SymbolInfo

__all__ = ["describe", "load_symbols", "stream_balance", "stream_ticks"]

Post = Callable[[Message], object]


def describe(error: BaseException) -> str:
    """One line for a notification: the server's message and code, or the error text."""
    if isinstance(error, APIError):
        return f"{error.message} ({error.code})"
    return str(error) or type(error).__name__


async def stream_ticks(client: DerivClient, symbol: str, stream: int, post: Post) -> None:
    """Post recent prices, then every tick of ``symbol``; ``stream`` tags each message.

    A refused symbol (an :class:`APIError`) ends in ``StreamFailed(rejected=True)``.
    """
    try:
        await _post_history(client, symbol, stream, post)
        async with await client.ticks(symbol) as ticks:
            received = 0
            async for tick in ticks:
                received += 1
                post(
                    TickReceived(
                        symbol, tick.quote, tick.epoch, tick.pip_size, received, ticks.gaps, stream
                    )
                )
    except DerivError as error:
        post(StreamFailed(symbol, describe(error), isinstance(error, APIError), stream))


async def _post_history(client: DerivClient, symbol: str, stream: int, post: Post) -> None:
    """Recent prices for the sparkline; skipped if refused (the tick stream reports that)."""
    try:
        history = await client.ticks_history(symbol, count=HISTORY)
    except APIError:
        return
    if history.prices and history.times:
        post(HistoryLoaded(symbol, history.prices, history.times[-1], history.pip_size, stream))


async def stream_balance(client: DerivClient, post: Post) -> None:
    """Post every balance update of the authorized account."""
    try:
        async with await client.watch_balance() as balances:
            async for balance in balances:
                post(BalanceChanged(balance.balance, balance.currency, balances.gaps))
    except DerivError as error:
        post(BalanceFailed(describe(error)))


async def load_symbols(client: DerivClient, post: Post) -> None:
    """Post the server's active symbols (an empty list and the reason if they are unavailable)."""
    try:
        symbols = await client.active_symbols()
    except DerivError as error:
        post(SymbolsLoaded({}, error=describe(error)))
        return
    post(
        SymbolsLoaded({s.symbol: SymbolInfo(s.symbol, s.display_name, s.pip_size) for s in symbols})
    )

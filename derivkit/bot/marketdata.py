"""Market data for every user over one shared, unauthenticated Deriv connection.

* ``tick(symbol)``: the latest price. The first caller opens a tick stream for the symbol (one
  upstream request, whose first message is the current tick); everyone asking meanwhile shares
  that request (:class:`~derivkit.coalesce.Coalescer`), and while the stream lives every later
  ``tick()`` is answered from its latest tick with no request at all. A stream nobody listens to
  is forgotten ``keep_warm`` seconds after its last use.
* ``listen(symbol, callback)``: every tick of the symbol (price alerts), on the same stream.
* ``symbols()``, ``contracts(symbol)``: cached for minutes, fetched once however many ask;
  ``resolve(text)`` turns ``r_100`` into ``R_100`` (symbols are case-insensitive for users).
* ``history()``/``candles()``: coalesced while in flight, never cached.

Concurrency: use from one event loop; every method may be called by any number of handlers at
once. :meth:`MarketData.close` cancels the stream readers; the client belongs to the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from derivkit.coalesce import Coalescer
from derivkit.core import (
    ActiveSymbol,
    APIError,
    Candle,
    ContractOffer,
    DerivClient,
    DerivError,
    History,
    MarketIsClosed,
    Subscription,
    Tick,
)

__all__ = ["MarketData", "TickListener", "UnknownSymbol"]

logger = logging.getLogger("derivkit.bot.market")

TickListener = Callable[[Tick], None]
EndListener = Callable[[str, BaseException | None], None]

SYMBOLS_TTL = 600.0
CONTRACTS_TTL = 300.0
#: A stream's latest tick older than this is not served as "the price now".
FRESH_FOR = 10.0


class UnknownSymbol(Exception):
    """A symbol the server does not list; ``suggestions`` are the closest known ones."""

    def __init__(self, text: str, suggestions: list[str]) -> None:
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown symbol {text}{hint}")
        self.text = text
        self.suggestions = suggestions


@dataclass
class _Feed:
    symbol: str
    subscription: Subscription[Tick]
    latest: Tick
    received_at: float
    last_used: float
    listeners: dict[int, tuple[TickListener, EndListener | None]] = field(default_factory=dict)
    fresh: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


@dataclass
class _Cached:
    value: Any
    until: float


class MarketData:
    """Shared market data; see the module docstring."""

    def __init__(
        self,
        client: DerivClient,
        *,
        keep_warm: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.keep_warm = keep_warm
        self._clock = clock
        self.coalescer = Coalescer()
        self._feeds: dict[str, _Feed] = {}
        self._cache: dict[Any, _Cached] = {}
        self._listener_ids = 0
        self._spellings: tuple[object, dict[str, str]] = (None, {})
        self._closed = False

    # -- prices ---------------------------------------------------------------------------

    def live_symbols(self) -> list[str]:
        """Symbols with a tick stream open now."""
        return sorted(self._feeds)

    async def tick(self, symbol: str) -> Tick:
        """The latest tick of ``symbol`` (exact spelling; see :meth:`resolve`).

        Raises:
            APIError: the symbol is unknown to the server (or another refusal).
            RequestTimeout, ConnectionLost.
        """
        feed = self._feeds.get(symbol)
        if feed is None:
            try:
                feed = await self.coalescer.run(("ticks", symbol), lambda: self._open(symbol))
            except MarketIsClosed:
                return await self._last_traded(symbol)
        feed.last_used = self._clock()
        if self._clock() - feed.received_at > FRESH_FOR:
            feed.fresh.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.client.request_timeout):
                    await feed.fresh.wait()
        return feed.latest

    async def _last_traded(self, symbol: str) -> Tick:
        history = await self.history(symbol, count=1)
        if not history.prices:
            raise APIError("MarketIsClosed", f"no price for {symbol}: its market is closed")
        return Tick(
            symbol=symbol,
            epoch=history.times[-1],
            quote=history.prices[-1],
            pip_size=history.pip_size,
        )

    async def listen(
        self, symbol: str, on_tick: TickListener, on_end: EndListener | None = None
    ) -> Callable[[], None]:
        """Call ``on_tick`` with every tick of ``symbol`` (from the next one on) until the
        returned function is called. ``on_end(symbol, error)`` is told if the stream ends."""
        feed = self._feeds.get(symbol)
        if feed is None:
            feed = await self.coalescer.run(("ticks", symbol), lambda: self._open(symbol))
        self._listener_ids += 1
        listener_id = self._listener_ids
        feed.listeners[listener_id] = (on_tick, on_end)

        def stop() -> None:
            feed.listeners.pop(listener_id, None)
            feed.last_used = self._clock()

        return stop

    async def _open(self, symbol: str) -> _Feed:
        existing = self._feeds.get(symbol)
        if existing is not None:
            return existing
        subscription = await self.client.ticks(symbol)
        try:
            first = await anext(subscription)
        except BaseException:
            await subscription.aclose()
            raise
        now = self._clock()
        feed = _Feed(symbol, subscription, first, now, now)
        feed.fresh.set()
        self._feeds[symbol] = feed
        feed.task = asyncio.create_task(self._read(feed), name=f"ticks-{symbol}")
        return feed

    async def _read(self, feed: _Feed) -> None:
        error: BaseException | None = None
        try:
            async with feed.subscription:
                async for tick in feed.subscription:
                    feed.latest = tick
                    feed.received_at = now = self._clock()
                    feed.fresh.set()
                    for on_tick, _ in list(feed.listeners.values()):
                        try:
                            on_tick(tick)
                        except Exception:
                            logger.exception("tick listener on %s failed", feed.symbol)
                    if not feed.listeners and now - feed.last_used > self.keep_warm:
                        break  # nobody asked for a while: forget the stream
        except DerivError as exc:
            error = exc
            logger.warning("tick stream of %s ended: %s", feed.symbol, exc)
        except asyncio.CancelledError:
            error = None
            raise
        finally:
            if self._feeds.get(feed.symbol) is feed:
                del self._feeds[feed.symbol]
            if not self._closed:
                for _, on_end in list(feed.listeners.values()):
                    if on_end is not None:
                        try:
                            on_end(feed.symbol, error)
                        except Exception:
                            logger.exception("end listener on %s failed", feed.symbol)

    # -- reference data -------------------------------------------------------------------

    async def symbols(self) -> list[ActiveSymbol]:
        """Every active symbol (cached for ten minutes)."""
        found: list[ActiveSymbol] = await self._cached(
            ("active_symbols",), SYMBOLS_TTL, self.client.active_symbols
        )
        return found

    async def resolve(self, text: str) -> str:
        """The server's spelling of a symbol typed in any case (``r_100`` -> ``R_100``).

        Raises:
            UnknownSymbol: no such symbol (with the closest ones as suggestions).
        """
        wanted = text.strip()
        symbols = await self.symbols()
        if self._spellings[0] is not symbols:
            self._spellings = (symbols, {item.symbol.lower(): item.symbol for item in symbols})
        known = self._spellings[1]
        found = known.get(wanted.lower())
        if found is not None:
            return found
        close = difflib.get_close_matches(wanted.lower(), list(known), n=3, cutoff=0.6)
        raise UnknownSymbol(wanted, [known[name] for name in close])

    async def describe(self, symbol: str) -> ActiveSymbol | None:
        return next((item for item in await self.symbols() if item.symbol == symbol), None)

    async def contracts(self, symbol: str, currency: str = "USD") -> list[ContractOffer]:
        """What can be traded on ``symbol`` (cached for five minutes)."""
        found: list[ContractOffer] = await self._cached(
            ("contracts_for", symbol, currency),
            CONTRACTS_TTL,
            lambda: self.client.contracts_for(symbol, currency=currency),
        )
        return found

    async def history(self, symbol: str, *, count: int = 100) -> History:
        return await self.coalescer.run(
            ("ticks_history", symbol, count),
            lambda: self.client.ticks_history(symbol, count=count),
        )

    async def candles(self, symbol: str, *, granularity: int, count: int = 60) -> list[Candle]:
        return await self.coalescer.run(
            ("candles", symbol, granularity, count),
            lambda: self.client.ticks_history(
                symbol, count=count, style="candles", granularity=granularity
            ),
        )

    async def _cached(self, key: Any, ttl: float, fetch: Callable[[], Awaitable[Any]]) -> Any:
        entry = self._cache.get(key)
        if entry is not None and entry.until > self._clock():
            return entry.value
        value = await self.coalescer.run(key, fetch)
        self._cache[key] = _Cached(value, self._clock() + ttl)
        return value

    async def close(self) -> None:
        """Cancel every stream reader and wait for them (their streams are forgotten)."""
        self._closed = True
        tasks = [feed.task for feed in self._feeds.values() if feed.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._feeds.clear()

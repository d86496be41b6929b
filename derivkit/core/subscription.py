"""Subscription: one local consumer of a (possibly shared) upstream stream, as an async iterator.

Iterating yields every message from the first reply on, parsed by the subscription's parser.
Cancelling ``__anext__`` is safe (nothing is lost). ``aclose()`` detaches this consumer; the
upstream stream is forgotten when its last consumer closes. ``async with`` closes on exit, also on
cancellation.

Every stream method of the client returns a :class:`PendingSubscription`, usable three ways::

    ticks = await api.ticks("R_100")          # a Subscription, open until ticks.aclose()
    async with api.ticks("R_100") as ticks:   # open in the block, closed on leaving it
        ...
    async for tick in api.ticks("R_100"):     # open while iterated
        ...

The last form closes the stream when it ends, and when the loop is left early (``break``, an
exception) as soon as the pending subscription is garbage collected, which CPython does at once;
``async with`` closes it deterministically.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator
from types import TracebackType
from typing import Any, Generic, TypeVar

from derivkit.core.exceptions import ConnectionLost, UsageError
from derivkit.core.protocol import Consumer

__all__ = ["Parser", "PendingSubscription", "Subscription"]

T = TypeVar("T")
Parser = Callable[[dict[str, Any]], list[T]]


class Subscription(Generic[T]):
    """An async iterator over one stream's messages.

    Attributes (read-only):
        dropped: messages dropped because this consumer fell behind (tick-like streams only).
        gaps: times the connection dropped and the stream was re-established; messages sent
            upstream during a gap are not recovered.
        duplicates: messages left out because this consumer had seen them already (the first
            message of a stream re-issued after a reconnect, usually).
    """

    def __init__(
        self,
        consumer: Consumer,
        parse: Parser[T] | None,
        closer: Callable[[Consumer], Awaitable[None]],
        releaser: Callable[[Consumer], None] | None = None,
    ) -> None:
        self._consumer = consumer
        self._parse = parse
        self._closer = closer
        self._releaser = releaser
        #: The future the reading task sleeps on while the buffer is empty (one reader).
        self._waiter: asyncio.Future[None] | None = None
        self._items: deque[T] = deque()
        consumer.notify = self._wake

    # -- state -----------------------------------------------------------------------------

    @property
    def id(self) -> str | None:
        """The upstream subscription id (it changes after a reconnect)."""
        return self._consumer.stream.subscription_id

    @property
    def request(self) -> dict[str, Any]:
        return dict(self._consumer.stream.payload)

    @property
    def dropped(self) -> int:
        return self._consumer.dropped

    @property
    def gaps(self) -> int:
        return self._consumer.gaps

    @property
    def duplicates(self) -> int:
        return self._consumer.duplicates

    @property
    def closed(self) -> bool:
        return self._consumer.closed

    def __repr__(self) -> str:
        state = "closed" if self._consumer.closed else self._consumer.stream.state
        return f"<Subscription {self._consumer.stream.name} id={self.id} {state}>"

    # -- iteration -------------------------------------------------------------------------

    def __aiter__(self) -> Subscription[T]:
        return self

    async def __anext__(self) -> T:
        consumer = self._consumer
        buffer = consumer._buffer
        items = self._items
        parse = self._parse
        while True:
            if items:
                return items.popleft()
            if buffer:
                message = buffer.popleft()
                if parse is None:
                    return message  # type: ignore[return-value]  # raw: T is dict
                items.extend(parse(message))
                continue
            if consumer.ended:
                if consumer.error is not None and not consumer.closed:
                    raise consumer.error
                raise StopAsyncIteration
            await self._sleep()

    async def wait_first(self) -> None:
        """Wait until the first message is buffered; raise the stream's error if it failed."""
        consumer = self._consumer
        while not consumer.pending and not self._items:
            if consumer.ended:
                if consumer.error is not None:
                    raise consumer.error
                raise ConnectionLost("stream ended before its first message")
            await self._sleep()

    def _wake(self) -> None:
        """The consumer's hook: a message arrived or the stream ended (called by the reader)."""
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _sleep(self) -> None:
        """Wait for :meth:`_wake`. One task reads a subscription at a time (as websockets'
        ``recv``); a second concurrent reader is a ``UsageError``."""
        if self._waiter is not None:
            raise UsageError("another task is already reading this subscription")
        waiter = self._waiter = asyncio.get_running_loop().create_future()
        try:
            await waiter
        finally:
            self._waiter = None

    # -- closing ---------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Stop this consumer; forget the upstream stream if nobody else reads it."""
        if not self._consumer.closed:
            await self._closer(self._consumer)

    def release(self) -> None:
        """Stop this consumer without waiting (the ``forget`` is sent in the background)."""
        if not self._consumer.closed and self._releaser is not None:
            self._releaser(self._consumer)

    async def __aenter__(self) -> Subscription[T]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class PendingSubscription(Coroutine[Any, Any, Subscription[T]]):
    """A stream not opened yet: ``await`` it, use it with ``async with`` or ``async for``.

    It opens one :class:`Subscription` (a second ``await`` is a ``UsageError``: call the stream
    method again for another consumer). Opening raises what ``subscribe`` raises (``APIError``,
    ``RequestTimeout``, ``ConnectionLost``, ...). It is also a coroutine object, so
    ``asyncio.create_task(api.ticks("R_100"))`` works as it does for a coroutine.
    """

    __slots__ = ("__weakref__", "_coroutine", "_finalizer", "_open", "_opened", "_subscription")

    def __init__(self, open_: Callable[[], Awaitable[Subscription[T]]]) -> None:
        self._open = open_
        self._opened = False
        self._subscription: Subscription[T] | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._coroutine: Coroutine[Any, Any, Subscription[T]] | None = None

    # -- the coroutine protocol (what asyncio.create_task drives) -----------------------------

    def _driven(self) -> Coroutine[Any, Any, Subscription[T]]:
        if self._coroutine is None:
            self._coroutine = self._start()
        return self._coroutine

    def send(self, value: Any) -> Any:
        return self._driven().send(value)

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        return self._driven().throw(typ, val, tb)

    def close(self) -> None:
        if self._coroutine is not None:
            self._coroutine.close()

    @property
    def subscription(self) -> Subscription[T] | None:
        """The open subscription, once opened."""
        return self._subscription

    async def _start(self) -> Subscription[T]:
        if self._opened:
            raise UsageError("this stream was opened already; call the stream method again")
        self._opened = True
        self._subscription = await self._open()
        return self._subscription

    def __await__(self) -> Generator[Any, None, Subscription[T]]:
        if self._opened:  # a second await: a fresh attempt, which says why it cannot be
            return self._start().__await__()
        return self._driven().__await__()

    async def __aenter__(self) -> Subscription[T]:
        return await self._start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._subscription is not None:
            await self._subscription.aclose()

    def __aiter__(self) -> PendingSubscription[T]:
        return self

    async def __anext__(self) -> T:
        subscription = self._subscription
        if subscription is None:
            subscription = await self._start()
            # Left early (break), nobody can close it: release it when this object goes.
            self._finalizer = weakref.finalize(self, subscription.release)
            self._finalizer.atexit = False
        try:
            return await subscription.__anext__()
        except StopAsyncIteration:
            await subscription.aclose()
            raise
        except asyncio.CancelledError:
            raise
        except BaseException:
            await subscription.aclose()
            raise

    def __repr__(self) -> str:
        state = repr(self._subscription) if self._subscription is not None else "not opened"
        return f"<PendingSubscription {state}>"

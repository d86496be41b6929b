"""Subscription: one local consumer of a (possibly shared) upstream stream, as an async iterator.

Iterating yields every message from the first reply on, parsed by the subscription's parser.
Cancelling ``__anext__`` is safe (nothing is lost). ``aclose()`` detaches this consumer; the
upstream stream is forgotten when its last consumer closes. ``async with`` closes on exit, also on
cancellation.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Generic, TypeVar

from derivkit.core.exceptions import ConnectionLost
from derivkit.core.protocol import Consumer

__all__ = ["Subscription"]

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
    ) -> None:
        self._consumer = consumer
        self._parse = parse
        self._closer = closer
        self._ready = asyncio.Event()
        self._items: deque[T] = deque()
        consumer.notify = self._ready.set
        if consumer.pending or consumer.ended:
            self._ready.set()

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
        items = self._items
        parse = self._parse
        while True:
            if items:
                return items.popleft()
            message = consumer.pop()
            if message is not None:
                if parse is None:
                    return message  # type: ignore[return-value]  # raw: T is dict
                items.extend(parse(message))
                continue
            if consumer.ended:
                if consumer.error is not None and not consumer.closed:
                    raise consumer.error
                raise StopAsyncIteration
            self._ready.clear()
            await self._ready.wait()

    async def wait_first(self) -> None:
        """Wait until the first message is buffered; raise the stream's error if it failed."""
        consumer = self._consumer
        while not consumer.pending and not self._items:
            if consumer.ended:
                if consumer.error is not None:
                    raise consumer.error
                raise ConnectionLost("stream ended before its first message")
            self._ready.clear()
            await self._ready.wait()

    # -- closing ---------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Stop this consumer; forget the upstream stream if nobody else reads it."""
        if not self._consumer.closed:
            await self._closer(self._consumer)

    async def __aenter__(self) -> Subscription[T]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

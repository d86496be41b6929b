"""Coalescing of identical read-only work in flight: many callers, one upstream call.

``await coalescer.run(key, factory)`` starts ``factory()`` for the first caller of ``key`` and lets
every caller that asks for the same key while it runs wait for that same result (or exception).
Once it has finished, the next caller starts a new one: nothing is cached. Use it only for
read-only calls (a quote, a symbol list), never for anything that moves money.

Front-end neutral: no imports beyond asyncio. Use from one event loop.

Cancellation: a cancelled caller stops waiting; the shared call goes on for the others. When the
last waiter has gone, the shared call is cancelled too (nobody wants its result).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

__all__ = ["Coalescer"]

T = TypeVar("T")


class _Flight(Generic[T]):
    __slots__ = ("task", "waiters")

    def __init__(self, task: asyncio.Task[T]) -> None:
        self.task = task
        self.waiters = 0


class Coalescer:
    """Shares one in-flight call among every caller of the same key.

    ``started`` counts the calls actually made and ``joined`` the callers who shared one (for
    tests, benchmarks and monitoring).
    """

    def __init__(self) -> None:
        self._flights: dict[Hashable, _Flight[Any]] = {}
        self.started = 0
        self.joined = 0

    def __len__(self) -> int:
        """Calls in flight now."""
        return len(self._flights)

    async def run(self, key: Hashable, factory: Callable[[], Awaitable[T]]) -> T:
        """The result of ``factory()``, shared with every concurrent caller of ``key``."""
        flight: _Flight[T] | None = self._flights.get(key)
        if flight is None:
            task: asyncio.Task[T] = asyncio.ensure_future(_call(factory))
            flight = _Flight(task)
            self._flights[key] = flight
            task.add_done_callback(lambda _: self._landed(key, flight))
            self.started += 1
        else:
            self.joined += 1
        flight.waiters += 1
        try:
            return await asyncio.shield(flight.task)
        finally:
            flight.waiters -= 1
            if flight.waiters == 0 and not flight.task.done():
                flight.task.cancel()  # nobody is left to want it
                self._landed(key, flight)

    def _landed(self, key: Hashable, flight: _Flight[Any]) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
        task = flight.task
        if task.done() and not task.cancelled():
            task.exception()  # retrieved: a failure nobody awaited is not "never retrieved"


async def _call(factory: Callable[[], Awaitable[T]]) -> T:
    return await factory()

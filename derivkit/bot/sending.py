"""How many Bot API calls the bot has in flight at once, when Telegram's pacing is off.

With ``--no-send-limit`` (a self-hosted Bot API server) nothing paces the bot's calls, and a
burst of hundreds of replies would queue inside the HTTP client's connection pool, whose
bookkeeping grows with the square of the queue. :class:`InFlightLimiter` (a PTB rate limiter
that only bounds concurrency) keeps the queue here instead, in a FIFO semaphore. Use from the
bot's event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.ext import BaseRateLimiter

__all__ = ["InFlightLimiter"]

Result = bool | dict[str, Any] | list[dict[str, Any]]


class InFlightLimiter(BaseRateLimiter[None]):
    """At most ``limit`` Bot API calls in flight; the others wait their turn in order."""

    def __init__(self, limit: int = 32) -> None:
        self.limit = limit
        self._slots = asyncio.Semaphore(limit)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> Result:
        if endpoint == "getUpdates":  # the long poll has its own connection: never queued here
            return await callback(*args, **kwargs)
        async with self._slots:
            return await callback(*args, **kwargs)

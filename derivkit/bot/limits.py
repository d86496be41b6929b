"""Per-user flood control for incoming updates: a token bucket per Telegram user.

Not thread-safe; used from the bot's event loop only.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["TokenBucket", "UserRateLimits"]


class TokenBucket:
    """``capacity`` actions at once, refilled at ``rate`` per second."""

    def __init__(self, rate: float, capacity: float, clock: Callable[[], float]) -> None:
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._tokens = capacity
        self._stamp = clock()

    def take(self) -> bool:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False


class UserRateLimits:
    """Two buckets per user: every update (``per_minute``), and trades (one per ``trade_gap`` s)."""

    def __init__(
        self,
        per_minute: float = 20,
        trade_gap: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_minute = per_minute
        self.trade_gap = trade_gap
        self._clock = clock
        self._updates: dict[int, TokenBucket] = {}
        self._trades: dict[int, TokenBucket] = {}

    def allow_update(self, user_id: int) -> bool:
        bucket = self._updates.get(user_id)
        if bucket is None:
            bucket = TokenBucket(self.per_minute / 60, self.per_minute, self._clock)
            self._updates[user_id] = bucket
        return bucket.take()

    def allow_trade(self, user_id: int) -> bool:
        bucket = self._trades.get(user_id)
        if bucket is None:
            bucket = TokenBucket(1 / self.trade_gap, 1, self._clock)
            self._trades[user_id] = bucket
        return bucket.take()

"""Per-user flood control for incoming updates: token buckets per Telegram user.

Not thread-safe; used from the bot's event loop only.
"""

from __future__ import annotations

import math
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

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def take(self) -> bool:
        self._refill()
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    def wait(self) -> float:
        """Seconds until the next action is allowed."""
        self._refill()
        return max(0.0, (1 - self._tokens) / self.rate)


class UserRateLimits:
    """Buckets per user: every update (``per_minute``), trades (one per ``trade_gap`` s) and
    ``/connect`` attempts (``connects_per_hour``); strangers get a reply at most every
    ``stranger_gap`` seconds each, and ``strangers_per_second`` in all."""

    def __init__(
        self,
        per_minute: float = 20,
        trade_gap: float = 2.0,
        connects_per_hour: float = 10,
        stranger_gap: float = 600.0,
        strangers_per_second: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_minute = per_minute
        self.trade_gap = trade_gap
        self.connects_per_hour = connects_per_hour
        self.stranger_gap = stranger_gap
        self._clock = clock
        self._updates: dict[int, TokenBucket] = {}
        self._trades: dict[int, TokenBucket] = {}
        self._connects: dict[int, TokenBucket] = {}
        self._strangers: dict[int, TokenBucket] = {}
        self._stranger_budget = TokenBucket(strangers_per_second, 5, clock)
        self._told: set[int] = set()

    def _bucket(
        self, buckets: dict[int, TokenBucket], user_id: int, rate: float, capacity: float
    ) -> TokenBucket:
        bucket = buckets.get(user_id)
        if bucket is None:
            bucket = TokenBucket(rate, capacity, self._clock)
            buckets[user_id] = bucket
        return bucket

    def allow_update(self, user_id: int) -> bool:
        bucket = self._bucket(self._updates, user_id, self.per_minute / 60, self.per_minute)
        if bucket.take():
            self._told.discard(user_id)
            return True
        return False

    def first_refusal(self, user_id: int) -> bool:
        """True once per flood episode: the moment to tell the user when to come back."""
        if user_id in self._told:
            return False
        self._told.add(user_id)
        return True

    def retry_in(self, user_id: int) -> int:
        """Whole seconds until the user's next update is accepted."""
        bucket = self._updates.get(user_id)
        return max(1, math.ceil(bucket.wait())) if bucket else 1

    def allow_trade(self, user_id: int) -> bool:
        return self._bucket(self._trades, user_id, 1 / self.trade_gap, 1).take()

    def allow_connect(self, user_id: int) -> bool:
        rate = self.connects_per_hour / 3600
        return self._bucket(self._connects, user_id, rate, self.connects_per_hour).take()

    def allow_stranger_reply(self, user_id: int) -> bool:
        """Whether a stranger may get the one-line "this bot is private" reply now."""
        own = self._bucket(self._strangers, user_id, 1 / self.stranger_gap, 1)
        if own.wait() > 0:
            return False
        if not self._stranger_budget.take():
            return False
        return own.take()

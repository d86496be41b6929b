"""Per-connection request budgets (sliding windows, real time), mirroring
``website_status.api_call_limits``.

Not thread-safe; one limiter per connection, used from that connection's reader coroutine only.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: Calls outside every budget (the client test bed sends 1,000 concurrent pings).
EXEMPT = frozenset({"ping", "time", "forget", "forget_all"})
OUTCOME = frozenset({"portfolio", "statement", "proposal"})
PRICING = frozenset({"proposal", "proposal_open_contract"})


@dataclass(frozen=True)
class RateLimits:
    """Budgets per connection; defaults are Deriv's observed ``website_status`` values."""

    general_per_minute: int = 180
    general_per_hour: int = 14_400
    outcome_per_minute: int = 25
    outcome_per_hour: int = 1_500
    pricing_per_minute: int = 80
    pricing_per_hour: int = 3_600
    max_proposal_subscriptions: int = 5

    @classmethod
    def unlimited(cls) -> RateLimits:
        big = 10**9
        return cls(big, big, big, big, big, big, big)

    def api_call_limits(self) -> dict[str, Any]:
        """The ``website_status.api_call_limits`` object."""
        return {
            "max_proposal_subscription": {
                "applies_to": "subscribing to proposal concurrently",
                "max": self.max_proposal_subscriptions,
            },
            "max_requestes_general": {
                "applies_to": "rest of calls",
                "hourly": self.general_per_hour,
                "minutely": self.general_per_minute,
            },
            "max_requests_outcome": {
                "applies_to": "portfolio, statement and proposal",
                "hourly": self.outcome_per_hour,
                "minutely": self.outcome_per_minute,
            },
            "max_requests_pricing": {
                "applies_to": "proposal and proposal_open_contract",
                "hourly": self.pricing_per_hour,
                "minutely": self.pricing_per_minute,
            },
        }


class _Window:
    __slots__ = ("limit", "seconds", "stamps")

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self.stamps: deque[float] = deque()

    def full(self, now: float) -> bool:
        cutoff = now - self.seconds
        while self.stamps and self.stamps[0] <= cutoff:
            self.stamps.popleft()
        return len(self.stamps) >= self.limit


class RateLimiter:
    """``allow(call)`` records and returns True, or returns False when any budget is spent."""

    def __init__(self, limits: RateLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._groups = {
            "general": (
                _Window(limits.general_per_minute, 60),
                _Window(limits.general_per_hour, 3600),
            ),
            "outcome": (
                _Window(limits.outcome_per_minute, 60),
                _Window(limits.outcome_per_hour, 3600),
            ),
            "pricing": (
                _Window(limits.pricing_per_minute, 60),
                _Window(limits.pricing_per_hour, 3600),
            ),
        }

    def allow(self, call: str) -> bool:
        if call in EXEMPT:
            return True
        groups = ["general"]
        if call in OUTCOME:
            groups.append("outcome")
        if call in PRICING:
            groups.append("pricing")
        now = self._clock()
        windows = [w for g in groups for w in self._groups[g]]
        if any(w.full(now) for w in windows):
            return False
        for w in windows:
            w.stamps.append(now)
        return True

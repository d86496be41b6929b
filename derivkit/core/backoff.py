"""Retry timing: capped exponential backoff with jitter, as a plain generator, and the policy."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["RetryPolicy", "backoff_delays"]


def backoff_delays(
    initial: float = 1.0,
    cap: float = 30.0,
    factor: float = 2.0,
    jitter: float = 0.5,
    rng: random.Random | None = None,
) -> Iterator[float]:
    """Endless delays ``initial, initial*factor, ...`` capped at ``cap``.

    Each delay is scaled by a random factor in ``[1 - jitter, 1]`` so that many clients dropped at
    once do not reconnect in lock-step.
    """
    draw = (rng or random.Random()).random
    delay = initial
    while True:
        yield delay * (1.0 - jitter * draw())
        delay = min(cap, delay * factor)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a :class:`~derivkit.core.DerivClient` waits before reconnecting and re-trying.

    Attributes:
        reconnect_initial / reconnect_cap: backoff between reconnect attempts (seconds).
        rate_limit_retries: how often a read-only call answered ``RateLimit`` is re-tried.
        rate_limit_initial / rate_limit_cap: backoff between those re-tries (seconds).
        pong_timeout: how long a keepalive ping may go unanswered before the link counts as dead.
    """

    reconnect_initial: float = 1.0
    reconnect_cap: float = 30.0
    rate_limit_retries: int = 3
    rate_limit_initial: float = 2.5
    rate_limit_cap: float = 15.0
    pong_timeout: float = 10.0

    def reconnect_delays(self) -> Iterator[float]:
        return backoff_delays(self.reconnect_initial, self.reconnect_cap)

    def rate_limit_delays(self) -> Iterator[float]:
        return backoff_delays(self.rate_limit_initial, self.rate_limit_cap, jitter=0.2)

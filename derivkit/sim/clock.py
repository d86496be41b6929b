"""Simulated time: ``epoch = start_epoch + elapsed_real_seconds * speed``.

The clock is read-only after construction and safe to share between coroutines (single event loop).
"""

from __future__ import annotations

import time


class SimClock:
    """A monotonic simulated wall clock scaled by ``speed``."""

    def __init__(self, speed: float = 1.0, start_epoch: float | None = None) -> None:
        if not speed > 0:
            raise ValueError("speed must be positive")
        self.speed = float(speed)
        # Default: real time, so at speed 1 ticks go out on the real epoch boundaries.
        self.start_epoch = float(time.time() if start_epoch is None else start_epoch)
        self._t0 = time.monotonic()

    def now(self) -> float:
        """Current simulated epoch (float seconds)."""
        return self.start_epoch + (time.monotonic() - self._t0) * self.speed

    def epoch(self) -> int:
        """Current simulated epoch, whole seconds."""
        return int(self.now())

    def real_seconds(self, sim_seconds: float) -> float:
        """Real seconds that ``sim_seconds`` of simulated time take."""
        return sim_seconds / self.speed

    def real_delay_until(self, epoch: float) -> float:
        """Real seconds until the simulated clock reaches ``epoch`` (0 if already past)."""
        return max(0.0, (epoch - self.now()) / self.speed)


class ManualClock(SimClock):
    """A clock that stands still until :meth:`set` moves it: a backtest's virtual time, which
    jumps from one tick to the next instead of waiting for it."""

    def __init__(self, start_epoch: float) -> None:
        super().__init__(1.0, start_epoch)
        self._now = float(start_epoch)

    def now(self) -> float:
        return self._now

    def set(self, epoch: float) -> None:
        """Move the clock to ``epoch`` (never backwards)."""
        if epoch < self._now:
            raise ValueError(f"a clock cannot go back from {self._now} to {epoch}")
        self._now = float(epoch)

    def real_delay_until(self, epoch: float) -> float:
        return 0.0 if epoch <= self._now else float("inf")

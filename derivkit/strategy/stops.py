"""Stop conditions, checked before every buy: the first that holds stops the run.

All thresholds are optional and in the account's currency. The daily loss is the worst case: the
day's settled losses plus the stake about to be paid (a win cannot lift it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from derivkit.core.exceptions import UsageError
from derivkit.strategy.results import Results

__all__ = ["StopConditions"]


@dataclass(frozen=True)
class StopConditions:
    """When a run stops buying.

    Attributes:
        take_profit: stop once the run's profit reaches this.
        loss_threshold: stop once the run's loss reaches this.
        max_runs: stop after this many contracts have settled.
        max_consecutive_losses: stop after this many losses in a row.
        daily_loss: refuse a buy that could take today's losses (UTC) past this.
    """

    take_profit: float | None = None
    loss_threshold: float | None = None
    max_runs: int | None = None
    max_consecutive_losses: int | None = None
    daily_loss: float | None = None

    def __post_init__(self) -> None:
        for name in ("take_profit", "loss_threshold", "daily_loss"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value > 0):
                raise UsageError(f"{name.replace('_', ' ')} must be positive, got {value!r}")
        for name in ("max_runs", "max_consecutive_losses"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value <= 0):
                raise UsageError(f"{name.replace('_', ' ')} must be a positive whole number")

    def reason(self, results: Results, *, next_stake: float, now: float) -> str | None:
        """Why the run must stop before buying ``next_stake`` at ``now``, or None to go on."""
        if self.take_profit is not None and results.profit >= self.take_profit - 1e-9:
            return f"take profit reached ({results.profit:+.2f})"
        if self.loss_threshold is not None and -results.profit >= self.loss_threshold - 1e-9:
            return f"loss threshold reached ({results.profit:+.2f})"
        if self.max_runs is not None and results.runs >= self.max_runs:
            return f"{results.runs} runs done"
        if (
            self.max_consecutive_losses is not None
            and results.consecutive_losses >= self.max_consecutive_losses
        ):
            return f"{results.consecutive_losses} losses in a row"
        if self.daily_loss is not None:
            worst = min(results.day_profit(now), 0.0) - next_stake
            if -worst > self.daily_loss + 1e-9:
                return (
                    f"a {next_stake:.2f} stake could take today's loss past the daily limit "
                    f"{self.daily_loss:.2f} (today {results.day_profit(now):+.2f})"
                )
        return None

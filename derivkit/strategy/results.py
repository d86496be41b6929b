"""A run's running totals: runs, wins, losses, profit, streaks, drawdown and the capital it needed.

Updated once per settled contract, in settlement order; every figure of a backtest report comes
from here, so a live run and a backtest are measured the same way. Not thread-safe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Results", "day_of"]

_DAY = 86_400


def day_of(epoch: float) -> int:
    """The UTC day an epoch falls on (midnight's epoch)."""
    return int(epoch // _DAY) * _DAY


@dataclass
class Results:
    """Totals over the settled contracts of one run (money in the account's currency).

    ``required_balance`` is the smallest starting balance with which every stake of the run could
    have been paid: the largest ``stake - profit so far`` seen before a buy.
    """

    runs: int = 0
    won: int = 0
    lost: int = 0
    profit: float = 0.0
    consecutive_losses: int = 0
    consecutive_wins: int = 0
    longest_losing_streak: int = 0
    max_stake: float = 0.0
    peak_profit: float = 0.0
    max_drawdown: float = 0.0
    required_balance: float = 0.0
    by_day: dict[int, float] = field(default_factory=dict)
    equity: list[float] = field(default_factory=list)
    keep_equity: bool = True

    @property
    def win_rate(self) -> float:
        return self.won / self.runs if self.runs else 0.0

    def day_profit(self, epoch: float) -> float:
        return self.by_day.get(day_of(epoch), 0.0)

    def before_buy(self, stake: float) -> None:
        """Account for a stake about to be paid (for ``max_stake`` and ``required_balance``)."""
        self.max_stake = max(self.max_stake, stake)
        self.required_balance = max(self.required_balance, round(stake - self.profit, 2))

    def record(self, *, profit: float, epoch: float) -> None:
        """One settled contract: ``profit`` is sell price minus buy price."""
        won = profit > 0
        self.runs += 1
        self.profit = round(self.profit + profit, 2)
        day = day_of(epoch)
        self.by_day[day] = round(self.by_day.get(day, 0.0) + profit, 2)
        if won:
            self.won += 1
            self.consecutive_wins += 1
            self.consecutive_losses = 0
        else:
            self.lost += 1
            self.consecutive_losses += 1
            self.consecutive_wins = 0
            self.longest_losing_streak = max(self.longest_losing_streak, self.consecutive_losses)
        self.peak_profit = max(self.peak_profit, self.profit)
        self.max_drawdown = max(self.max_drawdown, round(self.peak_profit - self.profit, 2))
        if self.keep_equity:
            self.equity.append(self.profit)

    def summary(self) -> dict[str, Any]:
        """The report's figures as plain values (JSON-ready)."""
        return {
            "runs": self.runs,
            "won": self.won,
            "lost": self.lost,
            "win_rate": round(self.win_rate, 4),
            "profit": self.profit,
            "max_drawdown": self.max_drawdown,
            "longest_losing_streak": self.longest_losing_streak,
            "max_stake": self.max_stake,
            "required_balance": self.required_balance,
        }

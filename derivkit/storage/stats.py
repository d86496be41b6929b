"""Trading statistics over journal entries, grouped by day, ISO week or strategy.

Pure functions over :class:`~derivkit.storage.records.JournalEntry` lists (no I/O): the CLI's
``derivkit stats`` reads the entries and prints what :func:`summarize` returns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from derivkit.storage.records import JournalEntry

__all__ = ["GROUPINGS", "STATS_KEYS", "Grouping", "StatsRow", "summarize"]

Grouping = Literal["day", "week", "strategy"]
GROUPINGS: tuple[Grouping, ...] = ("day", "week", "strategy")


@dataclass
class StatsRow:
    """One group's trades: settled ones counted as won (profit > 0) or lost, and those whose
    story is not over (``open``: bought, not settled; ``unknown``: outcome not yet known)."""

    group: str
    trades: int = 0
    won: int = 0
    lost: int = 0
    staked: float = 0.0
    profit: float = 0.0
    best: float | None = None
    worst: float | None = None
    open: int = 0
    unknown: int = 0

    @property
    def win_rate(self) -> float:
        return self.won / self.trades if self.trades else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "trades": self.trades,
            "won": self.won,
            "lost": self.lost,
            "win_rate": round(self.win_rate, 4),
            "staked": round(self.staked, 2),
            "profit": round(self.profit, 2),
            "best": self.best,
            "worst": self.worst,
            "open": self.open,
            "unknown": self.unknown,
        }


#: The keys of :meth:`StatsRow.as_dict`, in order (``--csv``'s header).
STATS_KEYS = tuple(StatsRow("").as_dict())


def _when(entry: JournalEntry) -> datetime:
    return datetime.fromtimestamp(entry.settled_at or entry.requested_at, UTC)


def _day(entry: JournalEntry) -> str:
    return _when(entry).strftime("%Y-%m-%d")


def _week(entry: JournalEntry) -> str:
    year, week, _ = _when(entry).isocalendar()
    return f"{year}-W{week:02d}"


def _strategy(entry: JournalEntry) -> str:
    if entry.origin == "strategy":
        return entry.strategy or "strategy"
    return entry.origin  # "bot" ...


_KEYS: dict[Grouping, Callable[[JournalEntry], str]] = {
    "day": _day,
    "week": _week,
    "strategy": _strategy,
}


def summarize(entries: Iterable[JournalEntry], by: Grouping) -> list[StatsRow]:
    """One row per group, in group order (days and weeks oldest first), refused and never-bought
    orders left out."""
    key = _KEYS[by]
    rows: dict[str, StatsRow] = {}
    for entry in entries:
        if entry.status in ("failed", "not_bought"):
            continue
        row = rows.setdefault(key(entry), StatsRow(key(entry)))
        if entry.status == "settled" and entry.profit is not None:
            row.trades += 1
            row.won += entry.profit > 0
            row.lost += entry.profit <= 0
            row.staked += entry.buy_price if entry.buy_price is not None else entry.stake
            row.profit += entry.profit
            row.best = entry.profit if row.best is None else max(row.best, entry.profit)
            row.worst = entry.profit if row.worst is None else min(row.worst, entry.profit)
        elif entry.status == "bought":
            row.open += 1
        else:  # sending or unknown: the outcome is not known yet
            row.unknown += 1
    return [rows[group] for group in sorted(rows)]

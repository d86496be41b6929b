"""The chart's data: candles of one symbol at one granularity, the forming one updated in place.

Pure Python (no Textual, no ``derivkit.core``). Mutated only on the event loop.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["CANDLES", "GRANULARITIES", "Bar", "CandleSeries", "granularity_label"]

#: What ``ticks_history`` allows for candles (seconds); 0 stands for the tick chart.
GRANULARITIES = (0, 60, 120, 180, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400)
#: Candles kept (and asked for) per chart.
CANDLES = 60


def granularity_label(seconds: int) -> str:
    """``0`` -> ``ticks``, ``60`` -> ``1m``, ``3600`` -> ``1h``, ``86400`` -> ``1d``."""
    if seconds == 0:
        return "ticks"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@dataclass(frozen=True, slots=True)
class Bar:
    """One candle: open time (epoch) and prices."""

    epoch: int
    open: float
    high: float
    low: float
    close: float


class CandleSeries:
    """The last ``keep`` candles, oldest first; a bar with a known open time replaces it."""

    def __init__(self, symbol: str, granularity: int, keep: int = CANDLES) -> None:
        self.symbol = symbol
        self.granularity = granularity
        self._keep = keep
        self._bars: dict[int, Bar] = {}
        self.version = 0

    def __len__(self) -> int:
        return len(self._bars)

    @property
    def bars(self) -> list[Bar]:
        return [self._bars[epoch] for epoch in sorted(self._bars)]

    def update(self, bars: Iterable[Bar]) -> None:
        for bar in bars:
            self._bars[bar.epoch] = bar
        for epoch in sorted(self._bars)[: -self._keep]:
            del self._bars[epoch]
        self.version += 1

"""PNG charts for ``/chart``: candles or ticks, drawn with matplotlib's Agg backend.

Pure functions from core models to PNG bytes; matplotlib is imported on first use (it is slow to
import). Drawing takes tens of milliseconds, so the bot runs it in a worker thread
(``asyncio.to_thread``); each call builds its own Figure (no pyplot state), which makes that safe.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from derivkit.core import Candle, History

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["candle_chart", "tick_chart"]

WIDTH, HEIGHT, DPI = 8.0, 4.5, 100
UP, DOWN, LINE = "#26a69a", "#ef5350", "#1e88e5"


def _figure() -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI)
    axes = figure.add_subplot()
    axes.grid(True, alpha=0.3)
    return figure, axes


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def candle_chart(symbol: str, candles: Sequence[Candle], granularity: int) -> bytes:
    """Candlesticks: a wick from low to high and a body from open to close, per candle."""
    import matplotlib.dates as mdates

    figure, axes = _figure()
    width = granularity / 86_400 * 0.7  # in days, matplotlib's date unit
    for candle in candles:
        when = mdates.date2num(  # type: ignore[no-untyped-call]
            datetime.fromtimestamp(candle.epoch + granularity / 2, UTC)
        )
        colour = UP if candle.close >= candle.open else DOWN
        axes.vlines(when, candle.low, candle.high, color=colour, linewidth=1)
        bottom = min(candle.open, candle.close)
        height = abs(candle.close - candle.open) or (candle.high - candle.low) * 0.01 or 1e-9
        axes.bar(when, height, width=width, bottom=bottom, color=colour, linewidth=0)
    formatter = mdates.DateFormatter("%H:%M", tz=UTC)  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_formatter(formatter)
    axes.set_title(
        f"{symbol} · {granularity // 60 if granularity >= 60 else granularity}"
        f"{'m' if granularity >= 60 else 's'} candles (UTC)"
    )
    return _png(figure)


def tick_chart(symbol: str, history: History) -> bytes:
    """The last ticks as a line."""
    import matplotlib.dates as mdates

    figure, axes = _figure()
    times = [
        mdates.date2num(  # type: ignore[no-untyped-call]
            datetime.fromtimestamp(epoch, UTC)
        )
        for epoch in history.times
    ]
    axes.plot(times, history.prices, color=LINE, linewidth=1.2)
    formatter = mdates.DateFormatter("%H:%M:%S", tz=UTC)  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_formatter(formatter)
    axes.set_title(f"{symbol} · last {len(history.prices)} ticks (UTC)")
    return _png(figure)

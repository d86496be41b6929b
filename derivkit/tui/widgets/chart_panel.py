"""ChartPanel: the selected symbol's last ticks as a line, or its candles, drawn by plotext.

Passive: the screen calls :meth:`show_ticks` or :meth:`show_candles` (at most about once a second:
plotext redraws the whole chart per render) and :meth:`show_waiting`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label
from textual_plotext import PlotextPlot

from derivkit.formatting import price
from derivkit.tui.candles import Bar, granularity_label
from derivkit.tui.widgets.quiet import update_in_place

__all__ = ["TICKS_SHOWN", "ChartPanel"]

#: Ticks drawn in the tick chart.
TICKS_SHOWN = 120


class ChartPanel(Vertical):
    def compose(self) -> ComposeResult:
        yield PlotextPlot(id="chart-plot")
        yield Label("", id="chart-range")

    def on_mount(self) -> None:
        self.border_title = "Chart"
        plt = self.plot.plt
        plt.xfrequency(0)
        plt.frame(False)

    @property
    def plot(self) -> PlotextPlot:
        return self.query_one(PlotextPlot)

    def _title(self, symbol: str, granularity: int) -> None:
        self.border_title = f"{symbol} · {granularity_label(granularity)}"
        self.border_subtitle = "g/G timeframe"

    def show_waiting(self, symbol: str | None, granularity: int, note: str = "loading…") -> None:
        if symbol is None:
            self.border_title = "Chart"
            note = "No symbol selected"
        else:
            self._title(symbol, granularity)
        plt = self.plot.plt
        plt.clear_data()
        update_in_place(self.query_one("#chart-range", Label), note)
        self.plot.refresh()

    def show_ticks(self, symbol: str, quotes: Sequence[float], pip_size: int | None) -> None:
        self._title(symbol, 0)
        plt = self.plot.plt
        plt.clear_data()
        shown = list(quotes)[-TICKS_SHOWN:]
        if shown:
            plt.plot(shown, marker="braille")
            self._range(min(shown), max(shown), pip_size, f"last {len(shown)} ticks")
        self.plot.refresh()

    def show_candles(
        self, symbol: str, granularity: int, bars: Sequence[Bar], pip_size: int | None
    ) -> None:
        self._title(symbol, granularity)
        plt = self.plot.plt
        plt.clear_data()
        if bars:
            data = {
                "Open": [b.open for b in bars],
                "High": [b.high for b in bars],
                "Low": [b.low for b in bars],
                "Close": [b.close for b in bars],
            }
            positions: Any = list(range(len(bars)))  # plotext's stubs want date strings
            plt.candlestick(positions, data)
            low, high = min(b.low for b in bars), max(b.high for b in bars)
            self._range(low, high, pip_size, f"{len(bars)} candles")
        self.plot.refresh()

    def _range(self, low: float, high: float, pip_size: int | None, what: str) -> None:
        update_in_place(
            self.query_one("#chart-range", Label),
            f"{what} · low {price(low, pip_size)} · high {price(high, pip_size)}",
        )

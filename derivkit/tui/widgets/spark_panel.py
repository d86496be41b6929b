"""SparkPanel: a sparkline of the selected symbol's recent ticks, with their low and high."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, Sparkline

from derivkit.formatting import price
from derivkit.tui.watchlist import HISTORY, Quote

__all__ = ["SparkPanel"]


class SparkPanel(Vertical):
    """Passive: :meth:`show` assigns a fresh list (Sparkline.data is a reactive)."""

    def on_mount(self) -> None:
        self.border_title = f"Last {HISTORY} ticks"

    def compose(self) -> ComposeResult:
        yield Sparkline([], id="spark-line")
        yield Label("", id="spark-range")

    def show(self, quote: Quote | None) -> None:
        sparkline = self.query_one(Sparkline)
        label = self.query_one("#spark-range", Label)
        history = list(quote.history) if quote is not None else []
        sparkline.data = history
        if not history or quote is None:
            label.update("")
            return
        low, high = min(history), max(history)
        label.update(f"low {price(low, quote.pip_size)} · high {price(high, quote.pip_size)}")

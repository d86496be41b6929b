"""QuoteTable: the watchlist as a DataTable, one row per symbol (the row key is the symbol).

Passive: the screen hands it :class:`Quote` objects. Repaints are diffed (:class:`DiffedTable`).
"""

from __future__ import annotations

from typing import ClassVar

from derivkit.formatting import price
from derivkit.tui.formatting import change, percent
from derivkit.tui.watchlist import Quote
from derivkit.tui.widgets.diffed_table import Cell, Column, DiffedTable

__all__ = ["QuoteTable"]

ARROWS = {1: ("▲", "green"), -1: ("▼", "red"), 0: ("•", "dim")}


def cells_for(quote: Quote) -> dict[str, Cell]:
    """What each column of ``quote``'s row shows."""
    trend = quote.change or 0.0
    trend_style = "green" if trend > 0 else "red" if trend < 0 else ""
    arrow, arrow_style = ARROWS[quote.direction]
    waiting = quote.last is None
    return {
        "symbol": (quote.symbol, "bold"),
        "name": (quote.display_name.removesuffix(" Index"), ""),
        "last": ("…" if waiting else price(quote.last, quote.pip_size), arrow_style),
        "change": ("" if waiting else change(quote.change, quote.pip_size), trend_style),
        "percent": ("" if waiting else percent(quote.change_pct), trend_style),
        "direction": ("" if waiting else arrow, arrow_style),
        "ticks": (str(quote.received), "dim"),
    }


class QuoteTable(DiffedTable):
    """One row per watched symbol; the cursor row is the selected symbol."""

    COLUMNS: ClassVar[tuple[Column, ...]] = (
        ("symbol", "Symbol", 8, False),
        ("name", "Name", 19, False),
        ("last", "Last", 10, True),
        ("change", "Change", 9, True),
        ("percent", "Chg %", 7, True),
        ("direction", "", 1, False),
        ("ticks", "Ticks", 5, True),
    )

    #: Left out on a narrow terminal.
    NARROW_HIDDEN = frozenset({"name"})

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            id=id,
            cursor_type="row",
            cursor_foreground_priority="renderable",
            fixed_columns=1,  # the symbol stays when scrolling sideways
        )
        self.border_title = "Watchlist"

    @property
    def selected_symbol(self) -> str | None:
        if self.row_count == 0:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return row_key.value

    def add_quote(self, quote: Quote) -> None:
        """Append ``quote``'s row (nothing happens if it is shown already)."""
        if not self.has_row(quote.symbol):
            self.put_row(quote.symbol, cells_for(quote))

    def show_quote(self, quote: Quote) -> int:
        """Rewrite the cells of ``quote``'s row that changed; returns how many did."""
        if not self.has_row(quote.symbol):
            return 0
        return self.put_row(quote.symbol, cells_for(quote))

    def remove_quote(self, symbol: str) -> None:
        self.drop_row(symbol)

    def select(self, symbol: str) -> None:
        if self.has_row(symbol):
            self.move_cursor(row=self.get_row_index(symbol))

    def cell_text(self, symbol: str, column: str) -> str:
        """The text shown in one cell (for tests and screen readers)."""
        return self.shown_text(symbol, column)

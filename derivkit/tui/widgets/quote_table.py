"""QuoteTable: the watchlist as a DataTable, one row per symbol (the row key is the symbol).

Passive: the screen hands it :class:`Quote` objects. Repaints are diffed: a cell is rewritten only
when its text or style changed (each ``update_cell`` invalidates the table's render cache), rows
keep their keys, and nothing is cleared and re-added.
"""

from __future__ import annotations

from rich.console import JustifyMethod
from rich.text import Text
from textual.widgets import DataTable

from derivkit.formatting import price
from derivkit.tui.formatting import change, percent
from derivkit.tui.watchlist import Quote

__all__ = ["QuoteTable"]

# key, header, width, right-aligned
COLUMNS: tuple[tuple[str, str, int, bool], ...] = (
    ("symbol", "Symbol", 8, False),
    ("name", "Name", 19, False),
    ("last", "Last", 10, True),
    ("change", "Change", 9, True),
    ("percent", "Chg %", 7, True),
    ("direction", "", 1, False),
    ("ticks", "Ticks", 5, True),
)
JUSTIFY: dict[str, JustifyMethod] = {
    key: "right" if right else "left" for key, _, _, right in COLUMNS
}
ARROWS = {1: ("▲", "green"), -1: ("▼", "red"), 0: ("•", "dim")}

Cell = tuple[str, str]  # text, style


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


class QuoteTable(DataTable[Text]):
    """One row per watched symbol; the cursor row is the selected symbol."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", cursor_foreground_priority="renderable")
        self._shown: dict[str, dict[str, Cell]] = {}
        self.border_title = "Watchlist"
        for key, header, width, _ in COLUMNS:
            self.add_column(Text(header, justify=JUSTIFY[key]), key=key, width=width)

    @property
    def selected_symbol(self) -> str | None:
        if self.row_count == 0:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return row_key.value

    def add_quote(self, quote: Quote) -> None:
        """Append ``quote``'s row (nothing happens if it is shown already)."""
        if quote.symbol in self._shown:
            return
        cells = cells_for(quote)
        self._shown[quote.symbol] = cells
        self.add_row(*(_render(key, cells[key]) for key, *_ in COLUMNS), key=quote.symbol)

    def show_quote(self, quote: Quote) -> int:
        """Rewrite the cells of ``quote``'s row that changed; returns how many did."""
        shown = self._shown.get(quote.symbol)
        if shown is None:
            return 0
        updated = 0
        for key, cell in cells_for(quote).items():
            if shown[key] != cell:
                shown[key] = cell
                self.update_cell(quote.symbol, key, _render(key, cell))
                updated += 1
        return updated

    def remove_quote(self, symbol: str) -> None:
        if self._shown.pop(symbol, None) is not None:
            self.remove_row(symbol)

    def select(self, symbol: str) -> None:
        if symbol in self._shown:
            self.move_cursor(row=self.get_row_index(symbol))

    def cell_text(self, symbol: str, column: str) -> str:
        """The text shown in one cell (for tests and screen readers)."""
        return self._shown[symbol][column][0]


def _render(key: str, cell: Cell) -> Text:
    text, style = cell
    return Text(text, style=style, justify=JUSTIFY[key], no_wrap=True, overflow="ellipsis")

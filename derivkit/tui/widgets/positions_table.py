"""PositionsPanel: the account's open contracts (a :class:`PositionsTable`) or an empty-state line.

Passive: the screen hands it :class:`Position` objects and the ids of dropped ones. Like the
watchlist table, repaints are diffed: rows are keyed by contract id, a cell is rewritten only when
its text or style changed, and rows are never cleared and re-added. Rows are re-sorted (open
first, newest first) only when a row was added or settled.
"""

from __future__ import annotations

from rich.console import JustifyMethod
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import DataTable, Label

from derivkit.formatting import money
from derivkit.tui.formatting import percent
from derivkit.tui.positions import Position

__all__ = ["EMPTY", "LOADING", "PositionsPanel", "PositionsTable"]

EMPTY = "No open contracts"
LOADING = "Loading open contracts…"

# key, header, width, right-aligned
COLUMNS: tuple[tuple[str, str, int, bool], ...] = (
    ("contract", "Contract", 12, False),
    ("type", "Type", 10, False),
    ("symbol", "Symbol", 9, False),
    ("stake", "Stake", 12, True),
    ("value", "Value now", 12, True),
    ("profit", "P/L", 12, True),
    ("percent", "P/L %", 8, True),
    ("status", "Status", 7, False),
)
JUSTIFY: dict[str, JustifyMethod] = {
    key: "right" if right else "left" for key, _, _, right in COLUMNS
}
STATUS_STYLES = {"won": "bold green", "lost": "bold red", "sold": "bold"}

Cell = tuple[str, str]  # text, style


def signed_money(value: float, currency: str) -> str:
    """``+1.25 USD`` for a gain, ``-1.25 USD`` for a loss, ``0.00 USD`` for neither."""
    text = money(abs(value), currency)
    if text == money(0.0, currency):
        return text
    return f"{'+' if value > 0 else '-'}{text}"


def cells_for(position: Position) -> dict[str, Cell]:
    """What each column of ``position``'s row shows; a settled row is dimmed but its result."""
    last = position.last
    trend = "green" if last.profit > 0 else "red" if last.profit < 0 else ""
    base = "dim" if last.settled else ""
    if position.stopped:
        status: Cell = ("stopped", "yellow")
    else:
        status = (last.status, STATUS_STYLES.get(last.status, ""))
    return {
        "contract": (str(last.contract_id), base or "bold"),
        "type": (last.contract_type, base),
        "symbol": (last.symbol, base),
        "stake": (money(last.buy_price, last.currency), base),
        "value": (money(last.value, last.currency), base),
        "profit": (signed_money(last.profit, last.currency), trend),
        "percent": (percent(last.profit_pct), f"{trend} {base}".strip()),
        "status": status,
    }


class PositionsTable(DataTable[Text]):
    """One row per followed contract (the row key is the contract id, as a string)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="none", zebra_stripes=False)
        self._shown: dict[str, dict[str, Cell]] = {}
        self._order: dict[str, tuple[bool, int]] = {}
        for key, header, width, _ in COLUMNS:
            self.add_column(Text(header, justify=JUSTIFY[key]), key=key, width=width)

    def show_position(self, position: Position) -> bool:
        """Add ``position``'s row or rewrite its changed cells; True if the order may change."""
        key = str(position.contract_id)
        cells = cells_for(position)
        order = (position.settled, -position.contract_id)
        shown = self._shown.get(key)
        if shown is None:
            self._shown[key] = cells
            self._order[key] = order
            self.add_row(*(_render(k, cells[k]) for k, *_ in COLUMNS), key=key)
            return True
        for column, cell in cells.items():
            if shown[column] != cell:
                shown[column] = cell
                self.update_cell(key, column, _render(column, cell))
        reordered = self._order[key] != order
        self._order[key] = order
        return reordered

    def remove_position(self, contract_id: int) -> None:
        key = str(contract_id)
        if self._shown.pop(key, None) is not None:
            del self._order[key]
            self.remove_row(key)

    def reorder(self) -> None:
        """Open contracts first, then settled ones; newest first in each."""
        self.sort("contract", key=lambda cell: self._order[cell.plain])

    def cell_text(self, contract_id: int, column: str) -> str:
        """The text shown in one cell (for tests and screen readers)."""
        return self._shown[str(contract_id)][column][0]

    @property
    def settled_count(self) -> int:
        return sum(1 for settled, _ in self._order.values() if settled)

    def contract_ids(self) -> list[int]:
        """The rows' contract ids, in display order."""
        return [int(str(row.key.value)) for row in self.ordered_rows]


class PositionsPanel(Vertical):
    """The table, or one line saying there is nothing to show (yet)."""

    def compose(self) -> ComposeResult:
        yield Label(Content(LOADING).stylize("dim"), id="positions-empty")
        yield PositionsTable(id="positions-table")

    def on_mount(self) -> None:
        self.border_title = "Open contracts"
        self.query_one(PositionsTable).display = False

    @property
    def table(self) -> PositionsTable:
        return self.query_one(PositionsTable)

    @property
    def empty_text(self) -> str | None:
        """The empty-state line, if it is shown."""
        label = self.query_one("#positions-empty", Label)
        if not label.display:
            return None
        visual = label.visual
        return visual.plain if isinstance(visual, Content) else str(visual)

    def show(self, changed: list[Position], removed: list[int], *, loaded: bool) -> None:
        """Apply what changed since the last call, then the counts and the empty state."""
        table = self.table
        for contract_id in removed:
            table.remove_position(contract_id)
        reorder = False
        for position in changed:
            reorder = table.show_position(position) or reorder
        if reorder:
            table.reorder()
        settled = table.settled_count
        opened = table.row_count - settled
        self.border_subtitle = f"{opened} open · {settled} settled" if table.row_count else ""
        empty = table.row_count == 0
        label = self.query_one("#positions-empty", Label)
        label.update(Content(EMPTY if loaded else LOADING).stylize("dim"))
        label.display = empty
        table.display = not empty


def _render(key: str, cell: Cell) -> Text:
    text, style = cell
    return Text(text, style=style, justify=JUSTIFY[key], no_wrap=True, overflow="ellipsis")

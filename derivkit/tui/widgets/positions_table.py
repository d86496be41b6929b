"""PositionsPanel: the account's open contracts (a :class:`PositionsTable`) or an empty-state line.

Passive: the screen hands it :class:`Position` objects and the ids of dropped ones. Like the
watchlist table, repaints are diffed (:class:`DiffedTable`), rows keyed by contract id. Rows are
re-sorted (open first, newest first) only when a row was added or settled.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Label

from derivkit.formatting import CURRENCY_DECIMALS
from derivkit.tui.formatting import percent
from derivkit.tui.positions import Position
from derivkit.tui.widgets.diffed_table import Cell, Column, DiffedTable

__all__ = ["EMPTY", "LOADING", "PositionsPanel", "PositionsTable"]

EMPTY = "No open contracts"
LOADING = "Loading open contracts…"

STATUS_STYLES = {"won": "bold green", "lost": "bold red", "sold": "bold"}


def amount(value: float | None, currency: str) -> str:
    """An amount at its currency's decimals, without the currency (the panel's title names it)."""
    if value is None:
        return "-"
    return f"{value:,.{CURRENCY_DECIMALS.get(currency, 2)}f}"


def signed_money(value: float, currency: str) -> str:
    """``+1.25`` for a gain, ``-1.25`` for a loss, ``0.00`` for neither."""
    text = amount(abs(value), currency)
    if text == amount(0.0, currency):
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
        "stake": (amount(last.buy_price, last.currency), base),
        "value": (amount(last.value, last.currency), base),
        "profit": (signed_money(last.profit, last.currency), trend),
        "percent": (percent(last.profit_pct), f"{trend} {base}".strip()),
        "status": status,
    }


class PositionsTable(DiffedTable):
    """One row per followed contract (the row key is the contract id, as a string)."""

    COLUMNS: ClassVar[tuple[Column, ...]] = (
        ("contract", "Contract", 12, False),
        ("type", "Type", 10, False),
        ("symbol", "Symbol", 8, False),
        ("stake", "Stake", 9, True),
        ("value", "Value now", 9, True),
        ("profit", "P/L", 9, True),
        ("percent", "P/L %", 8, True),
        ("status", "Status", 7, False),
    )
    #: Left out on a narrow terminal (P/L tells the same).
    NARROW_HIDDEN = frozenset({"value"})

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False, fixed_columns=1)
        self._order: dict[str, tuple[bool, int]] = {}

    def show_position(self, position: Position) -> bool:
        """Add ``position``'s row or rewrite its changed cells; True if the order may change."""
        key = str(position.contract_id)
        order = (position.settled, -position.contract_id)
        added = not self.has_row(key)
        self.put_row(key, cells_for(position))
        reordered = added or self._order[key] != order
        self._order[key] = order
        return reordered

    def remove_position(self, contract_id: int) -> None:
        key = str(contract_id)
        if self.drop_row(key):
            del self._order[key]

    def reorder(self) -> None:
        """Open contracts first, then settled ones; newest first in each."""
        self.sort("contract", key=lambda cell: self._order[cell.plain])

    def cell_text(self, contract_id: int, column: str) -> str:
        """The text shown in one cell (for tests and screen readers)."""
        return self.shown_text(str(contract_id), column)

    @property
    def settled_count(self) -> int:
        return sum(1 for settled, _ in self._order.values() if settled)

    @property
    def selected_contract(self) -> int | None:
        """The contract under the cursor, if any."""
        if self.row_count == 0:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return int(str(row_key.value))

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

    def show_currency(self, currency: str) -> None:
        self.border_title = f"Open contracts ({currency})" if currency else "Open contracts"

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

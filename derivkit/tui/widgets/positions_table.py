"""PositionsPanel: the account's open contracts (a :class:`PositionsTable`) or an empty-state line.

Passive: the screen hands it :class:`Position` objects and the ids of dropped ones. Like the
watchlist table, repaints are diffed (:class:`DiffedTable`), rows keyed by contract id. Rows are
re-sorted (open first, newest first) only when a row was added or settled.

Each product fills its own columns: take profit (multipliers, accumulators, turbos), stop loss
and stop out (multipliers), barrier (an accumulator's distance to its barrier, a turbos'
knock-out level, a vanilla's strike) and ticks (accumulators: passed of at most). A column no
row uses is left out, and when the table is wider than the panel the least needed columns go
first (value now, stake, P/L %, contract id, symbol, a multiplier's stop out); the rest scroll
sideways, the first column staying put.
The panel's subtitle names what can be done to the selected contract.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Label

from derivkit.formatting import CURRENCY_DECIMALS, utc
from derivkit.tui.formatting import percent
from derivkit.tui.positions import Position
from derivkit.tui.widgets.diffed_table import Cell, Column, DiffedTable

__all__ = ["EMPTY", "LOADING", "PositionsPanel", "PositionsTable", "actions_hint"]

EMPTY = "No open contracts"
LOADING = "Loading open contracts…"

STATUS_STYLES = {
    "won": "bold green",
    "lost": "bold red",
    "sold": "bold",
    "cancelled": "bold yellow",
}
#: Contract types shown shorter, to fit the Type column.
SHORT_TYPES = {"VANILLALONGCALL": "VANILLA C", "VANILLALONGPUT": "VANILLA P"}
#: The products that take a take profit / a stop loss and stop out / show a barrier / ticks.
WITH_TAKE_PROFIT = frozenset({"multiplier", "accumulator", "turbos"})
WITH_BARRIER = frozenset({"accumulator", "turbos", "vanilla"})


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


def _optional(applies: bool, text: str | None, base: str) -> Cell:
    """A product column's cell: blank where the product has no such term, ``-`` if unset."""
    if not applies:
        return ("", base)
    return (text if text is not None else "-", base)


def cells_for(position: Position) -> dict[str, Cell]:
    """What each column of ``position``'s row shows; a settled row is dimmed but its result."""
    last = position.last
    trend = "green" if last.profit > 0 else "red" if last.profit < 0 else ""
    base = "dim" if last.settled else ""
    if position.note is not None:
        status: Cell = (position.note, "bold yellow")
    elif position.stopped:
        status = ("stopped", "yellow")
    else:
        status = (last.status, STATUS_STYLES.get(last.status, ""))
    product, currency = last.product, last.currency
    take_profit = amount(last.take_profit, currency) if last.take_profit is not None else None
    stop_loss = amount(last.stop_loss, currency) if last.stop_loss is not None else None
    return {
        "contract": (str(last.contract_id), base or "bold"),
        "type": (SHORT_TYPES.get(last.contract_type, last.contract_type), base),
        "symbol": (last.symbol, base),
        "stake": (amount(last.buy_price, currency), base),
        "value": (amount(last.value, currency), base),
        "profit": (signed_money(last.profit, currency), trend),
        "percent": (percent(last.profit_pct), f"{trend} {base}".strip()),
        "take_profit": _optional(product in WITH_TAKE_PROFIT, take_profit, base),
        "stop_loss": _optional(product == "multiplier", stop_loss, base),
        "stop_out": _optional(product == "multiplier", last.stop_out, base),
        "barrier": _optional(product in WITH_BARRIER, last.barrier, base),
        "ticks": _optional(product == "accumulator", last.ticks, base),
        "status": status,
    }


ORDER_NAMES = {"take_profit": "take profit", "stop_loss": "stop loss"}


def actions_hint(position: Position | None) -> str:
    """What can be done to the selected contract now, with the keys."""
    if position is None or position.last.settled:
        return ""
    last = position.last
    hints = ["s sell"] if last.can_sell else []
    if last.can_cancel:
        until = f" until {utc(last.cancel_until)[11:]}" if last.cancel_until else ""
        hints.append(f"c cancel{until}")
    if last.can_update:
        hints.append(
            "u " + "/".join(name for k, name in ORDER_NAMES.items() if k in last.can_update)
        )
    return " · ".join(hints)


class PositionsTable(DiffedTable):
    """One row per followed contract (the row key is the contract id, as a string)."""

    COLUMNS: ClassVar[tuple[Column, ...]] = (
        ("contract", "Contract", 12, False),
        ("type", "Type", 11, False),
        ("symbol", "Symbol", 8, False),
        ("stake", "Stake", 9, True),
        ("value", "Value now", 9, True),
        ("profit", "P/L", 9, True),
        ("percent", "P/L %", 8, True),
        ("status", "Status", 9, False),
        ("take_profit", "TP", 8, True),
        ("stop_loss", "SL", 8, True),
        ("stop_out", "Stop out", 9, True),
        ("barrier", "Barrier", 10, True),
        ("ticks", "Ticks", 7, True),
    )
    #: Shown only when some row fills them.
    OPTIONAL = ("take_profit", "stop_loss", "stop_out", "barrier", "ticks")
    #: Left out first, in this order, when the columns are wider than the panel (without the
    #: contract id, the type is the column that stays put when scrolling sideways). A
    #: multiplier's stop out goes last: at 80 columns, beside an accumulator, its take profit
    #: and stop loss and the accumulator's barrier distance and ticks all fit without it.
    DROP_ORDER = ("value", "stake", "percent", "contract", "symbol", "stop_out")

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
        self.order_rows(sorted(self._order, key=self._order.__getitem__))

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

    def fit_columns(self, room: int) -> bool:
        """Show the columns some row fills, within ``room`` cells if the least needed ones can
        go; True if that changed which columns show."""
        hidden = {key for key in self.OPTIONAL if not self.column_filled(key)}
        widths = {key: width + 2 for key, _, width, _ in self.COLUMNS}  # + cell padding

        def total() -> int:
            return sum(width for key, width in widths.items() if key not in hidden)

        for key in self.DROP_ORDER:
            if total() <= room:
                break
            hidden.add(key)
        return self.hide_columns(frozenset(hidden))


class PositionsPanel(Vertical):
    """The table, or one line saying there is nothing to show (yet)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._room = 200
        self._counts = ""
        self._hint = ""
        self._empty = LOADING

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

    def fit(self, width: int) -> None:
        """The terminal is ``width`` wide: the table's columns fit in it (less the border and a
        scroll bar)."""
        self._room = width - 4
        self.table.fit_columns(self._room)

    def show_actions(self, position: Position | None) -> None:
        """Name what can be done to ``position`` (the selected row) in the subtitle."""
        self._hint = actions_hint(position)
        self._subtitle()

    def _subtitle(self) -> None:
        self.border_subtitle = " · ".join(part for part in (self._counts, self._hint) if part)

    def show(self, changed: list[Position], removed: list[int], *, loaded: bool) -> None:
        """Apply what changed since the last call, then the columns, counts and empty state."""
        table = self.table
        for contract_id in removed:
            table.remove_position(contract_id)
        reorder = False
        for position in changed:
            reorder = table.show_position(position) or reorder
        if reorder:
            table.reorder()
        table.fit_columns(self._room)
        settled = table.settled_count
        opened = table.row_count - settled
        self._counts = f"{opened} open · {settled} settled" if table.row_count else ""
        self._subtitle()
        empty = table.row_count == 0
        label = self.query_one("#positions-empty", Label)
        text = EMPTY if loaded else LOADING
        if text != self._empty:  # an update lays the screen out again: only on a change
            self._empty = text
            label.update(Content(text).stylize("dim"))
        label.display = empty
        table.display = not empty

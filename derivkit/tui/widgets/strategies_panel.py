"""StrategiesPanel: the strategies running on this machine (``derivkit run``), one row per run.

Passive: the screen hands it the registry's records (:class:`RunRecord`) as it reads them and the
ids of the runs it asked to stop; the panel shows only while some run is listed. Rows are keyed by
run id and diffed (:class:`DiffedTable`); a run gone from the registry (it ended) loses its row.
P/L and stake are in the run account's currency (the registry does not say which).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.containers import Vertical

from derivkit.strategy.registry import RunRecord
from derivkit.tui.widgets.diffed_table import Cell, Column, DiffedTable

__all__ = ["STOP_HINT", "StrategiesPanel", "StrategiesTable", "cells_for"]

STOP_HINT = "x stop the selected one"
STATE_STYLES = {"running": "green", "stopping": "bold yellow", "stopped": "dim"}


def _signed(value: float) -> str:
    text = f"{abs(value):,.2f}"
    if text == "0.00":
        return text
    return f"{'+' if value > 0 else '-'}{text}"


def cells_for(record: RunRecord, *, stopping: bool = False) -> dict[str, Cell]:
    """What each column of ``record``'s row shows; ``stopping`` once the dashboard asked the run
    to stop and the run has not said so itself yet."""
    state = "stopping…" if stopping and record.state == "running" else record.state
    trend = "green" if record.profit > 0 else "red" if record.profit < 0 else ""
    return {
        "strategy": (record.strategy, "bold"),
        "symbol": (record.symbol, ""),
        "state": (state, STATE_STYLES.get(state.rstrip("…"), "")),
        "runs": (str(record.runs), ""),
        "won_lost": (f"{record.won}/{record.lost}", ""),
        "profit": (_signed(record.profit), trend),
        "stake": (f"{record.stake:,.2f}", ""),
        "open": (str(record.open), ""),
        "account": (record.loginid, "dim"),
        "run": (record.run_id, "dim"),
    }


class StrategiesTable(DiffedTable):
    """One row per running strategy (the row key is the run id)."""

    COLUMNS: ClassVar[tuple[Column, ...]] = (
        ("strategy", "Strategy", 11, False),
        ("symbol", "Symbol", 8, False),
        ("state", "State", 9, False),
        ("runs", "Runs", 4, True),
        ("won_lost", "Won/lost", 8, True),
        ("profit", "P/L", 8, True),
        ("stake", "Stake", 7, True),
        ("open", "Open", 4, True),
        ("account", "Account", 11, False),
        ("run", "Run", 22, False),
    )
    #: Left out on a narrow terminal.
    NARROW_HIDDEN = frozenset({"account", "run"})

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False, fixed_columns=1)

    @property
    def selected_run(self) -> str | None:
        """The run under the cursor, if any."""
        if self.row_count == 0:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return str(row_key.value)

    def run_ids(self) -> list[str]:
        """The rows' run ids, in display order (oldest run first)."""
        return [str(row.key.value) for row in self.ordered_rows]

    def cell_text(self, run_id: str, column: str) -> str:
        """The text shown in one cell (for tests and screen readers)."""
        return self.shown_text(run_id, column)


class StrategiesPanel(Vertical):
    """The table, shown while some strategy runs."""

    def compose(self) -> ComposeResult:
        yield StrategiesTable(id="strategies-table")

    def on_mount(self) -> None:
        self.border_title = "Strategies"
        self.display = False

    @property
    def table(self) -> StrategiesTable:
        return self.query_one(StrategiesTable)

    def fit(self, *, narrow: bool) -> None:
        self.table.hide_columns(StrategiesTable.NARROW_HIDDEN if narrow else frozenset())

    def show(self, records: Sequence[RunRecord], stopping: Collection[str] = ()) -> None:
        """Show exactly ``records`` (oldest first): new runs added, ended ones dropped."""
        table = self.table
        listed = {record.run_id for record in records}
        for run_id in table.run_ids():
            if run_id not in listed:
                table.drop_row(run_id)
        for record in records:
            table.put_row(record.run_id, cells_for(record, stopping=record.run_id in stopping))
        table.order_rows([record.run_id for record in records])
        count = len(records)
        runs = f"{count} run{'' if count == 1 else 's'}"
        self.border_subtitle = f"{runs} · {STOP_HINT}" if count else ""
        self.display = bool(count)

"""What the diffed tables draw: a changed cell is drawn with its new text and the rows around it
keep theirs, also for rows off screen until they scroll in, under the cursor, and after columns
are hidden. The tables write changed cells past DataTable's ``update_cell`` (which re-renders
every row), so this checks the drawn lines themselves, on every Textual version CI runs."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.geometry import Region

from derivkit.tui.watchlist import Watchlist
from derivkit.tui.widgets.quote_table import QuoteTable

SYMBOLS = [f"S{n:02d}" for n in range(30)]


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield QuoteTable(id="quotes")


def drawn(table: QuoteTable) -> dict[str, str]:
    """Each visible row's drawn text, by symbol (the line that starts with it)."""
    width, height = table.size
    lines = [strip.text for strip in table.render_lines(Region(0, 0, width, height))]
    rows: dict[str, str] = {}
    for line in lines:
        words = line.split()
        if words and words[0] in SYMBOLS:
            rows[words[0]] = line
    return rows


def tick(watchlist: Watchlist, symbol: str, price: float, epoch: int) -> None:
    quote = watchlist.get(symbol)
    assert quote is not None
    watchlist.record(symbol, price, epoch=epoch, pip_size=2, received=quote.received + 1, gaps=0)


async def test_changed_cells_are_drawn_and_the_other_rows_keep_theirs():
    app = TableApp()
    async with app.run_test(size=(80, 12)) as pilot:
        table = app.query_one(QuoteTable)
        watchlist = Watchlist(SYMBOLS)
        for quote in watchlist:
            table.add_quote(quote)
        for n, symbol in enumerate(SYMBOLS):
            tick(watchlist, symbol, 1000 + n, epoch=1)
        for quote in watchlist.take_changed():
            table.show_quote(quote)
        await pilot.pause()
        before = drawn(table)
        assert "1002.00" in before["S02"] and "S25" not in before  # S25 is below the fold

        tick(watchlist, "S02", 1234.56, epoch=2)
        tick(watchlist, "S25", 2345.67, epoch=2)
        for quote in watchlist.take_changed():
            table.show_quote(quote)
        await pilot.pause()
        after = drawn(table)
        assert "1234.56" in after["S02"] and "1002.00" not in after["S02"]
        assert "+232.56" in after["S02"]
        assert {s: line for s, line in after.items() if s != "S02"} == {
            s: line for s, line in before.items() if s != "S02"
        }

        table.select("S25")  # scrolls it in, under the cursor
        await pilot.pause()
        assert "2345.67" in drawn(table)["S25"]

        tick(watchlist, "S25", 2345.99, epoch=3)  # a change under the cursor
        for quote in watchlist.take_changed():
            table.show_quote(quote)
        await pilot.pause()
        assert "2345.99" in drawn(table)["S25"]

        table.hide_columns(frozenset({"name", "change"}))  # rebuilt from what is shown
        await pilot.pause()
        line = drawn(table)["S25"]
        assert "2345.99" in line and "+1320.99" not in line

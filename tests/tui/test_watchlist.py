"""The watchlist against a live simulator: rows, prices, adding, refusing and removing symbols."""

from __future__ import annotations

import re

from textual.command import CommandList, CommandPalette
from textual.widgets import Input, Label

from derivkit.formatting import price
from derivkit.sim.symbols import SYMBOLS
from derivkit.tui import DEFAULT_SYMBOLS
from derivkit.tui.formatting import change
from derivkit.tui.screens.symbol_picker import SymbolPicker
from derivkit.tui.widgets.price_digits import PricePanel
from tests.tui.conftest import dashboard, text_of


async def test_rows_show_live_prices_at_each_symbols_pip_size(sim):
    symbols = ["R_100", "R_50", "stpRNG", "BOOM1000"]
    for symbol in symbols:  # each stream starts on the feed's last tick, known here
        sim.faults.pause_symbol(symbol)
    first = {symbol: sim.market.feed(symbol).epochs[-1] for symbol in symbols}

    def sent(symbol: str) -> list[float]:
        """The simulator's ticks of ``symbol`` since the dashboard's stream started."""
        feed = sim.market.feed(symbol)
        return [q for e, q in zip(feed.epochs, feed.quotes, strict=True) if e >= first[symbol]]

    async with dashboard(sim, symbols) as ui:
        assert ui.rows() == symbols
        await ui.wait_for_ticks(symbols, count=1)
        for symbol in symbols:
            sim.faults.resume_symbol(symbol)
        await ui.wait_for_ticks(symbols, count=3)
        for symbol in symbols:
            sim.faults.pause_symbol(symbol)  # freeze the feed so the last tick is final

        def shows_last_tick(symbol: str) -> bool:
            pip_size = SYMBOLS[symbol].pip_size
            return ui.table.cell_text(symbol, "last") == price(sent(symbol)[-1], pip_size)

        await ui.wait_for(lambda: all(map(shows_last_tick, symbols)), "the last ticks shown")
        for symbol in symbols:
            pip_size = SYMBOLS[symbol].pip_size
            ticks = sent(symbol)
            assert re.fullmatch(rf"\d+\.\d{{{pip_size}}}", ui.table.cell_text(symbol, "last"))
            assert ui.table.cell_text(symbol, "change") == change(ticks[-1] - ticks[0], pip_size)
            assert ui.received(symbol) == len(ticks) >= 3  # every tick counted, none twice
            name = SYMBOLS[symbol].display_name.removesuffix(" Index")
            assert ui.table.cell_text(symbol, "name") == name


async def test_the_selected_row_drives_the_detail_panel(sim):
    async with dashboard(sim, ["R_100", "R_50"]) as ui:
        await ui.wait_for_ticks(["R_100", "R_50"])
        panel = ui.app.main_screen.query_one(PricePanel)
        assert text_of(panel.query_one("#price-title", Label)).startswith("R_100")
        await ui.pilot.press("down")
        await ui.wait_for(
            lambda: text_of(panel.query_one("#price-title", Label)).startswith("R_50"),
            "the detail panel to follow the cursor",
        )
        assert ui.table.selected_symbol == "R_50"


async def test_default_watchlist_and_duplicates(sim):
    async with dashboard(sim, []) as ui:
        assert ui.rows() == list(DEFAULT_SYMBOLS)
        await ui.wait_for_ticks(DEFAULT_SYMBOLS, count=1)
    async with dashboard(sim, ["R_50", "R_100", "R_50"]) as ui:
        assert ui.rows() == ["R_50", "R_100"]


async def test_add_a_symbol_with_the_picker(sim):
    async with dashboard(sim, ["R_100"]) as ui:
        await ui.pilot.press("a")
        await ui.wait_for(lambda: isinstance(ui.app.screen, SymbolPicker), "the picker")
        await ui.pilot.press(*"r_75", "enter")  # any case; the picker canonicalizes
        await ui.wait_for(lambda: "R_75" in ui.rows(), "the R_75 row")
        assert not isinstance(ui.app.screen, SymbolPicker)
        await ui.wait_for_ticks(["R_75"], count=2)
        assert ui.table.selected_symbol == "R_75"
        assert ui.table.cell_text("R_75", "name") == "Volatility 75"
        assert sim.market.feed("R_75").listener_count == 1


async def test_an_unknown_symbol_is_refused_in_the_picker(sim):
    async with dashboard(sim, ["R_100", "R_50"]) as ui:
        await ui.pilot.press("a")
        await ui.wait_for(lambda: isinstance(ui.app.screen, SymbolPicker), "the picker")
        picker = ui.app.screen
        error = picker.query_one("#picker-error", Label)
        await ui.pilot.press(*"no_q", "enter")  # q is a letter here, not "quit"
        await ui.wait_for(lambda: "Unknown symbol 'no_q'" in text_of(error), "the error")
        assert ui.app.screen is picker and error.display and ui.app.is_running
        assert picker.query_one(Input).value == "no_q"  # nothing typed is lost

        picker.query_one(Input).value = ""
        await ui.pilot.press(*"r_50", "enter")
        await ui.wait_for(lambda: "already in the watchlist" in text_of(error), "the error")
        await ui.pilot.press("escape")
        await ui.wait_for(lambda: ui.app.screen is ui.app.main_screen, "the picker to close")
        assert ui.rows() == ["R_100", "R_50"]


async def test_a_symbol_the_server_refuses_is_removed_with_an_error(sim):
    async with dashboard(sim, ["R_100", "NOPE"]) as ui:
        await ui.wait_for(lambda: ui.rows() == ["R_100"], "the NOPE row to go")
        errors = ui.notifications("error")
        assert len(errors) == 1 and errors[0].startswith("NOPE:") and "InvalidSymbol" in errors[0]
        await ui.wait_for_ticks(["R_100"], count=2)


async def test_removing_a_symbol_forgets_its_stream(sim):
    async with dashboard(sim, ["R_100", "R_50"]) as ui:
        await ui.wait_for_ticks(["R_100", "R_50"])
        assert sim.market.feed("R_50").listener_count == 1
        await ui.pilot.press("down", "d")
        await ui.wait_for(lambda: ui.rows() == ["R_100"], "the R_50 row to go")
        await ui.wait_for(
            lambda: sim.market.feed("R_50").listener_count == 0, "the simulator to forget R_50"
        )
        seen = ui.received("R_100")
        await ui.wait_for(lambda: ui.received("R_100") >= seen + 2, "R_100 to keep ticking")

        await ui.pilot.press("delete")
        await ui.wait_for(lambda: ui.rows() == [], "the R_100 row to go")
        await ui.wait_for(
            lambda: sim.market.feed("R_100").listener_count == 0, "the simulator to forget"
        )
        await ui.pilot.press("d")  # nothing left to remove: no error
        assert ui.notifications("error") == []


async def run_from_palette(ui, query: str, command: str) -> None:
    """Open the palette, type ``query``, wait until ``command`` is the top hit, run it."""
    await ui.pilot.press("ctrl+p", *query)

    def top_hit() -> str:
        palette = ui.app.screen
        if not isinstance(palette, CommandPalette):
            return ""
        hits = palette.query_one(CommandList)
        if not hits.option_count:
            return ""
        return str(hits.get_option_at_index(0).prompt).splitlines()[0]  # then the help line

    await ui.wait_for(lambda: top_hit() == command, f"{command!r} as the top hit")
    await ui.pilot.press("down", "enter")
    await ui.wait_for(lambda: ui.app.screen is ui.app.main_screen, "the palette to close")


async def test_the_command_palette_adds_and_removes_symbols(sim):
    async with dashboard(sim, ["R_100", "R_50"]) as ui:
        await ui.wait_for(
            lambda: ("R_25", "Volatility 25 Index") in ui.app.main_screen.addable_symbols(),
            "the symbol list",
        )
        await run_from_palette(ui, "r_25", "Watch R_25")
        await ui.wait_for(lambda: "R_25" in ui.rows(), "R_25 added from the palette")
        await run_from_palette(ui, "rem r_50", "Remove R_50")
        await ui.wait_for(lambda: "R_50" not in ui.rows(), "R_50 removed from the palette")
        assert ui.rows() == ["R_100", "R_25"]
        await ui.wait_for(
            lambda: sim.market.feed("R_50").listener_count == 0, "the simulator to forget R_50"
        )


async def test_tab_accepts_the_pickers_suggestion(sim):
    async with dashboard(sim, ["R_100"]) as ui:
        ui.pause_feeds()  # typing needs no ticks (and runs faster without them)
        await ui.pilot.press("a")
        await ui.wait_for(lambda: isinstance(ui.app.screen, SymbolPicker), "the picker")
        field = ui.app.screen.query_one(Input)
        await ui.pilot.press(*"1hz7")
        await ui.wait_for(lambda: field.value == "1hz7", "the typed text")
        await ui.pilot.pause()  # the suggester answers in its own worker
        await ui.wait_for(lambda: field._suggestion, "a suggestion")  # noqa: SLF001
        await ui.pilot.press("tab")
        assert field.value.upper() == "1HZ75V" and field.has_focus
        await ui.pilot.press("enter")
        await ui.wait_for(lambda: "1HZ75V" in ui.rows(), "the 1HZ75V row")

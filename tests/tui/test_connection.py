"""Connection state in the status bar, and a clean exit."""

from __future__ import annotations

import asyncio

from derivkit.core import DerivClient, RetryPolicy
from derivkit.tui import DerivDashboard
from derivkit.tui.messages import ConnectionStateChanged
from derivkit.tui.widgets.quote_table import QuoteTable
from derivkit.tui.widgets.status_bar import StatusBar
from tests.tui.conftest import DEMO_TOKEN, SIZE, dashboard, text_of, wait_for

# A short but visible reconnect delay (0.25-0.5 s), so the status bar can show "reconnecting".
RETRY = RetryPolicy(reconnect_initial=0.5)


async def test_a_dropped_connection_shows_reconnecting_then_connected(sim):
    symbols = ["R_100", "1HZ100V"]
    async with dashboard(sim, symbols, retry=RETRY) as ui:
        status = ui.app.main_screen.query_one(StatusBar)
        await ui.wait_for_ticks(symbols)
        assert text_of(status).startswith("● connected") and "reconnects 0" in text_of(status)
        assert "gaps 0" in text_of(status)

        assert sim.faults.drop_connections() == 2  # market and account clients
        await ui.wait_for(lambda: "● reconnecting" in text_of(status), "reconnecting shown")
        seen = {symbol: ui.received(symbol) for symbol in symbols}
        await ui.wait_for(lambda: "● connected" in text_of(status), "connected shown again")
        await ui.wait_for(
            lambda: all(ui.received(s) >= seen[s] + 2 for s in symbols), "ticks to continue"
        )
        states = [m.state for m in ui.messages if isinstance(m, ConnectionStateChanged)]
        assert states == ["reconnecting", "connected"]
        assert ui.market.reconnects == 1 and "reconnects 1" in text_of(status)
        # every stream (ticks and balance) was interrupted once
        await ui.wait_for(lambda: f"gaps {len(symbols) + 1}" in text_of(status), "the gaps counted")
        assert len(ui.notifications("warning")) == 1  # "reconnecting", no errors
        assert ui.notifications("error") == []


async def test_quitting_forgets_every_stream_and_leaves_no_task_behind(sim):
    symbols = ["R_100", "R_50", "stpRNG"]
    async with DerivClient(sim.url, token=DEMO_TOKEN) as client:
        before = asyncio.all_tasks()
        app = DerivDashboard(client, symbols)
        async with app.run_test(size=SIZE) as pilot:
            table = app.main_screen.query_one(QuoteTable)
            await wait_for(
                pilot,
                lambda: all(table.cell_text(s, "ticks") != "0" for s in symbols),
                "ticks for every symbol",
            )
            assert len(asyncio.all_tasks() - before) > len(symbols)  # the app's tasks, workers
            assert all(sim.market.feed(s).listener_count == 1 for s in symbols)
            sim.faults.delay = 0.3  # a slow server: quitting still ends every stream cleanly
            await pilot.press("q")
        assert app.return_code == 0
        # the streams were forgotten before the app exited, on a client that is still open
        assert all(sim.market.feed(s).listener_count == 0 for s in symbols)
        assert client.state == "connected"
        new = asyncio.all_tasks() - before - {asyncio.current_task()}
        assert {task for task in new if not is_simulator_pump(task)} == set()


def is_simulator_pump(task: asyncio.Task) -> bool:
    """The simulator's per-symbol feed pump: it ends by itself at its next tick without
    listeners (server side, not the dashboard's)."""
    return task.get_coro().__qualname__ == "SymbolFeed._pump"

"""The console's market side: a rejected token keeps the market data, the chart's timeframes,
the digit panel against a direct count, the remembered state, and the narrow layout."""

from __future__ import annotations

from collections import Counter

from derivkit.core import DerivClient, RetryPolicy
from derivkit.formatting import price
from derivkit.tui.candles import GRANULARITIES
from derivkit.tui.state import DashboardState, load_state
from derivkit.tui.ticklog import KEEP, TickLog, digit_stats, last_digit
from derivkit.tui.widgets.account_panel import TOKEN_REJECTED, AccountPanel
from derivkit.tui.widgets.chart_panel import ChartPanel
from derivkit.tui.widgets.digit_panel import DigitPanel, digit_lines
from tests.tui.conftest import DEMO_TOKEN, dashboard, text_of

RETRY = RetryPolicy(reconnect_initial=0.3)


def account_text(ui) -> str:
    return " ".join(
        text_of(label) for label in ui.app.main_screen.query_one(AccountPanel).query("Label")
    )


async def test_a_rejected_token_after_a_reconnect_keeps_the_market_data_and_r_retries(sim):
    symbols = ["R_100", "1HZ100V"]
    async with dashboard(sim, symbols, retry=RETRY) as ui:
        await ui.wait_for_ticks(symbols)
        account = sim.accounts.pop(DEMO_TOKEN)  # the token is revoked while the dashboard runs
        sim.faults.drop_connections()
        await ui.wait_for(lambda: TOKEN_REJECTED in account_text(ui), "token rejected shown")
        seen = {s: ui.received(s) for s in symbols}
        await ui.wait_for(
            lambda: all(ui.received(s) >= seen[s] + 2 for s in symbols), "ticks to go on"
        )
        assert ui.rows() == symbols  # nothing removed
        assert ui.market.state == "connected"
        assert not any("Removed" in text for text in ui.notifications())

        await ui.pilot.press("r")  # still revoked: still market data only
        await ui.wait_for(
            lambda: any("Still no account" in text for text in ui.notifications("error")),
            "the failed retry",
        )
        assert TOKEN_REJECTED in account_text(ui)
        sim.accounts[DEMO_TOKEN] = account  # the token works again
        await ui.pilot.press("r")
        await ui.wait_for(
            lambda: account.loginid in account_text(ui) and TOKEN_REJECTED not in account_text(ui),
            "the account back",
        )
        assert ui.client.state == "connected" and ui.client.account is not None


async def test_the_granularity_key_switches_the_chart_to_candles_and_back(sim):
    async with dashboard(sim, ["R_50"]) as ui:
        screen = ui.app.main_screen
        chart = screen.query_one(ChartPanel)
        await ui.wait_for(lambda: "R_50 · ticks" in str(chart.border_title), "the tick chart")
        await ui.pilot.press("g")
        assert screen.granularity == 60
        await ui.wait_for(lambda: "R_50 · 1m" in str(chart.border_title), "the 1m title")
        await ui.wait_for(
            lambda: "candles" in text_of(chart.query_one("#chart-range")), "candles drawn"
        )
        series = screen.candles
        assert series is not None and (series.symbol, series.granularity) == ("R_50", 60)
        async with DerivClient(sim.url) as direct:  # a little more: a minute may have passed
            candles = await direct.ticks_history("R_50", style="candles", granularity=60, count=70)
        epochs = [bar.epoch for bar in series.bars][:59]
        history = [c.epoch for c in candles]
        start = history.index(epochs[0])
        assert history[start : start + len(epochs)] == epochs  # backfilled from history
        await ui.pilot.press("G", "G")  # back past ticks to 1d
        assert screen.granularity == GRANULARITIES[-1]
        await ui.wait_for(lambda: "R_50 · 1d" in str(chart.border_title), "the 1d title")
        await ui.pilot.press("g")
        assert screen.granularity == 0


async def test_the_digit_panel_equals_a_direct_count_over_the_same_ticks(sim):
    async with dashboard(sim, ["1HZ100V"]) as ui:
        screen = ui.app.main_screen
        await ui.wait_for_ticks(["1HZ100V"], count=3)
        sim.faults.pause_symbol("1HZ100V")
        log = screen.tick_log("1HZ100V")
        assert log is not None
        await ui.wait_for(lambda: len(log) == 1000, "the log backfilled to 1000")
        for window in (1000, 100, 500):
            while screen.digit_window != window:
                await ui.pilot.press("n")
            async with DerivClient(sim.url) as direct:
                history = await direct.ticks_history("1HZ100V", count=window)
            digits = [int(price(q, history.pip_size)[-1]) for q in history.prices]
            counts = Counter(digits)
            expected = digit_stats(digits, window)
            assert [expected.counts[d] for d in range(10)] == [counts[d] for d in range(10)]
            assert expected.even == sum(counts[d] for d in (0, 2, 4, 6, 8))
            body = screen.query_one(DigitPanel).query_one("#digits-body")
            await ui.wait_for(
                lambda e=expected, b=body: (
                    text_of(b).endswith("\n".join(digit_lines(e)))
                    or "\n".join(digit_lines(e, compact=True)) in text_of(b)
                ),
                f"the panel over {window} ticks",
            )
            assert f"{window}/{window} ticks" in str(screen.query_one(DigitPanel).border_title)


async def test_no_tick_is_lost_between_the_history_and_the_stream(sim):
    """Every reply late: ticks go on meanwhile (20 a second here). The tick log holds exactly
    the server's last 1000 ticks, none missing between the history and the live stream.

    The wait is for the feed's last tick by its epoch: two ticks in a row often have the same
    quote (about 1 in 60 on 1HZ100V), so "the last quote logged" could hold while the last
    tick, still delayed, was on its way."""
    sim.faults.delay = 0.25
    async with dashboard(sim, ["1HZ100V"], token=None) as ui:
        log = ui.app.main_screen.tick_log("1HZ100V")
        assert log is not None
        await ui.wait_for_ticks(["1HZ100V"], count=3)
        sim.faults.pause_symbol("1HZ100V")
        sim.faults.delay = 0.0
        feed = sim.market.feed("1HZ100V")
        last = (feed.epochs[-1], feed.quotes[-1])
        await ui.wait_for(lambda: log.ticks(1) == [last], "the last tick logged")
        assert log.ticks() == list(zip(feed.epochs[-KEEP:], feed.quotes[-KEEP:], strict=True))


def test_digit_statistics_streaks_and_last_seen():
    stats = digit_stats([1, 2, 3, 3, 4, 4, 4], 5)  # window: 3 3 4 4 4
    assert stats.count == 5 and stats.counts[3] == 2 and stats.counts[4] == 3
    assert stats.parity_streak == ("even", 3) and stats.digit_streak == (4, 3)
    assert stats.last_seen[4] == 0 and stats.last_seen[3] == 3 and stats.last_seen[1] is None
    assert (stats.over, stats.under) == (0, 5) and stats.share(stats.even) == 60.0
    assert last_digit(1234.5, 2) == 0 and last_digit(7.123, 3) == 3  # trailing zeros count


def test_the_tick_log_merges_history_and_live_ticks_once():
    log = TickLog(keep=5)
    assert log.append(10, 1.0, 2) and log.append(11, 1.1, 2) and not log.append(11, 1.1, 2)
    log.backfill([7, 8, 9, 10], [0.7, 0.8, 0.9, 9.9], 2)  # 10 seen live already: live wins
    assert log.quotes() == [0.7, 0.8, 0.9, 1.0, 1.1] and log.quotes(2) == [1.0, 1.1]
    assert log.ticks(2) == [(10, 1.0), (11, 1.1)] and len(log.ticks()) == 5


async def test_the_watchlist_and_timeframe_are_remembered(sim, tmp_path):
    path = tmp_path / "dashboard.json"
    async with dashboard(sim, [], state_path=path) as ui:
        ui.pause_feeds()
        assert ui.rows() == ["R_100", "R_50", "1HZ100V", "stpRNG", "BOOM1000"]
        await ui.pilot.press("d", "g", "g", "n")
        await ui.wait_for(lambda: path.exists(), "the state file")
    state = load_state(path)
    assert state == DashboardState(["R_50", "1HZ100V", "stpRNG", "BOOM1000"], 120, 100)
    async with dashboard(sim, [], state_path=path) as ui:
        assert ui.rows() == state.symbols
        assert ui.app.main_screen.granularity == 120
    path.write_text("{not json")
    assert load_state(path) == DashboardState()  # a broken file: the defaults


async def test_at_80x24_every_column_that_matters_shows(sim):
    async with DerivClient(sim.url, token=DEMO_TOKEN) as other:
        from derivkit.core import ContractSpec

        receipt = await other.buy(ContractSpec("CALL", "R_100", 5, 10, "m"), price=5)
    async with dashboard(sim, ["R_100", "R_50"], size=(80, 24)) as ui:
        await ui.wait_for_ticks(["R_100", "R_50"], count=1)
        screen = ui.app.main_screen
        table = ui.table
        assert [str(c.key.value) for c in table.ordered_columns] == [
            "symbol",
            "last",
            "change",
            "percent",
            "direction",
            "ticks",
        ]
        assert table.fixed_columns == 1  # the symbol stays when scrolling sideways
        await ui.wait_for(  # the columns are sized as the first ticks arrive
            lambda: table.region.right <= 80 and table.virtual_size.width <= table.size.width,
            "the watchlist within the screen",
        )
        from derivkit.tui.widgets.positions_table import PositionsPanel

        positions = screen.query_one(PositionsPanel).table
        await ui.wait_for(lambda: receipt.contract_id in positions.contract_ids(), "the row")
        keys = [str(c.key.value) for c in positions.ordered_columns]
        assert "status" in keys and "percent" in keys and "profit" in keys
        await ui.wait_for(  # Status not cut off
            lambda: positions.virtual_size.width <= positions.size.width, "every contract column"
        )
        chart = screen.query_one(ChartPanel)
        assert chart.display and chart.query_one("#chart-plot").size.height >= 3

"""The open-contracts panel against a live simulator: contracts bought elsewhere appear, update
and settle; those open at start, or bought during a reconnect, come from the portfolio; none
without a token; quitting forgets every contract stream. Then the pure parts: the positions
model, coalescing, signed money."""

from __future__ import annotations

import asyncio

from textual.worker import WorkerState

from derivkit.core import ContractSpec, DerivClient, RetryPolicy
from derivkit.tui import AccountLink, DerivDashboard
from derivkit.tui.messages import ContractBought, PortfolioLoaded, PositionUpdated
from derivkit.tui.positions import ContractUpdate, Positions
from derivkit.tui.widgets.positions_table import EMPTY, PositionsPanel, amount, signed_money
from derivkit.tui.widgets.status_bar import StatusBar
from tests.tui.conftest import DEMO_TOKEN, SIZE, Harness, dashboard, text_of, wait_for
from tests.tui.test_connection import is_simulator_pump

SHORT = ContractSpec("CALL", "R_100", amount=5, duration=5)  # 5 ticks: ~0.5 s at speed 20
LONG = ContractSpec("PUT", "R_50", amount=3, duration=10, duration_unit="m")  # open all test


def panel(ui: Harness) -> PositionsPanel:
    return ui.app.main_screen.query_one(PositionsPanel)


def updates(ui: Harness, contract_id: int) -> list[PositionUpdated]:
    return [
        m
        for m in ui.messages
        if isinstance(m, PositionUpdated) and m.update.contract_id == contract_id
    ]


def shown(ui: Harness, contract_id: int, column: str) -> str | None:
    table = panel(ui).table
    return table.cell_text(contract_id, column) if contract_id in table.contract_ids() else None


def position_workers(app: DerivDashboard) -> list:
    return [w for w in app.workers if w.group == "positions"]


async def test_a_contract_bought_by_another_client_appears_updates_and_settles(sim):
    async with dashboard(sim, ["R_50"]) as ui:
        status = ui.app.main_screen.query_one(StatusBar)
        await ui.wait_for(lambda: panel(ui).empty_text == EMPTY, "the empty state")
        assert "streams 1" in text_of(status)

        async with DerivClient(sim.url, token=DEMO_TOKEN) as other:
            receipt = await other.buy(SHORT, price=SHORT.amount)
            sim.faults.pause_symbol("R_100")  # hold the contract open while we look at it
            cid = receipt.contract_id
            await ui.wait_for(lambda: shown(ui, cid, "status") == "open", "the open row")
            assert shown(ui, cid, "stake") == amount(receipt.buy_price, "USD") == "5.00"
            assert (shown(ui, cid, "type"), shown(ui, cid, "symbol")) == ("CALL", "R_100")
            live = updates(ui, cid)[-1].update
            assert not live.settled and live.value is not None
            assert shown(ui, cid, "value") == amount(live.value, "USD")
            assert shown(ui, cid, "profit") == signed_money(live.profit, "USD")
            assert panel(ui).empty_text is None
            assert panel(ui).border_subtitle == "1 open · 0 settled"
            await ui.wait_for(lambda: "streams 2" in text_of(status), "the contract's stream")

            sim.faults.resume_symbol("R_100")
            await ui.wait_for(
                lambda: shown(ui, cid, "status") in ("won", "lost"), "the settled row", timeout=10
            )
            (settled,) = [entry for entry in await other.profit_table() if entry.contract_id == cid]

        final = updates(ui, cid)[-1].update
        assert final.settled and final.profit == settled.profit
        assert shown(ui, cid, "status") == ("won" if settled.profit > 0 else "lost")
        assert shown(ui, cid, "profit") == signed_money(settled.profit, "USD")
        assert shown(ui, cid, "value") == amount(settled.sell_price, "USD")
        assert len(updates(ui, cid)) >= 2  # the open state, then at least the final one
        assert panel(ui).table.contract_ids() == [cid]  # it stays, settled
        assert panel(ui).border_subtitle == "0 open · 1 settled"
        await ui.wait_for(lambda: "streams 1" in text_of(status), "the stream to end")
        assert ui.notifications("error") == []


async def test_contracts_open_at_start_come_from_the_portfolio(sim):
    async with DerivClient(sim.url, token=DEMO_TOKEN) as other:
        before = await other.buy(LONG, price=LONG.amount)
        async with dashboard(sim, ["R_50"]) as ui:
            await ui.wait_for(
                lambda: shown(ui, before.contract_id, "status") == "open", "the portfolio's row"
            )
            loaded = [m for m in ui.messages if isinstance(m, PortfolioLoaded)]
            assert [m.contract_ids for m in loaded] == [[before.contract_id]]
            assert shown(ui, before.contract_id, "stake") == "3.00"

            after = await other.buy(LONG, price=LONG.amount)
            await ui.wait_for(
                lambda: panel(ui).table.contract_ids() == [after.contract_id, before.contract_id],
                "the new contract first",
            )
            assert ui.notifications("error") == []


async def test_a_contract_bought_during_a_reconnect_is_found_in_the_portfolio(sim):
    async with dashboard(sim, ["R_50"], retry=RetryPolicy(reconnect_initial=2.0)) as ui:
        await ui.wait_for(lambda: panel(ui).empty_text == EMPTY, "the empty state")
        assert sim.faults.drop_connections() == 2  # the market and the account clients
        await ui.wait_for(lambda: ui.client.state == "reconnecting", "the connection lost")
        async with DerivClient(sim.url, token=DEMO_TOKEN) as other:
            receipt = await other.buy(LONG, price=LONG.amount)
        assert ui.client.state == "reconnecting"  # waiting 1-2 s: the buy was in the gap
        cid = receipt.contract_id
        await ui.wait_for(lambda: shown(ui, cid, "status") == "open", "the row", timeout=5)
        assert not any(isinstance(m, ContractBought) for m in ui.messages)  # not streamed
        assert ui.notifications("error") == []


async def test_without_a_token_there_is_no_positions_panel(sim):
    async with dashboard(sim, ["R_100"], token=None) as ui:
        await ui.wait_for_ticks(["R_100"], count=2)
        assert not ui.app.main_screen.query(PositionsPanel)
        assert position_workers(ui.app) == []
        assert not any(isinstance(m, (PortfolioLoaded, PositionUpdated)) for m in ui.messages)
        assert ui.notifications("error") == []


async def test_quitting_forgets_the_contract_streams(sim):
    async with (
        DerivClient(sim.url, token=DEMO_TOKEN) as other,
        DerivClient(sim.url) as market,
    ):
        for _ in range(2):
            await other.buy(LONG, price=LONG.amount)
        link = AccountLink(sim.url, DEMO_TOKEN)
        client = await link.open()
        before = asyncio.all_tasks()
        app = DerivDashboard(market, ["R_100"], account=link)
        async with app.run_test(size=SIZE) as pilot:
            table = app.main_screen.query_one(PositionsPanel).table
            await wait_for(pilot, lambda: len(table.contract_ids()) == 2, "both contracts shown")
            workers = position_workers(app)
            assert len(workers) == 3  # the transaction stream, and one per contract
            assert all(w.state is WorkerState.RUNNING for w in workers)

            sim.faults.delay = 0.3  # a slow server: stopping still ends every stream cleanly
            await app.main_screen.stop_streams()  # what quitting does first
            assert all(w.state is WorkerState.CANCELLED for w in workers)
            # every forget went out while the app still runs: the server has none left
            reply = await client.request(
                {"forget_all": ["proposal_open_contract", "transaction", "balance", "ticks"]}
            )
            assert reply["forget_all"] == []
            await pilot.press("q")
        assert app.return_code == 0
        assert client.state == "connected" and market.state == "connected"
        await link.aclose()
        new = asyncio.all_tasks() - before - {asyncio.current_task()}
        assert {task for task in new if not is_simulator_pump(task)} == set()


def update(contract_id: int, profit: float = 0.0, status: str = "open") -> ContractUpdate:
    settled = status != "open"
    return ContractUpdate(
        contract_id, "CALL", "R_100", "USD", 5.0, 5.0 + profit, profit, profit * 20, status, settled
    )


def test_settled_contracts_are_kept_up_to_a_limit_oldest_settled_dropped_first():
    positions = Positions(keep_settled=2)
    for cid in (1, 2, 3, 4):
        assert positions.record(update(cid))
    assert [p.contract_id for p in positions.take_changed()] == [1, 2, 3, 4]
    for cid in (3, 1, 4):
        positions.record(update(cid, -5.0, "lost"))
    assert not positions.record(update(1, 1.0))  # a settled contract no longer changes
    assert positions.take_removed() == [3]
    assert [p.contract_id for p in positions] == [1, 2, 4]
    assert (positions.open_count, positions.settled_count) == (1, 2)
    assert [p.contract_id for p in positions.take_changed()] == [1, 4]
    assert positions.stop(2) and not positions.stop(2) and not positions.stop(1)
    assert [p.contract_id for p in positions.take_changed()] == [2]


def test_contract_updates_coalesce_per_contract_latest_wins():
    first, newer, other = (PositionUpdated(update(c, p)) for c, p in ((1, 0.5), (1, 1.0), (2, 0)))
    assert newer.can_replace(first) and not other.can_replace(first)
    assert not newer.can_replace(PortfolioLoaded([1]))


def test_profit_is_signed_money():
    assert signed_money(1.5, "USD") == "+1.50"
    assert signed_money(-1234.5, "USD") == "-1,234.50"
    assert signed_money(-0.001, "USD") == signed_money(0.0, "USD") == "0.00"
    assert amount(0.5, "BTC") == "0.50000000"

"""Trading from the dashboard against the simulator: the ticket's live quote, the confirmation
modal, a buy sent exactly once (counted on the simulator), settlement and balance, sell, a
cancelled modal, a real-money account, and an outcome-unknown buy resolved after the reconnect."""

from __future__ import annotations

import asyncio

from textual.widgets import Button, Checkbox, Input, Label, Select

from derivkit.core import ContractSpec, DerivClient, RetryPolicy
from derivkit.formatting import money
from derivkit.tui import trading
from derivkit.tui.messages import BalanceChanged, BuyFinished, BuyResolved, SellFinished
from derivkit.tui.screens.confirm import ConfirmTrade
from derivkit.tui.screens.main import REAL_MONEY_REFUSED
from derivkit.tui.screens.ticket import TradeTicket
from derivkit.tui.widgets.account_panel import AccountPanel
from derivkit.tui.widgets.positions_table import PositionsPanel
from tests.tui.conftest import DEMO_TOKEN, REAL_TOKEN, Harness, dashboard, text_of


def bought(sim, token: str = DEMO_TOKEN) -> list:
    """Every contract the simulator's account holds (the server's side of the story)."""
    return list(sim.accounts[token].contracts.values())


def ticket(ui: Harness) -> TradeTicket:
    screen = ui.app.screen
    assert isinstance(screen, TradeTicket), screen
    return screen


def quote_text(ui: Harness) -> str:
    return text_of(ticket(ui).query_one("#ticket-quote", Label))


async def open_ticket(ui: Harness, contract: str | None = None, **values: str) -> TradeTicket:
    await ui.pilot.press("t")
    await ui.wait_for(lambda: isinstance(ui.app.screen, TradeTicket), "the ticket")
    screen = ticket(ui)
    if contract is not None:
        screen.query_one(Select).value = contract
    for key, value in values.items():
        screen.query_one(f"#input-{key}", Input).value = value
    stake = values.get("stake", "10")
    await ui.wait_for(
        lambda: (
            screen.quote_is_current
            and quote_text(ui).startswith(f"Price {money(float(stake), 'USD')}")
        ),
        "a quote for these inputs",
    )
    screen.query_one("#input-stake", Input).focus()  # Enter in an input buys
    return screen


async def confirm_modal(ui: Harness) -> ConfirmTrade:
    await ui.wait_for(lambda: isinstance(ui.app.screen, ConfirmTrade), "the confirmation")
    screen = ui.app.screen
    assert isinstance(screen, ConfirmTrade)
    return screen


def positions(ui: Harness) -> PositionsPanel:
    return ui.app.main_screen.query_one(PositionsPanel)


async def test_buy_through_the_ticket_appears_settles_and_moves_the_balance(sim):
    async with dashboard(sim, ["R_100"]) as ui:
        start = ui.client.account.balance
        await open_ticket(ui, "Rise/Fall:CALL:Rise", stake="7", duration="3t")
        assert "Volatility 100 Index" in text_of(ticket(ui).query_one("#ticket-longcode", Label))
        await ui.pilot.press("enter")  # Buy (from the inputs) opens the confirmation
        modal = await confirm_modal(ui)
        lines = " ".join(text_of(label) for label in modal.query(Label))
        assert "DEMO" in lines and "REAL" not in lines and ui.client.account.loginid in lines
        assert "7.00 USD" in lines
        assert bought(sim) == []  # nothing is bought before the confirmation
        await ui.pilot.press("enter")
        await ui.wait_for(lambda: len(bought(sim)) == 1, "the buy on the simulator")
        (contract,) = bought(sim)
        assert contract.buy_price == 7.0 and contract.terms.contract_type == "CALL"
        await ui.wait_for(lambda: ui.app.screen is ui.app.main_screen, "the ticket to close")
        cid = contract.contract_id
        table = positions(ui).table
        await ui.wait_for(lambda: cid in table.contract_ids(), "the contract's row")
        await ui.wait_for(
            lambda: table.cell_text(cid, "status") in ("won", "lost"), "settlement", timeout=10
        )
        final = sim.accounts[DEMO_TOKEN].balance
        assert final != start
        await ui.wait_for(
            lambda: (
                money(final, "USD") in text_of(ui.app.main_screen.query_one("#account-balance"))
            ),
            "the new balance",
        )
        assert [m.contract_id for m in ui.messages if isinstance(m, BuyFinished)] == [cid]
        assert any(isinstance(m, BalanceChanged) for m in ui.messages)


async def test_a_double_enter_buys_once(sim):
    async with dashboard(sim, ["R_50"]) as ui:
        await open_ticket(ui, "Digits:DIGITEVEN:Even", stake="2", duration="5t")
        ticket(ui).query_one("#ticket-buy", Button).focus()
        await ui.pilot.press("enter")
        await confirm_modal(ui)
        await ui.pilot.press("enter", "enter", "enter")  # confirm, then twice on the ticket
        await ui.wait_for(
            lambda: any(isinstance(m, BuyFinished) for m in ui.messages), "the buy's result"
        )
        await ui.pilot.press("enter")
        await ui.pilot.pause()
        assert len(bought(sim)) == 1
        assert len([m for m in ui.messages if isinstance(m, BuyFinished)]) == 1


async def test_cancelling_the_modal_buys_nothing(sim):
    async with dashboard(sim, ["R_100"]) as ui:
        await open_ticket(ui, "Touch:ONETOUCH:Touch", barrier="+0.5", duration="5m")
        await ui.pilot.press("enter")
        await confirm_modal(ui)
        await ui.pilot.press("escape")
        await ui.wait_for(lambda: isinstance(ui.app.screen, TradeTicket), "back to the ticket")
        assert ticket(ui).query_one("#input-barrier", Input).value == "+0.5"  # nothing lost
        await ui.pilot.press("escape")
        await ui.wait_for(lambda: ui.app.screen is ui.app.main_screen, "the ticket closed")
        assert bought(sim) == []
        assert not any(isinstance(m, BuyFinished) for m in ui.messages)


async def test_bad_inputs_say_why_and_the_quote_follows_the_inputs(sim):
    async with dashboard(sim, ["R_100"]) as ui:
        screen = await open_ticket(ui, "Digits:DIGITMATCH:Matches", digit="5")
        first = quote_text(ui)
        screen.query_one("#input-digit", Input).value = "x"
        await ui.wait_for(lambda: "0-9" in quote_text(ui), "the digit refused")
        assert screen.query_one("#ticket-buy", Button).disabled
        screen.query_one("#input-digit", Input).value = "5"
        screen.query_one("#input-stake", Input).value = "20"
        await ui.wait_for(lambda: "Price 20.00 USD" in quote_text(ui), "the new quote")
        assert first != quote_text(ui)
        screen.query_one("#input-duration", Input).value = "5 weeks"
        await ui.wait_for(lambda: "not a duration" in quote_text(ui), "the duration refused")
        assert bought(sim) == []


async def test_sell_an_open_contract_after_confirming(sim):
    async with DerivClient(sim.url, token=DEMO_TOKEN) as other:
        receipt = await other.buy(ContractSpec("PUT", "R_50", 4, 10, "m"), price=4)
    async with dashboard(sim, ["R_50"]) as ui:
        table = positions(ui).table
        cid = receipt.contract_id
        await ui.wait_for(lambda: cid in table.contract_ids(), "the contract's row")
        table.focus()
        await ui.pilot.press("s")
        modal = await confirm_modal(ui)
        assert str(cid) in " ".join(text_of(label) for label in modal.query(Label))
        await ui.pilot.press("escape")  # first: not sold
        await ui.pilot.pause()
        assert not sim.accounts[DEMO_TOKEN].contracts[cid].is_sold
        await ui.pilot.press("s")
        await confirm_modal(ui)
        await ui.pilot.press("enter", "enter")
        await ui.wait_for(
            lambda: any(isinstance(m, SellFinished) for m in ui.messages), "the sell's result"
        )
        assert sim.accounts[DEMO_TOKEN].contracts[cid].is_sold
        await ui.wait_for(lambda: table.cell_text(cid, "status") == "sold", "the row sold")
        assert len([m for m in ui.messages if isinstance(m, SellFinished)]) == 1


async def test_a_real_account_needs_the_flag_and_the_extra_confirmation(sim):
    async with dashboard(sim, ["R_100"], token=REAL_TOKEN) as ui:
        await open_ticket(ui)
        await ui.pilot.press("enter")
        error = ticket(ui).query_one("#ticket-error", Label)
        await ui.wait_for(lambda: REAL_MONEY_REFUSED in text_of(error), "the refusal")
        assert not isinstance(ui.app.screen, ConfirmTrade)
    async with dashboard(sim, ["R_100"], token=REAL_TOKEN, real_money=True) as ui:
        await open_ticket(ui, stake="3")
        await ui.pilot.press("enter")
        modal = await confirm_modal(ui)
        assert "REAL MONEY" in " ".join(text_of(label) for label in modal.query(Label))
        yes = modal.query_one("#confirm-yes", Button)
        assert yes.disabled
        await ui.pilot.press("enter")  # on the unticked box: ticks it, buys nothing
        await ui.wait_for(lambda: modal.query_one(Checkbox).value, "the box ticked")
        assert bought(sim, REAL_TOKEN) == []
        assert not yes.disabled
        yes.focus()
        await ui.pilot.press("enter")
        await ui.wait_for(lambda: len(bought(sim, REAL_TOKEN)) == 1, "the real buy")


async def test_an_outcome_unknown_buy_is_shown_and_found_after_the_reconnect(sim):
    """An identical contract bought just before is not taken for the lost one: the look-up
    names the contract the lost buy bought."""
    async with dashboard(sim, ["R_50"], retry=RetryPolicy(reconnect_initial=0.3)) as ui:
        await open_ticket(ui, "Rise/Fall:PUT:Fall", stake="6", duration="10m")
        await ui.pilot.press("enter")
        await confirm_modal(ui)
        await ui.pilot.press("enter")
        await ui.wait_for(lambda: len(bought(sim)) == 1, "the first buy on the simulator")
        (first,) = bought(sim)
        table = positions(ui).table
        await ui.wait_for(lambda: first.contract_id in table.contract_ids(), "the first row")

        await open_ticket(ui, "Rise/Fall:PUT:Fall", stake="6", duration="10m")
        await ui.pilot.press("enter")
        await confirm_modal(ui)
        sim.faults.delay = 1.0  # the buy is done at once, its reply held back
        await ui.pilot.press("enter")
        await ui.wait_for(lambda: len(bought(sim)) == 2, "the second buy on the simulator")
        sim.faults.drop_connections()  # the reply is lost with the connection
        sim.faults.delay = 0.0
        await ui.wait_for(
            lambda: any(isinstance(m, BuyFinished) and m.unknown for m in ui.messages),
            "the unknown outcome",
        )
        await ui.wait_for(
            lambda: any("may or may not" in text for text in ui.notifications("warning")),
            "the warning",
        )
        await ui.wait_for(
            lambda: any(isinstance(m, BuyResolved) for m in ui.messages), "the look-up"
        )
        (resolved,) = [m for m in ui.messages if isinstance(m, BuyResolved)]
        (lost,) = [c for c in bought(sim) if c.contract_id != first.contract_id]
        assert resolved.contract_id == lost.contract_id  # found, and never bought twice
        assert resolved.error is None and len(bought(sim)) == 2
        await ui.wait_for(lambda: lost.contract_id in table.contract_ids(), "its row")
        note = text_of(ui.app.main_screen.query_one(AccountPanel).query_one("#account-note"))
        assert "unknown" not in note


async def test_the_look_up_of_a_lost_buy_names_its_contract_or_none(sim, monkeypatch):
    """``resolve_buy`` against the simulator's statement: a contract bought before the quote,
    one known to the dashboard, one of another type, on another symbol, or dearer than the
    quote is never the lost buy; until the buy lands nothing is found; once it has, the
    earliest matching buy is."""
    monkeypatch.setattr(trading, "RESOLVE_PAUSE", 0.0)
    spec = ContractSpec("CALL", "R_100", 5, 5, "m")
    async with DerivClient(sim.url, token=DEMO_TOKEN) as client:
        early = await client.buy(spec, price=5)
        async with asyncio.timeout(10), await client.ticks("R_100") as ticks:
            async for tick in ticks:  # the quote comes a few (simulated) seconds later
                if tick.epoch > early.purchase_time + 2:
                    break
        proposal = await client.proposal(spec)
        assert proposal.spot_time is not None and proposal.spot_time - 1 > early.purchase_time
        known = (await client.buy(spec, price=5)).contract_id
        order = trading.Order(spec, proposal, "VRTC", real=False, known={known})

        async def look_up() -> list[tuple[int | None, str | None]]:
            posted: list[BuyResolved] = []
            await trading.resolve_buy(client, order, posted.append)  # type: ignore[arg-type]
            return [(m.contract_id, m.error) for m in posted]

        assert await look_up() == [(None, None)]
        for other in (
            ContractSpec("PUT", "R_100", 5, 5, "m"),
            ContractSpec("CALL", "R_50", 5, 5, "m"),
            ContractSpec("CALL", "R_100", 7, 5, "m"),
        ):
            await client.buy(other, price=other.amount)
        assert await look_up() == [(None, None)]
        lost = (await client.buy(proposal, price=proposal.ask_price)).contract_id
        await client.buy(spec, price=5)  # a later one, just like it
        assert await look_up() == [(lost, None)]


async def test_the_quote_lives_until_the_buy_is_answered_and_the_ticket_stays_open(
    sim, monkeypatch
):
    """The buy names the quote's proposal, which the server forgets with the quote's stream: a
    buy arriving after that ``forget`` is refused (InvalidContractProposal, seen as a flaky
    buy under load). Here the buy is held back on its way: meanwhile the quote is not
    cancelled and the ticket does not close (either would forget the proposal); released, the
    buy goes through."""
    async with dashboard(sim, ["R_100"]) as ui:
        screen = await open_ticket(ui, "Rise/Fall:CALL:Rise", stake="5", duration="5t")
        client = ui.client
        send = client.request
        held, release = asyncio.Event(), asyncio.Event()

        async def hold_the_buy(payload, *args, **kwargs):
            if "buy" in payload:
                held.set()
                async with asyncio.timeout(10):
                    await release.wait()
            return await send(payload, *args, **kwargs)

        monkeypatch.setattr(client, "request", hold_the_buy)
        await ui.pilot.press("enter")
        await confirm_modal(ui)
        await ui.pilot.press("enter")
        await ui.wait_for(held.is_set, "the buy on its way")
        quotes = [w for w in ui.app.workers if w.group == "quote" and w.node is screen]
        assert quotes and not any(w.is_cancelled or w.is_finished for w in quotes)
        await ui.pilot.press("escape")  # while the buy is under way: the ticket stays
        assert ui.app.screen is screen and not any(w.is_cancelled for w in quotes)
        release.set()
        await ui.wait_for(
            lambda: any(isinstance(m, BuyFinished) for m in ui.messages), "the buy's answer"
        )
        (finished,) = [m for m in ui.messages if isinstance(m, BuyFinished)]
        assert finished.error is None and finished.contract_id is not None
        assert [c.contract_id for c in bought(sim)] == [finished.contract_id]
        await ui.wait_for(lambda: ui.app.screen is ui.app.main_screen, "the ticket closed")

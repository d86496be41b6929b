"""Multipliers, Accumulators (and the ticket's other products) from the dashboard, against the
simulator: bought once through the ticket, their rows with their own columns, take profit
updated, deal cancellation used, an accumulator knocked out shown lost, a multiplier closed by
the server shown won or lost (not "sold"), refusals that name the reason, outcome-unknown
cancels and updates shown as such."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Label, Select

from derivkit.core import (
    AccumulatorSpec,
    ContractOffer,
    ContractSpec,
    DerivClient,
    MultiplierSpec,
    RetryPolicy,
    TurbosSpec,
    VanillaSpec,
)
from derivkit.tui.messages import BuyFinished, CancelFinished, UpdateFinished
from derivkit.tui.products import PRODUCTS, Offers, choice_by_key
from derivkit.tui.screens.confirm import ConfirmTrade
from derivkit.tui.screens.ticket import TradeTicket
from derivkit.tui.screens.update_orders import UpdateOrders, parse_changes
from derivkit.tui.widgets.positions_table import PositionsTable
from tests.tui.conftest import DEMO_TOKEN, Harness, dashboard, text_of
from tests.tui.test_trading import bought, confirm_modal, positions, quote_text, ticket

DC = ["5m", "10m", "15m", "30m", "60m"]


async def fill_ticket(ui: Harness, contract: str, **values: str) -> TradeTicket:
    """Open the ticket, choose ``contract`` and fill in ``values`` (typed or chosen), and wait
    for the quote of exactly these inputs."""
    await ui.pilot.press("t")
    await ui.wait_for(lambda: isinstance(ui.app.screen, TradeTicket), "the ticket")
    screen = ticket(ui)
    select = screen.query_one("#ticket-contract", Select)
    await ui.wait_for(  # the symbol's contract list is in: the choices are the symbol's own
        lambda: contract in screen.options("contract"), "the symbol's contracts"
    )
    select.value = contract
    await ui.wait_for(lambda: screen.choice.key == contract, "the contract chosen")
    for key, value in values.items():
        widget = screen.query_one(f"#input-{key}")
        if isinstance(widget, Select):
            await ui.wait_for(
                lambda k=key, v=value: v in screen.options(k), f"{value} offered for {key}"
            )
        widget.value = value  # type: ignore[union-attr]
    await ui.wait_for(
        lambda: screen.quote_is_current and quote_text(ui).startswith("Price"),
        "a quote for these inputs",
    )
    screen.query_one("#input-stake", Input).focus()  # Enter in an input buys
    return screen


async def buy_through_ticket(ui: Harness, contract: str, **values: str) -> int:
    """Buy through the ticket and the confirmation; the contract id (bought once)."""
    before = len(bought(ui.sim))
    await fill_ticket(ui, contract, **values)
    await ui.pilot.press("enter")
    modal = await confirm_modal(ui)
    lines = " ".join(text_of(label) for label in modal.query(Label))
    assert "DEMO" in lines and ui.client.account is not None
    assert ui.client.account.loginid in lines
    await ui.pilot.press("enter")
    await ui.wait_for(lambda: len(bought(ui.sim)) == before + 1, "the buy on the simulator")
    await ui.wait_for(lambda: ui.app.screen is ui.app.main_screen, "the ticket closed")
    finished = [m for m in ui.messages if isinstance(m, BuyFinished)]
    assert finished[-1].contract_id is not None
    return finished[-1].contract_id


def table(ui: Harness) -> PositionsTable:
    return positions(ui).table


def cell(ui: Harness, contract_id: int, column: str) -> str | None:
    rows = table(ui)
    return rows.cell_text(contract_id, column) if contract_id in rows.contract_ids() else None


def shown_columns(ui: Harness) -> list[str]:
    return [str(column.key.value) for column in table(ui).ordered_columns]


async def select_row(ui: Harness, contract_id: int) -> None:
    rows = table(ui)
    rows.focus()
    rows.move_cursor(row=rows.contract_ids().index(contract_id))
    await ui.pilot.pause()


async def test_a_multiplier_bought_once_its_row_and_its_take_profit_updated(sim):
    async with dashboard(sim, ["R_100"], size=(160, 40)) as ui:
        cid = await buy_through_ticket(
            ui, "Multipliers:MULTUP:Up", stake="10", multiplier="100", take_profit="5"
        )
        (contract,) = bought(sim)
        assert contract.contract_id == cid and contract.buy_price == 10.0
        assert contract.terms.contract_type == "MULTUP"
        await ui.wait_for(lambda: cell(ui, cid, "stop_out") not in (None, "-"), "the stop out")
        assert cell(ui, cid, "take_profit") == "5.00" and cell(ui, cid, "stop_loss") == "-"
        assert cell(ui, cid, "type") == "MULTUP" and cell(ui, cid, "status") == "open"
        columns = shown_columns(ui)
        assert {"take_profit", "stop_loss", "stop_out"} <= set(columns)
        assert "ticks" not in columns  # no accumulator: no ticks column

        await select_row(ui, cid)
        await ui.wait_for(lambda: "u take profit" in str(positions(ui).border_subtitle), "hint")
        await ui.pilot.press("u")
        await ui.wait_for(lambda: isinstance(ui.app.screen, UpdateOrders), "the update form")
        form = ui.app.screen
        assert form.query_one("#update-take_profit", Input).value == "5.00"
        form.query_one("#update-take_profit", Input).value = "8"
        form.query_one("#update-stop_loss", Input).value = "3"
        await ui.pilot.press("enter")
        modal = await confirm_modal(ui)
        lines = " ".join(text_of(label) for label in modal.query(Label))
        assert "5.00 USD → 8.00 USD" in lines and "none → 3.00 USD" in lines
        assert not any(isinstance(m, UpdateFinished) for m in ui.messages)  # nothing sent yet
        await ui.pilot.press("enter", "enter")  # a second Enter sends nothing more
        await ui.wait_for(
            lambda: any(isinstance(m, UpdateFinished) for m in ui.messages), "the update's reply"
        )
        (finished,) = [m for m in ui.messages if isinstance(m, UpdateFinished)]
        assert finished.error is None and (finished.take_profit, finished.stop_loss) == (8.0, 3.0)
        await ui.wait_for(lambda: cell(ui, cid, "take_profit") == "8.00", "the new take profit")
        assert cell(ui, cid, "stop_loss") == "3.00"
        async with DerivClient(sim.url, token=DEMO_TOKEN) as direct:  # the server's side
            history = await direct.contract_update_history(cid)
        newest = {}
        for entry in reversed(history):  # newest first: the last written wins
            newest[entry.order_type] = entry.order_amount
        assert newest == {"take_profit": 8.0, "stop_loss": -3.0}  # a loss is negative


async def test_a_multiplier_with_deal_cancellation_is_cancelled_after_confirming(sim):
    async with dashboard(sim, ["R_100"], size=(160, 40)) as ui:
        start = ui.client.account.balance
        await fill_ticket(ui, "Multipliers:MULTDOWN:Down", stake="10", cancellation="60m")
        assert "deal cancellation" in quote_text(ui)  # its fee, said before buying
        await ui.pilot.press("enter")
        modal = await confirm_modal(ui)
        assert "deal cancellation 60m" in " ".join(text_of(x) for x in modal.query(Label))
        await ui.pilot.press("enter")
        await ui.wait_for(lambda: len(bought(sim)) == 1, "the buy")
        (contract,) = bought(sim)
        cid = contract.contract_id
        assert contract.buy_price > 10.0  # the stake and the fee
        await ui.wait_for(lambda: cid in table(ui).contract_ids(), "the row")
        await select_row(ui, cid)
        await ui.wait_for(
            lambda: "c cancel until" in str(positions(ui).border_subtitle), "cancel offered"
        )
        await ui.pilot.press("c")
        modal = await confirm_modal(ui)
        lines = " ".join(text_of(label) for label in modal.query(Label))
        assert "You get the stake back: 10.00 USD" in lines and "not refunded" in lines
        await ui.pilot.press("escape")  # first: not cancelled
        await ui.pilot.pause()
        assert not contract.is_sold
        await ui.pilot.press("c")
        await confirm_modal(ui)
        await ui.pilot.press("enter", "enter")
        await ui.wait_for(
            lambda: any(isinstance(m, CancelFinished) for m in ui.messages), "the cancel's reply"
        )
        (finished,) = [m for m in ui.messages if isinstance(m, CancelFinished)]
        assert finished.sold_for == 10.0 and finished.error is None
        await ui.wait_for(lambda: cell(ui, cid, "status") == "cancelled", "the row cancelled")
        assert contract.is_sold
        fee = round(contract.buy_price - 10.0, 2)
        assert sim.accounts[DEMO_TOKEN].balance == pytest.approx(start - fee)


async def test_the_quote_follows_a_multipliers_inputs_and_the_symbols_own_ranges(sim):
    async with dashboard(sim, ["R_100", "BOOM1000"], size=(120, 40)) as ui:
        screen = await fill_ticket(ui, "Multipliers:MULTUP:Up", multiplier="100")
        first = quote_text(ui)
        assert "commission 0.50 USD" in first and "stop out at" in first
        screen.query_one("#input-multiplier", Select).value = "50"
        await ui.wait_for(lambda: "commission 0.25 USD" in quote_text(ui), "the new quote")
        screen.query_one("#input-take_profit", Input).value = "5"
        screen.query_one("#input-cancellation", Select).value = "60m"
        await ui.wait_for(lambda: "cannot be combined" in quote_text(ui), "the refusal")
        assert screen.query_one("#ticket-buy").disabled
        screen.query_one("#input-take_profit", Input).value = ""
        await ui.wait_for(lambda: "(deal cancellation" in quote_text(ui), "the fee quoted")
        await ui.pilot.press("escape")
        await ui.wait_for(lambda: ui.app.screen is ui.app.main_screen, "the ticket closed")

        await ui.pilot.press("down")  # BOOM1000: its own multipliers, no deal cancellation
        await ui.wait_for(lambda: ui.table.selected_symbol == "BOOM1000", "BOOM1000 selected")
        screen = await fill_ticket(ui, "Multipliers:MULTUP:Up")
        assert screen.options("multiplier") == ["100", "200", "300", "400"]
        assert screen.options("cancellation") == [""]  # none only
        offered = screen.options("contract")
        assert not any(key.startswith(("Accumulators", "Vanillas", "Digits")) for key in offered)
        assert bought(sim) == []


async def test_an_accumulator_through_the_ticket_its_row_and_a_knock_out_shown_lost(sim):
    """Growth 5 % a tick: each accumulator is knocked out with 5.35 % a tick, so it reaches
    its 60 ticks with 3.7 %; buying until one is knocked out ends by the fifth at the latest
    but about once in two million runs."""
    async with dashboard(sim, ["1HZ100V"], size=(160, 40)) as ui:
        outcomes = []
        for _ in range(5):
            cid = await buy_through_ticket(
                ui, "Accumulators:ACCU:Accumulate", stake="10", growth_rate="0.05"
            )
            await ui.wait_for(lambda c=cid: cell(ui, c, "ticks") is not None, "the row")
            columns = shown_columns(ui)
            assert {"take_profit", "barrier", "ticks"} <= set(columns)
            assert "stop_loss" not in columns and "stop_out" not in columns
            assert cell(ui, cid, "type") == "ACCU" and cell(ui, cid, "take_profit") == "-"
            await ui.wait_for(
                lambda c=cid: cell(ui, c, "status") in ("won", "lost"), "the end", timeout=10
            )
            contract = sim.accounts[DEMO_TOKEN].contracts[cid]
            status = cell(ui, cid, "status")
            outcomes.append(status)
            ticks = cell(ui, cid, "ticks")
            assert ticks is not None and ticks.endswith("/60")
            if status == "lost":  # knocked out: worth nothing
                assert contract.sell_price == 0.0 and cell(ui, cid, "value") == "0.00"
                assert cell(ui, cid, "profit") == "-10.00"
                break
            assert int(ticks.split("/")[0]) == 60  # won: it reached its last tick
        assert outcomes[-1] == "lost", outcomes


async def test_an_accumulators_take_profit_cannot_be_updated(sim):
    async with dashboard(sim, ["R_50"], size=(160, 40)) as ui:
        sim.faults.pause_symbol("R_50")  # no tick, no knock-out: the contract stays open
        cid = await buy_through_ticket(
            ui, "Accumulators:ACCU:Accumulate", growth_rate="0.01", take_profit="50"
        )
        await ui.wait_for(lambda: cell(ui, cid, "take_profit") == "50.00", "its take profit")
        assert cell(ui, cid, "status") == "open"
        await select_row(ui, cid)
        await ui.pilot.press("u")
        await ui.wait_for(
            lambda: any("fixed at purchase" in n for n in ui.notifications()), "the refusal"
        )
        assert not isinstance(ui.app.screen, UpdateOrders)
        await ui.pilot.press("c")
        await ui.wait_for(
            lambda: any("cannot be cancelled" in n for n in ui.notifications()), "no cancel"
        )
        assert not isinstance(ui.app.screen, ConfirmTrade)


async def test_a_multiplier_the_server_closed_shows_its_outcome_not_sold(sim):
    """Stop out closes a multiplier with ``status: null``; the row says won or lost."""
    spec = MultiplierSpec("MULTUP", "1HZ100V", 10, 100, take_profit=0.5, stop_loss=0.5)
    async with dashboard(sim, ["1HZ100V"], size=(160, 40)) as ui:
        receipt = await ui.client.buy(spec, price=10)
        cid = receipt.contract_id
        await ui.wait_for(
            lambda: cell(ui, cid, "status") in ("won", "lost", "sold"), "the close", timeout=10
        )
        contract = sim.accounts[DEMO_TOKEN].contracts[cid]
        expected = "won" if contract.sell_price > contract.buy_price else "lost"
        assert cell(ui, cid, "status") == expected


async def test_an_outcome_unknown_cancel_is_shown_and_never_re_sent(sim):
    async with dashboard(
        sim, ["R_100"], size=(160, 40), retry=RetryPolicy(reconnect_initial=0.3)
    ) as ui:
        spec = MultiplierSpec("MULTUP", "R_100", 10, 100, cancellation="60m")
        cid = (await ui.client.buy(spec, price=20)).contract_id
        await ui.wait_for(lambda: cid in table(ui).contract_ids(), "the row")
        await select_row(ui, cid)
        await ui.wait_for(lambda: "c cancel" in str(positions(ui).border_subtitle), "cancel")
        await ui.pilot.press("c")
        await confirm_modal(ui)
        sim.faults.delay = 30.0  # the cancel is done at once, its reply held back
        await ui.pilot.press("enter")
        await ui.wait_for(lambda: sim.accounts[DEMO_TOKEN].contracts[cid].is_sold, "the cancel")
        sim.faults.drop_connections()  # the reply is lost with the connection
        sim.faults.delay = 0.0
        await ui.wait_for(
            lambda: any(isinstance(m, CancelFinished) and m.unknown for m in ui.messages),
            "the unknown outcome",
        )
        assert any("may or may not" in text for text in ui.notifications("warning"))
        # the row said "unknown" until the server's next word on the contract: cancelled
        await ui.wait_for(lambda: cell(ui, cid, "status") == "cancelled", "the server's word")
        assert len([m for m in ui.messages if isinstance(m, CancelFinished)]) == 1


def test_every_product_type_has_a_choice_and_fields_keep_their_kind():
    types = {choice.contract_type for product in PRODUCTS for choice in product.choices()}
    assert {
        "MULTUP",
        "MULTDOWN",
        "ACCU",
        "TURBOSLONG",
        "TURBOSSHORT",
        "VANILLALONGCALL",
        "VANILLALONGPUT",
        "CALLE",
        "PUTE",
        "EXPIRYRANGE",
        "EXPIRYMISS",
        "RANGE",
        "UPORDOWN",
        "ASIANU",
        "ASIAND",
        "TICKHIGH",
        "TICKLOW",
        "RUNHIGH",
        "RUNLOW",
    } <= types
    from derivkit.tui.screens.ticket import _all_fields

    assert len({field.key for field in _all_fields()}) == len(_all_fields())


def test_product_specs_from_what_was_entered():
    def spec(key: str, **values: str):
        choice = choice_by_key(key)
        assert choice is not None
        return choice.product.spec(choice, "R_100", {"stake": "10", **values}, "USD")

    multiplier = spec("Multipliers:MULTUP:Up", multiplier="100", take_profit="5", stop_loss="")
    assert (multiplier.multiplier, multiplier.take_profit, multiplier.stop_loss) == (100, 5, None)
    with pytest.raises(ValueError, match="cannot be combined"):
        spec("Multipliers:MULTUP:Up", multiplier="100", take_profit="5", cancellation="60m")
    with pytest.raises(ValueError, match="Take profit must be a number"):
        spec("Multipliers:MULTUP:Up", multiplier="100", take_profit="lots")
    turbos = spec("Turbos:TURBOSLONG:Long", duration="5t", turbos="p:2.4")
    assert (turbos.barrier, turbos.payout_per_point) == (None, 2.4)
    assert spec("Turbos:TURBOSSHORT:Short", duration="1m", turbos="b:+5.03").barrier == "+5.03"
    with pytest.raises(ValueError, match="timed duration"):
        spec("Vanillas:VANILLALONGCALL:Call", duration="5t", strike="+0.00")
    ranged = spec("Stays in/out:RANGE:Stays between", duration="5m", high="+1", low="-1")
    assert (ranged.barrier, ranged.barrier2, ranged.duration_unit) == ("+1", "-1", "m")
    ticks = spec("High/Low ticks:TICKHIGH:High tick", tick="3")
    assert (ticks.selected_tick, ticks.duration, ticks.duration_unit) == (3, 5, "t")
    choice = choice_by_key("Multipliers:MULTUP:Up")
    assert choice is not None
    fields = {f.key: f for f in choice.product.fields(choice, Offers(), {})}
    assert [v for _, v in fields["cancellation"].options or ()][0] == ""  # none first


def test_every_product_of_the_ticket_becomes_the_spec_its_fields_say():
    """Each product's fields land in the right terms of the spec (checked against specs built
    by hand), and what the ticket itself refuses keeps its own words."""

    def spec(key: str, **values: str):
        choice = choice_by_key(key)
        assert choice is not None
        return choice.product.spec(choice, "R_100", {"stake": "10.004", **values}, "USD")

    assert spec("Multipliers:MULTDOWN:Down", multiplier="50", cancellation="60m") == (
        MultiplierSpec("MULTDOWN", "R_100", 10.0, 50, cancellation="60m")
    )
    assert spec("Multipliers:MULTUP:Up", multiplier="20", take_profit="4", stop_loss="2.5") == (
        MultiplierSpec("MULTUP", "R_100", 10.0, 20, take_profit=4, stop_loss=2.5)
    )
    assert spec("Accumulators:ACCU:Accumulate", growth_rate="0.02", take_profit="3") == (
        AccumulatorSpec("R_100", 10.0, 0.02, 3.0)
    )
    assert spec("Turbos:TURBOSSHORT:Short", duration="2m", turbos="b:+5.03", take_profit="6") == (
        TurbosSpec("TURBOSSHORT", "R_100", 10.0, 2, "m", barrier="+5.03", take_profit=6.0)
    )
    assert spec("Vanillas:VANILLALONGPUT:Put", duration="1h", strike="-1.20") == (
        VanillaSpec("VANILLALONGPUT", "R_100", 10.0, 1, "h", "-1.20")
    )
    assert spec("Touch:NOTOUCH:No touch", duration="30s", barrier="+1.5") == (
        ContractSpec("NOTOUCH", "R_100", 10.0, 30, "s", barrier="+1.5")
    )
    assert spec("Digits:DIGITEVEN:Even", duration="5t", digit="") == (
        ContractSpec("DIGITEVEN", "R_100", 10.0, 5, "t")
    )
    with pytest.raises(ValueError, match="^choose a strike \\(the symbol's list\\)$"):
        spec("Vanillas:VANILLALONGCALL:Call", duration="5m", strike="")
    with pytest.raises(ValueError, match="^choose a barrier or a payout per point"):
        spec("Turbos:TURBOSLONG:Long", duration="5t", turbos="")
    with pytest.raises(ValueError, match="^choose a growth rate$"):
        spec("Accumulators:ACCU:Accumulate", growth_rate=" ")
    with pytest.raises(ValueError, match="^Matches needs a digit$"):
        spec("Digits:DIGITMATCH:Matches", duration="5t", digit="")
    with pytest.raises(ValueError, match="Stake must be more than 0"):
        spec("Multipliers:MULTUP:Up", stake="0", multiplier="100")
    with pytest.raises(ValueError, match="^Take profit must be more than 0$"):
        spec("Turbos:TURBOSLONG:Long", duration="5t", turbos="p:2", take_profit="-1")
    with pytest.raises(ValueError, match="duration"):
        spec("Turbos:TURBOSLONG:Long", duration="soon", turbos="p:2")


def test_the_tickets_choices_are_the_offers_own_or_the_defaults_before_it_is_known():
    def options(key: str, offers: Offers, **values: str) -> dict[str, list[str]]:
        choice = choice_by_key(key)
        assert choice is not None
        fields = choice.product.fields(choice, offers, values)
        return {f.key: [v for _, v in f.options or ()] for f in fields if f.is_choice}

    before = options("Multipliers:MULTUP:Up", Offers())
    assert before == {"multiplier": ["10", "20", "30", "50", "100"], "cancellation": ["", *DC]}
    assert options("Accumulators:ACCU:Accumulate", Offers())["growth_rate"][0] == "0.01"
    offer = ContractOffer(
        contract_type="MULTUP", multiplier_range=[100.0, 200.0], cancellation_range=[]
    )
    assert options("Multipliers:MULTUP:Up", Offers([offer], loaded=True)) == {
        "multiplier": ["100", "200"],
        "cancellation": [""],
    }
    empty = Offers([ContractOffer(contract_type="MULTUP")], loaded=True)
    choice = choice_by_key("Multipliers:MULTUP:Up")
    assert choice is not None
    (multiplier,) = [f for f in choice.product.fields(choice, empty, {}) if f.key == "multiplier"]
    assert (multiplier.default, multiplier.options) == ("", ())  # none offered: none to choose
    turbos = [
        ContractOffer(contract_type="TURBOSLONG", expiry_type="tick", barrier_choices=["-1.1"]),
        ContractOffer(
            contract_type="TURBOSLONG",
            expiry_type="intraday",
            barrier_choices=["-2.2", "-3.3"],
            payout_choices=[0.5],
            barrier="-3.3",
        ),
    ]
    loaded = Offers(turbos, loaded=True)
    assert options("Turbos:TURBOSLONG:Long", loaded, duration="5t") == {"turbos": ["b:-1.1"]}
    assert options("Turbos:TURBOSLONG:Long", loaded, duration="5m") == {
        "turbos": ["b:-2.2", "b:-3.3", "p:0.5"]
    }
    choice = choice_by_key("Turbos:TURBOSLONG:Long")
    assert choice is not None
    fields = choice.product.fields(choice, loaded, {"duration": "5m"})
    assert [f.default for f in fields if f.key == "turbos"] == ["b:-3.3"]


def test_update_changes_are_only_what_changed():
    current = {"take_profit": 5.0, "stop_loss": None}
    assert parse_changes({"take_profit": "5.00", "stop_loss": ""}, current) == {}
    assert parse_changes({"take_profit": "", "stop_loss": "3"}, current) == {
        "take_profit": None,
        "stop_loss": 3.0,
    }
    with pytest.raises(ValueError, match="Stop loss must be more than 0"):
        parse_changes({"take_profit": "5", "stop_loss": "-1"}, current)


def passed_a_tick_or_ended(ui: Harness, contract_id: int) -> bool:
    """The accumulator's row shows a tick passed since its entry, or that it ended."""
    status, ticks = cell(ui, contract_id, "status"), cell(ui, contract_id, "ticks")
    if status is None or ticks is None:
        return False  # no row yet
    return status != "open" or int(ticks.split("/")[0]) >= 1


async def test_an_accumulator_sold_from_the_dashboard_shows_won_at_its_sell_price(sim):
    """A sell is only allowed after the entry tick, at a profit (Deriv then says ``won``). The
    symbol is paused once a tick has passed, so the sell races no knock-out; one knocked out
    before the pause (1.5 % a tick at 1 % growth) is replaced, five times at most."""
    async with dashboard(sim, ["R_50"], size=(160, 40)) as ui:
        for _ in range(5):
            cid = await buy_through_ticket(
                ui, "Accumulators:ACCU:Accumulate", stake="10", growth_rate="0.01"
            )
            await ui.wait_for(lambda c=cid: passed_a_tick_or_ended(ui, c), "a tick passed")
            sim.faults.pause_symbol("R_50")
            contract = sim.accounts[DEMO_TOKEN].contracts[cid]
            if not contract.is_sold:
                break
            sim.faults.resume_symbol("R_50")
        assert not contract.is_sold, "five accumulators knocked out in a row"
        await select_row(ui, cid)
        await ui.wait_for(lambda: "s sell" in str(positions(ui).border_subtitle), "sell offered")
        await ui.pilot.press("s")
        modal = await confirm_modal(ui)
        assert str(cid) in " ".join(text_of(label) for label in modal.query(Label))
        await ui.pilot.press("enter", "enter")
        await ui.wait_for(lambda: cell(ui, cid, "status") == "won", "the row won")
        assert contract.is_sold and contract.sell_price > 10.0
        assert cell(ui, cid, "value") == f"{contract.sell_price:.2f}"
        assert cell(ui, cid, "profit") == f"+{contract.sell_price - 10.0:.2f}"
        sells = [t for t in sim.accounts[DEMO_TOKEN].transactions if t.action_type == "sell"]
        assert [t.contract.contract_id for t in sells].count(cid) == 1  # sold once


async def test_at_80x24_a_multiplier_and_an_accumulator_show_their_own_columns(sim):
    """Take profit, stop loss, barrier distance and ticks all on screen at 80 columns (the
    multiplier's stop out is the column left out for them)."""
    async with dashboard(sim, ["R_100", "R_50"], size=(80, 24)) as ui:
        multiplier = MultiplierSpec("MULTUP", "R_100", 10, 100, take_profit=5, stop_loss=3)
        mult = (await ui.client.buy(multiplier, price=10)).contract_id
        sim.faults.pause_symbol("R_50")  # no entry tick: it cannot be knocked out; it holds still
        accu = (await ui.client.buy(AccumulatorSpec("R_50", 10, 0.01), price=10)).contract_id
        await ui.wait_for(
            lambda: (
                (cell(ui, accu, "barrier") or "").startswith("±")
                and "/" in (cell(ui, accu, "ticks") or "")
            ),
            "the accumulator's barrier and ticks",
        )
        reply = await ui.client.request({"proposal_open_contract": 1, "contract_id": accu})
        state = reply["proposal_open_contract"]
        distance = f"±{state['barrier_spot_distance']}"
        ticks = f"{state['tick_passed']}/{state['tick_count']}"
        await ui.wait_for(
            lambda: (cell(ui, accu, "barrier"), cell(ui, accu, "ticks")) == (distance, ticks),
            f"the server's barrier distance {distance} and ticks {ticks}",
        )
        assert (cell(ui, mult, "take_profit"), cell(ui, mult, "stop_loss")) == ("5.00", "3.00")
        assert cell(ui, accu, "take_profit") == "-"
        assert cell(ui, mult, "barrier") == cell(ui, mult, "ticks") == ""  # not its terms
        shown = shown_columns(ui)
        assert shown == ["type", "profit", "status", "take_profit", "stop_loss", "barrier", "ticks"]
        rows = table(ui)
        await ui.wait_for(  # every column within the panel: nothing to scroll sideways for
            lambda: rows.virtual_size.width <= rows.size.width, "the columns within the panel"
        )
        assert positions(ui).region.right <= 80

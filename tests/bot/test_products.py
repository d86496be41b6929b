"""Multipliers, Accumulators, Turbos and Vanillas from Telegram, end to end: /buy of each product
through the Confirm card, /update and /cancel (confirmed, sent once, refused in clear words
when they cannot work), and the settlement told with how the product really ended, checked
against what the simulator did."""

from __future__ import annotations

import re
import time

import pytest

from tests.bot.conftest import DEMO_TOKEN, OWNER, REAL_TOKEN, wait_until


@pytest.fixture
def start(start_bot):
    """``start_bot`` without the per-user flood limits: these tests trade many times a minute."""

    async def started(**options):
        bot = await start_bot(**options)
        bot.rt.limits.per_minute = 600
        bot.rt.limits.trade_gap = 1e-6  # a confirm right after a refused one is not a flood here
        return bot

    return started


async def confirm(bot, card, label):
    """Tap ``label`` on ``card``; returns the result that replaces the card."""
    await bot.tap(card, label)
    sending = await bot.api.next_bot_message(chat_id=OWNER)
    assert sending["message_id"] == card["message_id"] and "Sending" in sending["text"]
    done = await bot.api.next_bot_message(chat_id=OWNER, timeout=10)
    assert done["message_id"] == card["message_id"]
    return done


async def bought(bot, command):
    """Buy through the card; returns (the card, the result, the simulator's contract)."""
    card = await bot.send(command)
    assert card["buttons"] == ["Buy", "Cancel"], card["text"]
    done = await confirm(bot, card, "Buy")
    match = re.search(r"Bought contract (\d+)", done["text"])
    assert match, done["text"]
    return card, done, bot.account(DEMO_TOKEN).contracts[int(match.group(1))]


async def settlement_of(bot, contract_id, timeout=20.0):
    """The settlement notice of ``contract_id`` (other messages in between are skipped)."""
    while True:
        message = await bot.api.next_bot_message(chat_id=OWNER, timeout=timeout)
        if f"Contract {contract_id} (" in message["text"]:
            return message["text"]


def money_of(contract) -> float:
    """What the simulator's contract made in money: sold for less paid (fees included)."""
    return round(contract.sell_price - contract.buy_price, 2)


async def test_a_multiplier_is_bought_updated_and_closed_by_its_new_take_profit_or_stop_loss(start):
    bot = await start()
    card, done, contract = await bought(bot, "/buy 1hz100v MULTUP 10 x100 tp=5 sl=3")
    assert "MULTUP on 1HZ100V, x100, no expiry" in card["text"]
    assert "Take profit: 5.00 USD at" in card["text"] and "Stop out:" in card["text"]
    assert "Stop loss: -3.00 USD at" in card["text"] and "DEMO" in card["text"]
    cid = contract.contract_id
    assert contract.terms.multiplier == 100 and contract.buy_price == 10
    assert f"/update {cid}" in done["text"]

    await wait_until(lambda: contract.book.entry is not None)
    bot.sim.faults.pause_symbol("1HZ100V")  # its value stands still while we change orders
    profit = contract.profit(bot.sim.clock.now())
    assert not contract.is_sold

    for bad, reason in [
        (f"/update {cid} tp=abc", "'abc' is not an amount"),
        (f"/update {cid} size=3", "I do not understand size=3"),
        (f"/update {cid}", "Usage: /update"),
        (f"/cancel {cid}", "bought without deal cancellation"),
        ("/cancel 999999", "no contract 999999"),
    ]:
        assert reason in (await bot.send(bad))["text"], bad

    refused_card = await bot.send(f"/update {cid} tp=600")
    refused = await confirm(bot, refused_card, "Update")
    assert (
        "Not updated: Please enter a take profit amount that's lower than 500.00"
        in (refused["text"])
    )
    assert contract.book.orders["take_profit"].amount == 5  # unchanged

    take_profit = round(max(profit, 0) + 0.3, 2)
    stop_loss = round(max(-profit, 0) + 0.3, 2)
    card = await bot.send(f"/update {cid} tp={take_profit} sl={stop_loss}")
    assert card["buttons"] == ["Update", "Cancel"]
    assert "Take profit: 5.00 USD (at" in card["text"]
    assert f"→ {take_profit:.2f} USD" in card["text"] and f"→ {stop_loss:.2f} USD" in card["text"]
    assert contract.book.orders["stop_loss"].amount == -3  # nothing sent before the tap
    data = card["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    done = await confirm(bot, card, "Update")
    assert f"Updated contract {cid}: take profit {take_profit:.2f} USD (at" in done["text"]
    assert f"stop loss {stop_loss:.2f} USD (at" in done["text"]
    assert contract.book.orders["take_profit"].amount == take_profit
    assert contract.book.orders["stop_loss"].amount == -stop_loss
    replay = bot.api.user_taps(card["message_id"], data=data, user_id=OWNER, strict=False)
    assert "expired" in (await bot.answer_to(replay))["text"]
    assert len([h for h in contract.history if h["order_type"] == "take_profit"]) == 2  # once

    bot.sim.faults.resume_symbol("1HZ100V")
    text = await settlement_of(bot, cid)
    assert contract.is_sold and contract.status is None  # closed by an order
    hit_take_profit = contract.exit[1] >= contract.book.orders["take_profit"].barrier
    assert ("take profit reached" if hit_take_profit else "stop loss reached") in text
    made = money_of(contract)
    assert f"{'won' if made > 0 else 'lost'}: {'+' if made > 0 else ''}{made:.2f} USD" in text
    entry = await bot.storage.journal_for_contract(cid)
    assert entry.status == "settled" and entry.profit == made


async def test_a_multiplier_with_deal_cancellation_is_cancelled_once(start):
    bot = await start()
    card, done, contract = await bought(bot, "/buy R_100 MULTUP 10 x100 dc=60m")
    assert "Deal cancellation:" in card["text"] and "(not refunded)" in card["text"]
    fee = round(contract.buy_price - 10, 2)
    assert fee > 0 and f"You pay: {contract.buy_price:.2f} USD" in card["text"]
    cid = contract.contract_id
    assert f"/cancel {cid}" in done["text"]

    refused = await bot.send(f"/update {cid} tp=5")
    assert "While deal cancellation lasts" in refused["text"]
    await wait_until(lambda: bot.sim.clock.epoch() > contract.date_start)  # not its first second

    kept = await bot.send(f"/cancel {cid}")
    assert kept["buttons"] == ["Cancel the contract", "Keep it"]
    await bot.tap(kept, "Keep it")
    assert "Kept: nothing was sent" in (await bot.api.next_bot_message(chat_id=OWNER))["text"]
    assert not contract.is_sold

    card = await bot.send(f"/cancel {cid}")
    assert "You get the stake back: 10.00 USD" in card["text"]
    assert f"fee, {fee:.2f} USD, is not refunded" in card["text"]
    done = await confirm(bot, card, "Cancel the contract")
    assert f"Cancelled contract {cid}: 10.00 USD back" in done["text"]
    assert contract.status == "cancelled"
    assert (await bot.client.balance()).balance == round(10_000 - fee, 2)

    text = await settlement_of(bot, cid)
    assert f"lost: -{fee:.2f} USD — cancelled with deal cancellation" in text
    assert "already settled" in (await bot.send(f"/cancel {cid}"))["text"]
    sells = [t for t in bot.account(DEMO_TOKEN).transactions if t.action_type == "sell"]
    assert len(sells) == 1


async def test_a_cancellation_after_its_window_is_refused_in_clear_words(start):
    bot = await start(speed=150)  # 5 simulated minutes in 2 real seconds
    _, _, contract = await bought(bot, "/buy R_100 MULTDOWN 10 x10 dc=5m")
    await wait_until(lambda: bot.sim.clock.epoch() > contract.date_start + 300, timeout=10)
    refused = await bot.send(f"/cancel {contract.contract_id}")
    assert "deal cancellation of contract" in refused["text"]
    assert "it can no longer be cancelled" in refused["text"] and "/sell" in refused["text"]
    assert not refused["buttons"] and not contract.is_sold


async def test_an_accumulator_is_bought_and_settles_by_knock_out_or_take_profit(start):
    bot = await start()
    card, done, contract = await bought(bot, "/buy R_100 ACCU 10 growth=1% tp=2")
    assert "ACCU on R_100, 1 % a tick" in card["text"] and "Barriers:" in card["text"]
    assert "Take profit: 2.00 USD" in card["text"]
    assert contract.terms.growth_rate == 0.01 and contract.buy_price == 10
    cid = contract.contract_id
    bot.sim.faults.pause_symbol("R_100")  # it stays open while we try to change it
    if not contract.is_sold:
        refused = await bot.send(f"/update {cid} tp=3")
        assert "An accumulator's take profit is set when it is bought" in refused["text"]
        refused = await bot.send(f"/cancel {cid}")
        assert "is an ACCU, not a multiplier" in refused["text"]
    bot.sim.faults.resume_symbol("R_100")

    text = await settlement_of(bot, cid)
    assert contract.is_sold
    expected = "knocked out" if contract.status == "lost" else "take profit reached"
    assert f"— {expected}" in text
    made = money_of(contract)
    assert (made == -10) == (contract.status == "lost")
    assert f"{'+' if made > 0 else ''}{made:.2f} USD" in text


async def test_a_turbos_is_bought_at_an_offered_barrier_and_a_wrong_one_is_refused(start):
    bot = await start()
    offers = await bot.client.contracts_for("R_100")
    (ticks,) = [o for o in offers if o.contract_type == "TURBOSLONG" and o.expiry_type == "tick"]
    barrier = ticks.barrier_choices[len(ticks.barrier_choices) // 2]

    wrong = await bot.send("/buy R_100 TURBOSLONG 10 5t -1.23")
    assert wrong["text"].startswith("❌ Barriers available are") and not wrong["buttons"]
    quote = await bot.send(f"/quote R_100 TURBOSSHORT 10 5t ppp={ticks.payout_choices[0]:g}")
    assert "TURBOSSHORT on R_100, 5t" in quote["text"] and "To buy it: /buy" in quote["text"]

    card, done, contract = await bought(bot, f"/buy r_100 turboslong 10 5t {barrier}")
    assert "TURBOSLONG on R_100, 5t" in card["text"] and "Per point:" in card["text"]
    assert "Change its take profit" in done["text"]
    assert contract.contract_type == "TURBOSLONG" and contract.buy_price == 10
    refused = await bot.send(f"/update {contract.contract_id} sl=2")
    assert "A turbos has no stop loss" in refused["text"] or "already settled" in refused["text"]

    text = await settlement_of(bot, contract.contract_id)
    knocked = contract.status == "lost" and not contract.sell_price
    assert ("— knocked out" if knocked else "— expired") in text


async def test_a_vanilla_is_bought_with_a_strike_and_expires(start):
    bot = await start()
    card, _, contract = await bought(bot, "/buy R_100 VANILLALONGCALL 10 1m +0.00")
    assert "VANILLALONGCALL on R_100, 1m" in card["text"]
    assert "Strike:" in card["text"] and "Contracts:" in card["text"]
    assert contract.contract_type == "VANILLALONGCALL" and contract.buy_price == 10
    text = await settlement_of(bot, contract.contract_id)
    assert "— expired" in text
    made = money_of(contract)
    assert f"{'+' if made > 0 else ''}{made:.2f} USD" in text


async def test_bad_product_terms_are_refused_in_clear_words_and_buy_nothing(start):
    bot = await start()
    cases = [
        ("/buy R_100 MULTUP 10", "MULTUP needs multiplier= (see /contracts R_100)."),
        ("/buy R_100 MULTUP 10 5t x100", "MULTUP has no expiry: leave out the duration"),
        ("/buy R_100 CALL 10 5t x100", "multiplier= is for MULTUP/MULTDOWN contracts, not CALL"),
        ("/buy R_100 MULTUP 10 x100 dc=60m tp=5", "cannot be combined with take profit"),
        ("/buy R_100 MULTUP 10 x100 dc=7m", "deal cancellation is one of 5m, 10m"),
        ("/buy R_100 MULTUP 10 x15", "❌ Multiplier is not in acceptable range."),
        ("/buy R_100 ACCU 10", "ACCU needs growth_rate= (growth=)"),
        ("/buy R_100 ACCU 10 growth=abc", "growth= must be a number, got 'abc'"),
        ("/buy R_100 ACCU 10 growth=1% sl=2", "stop_loss= (sl=) is for MULTUP/MULTDOWN"),
        ("/buy R_100 ACCU 10 size=2", "Unknown option size=."),
        ("/buy R_100 ACCU 10 tp=1 tp=2", "tp= is given twice."),
        ("/buy R_100 TURBOSLONG 10 5t", "TURBOSLONG needs the barrier"),
        (
            "/buy R_100 VANILLALONGCALL 10 5t +0.00",
            "takes a timed duration (1m, 1h, 1d), not ticks",
        ),
        ("/buy R_100 VANILLALONGPUT 10 5m", "VANILLALONGPUT needs strike="),
        ("/buy R_100 MULTUP -5 x100", "The stake must be positive."),
    ]
    for command, reason in cases:
        answer = await bot.send(command)
        assert reason in answer["text"], (command, answer["text"])
        assert not answer["buttons"], command
    assert await bot.client.portfolio() == []


async def test_product_buys_pass_the_same_caps_as_every_buy(start):
    bot = await start(max_stake=10, max_open=1)
    above = await bot.send("/buy R_100 MULTUP 11 x100")
    assert "Refused: 11.00 USD is above this bot's limit of 10.00 USD" in above["text"]
    with_fee = await bot.send("/buy R_100 MULTUP 10 x100 dc=60m")  # 10 staked, 10.xx paid
    assert "the price asked" in with_fee["text"] and "limit of 10.00 USD" in with_fee["text"]
    await bought(bot, "/buy R_100 MULTUP 5 x10")
    full = await bot.send("/buy R_100 ACCU 5 growth=1%")
    assert "1 contracts are open and this bot allows 1 at a time" in full["text"]
    assert len(await bot.client.portfolio()) == 1


async def test_a_product_buy_that_could_break_the_daily_loss_limit_is_refused(start):
    bot = await start(daily_loss=15)
    await bought(bot, "/buy R_100 MULTDOWN 10 x10")  # 10 at stake in an open multiplier
    refused = await bot.send("/buy R_100 ACCU 10 growth=1%")
    assert "today's daily loss limit is 15.00 USD" in refused["text"]
    assert "this contract: 10.00 USD" in refused["text"] and not refused["buttons"]
    assert len(await bot.client.portfolio()) == 1


async def test_real_money_product_trades_need_the_owners_consent(start):
    bot = await start(deriv_token=REAL_TOKEN)
    for command in ("/buy R_100 MULTUP 10 x100", "/update 1 tp=5", "/cancel 1"):
        refused = await bot.send(command)
        assert "real-money account" in refused["text"], command
        assert not refused["buttons"]


async def test_a_multiplier_buy_whose_reply_was_lost_is_found(start):
    bot = await start(request_timeout=5.0)
    card = await bot.send("/buy R_100 MULTUP 10 x100 tp=5")
    account = bot.account(DEMO_TOKEN)
    bot.sim.faults.delay = 2.0
    await bot.tap(card, "Buy")
    await bot.api.next_bot_message(chat_id=OWNER)  # sending
    await wait_until(account.open_contracts)
    bot.sim.faults.delay = 0.0
    assert bot.sim.faults.drop_connections() >= 1
    (contract,) = account.open_contracts()
    outcome = await bot.api.next_bot_message(chat_id=OWNER, timeout=10)
    assert "may or may not have happened" in outcome["text"]
    resolved = await bot.api.next_bot_message(chat_id=OWNER, timeout=10)
    assert "the buy of MULTUP on R_100 did happen" in resolved["text"]
    assert f"contract {contract.contract_id}" in resolved["text"]
    buys = [t for t in account.transactions if t.action_type == "buy"]
    assert len(buys) == 1  # never re-sent


async def test_a_cancellation_whose_reply_was_lost_is_checked_with_deriv(start):
    bot = await start(request_timeout=5.0)
    _, _, contract = await bought(bot, "/buy R_100 MULTUP 10 x100 dc=60m")
    await wait_until(lambda: bot.sim.clock.epoch() > contract.date_start)
    card = await bot.send(f"/cancel {contract.contract_id}")
    bot.sim.faults.delay = 2.0
    await bot.tap(card, "Cancel the contract")
    await bot.api.next_bot_message(chat_id=OWNER)  # sending
    await wait_until(lambda: contract.is_sold)  # cancelled on the server...
    bot.sim.faults.delay = 0.0
    assert bot.sim.faults.drop_connections() >= 1  # ...and the reply lost
    outcome = await bot.api.next_bot_message(chat_id=OWNER, timeout=10)
    assert "may or may not have happened" in outcome["text"] and "re-sent" in outcome["text"]
    while (
        "Checked with Deriv"
        not in (checked := await bot.api.next_bot_message(chat_id=OWNER, timeout=10))["text"]
    ):
        pass
    assert (
        f"contract {contract.contract_id} was cancelled; 10.00 USD came back" in (checked["text"])
    )
    sells = [t for t in bot.account(DEMO_TOKEN).transactions if t.action_type == "sell"]
    assert len(sells) == 1


async def test_the_step_by_step_buy_offers_multipliers_and_accumulators(start):
    bot = await start()
    card = await bot.send("/buy")
    for label, question in (
        ("R_100", "Which contract?"),
        ("MULTUP", "Which stake?"),
        ("10", "Which multiplier?"),
    ):
        await bot.tap(card, label)
        card = await bot.api.next_bot_message(chat_id=OWNER)
        assert question in card["text"], card["text"]
    assert card["buttons"][:5] == ["x10", "x20", "x30", "x50", "x100"]  # the symbol's range
    await bot.tap(card, "x50")
    quoted = await bot.api.next_bot_message(chat_id=OWNER)
    assert "MULTUP on R_100, x50, no expiry" in quoted["text"]
    assert quoted["buttons"] == ["Buy", "Cancel"]
    await bot.tap(quoted, "Cancel")
    assert "Cancelled" in (await bot.api.next_bot_message(chat_id=OWNER))["text"]

    accu = await bot.send("/buy")
    for label in ("R_100", "ACCU", "5"):
        await bot.tap(accu, label)
        accu = await bot.api.next_bot_message(chat_id=OWNER)
    assert "Which growth rate" in accu["text"] and "3 %" in accu["buttons"]
    await bot.tap(accu, "3 %")
    quoted = await bot.api.next_bot_message(chat_id=OWNER)
    assert "ACCU on R_100, 3 % a tick" in quoted["text"]
    assert await bot.client.portfolio() == []


async def wizard(bot, steps):
    """``/buy`` alone, then a tap on each ``(label, the question it brings)``; the last card."""
    card = await bot.send("/buy")
    for label, question in steps:
        assert label in card["buttons"], (label, card["buttons"])
        await bot.tap(card, label)
        card = await bot.api.next_bot_message(chat_id=OWNER)
        assert question in card["text"], card["text"]
    return card


async def test_the_step_by_step_buy_offers_turbos_and_vanillas_at_the_offered_barriers(start):
    bot = await start()
    offers = await bot.client.contracts_for("R_100")

    def choices(contract_type, expiry):
        (offer,) = [
            o for o in offers if o.contract_type == contract_type and o.expiry_type == expiry
        ]
        return offer.barrier_choices

    card = await wizard(
        bot,
        [("R_100", "Which contract?"), ("TURBOSLONG", "Which stake?"), ("10", "How long?")],
    )
    assert card["buttons"] == ["5t", "10t", "1m", "5m", "15m", "Cancel"]  # 5-10 ticks or a time
    await bot.tap(card, "5m")
    card = await bot.api.next_bot_message(chat_id=OWNER)
    assert "Which barrier?" in card["text"] and card["buttons"][:-1] == choices(
        "TURBOSLONG", "intraday"
    )
    barrier = card["buttons"][len(card["buttons"]) // 2]
    await bot.tap(card, barrier)
    quoted = await bot.api.next_bot_message(chat_id=OWNER)
    assert "TURBOSLONG on R_100, 5m" in quoted["text"] and "Per point:" in quoted["text"]
    done = await confirm(bot, quoted, "Buy")
    contract_id = int(re.search(r"Bought contract (\d+)", done["text"]).group(1))
    turbos = bot.account(DEMO_TOKEN).contracts[contract_id]
    assert turbos.contract_type == "TURBOSLONG" and turbos.buy_price == 10
    offset = turbos.spec.fmt(turbos.barrier - turbos.entry[1])  # where the barrier was put
    assert abs(float(offset) - float(barrier)) < 1e-6, (offset, barrier)

    card = await wizard(
        bot,
        [("R_100", "Which contract?"), ("VANILLALONGPUT", "Which stake?"), ("5", "How long?")],
    )
    assert card["buttons"] == ["1m", "5m", "15m", "1h", "Cancel"]  # never ticks
    await bot.tap(card, "5m")
    card = await bot.api.next_bot_message(chat_id=OWNER)
    assert "Which strike?" in card["text"]
    assert card["buttons"][:-1] == choices("VANILLALONGPUT", "intraday")
    await bot.tap(card, "+0.00")
    quoted = await bot.api.next_bot_message(chat_id=OWNER)
    assert "VANILLALONGPUT on R_100, 5m" in quoted["text"] and "Strike:" in quoted["text"]
    done = await confirm(bot, quoted, "Buy")
    contract_id = int(re.search(r"Bought contract (\d+)", done["text"]).group(1))
    vanilla = bot.account(DEMO_TOKEN).contracts[contract_id]
    assert vanilla.contract_type == "VANILLALONGPUT" and vanilla.buy_price == 5
    assert vanilla.strike == vanilla.entry[1]  # at the money, as tapped
    assert len(bot.account(DEMO_TOKEN).open_contracts()) == 2


async def test_contracts_lists_the_choices_buy_takes(start):
    bot = await start()
    listing = await bot.send("/contracts R_100")
    text = listing["text"]
    assert "x10 x20 x30 x50 x100" in text and "dc=5m|10m|15m|30m|60m" in text
    assert "growth=1%|2%|3%|4%|5%" in text and "strike=" in text and "ppp=" in text


async def test_an_update_whose_reply_was_lost_is_checked_with_deriv(start):
    bot = await start(request_timeout=5.0)
    _, _, contract = await bought(bot, "/buy R_100 MULTUP 10 x100 tp=5")
    card = await bot.send(f"/update {contract.contract_id} tp=9 sl=none")
    bot.sim.faults.delay = 2.0
    await bot.tap(card, "Update")
    await bot.api.next_bot_message(chat_id=OWNER)  # sending
    await wait_until(lambda: contract.book.orders["take_profit"].amount == 9)  # done there...
    bot.sim.faults.delay = 0.0
    assert bot.sim.faults.drop_connections() >= 1  # ...and the reply lost
    outcome = await bot.api.next_bot_message(chat_id=OWNER, timeout=10)
    assert "may or may not have happened" in outcome["text"] and "re-sent" in outcome["text"]
    checked = await bot.api.next_bot_message(chat_id=OWNER, timeout=10)
    assert f"the update did happen for contract {contract.contract_id}" in checked["text"]
    assert "take profit 9.00 USD" in checked["text"] and "stop loss none" in checked["text"]
    updates = [h for h in contract.history if h["order_type"] == "take_profit"]
    assert len(updates) == 2  # the purchase's and this one: never re-sent


def test_a_pending_order_spec_of_any_product_survives_json():
    import json

    from derivkit.bot.orders import spec_from_json, spec_to_json
    from derivkit.core import (
        AccumulatorSpec,
        ContractSpec,
        MultiplierSpec,
        TurbosSpec,
        VanillaSpec,
    )

    specs = [
        ContractSpec("CALL", "R_100", amount=10, duration=5),
        MultiplierSpec("MULTUP", "R_100", 10, 100, take_profit=5, stop_loss=3),
        MultiplierSpec("MULTDOWN", "R_100", 10, 50, cancellation="60m"),
        AccumulatorSpec("R_100", 10, 0.01, take_profit=2),
        TurbosSpec("TURBOSLONG", "R_100", 10, 5, "t", barrier="-3.08"),
        VanillaSpec("VANILLALONGPUT", "R_100", 10, 5, "m", strike="+0.00"),
    ]
    for spec in specs:
        again = spec_from_json(json.loads(json.dumps(spec_to_json(spec))))
        assert again == spec and type(again) is type(spec)
        assert again.parameters() == spec.parameters()


def test_a_fleets_copy_of_pending_product_orders_reads_back_the_same():
    import json

    from derivkit.bot.orders import PendingOrders
    from derivkit.core import AccumulatorSpec, MultiplierSpec

    here, there = PendingOrders(ttl=30), PendingOrders(ttl=30)
    spec = MultiplierSpec("MULTUP", "R_100", 10, 100, cancellation="60m")
    buy = here.add("buy", user_id=5, chat_id=5, summary="MULTUP", price=10.5, spec=spec)
    accu = here.add(
        "buy",
        user_id=5,
        chat_id=5,
        summary="ACCU",
        price=10,
        spec=AccumulatorSpec("R_50", 10, 0.02),
    )
    update = here.add("update", user_id=5, chat_id=5, summary="tp", price=0, contract_id=42)
    update.changes = {"take_profit": 8.0, "stop_loss": None}
    update.contract_type = "MULTUP"
    there.load(5, json.loads(json.dumps(here.export(5))), cards=lambda card_id: None)
    assert there.get(buy.nonce, 5).spec == spec
    assert type(there.get(accu.nonce, 5).spec) is AccumulatorSpec
    read = there.get(update.nonce, 5)
    assert (read.changes, read.contract_type, read.contract_id) == (update.changes, "MULTUP", 42)
    assert there.get(buy.nonce, 6) is None  # still its owner's only


def block_of(text: str, contract_id: int) -> str:
    """The lines /portfolio shows for ``contract_id``."""
    match = re.search(rf"^{contract_id} .*?(?=^\d{{6,}} |\Z)", text, re.M | re.S)
    assert match, text
    return match.group(0)


async def test_the_portfolio_shows_what_each_product_needs_in_lines_that_fit_a_phone(start):
    bot = await start(max_open=10)
    _, _, tp_sl = await bought(bot, "/buy R_10 MULTUP 10 x100 tp=5 sl=3")
    _, _, dc = await bought(bot, "/buy R_10 MULTDOWN 10 x100 dc=60m")
    offers = await bot.client.contracts_for("R_10")
    (turbos_offer,) = [
        o for o in offers if o.contract_type == "TURBOSLONG" and o.expiry_type == "intraday"
    ]
    ppp = turbos_offer.payout_choices[0]
    _, _, turbos = await bought(bot, f"/buy R_10 TURBOSLONG 10 5m ppp={ppp:g} tp=4")
    _, _, vanilla = await bought(bot, "/buy R_10 VANILLALONGPUT 10 5m +0.00")
    _, _, call = await bought(bot, "/buy R_10 CALL 5 5m")
    _, _, accu = await bought(bot, "/buy R_10 ACCU 10 growth=1% tp=2")
    await wait_until(lambda: accu.tick_passed >= 1 or accu.is_sold)
    bot.sim.faults.pause_symbol("R_10")  # nothing moves while the portfolio is read
    await wait_until(lambda: bot.sim.clock.epoch() > dc.date_start)  # cancellable now

    listing = await bot.send("/portfolio")
    text = listing["text"]
    assert all(len(line) <= 34 for line in text.splitlines()), text  # PHONE_WIDTH
    assert "P/L now" in text and "USD" in text

    block = block_of(text, tp_sl.contract_id)
    stop_out = tp_sl.book.payload()["stop_out"]["value"]
    assert re.search(r"paid 10\.00 now [\d.]+ \([+-]?[\d.]+\)", block), block
    assert "x100 · TP 5.00 · SL 3.00" in block and f"stop out {stop_out}" in block

    block = block_of(text, dc.contract_id)
    until = time.strftime("%H:%M:%S", time.gmtime(dc.date_start + 3600))
    assert f"DC until {until} UTC" in block and f"DC fee {dc.fee:.2f}" in block, block
    assert "TP" not in block and "SL" not in block

    block = block_of(text, turbos.contract_id)
    assert f"barrier {turbos.spec.fmt(turbos.barrier)}" in block, block
    assert f"{float(f'{turbos.n:.6f}'):g}/pt" in block and "TP 4.00" in block

    block = block_of(text, vanilla.contract_id)
    assert f"strike {vanilla.spec.fmt(vanilla.strike)}" in block, block
    assert f"{float(f'{vanilla.n:.5f}'):g}/pt" in block

    block = block_of(text, call.contract_id)
    assert block.count("\n") <= 2 and "·" not in block, block  # a binary: no product terms

    if not accu.is_sold:  # knocked out before the pause: it has left the portfolio
        block = block_of(text, accu.contract_id)
        assert f"1 %/tick · tick {accu.tick_passed}/{accu.tick_count}" in block, block
        assert re.search(r"band [\d.]+-[\d.]+", block) and "TP 2.00" in block
    bot.sim.faults.resume_symbol("R_10")

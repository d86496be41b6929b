"""Outcomes are never lost: a trade's result reaches the user even when Telegram fails on the
way, and a buy whose reply was lost is resolved with Deriv once the link is back."""

from __future__ import annotations

import re
import time

from tests.bot.conftest import DEMO_TOKEN, FRIEND, OWNER, wait_until


async def bought_card(bot, text="/buy R_100 CALL 5 5t", user_id=OWNER):
    card = await bot.send(text, user_id=user_id)
    assert card["buttons"] == ["Buy", "Cancel"]
    return card


async def test_a_failed_result_edit_is_retried(start_bot):
    bot = await start_bot()
    card = await bought_card(bot)
    bot.api.fault("editMessageText", code=500, times=1, when=lambda p: "Bought" in p["text"])
    await bot.tap(card, "Buy")
    await bot.api.next_bot_message(chat_id=OWNER)  # sending
    done = await bot.api.next_bot_message(chat_id=OWNER)
    if done["method"] == "sendMessage":  # the 5-tick contract settled before the edit's retry
        assert "(CALL R_100)" in done["text"], done["text"]
        done = await bot.api.next_bot_message(chat_id=OWNER)
    assert done["message_id"] == card["message_id"] and "Bought contract" in done["text"]
    edits = [c.status for c in bot.api.outbox("editMessageText") if "Bought" in c.params["text"]]
    assert edits == [500, 200]


async def test_a_result_that_cannot_be_edited_in_arrives_as_a_new_message(start_bot):
    bot = await start_bot()
    bot.rt.delivery.retry_delays = (0.05, 0.05)
    card = await bought_card(bot)
    bot.api.fault("editMessageText", code=500, times=None, when=lambda p: "Bought" in p["text"])
    await bot.tap(card, "Buy")
    await bot.api.next_bot_message(chat_id=OWNER)  # sending
    done = await bot.api.next_bot_message(chat_id=OWNER)
    assert done["method"] == "sendMessage" and done["message_id"] != card["message_id"]
    assert "Bought contract" in done["text"]
    edits = [c.status for c in bot.api.outbox("editMessageText") if "Bought" in c.params["text"]]
    assert edits == [500, 500, 500]
    assert len(bot.account(DEMO_TOKEN).open_contracts()) == 1  # bought once


async def test_a_failed_sending_edit_neither_loses_nor_repeats_the_buy(start_bot):
    bot = await start_bot()
    card = await bought_card(bot)
    bot.api.fault("editMessageText", code=500, times=1, when=lambda p: "Sending" in p["text"])
    query = await bot.tap(card, "Buy")
    done = await bot.api.next_bot_message(chat_id=OWNER)
    assert done["message_id"] == card["message_id"] and "Bought contract" in done["text"]
    assert not done["buttons"]  # the card no longer looks live
    assert (await bot.answer_to(query))["text"] == "Sending…"
    assert len(bot.account(DEMO_TOKEN).open_contracts()) == 1


async def test_a_buy_whose_reply_was_lost_is_found_reported_and_followed(start_bot):
    bot = await start_bot(request_timeout=5.0)
    card = await bought_card(bot, "/buy R_100 CALL 5 1m")
    account = bot.account(DEMO_TOKEN)
    bot.sim.faults.delay = 2.0  # the reply (and everything after it) waits...
    await bot.tap(card, "Buy")
    await bot.api.next_bot_message(chat_id=OWNER)  # sending
    await wait_until(account.open_contracts)  # ...the buy has happened on the server...
    bot.sim.faults.delay = 0.0
    assert bot.sim.faults.drop_connections() >= 1  # ...and its reply is lost with the link
    (contract,) = account.open_contracts()

    outcome = await bot.api.next_bot_message(chat_id=OWNER, timeout=10)
    assert outcome["message_id"] == card["message_id"]
    assert (
        "may or may not have happened" in outcome["text"]
        and "Nothing was re-sent" in outcome["text"]
    )
    resolved = await bot.api.next_bot_message(chat_id=OWNER, timeout=10)
    assert "the buy of CALL on R_100 did happen" in resolved["text"]
    assert f"contract {contract.contract_id}" in resolved["text"]
    settled = await bot.api.next_bot_message(chat_id=OWNER, timeout=15)
    assert f"Contract {contract.contract_id} (CALL R_100)" in settled["text"]
    (entry,) = await bot.storage.journal_entries()
    assert entry.contract_id == contract.contract_id and entry.reply["resolved"] is True
    assert entry.status == "settled"
    assert len(account.transactions) == 2  # one buy (never re-sent), one settlement


async def test_a_buy_whose_reply_was_lost_and_that_never_happened_is_reported(start_bot):
    bot = await start_bot(request_timeout=1.0)
    bot.rt.desk.second_look_after = 0.1
    card = await bought_card(bot)
    bot.sim.faults.mute = True  # requests are ignored: the buy never reaches the account
    await bot.tap(card, "Buy")
    await bot.api.next_bot_message(chat_id=OWNER)  # sending
    outcome = await bot.api.next_bot_message(chat_id=OWNER, timeout=10)
    assert "may or may not have happened" in outcome["text"]
    bot.sim.faults.mute = False
    resolved = await bot.api.next_bot_message(chat_id=OWNER, timeout=15)
    assert "did <b>not</b>" not in resolved["text"]  # shown as HTML, not as tags
    assert "the buy of CALL on R_100 did not happen; nothing was bought" in resolved["text"]
    (entry,) = await bot.storage.journal_entries()
    assert entry.status == "not_bought"
    assert await bot.client.portfolio() == []
    assert re.search(r"No settled contracts", (await bot.send("/profit"))["text"])


async def lose_the_replies(bot, cards, contracts: int):
    """Tap Buy on every card (each by the user of its chat); the buys happen on the server
    but their replies are lost."""
    account = bot.account(DEMO_TOKEN)
    bot.sim.faults.delay = 2.0  # the replies (and everything after them) wait...
    for card in cards:
        await bot.tap(card, "Buy", user_id=card["chat_id"])
    for card in cards:  # each card says "Sending…"
        sending = await bot.api.next_bot_message(chat_id=card["chat_id"])
        assert sending["message_id"] == card["message_id"] and "Sending" in sending["text"]
    await wait_until(lambda: len(account.open_contracts()) == contracts)  # ...the buys happen...
    bot.sim.faults.delay = 0.0
    assert bot.sim.faults.drop_connections() >= 1  # ...and their replies are lost with the link


async def told(bot, card) -> str:
    """The card's "may or may not have happened", then the resolution's text."""
    outcome = await bot.api.next_bot_message(chat_id=card["chat_id"], timeout=10)
    assert outcome["message_id"] == card["message_id"]
    assert "may or may not have happened" in outcome["text"], outcome["text"]
    resolved = await bot.api.next_bot_message(chat_id=card["chat_id"], timeout=10)
    return str(resolved["text"])


async def test_a_lost_buy_is_found_when_the_local_clock_runs_ahead_of_derivs(start_bot):
    bot = await start_bot(request_timeout=5.0, speed=1, start_epoch=int(time.time()) - 120)
    card = await bought_card(bot, "/buy R_100 CALL 5 5m")
    await lose_the_replies(bot, [card], 1)
    (contract,) = bot.account(DEMO_TOKEN).open_contracts()
    resolved = await told(bot, card)
    assert "the buy of CALL on R_100 did happen" in resolved, resolved
    assert f"contract {contract.contract_id}," in resolved


async def test_two_lost_buys_of_one_shape_on_one_account_are_two_contracts(start_bot):
    bot = await start_bot(request_timeout=5.0, allowed=(OWNER, FRIEND))  # sharing the account
    cards = [
        await bought_card(bot, "/buy R_100 CALL 5 5m"),
        await bought_card(bot, "/buy R_100 CALL 5 5m", user_id=FRIEND),
    ]
    await lose_the_replies(bot, cards, 2)
    bought = {c.contract_id for c in bot.account(DEMO_TOKEN).open_contracts()}
    found = set()
    for card in cards:
        resolved = await told(bot, card)
        assert "the buy of CALL on R_100 did happen" in resolved, resolved
        found |= {int(n) for n in re.findall(r"contract (\d+),", resolved)}
    assert found == bought
    entries = await bot.storage.journal_entries()
    assert {entry.contract_id for entry in entries} == bought


async def test_a_buy_whose_reply_cannot_be_read_is_of_unknown_outcome_and_resolved(
    start_bot, monkeypatch
):
    from derivkit.core import ProtocolError

    bot = await start_bot()
    real_buy = bot.client.buy

    async def buy_then_misread(*args, **kwargs):
        await real_buy(*args, **kwargs)  # Deriv bought it and answered...
        raise ProtocolError("unexpected shape of a 'buy' reply")  # ...unreadably

    monkeypatch.setattr(bot.client, "buy", buy_then_misread)
    card = await bought_card(bot, "/buy R_100 CALL 5 5m")
    await bot.tap(card, "Buy")
    await bot.api.next_bot_message(chat_id=OWNER)  # sending
    outcome = await bot.api.next_bot_message(chat_id=OWNER, timeout=10)
    assert outcome["message_id"] == card["message_id"]
    assert "Deriv's answer to the buy could not be read: it may or may not" in outcome["text"]
    (contract,) = bot.account(DEMO_TOKEN).open_contracts()
    resolved = (await bot.api.next_bot_message(chat_id=OWNER, timeout=10))["text"]
    assert "the buy of CALL on R_100 did happen" in resolved, resolved
    assert f"contract {contract.contract_id}," in resolved
    (entry,) = await bot.storage.journal_entries()
    assert entry.status == "bought" and entry.contract_id == contract.contract_id


async def test_a_sale_whose_reply_was_lost_is_told_and_its_settlement_follows(start_bot):
    bot = await start_bot(request_timeout=5.0)
    bot.rt.limits.trade_gap = 1e-6  # the sale follows the buy at once
    card = await bought_card(bot, "/buy R_100 CALL 5 5m")
    await bot.tap(card, "Buy")
    await bot.api.next_bot_message(chat_id=OWNER)  # sending
    assert "Bought contract" in (await bot.api.next_bot_message(chat_id=OWNER))["text"]
    (contract,) = bot.account(DEMO_TOKEN).open_contracts()
    await wait_until(lambda: bot.sim.clock.epoch() > contract.date_start + 2)  # sellable
    sale = await bot.send(f"/sell {contract.contract_id}")
    assert sale["buttons"] == ["Sell", "Cancel"], sale["text"]
    bot.sim.faults.delay = 2.0
    await bot.tap(sale, "Sell")
    await bot.api.next_bot_message(chat_id=OWNER)  # sending
    await wait_until(lambda: contract.is_sold)  # sold on the server...
    bot.sim.faults.delay = 0.0
    assert bot.sim.faults.drop_connections() >= 1  # ...and the reply lost
    outcome = await bot.api.next_bot_message(chat_id=OWNER, timeout=10)
    assert outcome["message_id"] == sale["message_id"]
    text = outcome["text"]
    assert "while the sale was being sent: it may or may not have happened" in text, text
    assert "Nothing was re-sent" in text and "/portfolio and /statement" in text
    settled = await bot.api.next_bot_message(chat_id=OWNER, timeout=10)
    assert f"Contract {contract.contract_id} (CALL R_100)" in settled["text"]
    sells = [t for t in bot.account(DEMO_TOKEN).transactions if t.action_type == "sell"]
    assert len(sells) == 1  # never re-sent

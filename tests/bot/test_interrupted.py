"""Confirms their process never finished (it stopped after consuming the order): the next start
finishes each card with the truth, looked up (the journal, or Deriv for a sent sale), and never
sends the trade again. One process on SQLite; the stop comes right after the claim (and the
"about to send" mark), with the card left at its Confirm."""

from __future__ import annotations

from derivkit.bot.interrupted import finish_interrupted
from derivkit.core import DerivClient
from tests.bot.conftest import DEMO_TOKEN, OWNER, READ_TRADE, sellable_contract, wait_until

ALICE, ALICE_TOKEN = 601, "alice-token-0601"


async def _nonce(bot, kind: str, user_id: int = OWNER) -> str:
    """The owner's pending order of ``kind``, once its card is bound to it (as when a tap comes:
    the user's updates run one at a time)."""

    def shown() -> list[str]:
        orders = bot.rt.orders.export(user_id).items()
        return [n for n, (_, body) in orders if body["kind"] == kind and body["message_id"]]

    await wait_until(shown)
    (nonce,) = shown()
    return nonce


async def _claimed_then_stopped(bot, kind: str, *, sent: bool) -> None:
    """What a Confirm does before it sends, then the process stops (a restart)."""
    nonce = await _nonce(bot, kind)
    assert await bot.rt.orders.claim(nonce, OWNER) is not None
    if sent:
        await bot.rt.orders.sending(nonce)
    await bot.restart()


def _card(bot, card) -> str:
    chat = bot.api.transcript(card["chat_id"])
    return next(m.text or "" for m in chat if m.message_id == card["message_id"])


def _sales(bot) -> int:
    return sum(t.action_type == "sell" for t in bot.account(DEMO_TOKEN).transactions)


async def _all_marked(bot) -> None:
    """Every tombstone has its outcome (marked right after the card's edit)."""

    async def marked() -> bool:
        return await bot.rt.orders.tombstones.unfinished_orders() == []

    await wait_until(marked)


async def _told(bot, card, words: str) -> str:
    await wait_until(lambda: words in _card(bot, card), timeout=15)
    return _card(bot, card)


async def test_a_sale_claimed_but_never_sent_is_told_not_sent(start_bot):
    bot = await start_bot()
    contract_id = await sellable_contract(bot.client)
    card = await bot.send(f"/sell {contract_id}")
    assert card["buttons"] == ["Sell", "Cancel"], card["text"]
    await _claimed_then_stopped(bot, "sell", sent=False)
    text = await _told(bot, card, "Not sent: nothing was sold")
    assert f"Sell contract {contract_id}" in text  # the card's summary stays
    assert _sales(bot) == 0 and len(bot.account(DEMO_TOKEN).open_contracts()) == 1
    await _all_marked(bot)  # told once, for good


async def test_a_sent_sale_that_reached_deriv_is_checked_and_told_sold(start_bot):
    bot = await start_bot()
    contract_id = await sellable_contract(bot.client)
    card = await bot.send(f"/sell {contract_id}")
    nonce = await _nonce(bot, "sell")
    assert await bot.rt.orders.claim(nonce, OWNER) is not None
    await bot.rt.orders.sending(nonce)
    await bot.client.sell(contract_id)  # the stopped process's sale, done on Deriv
    await bot.restart()
    text = await _told(bot, card, "Checked with Deriv")
    assert f"contract {contract_id} was sold, for " in text, text
    assert _sales(bot) == 1  # never sent again


async def test_a_sent_sale_that_never_reached_deriv_is_told_still_open(start_bot):
    bot = await start_bot()
    contract_id = await sellable_contract(bot.client)
    card = await bot.send(f"/sell {contract_id}")
    await _claimed_then_stopped(bot, "sell", sent=True)
    text = await _told(bot, card, "Checked with Deriv")
    assert f"contract {contract_id} was not sold; it is still open" in text, text
    assert f"/sell {contract_id} to try again" in text
    assert _sales(bot) == 0 and len(bot.account(DEMO_TOKEN).open_contracts()) == 1


async def test_a_buy_claimed_but_never_journaled_is_told_not_bought(start_bot):
    bot = await start_bot()
    card = await bot.send("/buy R_100 CALL 5 5m")
    assert card["buttons"] == ["Buy", "Cancel"]
    await _claimed_then_stopped(bot, "buy", sent=False)
    await _told(bot, card, "Not sent: nothing was bought")
    assert bot.account(DEMO_TOKEN).open_contracts() == []


async def test_a_finished_confirm_leaves_nothing_for_the_next_start(start_bot):
    bot = await start_bot()
    contract_id = await sellable_contract(bot.client)
    card = await bot.send(f"/sell {contract_id}")
    await bot.tap(card, "Sell")
    sold = await _told(bot, card, f"Sold contract {contract_id}")
    await _all_marked(bot)
    await bot.restart()
    assert await finish_interrupted(bot.rt) == 0  # nothing left to finish
    assert _card(bot, card) == sold
    assert _sales(bot) == 1


async def test_a_sent_sale_of_a_user_gone_since_is_told_of_unknown_outcome(start_bot):
    """Multi-user: the user's token is forgotten before the next start, so nothing can look the
    sale up; the card says the outcome is unknown and where to look, rather than "Sending…"."""
    bot = await start_bot(
        mode="multi-user", allowed=(), trading=None, accounts={ALICE_TOKEN: READ_TRADE}
    )
    await bot.connect(ALICE, ALICE_TOKEN)
    async with DerivClient(bot.sim.url, token=ALICE_TOKEN) as alice:
        contract_id = await sellable_contract(alice)
    card = await bot.send(f"/sell {contract_id}", user_id=ALICE)
    assert card["buttons"] == ["Sell", "Cancel"], card["text"]
    nonce = await _nonce(bot, "sell", ALICE)
    assert await bot.rt.orders.claim(nonce, ALICE) is not None
    await bot.rt.orders.sending(nonce)
    assert await bot.storage.forget_token(ALICE)
    await bot.restart()
    text = await _told(bot, card, "may or may not have happened")
    assert "/portfolio and /statement" in text
    await _all_marked(bot)


async def test_a_sent_sale_deriv_cannot_look_up_is_told_of_unknown_outcome(start_bot):
    """The consumed order names a contract Deriv does not know on this account (say, the user
    connected another account since). A tap on its card (its buttons were never taken away)
    looks it up: Deriv's error ends in "unknown", with where to look, not in an error."""
    bot = await start_bot()
    contract_id = await sellable_contract(bot.client)
    card = await bot.send(f"/sell {contract_id}")
    nonce = await _nonce(bot, "sell")
    order = bot.rt.orders.export(OWNER)[nonce][1] | {"contract_id": 4_000_000_001}
    assert bot.rt.orders.take(nonce, OWNER) is not None  # consumed by a run that stopped
    await bot.rt.orders.tombstones.record_claim(nonce, OWNER, order)
    await bot.rt.orders.tombstones.order_sending(nonce)
    query = await bot.tap(card, "Sell")
    assert (await bot.answer_to(query))["text"] == "Looking up what happened…"
    text = await _told(bot, card, "may or may not have happened")
    assert "/portfolio and /statement" in text
    assert _sales(bot) == 0


async def test_a_lookup_deriv_does_not_answer_in_time_gives_no_verdict(start_bot):
    """Deriv silent: the check gives up after its wait (then the card says "unknown")."""
    bot = await start_bot()
    contract_id = await sellable_contract(bot.client)
    session = await bot.rt.session(OWNER)
    bot.sim.faults.mute = True
    order = {"kind": "sell", "contract_id": contract_id}
    assert await bot.rt.desk.checked_with_deriv(session, order, wait=0.5) is None
    bot.sim.faults.mute = False
    checked = await bot.rt.desk.checked_with_deriv(session, order, wait=10)
    assert checked is not None and "was <b>not</b> sold; it is still open" in checked


async def test_a_sent_sell_all_is_checked_contract_by_contract(start_bot):
    """/sellall stopped after sending: one contract was sold on Deriv, the other not; the card
    says so for each."""
    bot = await start_bot()
    sold, kept = await sellable_contract(bot.client), await sellable_contract(bot.client)
    card = await bot.send("/sellall")
    assert card["buttons"] == ["Sell all", "Cancel"], card["text"]
    nonce = await _nonce(bot, "sellall")
    assert await bot.rt.orders.claim(nonce, OWNER) is not None
    await bot.rt.orders.sending(nonce)
    await bot.client.sell(sold)  # the one sale that reached Deriv before the stop
    await bot.restart()
    text = await _told(bot, card, "Checked with Deriv")
    assert f"contract {sold} was sold, for " in text, text
    assert f"contract {kept} was not sold; it is still open" in text, text
    assert _sales(bot) == 1

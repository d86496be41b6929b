"""Several bot instances on one PostgreSQL database behind the fake Bot API's webhooks (round
robin, some updates twice): any instance serves any update, a tap buys once wherever it lands,
and the duties (alerts, settlement notices) are done by one instance and taken over."""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack

import pytest

from derivkit.settings import BotSettings
from derivkit.sim import RateLimits, Simulator
from tests.bot.conftest import BOT_TOKEN, READ_TRADE, BotHarness, free_port, wait_until
from tests.fakes.telegram_api import FakeTelegramAPI

pytestmark = pytest.mark.timeout(90)

ALICE, BOB = 601, 602
ALICE_TOKEN, BOB_TOKEN = "fleet-alice-0001", "fleet-bob-0002"


@pytest.fixture
async def fleet(postgres_url, tmp_path):
    """``await fleet(n, duplicate_every=...)``: n running instances sharing everything."""
    async with AsyncExitStack() as stack:
        sim = await stack.enter_async_context(
            Simulator(seed=5, speed=20, rate_limits=RateLimits.unlimited())
        )
        for token in (ALICE_TOKEN, BOB_TOKEN):
            sim.add_account(token, scopes=READ_TRADE)
        api = await stack.enter_async_context(FakeTelegramAPI(token=BOT_TOKEN))
        instances: list[BotHarness] = []

        async def start(count: int, *, duplicate_every: int = 0) -> list[BotHarness]:
            for _ in range(count):
                port = free_port()
                settings = BotSettings(
                    token=BOT_TOKEN,
                    mode="multi-user",
                    connect_rate=1000.0,
                    webhook=f"http://127.0.0.1:{port}/hook",
                    listen=f"127.0.0.1:{port}",
                )
                options = {"database": postgres_url, "request_timeout": 10.0}
                harness = BotHarness(api, sim, tmp_path / "data", settings, options)
                await harness.start()
                instances.append(harness)
                stack.push_async_callback(harness.stop)
            api.balance([h.settings.webhook for h in instances], duplicate_every=duplicate_every)
            return instances

        yield start


def bought(api, chat_id) -> list[str]:
    texts = [m.text or "" for m in api.transcript(chat_id)]
    return [t for t in texts if "Bought contract" in t]


async def test_a_card_from_one_instance_is_confirmed_on_another_and_a_doubled_tap_buys_once(
    fleet,
):
    a, b = await fleet(2, duplicate_every=1)  # every update reaches both instances
    api = a.api
    connected = await a.connect(ALICE, ALICE_TOKEN)
    assert "✅ Connected" in connected["text"]
    assert await a.storage.token_of(ALICE) is not None
    card = await a.send("/buy R_100 CALL 5 1m", user_id=ALICE)
    assert card["buttons"] == ["Buy", "Cancel"]
    await a.tap(card, "Buy", user_id=ALICE)
    await wait_until(lambda: bought(api, ALICE), timeout=20)
    # the card was sent by one instance and the tap went to both: one buy, one result
    assert len(a.account(ALICE_TOKEN).open_contracts()) == 1
    assert len(bought(api, ALICE)) == 1
    data = card["reply_markup"]["inline_keyboard"][0][1]["callback_data"]  # a late Cancel
    cancel = api.user_taps(card["message_id"], data=data, user_id=ALICE, strict=False)
    assert (await a.answer_to(cancel))["text"] == "This button has expired."
    assert len(a.account(ALICE_TOKEN).open_contracts()) == 1
    duplicates = [uid for uid, _, status in api.deliveries if status == 200]
    assert len(duplicates) > len(set(duplicates))  # updates really did arrive twice
    replies = [m for m in api.transcript(ALICE) if m.from_bot and "Connected" in (m.text or "")]
    assert len(replies) == 1  # the doubled /connect was answered once


async def test_a_stop_on_one_instance_holds_on_the_others(fleet):
    a, b = await fleet(2)
    await a.connect(BOB, BOB_TOKEN)
    stopped = await a.send("/stop", user_id=BOB)  # round robin: not the instance that connected
    assert "stop" in stopped["text"].lower()
    for _ in range(2):  # one lands on each instance
        refused = await a.send("/buy R_100 CALL 5 1m", user_id=BOB)
        assert "Trading is stopped for you" in refused["text"]


async def test_an_alert_fires_once_and_its_duty_moves_when_its_instance_stops(fleet):
    a, b = await fleet(2)
    await a.connect(ALICE, ALICE_TOKEN)
    tick = await a.rt.market.tick("R_10")
    level = round(tick.quote * 1.5, 3)  # far away: it will not fire by itself
    answer = await a.send(f"/alert R_10 below {level * 0.1:.3f}", user_id=ALICE)
    assert "I will tell you" in answer["text"]

    def holder():
        names = [h for h in (a, b) if h.rt.fleet.holds("alerts:R_10")]
        return names[0] if len(names) == 1 else None

    await wait_until(holder, timeout=10)
    first = holder()
    other = b if first is a else a
    await first.stop()  # graceful: its leases are released at once
    await wait_until(lambda: other.rt.fleet.holds("alerts:R_10"), timeout=10)
    # an alert that fires at the next tick, set through the survivor
    now = await other.rt.market.tick("R_10")
    fire = await other.send(f"/alert R_10 below {now.quote * 2:.3f}", user_id=ALICE)
    assert "Not set" in fire["text"] or "I will tell you" in fire["text"]
    move = await other.send("/alert R_10 move 0.0001", user_id=ALICE)
    assert "I will tell you" in move["text"]
    await wait_until(
        lambda: [m for m in other.api.transcript(ALICE) if "🔔 R_10" in (m.text or "")],
        timeout=15,
    )
    alerts = [m for m in other.api.transcript(ALICE) if (m.text or "").startswith("🔔 R_10")]
    assert len(alerts) == 1, other.api.format_transcript(ALICE)


async def _journal_buy(harness, user_id: int) -> tuple[object, int]:
    """A buy of the user's account as the journal has it ("sending"): (its entry, loginid)."""
    from derivkit.storage import NewTrade

    session = await harness.rt.sessions.get(user_id)
    entry = await harness.storage.journal_open(
        NewTrade(
            loginid=session.loginid,
            is_virtual=True,
            currency="USD",
            symbol="R_100",
            contract_type="CALL",
            stake=5.0,
            max_price=5.0,
            request={"contract_type": "CALL", "symbol": "R_100"},
            quote={"spot_time": int(time.time())},
            telegram_id=user_id,
            chat_id=user_id,
        )
    )
    return entry, session


async def _desk_idle(harness) -> None:
    await asyncio.gather(*list(harness.rt.desk._tasks), return_exceptions=True)


async def test_the_account_duty_leaves_a_buy_in_flight_on_another_instance_alone(fleet):
    """Regression: the account's duty took a buy that another instance was still sending (its
    journal entry "sending") for a lost one, searched the statement, found nothing and told the
    user it did not happen, just before the buy's own reply said it did."""
    a, b = await fleet(2)
    await a.connect(ALICE, ALICE_TOKEN)
    entry, _ = await _journal_buy(a, ALICE)  # as a's buy does before it is sent
    b.rt.desk.second_look_after = 0.0
    session = await b.rt.sessions.get(ALICE)
    await b.rt.desk.resume(session)  # b holds the account's duty and picks up its stories
    await _desk_idle(b)
    assert (await b.storage.journal_entry(entry.id)).status == "sending"
    texts = [m.text or "" for m in a.api.transcript(ALICE)]
    assert not [t for t in texts if "did <b>not</b> happen" in t or "did not happen" in t]


async def test_a_resolution_never_overrides_the_buys_own_reply(fleet):
    (a,) = await fleet(1)
    await a.connect(ALICE, ALICE_TOKEN)
    entry, _ = await _journal_buy(a, ALICE)
    await a.storage.journal_bought(entry.id, {"contract_id": 424242, "buy_price": 5.0})
    after = await a.storage.journal_not_bought(entry.id, "not in the account's statement")
    assert after.status == "bought" and after.contract_id == 424242


async def test_a_settlement_is_told_once_while_several_pick_it_up(fleet):
    """Regression: a settlement being told (the send slowed by Telegram) was told again by the
    account duty's next pick-up on the same instance, and by an instance that also believed it
    held the account."""
    a, b = await fleet(2)
    await a.connect(ALICE, ALICE_TOKEN)
    entry, _ = await _journal_buy(a, ALICE)
    await a.storage.journal_bought(entry.id, {"contract_id": 515151, "buy_price": 5.0})
    await a.storage.journal_settled(515151, sell_price=9.5, profit=4.5, settled_at=time.time())
    a.api.fault("sendMessage", code=429, retry_after=1, when=lambda p: "515151" in p["text"])
    first = asyncio.create_task(a.rt.desk.resume(await a.rt.sessions.get(ALICE)))
    await a.api.wait_for(lambda c: c.method == "sendMessage" and c.status == 429, timeout=10)
    await a.rt.desk.resume(await a.rt.sessions.get(ALICE))
    await b.rt.desk.resume(await b.rt.sessions.get(ALICE))
    await first
    told = [m for m in a.api.transcript(ALICE) if "515151" in (m.text or "")]
    assert len(told) == 1, a.api.format_transcript(ALICE)
    assert (await a.storage.journal_entry(entry.id)).notified


async def test_a_slow_account_pickup_does_not_hold_up_taking_the_other_duties(fleet, monkeypatch):
    """Regression: the scan picked each account duty up in turn (a Deriv connection, a journal
    read, untold settlements sent), so one slow account delayed the takeover of all the others
    past the 15 s the fleet promises."""
    (a,) = await fleet(1)
    for user, token in ((ALICE, ALICE_TOKEN), (BOB, BOB_TOKEN)):
        await a.connect(user, token)
    release = asyncio.Event()
    picked_up: list[int] = []

    async def slow_resume(session) -> None:
        picked_up.append(session.key)
        await release.wait()  # this account's pick-up hangs (a Deriv reply that is slow)

    monkeypatch.setattr(a.rt.desk, "resume", slow_resume)
    for user in (ALICE, BOB):  # both accounts now have an unfinished story: two duties
        entry, _ = await _journal_buy(a, user)
        await a.storage.journal_bought(entry.id, {"contract_id": 600 + user, "buy_price": 5.0})
    try:
        await wait_until(
            lambda: a.rt.fleet.holds_account(ALICE) and a.rt.fleet.holds_account(BOB), timeout=10
        )
        await wait_until(lambda: sorted(picked_up) == [ALICE, BOB], timeout=10)
    finally:
        release.set()


def _card_text(api, chat_id: int, message_id: int) -> str:
    return next(m.text or "" for m in api.transcript(chat_id) if m.message_id == message_id)


async def test_a_buy_a_dead_instance_left_sending_is_resolved_by_the_duty_on_its_card(fleet):
    """A buy journaled and sent by an instance that died before Deriv's reply, whose Confirm is
    not run again (finished, or lost): the account's duty resolves it with the shared resolver
    and its card, left at "Sending…", ends with what happened: bought (the contract, the price)
    or not bought."""
    from derivkit.formatting import contract_spec
    from derivkit.storage import NewTrade

    a, b = await fleet(2)
    api = a.api
    await a.connect(ALICE, ALICE_TOKEN)
    cards = [await a.send(f"/buy R_100 {kind} 5 1m", user_id=ALICE) for kind in ("CALL", "PUT")]
    session = await a.rt.sessions.get(ALICE)
    entries = []
    for card, kind in zip(cards, ("CALL", "PUT"), strict=True):
        await api_edit(api, card, "⏳ Sending…")
        entries.append(
            await a.storage.journal_open(
                NewTrade(
                    loginid=session.loginid,
                    is_virtual=True,
                    currency="USD",
                    symbol="R_100",
                    contract_type=kind,
                    stake=5.0,
                    max_price=10.0,
                    request={"contract_type": kind, "symbol": "R_100"},
                    quote={"spot_time": int(time.time()), "message_id": card["message_id"]},
                    telegram_id=ALICE,
                    chat_id=ALICE,
                    order_nonce=f"dead-{kind}",
                )
            )
        )
    spec = contract_spec("R_100", "CALL", 5, "1m", currency="USD")
    receipt = await session.client.buy(spec, price=10.0)
    for harness in (a, b):  # past the time a live instance may still be sending them
        harness.rt.desk._clock = lambda: time.time() + 120
        harness.rt.desk.second_look_after = 0.1
    call, put = (card["message_id"] for card in cards)
    await wait_until(
        lambda: f"did happen: contract {receipt.contract_id}" in _card_text(api, ALICE, call),
        timeout=20,
    )
    await wait_until(lambda: "did <b>not</b> happen" in _source(api, ALICE, put), timeout=20)
    bought_entry, not_bought = [await a.storage.journal_entry(e.id) for e in entries]
    assert (bought_entry.status, bought_entry.contract_id) == ("bought", receipt.contract_id)
    assert not_bought.status == "not_bought"
    told = [m for m in api.transcript(ALICE) if "Checked with Deriv" in (m.text or "")]
    assert sorted(m.message_id for m in told) == sorted((call, put))  # on the cards, once each
    buys = [t for t in a.account(ALICE_TOKEN).transactions if t.action_type == "buy"]
    assert len(buys) == 1


async def api_edit(api, card, text: str) -> None:
    """The card as an instance that died mid-way left it (its "Sending…" edit)."""
    message = next(m for m in api.transcript(card["chat_id"]) if m.message_id == card["message_id"])
    message.text = message.source = text
    message.reply_markup = None


def _source(api, chat_id: int, message_id: int) -> str:
    return next(m.source or "" for m in api.transcript(chat_id) if m.message_id == message_id)


async def _order_nonce(harness, user_id: int, kind: str) -> str:
    orders = await harness.rt.fleet.store.orders_of(user_id)
    return next(nonce for nonce, (_, body) in orders.items() if body["kind"] == kind)


async def test_a_sale_consumed_by_an_instance_that_died_after_sending_is_checked_with_deriv(
    fleet,
):
    """Regression: a Confirm whose order another (dead) instance had consumed said "no longer
    valid"; a sale that was sent may have happened, so the card says what Deriv has now (here:
    the contract is still open, nothing was sold) and never sells again. A claimer still alive
    (a stalled instance) is left to finish."""
    a, b = await fleet(2)
    api = a.api
    await a.connect(ALICE, ALICE_TOKEN)
    card = await a.send("/buy R_100 CALL 5 5m", user_id=ALICE)
    await a.tap(card, "Buy", user_id=ALICE)
    await wait_until(lambda: bought(api, ALICE), timeout=20)
    (contract,) = a.account(ALICE_TOKEN).open_contracts()
    sale = None
    for _ in range(20):  # until its entry tick is in and it may be sold
        sale = await a.send(f"/sell {contract.contract_id}", user_id=ALICE)
        if sale["buttons"] == ["Sell", "Cancel"]:
            break
        await asyncio.sleep(0.2)
    assert sale["buttons"] == ["Sell", "Cancel"], sale
    store = a.rt.fleet.store
    nonce = await _order_nonce(a, ALICE, "sell")
    # a live (stalled) instance consumed it and is still at it: the tap is told so, the card kept
    await store.acquire("instance:stalled", "stalled", 30)
    assert await store.claim_order(nonce, ALICE, "stalled") is not None
    query = await a.tap(sale, "Sell", user_id=ALICE)
    assert "Still being sent" in (await a.answer_to(query))["text"]
    assert "Confirm within" in _card_text(api, ALICE, sale["message_id"])
    # that instance dies after sending it
    await store.order_sending(nonce)
    await store.release("instance:stalled", "stalled")
    query = await a.tap(sale, "Sell", user_id=ALICE)
    await a.answer_to(query)
    await wait_until(
        lambda: "Checked with Deriv" in _card_text(api, ALICE, sale["message_id"]), timeout=10
    )
    text = _card_text(api, ALICE, sale["message_id"])
    assert f"contract {contract.contract_id} was not sold; it is still open" in text, text
    assert f"/sell {contract.contract_id} to try again" in text and "no longer valid" not in text
    assert len(a.account(ALICE_TOKEN).open_contracts()) == 1  # nothing was sold here

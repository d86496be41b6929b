"""The bot end to end: Telegram updates in through the fake Bot API, Deriv calls out to the
simulator, replies checked as the user would see them."""

from __future__ import annotations

import asyncio
import logging
import re
import time

from derivkit.bot.limits import UserRateLimits
from derivkit.bot.logsafety import protect_logging
from derivkit.core import ContractSpec
from tests.bot.conftest import BOT_TOKEN, DEMO_TOKEN, FRIEND, OWNER, REAL_TOKEN, STRANGER


def price_of(text: str) -> float:
    match = re.search(r"Stake: ([\d,.]+) USD", text)
    assert match, text
    return float(match.group(1).replace(",", ""))


async def test_help_shows_the_account_and_publishes_commands(start_bot):
    bot = await start_bot(trading=False)
    reply = await bot.send("/start")
    assert "VRTC" in reply["text"] and "DEMO" in reply["text"]
    assert "Trading: off" in reply["text"]
    commands = bot.api.my_commands(scope={"type": "all_private_chats"})
    assert {c["command"] for c in commands} >= {"price", "balance", "buy", "sell", "whoami"}


async def test_strangers_get_one_short_line_and_whoami(start_bot):
    bot = await start_bot()
    refused = await bot.send("/balance", user_id=STRANGER)
    assert refused["text"].startswith("This bot is private") and str(STRANGER) in refused["text"]
    bot.api.user_sends("/buy R_100 CALL 10 5t", user_id=STRANGER)  # rate-limited: no reply
    reply = await bot.send("/whoami", user_id=STRANGER)  # one user's updates run in order
    assert f"Your Telegram user id is {STRANGER}" in reply["text"]
    to_stranger = [c for c in bot.api.outbox("sendMessage") if c.params["chat_id"] == STRANGER]
    assert len(to_stranger) == 2
    assert await bot.client.portfolio() == []


async def test_price_shows_each_symbol_at_its_pip_size(start_bot):
    bot = await start_bot()
    reply = await bot.send("/price R_100 R_50 NOPE")
    lines = dict(line.split(maxsplit=1) for line in reply["text"].splitlines())
    assert re.fullmatch(r"\d+\.\d{2}", lines["R_100"])
    assert re.fullmatch(r"\d+\.\d{4}", lines["R_50"])
    assert not re.fullmatch(r"[\d.]+", lines["NOPE"])  # the server's reason instead
    usage = await bot.send("/price")
    assert usage["text"].startswith("Usage: /price")


async def test_read_only_commands_work_in_groups_and_account_ones_point_to_a_private_chat(
    start_bot,
):
    bot = await start_bot()
    group = {"chat_type": "group"}
    refused = await bot.send("/balance", user_id=OWNER, **group)
    assert refused["text"].startswith("In a private chat, please")
    assert f"t.me/{bot.app.bot.username}?start=" in refused["text"]
    reply = await bot.send("/price r_100", user_id=OWNER, **group)
    assert reply["text"].startswith("R_100")
    assert "10,000" not in refused["text"]


async def test_balance_refresh_edits_the_same_message(start_bot):
    bot = await start_bot()
    reply = await bot.send("/balance")
    assert "10,000.00 USD" in reply["text"] and "DEMO" in reply["text"]
    await bot.client.buy(ContractSpec("CALL", "R_100", amount=7, duration=5), price=7)
    query = await bot.tap(reply, "Refresh")
    edited = await bot.api.next_bot_message(chat_id=OWNER)
    assert edited["method"] == "editMessageText"
    assert edited["message_id"] == reply["message_id"]
    assert "9,993.00 USD" in edited["text"]
    assert (await bot.answer_to(query)).get("callback_query_id") == query


async def test_buy_needs_confirmation_and_happens_once(start_bot):
    bot = await start_bot()
    card = await bot.send("/buy R_100 CALL 10 5t")
    assert "CALL on R_100, 5 ticks" in card["text"]
    assert "DEMO" in card["text"] and card["buttons"] == ["Buy", "Cancel"]
    assert await bot.client.portfolio() == []  # quoting buys nothing
    data = card["reply_markup"]["inline_keyboard"][0][0]["callback_data"]

    await bot.tap(card, "Buy")
    sending = await bot.api.next_bot_message(chat_id=OWNER)
    assert "Sending" in sending["text"] and not sending["buttons"]
    done = await bot.api.next_bot_message(chat_id=OWNER)
    assert done["message_id"] == card["message_id"]
    contract_id = int(re.search(r"Bought contract (\d+)", done["text"]).group(1))

    replay = bot.api.user_taps(card["message_id"], data=data, user_id=OWNER, strict=False)
    assert "expired" in (await bot.answer_to(replay))["text"]
    assert [c.contract_id for c in await bot.client.portfolio()] == [contract_id]
    balance = await bot.client.balance()
    assert balance.balance == 10_000 - price_of(card["text"])

    settled = await bot.api.next_bot_message(chat_id=OWNER, timeout=15)
    assert f"Contract {contract_id} (CALL R_100)" in settled["text"]
    result = re.search(r"(won|lost|broke even): ([+]?-?[\d,.]+) USD", settled["text"])
    assert result, settled["text"]

    profit = await bot.send("/profit 5")
    assert str(contract_id) in profit["text"]
    assert f"Total over the last 1: {result.group(2)} USD" in profit["text"]


async def test_cancel_and_forged_taps_buy_nothing(start_bot):
    bot = await start_bot()
    card = await bot.send("/buy R_100 PUT 5 5t")
    data = card["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await bot.tap(card, "Cancel")
    cancelled = await bot.api.next_bot_message(chat_id=OWNER)
    assert "Cancelled: nothing was sent" in cancelled["text"] and not cancelled["buttons"]
    for forged in (data, "ok:made-up-nonce", "b:made-up-nonce"):
        query = bot.api.user_taps(card["message_id"], data=forged, user_id=OWNER, strict=False)
        assert (await bot.answer_to(query))["text"] == "This button has expired."
    assert await bot.client.portfolio() == []


async def test_only_the_user_who_asked_can_confirm(start_bot):
    bot = await start_bot(allowed=(OWNER, FRIEND))
    card = await bot.send("/buy R_100 CALL 5 5t")
    query = bot.api.user_taps(card["message_id"], label="Buy", user_id=FRIEND, chat_id=OWNER)
    assert (await bot.answer_to(query))["text"] == "This button has expired."
    assert await bot.client.portfolio() == []
    await bot.tap(card, "Buy")  # still pending for its owner
    await bot.api.next_bot_message(chat_id=OWNER)  # sending
    done = await bot.api.next_bot_message(chat_id=OWNER)
    assert "Bought contract" in done["text"]


async def test_an_unconfirmed_order_expires(start_bot):
    bot = await start_bot(order_ttl=0.3)
    card = await bot.send("/buy R_100 CALL 5 5t")
    expired = await bot.api.next_bot_message(chat_id=OWNER)
    assert expired["message_id"] == card["message_id"]
    assert "Expired: nothing was sent" in expired["text"] and not expired["buttons"]
    data = card["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    query = bot.api.user_taps(card["message_id"], data=data, user_id=OWNER, strict=False)
    assert "expired" in (await bot.answer_to(query))["text"]
    assert await bot.client.portfolio() == []


async def test_trading_guards(start_bot):
    bot = await start_bot(trading=False)
    assert "Trading is off" in (await bot.send("/buy R_100 CALL 5 5t"))["text"]
    assert "Trading is off" in (await bot.send("/sell 123"))["text"]
    assert bot.api.outbox("answerCallbackQuery") == []
    assert await bot.client.portfolio() == []


async def test_a_read_only_owner_token_is_refused_before_any_confirmation_card(start_bot):
    bot = await start_bot(
        deriv_token="read-token-bot-0002", accounts={"read-token-bot-0002": ("read",)}
    )
    assert tuple(bot.client.account.scopes) == ("read",)  # as the simulator authorized it
    for command in ("/buy R_100 CALL 5 5t", "/buy R_100 MULTUP 10 x100", "/buy", "/sell 123"):
        refused = await bot.send(command)
        assert "token lacks the trade scope" in refused["text"], (command, refused["text"])
        assert "derivkit config set-token" in refused["text"] and "/connect" not in refused["text"]
        assert not refused["buttons"]
    assert bot.api.outbox("answerCallbackQuery") == []
    assert await bot.client.portfolio() == []


async def test_stake_limits(start_bot):
    bot = await start_bot(max_stake=5)
    over = await bot.send("/buy R_100 CALL 10 5t")
    assert "above this bot's limit of 5.00 USD" in over["text"]
    assert await bot.client.portfolio() == []


async def test_real_money_needs_the_owners_consent(start_bot):
    bot = await start_bot(deriv_token=REAL_TOKEN)
    refused = await bot.send("/buy R_100 CALL 5 5t")
    assert "real-money account" in refused["text"] and "--real-money" in refused["text"]


async def test_real_money_is_named_on_the_card(start_bot):
    bot = await start_bot(deriv_token=REAL_TOKEN, real_money=True)
    card = await bot.send("/buy R_100 CALL 5 5t")
    assert "REAL MONEY" in card["text"] and card["buttons"] == ["Buy", "Cancel"]


async def test_a_trade_typed_while_the_bot_was_away_is_ignored(start_bot):
    bot = await start_bot()
    reply = await bot.send("/buy R_100 CALL 5 5t", date=int(time.time()) - 600)
    assert reply["text"].startswith("Ignored")
    assert await bot.client.portfolio() == []


async def test_bad_trade_arguments_get_a_clear_answer(start_bot):
    bot = await start_bot()
    assert (await bot.send("/buy R_100"))["text"].startswith("Usage: /buy")
    assert "must be a number" in (await bot.send("/buy R_100 CALL ten 5t"))["text"]
    assert "not a duration" in (await bot.send("/buy R_100 CALL 5 5x"))["text"]
    unknown = await bot.send("/buy NOPE CALL 5 5t")
    assert unknown["text"].startswith("❌ Unknown symbol NOPE")
    wrong = await bot.send("/buy r_100 CALLX 5 5t")
    assert "CALLX is not offered on R_100. Valid types:" in wrong["text"]
    assert "CALL, " in wrong["text"] and "PUT" in wrong["text"]
    assert "Usage: /sell" in (await bot.send("/sell abc"))["text"]
    assert (await bot.send("/sell 999999"))["text"].startswith("❌")  # not a contract of ours
    assert await bot.client.portfolio() == []


async def test_sell_from_the_portfolio_button(start_bot):
    bot = await start_bot()
    bot.sim.faults.pause_symbol("R_100")  # no entry tick yet: not sellable
    receipt = await bot.client.buy(
        ContractSpec("CALL", "R_100", amount=5, duration=10, duration_unit="m"), price=5
    )
    too_early = await bot.send(f"/sell {receipt.contract_id}")
    assert "cannot be sold yet" in too_early["text"]
    bot.sim.faults.resume_symbol("R_100")
    async with await bot.client.open_contract(receipt.contract_id) as updates:
        async for state in updates:  # until it has an entry tick
            if state.is_valid_to_sell:
                break
    listing = await bot.send("/portfolio")
    assert str(receipt.contract_id) in listing["text"]
    await bot.tap(listing, f"Sell {receipt.contract_id}")
    card = await bot.api.next_bot_message(chat_id=OWNER)
    assert f"Sell contract {receipt.contract_id}" in card["text"]
    await bot.tap(card, "Sell")
    await bot.api.next_bot_message(chat_id=OWNER)  # sending
    # the sale's result and the settlement's notice, in either order
    told = [(await bot.api.next_bot_message(chat_id=OWNER))["text"] for _ in range(2)]
    assert any(f"Sold contract {receipt.contract_id}" in text for text in told), told
    assert any(f"Contract {receipt.contract_id} (CALL R_100)" in text for text in told), told
    assert await bot.client.portfolio() == []
    assert "No open contracts" in (await bot.send("/portfolio"))["text"]


async def test_flood_control_drops_a_users_excess_updates_and_says_so_once(start_bot):
    bot = await start_bot(allowed=(OWNER, FRIEND))
    bot.rt.limits = UserRateLimits(per_minute=2)
    for _ in range(4):
        bot.api.user_sends("/help", user_id=OWNER)
    bot.api.user_sends("/whoami", user_id=OWNER)  # also over the limit: dropped silently
    bot.api.user_sends("/help", user_id=FRIEND)  # another user's own budget
    texts = [(await bot.api.next_bot_message(chat_id=OWNER))["text"] for _ in range(3)]
    assert sum(text.startswith("<b>derivkit") or "derivkit —" in text for text in texts) == 2
    assert texts[2].startswith("⏳ Slow down, please: try again in ")
    assert "derivkit —" in (await bot.api.next_bot_message(chat_id=FRIEND))["text"]
    await bot.api.wait_for(lambda c: c.method == "getUpdates" and not bot.api.pending_updates)
    to_owner = [c for c in bot.api.outbox("sendMessage") if c.params["chat_id"] == OWNER]
    assert len(to_owner) == 3


async def test_tokens_never_reach_the_log(start_bot, caplog):
    noisy = {
        name: logging.getLogger(name).level
        for name in ("httpx", "httpcore", "apscheduler", "telegram", "websockets")
    }
    caplog.set_level(logging.DEBUG)
    protect_logging([BOT_TOKEN, DEMO_TOKEN], [caplog.handler])
    try:
        bot = await start_bot()
        card = await bot.send("/buy R_100 CALL 5 5t")
        await bot.tap(card, "Buy")
        await bot.api.next_bot_message(chat_id=OWNER)
        await bot.api.next_bot_message(chat_id=OWNER)
        bot.api.user_sends("/balance", user_id=STRANGER)  # logged as rejected, by id only
        await bot.send("/whoami", user_id=STRANGER)
    finally:
        for name, level in noisy.items():
            logging.getLogger(name).setLevel(level)
    text = caplog.text
    assert f"rejected user {STRANGER}: balance" in text
    assert "derivkit" in text  # the bot's own log was captured
    assert "Calling Bot API endpoint" not in text  # PTB's debug log (message texts) is off
    for secret in (BOT_TOKEN, BOT_TOKEN.split(":")[1], DEMO_TOKEN):
        assert secret not in text


async def test_the_bot_rides_out_a_deriv_reconnect(start_bot):
    bot = await start_bot()
    card = await bot.send("/buy R_100 CALL 5 1m")
    await bot.tap(card, "Buy")
    await bot.api.next_bot_message(chat_id=OWNER)  # sending
    done = await bot.api.next_bot_message(chat_id=OWNER)
    contract_id = re.search(r"Bought contract (\d+)", done["text"]).group(1)
    assert bot.sim.faults.drop_connections() == 1
    bot.api.user_sends("/price R_100", user_id=OWNER)  # read-only: runs once reconnected
    texts = [(await bot.api.next_bot_message(chat_id=OWNER, timeout=15))["text"] for _ in "ab"]
    assert any(text.startswith("R_100") for text in texts)
    assert any(f"Contract {contract_id} (CALL R_100)" in text for text in texts)  # re-issued
    assert bot.client.reconnects == 1


async def test_telegram_flood_limits_are_waited_out(start_bot):
    bot = await start_bot()
    bot.api.fault("sendMessage", code=429, retry_after=1, times=1)
    reply = await bot.send("/whoami")
    assert f"Your Telegram user id is {OWNER}" in reply["text"]
    statuses = [call.status for call in bot.api.outbox("sendMessage")]
    assert statuses == [429, 200]


async def test_open_contract_limit_is_checked_at_quote_and_at_confirm(start_bot):
    bot = await start_bot(max_open=1)
    first = await bot.send("/buy R_100 CALL 5 1m")
    second = await bot.send("/buy R_100 PUT 5 1m")  # nothing open yet: both quoted
    await bot.tap(first, "Buy")
    await bot.api.next_bot_message(chat_id=OWNER)  # sending
    assert "Bought contract" in (await bot.api.next_bot_message(chat_id=OWNER))["text"]
    bot.rt.limits = UserRateLimits()  # a fresh trade gap, so the second tap is not throttled
    await bot.tap(second, "Buy")
    await bot.api.next_bot_message(chat_id=OWNER)  # sending
    refused = await bot.api.next_bot_message(chat_id=OWNER)
    assert "1 contracts are open and this bot allows 1 at a time" in refused["text"]
    third = await bot.send("/buy R_100 CALL 5 1m")
    assert third["text"].startswith("Refused: 1 contracts are open")
    assert len(await bot.client.portfolio()) == 1


async def test_daily_loss_limit_counts_open_stakes(start_bot):
    bot = await start_bot(daily_loss=12)
    await bot.client.buy(
        ContractSpec("CALL", "R_100", amount=8, duration=1, duration_unit="m"), price=8
    )
    refused = await bot.send("/buy R_100 CALL 5 1m")  # 8 at stake + 5 > 12
    assert "daily loss limit is 12.00 USD" in refused["text"]
    assert "at stake in open contracts: 8.00 USD" in refused["text"]
    card = await bot.send("/buy R_100 CALL 4 1m")  # 8 + 4 fits
    assert card["buttons"] == ["Buy", "Cancel"]
    assert "daily loss limit 12.00 USD" in (await bot.send("/help"))["text"]


async def test_price_alerts_fire_once_and_share_one_stream(start_bot):
    bot = await start_bot(allowed=(OWNER, FRIEND))
    quote = (await bot.client.ticks_history("R_100", count=1)).prices[-1]
    set_near = await bot.send("/alert r_100 move 0.01")
    assert set_near["text"].startswith("🔔 I will tell you when R_100 moves 0.01% from ")
    reference = float(set_near["text"].split(" from ")[1].split()[0])
    set_far = await bot.send(f"/alert R_100 below {quote / 1000:.2f}", user_id=FRIEND)
    assert "below" in set_far["text"]
    assert bot.sim.market.feed("R_100").listener_count == 1  # both alerts, one stream

    fired = await bot.api.next_bot_message(chat_id=OWNER, timeout=15)
    assert fired["text"].startswith(f"🔔 R_100 moved 0.01% (from {reference:.2f}): ")
    now = float(fired["text"].rsplit(": ", 1)[1])
    assert abs(now - reference) / reference * 100 >= 0.01

    listing = await bot.send("/alerts")
    assert listing["text"].startswith("No price alerts")  # it fired once and is gone
    remaining = await bot.send("/alerts", user_id=FRIEND)
    assert len(remaining["buttons"]) == 1  # the other alert still waits
    assert bot.sim.market.feed("R_100").listener_count == 1


async def test_alerts_are_validated_and_can_be_deleted(start_bot):
    bot = await start_bot(keep_warm=0.3)
    assert (await bot.send("/alert R_100 sideways 5"))["text"].startswith("Usage: /alert")
    assert "must be a number" in (await bot.send("/alert R_100 above lots"))["text"]
    assert "already above" in (await bot.send("/alert R_100 above 1"))["text"]
    assert (await bot.send("/alert NOPE above 5"))["text"].startswith("❌ Unknown symbol")
    async with asyncio.timeout(5):  # refused: the price stream is kept only a little while
        while bot.sim.market.feed("R_100").listener_count:
            await bot.client.ping()

    await bot.send("/alert R_100 above 1000000")
    await bot.send("/alert R_50 below 0.001")
    listing = await bot.send("/alerts")
    assert len(listing["buttons"]) == 2
    await bot.tap(listing, "Delete R_100 above 1000000.00")
    edited = await bot.api.next_bot_message(chat_id=OWNER)
    assert edited["message_id"] == listing["message_id"] and len(edited["buttons"]) == 1
    async with asyncio.timeout(5):  # the reader notices at its next tick and forgets
        while bot.sim.market.feed("R_100").listener_count:
            await bot.client.ping()
    assert bot.sim.market.feed("R_50").listener_count == 1


async def test_a_user_has_at_most_ten_alerts(start_bot):
    bot = await start_bot()
    for n in range(10):
        assert "I will tell you" in (await bot.send(f"/alert R_100 above {10**6 + n}"))["text"]
    refused = await bot.send("/alert R_100 above 2000000")
    assert "you have 10 alerts already" in refused["text"]
    assert len(bot.rt.alerts.of(OWNER)) == 10

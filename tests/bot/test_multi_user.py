"""Multi-user mode end to end: each Telegram user connects their own simulator account through
/connect and sees only their own account, orders and journal; all of it survives a restart."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from derivkit.bot.logsafety import protect_logging
from tests.bot.conftest import BOT_TOKEN, READ_TRADE, wait_until

ALICE, BOB = 501, 502
ALICE_TOKEN, BOB_TOKEN = "alice-token-0001", "bob-token-0002"
ADMIN_TOKEN, PAYMENTS_TOKEN, READ_ONLY = "admin-token-0003", "pay-token-0004", "read-token-0005"
TRADE_ONLY = "trade-token-0007"
REAL = "real-token-0006"


async def multi(start_bot, **options):
    accounts = {
        ALICE_TOKEN: READ_TRADE,
        BOB_TOKEN: READ_TRADE,
        ADMIN_TOKEN: ("read", "trade", "admin"),
        PAYMENTS_TOKEN: ("read", "trade", "payments"),
        READ_ONLY: ("read",),
        TRADE_ONLY: ("trade",),
    }
    return await start_bot(
        mode="multi-user",
        allowed=(),
        trading=None,
        accounts=accounts,
        real_accounts={REAL: READ_TRADE},
        **options,
    )


def every_byte(directory: Path) -> bytes:
    return b"".join(path.read_bytes() for path in directory.rglob("*") if path.is_file())


async def test_connect_deletes_the_token_message_and_stores_it_encrypted(start_bot, caplog):
    names = ("httpx", "httpcore", "apscheduler", "telegram", "websockets")
    levels = {name: logging.getLogger(name).level for name in names}
    caplog.set_level(logging.DEBUG)
    protect_logging([BOT_TOKEN], [caplog.handler])
    try:
        await check_connect(await multi(start_bot), caplog)
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


async def check_connect(bot, caplog):
    sent = bot.api.user_sends(f"/connect {ALICE_TOKEN}", user_id=ALICE)
    reply = await bot.api.next_bot_message(chat_id=ALICE)
    assert (ALICE, sent["message_id"]) in bot.api.deleted_messages
    delete = next(c for c in bot.api.outbox("deleteMessage"))
    answer = next(c for c in bot.api.outbox("sendMessage") if c.params["chat_id"] == ALICE)
    assert delete.seq < answer.seq  # deleted before anything else was said
    text = reply["text"]
    assert "I deleted your message with the token" in text
    loginid = bot.account(ALICE_TOKEN).loginid
    assert f"Connected {loginid} · DEMO · USD" in text and "Scopes: read, trade" in text
    assert ALICE_TOKEN not in text

    assert await bot.storage.token_of(ALICE) == ALICE_TOKEN
    assert ALICE_TOKEN.encode() not in every_byte(bot.data_dir)
    assert ALICE_TOKEN not in caplog.text

    balance = await bot.send("/balance", user_id=ALICE)
    assert "10,000.00 USD" in balance["text"] and loginid in balance["text"]
    account = await bot.send("/account", user_id=ALICE)
    assert f"Connected: {loginid} · DEMO · USD" in account["text"]


async def test_connect_takes_the_token_as_the_next_message(start_bot):
    bot = await multi(start_bot)
    ask = await bot.send("/connect", user_id=BOB)
    assert "Send me your Deriv API token now" in ask["text"]
    sent = bot.api.user_sends(BOB_TOKEN, user_id=BOB)
    reply = await bot.api.next_bot_message(chat_id=BOB)
    assert (BOB, sent["message_id"]) in bot.api.deleted_messages
    assert "✅ Connected" in reply["text"]
    assert await bot.storage.token_of(BOB) == BOB_TOKEN
    hint = await bot.send(BOB_TOKEN, user_id=BOB)  # no /connect pending: just text
    assert hint["text"].startswith("Send me a command")


async def test_a_token_with_the_admin_scope_is_refused_and_not_kept(start_bot):
    bot = await multi(start_bot)
    sent = bot.api.user_sends(f"/connect {ADMIN_TOKEN}", user_id=ALICE)
    reply = await bot.api.next_bot_message(chat_id=ALICE)
    assert (ALICE, sent["message_id"]) in bot.api.deleted_messages
    assert "Refused: this token has the admin scope" in reply["text"]
    assert await bot.storage.token_of(ALICE) is None
    assert await bot.storage.users_with_tokens() == []
    assert "lacks the read scope" in (await bot.connect(ALICE, TRADE_ONLY))["text"]
    assert await bot.storage.token_of(ALICE) is None
    looks = await bot.connect(BOB, READ_ONLY)
    assert "Without the trade scope you can look, but not trade" in looks["text"]
    warned = await bot.connect(ALICE, PAYMENTS_TOKEN)
    assert "✅ Connected" in warned["text"] and "payments scope" in warned["text"]
    refused = await bot.connect(BOB, "no-such-token")
    assert "Deriv refused that token" in refused["text"]


async def test_two_users_see_only_their_own_account_orders_and_journal(start_bot):
    bot = await multi(start_bot)
    await bot.connect(ALICE, ALICE_TOKEN)
    await bot.connect(BOB, BOB_TOKEN)
    card = await bot.send("/buy R_100 CALL 5 1m", user_id=ALICE)
    assert card["buttons"] == ["Buy", "Cancel"]
    # Bob taps Alice's Buy, in her chat and with her button's data in his own chat
    data = card["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    foreign = bot.api.user_taps(card["message_id"], label="Buy", user_id=BOB, chat_id=ALICE)
    assert (await bot.answer_to(foreign))["text"] == "This button has expired."
    own = await bot.send("/help", user_id=BOB)
    forged = bot.api.user_taps(own["message_id"], data=data, user_id=BOB, strict=False)
    assert (await bot.answer_to(forged))["text"] == "This button has expired."
    assert bot.account(ALICE_TOKEN).open_contracts() == []

    await bot.tap(card, "Buy", user_id=ALICE)
    await bot.api.next_bot_message(chat_id=ALICE)  # sending
    done = await bot.api.next_bot_message(chat_id=ALICE)
    contract_id = int(re.search(r"Bought contract (\d+)", done["text"]).group(1))
    assert [c.contract_id for c in bot.account(ALICE_TOKEN).open_contracts()] == [contract_id]
    assert bot.account(BOB_TOKEN).open_contracts() == []

    alice = await bot.send("/portfolio", user_id=ALICE)
    assert str(contract_id) in alice["text"]
    assert (await bot.send("/portfolio", user_id=BOB))["text"] == "No open contracts."
    assert "10,000.00 USD" in (await bot.send("/balance", user_id=BOB))["text"]
    assert "10,000.00 USD" not in (await bot.send("/balance", user_id=ALICE))["text"]
    assert "CALL" in (await bot.send("/history", user_id=ALICE))["text"]
    assert (await bot.send("/history", user_id=BOB))["text"] == "No trades through this bot yet."
    assert [e.telegram_id for e in await bot.storage.journal_entries()] == [ALICE]


async def test_a_restart_keeps_users_alerts_and_journal_and_follows_open_contracts(start_bot):
    bot = await multi(start_bot)
    await bot.connect(ALICE, ALICE_TOKEN)
    assert (
        "I will tell you" in (await bot.send("/alert R_100 above 1000000", user_id=ALICE))["text"]
    )
    await bot.send("/limits stake 20", user_id=ALICE)
    card = await bot.send("/buy R_100 CALL 5 1m", user_id=ALICE)
    await bot.tap(card, "Buy", user_id=ALICE)
    await bot.api.next_bot_message(chat_id=ALICE)  # sending
    done = await bot.api.next_bot_message(chat_id=ALICE)
    contract_id = int(re.search(r"Bought contract (\d+)", done["text"]).group(1))
    listing = await bot.send("/alerts", user_id=ALICE)

    await bot.restart()  # well before the contract settles (1 minute at speed 20: 3 s)

    settled = await bot.api.next_bot_message(chat_id=ALICE, timeout=15)
    assert f"Contract {contract_id} (CALL R_100)" in settled["text"]

    async def told() -> bool:  # recorded as told right after the message went out
        return (await bot.storage.journal_entries(telegram_id=ALICE))[0].notified

    await wait_until(told)
    entry = (await bot.storage.journal_entries(telegram_id=ALICE))[0]
    assert (entry.status, entry.contract_id, entry.notified) == ("settled", contract_id, True)
    assert entry.profit == round(entry.sell_price - entry.buy_price, 2)
    alerts = await bot.send("/alerts", user_id=ALICE)
    assert "R_100 above 1000000.00" in alerts["text"]
    stale = await bot.tap(listing, alerts["buttons"][0], user_id=ALICE)  # a button from before
    assert (await bot.answer_to(stale))["text"] == "This button has expired."
    account = await bot.send("/account", user_id=ALICE)
    assert "Connected: " in account["text"]
    assert "Stake per contract: 20.00 USD" in (await bot.send("/limits", user_id=ALICE))["text"]
    stats = await bot.send("/stats", user_id=ALICE)
    assert "Runs: 1 · " in stats["text"]


async def test_commands_before_connecting_say_how_to_connect(start_bot):
    bot = await multi(start_bot)
    assert (await bot.send("/balance", user_id=ALICE))["text"].startswith("🔌 Connect your")
    start = await bot.send("/start", user_id=ALICE)
    assert start["buttons"] == ["Connect my Deriv account"]
    await bot.tap(start, "Connect my Deriv account", user_id=ALICE)
    assert "Send me your Deriv API token" in (await bot.api.next_bot_message(chat_id=ALICE))["text"]
    price = await bot.send("/price R_100", user_id=ALICE)  # market data needs no account
    assert price["text"].startswith("R_100")


async def test_real_money_only_for_users_the_operator_lists(start_bot):
    bot = await multi(start_bot, real_money_users=(BOB,))
    for user in (ALICE, BOB):
        connected = await bot.connect(user, REAL)
        assert "REAL MONEY" in connected["text"]
        if user == ALICE:
            assert "Real-money trading is not enabled for you" in connected["text"]
    refused = await bot.send("/buy R_100 CALL 5 5t", user_id=ALICE)
    assert "has not allowed you to trade real money" in refused["text"]
    card = await bot.send("/buy R_100 CALL 5 5t", user_id=BOB)
    assert "REAL MONEY" in card["text"] and card["buttons"] == ["Buy", "Cancel"]


async def test_trading_needs_the_trade_scope_and_can_be_stopped(start_bot):
    bot = await multi(start_bot)
    await bot.connect(ALICE, ALICE_TOKEN)
    stopped = await bot.send("/stop", user_id=ALICE)
    assert stopped["text"].startswith("🛑 Stopped")
    assert (
        "Trading is stopped for you"
        in (await bot.send("/buy R_100 CALL 5 5t", user_id=ALICE))["text"]
    )
    await bot.send("/resume", user_id=ALICE)
    assert (await bot.send("/buy R_100 CALL 5 5t", user_id=ALICE))["buttons"] == ["Buy", "Cancel"]
    await bot.connect(BOB, READ_ONLY)
    for command in ("/buy R_100 CALL 5 5t", "/buy", "/sell 123"):  # before any card
        refused = await bot.send(command, user_id=BOB)
        assert "Your token lacks the trade scope" in refused["text"], (command, refused["text"])
        assert "/connect it" in refused["text"] and not refused["buttons"]


async def test_disconnect_wipes_the_token_and_closes_the_connection(start_bot):
    bot = await multi(start_bot)
    await bot.connect(ALICE, ALICE_TOKEN)
    await bot.send("/balance", user_id=ALICE)
    before = bot.sim.connections
    reply = await bot.send("/disconnect", user_id=ALICE)
    assert "I deleted your token" in reply["text"] and "api-token" in reply["text"]
    assert await bot.storage.token_of(ALICE) is None
    await wait_until(lambda: bot.sim.connections < before)
    assert (await bot.send("/balance", user_id=ALICE))["text"].startswith("🔌 Connect your")
    assert (await bot.send("/disconnect", user_id=ALICE))[
        "text"
    ] == "No Deriv account was connected."


async def test_idle_sessions_close_and_reopen_on_the_next_command(start_bot):
    bot = await multi(start_bot, session_idle=60)
    await bot.connect(ALICE, ALICE_TOKEN)
    await bot.connect(BOB, BOB_TOKEN)
    session = bot.rt.sessions.peek(ALICE)
    assert session is not None
    assert await bot.rt.sessions.sweep() == 0
    session.last_used -= 61  # a minute without a command
    assert await bot.rt.sessions.sweep() == 1
    assert bot.rt.sessions.peek(ALICE) is None
    opened = bot.rt.sessions.opened
    assert "10,000.00 USD" in (await bot.send("/balance", user_id=ALICE))["text"]
    assert bot.rt.sessions.opened == opened + 1
    assert bot.rt.sessions.peek(BOB) is not None  # Bob's was in use: kept

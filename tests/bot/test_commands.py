"""The command set end to end: charts, browsing symbols, quotes, the step-by-step buy, selling
everything, stats, repeating alerts, limits, the kill switch, notification levels and status."""

from __future__ import annotations

import re
import struct

from derivkit.core import ContractSpec, DerivClient
from tests.bot.conftest import DEMO_TOKEN, OWNER, READ_TRADE, wait_until


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


async def test_chart_sends_a_png_of_ticks_or_candles(start_bot):
    bot = await start_bot()
    ticks = await bot.send("/chart r_100")
    assert ticks["method"] == "sendPhoto" and ticks["caption"].startswith("R_100: last ")
    assert png_size(bot.api.file_bytes(ticks["photo"])) == (800, 450)
    candles = await bot.send("/chart R_100 5m", chat_type="group")  # market data: groups too
    assert candles["caption"].startswith("R_100: ") and "candles of 5m" in candles["caption"]
    assert png_size(bot.api.file_bytes(candles["photo"])) == (800, 450)
    assert "Granularity must be one of" in (await bot.send("/chart R_100 7m"))["text"]
    assert (await bot.send("/chart"))["text"].startswith("Usage: /chart")
    assert (await bot.send("/chart NOPE"))["text"].startswith("❌ Unknown symbol NOPE")


async def test_symbols_are_browsed_with_buttons(start_bot):
    bot = await start_bot()
    markets = await bot.send("/symbols")
    assert markets["buttons"] and markets["buttons"][0].startswith("Derived (")
    query = await bot.tap(markets, markets["buttons"][0])
    page = await bot.api.next_bot_message(chat_id=OWNER)
    assert page["message_id"] == markets["message_id"] and "page 1" in page["text"]
    assert "More ›" in page["buttons"]
    await bot.answer_to(query)
    r100 = next(label for label in page["buttons"] if label.startswith("R_100 "))
    toast = await bot.answer_to(await bot.tap(page, r100))
    assert re.fullmatch(r"R_100: \d+\.\d{2}", toast["text"])
    contracts = await bot.send("/contracts r_100")
    assert "Contracts on R_100:" in contracts["text"] and "CALL" in contracts["text"]


async def test_quote_prices_without_buttons(start_bot):
    bot = await start_bot()
    quote = await bot.send("/quote R_100 PUT 5 5t")
    assert "PUT on R_100, 5 ticks" in quote["text"] and not quote["buttons"]
    assert "To buy it: /buy R_100 PUT 5 5t" in quote["text"]
    assert await bot.client.portfolio() == []


async def test_the_step_by_step_buy(start_bot):
    bot = await start_bot()
    card = await bot.send("/buy")
    assert "Which symbol?" in card["text"] and "R_100" in card["buttons"]
    for label, question in (
        ("R_100", "Which contract?"),
        ("CALL", "Which stake?"),
        ("5", "How long?"),
    ):
        await bot.tap(card, label)
        card = await bot.api.next_bot_message(chat_id=OWNER)
        assert question in card["text"], card["text"]
    await bot.tap(card, "5t")
    quoted = await bot.api.next_bot_message(chat_id=OWNER)
    assert quoted["message_id"] == card["message_id"]
    assert "CALL on R_100, 5 ticks" in quoted["text"] and quoted["buttons"] == ["Buy", "Cancel"]
    await bot.tap(quoted, "Buy")
    await bot.api.next_bot_message(chat_id=OWNER)  # sending
    assert "Bought contract" in (await bot.api.next_bot_message(chat_id=OWNER))["text"]

    digits = await bot.send("/buy")
    for label in ("R_10", "DIGITMATCH", "1", "1t"):
        await bot.tap(digits, label)
        digits = await bot.api.next_bot_message(chat_id=OWNER)
    assert "Which digit?" in digits["text"]
    await bot.tap(digits, "7")
    card = await bot.api.next_bot_message(chat_id=OWNER)
    assert "DIGITMATCH on R_10" in card["text"] and card["buttons"] == ["Buy", "Cancel"]
    await bot.tap(card, "Cancel")
    assert "Cancelled" in (await bot.api.next_bot_message(chat_id=OWNER))["text"]
    assert len(await bot.client.portfolio()) == 1


async def test_sellall_sells_every_open_contract_after_one_confirmation(start_bot):
    bot = await start_bot()
    for kind in ("CALL", "PUT"):
        await bot.client.buy(
            ContractSpec(kind, "R_100", amount=5, duration=10, duration_unit="m"), price=5
        )

    async def sellable() -> bool:
        for contract in await bot.client.portfolio():
            async with await bot.client.open_contract(contract.contract_id) as updates:
                if not (await anext(updates)).is_valid_to_sell:
                    return False
        return True

    await wait_until(sellable)
    card = await bot.send("/sellall")
    assert "Sell <b>all 2</b>" in card["raw_text"] and card["buttons"] == ["Sell all", "Cancel"]
    await bot.tap(card, "Sell all")
    await bot.api.next_bot_message(chat_id=OWNER)  # sending
    # the card's result and the two settlements' notices, in any order
    told = [(await bot.api.next_bot_message(chat_id=OWNER))["text"] for _ in "abc"]
    (done,) = [text for text in told if "Sold contract" in text]
    assert done.count("✅ Sold contract") == 2
    assert await bot.client.portfolio() == []
    notices = [text for text in told if text != done]
    assert all(re.search(r"Contract \d+ \((CALL|PUT) R_100\)", text) for text in notices)
    assert "Nothing can be sold now" in (await bot.send("/sellall"))["text"]


async def test_stats_and_history_come_from_the_journal(start_bot):
    bot = await start_bot()
    assert "Runs: 0 · won 0 · lost 0" in (await bot.send("/stats today"))["text"]
    card = await bot.send("/buy R_100 CALL 5 5t")
    await bot.tap(card, "Buy")
    await bot.api.next_bot_message(chat_id=OWNER)  # sending
    await bot.api.next_bot_message(chat_id=OWNER)  # bought
    settled = await bot.api.next_bot_message(chat_id=OWNER, timeout=15)
    won = "won" in settled["text"]

    async def journaled() -> bool:
        return (await bot.storage.journal_entries())[0].status == "settled"

    await wait_until(journaled)
    stats = (await bot.send("/stats week"))["text"]
    assert "Runs: 1 · " in stats and (f"won {int(won)}" in stats)
    assert ("Win rate: 100%" if won else "Win rate: 0%") in stats
    history = await bot.send("/history")
    assert "CALL" in history["text"] and "R_100" in history["text"]
    assert (await bot.send("/stats forever"))["text"].startswith("Usage: /stats")
    statement = await bot.send("/statement 5")
    assert "buy" in statement["text"]


async def test_a_repeating_alert_fires_again_after_its_cooldown(start_bot):
    bot = await start_bot()
    set_ = await bot.send("/alert R_100 move 0.005 repeat 1s")
    assert "(repeats, 1s apart)" in set_["text"]
    first = await bot.api.next_bot_message(chat_id=OWNER, timeout=15)
    second = await bot.api.next_bot_message(chat_id=OWNER, timeout=15)
    assert first["text"].startswith("🔔 R_100 moved") and second["text"].startswith(
        "🔔 R_100 moved"
    )
    first_from = first["text"].split("(from ")[1].split(")")[0]
    second_from = second["text"].split("(from ")[1].split(")")[0]
    assert first_from != second_from  # the next move is measured from where it fired
    assert len(bot.rt.alerts.of(OWNER)) == 1  # still there
    (stored,) = await bot.storage.active_alerts(OWNER)
    assert stored.last_fired_at is not None
    deleted = await bot.send(f"/unalert {stored.id}")
    assert deleted["text"].startswith("Deleted: R_100 moves 0.005%")
    assert "You have no alert" in (await bot.send(f"/unalert {stored.id}"))["text"]
    assert "Usage: /alert" in (await bot.send("/alert R_100 above 5 sometimes"))["text"]


async def test_limits_stop_and_resume(start_bot):
    bot = await start_bot(max_stake=50, max_open=5)
    shown = await bot.send("/limits")
    assert "Stake per contract: 50.00 USD (bot's cap 50.00 USD)" in shown["text"]
    lowered = await bot.send("/limits stake 5")
    assert "Stake per contract: 5.00 USD" in lowered["text"]
    assert "above this bot's limit of 5.00 USD" in (await bot.send("/buy R_100 CALL 10 5t"))["text"]
    assert "at most 50" in (await bot.send("/limits stake 100"))["text"]
    assert "Open at once: 1" in (await bot.send("/limits open 1"))["text"]
    assert "must be a whole number" in (await bot.send("/limits open many"))["text"]
    assert "Stake per contract: 50.00 USD" in (await bot.send("/limits stake off"))["text"]
    card = await bot.send("/buy R_100 CALL 5 5t")
    stopped = await bot.send("/stop")
    assert "1 pending confirmation(s) cancelled" in stopped["text"]
    await bot.tap(card, "Buy")
    assert "no longer valid" in (await bot.answer_to(await bot.tap(card, "Buy")))["text"]
    assert "Trading is stopped" in (await bot.send("/sellall"))["text"]
    await bot.send("/resume")
    assert (await bot.send("/buy R_100 CALL 5 5t"))["buttons"] == ["Buy", "Cancel"]
    assert await bot.client.portfolio() == []


async def test_notification_levels_and_settlements_of_contracts_bought_elsewhere(start_bot):
    alice, token = 601, "alice-token-notify"
    bot = await start_bot(mode="multi-user", allowed=(), accounts={token: READ_TRADE})
    await bot.connect(alice, token)
    async with DerivClient(bot.sim.url, token=token) as elsewhere:  # another app, same account
        receipt = await elsewhere.buy(ContractSpec("CALL", "R_100", amount=3, duration=5), price=3)
        settled = await bot.api.next_bot_message(chat_id=alice, timeout=15)
        assert f"Contract {receipt.contract_id} (CALL R_100)" in settled["text"]
        sent = bot.api.outbox("sendMessage")[-1]
        assert not sent.params.get("disable_notification")

        levels = await bot.send("/notify settlement silent", user_id=alice)
        assert "settlement: silent" in levels["text"]
        second = await elsewhere.buy(ContractSpec("PUT", "R_100", amount=3, duration=5), price=3)
        quiet = await bot.api.next_bot_message(chat_id=alice, timeout=15)
        assert f"Contract {second.contract_id}" in quiet["text"]
        notice = next(
            c for c in bot.api.outbox("sendMessage") if str(second.contract_id) in c.params["text"]
        )
        assert notice.params["disable_notification"] is True

        await bot.send("/notify settlement off", user_id=alice)
        third = await elsewhere.buy(ContractSpec("CALL", "R_100", amount=3, duration=5), price=3)
        async with await elsewhere.open_contract(third.contract_id) as updates:
            async for state in updates:
                if state.is_sold:
                    break
        reply = await bot.send("/whoami", user_id=alice)
        assert reply["text"].startswith("Your Telegram user id")  # no settlement notice
    assert "Usage: /notify" in (await bot.send("/notify weather on", user_id=alice))["text"]


async def test_status_names_connections_latency_and_server_time(start_bot):
    bot = await start_bot()
    status = await bot.send("/status")
    assert "Market data: connected, latency " in status["text"]
    assert re.search(r"Server time: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", status["text"])
    assert DEMO_TOKEN not in status["text"]

"""The bot always answers: unknown commands and text get a hint, strangers one short line,
account commands in groups a pointer to the private chat, floods one "try again in", and every
tapped button exactly one answer, a stale, foreign or forged one "This button has expired"
without touching any message."""

from __future__ import annotations

from collections import Counter

from tests.bot.conftest import FRIEND, OWNER, STRANGER


async def test_unknown_commands_and_plain_text_get_a_hint(start_bot):
    bot = await start_bot()
    unknown = await bot.send("/frobnicate now")
    assert unknown["text"] == "I don't know /frobnicate. /help lists what I can do."
    text = await bot.send("what is the price?")
    assert text["text"].startswith("Send me a command, e.g. /price R_100")


async def test_a_stranger_gets_one_line_not_a_conversation(start_bot):
    bot = await start_bot()
    first = await bot.send("/start", user_id=STRANGER)
    assert first["text"].startswith("This bot is private.")
    for text in ("/balance", "hello", "/price R_100"):
        bot.api.user_sends(text, user_id=STRANGER)
    await bot.send("/whoami", user_id=STRANGER)  # one user's updates run in order
    to_stranger = [c for c in bot.api.outbox("sendMessage") if c.params["chat_id"] == STRANGER]
    assert len(to_stranger) == 2  # the one line, and /whoami


async def test_a_strangers_tap_is_answered_and_touches_nothing(start_bot):
    bot = await start_bot(allowed=(OWNER,))
    listing = await bot.send("/balance")
    query = bot.api.user_taps(
        listing["message_id"], label="Refresh", user_id=STRANGER, chat_id=OWNER
    )
    assert (await bot.answer_to(query))["text"] == "This button has expired."
    assert bot.api.outbox("editMessageText") == []


async def test_a_button_of_another_card_cannot_touch_this_one(start_bot):
    bot = await start_bot()
    await bot.send("/alert R_100 above 1000000")
    alerts = await bot.send("/alerts")
    delete_data = alerts["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    card = await bot.send("/buy R_100 CALL 5 5t")
    query = bot.api.user_taps(card["message_id"], data=delete_data, strict=False)
    assert (await bot.answer_to(query))["text"] == "This button has expired."
    assert bot.api.outbox("editMessageText") == []  # neither card was changed
    assert len(bot.rt.alerts.of(OWNER)) == 1  # and nothing was deleted
    await bot.tap(card, "Cancel")
    assert "Cancelled" in (await bot.api.next_bot_message(chat_id=OWNER))["text"]


async def test_every_tap_is_answered_exactly_once(start_bot):
    bot = await start_bot(allowed=(OWNER, FRIEND))
    balance = await bot.send("/balance")
    card = await bot.send("/buy R_100 CALL 5 5t")
    data = card["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    queries = [
        await bot.tap(balance, "Refresh"),
        bot.api.user_taps(card["message_id"], label="Buy", user_id=FRIEND, chat_id=OWNER),
        await bot.tap(card, "Buy"),
        bot.api.user_taps(card["message_id"], data=data, strict=False),  # a double tap
        bot.api.user_taps(card["message_id"], data="alert-del:1", strict=False),  # old format
        bot.api.user_taps(card["message_id"], data="b:forged", strict=False),
    ]
    for query in queries:
        await bot.answer_to(query)
    await bot.send("/whoami")  # the owner's updates before it are done
    await bot.send("/whoami", user_id=FRIEND)
    answers = Counter(c.params["callback_query_id"] for c in bot.api.outbox("answerCallbackQuery"))
    assert all(answers[query] == 1 for query in queries), answers
    assert all(c.ok for c in bot.api.outbox("answerCallbackQuery"))
    assert len(await bot.client.portfolio()) == 1


async def test_a_command_in_a_group_that_needs_the_private_chat(start_bot):
    bot = await start_bot()
    refused = await bot.send("/buy R_100 CALL 5 5t", chat_type="group")
    assert refused["text"].startswith("In a private chat, please: https://t.me/")
    assert await bot.client.portfolio() == []
    chatter = bot.api.user_sends("nice weather", chat_type="group")
    await bot.send("/price R_100", chat_type="group")
    in_group = [
        c for c in bot.api.outbox("sendMessage") if c.params["chat_id"] == chatter["chat"]["id"]
    ]
    assert len(in_group) == 2  # the refusal and the price: group chatter gets no reply


async def test_a_token_pasted_into_a_group_is_deleted_and_called_compromised(start_bot):
    bot = await start_bot(mode="multi-user", allowed=())
    sent = bot.api.user_sends("/connect some-token-123", chat_type="group")
    warning = await bot.api.next_bot_message(chat_id=sent["chat"]["id"])
    assert (sent["chat"]["id"], sent["message_id"]) in bot.api.deleted_messages
    assert "I deleted it, but others may have seen it. Revoke it" in warning["text"]
    assert await bot.storage.users_with_tokens() == []


async def test_the_gate_fails_closed(start_bot):
    bot = await start_bot()
    bot.api.fault("sendMessage", code=500, times=1, when=lambda p: p["chat_id"] == STRANGER)
    bot.api.user_sends("/buy R_100 CALL 5 5t", user_id=STRANGER)  # its refusal cannot be sent
    reply = await bot.send("/whoami", user_id=STRANGER)  # one user's updates run in order
    assert reply["text"].startswith("Your Telegram user id")  # the first thing that got out
    to_stranger = [c for c in bot.api.outbox("sendMessage") if c.params["chat_id"] == STRANGER]
    assert [c.status for c in to_stranger] == [500, 200]  # nothing ran past the gate
    assert await bot.client.portfolio() == []

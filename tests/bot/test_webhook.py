"""Webhook mode: PTB's webhook server behind ``--webhook URL --listen HOST:PORT``, fed by the fake
Bot API over real HTTP, with Telegram's secret-token header checked on every request."""

from __future__ import annotations

import json

import aiohttp
import pytest

from tests.bot.conftest import OWNER

pytestmark = pytest.mark.timeout(60)


async def test_updates_arrive_by_webhook_and_are_answered(start_bot):
    bot = await start_bot(webhook=True)
    webhook = bot.api.webhook
    assert webhook is not None and webhook["url"] == bot.settings.webhook
    assert webhook["secret_token"] == bot.settings.secret_token()
    reply = await bot.send("/price R_100")
    assert "R_100" in reply["text"]
    assert [status for _, url, status in bot.api.deliveries] == [200]
    assert not bot.api.outbox("getUpdates")  # no polling at all


async def test_a_request_without_the_secret_token_is_refused(start_bot):
    bot = await start_bot(webhook=True)
    update = {
        "update_id": 999_001,
        "message": {
            "message_id": 1,
            "date": 1_900_000_000,
            "chat": {"id": OWNER, "type": "private", "first_name": "Mallory"},
            "from": {"id": OWNER, "is_bot": False, "first_name": "Mallory"},
            "text": "/balance",
            "entities": [{"type": "bot_command", "offset": 0, "length": 8}],
        },
    }
    body = json.dumps(update)
    headers = {"Content-Type": "application/json"}
    async with aiohttp.ClientSession() as session:
        for secret in (None, "wrong-secret"):
            sent = dict(headers)
            if secret is not None:
                sent["X-Telegram-Bot-Api-Secret-Token"] = secret
            async with session.post(bot.settings.webhook, data=body, headers=sent) as answer:
                assert answer.status == 403
    reply = await bot.send("/whoami")  # the bot is alive, and the forged /balance did nothing
    assert str(OWNER) in reply["text"]
    assert not [c for c in bot.api.outbox("sendMessage") if "alance" in c.params.get("text", "")]


async def test_polling_stays_the_default(start_bot):
    bot = await start_bot(webhook=False)
    assert bot.api.webhook is None
    reply = await bot.send("/whoami")
    assert str(OWNER) in reply["text"]

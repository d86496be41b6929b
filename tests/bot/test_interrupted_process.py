"""A real ``derivkit bot run`` process (multi-user, SQLite) killed with SIGKILL while a sale it
sent waits for Deriv's reply: the sale happened on Deriv, the card says "Sending…", the process
is gone. The next process finds the Confirm's tombstone, checks the contract with Deriv and
finishes the card with the sale; nothing is sold twice."""

from __future__ import annotations

import asyncio

from derivkit.core import DerivClient
from derivkit.sim import RateLimits, Simulator
from tests.bot.conftest import BOT_TOKEN, sellable_contract, wait_until
from tests.bot.test_cli import read_until, spawn_bot, stop
from tests.fakes.telegram_api import FakeTelegramAPI

USER, TOKEN = 4343, "killed-bot-token-01"


async def _started(api: FakeTelegramAPI, sim: Simulator) -> asyncio.subprocess.Process:
    process = await spawn_bot(
        api, "--endpoint", sim.url, "bot", "run", "--mode", "multi-user", "--trading"
    )
    assert process.stderr is not None
    await read_until(process.stderr, "Bot running", [])
    await api.wait_until_polling(timeout=10)
    return process


async def test_a_sale_sent_by_a_killed_process_is_checked_and_told_at_the_next_start():
    async with (
        Simulator(
            seed=4, tokens=[TOKEN], scopes=["read", "trade"], rate_limits=RateLimits.unlimited()
        ) as sim,
        FakeTelegramAPI(token=BOT_TOKEN) as api,
    ):
        async with DerivClient(sim.url, token=TOKEN) as client:
            contract_id = await sellable_contract(client)
        account = sim.accounts[TOKEN]

        def card_text(message_id: int) -> str:
            return next(m.text or "" for m in api.transcript(USER) if m.message_id == message_id)

        process = await _started(api, sim)
        try:
            api.user_sends(f"/connect {TOKEN}", user_id=USER)
            assert "✅ Connected" in (await api.next_bot_message(chat_id=USER, timeout=10))["text"]
            api.user_sends(f"/sell {contract_id}", user_id=USER)
            card = await api.next_bot_message(chat_id=USER, timeout=10)
            assert card["buttons"] == ["Sell", "Cancel"], card["text"]
            sim.faults.token_delay[TOKEN] = 600.0  # Deriv sells, its reply never comes in time
            api.user_taps(card["message_id"], label="Sell", user_id=USER)
            await wait_until(lambda: "Sending" in card_text(card["message_id"]), timeout=10)
            await wait_until(lambda: not account.open_contracts(), timeout=10)  # sold
            process.kill()
            await process.wait()
            sim.faults.token_delay.clear()
            assert "Sending" in card_text(card["message_id"])  # what the user sees now

            process = await _started(api, sim)
            await wait_until(
                lambda: "Checked with Deriv" in card_text(card["message_id"]), timeout=30
            )
            text = card_text(card["message_id"])
            assert f"contract {contract_id} was sold, for " in text, text
            assert sum(t.action_type == "sell" for t in account.transactions) == 1
            settled = f"Contract {contract_id} (CALL R_100)"  # and its settlement told
            await wait_until(
                lambda: any(settled in (m.text or "") for m in api.transcript(USER)), timeout=10
            )
            await stop(process)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()

"""A Confirm whose instance died mid-way, run again by another instance (two ``derivkit bot
run`` processes on one PostgreSQL database, the fake Bot API delivering webhooks, the
simulator as Deriv). One instance is killed (SIGKILL) holding two users' Confirms: one past
consuming its order but before anything was sent, the other after its buy went out and before
Deriv's reply came. The survivor takes both updates over and runs them again.

Asserted: each card ends with the true outcome (not sent and nothing bought; bought, with the
contract and its price), never "no longer valid" and never left at "Sending…"; the simulator
counts no buy for the first user and exactly one for the second."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from derivkit.sim import RateLimits, Simulator
from tests.bot.conftest import BOT_TOKEN, READ_TRADE, wait_until
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fleetprocs import start_instances, tails

pytestmark = [pytest.mark.timeout(180), pytest.mark.fleet]

UNSENT, SENT = 81_001, 81_002  # killed after the claim / after the send


def token(user: int) -> str:
    return f"rerun-token-{user}"


def bot_texts(api, user: int) -> list[str]:
    return [m.text or "" for m in api.transcript(user) if m.from_bot]


async def answer(api, user: int, command: str, expect: str):
    mark = len(api.transcript(user))
    api.user_sends(command, user_id=user)

    def found():
        return next(
            (m for m in api.transcript(user)[mark:] if m.from_bot and expect in (m.text or "")),
            None,
        )

    await wait_until(found, timeout=30)
    return found()


def card_text(api, user: int, message_id: int) -> str:
    return next(m.text or "" for m in api.transcript(user) if m.message_id == message_id)


def buys(sim, user: int) -> list[object]:
    return [t for t in sim.accounts[token(user)].transactions if t.action_type == "buy"]


async def test_confirms_run_again_after_their_instance_died_tell_the_true_outcome(
    postgres_url, tmp_path
):
    async with (
        Simulator(seed=21, speed=4, rate_limits=RateLimits.unlimited()) as sim,
        FakeTelegramAPI(token=BOT_TOKEN) as api,
    ):
        for user in (UNSENT, SENT):
            sim.add_account(token(user), scopes=READ_TRADE)
        bots = await start_instances(
            2,
            endpoint=sim.url,
            api_url=api.base_url,
            bot_token=BOT_TOKEN,
            database=postgres_url,
            storage_key=Fernet.generate_key().decode(),
            home=tmp_path,
        )
        victim, survivor = bots
        try:
            api.balance([victim.webhook])
            cards = {}
            for user in (UNSENT, SENT):
                await answer(api, user, f"/connect {token(user)}", "✅ Connected")
                cards[user] = await answer(api, user, "/buy R_100 CALL 1 2m", "Confirm within")
            # the first Confirm stops at its "Sending…" answer: the order is consumed, no buy
            tapped: dict[str, str] = {}
            held = api.hold(
                "answerCallbackQuery",
                times=1,
                when=lambda p: p.get("callback_query_id") == tapped.get("unsent"),
            )
            tapped["unsent"] = api.user_taps(cards[UNSENT].message_id, label="Buy", user_id=UNSENT)
            # the second one's buy goes out and executes; Deriv's reply is slow to come
            sim.faults.token_delay[token(SENT)] = 120.0
            tapped["sent"] = api.user_taps(cards[SENT].message_id, label="Buy", user_id=SENT)
            await wait_until(lambda: held.held == 1 and buys(sim, SENT), timeout=30)
            assert "Sending…" in card_text(api, SENT, cards[SENT].message_id)
            victim.kill()
            sim.faults.token_delay.clear()
            api.balance([survivor.webhook])

            def finished(user: int, words: str) -> bool:
                return words in card_text(api, user, cards[user].message_id)

            await wait_until(lambda: finished(UNSENT, "Not sent: nothing was bought"), timeout=40)
            (contract,) = sim.accounts[token(SENT)].open_contracts()
            bought = f"Bought: contract {contract.contract_id} (CALL on R_100) for 1.00 USD"
            await wait_until(lambda: finished(SENT, bought), timeout=40)
            assert len(buys(sim, UNSENT)) == 0 and len(buys(sim, SENT)) == 1
            for user in (UNSENT, SENT):
                texts = bot_texts(api, user)
                assert not [t for t in texts if "Sending…" in t], texts
                assert not [t for t in texts if "no longer valid" in t], texts
            for query in tapped.values():
                assert "no longer valid" not in api.answered_callbacks[query].get("text", "")
        except BaseException:
            print(tails(bots))
            raise
        finally:
            for bot in bots:
                await bot.stop()

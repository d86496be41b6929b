"""Account-level limits a buy must pass: the stake, how many contracts may be open, and how much
the day may lose. Checked when a buy is quoted and again when it is confirmed (other trades may
have happened in between). The day is the server's UTC day.

Open contracts and their stakes come from the session's followed positions (kept current by the
account's transaction stream), so a check costs no Deriv call unless a daily loss limit is set
(then one ``profit_table``).
"""

from __future__ import annotations

import asyncio
import contextlib

from derivkit.bot.runtime import BotRuntime
from derivkit.bot.sessions import AccountSession
from derivkit.formatting import money

__all__ = ["buy_refusal", "day_start", "loss_refusal"]

DAY = 86_400
MAX_SETTLED_TODAY = 500  # the most a profit_table reply holds


def day_start(epoch: int) -> int:
    """The epoch of 00:00 UTC on ``epoch``'s day."""
    return epoch - epoch % DAY


def loss_refusal(
    settled_today: float, open_stakes: float, stake: float, limit: float, currency: str
) -> str | None:
    """Refuse unless the worst case stays within ``limit``: the day's net settled loss, plus
    every open stake, plus this one, all lost. Winnings do not raise the limit."""
    worst = max(0.0, -settled_today) + open_stakes + stake
    if worst <= limit:
        return None
    return (
        f"Refused: today's daily loss limit is {money(limit, currency)}. Settled today: "
        f"{money(settled_today, currency)}; at stake in open contracts: "
        f"{money(open_stakes, currency)}; this contract: {money(stake, currency)}."
    )


async def _positions(session: AccountSession) -> tuple[int, float]:
    """How many contracts are open and what they staked."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(session.client.request_timeout):
            await session.following.wait()
    if session.following.is_set():
        return len(session.watchers), session.watchers.open_stakes()
    contracts = await session.client.portfolio()
    return len(contracts), sum(contract.buy_price for contract in contracts)


async def buy_refusal(
    rt: BotRuntime, session: AccountSession, user_id: int, stake: float
) -> str | None:
    """Why a buy of ``stake`` by ``user_id`` breaks a limit now, or None."""
    limits = await rt.trading_limits(user_id)
    currency = session.currency
    if stake > limits.max_stake:
        return (
            f"Refused: {money(stake, currency)} is above this bot's limit of "
            f"{money(limits.max_stake, currency)} per contract."
        )
    count, stakes = await _positions(session)
    if count >= limits.max_open:
        return (
            f"Refused: {count} contracts are open and this bot allows {limits.max_open} at a time."
        )
    if limits.daily_loss is None:
        return None
    today = day_start(await session.client.server_time())
    settled = await session.client.profit_table(limit=MAX_SETTLED_TODAY, date_from=today)
    count, stakes = await _positions(session)  # the calls above let every message arrive
    return loss_refusal(
        sum(entry.profit for entry in settled), stakes, stake, limits.daily_loss, currency
    )

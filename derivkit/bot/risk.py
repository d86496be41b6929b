"""Account-level limits a buy must pass: how many contracts may be open, and how much the day
may lose. Checked when a buy is quoted and again when it is confirmed (other trades may have
happened in between). The day is the server's UTC day.
"""

from __future__ import annotations

from derivkit.bot.runtime import BotRuntime
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


async def buy_refusal(rt: BotRuntime, stake: float) -> str | None:
    """Why a buy of ``stake`` breaks a limit now, or None. Reads the account (read-only calls)."""
    settings = rt.settings
    open_contracts = await rt.client.portfolio()
    if len(open_contracts) >= settings.max_open:
        return (
            f"Refused: {len(open_contracts)} contracts are open and this bot allows "
            f"{settings.max_open} at a time."
        )
    if settings.daily_loss is None:
        return None
    today = day_start(await rt.client.server_time())
    settled = await rt.client.profit_table(limit=MAX_SETTLED_TODAY, date_from=today)
    return loss_refusal(
        sum(entry.profit for entry in settled),
        sum(contract.buy_price for contract in open_contracts),
        stake,
        settings.daily_loss,
        rt.currency,
    )

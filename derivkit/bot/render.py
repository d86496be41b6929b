"""The bot's messages as Telegram HTML. Every dynamic value goes through :func:`html.escape`.

Pure functions of core models: no Telegram calls, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from derivkit.bot.alerts import Alert
from derivkit.core import (
    AccountInfo,
    BuyReceipt,
    ContractSpec,
    OpenContract,
    PortfolioContract,
    ProfitTableEntry,
    Proposal,
    SellReceipt,
    Tick,
)
from derivkit.formatting import DURATION_UNITS, money, price

__all__ = [
    "MAX_MESSAGE",
    "account_label",
    "alert_fired",
    "bought",
    "portfolio_lines",
    "pre_chunks",
    "profit_lines",
    "quote_card",
    "quotes_table",
    "settlement",
    "sold",
]

MAX_MESSAGE = 4096
_PRE_OVERHEAD = len("<pre></pre>")


def account_label(account: AccountInfo | None) -> str:
    """``VRTC123 · <b>DEMO</b>`` / ``CR123 · <b>REAL MONEY</b>``."""
    if account is None:
        return "no account"
    kind = "DEMO" if account.is_virtual else "REAL MONEY"
    return f"{escape(account.loginid)} · <b>{kind}</b>"


def duration_text(spec: ContractSpec) -> str:
    unit = DURATION_UNITS.get(spec.duration_unit, spec.duration_unit)
    return f"{spec.duration} {unit.rstrip('s') if spec.duration == 1 else unit}"


def quote_card(spec: ContractSpec, proposal: Proposal, account: AccountInfo | None) -> str:
    """What a Confirm button buys: contract, stake, payout, account (DEMO or REAL in bold)."""
    currency = spec.currency
    barrier = f", barrier {escape(spec.barrier)}" if spec.barrier is not None else ""
    return (
        f"<b>{escape(spec.contract_type)}</b> on <b>{escape(spec.symbol)}</b>, "
        f"{duration_text(spec)}{barrier}\n"
        f"Stake: <b>{money(proposal.ask_price, currency)}</b>\n"
        f"Payout: {money(proposal.payout, currency)} "
        f"(profit if it wins: {money(proposal.payout - proposal.ask_price, currency)})\n"
        f"Account: {account_label(account)}\n"
        f"<i>{escape(proposal.longcode)}</i>"
    )


def bought(receipt: BuyReceipt, currency: str) -> str:
    return (
        f"✅ Bought contract <code>{receipt.contract_id}</code> for "
        f"{money(receipt.buy_price, currency)}. "
        f"Balance: {money(receipt.balance_after, currency)}.\n"
        "I will tell you when it settles."
    )


def sold(receipt: SellReceipt, currency: str) -> str:
    return (
        f"✅ Sold contract <code>{receipt.contract_id}</code> for "
        f"{money(receipt.sold_for, currency)}. Balance: {money(receipt.balance_after, currency)}."
    )


def settlement(contract: OpenContract) -> str:
    """A settled contract's result: 🚀 profit ≥ 5 % of the stake, ✳ profit, ❌ loss."""
    currency = contract.currency
    profit = contract.profit
    if profit > 0:
        mark = "🚀" if contract.buy_price and profit >= 0.05 * contract.buy_price else "✳"
        verdict = "won"
    elif profit < 0:
        mark, verdict = "❌", "lost"
    else:
        mark, verdict = "➖", "broke even"
    sign = "+" if profit > 0 else ""
    return (
        f"{mark} Contract <code>{contract.contract_id}</code> "
        f"({escape(contract.contract_type)} {escape(contract.underlying)}) {verdict}: "
        f"<b>{sign}{money(profit, currency)}</b> "
        f"(stake {money(contract.buy_price, currency)}, "
        f"sold for {money(contract.sell_price, currency)})"
    )


def alert_fired(alert: Alert, tick: Tick) -> str:
    side = "above" if alert.above else "below"
    return (
        f"🔔 <b>{escape(alert.symbol)}</b> is {side} {price(alert.level, alert.pip_size)}: "
        f"<b>{price(tick.quote, tick.pip_size)}</b>"
    )


def quotes_table(rows: Sequence[tuple[str, float | None, int | None, str]]) -> list[str]:
    """Rows of (symbol, quote, pip size, error or "") as ``<pre>`` messages."""
    lines = []
    for symbol, quote, pip_size, error in rows:
        shown = error if error else price(quote, pip_size)
        lines.append(f"{symbol:<12} {shown}")
    return pre_chunks(lines)


def portfolio_lines(contracts: Sequence[PortfolioContract]) -> list[str]:
    return [
        f"{c.contract_id:<12} {c.contract_type:<10} {c.symbol:<10} "
        f"{money(c.buy_price, c.currency):>14} -> {money(c.payout, c.currency)}"
        for c in contracts
    ]


def profit_lines(entries: Sequence[ProfitTableEntry], currency: str) -> tuple[list[str], float]:
    lines = []
    total = 0.0
    for entry in entries:
        profit = entry.profit
        total += profit
        lines.append(
            f"{entry.contract_id:<12} {entry.contract_type:<10} {entry.underlying_symbol:<10} "
            f"{'+' if profit > 0 else ''}{money(profit, currency)}"
        )
    return lines, total


def pre_chunks(lines: Sequence[str], limit: int = MAX_MESSAGE) -> list[str]:
    """Lines in ``<pre>`` blocks, split between lines so no message exceeds ``limit``."""
    chunks: list[str] = []
    current: list[str] = []
    size = _PRE_OVERHEAD
    for line in lines:
        text = escape(line)[: limit - _PRE_OVERHEAD - 1]
        if current and size + len(text) + 1 > limit:
            chunks.append("<pre>" + "\n".join(current) + "</pre>")
            current, size = [], _PRE_OVERHEAD
        current.append(text)
        size += len(text) + 1
    if current:
        chunks.append("<pre>" + "\n".join(current) + "</pre>")
    return chunks

"""The bot's messages as Telegram HTML. Every dynamic value goes through :func:`html.escape`.

Pure functions of core models: no Telegram calls, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from derivkit.core import (
    AccountInfo,
    AnySpec,
    BuyReceipt,
    ContractSpec,
    ContractUpdate,
    OpenContract,
    PortfolioContract,
    ProfitTableEntry,
    Proposal,
    SellReceipt,
    StatementEntry,
    Tick,
)
from derivkit.formatting import duration_text, money, price, utc
from derivkit.products import (
    ending,
    is_product,
    net_result,
    order_text,
    position_terms,
    product_quote,
)
from derivkit.storage import AlertRecord, JournalEntry

__all__ = [
    "MAX_MESSAGE",
    "PHONE_WIDTH",
    "account_label",
    "alert_fired",
    "alert_text",
    "bought",
    "cancelled",
    "contract_card",
    "journal_lines",
    "portfolio_lines",
    "pre_chunks",
    "profit_lines",
    "quote_card",
    "quotes_table",
    "updated",
    "resolved_bought",
    "settled_entry",
    "settlement",
    "sold",
    "statement_lines",
    "stats_text",
]

MAX_MESSAGE = 4096
_PRE_OVERHEAD = len("<pre></pre>")


def account_label(account: AccountInfo | None) -> str:
    """``VRTC123 · <b>DEMO</b>`` / ``CR123 · <b>REAL MONEY</b>``."""
    if account is None:
        return "no account"
    kind = "DEMO" if account.is_virtual else "REAL MONEY"
    return f"{escape(account.loginid)} · <b>{kind}</b>"


def quote_card(spec: AnySpec, proposal: Proposal, account: AccountInfo | None) -> str:
    """What a Confirm button buys: contract, stake, payout (or a product's terms), account (DEMO
    or REAL in bold)."""
    if not isinstance(spec, ContractSpec):
        return product_card(spec, proposal, account)
    currency = spec.currency
    barrier = f", barrier {escape(spec.barrier)}" if spec.barrier is not None else ""
    return (
        f"<b>{escape(spec.contract_type)}</b> on <b>{escape(spec.symbol)}</b>, "
        f"{duration_text(spec.duration, spec.duration_unit)}{barrier}\n"
        f"Stake: <b>{money(proposal.ask_price, currency)}</b>\n"
        f"Payout: {money(proposal.payout, currency)} "
        f"(profit if it wins: {money(proposal.payout - proposal.ask_price, currency)})\n"
        f"Account: {account_label(account)}\n"
        f"<i>{escape(proposal.longcode)}</i>"
    )


def product_card(spec: AnySpec, proposal: Proposal, account: AccountInfo | None) -> str:
    """A Multiplier, Accumulator, Turbos or Vanilla quote (the lines the CLI shows), what it
    costs in all, and the account."""
    quote = product_quote(spec, proposal)
    rows = [f"{escape(label)}: {escape(value)}" for label, value in quote.rows]
    rows[0] = f"Stake: <b>{money(spec.amount, spec.currency)}</b>"
    if abs(proposal.ask_price - spec.amount) > 1e-9:
        rows.insert(1, f"You pay: <b>{money(proposal.ask_price, spec.currency)}</b>")
    return "\n".join(
        [
            f"<b>{escape(quote.head)}</b>",
            *rows,
            f"Account: {account_label(account)}",
            f"<i>{escape(quote.longcode)}</i>",
        ]
    )


def contract_card(contract: OpenContract, currency: str, verb: str = "") -> str:
    """An open contract in two lines (``verb`` first: "Cancel contract 123: ..."): what it is,
    and what it is worth now."""
    extra = ""
    multiplier = getattr(contract, "multiplier", None)
    if multiplier:
        extra = f", x{multiplier:g}"
    profit = contract.profit
    sign = "+" if profit > 0 else ""
    return (
        f"{verb + ' contract' if verb else 'Contract'} <code>{contract.contract_id}</code>: "
        f"<b>{escape(contract.contract_type)}</b> "
        f"on {escape(contract.underlying)}{extra}\n"
        f"Paid {money(contract.buy_price, currency)}; worth about "
        f"{money(contract.bid_price, currency)} now ({sign}{money(profit, currency)})"
    )


def bought(receipt: BuyReceipt, currency: str, spec: AnySpec | None = None) -> str:
    """A buy that happened; for a product, how to change or close it."""
    cid = receipt.contract_id
    text = (
        f"✅ Bought contract <code>{cid}</code> for "
        f"{money(receipt.buy_price, currency)}. "
        f"Balance: {money(receipt.balance_after, currency)}.\n"
    )
    ct = spec.contract_type if spec is not None else ""
    if ct in ("MULTUP", "MULTDOWN"):
        if getattr(spec, "cancellation", None):
            text += f"Cancel it while deal cancellation lasts: /cancel {cid}. "
        else:
            text += f"Change its take profit or stop loss: /update {cid} tp=… sl=…. "
    elif ct.startswith("TURBOS"):
        text += f"Change its take profit: /update {cid} tp=…. "
    if is_product(spec):
        text += f"Close it: /sell {cid}. "
    return text + "I will tell you when it settles."


def sold(receipt: SellReceipt, currency: str) -> str:
    return (
        f"✅ Sold contract <code>{receipt.contract_id}</code> for "
        f"{money(receipt.sold_for, currency)}. Balance: {money(receipt.balance_after, currency)}."
    )


def cancelled(receipt: SellReceipt, currency: str) -> str:
    return (
        f"✅ Cancelled contract <code>{receipt.contract_id}</code>: "
        f"{money(receipt.sold_for, currency)} back (the deal cancellation fee is not refunded). "
        f"Balance: {money(receipt.balance_after, currency)}."
    )


def updated(contract_id: int, reply: ContractUpdate, currency: str, turbos: bool = False) -> str:
    """The orders a contract has after ``contract_update``."""
    text = (
        f"✅ Updated contract <code>{contract_id}</code>: take profit "
        f"<b>{escape(order_text(reply.take_profit, currency))}</b>"
    )
    if not turbos:
        text += f", stop loss <b>{escape(order_text(reply.stop_loss, currency))}</b>"
    return text + "."


#: How a product's ending reads in a settlement notice.
ENDINGS = {
    "take profit": "take profit reached",
    "stop loss": "stop loss reached",
    "stop out": "stopped out",
    "deal cancellation": "cancelled with deal cancellation: the stake back, not the fee",
    "knocked out": "knocked out",
    "maximum ticks": "held to its maximum ticks",
    "expiry": "expired",
    "sold": "sold",
}


def settlement(contract: OpenContract) -> str:
    """A settled contract's result: 🚀 profit ≥ 5 % of the stake, ✳ profit, ❌ loss; what it
    made counts every fee paid; a product says how it ended (take profit, knocked out, ...)."""
    currency = contract.currency
    profit = net_result(contract)
    if profit > 0:
        mark = "🚀" if contract.buy_price and profit >= 0.05 * contract.buy_price else "✳"
        verdict = "won"
    elif profit < 0:
        mark, verdict = "❌", "lost"
    else:
        mark, verdict = "➖", "broke even"
    sign = "+" if profit > 0 else ""
    how = ending(contract)
    reason = f" — {ENDINGS.get(how, how)}" if how and is_product(contract) else ""
    return (
        f"{mark} Contract <code>{contract.contract_id}</code> "
        f"({escape(contract.contract_type)} {escape(contract.underlying)}) {verdict}: "
        f"<b>{sign}{money(profit, currency)}</b>{escape(reason)} "
        f"(paid {money(contract.buy_price, currency)}, "
        f"sold for {money(contract.sell_price, currency)})"
    )


def alert_text(alert: AlertRecord) -> str:
    """``R_100 above 1500.00 (repeats, 5m apart)`` (plain text)."""
    if alert.kind == "move":
        what = f"{alert.symbol} moves {alert.level:g}%"
        if alert.reference:
            what += f" from {price(alert.reference, alert.pip_size)}"
    else:
        what = f"{alert.symbol} {alert.kind} {price(alert.level, alert.pip_size)}"
    if alert.repeat:
        gap = f", {_span(alert.cooldown)} apart" if alert.cooldown else ""
        what += f" (repeats{gap})"
    return what


def _span(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g}h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g}m"
    return f"{seconds:g}s"


def alert_fired(alert: AlertRecord, tick: Tick) -> str:
    if alert.kind == "move":
        return (
            f"🔔 <b>{escape(alert.symbol)}</b> moved {alert.level:g}% "
            f"(from {price(alert.reference, alert.pip_size)}): "
            f"<b>{price(tick.quote, tick.pip_size)}</b>"
        )
    return (
        f"🔔 <b>{escape(alert.symbol)}</b> is {alert.kind} {price(alert.level, alert.pip_size)}: "
        f"<b>{price(tick.quote, tick.pip_size)}</b>"
    )


def resolved_bought(entry: JournalEntry) -> str:
    """An unknown outcome found in the account: the buy did happen."""
    return (
        f"✅ Checked with Deriv: the buy of <b>{escape(entry.contract_type)} on "
        f"{escape(entry.symbol)}</b> did happen: contract <code>{entry.contract_id}</code>, "
        f"bought for {money(entry.buy_price, entry.currency)}. I will tell you when it settles."
    )


def settled_entry(entry: JournalEntry) -> str:
    """A settlement from the journal (told after a restart)."""
    profit = entry.profit or 0.0
    verdict = "won" if profit > 0 else "lost" if profit < 0 else "broke even"
    mark = "✳" if profit > 0 else "❌" if profit < 0 else "➖"
    sign = "+" if profit > 0 else ""
    return (
        f"{mark} Contract <code>{entry.contract_id}</code> "
        f"({escape(entry.contract_type)} {escape(entry.symbol)}) {verdict}: "
        f"<b>{sign}{money(profit, entry.currency)}</b> "
        f"(paid {money(entry.buy_price, entry.currency)}, "
        f"sold for {money(entry.sell_price, entry.currency)})"
    )


def journal_lines(entries: Sequence[JournalEntry]) -> list[str]:
    lines = []
    for entry in entries:
        when = utc(int(entry.requested_at))[5:16]
        if entry.status == "settled":
            profit = entry.profit or 0.0
            outcome = f"{'+' if profit > 0 else ''}{money(profit, entry.currency)}"
        else:
            outcome = {"bought": "open", "not_bought": "not bought"}.get(entry.status, entry.status)
        lines.append(
            f"{when} {entry.contract_type:<9} {entry.symbol:<9} "
            f"{money(entry.buy_price or entry.stake, entry.currency):>12} {outcome}"
        )
    return lines


def stats_text(entries: Sequence[JournalEntry], period: str) -> str:
    settled = [entry for entry in entries if entry.status == "settled"]
    won = sum(1 for entry in settled if (entry.profit or 0) > 0)
    lost = sum(1 for entry in settled if (entry.profit or 0) < 0)
    open_now = sum(1 for entry in entries if entry.status == "bought")
    currency = entries[0].currency if entries else "USD"
    total = sum(entry.profit or 0.0 for entry in settled)
    rate = f"{won / len(settled) * 100:.0f}%" if settled else "-"
    staked = sum(entry.buy_price or 0.0 for entry in settled)
    sign = "+" if total > 0 else ""
    title = {"today": "Today", "week": "The last 7 days", "all": "All time"}.get(period, period)
    return (
        f"<b>{title}</b> (trades through this bot)\n"
        f"Runs: {len(settled)} · won {won} · lost {lost} · open {open_now}\n"
        f"Win rate: {rate}\n"
        f"Staked: {money(staked, currency)}\n"
        f"P/L: <b>{sign}{money(total, currency)}</b>"
    )


def statement_lines(rows: Sequence[StatementEntry], currency: str) -> list[str]:
    return [
        f"{utc(row.transaction_time)[5:16]} {row.action_type:<8} "
        f"{'+' if row.amount > 0 else ''}{money(row.amount, currency):>14} "
        f"-> {money(row.balance_after, currency)}"
        for row in rows
    ]


def quotes_table(rows: Sequence[tuple[str, float | None, int | None, str]]) -> list[str]:
    """Rows of (symbol, quote, pip size, error or "") as ``<pre>`` messages."""
    lines = []
    for symbol, quote, pip_size, error in rows:
        shown = error if error else price(quote, pip_size)
        lines.append(f"{symbol:<12} {shown}")
    return pre_chunks(lines)


#: How wide a line of a ``<pre>`` block may be and still fit a phone's screen.
PHONE_WIDTH = 34


def _amount(value: float | None, currency: str) -> str:
    """An amount at its currency's decimals, without the currency (said once nearby)."""
    return money(value, currency).removesuffix(currency).strip()


def _packed(terms: Sequence[str], width: int) -> list[str]:
    """``terms`` joined with " · " into lines of at most ``width`` (a longer term stays whole)."""
    lines: list[str] = []
    for term in terms:
        if lines and len(lines[-1]) + 3 + len(term) <= width:
            lines[-1] += " · " + term
        else:
            lines.append(term)
    return lines


def portfolio_lines(
    contracts: Sequence[PortfolioContract], states: Mapping[int, OpenContract] | None = None
) -> list[str]:
    """Each open contract as a few lines short enough for a phone (one string per contract):
    its id, type and symbol; what was paid and, with a live state, what it is worth now and
    its P/L (else its payout); and a product's terms (:func:`derivkit.products.position_terms`:
    take profit, stop loss, stop out, deal cancellation, growth rate, ticks, barriers, payout
    per point). Amounts are in the contract's currency, named in the summary below them."""
    states = states or {}
    blocks = []
    for c in contracts:
        state = states.get(c.contract_id)
        currency = c.currency
        lines = [f"{c.contract_id} {c.contract_type} {c.symbol}"]
        paid = f"paid {_amount(c.buy_price, currency)}"
        if state is not None and state.bid_price is not None:
            sign = "+" if state.profit > 0 else ""
            now = _amount(state.bid_price, currency)
            lines.append(f"{paid} now {now} ({sign}{_amount(state.profit, currency)})")
        elif c.payout:
            lines.append(f"{paid} payout {_amount(c.payout, currency)}")
        else:
            lines.append(paid)
        if state is not None:
            lines += _packed(position_terms(state), PHONE_WIDTH - 2)
        blocks.append("\n  ".join(lines))
    return blocks


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

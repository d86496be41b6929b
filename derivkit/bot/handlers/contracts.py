"""/update CONTRACT_ID tp=… sl=… and /cancel CONTRACT_ID: a multiplier's (or turbos') take
profit and stop loss, and a multiplier's deal cancellation, each behind a Confirm card as /sell.

The contract's state is read first, so what cannot work is refused in clear words before any
card is shown: a contract the account does not have, one already settled, a product without
those orders (an accumulator's take profit is fixed when it is bought, a turbos has no stop
loss, the binary options have neither), an update while deal cancellation lasts, a cancellation
of a contract bought without it or after its window. What the server still refuses at
confirmation is told as it says it. Confirmed, each is sent once by the
:class:`~derivkit.bot.trades.TradeDesk` (a lost reply is checked with Deriv, never re-sent).
"""

from __future__ import annotations

from html import escape

from telegram import Message, Update
from telegram.ext import ContextTypes

from derivkit.bot.handlers.common import trade_refusal
from derivkit.bot.handlers.trading import ask_confirmation
from derivkit.bot.render import account_label, contract_card
from derivkit.bot.runtime import BotRuntime, runtime
from derivkit.bot.sessions import AccountSession
from derivkit.core import APIError, OpenContract
from derivkit.formatting import money, utc
from derivkit.products import amount_or_none, order_text

__all__ = ["cancel_command", "parse_update", "update_command"]

UPDATE_USAGE = (
    "Usage: /update CONTRACT_ID tp=AMOUNT sl=AMOUNT\n"
    "e.g. <code>/update 123 tp=8 sl=none</code> (<code>none</code> removes one; multipliers "
    "have both, turbos a take profit only; see /portfolio)."
)
CANCEL_USAGE = "Usage: /cancel CONTRACT_ID (a multiplier bought with deal cancellation)"
_KINDS = {
    "tp": "take_profit",
    "take_profit": "take_profit",
    "sl": "stop_loss",
    "stop_loss": "stop_loss",
}
MULTIPLIERS = ("MULTUP", "MULTDOWN")


def parse_update(args: list[str]) -> tuple[int, dict[str, float | None]]:
    """``123 tp=8 sl=none`` -> ``(123, {"take_profit": 8.0, "stop_loss": None})``.

    Raises ValueError (HTML) saying what is wrong."""
    if len(args) < 2 or not args[0].isdigit():
        raise ValueError(UPDATE_USAGE)
    changes: dict[str, float | None] = {}
    for arg in args[1:]:
        key, _, text = arg.partition("=")
        kind = _KINDS.get(key.lower().replace("-", "_"))
        if kind is None or not text:
            raise ValueError(f"I do not understand {escape(arg)}. " + UPDATE_USAGE)
        if kind in changes:
            raise ValueError(f"The {kind.replace('_', ' ')} is given twice.")
        try:
            changes[kind] = amount_or_none(text)
        except ValueError as error:
            raise ValueError(f"{escape(key)}=: {escape(str(error))}.") from None
    return int(args[0]), changes


async def _contract_now(session: AccountSession, contract_id: int) -> OpenContract | None:
    """The contract's state now, or None when the account has no such contract."""
    try:
        async with await session.client.contract_states(contract_id) as states:
            return await anext(states)
    except APIError:
        return None


def _a(contract_type: str) -> str:
    """``a CALL``, ``an ACCU``."""
    article = "an" if contract_type[:1] in "AEIOU" else "a"
    return f"{article} <b>{escape(contract_type)}</b>"


def _not_found(contract_id: int) -> str:
    return f"❌ This account has no contract <code>{contract_id}</code> (see /portfolio)."


async def _ready(
    rt: BotRuntime, update: Update, args: list[str], usage: str
) -> tuple[AccountSession, Message, int] | None:
    """The checks /update and /cancel share (trading allowed, a contract id, the account may
    trade); None once the user has been told why not."""
    user = update.effective_user
    message = update.effective_message
    if user is None or message is None:
        return None
    refusal = await trade_refusal(rt, user.id, None, message)
    if not refusal and (not args or not args[0].isdigit()):
        refusal = usage
    if not refusal and usage is UPDATE_USAGE:
        try:
            parse_update(args)
        except ValueError as error:
            refusal = str(error)
    if refusal:
        await message.reply_text(refusal)
        return None
    session = await rt.session(user.id)
    refusal = await trade_refusal(rt, user.id, session, message, typed=False)
    if refusal:
        await message.reply_text(refusal)
        return None
    return session, message, user.id


async def _update_refusal(
    session: AccountSession, contract: OpenContract, changes: dict[str, float | None]
) -> str | None:
    cid = contract.contract_id
    ct = contract.contract_type
    if contract.is_sold:
        return f"Contract <code>{cid}</code> is already settled."
    if ct == "ACCU":
        return (
            "An accumulator's take profit is set when it is bought and cannot change "
            f"afterwards. /sell {cid} closes it."
        )
    if ct.startswith("TURBOS"):
        if "stop_loss" in changes:
            return f"A turbos has no stop loss; only its take profit can change: /update {cid} tp=…"
        if not getattr(contract, "can_update_take_profit", False):
            return f"Contract <code>{cid}</code>'s take profit cannot change now."
        return None
    if ct not in MULTIPLIERS:
        return (
            f"Contract <code>{cid}</code> is {_a(ct)}: only multipliers (take profit, "
            "stop loss) and turbos (take profit) can be updated."
        )
    allowed = {
        "take_profit": getattr(contract, "can_update_take_profit", False),
        "stop_loss": getattr(contract, "can_update_stop_loss", False),
    }
    if all(allowed[kind] for kind in changes):
        return None
    cancellation = getattr(contract, "cancellation", None)
    ends = cancellation.date_expiry if cancellation is not None else None
    if ends is not None and await session.client.server_time() < ends:
        until = utc(ends)[11:]
        return (
            f"While deal cancellation lasts (until {until} UTC) the take profit and stop loss "
            f"cannot change. /cancel {cid} cancels the contract."
        )
    return f"Contract <code>{cid}</code> cannot be updated now; try again in a moment."


async def update_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the contract's orders, as they are and as they would be; nothing is sent here."""
    rt = runtime(context)
    args = list(context.args or [])
    ready = await _ready(rt, update, args, UPDATE_USAGE)
    if ready is None:
        return
    session, message, user_id = ready
    contract_id, changes = parse_update(args)
    contract = await _contract_now(session, contract_id)
    if contract is None:
        await message.reply_text(_not_found(contract_id))
        return
    refusal = await _update_refusal(session, contract, changes)
    if refusal:
        await message.reply_text(refusal)
        return
    currency = contract.currency or session.currency
    lines = [contract_card(contract, currency, "Update")]
    for kind, wanted in changes.items():
        now = order_text(getattr(contract, kind, None), currency)
        new = money(wanted, currency) if wanted is not None else "none (removed)"
        lines.append(f"{kind.replace('_', ' ').capitalize()}: {escape(now)} → <b>{new}</b>")
    lines.append(f"Account: {account_label(session.account)}")
    order = rt.orders.add(
        "update",
        user_id=user_id,
        chat_id=message.chat_id,
        summary="\n".join(lines),
        price=0.0,
        contract_id=contract_id,
    )
    order.changes = changes
    order.contract_type = contract.contract_type
    await ask_confirmation(rt, message, order, "Update")


async def _cancel_refusal(session: AccountSession, contract: OpenContract) -> str | None:
    cid = contract.contract_id
    ct = contract.contract_type
    if contract.is_sold:
        return f"Contract <code>{cid}</code> is already settled."
    if ct not in MULTIPLIERS:
        return (
            f"Contract <code>{cid}</code> is {_a(ct)}, not a multiplier: deal "
            f"cancellation is for multipliers bought with it. /sell {cid} closes it."
        )
    cancellation = getattr(contract, "cancellation", None)
    if cancellation is None:
        return (
            f"Contract <code>{cid}</code> was bought without deal cancellation, so it cannot be "
            f"cancelled. /sell {cid} closes it at the market price."
        )
    if contract.is_valid_to_cancel:
        return None
    now = await session.client.server_time()  # the state may be a tick old
    ends = cancellation.date_expiry
    if ends is not None and now >= ends:
        return (
            f"The deal cancellation of contract <code>{cid}</code> ended at {utc(ends)[11:]} "
            f"UTC; it can no longer be cancelled. /sell {cid} closes it at the market price."
        )
    if contract.date_start is not None and now <= contract.date_start:
        return (
            f"Contract <code>{cid}</code> cannot be cancelled in the second it was bought; "
            "try again in a moment."
        )
    return None  # the server has the last word


async def cancel_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show what a deal cancellation gives back and ask for confirmation; nothing is sent here."""
    rt = runtime(context)
    args = list(context.args or [])
    ready = await _ready(rt, update, args if len(args) == 1 else [], CANCEL_USAGE)
    if ready is None:
        return
    session, message, user_id = ready
    contract_id = int(args[0])
    contract = await _contract_now(session, contract_id)
    if contract is None:
        await message.reply_text(_not_found(contract_id))
        return
    refusal = await _cancel_refusal(session, contract)
    if refusal:
        await message.reply_text(refusal)
        return
    currency = contract.currency or session.currency
    cancellation = getattr(contract, "cancellation", None)
    fee = cancellation.ask_price if cancellation is not None else None
    stake = contract.buy_price - (fee or 0.0)
    until = utc(cancellation.date_expiry)[11:] if cancellation is not None else "-"
    summary = "\n".join(
        [
            contract_card(contract, currency, "Cancel"),
            f"You get the stake back: <b>{money(stake, currency)}</b>; the deal cancellation "
            f"fee, {money(fee, currency)}, is not refunded.",
            f"Deal cancellation lasts until {until} UTC.",
            f"Account: {account_label(session.account)}",
        ]
    )
    order = rt.orders.add(
        "cancel",
        user_id=user_id,
        chat_id=message.chat_id,
        summary=summary,
        price=0.0,
        contract_id=contract_id,
    )
    order.contract_type = contract.contract_type
    await ask_confirmation(rt, message, order, "Cancel the contract", abort="Keep it")

"""/buy and /sell, behind Confirm / Cancel buttons.

A trade command only quotes and records a :class:`~derivkit.bot.orders.PendingOrder`; its buttons
carry the order's nonce. Confirm takes the order (once, by its owner, before it expires) and sends
the trade exactly once, bounded by the quoted price. A lost reply is reported as "may or may not
have happened" and never re-sent. Trade commands typed while the bot was away are refused.
"""

from __future__ import annotations

import contextlib
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from derivkit.bot.access import is_stale
from derivkit.bot.handlers.account import SELL_BUTTON_PREFIX
from derivkit.bot.orders import PendingOrder
from derivkit.bot.render import account_label, bought, quote_card, sold
from derivkit.bot.risk import buy_refusal
from derivkit.bot.runtime import BotRuntime, runtime
from derivkit.core import APIError, ContractSpec, DerivError, OutcomeUnknown, RequestTimeout
from derivkit.formatting import contract_spec, money

__all__ = [
    "CANCEL_PREFIX",
    "CONFIRM_PREFIX",
    "buy_command",
    "cancel_order",
    "confirm_order",
    "expire_order",
    "sell_button",
    "sell_command",
]

CONFIRM_PREFIX = "ok:"
CANCEL_PREFIX = "no:"
BUY_USAGE = (
    "Usage: /buy SYMBOL TYPE STAKE DURATION [BARRIER]\n"
    "e.g. <code>/buy R_100 CALL 10 5t</code> or <code>/buy R_10 DIGITMATCH 5 1t 7</code>"
)
UNKNOWN_OUTCOME = (
    "⚠️ The connection failed while this was being sent: it may or may not have happened. "
    "Nothing was re-sent. Check /portfolio and /balance before trying again."
)


def _refusal(rt: BotRuntime, message: Message, *, typed: bool = True) -> str | None:
    """Why trading is refused for this command (or, ``typed=False``, this button), or None."""
    if not rt.settings.trading:
        return "Trading is off. The bot's owner can turn it on with <code>--trading</code>."
    if message.chat.type != ChatType.PRIVATE:
        return "Trading works in a private chat with me only."
    if rt.real_money and not rt.settings.real_money:
        return (
            f"{account_label(rt.client.account)} is a real-money account; the owner must start "
            "the bot with <code>--real-money</code> to trade on it."
        )
    if typed and is_stale(message):
        return (
            "Ignored: that command was sent while I was away. Send it again if you still want it."
        )
    return None


def _confirm_keyboard(order: PendingOrder, verb: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(verb, callback_data=f"{CONFIRM_PREFIX}{order.nonce}"),
                InlineKeyboardButton("Cancel", callback_data=f"{CANCEL_PREFIX}{order.nonce}"),
            ]
        ]
    )


async def _ask_confirmation(
    context: ContextTypes.DEFAULT_TYPE, message: Message, order: PendingOrder, verb: str
) -> None:
    rt = runtime(context)
    sent = await message.reply_text(
        f"{order.summary}\n\nConfirm within {rt.orders.ttl:g} s.",
        reply_markup=_confirm_keyboard(order, verb),
    )
    order.message_id = sent.message_id
    if context.job_queue is not None:
        context.job_queue.run_once(expire_order, when=rt.orders.ttl, data=order.nonce)


def _parse_buy(args: list[str], currency: str) -> ContractSpec:
    if len(args) not in (4, 5):
        raise ValueError(BUY_USAGE)
    symbol, contract_type, stake_text, duration_text = args[:4]
    try:
        stake = float(stake_text)
    except ValueError:
        raise ValueError(f"The stake must be a number, got {escape(stake_text)}.") from None
    if not stake > 0 or stake == float("inf"):
        raise ValueError("The stake must be positive.")
    barrier = args[4] if len(args) == 5 else None
    try:
        return contract_spec(
            symbol, contract_type, stake, duration_text, barrier=barrier, currency=currency
        )
    except ValueError as error:
        raise ValueError(escape(str(error))) from None


async def _admit_trade_command(
    update: Update, context: ContextTypes.DEFAULT_TYPE
) -> tuple[Message, int, BotRuntime] | None:
    """The command's message, sender id and runtime if it may trade; else None (refusal sent)."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return None
    rt = runtime(context)
    refusal = _refusal(rt, message)
    if refusal:
        await message.reply_text(refusal)
        return None
    return message, user.id, rt


async def buy_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Quote the contract and ask for confirmation; nothing is bought here."""
    admitted = await _admit_trade_command(update, context)
    if admitted is None:
        return
    message, user_id, rt = admitted
    try:
        spec = _parse_buy(list(context.args or []), rt.currency)
    except ValueError as error:
        await message.reply_text(str(error))
        return
    limit = money(rt.settings.max_stake, rt.currency)
    if spec.amount > rt.settings.max_stake:
        await message.reply_text(f"Refused: the stake is above this bot's limit of {limit}.")
        return
    refusal = await buy_refusal(rt, spec.amount)
    if refusal:
        await message.reply_text(refusal)
        return
    proposal = await rt.client.proposal(spec)
    if proposal.ask_price > rt.settings.max_stake:
        await message.reply_text(
            f"Refused: the price asked, {money(proposal.ask_price, rt.currency)}, "
            f"is above this bot's limit of {limit}."
        )
        return
    order = rt.orders.add(
        "buy",
        user_id=user_id,
        chat_id=message.chat_id,
        summary=quote_card(spec, proposal, rt.client.account),
        price=proposal.ask_price,
        spec=spec,
    )
    await _ask_confirmation(context, message, order, "Buy")


async def _offer_sale(
    context: ContextTypes.DEFAULT_TYPE, message: Message, user_id: int, contract_id: int
) -> None:
    rt = runtime(context)
    async with await rt.client.open_contract(contract_id) as updates:
        contract = await anext(updates)
    if contract.is_sold:
        await message.reply_text(f"Contract <code>{contract_id}</code> is already settled.")
        return
    if not contract.is_valid_to_sell:
        await message.reply_text(
            f"Contract <code>{contract_id}</code> cannot be sold yet; try again in a moment."
        )
        return
    currency = contract.currency or rt.currency
    summary = (
        f"Sell contract <code>{contract_id}</code> "
        f"(<b>{escape(contract.contract_type)}</b> on {escape(contract.underlying)})\n"
        f"Bought for {money(contract.buy_price, currency)}; "
        f"worth about <b>{money(contract.bid_price, currency)}</b> now "
        f"(sold at the market price when you confirm)\n"
        f"Account: {account_label(rt.client.account)}"
    )
    order = rt.orders.add(
        "sell",
        user_id=user_id,
        chat_id=message.chat_id,
        summary=summary,
        price=0.0,
        contract_id=contract_id,
    )
    await _ask_confirmation(context, message, order, "Sell")


async def sell_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the contract's value and ask for confirmation; nothing is sold here."""
    admitted = await _admit_trade_command(update, context)
    if admitted is None:
        return
    message, user_id, _ = admitted
    args = context.args or []
    if len(args) != 1 or not args[0].isdigit():
        await message.reply_text("Usage: /sell CONTRACT_ID (see /portfolio)")
        return
    await _offer_sale(context, message, user_id, int(args[0]))


async def sell_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A Sell button under /portfolio: asks for confirmation like /sell."""
    query = update.callback_query
    user = update.effective_user
    if query is None or user is None or query.message is None or query.data is None:
        return
    contract_text = query.data.removeprefix(SELL_BUTTON_PREFIX)
    await query.answer()
    if not isinstance(query.message, Message) or not contract_text.isdigit():
        return
    refusal = _refusal(runtime(context), query.message, typed=False)
    if refusal:
        await query.message.reply_text(refusal)
        return
    await _offer_sale(context, query.message, user.id, int(contract_text))


async def _execute(rt: BotRuntime, order: PendingOrder) -> str:
    """Send the order's trade once and describe the result."""
    try:
        if order.kind == "buy":
            assert order.spec is not None
            refusal = await buy_refusal(rt, order.price)  # trades since the quote count too
            if refusal:
                return f"❌ {refusal}"
            receipt = await rt.client.buy(order.spec, price=order.price)
            rt.watchers.watch(order.chat_id, receipt.contract_id)
            return bought(receipt, order.spec.currency)
        assert order.contract_id is not None
        sale = await rt.client.sell(order.contract_id, price=order.price)
        return sold(sale, rt.currency)
    except (OutcomeUnknown, RequestTimeout):
        return UNKNOWN_OUTCOME
    except APIError as error:
        return f"❌ Not done: {escape(error.message)}"
    except DerivError as error:
        return f"❌ Not done: {escape(str(error))}"


async def confirm_order(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    user = update.effective_user
    if query is None or user is None or query.data is None:
        return
    rt = runtime(context)
    nonce = query.data.removeprefix(CONFIRM_PREFIX)
    if rt.orders.get(nonce, user.id) is None:
        await query.answer("This confirmation is no longer valid.", show_alert=True)
        return
    if not rt.limits.allow_trade(user.id):
        await query.answer(f"One trade every {rt.limits.trade_gap:g} s; tap again in a moment.")
        return
    order = rt.orders.take(nonce, user.id)
    assert order is not None  # checked above; nothing awaited since
    await query.answer("Sending…")
    await query.edit_message_text(f"{order.summary}\n\n⏳ Sending…")
    await query.edit_message_text(f"{order.summary}\n\n{await _execute(rt, order)}")


async def cancel_order(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    user = update.effective_user
    if query is None or user is None or query.data is None:
        return
    order = runtime(context).orders.take(query.data.removeprefix(CANCEL_PREFIX), user.id)
    if order is None:
        await query.answer("This confirmation is no longer valid.", show_alert=True)
        return
    await query.answer("Cancelled.")
    await query.edit_message_text(f"{order.summary}\n\n✖️ Cancelled: nothing was sent.")


async def expire_order(context: ContextTypes.DEFAULT_TYPE) -> None:
    """JobQueue callback: an order nobody confirmed in time; its buttons go away."""
    job = context.job
    if job is None or not isinstance(job.data, str):
        return
    order = runtime(context).orders.expire(job.data)
    if order is None or order.message_id is None:
        return
    with contextlib.suppress(BadRequest):  # the message was deleted meanwhile
        await context.bot.edit_message_text(
            f"{order.summary}\n\n⌛ Expired: nothing was sent.",
            chat_id=order.chat_id,
            message_id=order.message_id,
        )

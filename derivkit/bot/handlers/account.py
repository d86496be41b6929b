"""/balance (with a Refresh button), /portfolio (with Sell buttons) and /profit."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from derivkit.bot.render import (
    MAX_MESSAGE,
    account_label,
    portfolio_lines,
    pre_chunks,
    profit_lines,
)
from derivkit.bot.runtime import BotRuntime, runtime
from derivkit.formatting import money

__all__ = [
    "BALANCE_BUTTON",
    "SELL_BUTTON_PREFIX",
    "balance_command",
    "portfolio_command",
    "profit_command",
    "refresh_balance",
]

BALANCE_BUTTON = "balance"
SELL_BUTTON_PREFIX = "sell:"
MAX_SELL_BUTTONS = 10
MAX_PROFIT_ROWS = 50


async def _balance_text(rt: BotRuntime) -> str:
    balance = await rt.client.balance()
    now = datetime.now(UTC).strftime("%H:%M:%S")
    return (
        f"💰 <b>{money(balance.balance, balance.currency or rt.currency)}</b>\n"
        f"{account_label(rt.client.account)}\n"
        f"<i>Updated {now} UTC</i>"
    )


def _refresh_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("Refresh", callback_data=BALANCE_BUTTON)]])


async def balance_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None:
        return
    text = await _balance_text(runtime(context))
    await message.reply_text(text, reply_markup=_refresh_keyboard())


async def refresh_balance(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    text = await _balance_text(runtime(context))
    await query.answer()
    with contextlib.suppress(BadRequest):  # "message is not modified": refreshed twice a second
        await query.edit_message_text(text, reply_markup=_refresh_keyboard())


async def portfolio_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None:
        return
    contracts = await runtime(context).client.portfolio()
    if not contracts:
        await message.reply_text("No open contracts.")
        return
    chunks = pre_chunks(portfolio_lines(contracts))
    for chunk in chunks[:-1]:
        await message.reply_text(chunk)
    buttons = [
        [
            InlineKeyboardButton(
                f"Sell {c.contract_id}", callback_data=f"{SELL_BUTTON_PREFIX}{c.contract_id}"
            )
        ]
        for c in contracts[:MAX_SELL_BUTTONS]
    ]
    await message.reply_text(chunks[-1], reply_markup=InlineKeyboardMarkup(buttons))


async def profit_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None:
        return
    args = context.args or []
    try:
        limit = int(args[0]) if args else 10
        if not 1 <= limit <= MAX_PROFIT_ROWS or len(args) > 1:
            raise ValueError
    except ValueError:
        await message.reply_text(f"Usage: /profit [count], count from 1 to {MAX_PROFIT_ROWS}")
        return
    rt = runtime(context)
    entries = await rt.client.profit_table(limit=limit)
    if not entries:
        await message.reply_text("No settled contracts yet.")
        return
    lines, total = profit_lines(entries, rt.currency)
    sign = "+" if total > 0 else ""
    summary = f"Total over the last {len(entries)}: <b>{sign}{money(total, rt.currency)}</b>"
    chunks = pre_chunks(lines, limit=MAX_MESSAGE - len(summary) - 1)
    for chunk in chunks[:-1]:
        await message.reply_text(chunk)
    await message.reply_text(f"{chunks[-1]}\n{summary}")

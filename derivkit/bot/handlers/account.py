"""The user's account: /balance (with Refresh), /portfolio (live value and P/L, with Sell
buttons), /profit and /statement (from Deriv), /history and /stats (from the journal).

Every Deriv call goes through the user's own session: in multi-user mode nobody sees another
user's account, and the journal is read by the user's Telegram id.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime

from telegram import Update
from telegram.ext import ContextTypes

from derivkit.bot.buttons import Button
from derivkit.bot.handlers.common import Tap, action, reply
from derivkit.bot.render import (
    MAX_MESSAGE,
    account_label,
    journal_lines,
    portfolio_lines,
    pre_chunks,
    profit_lines,
    statement_lines,
    stats_text,
)
from derivkit.bot.runtime import runtime
from derivkit.bot.sessions import AccountSession
from derivkit.core import OpenContract
from derivkit.formatting import money

__all__ = [
    "balance_command",
    "history_command",
    "portfolio_command",
    "profit_command",
    "statement_command",
    "stats_command",
]

MAX_SELL_BUTTONS = 10
#: How long /portfolio waits for a newly followed contract's first state (its value, P/L, terms).
STATES_WAIT = 3.0
MAX_ROWS = 50
PERIODS = {"today": 86_400, "week": 7 * 86_400, "all": None}


async def _balance_text(session: AccountSession) -> str:
    balance = await session.client.balance()
    now = datetime.now(UTC).strftime("%H:%M:%S")
    return (
        f"💰 <b>{money(balance.balance, balance.currency or session.currency)}</b>\n"
        f"{account_label(session.account)}\n"
        f"<i>Updated {now} UTC</i>"
    )


async def balance_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    user = update.effective_user
    message = update.effective_message
    if user is None or message is None:
        return
    session = await rt.session(user.id)
    text = await _balance_text(session)
    card = rt.buttons.card(user.id, message.chat_id)
    sent = await message.reply_text(
        text, reply_markup=card.markup([[card.button("Refresh", "balance.refresh")]])
    )
    card.bind(sent)


@action("balance.refresh")
async def refresh_balance(
    update: Update, context: ContextTypes.DEFAULT_TYPE, button: Button, tap: Tap
) -> None:
    session = await runtime(context).session(button.card.user_id)
    text = await _balance_text(session)
    await tap.answer()
    card = button.card
    await runtime(context).delivery.edit(
        card.chat_id,
        tap.message.message_id,
        text,
        reply_markup=card.markup([[card.button("Refresh", "balance.refresh")]]),
    )


async def _portfolio(
    session: AccountSession,
) -> tuple[list[str], list[int], str]:
    contracts = await session.client.portfolio()
    for contract in contracts:
        session.watchers.watch(contract.contract_id, contract.buy_price)
    with contextlib.suppress(TimeoutError):  # a contract without a state yet shows its payout
        async with asyncio.timeout(STATES_WAIT):
            await session.watchers.wait_for_states()
    states: dict[int, OpenContract] = {}
    for contract in contracts:
        state = session.watchers.latest(contract.contract_id)
        if state is not None:
            states[contract.contract_id] = state
    lines = portfolio_lines(contracts, states)
    total = sum(state.profit for state in states.values())
    currency = contracts[0].currency if contracts else session.currency
    sign = "+" if total > 0 else ""
    summary = f"{len(contracts)} open; P/L now <b>{sign}{money(total, currency)}</b>"
    return lines, [c.contract_id for c in contracts], summary


async def portfolio_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    user = update.effective_user
    message = update.effective_message
    if user is None or message is None:
        return
    session = await rt.session(user.id)
    lines, ids, summary = await _portfolio(session)
    if not ids:
        await message.reply_text("No open contracts.")
        return
    chunks = pre_chunks(lines, limit=MAX_MESSAGE - len(summary) - 1)
    for chunk in chunks[:-1]:
        await message.reply_text(chunk)
    card = rt.buttons.card(user.id, message.chat_id)
    rows = [[card.button(f"Sell {cid}", "trade.sell", cid)] for cid in ids[:MAX_SELL_BUTTONS]]
    rows.append([card.button("Refresh", "portfolio.refresh")])
    sent = await message.reply_text(f"{chunks[-1]}\n{summary}", reply_markup=card.markup(rows))
    card.bind(sent)


@action("portfolio.refresh")
async def refresh_portfolio(
    update: Update, context: ContextTypes.DEFAULT_TYPE, button: Button, tap: Tap
) -> None:
    rt = runtime(context)
    session = await rt.session(button.card.user_id)
    lines, ids, summary = await _portfolio(session)
    await tap.answer()
    card = button.card
    if not ids:
        await rt.delivery.edit(card.chat_id, tap.message.message_id, "No open contracts.")
        return
    rows = [[card.button(f"Sell {cid}", "trade.sell", cid)] for cid in ids[:MAX_SELL_BUTTONS]]
    rows.append([card.button("Refresh", "portfolio.refresh")])
    stamp = datetime.now(UTC).strftime("%H:%M:%S")
    text = pre_chunks(lines, limit=MAX_MESSAGE - len(summary) - 40)[0]
    await rt.delivery.edit(
        card.chat_id,
        tap.message.message_id,
        f"{text}\n{summary}\n<i>Updated {stamp} UTC</i>",
        reply_markup=card.markup(rows),
    )


def _count(args: list[str], default: int = 10) -> int:
    if len(args) > 1:
        raise ValueError
    limit = int(args[0]) if args else default
    if not 1 <= limit <= MAX_ROWS:
        raise ValueError
    return limit


async def profit_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    user = update.effective_user
    if user is None:
        return
    try:
        limit = _count(list(context.args or []))
    except ValueError:
        await reply(update, f"Usage: /profit [count], count from 1 to {MAX_ROWS}")
        return
    session = await rt.session(user.id)
    entries = await session.client.profit_table(limit=limit)
    if not entries:
        await reply(update, "No settled contracts yet.")
        return
    lines, total = profit_lines(entries, session.currency)
    sign = "+" if total > 0 else ""
    summary = f"Total over the last {len(entries)}: <b>{sign}{money(total, session.currency)}</b>"
    chunks = pre_chunks(lines, limit=MAX_MESSAGE - len(summary) - 1)
    for chunk in chunks[:-1]:
        await reply(update, chunk)
    await reply(update, f"{chunks[-1]}\n{summary}")


async def statement_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    user = update.effective_user
    if user is None:
        return
    try:
        limit = _count(list(context.args or []))
    except ValueError:
        await reply(update, f"Usage: /statement [count], count from 1 to {MAX_ROWS}")
        return
    session = await rt.session(user.id)
    rows = await session.client.statement(limit=limit)
    if not rows:
        await reply(update, "The statement is empty.")
        return
    for chunk in pre_chunks(statement_lines(rows, session.currency)):
        await reply(update, chunk)


async def history_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The user's trades through this bot, newest first, from the journal."""
    rt = runtime(context)
    user = update.effective_user
    if user is None:
        return
    try:
        limit = _count(list(context.args or []))
    except ValueError:
        await reply(update, f"Usage: /history [count], count from 1 to {MAX_ROWS}")
        return
    entries = await rt.storage.journal_entries(telegram_id=user.id, limit=limit)
    if not entries:
        await reply(update, "No trades through this bot yet.")
        return
    for chunk in pre_chunks(journal_lines(entries)):
        await reply(update, chunk)


async def stats_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs, won, lost, win rate and P/L of the user's settled trades, from the journal."""
    rt = runtime(context)
    user = update.effective_user
    if user is None:
        return
    args = [arg.lower() for arg in context.args or []]
    period = args[0] if args else "all"
    if len(args) > 1 or period not in PERIODS:
        await reply(update, "Usage: /stats [today|week|all]")
        return
    span = PERIODS[period]
    since = None
    if span is not None:
        now = time.time()
        since = now - now % 86_400 if period == "today" else now - span
    entries = await rt.storage.journal_entries(telegram_id=user.id, since=since)
    await reply(update, stats_text(entries, period))

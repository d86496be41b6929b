"""/start, /help, /whoami and /status."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

from telegram import Update
from telegram.ext import ContextTypes

from derivkit.bot.buttons import Button
from derivkit.bot.handlers.common import Tap, action, reply
from derivkit.bot.render import account_label
from derivkit.bot.runtime import BotRuntime, runtime
from derivkit.core import DerivClient, DerivError
from derivkit.formatting import money

__all__ = ["COMMANDS", "help_command", "status_command", "whoami_command"]

COMMANDS: tuple[tuple[str, str], ...] = (
    ("connect", "Connect your Deriv account (multi-user bots)"),
    ("account", "What is connected"),
    ("price", "Latest quote: /price R_100 [more symbols]"),
    ("chart", "A chart: /chart R_100 [1m|5m|1h|ticks]"),
    ("symbols", "Browse symbols by market"),
    ("contracts", "What can be traded: /contracts R_100"),
    ("balance", "Account balance"),
    ("portfolio", "Open contracts with live value and P/L"),
    ("quote", "A price: /quote R_100 CALL 10 5t [barrier]"),
    ("buy", "Buy, confirmed: /buy R_100 CALL 10 5t, MULTUP 10 x100 tp=5, ACCU 10 growth=1%"),
    ("sell", "Sell an open contract: /sell CONTRACT_ID"),
    ("sellall", "Sell every open contract (one confirmation)"),
    ("update", "Take profit / stop loss: /update CONTRACT_ID tp=8 sl=none"),
    ("cancel", "Deal cancellation of a multiplier: /cancel CONTRACT_ID"),
    ("strategies", "Strategies running on this machine, with Stop buttons"),
    ("history", "Your recent trades from this bot"),
    ("stats", "Results: /stats [today|week|all]"),
    ("statement", "Account statement: /statement [count]"),
    ("profit", "Settled contracts: /profit [count]"),
    ("alert", "Price alert: /alert R_100 above 1500 [repeat 5m]"),
    ("alerts", "Your price alerts"),
    ("unalert", "Delete an alert: /unalert N"),
    ("limits", "Your trading limits: /limits stake 20"),
    ("notify", "Notifications: /notify settlement on|silent|off"),
    ("stop", "Stop trading for you until /resume"),
    ("resume", "Allow trading again"),
    ("status", "Connection, latency and server time"),
    ("disconnect", "Forget your Deriv token"),
    ("whoami", "Your Telegram user id"),
    ("help", "What I can do"),
)


async def _trading_line(rt: BotRuntime, user_id: int, currency: str) -> str:
    settings = rt.settings
    if not settings.trading_on:
        if settings.multi_user:
            return "off on this bot"
        return "off (the owner starts the bot with --trading to allow it)"
    limits = await rt.trading_limits(user_id)
    line = (
        f"on, at most {money(limits.max_stake, currency)} per contract, "
        f"{limits.max_open} open at a time"
    )
    if limits.daily_loss is not None:
        line += f", daily loss limit {money(limits.daily_loss, currency)}"
    if settings.multi_user:
        line += "; demo accounts" + (
            " and real money" if settings.may_trade_real_money(user_id) else " only"
        )
    return line


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A few lines about the bot, the user's state, and the next step."""
    rt = runtime(context)
    user = update.effective_user
    if user is None:
        return
    record = await rt.user(user.id)
    markup = None
    if rt.settings.multi_user:
        if record.account is None:
            state = "No Deriv account connected yet."
            card = rt.buttons.card(
                user.id, update.effective_chat.id if update.effective_chat else user.id
            )
            markup = card.markup([[card.button("Connect my Deriv account", "connect.start")]])
            next_step = "Next: /connect, then send me a Deriv API token (scopes: read, trade)."
        else:
            kind = "DEMO" if record.account.is_virtual else "REAL MONEY"
            state = f"Account: {record.account.loginid} · <b>{kind}</b>"
            next_step = "Try /price R_100, /balance or /buy."
        currency = record.account.currency if record.account else "USD"
    else:
        session = rt.sessions.owner
        account = session.account if session else None
        state = f"Account: {account_label(account)}"
        currency = session.currency if session else "USD"
        next_step = "Try /price R_100 or /balance."
    lines = [
        "<b>derivkit</b> — Deriv from Telegram: quotes, charts, alerts, your balance and "
        "confirmed trades.",
        state,
        f"Trading: {await _trading_line(rt, user.id, currency)}",
        next_step,
        "",
        *(f"/{name} — {description}" for name, description in COMMANDS),
    ]
    sent = await reply(update, "\n".join(lines), reply_markup=markup)
    if markup is not None and sent is not None:
        card.bind(sent)


@action("connect.start")
async def connect_button(
    update: Update, context: ContextTypes.DEFAULT_TYPE, button: Button, tap: Tap
) -> None:
    from derivkit.bot.handlers.connect import ask_for_token

    await tap.answer()
    await ask_for_token(update, context)


async def whoami_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answered for anyone: the id the operator needs for the allowlist."""
    user = update.effective_user
    if user is None:
        return
    await reply(
        update,
        f"Your Telegram user id is <code>{user.id}</code>.\n"
        f"The bot's owner can allow it with: <code>derivkit bot run --allow {user.id}</code>",
    )


async def _probe(client: DerivClient) -> tuple[str, float | None, int | None]:
    try:
        latency, server = await asyncio.gather(client.ping(), client.server_time())
    except DerivError as error:
        return f"{client.state} ({type(error).__name__})", None, None
    return client.state, latency, server


async def status_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The Deriv connections this user depends on, their latency, and the server's clock."""
    rt = runtime(context)
    user = update.effective_user
    if user is None:
        return
    state, latency, server = await _probe(rt.market.client)
    lines = ["<b>Status</b>"]
    shown = f"{latency * 1000:.0f} ms" if latency is not None else "-"
    lines.append(f"Market data: {state}, latency {shown}")
    session = rt.sessions.peek(user.id)
    if session is not None and session.client is not rt.market.client:
        own_state, own_latency, _ = await _probe(session.client)
        own = f"{own_latency * 1000:.0f} ms" if own_latency is not None else "-"
        lines.append(f"Your account ({session.loginid}): {own_state}, latency {own}")
    elif session is None and rt.settings.multi_user:
        record = await rt.user(user.id)
        lines.append(
            "Your account: " + ("connected, connection idle" if record.has_token else "none")
        )
    if server is not None:
        when = datetime.fromtimestamp(server, UTC).strftime("%Y-%m-%d %H:%M:%S")
        lines.append(f"Server time: {when} UTC")
    with contextlib.suppress(Exception):
        lines.append(f"Live price streams: {len(rt.market.live_symbols())}")
    await reply(update, "\n".join(lines))

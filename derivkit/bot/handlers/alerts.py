"""/alert SYMBOL above|below LEVEL, and /alerts (each with a Delete button)."""

from __future__ import annotations

import contextlib
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from derivkit.bot.alerts import Alert, AlertRefused
from derivkit.bot.runtime import runtime
from derivkit.formatting import price

__all__ = ["DELETE_PREFIX", "alert_command", "alerts_command", "delete_alert"]

DELETE_PREFIX = "alert-del:"
USAGE = "Usage: /alert SYMBOL above|below LEVEL, e.g. <code>/alert R_100 above 1500</code>"


def describe(alert: Alert) -> str:
    side = "above" if alert.above else "below"
    return f"{alert.symbol} {side} {price(alert.level, alert.pip_size)}"


def _listing(alerts: list[Alert]) -> tuple[str, InlineKeyboardMarkup | None]:
    if not alerts:
        return "No price alerts. Set one with /alert SYMBOL above|below LEVEL.", None
    lines = ["Your price alerts (each fires once):"]
    lines += [f"• {escape(describe(alert))}" for alert in alerts]
    buttons = [
        [InlineKeyboardButton(f"Delete {describe(a)}", callback_data=f"{DELETE_PREFIX}{a.id}")]
        for a in alerts
    ]
    return "\n".join(lines), InlineKeyboardMarkup(buttons)


async def alert_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    args = context.args or []
    if len(args) != 3 or args[1].lower() not in ("above", "below"):
        await message.reply_text(USAGE)
        return
    symbol, side, level_text = args[0], args[1].lower(), args[2]
    try:
        level = float(level_text)
    except ValueError:
        await message.reply_text(f"The level must be a number, got {escape(level_text)}.")
        return
    if not level > 0 or level == float("inf"):
        await message.reply_text("The level must be a positive price.")
        return
    try:
        alert, tick = await runtime(context).alerts.add(
            user.id, message.chat_id, symbol, side == "above", level
        )
    except AlertRefused as refusal:
        await message.reply_text(f"Not set: {escape(str(refusal))}.")
        return
    await message.reply_text(
        f"🔔 I will tell you when {escape(describe(alert))} "
        f"(now {price(tick.quote, tick.pip_size)})."
    )


async def alerts_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    text, keyboard = _listing(runtime(context).alerts.of(user.id))
    await message.reply_text(text, reply_markup=keyboard)


async def delete_alert(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    user = update.effective_user
    if query is None or user is None or query.data is None:
        return
    alerts = runtime(context).alerts
    alert_text = query.data.removeprefix(DELETE_PREFIX)
    removed = alerts.remove(int(alert_text), user.id) if alert_text.isdigit() else None
    await query.answer("Deleted." if removed else "That alert is gone already.")
    text, keyboard = _listing(alerts.of(user.id))
    with contextlib.suppress(BadRequest):  # "not modified": the list did not change
        await query.edit_message_text(text, reply_markup=keyboard)

"""/alert, /alerts (each with a Delete button) and /unalert N."""

from __future__ import annotations

import math
from html import escape

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from derivkit.bot.alerts import AlertRefused
from derivkit.bot.buttons import Button, Card
from derivkit.bot.handlers.common import Tap, action, reply
from derivkit.bot.render import alert_text
from derivkit.bot.runtime import BotRuntime, runtime
from derivkit.core import UsageError
from derivkit.formatting import price
from derivkit.settings import parse_seconds
from derivkit.storage import AlertRecord

__all__ = ["alert_command", "alerts_command", "unalert_command"]

USAGE = (
    "Usage: /alert SYMBOL above|below PRICE [once|repeat [COOLDOWN]], or "
    "/alert SYMBOL move PERCENT [once|repeat [COOLDOWN]]\n"
    "e.g. <code>/alert R_100 above 1500</code>, <code>/alert R_100 move 0.5 repeat 10m</code>"
)
DEFAULT_COOLDOWN = 300.0


def _listing(
    rt: BotRuntime, user_id: int, chat_id: int
) -> tuple[str, Card | None, InlineKeyboardMarkup | None]:
    alerts = rt.alerts.of(user_id)
    if not alerts:
        return "No price alerts. Set one with /alert SYMBOL above|below PRICE.", None, None
    lines = ["Your price alerts:"]
    lines += [f"{alert.id}. {escape(alert_text(alert))}" for alert in alerts]
    lines.append("Delete one with its button or /unalert N.")
    card = rt.buttons.card(user_id, chat_id)
    markup = card.markup(
        [[card.button(f"Delete {alert_text(a)}"[:60], "alerts.delete", a.id)] for a in alerts]
    )
    return "\n".join(lines), card, markup


async def alert_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    args = list(context.args or [])
    if len(args) < 3 or args[1].lower() not in ("above", "below", "move"):
        await message.reply_text(USAGE)
        return
    kind, level_text, rest = args[1].lower(), args[2], [a.lower() for a in args[3:]]
    try:
        level = float(level_text)
    except ValueError:
        await message.reply_text(f"The level must be a number, got {escape(level_text)}.")
        return
    if not level > 0 or not math.isfinite(level):
        what = "percentage" if kind == "move" else "price"
        await message.reply_text(f"The level must be a positive {what}.")
        return
    repeat, cooldown = False, 0.0
    if rest:
        if (
            rest[0] not in ("once", "repeat")
            or len(rest) > 2
            or (rest[0] == "once" and len(rest) > 1)
        ):
            await message.reply_text(USAGE)
            return
        repeat = rest[0] == "repeat"
        if repeat:
            try:
                cooldown = (
                    parse_seconds(rest[1], "the cooldown") if len(rest) > 1 else DEFAULT_COOLDOWN
                )
            except UsageError as error:
                await message.reply_text(escape(str(error)))
                return
    symbol = await rt.market.resolve(args[0])
    try:
        alert, tick = await rt.alerts.add(
            user_id=user.id,
            chat_id=message.chat_id,
            symbol=symbol,
            kind=kind,  # type: ignore[arg-type]
            level=level,
            repeat=repeat,
            cooldown=cooldown,
        )
    except AlertRefused as refusal:
        await message.reply_text(f"Not set: {escape(str(refusal))}.")
        return
    await message.reply_text(
        f"🔔 I will tell you when {escape(alert_text(alert))} "
        f"(now {price(tick.quote, tick.pip_size)})."
    )


async def alerts_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    text, card, markup = _listing(rt, user.id, message.chat_id)
    sent = await message.reply_text(text, reply_markup=markup)
    if card is not None:
        card.bind(sent)


@action("alerts.delete")
async def delete_alert(
    update: Update, context: ContextTypes.DEFAULT_TYPE, button: Button, tap: Tap
) -> None:
    rt = runtime(context)
    (alert_id,) = button.args
    card = button.card
    removed = await rt.alerts.remove(alert_id, card.user_id)
    rt.buttons.retire(card)
    await tap.answer("Deleted." if removed else "That alert is gone already.")
    text, new_card, markup = _listing(rt, card.user_id, card.chat_id)
    edited = await rt.delivery.edit(card.chat_id, tap.message.message_id, text, reply_markup=markup)
    if edited and new_card is not None:
        new_card.bind(tap.message.message_id)


async def unalert_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    user = update.effective_user
    if user is None:
        return
    args = context.args or []
    if len(args) != 1 or not args[0].isdigit():
        await reply(update, "Usage: /unalert N (the number /alerts shows)")
        return
    removed: AlertRecord | None = await rt.alerts.remove(int(args[0]), user.id)
    if removed is None:
        await reply(update, f"You have no alert {escape(args[0])}. /alerts lists yours.")
        return
    await reply(update, f"Deleted: {escape(alert_text(removed))}.")

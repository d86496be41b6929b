"""A user's own settings: /limits (within the operator's caps), /stop and /resume (their kill
switch for new trades), /notify (the level of each kind of notification)."""

from __future__ import annotations

from html import escape

from telegram import Update
from telegram.ext import ContextTypes

from derivkit.bot.handlers.common import reply
from derivkit.bot.runtime import runtime
from derivkit.core import UsageError
from derivkit.formatting import money
from derivkit.settings import parse_positive_amount, parse_positive_count
from derivkit.storage import NOTIFICATION_EVENTS, NOTIFICATION_LEVELS

__all__ = ["limits_command", "notify_command", "resume_command", "stop_command"]

LIMITS_USAGE = (
    "Usage: /limits (shows them), or /limits stake|open|loss VALUE|off, "
    "e.g. <code>/limits stake 20</code>"
)
NOTIFY_USAGE = f"Usage: /notify [{'|'.join(NOTIFICATION_EVENTS)} {'|'.join(NOTIFICATION_LEVELS)}]"


async def limits_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    user = update.effective_user
    if user is None:
        return
    args = [arg.lower() for arg in context.args or []]
    caps = rt.settings
    if args:
        if len(args) != 2 or args[0] not in ("stake", "open", "loss"):
            await reply(update, LIMITS_USAGE)
            return
        name, text = args
        value: float | int | None = None
        try:
            if text != "off":
                value = (
                    parse_positive_count(text, "the number")
                    if name == "open"
                    else parse_positive_amount(text, "the amount")
                )
        except UsageError as error:
            await reply(update, escape(str(error)))
            return
        cap = {"stake": caps.max_stake, "open": caps.max_open, "loss": caps.daily_loss}[name]
        if value is not None and cap is not None and value > cap:
            await reply(update, f"Refused: this bot allows at most {cap:g} there.")
            return
        if name == "stake":
            record = await rt.storage.set_limits(user.id, max_stake=value)
        elif name == "open":
            record = await rt.storage.set_limits(
                user.id, max_open=None if value is None else int(value)
            )
        else:
            record = await rt.storage.set_limits(user.id, daily_loss=value)
        rt.remember(record)
    limits = await rt.trading_limits(user.id)
    record = await rt.user(user.id)
    currency = record.account.currency if record.account and record.account.currency else "USD"
    loss = money(limits.daily_loss, currency) if limits.daily_loss is not None else "none"
    caps_loss = money(caps.daily_loss, currency) if caps.daily_loss is not None else "none"
    await reply(
        update,
        "<b>Your limits</b>\n"
        f"Stake per contract: {money(limits.max_stake, currency)} "
        f"(bot's cap {money(caps.max_stake, currency)})\n"
        f"Open at once: {limits.max_open} (cap {caps.max_open})\n"
        f"Daily loss: {loss} (cap {caps_loss})\n"
        f"Trading: {'stopped (/resume)' if record.paused else 'allowed'}\n"
        "Change one: /limits stake|open|loss VALUE|off",
    )


async def stop_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    user = update.effective_user
    if user is None:
        return
    rt.remember(await rt.storage.set_paused(user.id, True))
    cancelled = rt.orders.cancel_user(user.id)
    extra = f" {cancelled} pending confirmation(s) cancelled." if cancelled else ""
    await reply(
        update,
        "🛑 Stopped: no new trades for you until /resume. Open contracts keep running "
        f"(/sellall sells them).{extra}",
    )


async def resume_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    user = update.effective_user
    if user is None:
        return
    rt.remember(await rt.storage.set_paused(user.id, False))
    await reply(update, "▶️ Resumed: trading is allowed again.")


async def notify_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    user = update.effective_user
    if user is None:
        return
    args = [arg.lower() for arg in context.args or []]
    if args:
        if (
            len(args) != 2
            or args[0] not in NOTIFICATION_EVENTS
            or args[1] not in NOTIFICATION_LEVELS
        ):
            await reply(update, NOTIFY_USAGE)
            return
        await rt.storage.set_notification(user.id, args[0], args[1])
        rt.delivery.forget_levels(user.id)
    levels = await rt.storage.notification_levels(user.id)
    lines = ["<b>Notifications</b>"] + [
        f"{event}: {levels[event]}" for event in NOTIFICATION_EVENTS
    ]
    lines.append(NOTIFY_USAGE)
    await reply(update, "\n".join(lines))

"""The one gate every update passes first (handler group -1), and it always answers.

* Flooding (over the per-user limit): the update is dropped; the user is told once per episode
  when to try again, and every tapped button is answered ("Slow down").
* Strangers (not served: personal mode without their id on the allowlist, or multi-user mode
  with an allowlist they are not on) get one short line, at most every ten minutes each and one a
  second in all, so the bot cannot be used to spam; ``/whoami`` always answers.
* In a group, commands that show or touch an account get "in a private chat, please" with a
  link to the private chat; read-only market commands work there.

Users are checked by id, never by username. Attempts are logged by user id and command only.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime, timedelta

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from derivkit.bot.runtime import runtime

__all__ = ["GROUP_COMMANDS", "MAX_COMMAND_AGE", "command_name", "gate", "is_stale"]

logger = logging.getLogger("derivkit.bot.access")

PUBLIC_COMMANDS = frozenset({"whoami"})
GROUP_COMMANDS = frozenset(
    {"whoami", "price", "chart", "contracts", "symbols", "status", "help", "start", "button"}
)
MAX_COMMAND_AGE = timedelta(seconds=60)
EXPIRED = "This button has expired."


def command_name(update: Update) -> str:
    """``"price"`` for ``/price@bot R_100``; ``"button"`` for a tap; ``"text"`` otherwise."""
    if update.callback_query is not None:
        return "button"
    message = update.effective_message
    text = message.text if message is not None else None
    if text and text.startswith("/"):
        return text.split()[0][1:].split("@", 1)[0].lower()
    return "text"


def is_stale(message: Message, now: datetime | None = None) -> bool:
    """Whether a command is older than :data:`MAX_COMMAND_AGE` (sent while the bot was away)."""
    return (now or datetime.now(UTC)) - message.date > MAX_COMMAND_AGE


def private_link(username: str | None) -> str:
    return f"https://t.me/{username}?start=go" if username else "a private chat with me"


async def gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop the update (``ApplicationHandlerStop``) unless its sender may go on; answer why.

    Fails closed: if the gate itself fails (say, Telegram refuses its answer), the update is
    stopped too, never let through to the handlers.
    """
    try:
        await _check(update, context)
    except ApplicationHandlerStop:
        raise
    except Exception as error:
        user = update.effective_user
        logger.warning(
            "gate failed for user %s (%s); update dropped",
            user.id if user else None,
            type(error).__name__,
        )
        raise ApplicationHandlerStop from None


async def _check(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    user = update.effective_user
    chat = update.effective_chat
    query = update.callback_query
    message = update.effective_message
    command = command_name(update)
    if user is None:
        raise ApplicationHandlerStop
    if not rt.limits.allow_update(user.id):
        logger.info("throttled user %s: %s", user.id, command)
        wait = rt.limits.retry_in(user.id)
        if query is not None:
            await query.answer(f"Slow down, please: try again in {wait} s.")
        elif rt.limits.first_refusal(user.id) and message is not None:
            await message.reply_text(
                f"⏳ Slow down, please: try again in {wait} s.", do_quote=False
            )
        raise ApplicationHandlerStop
    rt.delivery.unblock(user.id)
    if command in PUBLIC_COMMANDS:
        return
    if not rt.settings.serves(user.id):
        logger.info("rejected user %s: %s", user.id, command)
        if query is not None:
            await query.answer(EXPIRED)
        elif message is not None and rt.limits.allow_stranger_reply(user.id):
            await message.reply_text(
                f"This bot is private. Your Telegram id is <code>{user.id}</code>; "
                "its operator can add you.",
                do_quote=False,
            )
        raise ApplicationHandlerStop
    private = chat is None or chat.type == ChatType.PRIVATE
    pasted = message is not None and len((message.text or "").split()) > 1
    if not private and command == "connect" and pasted and message is not None:
        deleted = False  # a token pasted where others can read it
        with contextlib.suppress(TelegramError):
            deleted = bool(await message.delete())
        gone = "I deleted it, but " if deleted else "I could not delete it, and "
        await message.reply_text(
            f"⚠️ That looked like a Deriv token in a group: {gone}others may have seen it. "
            "Revoke it in Deriv's API-token page, then /connect in a private chat.",
            do_quote=False,
        )
        raise ApplicationHandlerStop
    if not private and command not in GROUP_COMMANDS:
        logger.info("refused %s from user %s outside a private chat", command, user.id)
        if query is not None:
            await query.answer(EXPIRED)
        elif message is not None and (command != "text"):
            link = private_link(context.bot.username)
            await message.reply_text(f"In a private chat, please: {link}", do_quote=False)
        raise ApplicationHandlerStop

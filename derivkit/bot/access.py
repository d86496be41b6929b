"""The one gate every update passes first (handler group -1).

Deny by default: only allow-listed Telegram user ids (never usernames, which change) get past it,
except for ``/whoami``, which tells a would-be user the id to ask for. Strangers get no reply;
their attempts are logged by id and command only. Allowed users may use read-only commands in
groups; everything else needs the private chat. Each user is also flood-limited.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, ContextTypes

from derivkit.bot.runtime import runtime

__all__ = ["MAX_COMMAND_AGE", "command_name", "gate", "is_stale"]

logger = logging.getLogger("derivkit.bot.access")

PUBLIC_COMMANDS = frozenset({"whoami"})
GROUP_COMMANDS = frozenset({"whoami", "price"})
MAX_COMMAND_AGE = timedelta(seconds=60)


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


async def gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop the update (``ApplicationHandlerStop``) unless its sender may go on."""
    rt = runtime(context)
    user = update.effective_user
    chat = update.effective_chat
    command = command_name(update)
    if user is None:
        raise ApplicationHandlerStop
    if not rt.limits.allow_update(user.id):
        logger.info("throttled user %s: %s", user.id, command)
        if update.callback_query is not None:
            await update.callback_query.answer("Slow down, please.")
        raise ApplicationHandlerStop
    if command in PUBLIC_COMMANDS:
        return
    if user.id not in rt.settings.allowed_users:
        logger.info("rejected user %s: %s", user.id, command)
        raise ApplicationHandlerStop
    if chat is not None and chat.type != ChatType.PRIVATE and command not in GROUP_COMMANDS:
        logger.info("refused %s from user %s outside a private chat", command, user.id)
        raise ApplicationHandlerStop

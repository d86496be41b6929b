"""The last word: every message no other handler took gets an answer.

A private text after ``/connect`` is the token (handed to :mod:`.connect`). Otherwise an unknown
command gets a one-line hint, and so does any other private message; in groups only commands
are answered, so the bot does not talk over people.
"""

from __future__ import annotations

from html import escape

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from derivkit.bot.access import command_name
from derivkit.bot.handlers.common import reply
from derivkit.bot.handlers.connect import token_message
from derivkit.bot.runtime import runtime

__all__ = ["other_message"]


async def other_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime(context)
    user = update.effective_user
    chat = update.effective_chat
    message = update.effective_message
    if user is None or message is None:
        return
    private = chat is None or chat.type == ChatType.PRIVATE
    command = command_name(update)
    if command == "text" and private and message.text and rt.takes_token(user.id):
        await token_message(update, context)
        return
    if command != "text":
        await reply(update, f"I don't know /{escape(command)}. /help lists what I can do.")
    elif private:
        await reply(update, "Send me a command, e.g. /price R_100. /help lists them all.")

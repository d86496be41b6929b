"""What the handlers share: replying, the button actions registry, and who may trade.

Button actions: a module registers ``@action("balance.refresh")`` coroutines taking
``(update, context, button, tap)``; :func:`on_button` finds the tapped button
(:class:`~derivkit.bot.buttons.Buttons`), runs its action, and makes sure the callback query is
answered exactly once: by the action (``await tap.answer(...)``), with the error if the action
failed, or plainly when it returns without answering. A stale, foreign or forged button gets
"This button has expired" and touches nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import CallbackQuery, Message, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from derivkit.bot.access import EXPIRED, is_stale
from derivkit.bot.buttons import Button
from derivkit.bot.errors import error_text
from derivkit.bot.render import account_label
from derivkit.bot.runtime import BotRuntime, runtime
from derivkit.bot.sessions import AccountSession

__all__ = [
    "ACTIONS",
    "NO_TRADE_SCOPE",
    "NO_TRADE_SCOPE_PERSONAL",
    "Tap",
    "action",
    "on_button",
    "plain",
    "reply",
    "trade_refusal",
]

logger = logging.getLogger("derivkit.bot.handlers")

#: A token without the ``trade`` scope, refused before any confirmation card is shown (Deriv
#: would refuse every trade on it with "Permission denied"), in either mode.
NO_TRADE_SCOPE = (
    "Your token lacks the <b>trade</b> scope. Make one with read and trade in Deriv's "
    "API-token page, then /connect it."
)
NO_TRADE_SCOPE_PERSONAL = (
    "This bot's Deriv token lacks the <b>trade</b> scope. The owner can make one with read and "
    "trade in Deriv's API-token page, then set it (<code>derivkit config set-token</code>) and "
    "restart the bot."
)

Action = Callable[[Update, ContextTypes.DEFAULT_TYPE, Button, "Tap"], Awaitable[None]]
ACTIONS: dict[str, Action] = {}
_TAGS = re.compile(r"<[^>]+>")


def action(name: str) -> Callable[[Action], Action]:
    """Register a button action under ``name``."""

    def register(function: Action) -> Action:
        ACTIONS[name] = function
        return function

    return register


def plain(html_text: str, limit: int = 190) -> str:
    """HTML as the plain text a callback answer shows (tags dropped, entities undone)."""
    from html import unescape

    return unescape(_TAGS.sub("", html_text))[:limit]


class Tap:
    """One callback query, answered at most once."""

    def __init__(self, query: CallbackQuery) -> None:
        self.query = query
        self.answered = False

    async def answer(self, text: str | None = None, *, alert: bool = False) -> None:
        """Answer the query (a toast, or an ``alert``). An answer Telegram refuses (the query
        is too old: a tap run again by another instance after its own died) is only logged:
        the action goes on and its card still tells what happened."""
        if self.answered:
            return
        self.answered = True
        try:
            await self.query.answer(text, show_alert=alert)
        except BadRequest as error:
            logger.info("tap answer refused: %s", error.message)

    @property
    def message(self) -> Message:
        message = self.query.message
        assert isinstance(message, Message)
        return message


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every tap: run the button's action, answer the query exactly once."""
    query = update.callback_query
    if query is None:
        return
    tap = Tap(query)
    button = runtime(context).buttons.find(query)
    handler = ACTIONS.get(button.action) if button is not None else None
    if button is None or handler is None or not isinstance(query.message, Message):
        await tap.answer(EXPIRED)
        return
    try:
        await handler(update, context, button, tap)
    except Exception as error:
        user_id = query.from_user.id
        logger.warning("button %s of user %s failed: %s", button.action, user_id, repr(error))
        text = error_text(error)
        if not tap.answered:
            await tap.answer(plain(text), alert=True)
        else:
            await tap.message.reply_text(text)
    finally:
        if not tap.answered:
            await tap.answer()


async def reply(update: Update, text: str, **kwargs: Any) -> Message | None:
    message = update.effective_message
    if message is None:
        return None
    kwargs.setdefault("do_quote", False)  # the message may be gone (a deleted token)
    return await message.reply_text(text, **kwargs)


async def trade_refusal(
    rt: BotRuntime,
    user_id: int,
    session: AccountSession | None,
    message: Message | None,
    *,
    typed: bool = True,
) -> str | None:
    """Why trading is refused for this user now (``typed``: a command, checked for being sent
    while the bot was away; else a button), or None. With the ``session``, the account too
    (the token's trade scope, real money): every confirmation card is offered only after
    this check with the session."""
    settings = rt.settings
    if not settings.trading_on:
        if settings.multi_user:
            return "Trading is off on this bot (its operator started it with --no-trading)."
        return "Trading is off. The bot's owner can turn it on with <code>--trading</code>."
    record = await rt.user(user_id)
    if record.paused:
        return "Trading is stopped for you (/stop). Send /resume to allow it again."
    if typed and message is not None and is_stale(message):
        return (
            "Ignored: that command was sent while I was away. Send it again if you still want it."
        )
    if session is None:
        return None
    account = session.account
    if account is not None and "trade" not in account.scopes:
        return NO_TRADE_SCOPE if settings.multi_user else NO_TRADE_SCOPE_PERSONAL
    if session.real_money and not settings.may_trade_real_money(user_id):
        if settings.multi_user:
            return (
                f"{account_label(account)} is a real-money account; this bot's operator has not "
                "allowed you to trade real money."
            )
        return (
            f"{account_label(account)} is a real-money account; the owner must start "
            "the bot with <code>--real-money</code> to trade on it."
        )
    return None
